"""BIND 9's `named` log: `05-Jan-2026 10:00:00.123 general: info: zone example.com/IN: loaded serial 2026010501`.

A `logging` channel with `print-time yes` writes `dd-Mon-yyyy
hh:mm:ss.mmm` (local time, no zone), with `print-time iso8601` ISO 8601 (and
`iso8601-utc` its `Z`); `print-category` adds the category (lands in
`source`), `print-severity` the level (`debug 3` is debug). A line of the
default channels, time alone before the message, reads too.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

_TIMES = (r"<Date:\d\d-[A-Z][a-z]{2}-\d{4}> <Time:\d\d:\d\d:\d\d\.\d{3}>", r"<Timestamp:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z?>")
_CATEGORY = r"<Category:[a-z][a-z0-9_-]*>"
_LEVEL = r"<Level:critical|error|warning|notice|info|debug|dynamic>(?: \d+)?"

FORMAT = register_log_format(
    layout_format(
        "bind",
        [
            *(f"{t} {_CATEGORY}: {_LEVEL}: <Content>" for t in _TIMES),
            *(f"{t} {_LEVEL}: <Content>" for t in _TIMES),
            r"<Date:\d\d-[A-Z][a-z]{2}-\d{4}> <Time:\d\d:\d\d:\d\d\.\d{3}> <Content>",
        ],
        examples=[
            "05-Jan-2026 10:00:00.123 general: info: zone example.com/IN: loaded serial 2026010501",
            "05-Jan-2026 10:00:01.223 lame-servers: info: REFUSED unexpected RCODE resolving 'x.example/A/IN': 192.0.2.4#53",
            "05-Jan-2026 10:00:02.323 security: error: client @0x7f1c 10.0.0.5#53124 (example.com): query (cache) 'example.com/A/IN' denied",
            "2026-01-05T10:00:03.000Z queries: info: client @0x7f2d 10.0.0.6#40000 (www.example.com): query: www.example.com IN A +E(0)K (10.0.0.1)",
            "05-Jan-2026 10:00:04.500 starting BIND 9.18.24-1-Debian (Extended Support Version) <id:>",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
