"""A year of 15-minute runs against one store: does a commit's cost stay flat as the history grows?

Simulates `--commits` scheduled sensor ingests (35,000: a year of runs every
15 minutes) on the fast path: each commit is what a 15-minute run of the
flow commits, through the same store functions (`store.CleanedBlock`,
`store.commit_sensors` with the run's ledger entries, message and metadata
as `ingest.commit` makes them): the current time window of `--sensors`
sensors and two metrics, re-cleaned with the newest 15 minutes, and
`--files` new files in the ledger. Every `--gc-every` commits (96: daily) the
store's retention runs as the daily `store-gc` deployment runs it
(`store.collect`, keeping `--keep-days` of history, the deployment's
default), on a clock where commit i happened i x 15 minutes into the year.
Full flow runs (`lepton-flow run sensor-ingest`) go at the start and at the
end.

Reports, at 100 commits and at the end (medians over `--sample` commits):
commit time, metadata bytes a commit writes (snapshot, manifests,
transaction log, the repository-info object Icechunk rewrites and the copy
of the old one it keeps), `lepton-flow status` time, and the store's size.
At the end the first 100 commits are made again on a fresh store, so the
start is also measured under the end's machine load (this machine is
shared). Then `lepton-flow gc --keep-days 0` and what it freed. Ratios
end / 100 are what count (the target: within 1.2x).

Each sample point is printed as soon as it is measured; `--keep DIR` keeps
the store, and run again on it carries on from its last commit.

    python benchmarks/soak.py                 # 35,000 commits, about 80 minutes on 2 cores
    python benchmarks/soak.py --commits 2000  # a quick look
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GRID = 30
CHUNK = 4096
STEP_ROWS = 15 * 60 // GRID  # rows a 15-minute run adds
METADATA_DIRS = ("snapshots", "manifests", "transactions", "overwritten")
REPO_INFO = "repo"  # rewritten whole by every commit


def _files(store_dir: Path) -> dict[str, int]:
    out = {}
    for d in METADATA_DIRS:
        base = store_dir / d
        if base.exists():
            with os.scandir(base) as it:
                out.update({f"{d}/{e.name}": e.stat().st_size for e in it})
    return out


def _written(before: dict[str, int], store_dir: Path) -> int:
    """Metadata bytes the last commit wrote: its new files, and the repository-info object it rewrote."""
    after = _files(store_dir)
    return sum(size for name, size in after.items() if name not in before) + (store_dir / REPO_INFO).stat().st_size


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _status(env: dict) -> float:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "status"], env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - t
    if out.returncode:
        raise SystemExit(out.stderr)
    return elapsed


def _flow_run(env: dict, source: Path, start_bin: int, sensors: int) -> str:
    """One real sensor_ingest run over a small new file from `start_bin` on: its time, or why it failed."""
    import pandas as pd

    times = pd.date_range(pd.Timestamp(start_bin * GRID, unit="s", tz="UTC"), periods=STEP_ROWS, freq=f"{GRID}s")
    frame = pd.DataFrame({"timestamp": np.repeat(times, sensors), "sensor_id": np.tile([f"s{i:02d}" for i in range(sensors)], len(times)), "metric": "temperature", "value": 20.0})
    path = source / f"run-{start_bin}.csv"
    frame.to_csv(path, index=False)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", str(path)], env=env, capture_output=True, text=True, timeout=900)
    if out.returncode:
        return "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1][:300]
    return f"{time.perf_counter() - t:.1f} s"


def _point(name: str, sample: dict) -> None:
    print(
        f"{name}: commit {statistics.median(sample['time']):.3f} s (median of {len(sample['time'])}), "
        f"metadata {statistics.median(sample['bytes']):,.0f} bytes/commit, status {sample['status']:.2f} s, store {sample['size']:,} bytes",
        flush=True,
    )


class Schedule:
    """One store taking the flow's 15-minute commits on the fast path, with the daily retention the deployment runs."""

    def __init__(self, root: Path, sensors: int, files: int, keep_days: float, gc_every: int):
        from lepton_flow import store

        self.store, self.root, self.url = store, root, str(root / "store")
        self.sensors = [f"s{i:02d}" for i in range(sensors)]
        self.metrics = ["temperature", "humidity"]
        self.files, self.gc_every = files, gc_every
        self.keep_commits = int(keep_days * 86400 // (STEP_ROWS * GRID))
        self.rng = np.random.default_rng(0)
        current = store.state(self.url)
        self.done = store.ledger.count(self.url) // files if current.exists else 0
        self.cursor = current.end_bin + 1 if current.exists else None
        self.snap = current.snapshot_id
        self.gc_seconds: list[float] = []

    def commit(self, i: int) -> float:
        """Commit run i (the current window re-cleaned with 15 more minutes, `files` new ledger entries); its seconds."""
        store = self.store
        end = self.cursor + STEP_ROWS - 1
        w0 = self.cursor // CHUNK * CHUNK
        n = end - w0 + 1  # the flow re-cleans the whole current window
        block = store.CleanedBlock.create(
            str(self.root / "block.zarr"), grid_seconds=GRID, chunk_len=CHUNK, start_bin=w0, end_bin=end, windows=[w0 // CHUNK],
            sensors=self.sensors, metrics=self.metrics, units={m: "C" for m in self.metrics},
        )
        for m in self.metrics:
            block.write(m, 0, self.rng.normal(20, 1, (n, len(self.sensors))), np.ones((n, len(self.sensors)), np.uint8))
        self.cursor = end + 1
        ledger = {f"{i:08d}{k}{'0' * 55}:s{k}": {"file": f"/drop/{i}-{k}.csv", "run": f"run-{i}", "at": "2026"} for k in range(self.files)}
        # What the flow's commit records (ingest.commit): counts in the commit, the files in the ledger.
        message = store.bounded_message(f"sensor_ingest run run-{i}: {len(ledger)} file(s)", [r["file"].rsplit("/", 1)[-1] for r in ledger.values()])
        t = time.perf_counter()
        self.snap = store.commit_sensors(self.url, str(self.root / "block.zarr"), self.snap, message, {"flow_run_id": f"run-{i}", "files": len(ledger)}, ledger)
        elapsed = time.perf_counter() - t
        if self.gc_every and (i + 1) % self.gc_every == 0:
            self.daily_gc()
        return elapsed

    def daily_gc(self) -> None:
        """The daily store-gc run at simulated time: snapshots more than `keep_commits` commits old expire."""
        history = self.store.history(self.url, limit=self.keep_commits + 1)
        if len(history) <= self.keep_commits:
            return
        t = time.perf_counter()
        self.store.collect(self.url, {}, 0, now=history[-1]["written_at"], grace_hours=0)
        self.gc_seconds.append(time.perf_counter() - t)


def _fresh_start(args, keep_days: float) -> dict:
    """The first 100 commits again, on a new store: the start measured under the end's load."""
    root = Path(tempfile.mkdtemp(prefix="lepton-soak-start-"))
    try:
        sched = Schedule(root, args.sensors, args.files, keep_days, args.gc_every)
        sched.cursor = int(time.time()) // GRID // CHUNK * CHUNK - 200 * CHUNK
        sample = {"time": [], "bytes": []}
        for i in range(100):
            before = _files(Path(sched.url)) if i >= 100 - args.sample else None
            elapsed = sched.commit(i)
            if before is not None:
                sample["time"].append(elapsed)
                sample["bytes"].append(_written(before, Path(sched.url)))
        return sample
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    from lepton_flow.retention import GcParams

    deployed_keep_days = GcParams().keep_days
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--commits", type=int, default=35_000, help="commits in all (with --keep on a store made before: up to this many)")
    ap.add_argument("--sensors", type=int, default=4)
    ap.add_argument("--files", type=int, default=3, help="ledger entries per commit")
    ap.add_argument("--sample", type=int, default=50, help="commits measured at each sample point")
    ap.add_argument("--flow-runs", type=int, default=2, help="full flow runs at the start and at the end")
    ap.add_argument("--keep", help="keep the store in this directory (one made before is carried on from its last commit)")
    ap.add_argument("--keep-days", type=float, default=deployed_keep_days, help=f"history the daily gc keeps (default: the deployment's, {deployed_keep_days:g})")
    ap.add_argument("--gc-every", type=int, default=96, help="commits between gc runs (96: daily; 0: never, as before the store-gc deployment)")
    ap.add_argument("--no-gc", action="store_true", help="skip the final gc --keep-days 0")
    args = ap.parse_args()

    from lepton_flow import store

    root = Path(args.keep or tempfile.mkdtemp(prefix="lepton-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LEPTON_DATA_ROOT": str(root), "DASK_LOGGING__DISTRIBUTED": "error"}
    os.environ["LEPTON_DATA_ROOT"] = str(root)
    store_dir = root / "store"
    source = root / "source"
    source.mkdir(exist_ok=True)
    sched = Schedule(root, args.sensors, args.files, args.keep_days, args.gc_every)
    url, done = sched.url, sched.done
    print(f"gc every {args.gc_every} commits keeping {args.keep_days:g} days ({sched.keep_commits:,} commits)" if args.gc_every else "no gc during the year", flush=True)
    # A year of 15-minute commits ends about now: the full runs at the end stay out of the future (validation refuses it).
    year_ago = int(time.time()) // GRID - (args.commits * STEP_ROWS) - 2 * 86400 // GRID
    if done:
        flow_start = []
        print(f"carrying on {url}: {done:,} commits made before", flush=True)
    else:
        begin = year_ago // CHUNK * CHUNK
        flow_start = [_flow_run(env, source, begin + d * 2880, args.sensors) for d in range(args.flow_runs)]
        print(f"full flow runs at the start: {', '.join(flow_start) or '-'}", flush=True)
        sched.cursor = begin + (args.flow_runs + 1) * 2880
        sched.snap = store.state(url).snapshot_id
    samples: dict[int, dict] = {}
    sample_points = sorted({p for p in (100, args.commits) if p > done})
    t0 = time.perf_counter()
    for i in range(done, args.commits):
        point = next((p for p in sample_points if p - args.sample < i + 1 <= p), None)
        before = _files(store_dir) if point else None
        elapsed = sched.commit(i)
        if point:
            sample = samples.setdefault(point, {"time": [], "bytes": []})
            sample["time"].append(elapsed)
            sample["bytes"].append(_written(before, store_dir))
            if i + 1 == point:
                sample["status"], sample["size"] = _status(env), _size(store_dir)
                sample["snapshots"] = len(store.history(url, limit=10**9))
                _point(f"at {point:,} commits ({sample['snapshots']:,} snapshots)", sample)
        if (i + 1) % 1000 == 0:
            gc = f", daily gc median {statistics.median(sched.gc_seconds):.1f} s" if sched.gc_seconds else ""
            print(f"  {i + 1:,} commits, {time.perf_counter() - t0:.0f} s, last commit {elapsed * 1000:.0f} ms{gc}", flush=True)
    flow_end = [_flow_run(env, source, sched.cursor + 120 * (d + 1), args.sensors) for d in range(args.flow_runs)]
    print(f"full flow runs: at the start {', '.join(flow_start) or '-'}; at the end {', '.join(flow_end) or '-'}", flush=True)
    if args.commits in samples:
        fresh = _fresh_start(args, args.keep_days)
        b = samples[args.commits]
        cols = ([("at 100 commits", samples[100])] if 100 in samples else []) + [("100 on a fresh store, now", fresh)]
        print(f"\n| | {' | '.join(c for c, _ in cols)} | at {args.commits:,} | {' | '.join(f'end / {c.split(',')[0]}' for c, _ in cols)} |")
        print("|---" * (2 * len(cols) + 2) + "|")
        for name, key, fmt in (("commit time (median, s)", "time", "{:.3f}"), ("metadata written per commit (median, bytes)", "bytes", "{:,.0f}"), ("`lepton-flow status` (s)", "status", "{:.2f}"), ("store size (bytes)", "size", "{:,.0f}")):
            def value(sample):
                v = sample.get(key)
                return statistics.median(v) if isinstance(v, list) else v
            y = value(b)
            xs = [value(c) for _, c in cols]
            print(f"| {name} | {' | '.join('-' if x is None else fmt.format(x) for x in xs)} | {fmt.format(y)} | {' | '.join('-' if not x else f'{y / x:.2f}' for x in xs)} |")
        if sched.gc_seconds:
            print(f"daily gc: {len(sched.gc_seconds)} runs, median {statistics.median(sched.gc_seconds):.1f} s, longest {max(sched.gc_seconds):.1f} s")
    if args.no_gc:
        return
    t = time.perf_counter()
    gc = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "gc", "--keep-days", "0", "--grace-hours", "0"], env=env, capture_output=True, text=True, timeout=3600)
    print(f"\ngc ({time.perf_counter() - t:.1f} s, exit {gc.returncode}): store {_size(store_dir):,} bytes after, status {_status(env):.2f} s after")
    print("\n".join("  " + line for line in (gc.stdout or gc.stderr).splitlines() if not line.startswith("  ") or "latest" in line))
    print(f"store kept at {root}" if args.keep else "")


if __name__ == "__main__":
    main()
