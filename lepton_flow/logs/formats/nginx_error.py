"""Nginx error logs: `yyyy/mm/dd HH:MM:SS [level] pid#tid: *cid message`; times taken as UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_LINE = re.compile(r"^(?P<ts>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(?P<level>[a-z]+)\] (?P<pid>\d+)#\d+: (?:\*\d+ )?(?P<msg>.*)$")


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m:
        return None
    try:
        ts = datetime.strptime(m["ts"], "%Y/%m/%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return event(ts, None, "nginx", m["level"], m["msg"])


FORMAT = register_log_format(
    LogFormat(
        "nginx-error",
        parse,
        examples=['2012/04/09 11:53:29 [error] 2865#0: *66647 user "xyz" was not found in "/var/www/.htpasswd", client: 192.0.43.10, server: www.myhost.com'],
        description=__doc__.splitlines()[0],
        local_time=True,  # times written without a zone
    )
)
