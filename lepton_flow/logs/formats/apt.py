"""Debian's apt logs, `/var/log/apt/history.log` and `term.log`: one stanza per apt run, opened by `Start-Date:` or `Log started:`.

The stanza's other lines (`Commandline:`, `Install:`, `Upgrade:`,
`End-Date:`; the terminal's `Unpacking ...`, `Setting up ...`, a maintainer
script's own output with its blank lines, `Log ended:`), up to the next
stanza, are the event's body. apt writes the
host's local time with no zone; it is read as UTC, as other zone-less lines.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_START = re.compile(r"^(Start-Date|Log started): (\d{4}-\d\d-\d\d) +(\d\d:\d\d:\d\d)\s*$")
_WHAT = {"Start-Date": "apt run", "Log started": "apt terminal log"}


def parse(line: str, year: int) -> dict | None:
    m = _START.match(line)
    if m is None:
        return None
    try:
        ts = datetime.strptime(f"{m[2]} {m[3]}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:  # 31 February, hour 25
        return None
    return event(ts, None, "apt", None, _WHAT[m[1]])


FORMAT = register_log_format(
    LogFormat(
        "apt",
        parse,
        examples=["Start-Date: 2025-06-24  14:36:25", "Log started: 2025-06-24  14:36:25"],
        description=__doc__.splitlines()[0],
        local_time=True,  # times written without a zone
        continues=r"(?!Start-Date:|Log started:)\S",  # every line up to the next stanza (a start line that does not parse is no body)
    )
)
