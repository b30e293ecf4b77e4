"""Cleaning throughput with one and with two Dask worker processes, on the same staged data, in one run.

    python benchmarks/scale.py [--millions 4]

It writes `--millions` CSV files of one million readings (the generator of
`benchmarks/sensor_ingest.py`), reads, validates and stages them once, then
times `lepton_flow.ingest.clean_staged` (one Dask task per store time
window: resample, Hampel filter, stuck values, gap filling) on a local
cluster of 1 and of 2 single-threaded worker processes, each after a
warm-up run. It prints readings per second and the speed-up. Run it by
hand; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--millions", type=int, default=4)
    args = ap.parse_args()

    from distributed import Client, LocalCluster

    from lepton_flow.cleaning import DEFAULT_STEPS, CleanParams
    from lepton_flow.ingest import clean_staged, ingest_file, new_run
    from lepton_flow.settings import get_settings
    from lepton_flow.formats import is_supported
    from lepton_flow.sources import ReadOptions, discover
    from sensor_ingest import GRID_SECONDS, write_files

    tmp = Path(tempfile.mkdtemp(prefix="lepton-scale-"))
    os.environ["LEPTON_DATA_ROOT"] = str(tmp / "data")
    settings = get_settings(fresh=True)
    try:
        readings = write_files(tmp / "src", args.millions)
        files, _, _ = discover(str(tmp / "src"), set(), is_supported)
        run = new_run("scale", GRID_SECONDS, settings)
        staged = [ingest_file(f, run, ReadOptions()) for f in files]
        params = CleanParams(grid_seconds=GRID_SECONDS)
        out = {"readings": readings, "windows": len({w for s in staged for w in s.windows})}
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, Client(cluster):
                clean_staged(staged, run, list(DEFAULT_STEPS), params)  # warm-up: imports in the workers
                t = time.perf_counter()
                clean_staged(staged, run, list(DEFAULT_STEPS), params)
                out[f"{workers}_worker"] = round(readings / (time.perf_counter() - t))
        out["speed_up"] = round(out["2_worker"] / out["1_worker"], 2)
        print(json.dumps(out, indent=1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
