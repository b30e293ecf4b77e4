"""A year of 15-minute runs against one store: does a commit's cost stay flat as the history grows?

Simulates `--commits` scheduled sensor ingests (35,000: a year of runs every
15 minutes) on the fast path: each commit is what a 15-minute run of the
flow commits, through the same store functions (`store.CleanedBlock`,
`store.commit_sensors` with the run's ledger entries): the current time
window of `--sensors` sensors and two metrics, re-cleaned with the newest 15
minutes, and `--files` new files in the ledger. Full flow runs
(`lepton-flow run sensor-ingest`) go at the start and at the end.

Reports, at 100 commits and at the end (medians over `--sample` commits):
commit time, metadata bytes a commit writes (snapshot, manifests,
transaction log), `lepton-flow status` time, and the store's size; then
runs `lepton-flow gc` and reports size and status time after it. Ratios
end / 100 are what count (the target: within 1.2x).

Each sample point is printed as soon as it is measured; `--keep DIR` keeps
the store, and run again on it carries on from its last commit (the second
run measures its own end: compare with a fresh run's 100 under the same load).

    python benchmarks/soak.py                 # 35,000 commits, about an hour on 2 cores
    python benchmarks/soak.py --commits 2000  # a quick look
"""

from __future__ import annotations

import argparse
import os
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
METADATA_DIRS = ("snapshots", "manifests", "transactions")


def _files(store_dir: Path) -> dict[str, int]:
    out = {}
    for d in METADATA_DIRS:
        base = store_dir / d
        if base.exists():
            with os.scandir(base) as it:
                out.update({f"{d}/{e.name}": e.stat().st_size for e in it})
    return out


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--commits", type=int, default=35_000, help="commits in all (with --keep on a store made before: up to this many)")
    ap.add_argument("--sensors", type=int, default=4)
    ap.add_argument("--files", type=int, default=3, help="ledger entries per commit")
    ap.add_argument("--sample", type=int, default=50, help="commits measured at each sample point")
    ap.add_argument("--flow-runs", type=int, default=2, help="full flow runs at the start and at the end")
    ap.add_argument("--keep", help="keep the store in this directory (one made before is carried on from its last commit)")
    ap.add_argument("--no-gc", action="store_true", help="skip gc at the end")
    args = ap.parse_args()

    from lepton_flow import store

    root = Path(args.keep or tempfile.mkdtemp(prefix="lepton-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LEPTON_DATA_ROOT": str(root), "DASK_LOGGING__DISTRIBUTED": "error"}
    os.environ["LEPTON_DATA_ROOT"] = str(root)
    url = str(root / "store")
    store_dir = Path(url)
    source = root / "source"
    source.mkdir(exist_ok=True)
    sensors = [f"s{i:02d}" for i in range(args.sensors)]
    metrics = ["temperature", "humidity"]
    rng = np.random.default_rng(0)
    # A year of 15-minute commits ends about now: the full runs at the end stay out of the future (validation refuses it).
    year_ago = int(time.time()) // GRID - (args.commits * STEP_ROWS) - 2 * 86400 // GRID
    current = store.state(url)
    done = store.ledger.count(url) // args.files if current.exists else 0
    if current.exists:
        cursor, flow_start = current.end_bin + 1, []
        print(f"carrying on {url}: {done:,} commits made before", flush=True)
    else:
        begin = year_ago // CHUNK * CHUNK
        flow_start = [_flow_run(env, source, begin + d * 2880, args.sensors) for d in range(args.flow_runs)]
        cursor = begin + (args.flow_runs + 1) * 2880
    snap = store.state(url).snapshot_id
    samples: dict[int, dict] = {}
    sample_points = sorted({p for p in (100, args.commits) if p > done})
    t0 = time.perf_counter()
    for i in range(done, args.commits):
        end = cursor + STEP_ROWS - 1
        w0 = cursor // CHUNK * CHUNK
        n = end - w0 + 1  # the flow re-cleans the whole current window
        block = store.CleanedBlock.create(
            str(root / "block.zarr"), grid_seconds=GRID, chunk_len=CHUNK, start_bin=w0, end_bin=end, windows=[w0 // CHUNK],
            sensors=sensors, metrics=metrics, units={m: "C" for m in metrics},
        )
        for m in metrics:
            block.write(m, 0, rng.normal(20, 1, (n, len(sensors))), np.ones((n, len(sensors)), np.uint8))
        cursor = end + 1
        ledger = {f"{i:08d}{k}{'0' * 55}:s{k}": {"file": f"/drop/{i}-{k}.csv", "run": f"run-{i}", "at": "2026"} for k in range(args.files)}
        point = next((p for p in sample_points if p - args.sample < i + 1 <= p), None)
        before = _files(store_dir) if point else None
        t = time.perf_counter()
        snap = store.commit_sensors(url, str(root / "block.zarr"), snap, f"soak {i}", {"files": list(ledger)}, ledger)
        elapsed = time.perf_counter() - t
        if point:
            after = _files(store_dir)
            sample = samples.setdefault(point, {"time": [], "bytes": []})
            sample["time"].append(elapsed)
            sample["bytes"].append(sum(size for name, size in after.items() if name not in before))
            if i + 1 == point:
                sample["status"], sample["size"] = _status(env), _size(store_dir)
                _point(f"at {point:,} commits", sample)
        if (i + 1) % 1000 == 0:
            print(f"  {i + 1:,} commits, {time.perf_counter() - t0:.0f} s, last commit {elapsed * 1000:.0f} ms", flush=True)
    flow_end = [_flow_run(env, source, cursor + 120 * (d + 1), args.sensors) for d in range(args.flow_runs)]
    print(f"full flow runs: at the start {', '.join(flow_start) or '-'}; at the end {', '.join(flow_end) or '-'}", flush=True)
    if 100 in samples and args.commits in samples:
        a, b = samples[100], samples[args.commits]
        print(f"\n| | at 100 commits | at {args.commits:,} | end / 100 |\n|---|---|---|---|")
        for name, key, fmt in (("commit time (median, s)", "time", "{:.3f}"), ("metadata written per commit (median, bytes)", "bytes", "{:,.0f}"), ("`lepton-flow status` (s)", "status", "{:.2f}"), ("store size (bytes)", "size", "{:,.0f}")):
            x = statistics.median(a[key]) if isinstance(a[key], list) else a[key]
            y = statistics.median(b[key]) if isinstance(b[key], list) else b[key]
            print(f"| {name} | {fmt.format(x)} | {fmt.format(y)} | {y / x:.2f} |")
    if args.no_gc:
        return
    t = time.perf_counter()
    gc = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "gc", "--keep-days", "0", "--grace-hours", "0"], env=env, capture_output=True, text=True, timeout=3600)
    print(f"\ngc ({time.perf_counter() - t:.1f} s, exit {gc.returncode}): store {_size(store_dir):,} bytes after, status {_status(env):.2f} s after")
    print("\n".join("  " + line for line in (gc.stdout or gc.stderr).splitlines() if not line.startswith("  ") or "latest" in line))
    print(f"store kept at {root}" if args.keep else "")


if __name__ == "__main__":
    main()
