"""A sensor CSV that a logger appends to, ingested on a schedule: reading on from the last run's offset against re-reading it whole.

    python benchmarks/sensor_tail.py [--rows 400000] [--appended 2000] [--runs 3]

It ingests one long CSV (`rows` readings, 20 sensors) through the same task
functions the flow calls (discover, ingest, clean, commit), then `runs` times
appends `appended` readings and times one run over the grown file two ways
in the same process: (a) as discovery plans it, from the offset the last run
committed; (b) the same file read whole from byte 0 (how every grown file
was read before files were followed by place; its old readings then count as
duplicates). Both commit to their own copy of the store taken before the
run, so each run starts from the same state. Prints seconds per run and
their ratio. Run it by hand: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SENSORS = 20


def rows(first: int, n: int) -> str:
    t0 = np.datetime64("2026-01-01T00:00:00")
    i = np.arange(first, first + n)
    times = (t0 + (i // SENSORS) * np.timedelta64(30, "s")).astype(str)
    values = 20 + np.sin(i / 50)
    return "".join(f"{t}Z,s{k % SENSORS:02d},temperature,{v:.4f},C\n" for t, k, v in zip(times, i, values))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--appended", type=int, default=2_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="lepton-tail-"))
    os.environ["LEPTON_DATA_ROOT"] = str(root / "data")
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")

    from lepton_flow.cleaning import DEFAULT_STEPS, CleanParams
    from lepton_flow.ingest import clean_staged, commit, discover_files, ingest_file, new_run
    from lepton_flow.settings import get_settings
    from lepton_flow.sources import ReadOptions

    src = root / "src"
    src.mkdir(parents=True)
    path = src / "logger.csv"
    path.write_text("timestamp,sensor_id,metric,value,unit\n" + rows(0, args.rows))
    options = ReadOptions()

    def run(run_id: str, whole: bool) -> tuple[float, int]:
        t = time.perf_counter()
        plan = new_run(run_id, 30)
        found = discover_files(str(src), plan, options)
        staged = []
        for f in found.new:
            if whole:
                f.offset, f.line_base = 0, 0
            staged.append(ingest_file(f, plan, options))
        cleaned = clean_staged(staged, plan, list(DEFAULT_STEPS), CleanParams())
        commit(cleaned, plan, staged)
        return time.perf_counter() - t, sum(s.records for s in staged)

    run("first", False)
    store = get_settings().store
    done = args.rows
    out: dict[str, list] = {"tail_s": [], "whole_s": [], "tail_records": [], "whole_records": []}
    for r in range(args.runs):
        with path.open("a") as fh:
            fh.write(rows(done, args.appended))
        done += args.appended
        old = time.time() - 3600
        os.utime(path, (old, old))  # settled: its last line is read
        before = root / "before"
        shutil.copytree(store, before)
        for mode in ("whole", "tail") if r % 2 else ("tail", "whole"):
            shutil.rmtree(store)
            shutil.copytree(before, store)
            seconds, records = run(f"{mode}{r}", mode == "whole")
            out[f"{mode}_s"].append(round(seconds, 2))
            out[f"{mode}_records"].append(records)
        shutil.rmtree(before)
    out["ratio_whole_over_tail"] = round(statistics.median(out["whole_s"]) / statistics.median(out["tail_s"]), 2)
    out["file_rows"] = done
    print(json.dumps(out, indent=1))
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
