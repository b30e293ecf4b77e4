"""How much of fail2ban's real test logs the registered log formats parse, per detected format.

    python benchmarks/log_formats_real.py [--logs .venv/share/fail2ban-logs]

`make setup` unpacks them from Debian's fail2ban package (94 files, lines
from about 90 services). Lines starting with `#` are fail2ban's annotations,
not log lines, and are left out of the shares. For each file the format is
detected from its lines; every line no format parses goes to quarantine with
its line number and reason. Prints, per format, files and the share of their
log lines parsed, and the files no format fits. Run it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def measure(logs: Path) -> dict:
    from lepton_flow.logs.reader import LogFormatError, read_log

    per_format = defaultdict(lambda: {"files": 0, "lines": 0, "parsed": 0})
    unknown, unbalanced = [], []
    total = parsed_total = 0
    for path in sorted(p for p in logs.rglob("*") if p.is_file()):
        try:
            result = read_log(str(path), year=2013)
        except LogFormatError:
            lines = [l for l in path.read_text(errors="replace").splitlines() if l.strip() and not l.startswith("#")]
            unknown.append(path.name)
            total += len(lines)
            continue
        if not result.balanced:
            unbalanced.append(path.name)
        comments = sum(1 for q in result.quarantined if q["text"].startswith("#"))
        log_lines = result.lines - result.blank - comments
        stats = per_format[result.format]
        stats["files"] += 1
        stats["lines"] += log_lines
        stats["parsed"] += result.event_lines
        total += log_lines
        parsed_total += result.event_lines
    return {
        "log_lines": total,
        "parsed_share": round(parsed_total / total, 3) if total else None,
        "per_format": {k: {**v, "share": round(v["parsed"] / v["lines"], 3) if v["lines"] else None} for k, v in sorted(per_format.items())},
        "files_without_a_format": unknown,
        "unbalanced_files": unbalanced,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--logs", default=str(Path(__file__).resolve().parents[1] / ".venv" / "share" / "fail2ban-logs"))
    args = ap.parse_args()
    print(json.dumps(measure(Path(args.logs)), indent=1))


if __name__ == "__main__":
    main()
