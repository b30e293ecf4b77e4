"""How much of fail2ban's real test logs (or lnav's format samples) the registered log formats parse, per detected format.

    python benchmarks/log_formats_real.py [--logs .venv/share/fail2ban-logs]
    python benchmarks/log_formats_real.py --lnav DIR

`make setup` unpacks them from Debian's fail2ban package (94 files, lines
from about 90 services). Lines starting with `#` are fail2ban's annotations,
not log lines, and are left out of the shares. For each file the format is
detected from its lines; every line no format parses goes to quarantine with
its line number and reason. Prints, per format, files and the share of their
log lines parsed, and the files no format fits. Run it by hand.

`--lnav DIR` reads instead the sample lines of lnav's own format definitions
(about 160 lines of 40 kinds of log, each as its software wrote it, some
with the level lnav reads from it). lnav writes its definitions on its
first start; Debian's package has them (nothing is installed):

    apt-get download lnav && dpkg-deb -x lnav_*.deb lnav && mkdir -p lnav/home
    echo hello > lnav/x.log && HOME=$PWD/lnav/home lnav/usr/bin/lnav -n lnav/x.log
    python benchmarks/log_formats_real.py --lnav lnav/home/.lnav/formats/default

Each sample is read as a file of its own: refused, read with lines
quarantined, or read whole; with a level and a source or not; the level
compared with lnav's where it gives one.
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


def measure_lnav(folder: Path) -> dict:
    import tempfile

    import pandas as pd

    from lepton_flow.logs.layout import LEVELS
    from lepton_flow.logs.reader import LogFormatError, read_log

    samples = []
    for spec in sorted(folder.glob("*.json*")):
        for name, fmt in json.loads(spec.read_text()).items():
            if isinstance(fmt, dict):
                samples += [(name, s["line"], s.get("level")) for s in fmt.get("sample", [])]
    counts = {"samples": len(samples), "read_whole": 0, "quarantined_lines": 0, "refused": 0, "with_level": 0, "with_source": 0,
              "levels_given": 0, "levels_agree": 0}
    per_kind: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    disagree = []

    def has(first, field: str) -> bool:
        return first is not None and isinstance(first[field], str) and not pd.isna(first[field])

    with tempfile.TemporaryDirectory() as tmp:
        for i, (kind, line, level) in enumerate(samples):
            path = Path(tmp) / f"{kind}.{i}.log"
            path.write_text(line + "\n")
            try:
                got = read_log(str(path), year=2023)
            except LogFormatError:
                counts["refused"] += 1
                per_kind[kind]["refused"] += 1
                continue
            whole = bool(len(got.frame)) and not got.quarantined
            counts["read_whole"] += whole
            counts["quarantined_lines"] += not whole
            per_kind[kind][got.format] += 1
            first = got.frame.iloc[0] if len(got.frame) else None
            counts["with_level"] += has(first, "level")
            counts["with_source"] += has(first, "source")
            if level:
                want = {"critical": "crit", "fatal": "crit"}.get(level, LEVELS.get(level, level))
                counts["levels_given"] += 1
                counts["levels_agree"] += has(first, "level") and first["level"] == want
                if not (has(first, "level") and first["level"] == want):
                    disagree.append(f"{kind}: lnav {level}, read {first['level'] if first is not None else None}")
    return {**counts, "level_disagreements": disagree, "per_lnav_format": {k: dict(v) for k, v in sorted(per_kind.items())}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--logs", default=str(Path(__file__).resolve().parents[1] / ".venv" / "share" / "fail2ban-logs"))
    ap.add_argument("--lnav", help="a folder of lnav's format definitions (see above)")
    args = ap.parse_args()
    print(json.dumps(measure_lnav(Path(args.lnav)) if args.lnav else measure(Path(args.logs)), indent=1))


if __name__ == "__main__":
    main()
