"""java.util.logging's `SimpleFormatter` (Jenkins' and Tomcat's older logs, any Java program's default): `Apr 15, 2013 8:34:08 PM class method`, then `WARNING: message`.

The JDK's default format (`%1$tb %1$td, %1$tY %1$tl:%1$tM:%1$tS %1$Tp
%2$s%n%4$s: %5$s%6$s%n`): a dated header with a 12-hour clock and the
caller (class, then method) as the source, and the level and message on the
next line; an exception's stack trace follows and joins the event. The
month's name is the JVM's locale's (English, any case: `apr` too); times
are local and read as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_HEAD = re.compile(r"^(?P<date>[A-Za-z]{3} \d{1,2}, \d{4} \d{1,2}:\d\d:\d\d [AaPp][Mm]) (?P<source>[\w$.<>\[\]/-]+)(?: (?P<method>\S+))?$")


def parse(line: str, year: int) -> dict | None:
    m = _HEAD.match(line.rstrip("\r\n"))
    if not m:
        return None
    try:
        ts = datetime.strptime(m["date"].upper(), "%b %d, %Y %I:%M:%S %p").replace(tzinfo=UTC)
    except ValueError:
        return None
    return event(ts, None, m["source"], None, "")


FORMAT = register_log_format(
    LogFormat(
        "java-util-logging",
        parse,
        examples=[
            "Dec 04, 2026 10:00:00 AM hudson.WebAppMain$3 run",  # its level and message are on the next line
            "apr 15, 2013 8:34:08 PM org.slf4j.impl.JCLLoggerAdapter warn",
            "Dec 04, 2026 1:15:00 PM org.apache.catalina.startup.Catalina start",
        ],
        description=__doc__.splitlines()[0],
        local_time=True,  # times written without a zone
        continues=r"[^\s:]+: ",
    )
)
