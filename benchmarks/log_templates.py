"""Template-mining grouping accuracy on loghub's samples: lepton-flow's Drain against Drain3 with its defaults, on the same lines.

    python benchmarks/log_templates.py [--loghub tests/data/loghub] [--no-drain3]

For HDFS, BGL, OpenSSH and Apache it parses every raw line with the log
format the registry detects, mines templates from the messages with
`lepton_flow.logs.drain.Drain` (similarity from the format), and scores the
grouping against loghub's ground truth (`EventId` of `*_structured.csv`):
the share of lines whose mined group is exactly their ground-truth group.
Drain3 (the reference implementation; it cannot be installed beside
Prefect) runs with its default settings in a throwaway virtual environment
under `~/.cache/lepton-flow/drain3-venv`, made on first use (needs PyPI).
Run it by hand; it asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DATASETS = ["HDFS", "BGL", "OpenSSH", "Apache"]
YEARS = {"HDFS": 2008, "BGL": 2005, "OpenSSH": 2015, "Apache": 2005}
DRAIN3 = """
import json, sys
from drain3 import TemplateMiner
messages = json.load(open(sys.argv[1]))
miner = TemplateMiner()
print(json.dumps([miner.add_log_message(m)["cluster_id"] for m in messages]))
"""


def drain3_python() -> Path:
    venv = Path.home() / ".cache" / "lepton-flow" / "drain3-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "drain3==0.9.11"], check=True)
    return python


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loghub", default=str(Path(__file__).resolve().parents[1] / "tests" / "data" / "loghub"))
    ap.add_argument("--no-drain3", action="store_true")
    args = ap.parse_args()

    from lepton_flow.logs.drain import Drain, grouping_accuracy
    from lepton_flow.logs.formats import detect, log_formats

    python = None if args.no_drain3 else drain3_python()
    results = []
    for name in DATASETS:
        raw = Path(args.loghub, f"{name}_2k.log").read_text(errors="replace").splitlines()
        truth = [r["EventId"] for r in csv.DictReader(open(Path(args.loghub, f"{name}_2k.log_structured.csv")))]
        fmt = log_formats()[detect(raw[:200], YEARS[name])]
        events = [fmt.parse(line, YEARS[name]) for line in raw]
        messages = [e["message"] if e else line for e, line in zip(events, raw)]
        miner = Drain(similarity=fmt.drain_similarity)
        t = time.perf_counter()
        ours = [miner.add(m) for m in messages]
        seconds = time.perf_counter() - t
        row = {
            "dataset": name,
            "format": fmt.name,
            "parsed": sum(e is not None for e in events) / len(raw),
            "lepton_drain": round(grouping_accuracy(ours, truth), 4),
            "templates": len(miner.templates),
            "lines_per_s": round(len(messages) / seconds),
        }
        if python:
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
                json.dump(messages, fh)
            out = subprocess.run([str(python), "-c", DRAIN3, fh.name], capture_output=True, text=True, check=True)
            os.unlink(fh.name)
            row["drain3_default"] = round(grouping_accuracy(json.loads(out.stdout.strip().splitlines()[-1]), truth), 4)
        results.append(row)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
