"""W3C extended log files: `#Fields:` directives, then `date time field field ...`, separated by spaces or tabs.

Microsoft IIS, Windows Firewall (`pfirewall.log`), Exchange and Amazon
CloudFront (tab-separated) write them. The `#Software:`, `#Version:`,
`#Date:`, `#Fields:`, `#Remark:` (and the like) directives are not events:
they are counted with the blank lines. The date and time are UTC (IIS and
CloudFront write UTC; Windows Firewall's `#Time Format: Local` is read as
UTC too). The file's `#Fields:` line names the fields (the last one met, or
the first in the file's head for a read from an offset): the client
(`c-ip`) lands in `host`, the site or edge (`s-sitename`,
`x-edge-location`) in `source`, the level follows `sc-status` as an access
log's does, and a request's message is method, path and status, as
`access-combined` gives it. A line without a request (Windows Firewall's),
or one the fields do not fit, keeps the rest of the line as its message.
A file is taken for W3C when its directives are in the sample read for
detection; a `date time text` file without them is `timestamp-prefixed`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, file_head, http_level, register_log_format, with_header

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


class _Fields:
    """One file's `#Fields:`, and its lines read by them."""

    def __init__(self, url: str):
        self.names: list[str] | None = None
        for text in file_head(url).splitlines():
            if text.startswith("#Fields:"):
                self.directive(text)
                break

    def directive(self, text: str) -> None:
        if text.startswith("#Fields:"):
            self.names = text[len("#Fields:"):].split()

    def parse(self, line: str, year: int) -> dict | None:
        got = parse(line, year)
        if got is None or not self.names:
            return got
        text = line.rstrip("\r\n")
        values = text.split("\t") if "\t" in text else text.split(" ")
        if len(values) != len(self.names):
            return got
        field = {n: (None if v in ("-", "") else v) for n, v in zip(self.names, values)}
        status, method, path = field.get("sc-status"), field.get("cs-method"), field.get("cs-uri-stem")
        level = http_level(int(status)) if status and status.isdigit() else None
        message = f"{method} {path} {status}" if method and path and status else got["message"]
        return event(got["timestamp"], field.get("c-ip"), field.get("s-sitename") or field.get("x-edge-location"), level, message)


FORMAT = register_log_format(
    with_header(LogFormat(
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
    ), _Fields)
)
