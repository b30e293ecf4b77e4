"""Any line that starts with a time in a well-known form, then the message: the catch-all for layouts no module knows.

Times it knows at the start of a line, bracketed or not: epoch seconds
(squid, portsentry), C's `ctime` (`Wed Apr 14 08:11:01 2021`),
`[17/Jun/2011 17:00:45]` and `[17/Jun/2011:17:00:45 +0200]`, ISO dates
followed by `|` or `]` (`2019-10-21 18:55:15|...`, `[2014-01-06
10:59:38]LOGIN`), `Oct 27 2015 09:24:46`. The time must be followed by white
space, `|` or a closing bracket: a CSV line (`2024-01-01 00:00:00,s1,...`) is
not a log line. Only the time and the message are read, so a narrower format
that reads the same lines wins detection.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

AFTER = r"(?:\]\s?|\s*\|\s*|\s+(?:-\s)?)"  # no literal spaces: a layout reads a space as one or more
TIMES = [
    r"\d{10}(?:\.\d{1,6})?",
    r"[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,6})? \d{4}",
    r"\d\d/[A-Z][a-z]{2}/\d{4}[: ]\d\d:\d\d:\d\d(?: [+-]\d{4})?",
    r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?",
    r"[A-Z][a-z]{2} +\d{1,2} \d{4} \d\d:\d\d:\d\d",
]

FORMAT = register_log_format(
    layout_format(
        "leading-time",
        [rf"\[?<Timestamp:{t}>{AFTER}<Content>" for t in TIMES],
        examples=[
            "1386543323.000      4 91.188.124.227 TCP_DENIED/403 4099 GET http://www.proxy-listen.de/azenv.php - HIER_NONE/- text/html",
            "1403884279 - 06/27/2014 17:51:19 Host: 192.168.56.1/192.168.56.1 Port: 1 TCP Blocked",
            'Wed Apr 14 08:11:01 2021 - OK - [127.0.0.1] "GET /monitorix-cgi/monitorix.cgi HTTP/1.1"',
            "[17/Jun/2011 17:00:45] Attempt to deliver to unknown recipient <advertise@aplawrence.com>, IP address 200.90.149.178",
            "2019-10-21 18:55:15|-1|0|0|[WEB] [50.97.225.132] Authentication failed for 'admin' : password mismatch",
            '[2014-01-06 10:59:38]LOGIN FAILED for user: "asdsad" from IP: 127.0.0.1',
            "Oct 27 2015 09:24:46 test1.beezwax.net screensharingd[1170]: Authentication: FAILED :: User Name: sdfsdf",
        ],
        description=__doc__.splitlines()[0],
        breadth=3,
    )
)
