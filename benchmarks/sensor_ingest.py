"""Throughput and peak memory of `sensor_ingest` against two baselines, in one run.

    python benchmarks/sensor_ingest.py [--sizes 10 40] [--out bench-out]

For each size (millions of readings) it writes long-format CSV files of one
million readings each, then times three things on the same files, each in
its own process with the memory of its whole process tree sampled:

- floor: parse every file with pyarrow and nothing else;
- plain: the script a user would write instead: pandas read, drop bad rows,
  pivot, resample, `to_zarr`;
- lepton: `lepton-flow run sensor-ingest` on the embedded default (Prefect's
  local API, a local store; the tasks in threads of the command where the
  local cluster would have at most 2 workers, else a local Dask cluster; set
  LEPTON_LOCAL_CLUSTER_ABOVE_MB=0 to time the cluster), start-up included.

It prints readings per second, peak memory and the ratios the foundation
issue sets targets for: lepton/floor >= 0.25, lepton/plain >= 0.8, and
peak memory at the largest size <= 1.25 x the smallest. Run it by hand; it
asserts nothing (these machines are shared and timings are noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv

ROWS_PER_FILE = 1_000_000
SENSORS = 100
METRICS = ("temperature", "humidity")
UNITS = {"temperature": "C", "humidity": "%"}
GRID_SECONDS = 10


def write_files(out: Path, millions: int, seed: int = 3) -> int:
    """`millions` CSV files of one million readings: consecutive time slices of 100 sensors x 2 metrics."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    per_file = ROWS_PER_FILE // (SENSORS * len(METRICS))
    start = np.datetime64("2026-01-01T00:00:00", "ns")
    sensors = np.array([f"s{i:03d}" for i in range(SENSORS)])
    total = 0
    for k in range(millions):
        t_idx = np.arange(k * per_file, (k + 1) * per_file)
        ts = start + (t_idx * GRID_SECONDS).astype("timedelta64[s]") + rng.integers(-2000, 2000, len(t_idx)).astype("timedelta64[ms]")
        grid_ts = np.repeat(ts, SENSORS * len(METRICS))
        sensor = np.tile(np.repeat(sensors, len(METRICS)), per_file)
        metric = np.tile(np.array(METRICS), per_file * SENSORS)
        phase = np.tile(np.repeat(np.arange(SENSORS) / 7.0, len(METRICS)), per_file)
        hours = np.repeat(t_idx * GRID_SECONDS / 3600.0, SENSORS * len(METRICS))
        base = np.where(metric == "temperature", 20 + 4 * np.sin(hours / 3.8 + phase), 55 + 10 * np.sin(hours / 3.8 + phase))
        value = np.round(base + rng.normal(0, 0.1, len(base)), 3)
        table = pa.table(
            {
                "timestamp": pa.array(grid_ts.astype("datetime64[ms]")).cast(pa.timestamp("ms", tz="UTC")),
                "sensor_id": sensor,
                "metric": metric,
                "value": value,
                "unit": np.where(metric == "temperature", "C", "%"),
            }
        )
        pv.write_csv(table, out / f"part-{k:04d}.csv")
        total += table.num_rows
    return total


FLOOR = """
import sys, glob, pyarrow.csv as pv
n = 0
for f in sorted(glob.glob(sys.argv[1] + "/*.csv")):
    n += pv.read_csv(f).num_rows
print(n)
"""

PLAIN = """
import sys, glob, pandas as pd, numpy as np, xarray as xr
frames = []
for f in sorted(glob.glob(sys.argv[1] + "/*.csv")):
    df = pd.read_csv(f)
    df = df.dropna(subset=["timestamp", "sensor_id", "metric", "value"])
    df = df[np.isfinite(df["value"])]
    frames.append(df)
df = pd.concat(frames, ignore_index=True)
df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601")
wide = df.pivot_table(index="timestamp", columns=["sensor_id", "metric"], values="value", aggfunc="mean")
wide = wide.resample("%ds").mean()
ds = xr.Dataset({m: (("time", "sensor"), wide.xs(m, axis=1, level="metric").to_numpy("float32")) for m in ("temperature", "humidity")},
                coords={"time": wide.index.tz_localize(None).values, "sensor": wide.xs("temperature", axis=1, level="metric").columns.values})
ds.to_zarr(sys.argv[2], mode="w", consolidated=False)
print(len(df))
""" % GRID_SECONDS


