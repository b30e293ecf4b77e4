"""W3C extended log files: `#Fields:` directives, then `date time field field ...`, separated by spaces or tabs.

Microsoft IIS, Windows Firewall (`pfirewall.log`), Exchange and Amazon
CloudFront (tab-separated) write them. The `#Software:`, `#Version:`,
`#Date:`, `#Fields:`, `#Remark:` (and the like) directives are not events:
they are counted with the blank lines. The date and time are UTC (IIS and
CloudFront write UTC; Windows Firewall's `#Time Format: Local` is read as
UTC too); the rest of the line is the message, so a field's order is kept
as the file's `#Fields:` gives it. W3C logs carry no level. A file is taken
for one when its directives are in the sample read for detection; a
`date time text` file without them is `timestamp-prefixed`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_LINE = re.compile(r"^(?P<date>\d{4}-\d\d-\d\d)[ \t](?P<time>\d\d:\d\d:\d\d(?:\.\d{1,6})?)[ \t]+(?P<msg>\S.*)$")
DIRECTIVES = r"^#(?:Software|Version|Date|Fields|Remark|Start-Date|End-Date|Time Format|Log-Format|Process-ID)\b"


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m:
        return None
    try:
        ts = datetime.fromisoformat(f"{m['date']}T{m['time']}").replace(tzinfo=UTC)
    except ValueError:
        return None
    return event(ts, None, None, None, m["msg"].replace("\t", " "))


FORMAT = register_log_format(
    LogFormat(
        "w3c",
        parse,
        examples=[
            "2024-05-01 12:34:56 10.0.0.5 GET /index.html - 443 - 203.0.113.7 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) - 200 0 0 15",
            "2024-05-01\t12:34:57\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\t-\tMozilla/5.0",
            "2024-05-01 12:34:58 DROP TCP 10.0.0.9 10.0.0.5 51514 3389 52 S 1876543210 0 64240 - - - RECEIVE",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
        directives=DIRECTIVES,
        breadth=3,  # its data lines are any `date time text`: without its directives in sight, a file is another format's
    )
)
