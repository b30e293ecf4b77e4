"""Peak memory of `sensor_ingest` on one large file against one file a tenth its size, in one run.

    python benchmarks/big_file.py [--small-mb 200] [--big-mb 2000] [--wide-metrics 256 5000]

Writes one long-format CSV of about `--small-mb` and one of about
`--big-mb` (the readings of `sensor_ingest.write_files`, one file each),
then runs `lepton-flow run sensor-ingest` on each in its own process and
data root, sampling the memory of the whole process tree (CLI, local API,
Dask workers). A file is read a bounded piece at a time, so the big file's
peak should stay within 2x of the small one's. Then the wide layout: one
CSV with a column per metric (`--wide-metrics`, each a run of its own):
time and peak memory, and whether it was stored or refused (past
`sources.MAX_METRICS`). Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sensor_ingest import GRID_SECONDS, ROWS_PER_FILE, measure, write_files  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def one_file(parts: Path, out: Path, megabytes: int) -> int:
    """The part files of `parts` concatenated under one header until `out` holds `megabytes`; returns its readings."""
    rows = 0
    with open(out, "wb") as dst:
        for i, part in enumerate(sorted(parts.glob("*.csv"))):
            with open(part, "rb") as src:
                header = src.readline()
                if i == 0:
                    dst.write(header)
                shutil.copyfileobj(src, dst, 16 << 20)
            rows += ROWS_PER_FILE
            if dst.tell() >= megabytes << 20:
                break
    return rows


def wide_file(out: Path, metrics: int, rows: int = 2000) -> None:
    times = pd.date_range("2026-01-01", periods=rows, freq=f"{GRID_SECONDS}s", tz="UTC")
    values = np.round(np.random.default_rng(1).normal(20, 1, (rows, metrics)), 3)
    frame = pd.DataFrame(values, columns=[f"m{i:04d}[C]" for i in range(metrics)])
    frame.insert(0, "timestamp", times)
    frame.to_csv(out, index=False)


def run_lepton(work: Path, name: str, source: Path) -> dict:
    root = work / f"root-{name}"
    root.mkdir()
    env = dict(os.environ, LEPTON_DATA_ROOT=str(root), PREFECT_HOME=str(root / "prefect-home"), DO_NOT_TRACK="1")
    env.pop("PREFECT_API_URL", None)
    cli = [sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", str(source), "--grid-seconds", str(GRID_SECONDS)]
    result = measure(cli, env=env, cwd=str(ROOT), check=False)  # a refused file ends the run red: its figures still count
    result["ok"] = result["rc"] == 0
    shutil.rmtree(root, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-mb", type=int, default=200)
    parser.add_argument("--big-mb", type=int, default=2000)
    parser.add_argument("--wide-metrics", type=int, nargs="*", default=[256, 5000])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lepton-bigfile-"))
    try:
        parts = work / "parts"
        write_files(parts, -(-args.big_mb // 45))  # a reading is about 45 bytes of CSV
        rows = {}
        figures = {}
        for name, mb in (("small", args.small_mb), ("big", args.big_mb)):
            folder = work / f"src-{name}"
            folder.mkdir()
            rows[name] = one_file(parts, folder / f"{name}.csv", mb)
            size = (folder / f"{name}.csv").stat().st_size
            figures[name] = run_lepton(work, name, folder)
            f = figures[name]
            print(f"{name}: one file of {size / 2**20:,.0f} MB, {rows[name]:,} readings: {f['seconds']:.1f} s, peak {f['peak_mb']:,.0f} MB, ok={f['ok']}", flush=True)
            if not f["ok"]:
                print(f["tail"])
            shutil.rmtree(folder)
        shutil.rmtree(parts)
        print(f"peak memory big / small: {figures['big']['peak_mb'] / figures['small']['peak_mb']:.2f} (size ratio {rows['big'] / rows['small']:.1f})")
        for metrics in args.wide_metrics:
            folder = work / f"wide-{metrics}"
            folder.mkdir()
            wide_file(folder / "wide.csv", metrics)
            size = (folder / "wide.csv").stat().st_size
            f = run_lepton(work, f"wide{metrics}", folder)
            outcome = "stored" if f["ok"] else "refused: " + next((line.strip() for line in f["tail"].splitlines() if "metric" in line), "see output")[:200]
            print(f"wide, {metrics} metric columns ({size / 2**10:,.0f} KB): {f['seconds']:.1f} s, peak {f['peak_mb']:,.0f} MB, {outcome}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