def measure(cmd: list[str], env: dict | None = None, cwd: str | None = None, check: bool = True) -> dict:
    """Wall time and peak resident memory of a command's whole process tree (`check`: a non-zero exit raises)."""
    import psutil

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    root = psutil.Process(proc.pid)
    peak = 0
    output: list[str] = []
    import threading

    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
    reader.start()
    while proc.poll() is None:
        total = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
        except psutil.NoSuchProcess:
            pass
        peak = max(peak, total)
        time.sleep(0.1)
    reader.join(timeout=5)
    wall = time.perf_counter() - start
    if check and proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed:\n{''.join(output)[-4000:]}")
    return {"seconds": wall, "peak_mb": peak / 2**20, "tail": "".join(output)[-2000:], "rc": proc.returncode}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 40], help="millions of readings")
    parser.add_argument("--out", default="bench-out", help="where results.json goes")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lepton-bench-"))
    results = []
    try:
        for size in args.sizes:
            src = work / f"src-{size}"
            t = time.perf_counter()
            readings = write_files(src, size)
            print(f"[{size}M] wrote {readings:,} readings in {time.perf_counter() - t:.0f} s", flush=True)
            floor = measure([sys.executable, "-c", FLOOR, str(src)])
            print(f"[{size}M] floor  {floor['seconds']:.1f} s  {floor['peak_mb']:.0f} MB", flush=True)
            plain = measure([sys.executable, "-c", PLAIN, str(src), str(work / f"plain-{size}.zarr")])
            print(f"[{size}M] plain  {plain['seconds']:.1f} s  {plain['peak_mb']:.0f} MB", flush=True)
            root = work / f"lepton-{size}"
            root.mkdir()
            env = dict(os.environ, LEPTON_DATA_ROOT=str(root), PREFECT_HOME=str(root / "prefect-home"), DO_NOT_TRACK="1")
            env.pop("PREFECT_API_URL", None)
            # A user's first run migrates Prefect's new database (about 25 s);
            # time the runs after it, as every later run behaves.
            empty = root / "empty"
            empty.mkdir()
            warm = measure([sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", str(empty)], env=env)
            print(f"[{size}M] first start of Prefect's local API (not counted): {warm['seconds']:.0f} s", flush=True)
            cli = [sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", str(src), "--grid-seconds", str(GRID_SECONDS)]
            lepton = measure(cli, env=env, cwd=str(Path(__file__).resolve().parents[1]))
            print(f"[{size}M] lepton {lepton['seconds']:.1f} s  {lepton['peak_mb']:.0f} MB", flush=True)
            row = {
                "millions": size,
                "readings": readings,
                "floor_rps": readings / floor["seconds"],
                "plain_rps": readings / plain["seconds"],
                "lepton_rps": readings / lepton["seconds"],
                "floor_peak_mb": floor["peak_mb"],
                "plain_peak_mb": plain["peak_mb"],
                "lepton_peak_mb": lepton["peak_mb"],
            }
            row["lepton_vs_floor"] = row["lepton_rps"] / row["floor_rps"]
            row["lepton_vs_plain"] = row["lepton_rps"] / row["plain_rps"]
            results.append(row)
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(work / f"plain-{size}.zarr", ignore_errors=True)
            if not args.keep:
                shutil.rmtree(src, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"{'size':>6} {'floor r/s':>12} {'plain r/s':>12} {'lepton r/s':>12} {'vs floor':>9} {'vs plain':>9} {'peak MB':>9}")
    for r in results:
        print(
            f"{r['millions']:>5}M {r['floor_rps']:>12,.0f} {r['plain_rps']:>12,.0f} {r['lepton_rps']:>12,.0f} "
            f"{r['lepton_vs_floor']:>9.2f} {r['lepton_vs_plain']:>9.2f} {r['lepton_peak_mb']:>9.0f}"
        )
    if len(results) > 1:
        ratio = results[-1]["lepton_peak_mb"] / results[0]["lepton_peak_mb"]
        print(f"peak memory {results[-1]['millions']}M / {results[0]['millions']}M: {ratio:.2f} (plain: {results[-1]['plain_peak_mb'] / results[0]['plain_peak_mb']:.2f})")
    os.makedirs(args.out, exist_ok=True)
    Path(args.out, "sensor_ingest.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
