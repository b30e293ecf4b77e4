"""Template-mining grouping accuracy and speed on loghub's samples: lepton-flow's Drain against drain3-improved, on the same lines.

    python benchmarks/log_templates.py [--loghub tests/data/loghub] [--no-drain3]

For every `*_2k.log` under `--loghub` with its `*_structured.csv`, it reads
the raw file the way a run does (`read_log`: the format detected, the lines
parsed), mines templates from the messages in line order (a line no format
parses is mined as it is; a format's own masks applied first, as a run does) with `lepton_flow.logs.drain.Drain` (similarity
from the detected format: one configuration, no per-file tuning), and
scores the grouping against loghub's ground truth (`EventId`): the share of
lines whose mined group is exactly their ground-truth group. Beside it, on
the same messages: drain3-improved (a maintained fork of Drain3 on PyPI)
with its defaults, and with our masks, depth and similarity; each with
lines per second of mining alone. drain3-improved runs in a throwaway
virtual environment under `~/.cache/lepton-flow/drain3-improved-venv`,
made on first use (needs PyPI). Run it by hand; it asserts nothing.
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

DRAIN3 = """
import json, sys, time
from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig
messages, similarity, masks = json.load(open(sys.argv[1])), float(sys.argv[2]), json.load(open(sys.argv[3]))
out = {}
for name in ("default", "our_settings"):
    config = TemplateMinerConfig()
    if name == "our_settings":
        config.drain_sim_th, config.drain_depth, config.mask_prefix, config.mask_suffix = similarity, 4, "<", ">"
        config.masking_instructions = [MaskingInstruction(pattern, token.strip("<>")) for pattern, token in masks]
    miner = TemplateMiner(config=config)
    t = time.perf_counter()
    ids = [miner.add_log_message(m)["cluster_id"] for m in messages]
    out[name] = {"ids": ids, "lines_per_s": len(messages) / (time.perf_counter() - t)}
print(json.dumps(out))
"""


def drain3_python() -> Path:
    venv = Path.home() / ".cache" / "lepton-flow" / "drain3-improved-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "drain3-improved==0.10.0"], check=True)
    return python


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loghub", default=str(Path(__file__).resolve().parents[1] / "tests" / "data" / "loghub"))
    ap.add_argument("--no-drain3", action="store_true")
    args = ap.parse_args()

    import pyarrow as pa

    from lepton_flow.logs.drain import DEFAULT_MASKS, Drain, grouping_accuracy
    from lepton_flow.logs.formats import log_formats
    from lepton_flow.logs.reader import read_log

    python = None if args.no_drain3 else drain3_python()
    results = []
    for path in sorted(Path(args.loghub).glob("*_2k.log")):
        name = path.name[: -len("_2k.log")]
        structured = path.with_name(f"{name}_2k.log_structured.csv")
        if not structured.exists():
            continue
        raw = path.read_text(errors="replace").splitlines()
        truth = [r["EventId"] for r in csv.DictReader(open(structured))]
        got = read_log(str(path))
        fmt = log_formats()[got.format]
        by_line = dict(zip(got.frame["line"].tolist(), got.frame["message"].tolist()))
        messages = fmt.premask(pa.array([by_line.get(i + 1, line) for i, line in enumerate(raw)], pa.string())).to_pylist()  # as a run does
        miner = Drain(similarity=fmt.drain_similarity)
        t = time.perf_counter()
        ours = [miner.add(m) for m in messages]
        seconds = time.perf_counter() - t
        row = {
            "dataset": name,
            "format": fmt.name,
            "parsed": round(got.event_lines / max(len(raw), 1), 4),
            "lepton_drain": round(grouping_accuracy(ours, truth), 4),
            "templates": len(miner.templates),
            "lines_per_s": round(len(messages) / seconds),
        }
        if python:
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh, tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as mh:
                json.dump(messages, fh)
                json.dump(DEFAULT_MASKS, mh)
            out = subprocess.run([str(python), "-c", DRAIN3, fh.name, str(fmt.drain_similarity), mh.name], capture_output=True, text=True, check=True)
            os.unlink(fh.name)
            os.unlink(mh.name)
            theirs = json.loads(out.stdout.strip().splitlines()[-1])
            for variant, r in theirs.items():
                row[f"drain3_{variant}"] = round(grouping_accuracy(r["ids"], truth), 4)
                row[f"drain3_{variant}_lines_per_s"] = round(r["lines_per_s"])
        results.append(row)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
