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

    python benchmarks/soak.py                 # 35,000 commits, about an hour
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


def _flow_run(env: dict, source: Path, day: int, sensors: int) -> float:
    """One real sensor_ingest run over a small new file, timed end to end."""
    import pandas as pd

    times = pd.date_range("2026-01-01", periods=STEP_ROWS, freq=f"{GRID}s", tz="UTC") + pd.Timedelta(days=day)
    frame = pd.DataFrame({"timestamp": np.repeat(times, sensors), "sensor_id": np.tile([f"s{i:02d}" for i in range(sensors)], len(times)), "metric": "temperature", "value": 20.0})
    path = source / f"run-{day}.csv"
    frame.to_csv(path, index=False)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", str(path)], env=env, capture_output=True, text=True, timeout=900)
    if out.returncode:
        raise SystemExit(out.stdout[-3000:] + out.stderr[-3000:])
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--commits", type=int, default=35_000)
    ap.add_argument("--sensors", type=int, default=4)
    ap.add_argument("--files", type=int, default=3, help="ledger entries per commit")
    ap.add_argument("--sample", type=int, default=50, help="commits measured at each sample point")
    ap.add_argument("--flow-runs", type=int, default=2, help="full flow runs at the start and at the end")
    ap.add_argument("--keep", help="keep the store in this directory instead of a temporary one")
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
    start = (1_767_225_600 // GRID) // CHUNK * CHUNK  # 2026-01-01, on a chunk boundary

    flow_start = [_flow_run(env, source, d, args.sensors) for d in range(args.flow_runs)]
    snap = store.state(url).snapshot_id
    first = start + (args.flow_runs + 1) * 86400 // GRID  # after the flow runs' days
    samples: dict[int, dict] = {}
    sample_points = {100, args.commits}
    t0 = time.perf_counter()
    for i in range(args.commits):
        end = first + (i + 1) * STEP_ROWS - 1
        w0 = (first + i * STEP_ROWS) // CHUNK * CHUNK
        lo = max(w0, first)
        n = end - lo + 1
        block = store.CleanedBlock.create(
            str(root / "block.zarr"), grid_seconds=GRID, chunk_len=CHUNK, start_bin=lo, end_bin=end, windows=[w0 // CHUNK],
            sensors=sensors, metrics=metrics, units={m: "C" for m in metrics},
        )
        for m in metrics:
            block.write(m, 0, rng.normal(20, 1, (n, len(sensors))), np.ones((n, len(sensors)), np.uint8))
        ledger = {f"{i:08d}{k}{'0' * 55}:s{k}": {"file": f"/drop/{i}-{k}.csv", "run": f"run-{i}", "at": "2026"} for k in range(args.files)}
        measure = any(p - args.sample < i + 1 <= p for p in sample_points)
        before = _files(store_dir) if measure else None
        t = time.perf_counter()
        snap = store.commit_sensors(url, str(root / "block.zarr"), snap, f"soak {i}", {"files": list(ledger)}, ledger)
        elapsed = time.perf_counter() - t
        if measure:
            after = _files(store_dir)
            point = min(p for p in sample_points if i + 1 <= p)
            s = samples.setdefault(point, {"time": [], "bytes": []})
            s["time"].append(elapsed)
            s["bytes"].append(sum(size for name, size in after.items() if name not in before))
        if i + 1 == 100:
            samples[100]["status"] = _status(env)
            samples[100]["size"] = _size(store_dir)
        if (i + 1) % 1000 == 0:
            print(f"  {i + 1:,} commits, {time.perf_counter() - t0:.0f} s, last commit {elapsed * 1000:.0f} ms", flush=True)
    end_point = samples[args.commits]
    end_point["status"] = _status(env)
    end_point["size"] = _size(store_dir)
    flow_end = [_flow_run(env, source, 400 + d, args.flow_runs and args.sensors) for d in range(args.flow_runs)]

    t = time.perf_counter()
    gc = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "gc", "--keep-days", "0", "--grace-hours", "0"], env=env, capture_output=True, text=True, timeout=3600)
    gc_time = time.perf_counter() - t
    if gc.returncode:
        raise SystemExit(gc.stderr)
    after_gc = {"status": _status(env), "size": _size(store_dir)}

    def row(name: str, key: str, fmt: str) -> str:
        a, b = statistics.median(samples[100][key]) if isinstance(samples[100][key], list) else samples[100][key], (
            statistics.median(end_point[key]) if isinstance(end_point[key], list) else end_point[key]
        )
        return f"| {name} | {fmt.format(a)} | {fmt.format(b)} | {b / a:.2f} |"

    print(f"\n{args.commits:,} commits of {args.sensors} sensors x {len(metrics)} metrics, {args.files} files each; {time.perf_counter() - t0:.0f} s in all\n")
    print(f"| | at 100 commits | at {args.commits:,} | end / 100 |")
    print("|---|---|---|---|")
    print(row("commit time (median, s)", "time", "{:.3f}"))
    print(row("metadata written per commit (median, bytes)", "bytes", "{:,.0f}"))
    print(row("`lepton-flow status` (s)", "status", "{:.2f}"))
    print(row("store size (bytes)", "size", "{:,.0f}"))
    print(f"\nafter gc ({gc_time:.1f} s): store {after_gc['size']:,} bytes, status {after_gc['status']:.2f} s")
    print("gc said:\n" + "\n".join("  " + line for line in gc.stdout.splitlines() if not line.startswith("  ") or "latest" in line))
    print(f"full flow runs: start {', '.join(f'{x:.1f}' for x in flow_start)} s; end {', '.join(f'{x:.1f}' for x in flow_end)} s")
    print(f"store kept at {root}" if args.keep else "")


if __name__ == "__main__":
    main()
