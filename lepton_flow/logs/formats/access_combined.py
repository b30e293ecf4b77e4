"""Apache and Nginx access logs, common and combined: `host ident user [dd/Mmm/yyyy:HH:MM:SS +zzzz] "request" status bytes "referer" "agent"`."""

from __future__ import annotations

import re
from datetime import datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_LINE = re.compile(
    r'^(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<ts>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes>\d+|-)(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)")?'
)


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m:
        return None
    try:
        ts = datetime.strptime(m["ts"], "%d/%b/%Y:%H:%M:%S %z")
    except ValueError:
        return None
    status = int(m["status"])
    level = "error" if status >= 500 else "warning" if status >= 400 else "info"
    # The client is the host that matters in an access log; the message keeps request and status for mining.
    return event(ts, m["client"], "http", level, f'{m["request"]} {status} {m["bytes"]}')


FORMAT = register_log_format(
    LogFormat(
        "access-combined",
        parse,
        examples=[
            '1.2.3.4 - - [05/Mar/2007:14:39:21 +0100] "POST /123.html/trackback/ HTTP/1.0" 301 459 "http://www.mydomain.tld/123.html/trackback" "TrackBack/1.02"',
            '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
        ],
        description=__doc__.splitlines()[0],
    )
)
