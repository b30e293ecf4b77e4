"""Log lines per second end to end against only splitting the same files into lines and matching the format's regular expression, in one run.

    python benchmarks/log_ingest.py [--millions 1 4] [--per-file 250000]

For each size it writes that many HDFS lines (loghub's sample, repeated with
new block ids and new client ports, its timestamps respaced to the rate of
loghub's full HDFS log: 11,175,629 lines over 38.7 hours, about 80 lines a
second), then times
(a) the baseline: read every file, split it into lines, match the HDFS
format's regular expression on each, and (b) `lepton-flow run log-ingest` on
the embedded default (Prefect's local API, a local Dask cluster, a local
store), start-up included: parse, validate with GX, stage, mine templates,
count and commit. It also times a run over 20 lines (the fixed cost: start-up
and shut-down) and prints the rate past it, (N - 20) / (time - fixed time).
Target (the log issue): (b)/(a) >= 0.3. Run it by hand; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RATE = 11_175_629 / (38.7 * 3600)  # lines per second in loghub's full HDFS log


def write_lines(src: Path, sample: list[str], total: int, per_file: int) -> None:
    """`total` HDFS lines in files of `per_file`: the sample's lines in turn, times at RATE.

    Each pass renews what differs from line to line in a real HDFS log: block
    ids and the clients' ephemeral ports (a data node's own port, 50010,
    stays). Renewing only block ids would make every later pass repeat the
    first one's messages once block ids are masked, which real logs do far
    less (15% of the sample's lines name a client port).
    """
    src.mkdir(parents=True)
    start = datetime(2008, 11, 9, 20, 36, 15)
    bodies = [line[14:] for line in sample]  # "pid LEVEL source: message"
    block = re.compile(r"blk_(-?)(\d+)")
    port = re.compile(r"(\d+\.\d+\.\d+\.\d+):(?!50010\b)(\d+)")
    for first in range(0, total, per_file):
        out = []
        for j in range(first, min(total, first + per_file)):
            turn, body = divmod(j, len(bodies))
            body = bodies[body]
            if turn:
                body = block.sub(lambda m: f"blk_{m[1]}{(int(m[2]) + turn * 7919) % 10**19}", body)
                body = port.sub(lambda m: f"{m[1]}:{32768 + (int(m[2]) + turn * 7919) % 28232}", body)
            out.append((start + timedelta(seconds=int(j / RATE))).strftime("%y%m%d %H%M%S ") + body)
        (src / f"hdfs-{first // per_file:04d}.log").write_text("\n".join(out) + "\n")


def lepton(src: Path, data: Path, prefect_home: Path) -> float:
    """Seconds `lepton-flow run log-ingest` takes over `src` into a new data root."""
    env = dict(os.environ, LEPTON_DATA_ROOT=str(data), PREFECT_HOME=str(prefect_home))
    env.pop("PREFECT_API_URL", None)
    cli = [sys.executable, "-m", "lepton_flow.cli"]
    t = time.perf_counter()
    done = subprocess.run([*cli, "run", "log-ingest", "--source", str(src)], env=env, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    seconds = time.perf_counter() - t
    if done.returncode:
        sys.exit(done.stdout[-2000:] + done.stderr[-2000:])
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--millions", type=float, nargs="+", default=[1, 4])
    ap.add_argument("--per-file", type=int, default=250_000, help="lines per file")
    ap.add_argument("--loghub", default=str(Path(__file__).resolve().parents[1] / "tests" / "data" / "loghub"))
    args = ap.parse_args()

    from lepton_flow.logs.formats.hdfs import _LINE

    sample = Path(args.loghub, "HDFS_2k.log").read_text().splitlines()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp, "prefect")  # one for every run, as a user's
        write_lines(Path(tmp, "small"), sample, 20, args.per_file)
        lepton(Path(tmp, "small"), Path(tmp, "warm-up"), home)  # makes Prefect's database: not what we measure
        fixed = lepton(Path(tmp, "small"), Path(tmp, "run-small"), home)
        for millions in args.millions:
            total = int(millions * 1_000_000)
            src = Path(tmp, f"src-{total}")
            write_lines(src, sample, total, args.per_file)
            t = time.perf_counter()
            matched = 0
            for path in sorted(src.iterdir()):
                for line in path.read_text().splitlines():
                    matched += _LINE.match(line) is not None
            baseline = total / (time.perf_counter() - t)
            seconds = lepton(src, Path(tmp, f"run-{total}"), home)
            results.append({
                "lines": total, "matched": matched, "baseline_lines_per_s": round(baseline), "lepton_lines_per_s": round(total / seconds),
                "ratio": round(total / seconds / baseline, 3), "lepton_seconds": round(seconds, 1),
                "past_fixed_lines_per_s": round((total - 20) / max(seconds - fixed, 1e-9)),
            })
            subprocess.run(["rm", "-rf", str(src), str(Path(tmp, f"run-{total}"))], check=True)
    print(json.dumps({"fixed_seconds (20 lines)": round(fixed, 1), "runs": results}, indent=1))


if __name__ == "__main__":
    main()
