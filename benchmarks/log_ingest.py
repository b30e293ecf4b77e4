"""Log lines per second end to end against only splitting the same files into lines and matching the format's regular expression, in one run.

    python benchmarks/log_ingest.py [--copies 100]

It writes loghub's HDFS sample `--copies` times (each copy shifted by a day,
`--per-file` copies per file: 20,000 lines by default), then times (a) the baseline: read every file, split
it into lines, match the HDFS format's regular expression on each, and (b)
`lepton-flow run log-ingest` on the embedded default (Prefect's local API,
a local Dask cluster, a local store), start-up included: parse, validate
with GX, stage, mine templates, count and commit. Target (the log issue):
(b)/(a) >= 0.3. Run it by hand; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--copies", type=int, default=100)
    ap.add_argument("--per-file", type=int, default=10, help="copies of the sample per file (2,000 lines each)")
    ap.add_argument("--loghub", default=str(Path(__file__).resolve().parents[1] / "tests" / "data" / "loghub"))
    args = ap.parse_args()

    from lepton_flow.logs.formats.hdfs import _LINE

    lines = Path(args.loghub, "HDFS_2k.log").read_text().splitlines()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "src")
        src.mkdir()
        for start in range(0, args.copies, args.per_file):
            shifted = []
            for k in range(start, min(args.copies, start + args.per_file)):
                for line in lines:
                    day = datetime.strptime(line[:6], "%y%m%d") + timedelta(days=k)
                    shifted.append(day.strftime("%y%m%d") + line[6:])
            (src / f"hdfs-{start:04d}.log").write_text("\n".join(shifted) + "\n")
        total = len(lines) * args.copies

        t = time.perf_counter()
        matched = 0
        for path in sorted(src.iterdir()):
            for line in path.read_text().splitlines():
                matched += _LINE.match(line) is not None
        baseline = total / (time.perf_counter() - t)

        env = dict(os.environ, LEPTON_DATA_ROOT=str(Path(tmp, "data")), PREFECT_HOME=str(Path(tmp, "prefect")))
        env.pop("PREFECT_API_URL", None)
        cli = [sys.executable, "-m", "lepton_flow.cli"]
        # Warm-up: Prefect's database migration on a fresh PREFECT_HOME is not what we measure.
        subprocess.run([*cli, "status"], env=env, capture_output=True, check=True)
        t = time.perf_counter()
        done = subprocess.run([*cli, "run", "log-ingest", "--source", str(src)], env=env, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
        seconds = time.perf_counter() - t
        if done.returncode:
            sys.exit(done.stdout[-2000:] + done.stderr[-2000:])
        lepton = total / seconds
    print(json.dumps({"lines": total, "matched": matched, "baseline_lines_per_s": round(baseline), "lepton_lines_per_s": round(lepton), "ratio": round(lepton / baseline, 3), "lepton_seconds": round(seconds, 1)}, indent=1))


if __name__ == "__main__":
    main()
