"""Application logs that start with an ISO-like date and time, optionally in brackets, then an optional level: `[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: ...`, `2024-05-01T10:00:00.123Z ERROR db: ...`."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_LINE = re.compile(
    r"^\[?(?P<date>\d{4}[-/.]\d\d[-/.]\d\d)[ T](?P<time>\d\d:\d\d:\d\d)(?P<frac>[.,]\d{1,9})?(?P<tz>Z|[+-]\d\d:?\d\d)?\]?"
    r"(?:\s+\[?(?P<level>TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRIT|CRITICAL|FATAL|ALERT|EMERG|SECURITY|VERBOSE)\b\]?)?[:\s]\s*(?P<msg>.*)$",
    re.IGNORECASE,
)


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m or not m["msg"]:
        return None
    date = re.sub(r"[/.]", "-", m["date"])
    frac = (m["frac"] or "").replace(",", ".")[:7]
    tz = m["tz"] or ""
    tz = "+00:00" if tz in ("", "Z") else (tz if ":" in tz else tz[:3] + ":" + tz[3:])
    try:
        ts = datetime.fromisoformat(f"{date}T{m['time']}{frac}{tz}")
    except ValueError:
        return None
    level = m["level"].lower() if m["level"] else None
    return event(ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC), None, None, level, m["msg"])


FORMAT = register_log_format(
    LogFormat(
        "timestamp-prefixed",
        parse,
        examples=[
            "[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: Registration from '<sip:301@example.com>' failed for '1.2.3.4' - Wrong password",
            "2024-05-01T10:00:00.123+02:00 ERROR db: connection refused",
        ],
        description=__doc__.splitlines()[0],
        breadth=2,
    )
)
