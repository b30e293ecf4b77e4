"""Peak memory of `log_ingest` on one large log file against one a tenth its size, in one run.

    python benchmarks/log_big_file.py [--small-mb 100] [--big-mb 1000] [--ids hadoop|distinct]

Writes one log4j-layout file of about `--small-mb` and one of about
`--big-mb` (Hadoop-like task lines, each with its own attempt id, a stack
trace every seventh event), then runs `lepton-flow run log-ingest` on each
in its own process and data root, sampling the memory of the whole process
tree (CLI, local API, Dask workers). A file is read a piece of
`reader.PIECE_BYTES` at a time, so the big file's peak should stay well
within 2x of the small one's; what still grows with the file is its distinct
message texts, which staged counts and mining hold. `--ids hadoop` writes
ids as Hadoop does (`attempt_1445144423722_0020`: masked, so the lines
repeat one text); `--ids distinct` ids that survive masking
(`attempt_17a42`), the worst case. Prints the figures and their ratio;
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sensor_ingest import measure  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def write_log(out: Path, megabytes: int, ids: str = "hadoop") -> int:
    """A log4j file of about `megabytes`; returns its events."""
    rng = random.Random(1)
    events = 0
    with open(out, "w") as fh:
        while fh.tell() < megabytes << 20:
            for _ in range(10_000):
                i = events
                fh.write(f"2026-01-{1 + i // 86_400 % 28:02d} {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d},{i % 1000:03d} INFO [worker-{i % 8}] "
                         f"org.apache.hadoop.mapred.Task: Task attempt_{i}{'_' if ids == 'hadoop' else 'a'}{rng.randint(0, 99)} is done. And is in the process of committing\n")
                if i % 7 == 0:
                    fh.write("java.io.IOException: retrying\n\tat org.apache.hadoop.ipc.Client.call(Client.java:1475)\n\tat org.apache.hadoop.ipc.Client.call(Client.java:1412)\n")
                events += 1
    return events


def run_lepton(work: Path, name: str, source: Path) -> dict:
    root = work / f"root-{name}"
    root.mkdir()
    env = dict(os.environ, LEPTON_DATA_ROOT=str(root), PREFECT_HOME=str(root / "prefect-home"), DO_NOT_TRACK="1")
    env.pop("PREFECT_API_URL", None)
    cli = [sys.executable, "-m", "lepton_flow.cli", "run", "log-ingest", "--source", str(source)]
    result = measure(cli, env=env, cwd=str(ROOT))
    shutil.rmtree(root, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-mb", type=int, default=100)
    parser.add_argument("--big-mb", type=int, default=1000)
    parser.add_argument("--ids", choices=["hadoop", "distinct"], default="hadoop")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lepton-biglog-"))
    try:
        results = {}
        for name, mb in (("small", args.small_mb), ("big", args.big_mb)):
            src = work / f"src-{name}"
            src.mkdir()
            events = write_log(src / "app.log", mb, args.ids)
            got = run_lepton(work, name, src)
            results[name] = {"megabytes": round((src / "app.log").stat().st_size / 2**20), "events": events, "seconds": round(got["seconds"], 1), "peak_mb": round(got["peak_mb"])}
            shutil.rmtree(src)
            print(json.dumps({name: results[name]}), flush=True)
        results["peak big / small"] = round(results["big"]["peak_mb"] / results["small"]["peak_mb"], 2)
        results["size big / small"] = round(results["big"]["megabytes"] / results["small"]["megabytes"], 1)
        print(json.dumps(results, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
