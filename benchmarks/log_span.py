"""Peak memory and time of counting log events spread over ten years, against the same events within one day.

    python benchmarks/log_span.py [--events 200000] [--templates 1000] [--years 10]

Each case runs in a fresh process on a fresh data root, through the log
ingest's library path (discover, read and stage, mine and commit: what the
flow's tasks call): the same events, the same 1,000 templates, only their
times differ. Reported: wall time and the process's peak resident memory,
and the ratio of the spread case to the one-day case (the target is within
1.2x). It also reads the counts back (`lepton-flow status`'s totals) in each
case. Run it by hand; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CASE = r"""
import json, os, resource, sys, time
sys.path.insert(0, sys.argv[1])
from lepton_flow import store
from lepton_flow.logs.ingest import discover, mine_and_commit, new_run, read_file
t = time.perf_counter()
run = new_run("span", 60, None)
new, _ = discover(sys.argv[2], run)
refs = [read_file(f, run, "auto", 2026) for f in new]
mine_and_commit(refs, run, None)
ingest = time.perf_counter() - t
ingest_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
per_template, rows, events = store.log_totals(run.store_url)
print(json.dumps({"ingest_s": ingest, "totals_s": time.perf_counter() - t, "events": int(per_template.sum()), "windows": int(rows.size),
                  "templates": int((per_template > 0).sum()), "ingest_peak_mb": ingest_peak, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _word(k: int) -> str:
    """A template's own word, letters only (Drain routes tokens with digits as variables)."""
    out = ""
    k += 26 * 26
    while k:
        k, r = divmod(k, 26)
        out = "abcdefghijklmnopqrstuvwxyz"[r] + out
    return out


def write_logs(folder: str, events: int, templates: int, span_seconds: int, seed: int = 7) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    start = 1_451_606_400  # 2016-01-01: ten years end before today (later events would be quarantined as from the future)
    stamps = np.sort(start + rng.integers(0, span_seconds, events))
    kinds = rng.integers(0, templates, events)
    values = rng.integers(0, 100_000, events)
    os.makedirs(folder, exist_ok=True)
    times = np.datetime_as_string(stamps.astype("datetime64[s]"), unit="s")
    # Five words of its own per template: no two share enough tokens for Drain to merge them.
    words = [" ".join(_word(5 * k + j) for j in range(5)) for k in range(templates)]
    per_file = -(-events // 8)
    for f in range(8):
        lo, hi = f * per_file, min((f + 1) * per_file, events)
        with open(os.path.join(folder, f"part-{f}.log"), "w") as fh:
            fh.writelines(f"{times[i]}Z INFO {words[kinds[i]]} {int(values[i])}\n" for i in range(lo, hi))
        os.utime(os.path.join(folder, f"part-{f}.log"), (time.time() - 3600, time.time() - 3600))


def run_case(repo: str, events: int, templates: int, span_seconds: int) -> dict:
    with tempfile.TemporaryDirectory() as root:
        src = os.path.join(root, "logs")
        write_logs(src, events, templates, span_seconds)
        env = dict(os.environ, LEPTON_DATA_ROOT=root, LEPTON_MIN_TIMESTAMP="2000-01-01T00:00:00Z")
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CASE, repo, src], env=env, capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["wall_s"] = time.perf_counter() - t
        return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--templates", type=int, default=1000)
    ap.add_argument("--years", type=int, default=10)
    args = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    day = run_case(repo, args.events, args.templates, 86_400)
    spread = run_case(repo, args.events, args.templates, args.years * 365 * 86_400)
    for name, r in (("one day", day), (f"{args.years} years", spread)):
        print(f"{name:>9}: {r['events']:,} events, {r['templates']} templates, {r['windows']:,} windows with events; "
              f"ingest {r['ingest_s']:.1f} s (peak {r['ingest_peak_mb']:,.0f} MB), totals {r['totals_s']:.2f} s, process {r['wall_s']:.1f} s, peak {r['peak_mb']:,.0f} MB")
    print(f"ratio ({args.years} years / one day): peak memory {spread['peak_mb'] / day['peak_mb']:.2f}x (ingest alone {spread['ingest_peak_mb'] / day['ingest_peak_mb']:.2f}x), "
          f"ingest time {spread['ingest_s'] / day['ingest_s']:.2f}x")


if __name__ == "__main__":
    main()
