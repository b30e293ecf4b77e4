"""Lines per second of reading a log file (`read_log`: detection, parsing, continuation lines, the events' frame), per format, against a plain script in the same run.

    python benchmarks/log_parse_speed.py [--lines 200000] [--formats jsonl log4j ...]

For each registered format, a file of its contract examples repeated to
`--lines` lines is read with detection, as a run's read task reads it. For
JSON Lines, a zap-like service log (the same keys on every line, epoch
seconds, a message, a level, request fields) is read too, beside two plain
scripts over the same file measured in the same run: `pandas.read_json(...,
lines=True)` and splitting it into lines with `json.loads` on each (neither
finds a time, a level or a message; they only decode). Prints lines per second
and the ratio of `read_log`'s rate to each baseline's. Asserts nothing: run it
by hand, on a quiet machine, and compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def best_rate(fn, lines: int, repeats: int) -> float:
    """Lines per second of the fastest of `repeats` calls (the first call warms caches and imports)."""
    fn()
    best = min(_timed(fn) for _ in range(repeats))
    return lines / best


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def service_log(path: str, lines: int) -> None:
    rng = random.Random(1)
    with open(path, "w") as fh:
        for i in range(lines):
            record = {
                "level": rng.choice(["info", "info", "warn", "error", "debug"]), "ts": 1767225600.123 + i * 0.01,
                "caller": f"server/handler.go:{rng.randint(10, 400)}", "msg": rng.choice(["request done", "cache miss", "upstream timed out"]),
                "method": "GET", "path": f"/api/items/{rng.randint(1, 9999)}", "status": rng.choice([200, 200, 404, 500]), "latency_ms": round(rng.random() * 100, 3),
            }
            fh.write(json.dumps(record) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--formats", nargs="*", help="only these formats (default: all)")
    args = parser.parse_args()

    import pandas as pd

    from lepton_flow.logs.formats import log_formats
    from lepton_flow.logs.reader import read_log

    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, fmt in sorted(log_formats().items()):
            if (args.formats and name not in args.formats) or not fmt.examples or fmt.document is not None:
                continue
            path = os.path.join(scratch, f"{name}.log")
            with open(path, "w") as fh:
                for k in range(args.lines):
                    fh.write(fmt.examples[k % len(fmt.examples)] + "\n")
            read = read_log(path)
            results[name] = {"detected": read.format, "lines/s": round(best_rate(lambda path=path: read_log(path), args.lines, args.repeats))}
            print(f"{name:22s} {results[name]['lines/s']:>10,} lines/s (detected {read.format})", flush=True)
        if not args.formats or "jsonl" in args.formats:
            path = os.path.join(scratch, "service.jsonl")
            service_log(path, args.lines)

            def split_and_decode():
                with open(path, encoding="utf-8") as fh:
                    return [json.loads(line) for line in fh]

            ours = best_rate(lambda: read_log(path), args.lines, args.repeats)
            by_pandas = best_rate(lambda: pd.read_json(path, lines=True), args.lines, args.repeats)
            by_json = best_rate(split_and_decode, args.lines, args.repeats)
            results["jsonl service log"] = {
                "read_log lines/s": round(ours), "pandas.read_json lines/s": round(by_pandas), "split + json.loads lines/s": round(by_json),
                "ratio to pandas.read_json": round(ours / by_pandas, 2), "ratio to split + json.loads": round(ours / by_json, 2),
            }
            print(json.dumps(results["jsonl service log"], indent=1))


if __name__ == "__main__":
    main()
