"""IETF syslog (RFC 5424): `<PRI>1 2003-10-11T22:14:15.003Z host app procid msgid [structured data] message`."""

from __future__ import annotations

import re
from datetime import datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_LINE = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) (?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (?P<msg>.*))?$"
)
_LEVELS = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m or m["ts"] == "-":
        return None
    try:
        ts = datetime.fromisoformat(m["ts"].replace("Z", "+00:00"))
    except ValueError:
        return None
    if ts.tzinfo is None:
        return None
    msg = (m["msg"] or "").removeprefix("\ufeff")
    return event(ts, None if m["host"] == "-" else m["host"], None if m["app"] == "-" else m["app"], _LEVELS[int(m["pri"]) % 8], msg)


FORMAT = register_log_format(
    LogFormat(
        "syslog-rfc5424",
        parse,
        examples=[
            "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8",
            '<165>1 2003-10-11T22:14:15.003000-07:00 192.0.2.1 myproc 8710 - [exampleSDID@32473 iut="3" eventSource="Application"] An application event log entry',
        ],
        description=__doc__.splitlines()[0],
        records=True,
        process=r"^<\d{1,3}>\d+ \S+ \S+ \S+ (?P<process>\S+) ",  # PROCID
        escaped=True,  # rsyslog's `RSYSLOG_SyslogProtocol23Format` files
    )
)
