"""Python's `http.server` request lines (Flask's and Werkzeug's development server, Django's `runserver`): `127.0.0.1 - - [05/Jan/2026 10:00:00] "GET / HTTP/1.1" 200 -`.

`BaseHTTPRequestHandler.log_message` writes the client, two dashes and the
local time as `log_date_time_string` spells it (`dd/Mon/yyyy hh:mm:ss`, no
zone); Django's `runserver` leaves out the client. The status gives the
level (5xx error, 4xx warning), as an access log's does.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, http_level, register_log_format

_LINE = re.compile(r'^(?:(?P<client>\S+) - - )?\[(?P<ts>\d\d/[A-Z][a-z]{2}/\d{4} \d\d:\d\d:\d\d)\] "(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes>\d+|-)$')


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m:
        return None
    try:
        ts = datetime.strptime(m["ts"], "%d/%b/%Y %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    status = int(m["status"])
    return event(ts, m["client"], "http", http_level(status), f'{m["request"]} {status} {m["bytes"]}')


FORMAT = register_log_format(
    LogFormat(
        "python-http",
        parse,
        examples=[
            '127.0.0.1 - - [05/Jan/2026 10:00:00] "GET / HTTP/1.1" 200 -',
            '10.0.0.7 - - [05/Jan/2026 10:00:01] "POST /api/predict HTTP/1.1" 500 -',
            '[05/Jan/2026 10:00:02] "GET /admin/ HTTP/1.1" 302 0',
        ],
        description=__doc__.splitlines()[0],
        local_time=True,  # times written without a zone
    )
)
