"""A program's name, then an ISO date and time, then `:` and the message, as Debian's `update-alternatives` writes `/var/log/alternatives.log`.

`update-alternatives 2025-06-24 14:36:53: link group pager updated to point to /usr/bin/less`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_LINE = re.compile(r"^(?P<program>[A-Za-z][\w.\-]*) (?P<ts>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?): (?P<msg>.+)$")


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m:
        return None
    try:
        ts = datetime.fromisoformat(m["ts"].replace(",", ".")).replace(tzinfo=UTC)
    except ValueError:
        return None
    return event(ts, None, m["program"], None, m["msg"])


FORMAT = register_log_format(
    LogFormat(
        "program-time",
        parse,
        examples=[
            "update-alternatives 2025-06-24 14:36:53: run with --quiet --install /usr/bin/pager pager /usr/bin/less 77",
            "update-alternatives 2025-06-24 14:36:53: link group pager updated to point to /usr/bin/less",
        ],
        description=__doc__.splitlines()[0],
    )
)
