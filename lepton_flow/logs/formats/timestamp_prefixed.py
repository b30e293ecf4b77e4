"""Application logs that start with an ISO-like date and time, optionally in brackets and with a zone, then an optional level: `[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: ...`, `2024-05-01T10:00:00.123Z ERROR db: ...`.

The level as the common layouts write it after the time (each from the
software's own default layout):
- a word, bare or in brackets: `ERROR db: ...`, `[WARN] ...`, asterisk's
  `NOTICE[1638] ...` (the number is the thread, kept in the message);
- after a process id: gunicorn's `[2024-05-01 10:00:00 +0000] [1] [INFO] ...`,
  MySQL 8's `2024-05-01T10:00:00.123456Z 0 [System] [MY-010116] [Server] ...`
  (5.7: `[Note]`), where `[System]` and `[Note]` are read only in brackets;
- Serilog's three letters in brackets: `... +00:00 [INF] ...`, `[WRN]`, `[ERR]`;
- Celery's `[2024-05-01 10:00:00,123: INFO/MainProcess] ...` (the process is
  the source).
MySQL 5.5's error log writes its date as `yymmdd`, and it and MariaDB pad
the hour with a space (`130324  0:04:00 [Warning] ...`, `2015-10-07  8:25:38
139845235329792 [Warning] ...`); read too.
A zone after the time, with or without a space (`+0000`, `+00:00`, `Z`,
`UTC`), is read and left out of the message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format
from lepton_flow.logs.layout import LEVELS

_WORDS = "TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRIT|CRITICAL|FATAL|ALERT|EMERG|SECURITY|VERBOSE|SEVERE"
_BRACKETED = _WORDS + "|INF|WRN|DBG|VRB|FTL|EROR|SYSTEM|NOTE|INFORMATION"  # read only in brackets: `[System]`, `[INF]`
_HEAD = re.compile(
    r"^\[?(?:(?P<date>\d{4}[-/.]\d\d[-/.]\d\d)|(?P<yymmdd>\d{6}))(?:T| {1,2})(?P<time>\d{1,2}:\d\d:\d\d)"
    r"(?P<frac>[.,]\d{1,9})?"
    r"(?:\s?(?P<tz>Z|[+-](?:0\d|1[0-4]):?(?:00|15|30|45)|UTC|GMT)(?!\w))?",  # an offset as zones have them: not `-1234 items`
    re.IGNORECASE,
)
_CELERY = re.compile(rf":\s*(?P<level>{_WORDS})/(?P<process>[\w.\-]+)\]\s+(?P<msg>.*)$", re.IGNORECASE)
_LEVEL = re.compile(
    rf"\]?[:\s]\s*(?:(?:\[\d+\]|\d+)\s+(?=[\[<]))?"  # a process or thread id, only before a bracketed level
    rf"(?:(?:\[(?P<bracketed>{_BRACKETED})\]|<(?P<angled>{_BRACKETED})>|(?P<bare>{_WORDS})\]?):?\s+|(?P<threaded>{_WORDS})(?=\[\d+\]))"
    rf"(?P<msg>.*)$",
    re.IGNORECASE,
)
_PLAIN = re.compile(r"\]?[:\s]\s*(?P<msg>.*)$")


def parse(line: str, year: int) -> dict | None:
    line = line.rstrip("\r\n")
    head = _HEAD.match(line)
    if not head:
        return None
    rest = line[head.end():]
    source = None
    if (m := _CELERY.match(rest)) and m["msg"]:
        level, source = m["level"], m["process"]
    elif (m := _LEVEL.match(rest)) and m["msg"]:
        level = m["bracketed"] or m["angled"] or m["bare"] or m["threaded"]
    elif (m := _PLAIN.match(rest)) and m["msg"]:
        level = None
    else:
        return None
    clock, ymd = head["time"].zfill(8), head["yymmdd"]
    date = f"20{ymd[:2]}-{ymd[2:4]}-{ymd[4:]}" if ymd else re.sub(r"[/.]", "-", head["date"])
    frac = (head["frac"] or "").replace(",", ".")[:7]
    tz = (head["tz"] or "").upper()
    tz = "+00:00" if tz in ("", "Z", "UTC", "GMT") else (tz if ":" in tz else tz[:3] + ":" + tz[3:])
    try:
        ts = datetime.fromisoformat(f"{date}T{clock}{frac}{tz}")
    except ValueError:
        return None
    level = level.lower() if level else None
    return event(ts.astimezone(UTC), None, source, LEVELS.get(level, level), m["msg"])


FORMAT = register_log_format(
    LogFormat(
        "timestamp-prefixed",
        parse,
        examples=[
            "[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: Registration from '<sip:301@example.com>' failed for '1.2.3.4' - Wrong password",
            "2024-05-01T10:00:00.123+02:00 ERROR db: connection refused",
            "[2024-05-01 10:00:05 +0000] [8] [ERROR] Error handling request /slow",
            "2024-05-01T10:00:02.423456Z 0 [ERROR] [MY-010262] [Server] Can't start server: Bind on TCP/IP port: Address already in use",
            "2024-05-01 10:00:01.456 +00:00 [WRN] Slow request /orders took 1200 ms",
            "[2024-05-01 10:00:02,789: ERROR/ForkPoolWorker-1] Task tasks.add[6c7a1c9e] raised unexpected: ValueError('bad')",
        ],
        description=__doc__.splitlines()[0],
        local_time=lambda line: (m := _HEAD.match(line)) is not None and m["tz"] is None,  # times written without a zone
        breadth=2,
    )
)
