"""Apache HTTP Server error logs: `[Www Mmm dd HH:MM:SS yyyy] [level] message` (2.2 style, as in loghub's Apache sample); times taken as UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_LINE = re.compile(r"^\[(?P<ts>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? \d{4})\] \[(?:(?P<module>[\w]+):)?(?P<level>[a-z]+\d?)\] (?:\[(?:pid|client) [^\]]*\] )*(?P<msg>.*)$")


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m:
        return None
    text = re.sub(r"\.\d+ ", " ", m["ts"])
    try:
        ts = datetime.strptime(text, "%a %b %d %H:%M:%S %Y").replace(tzinfo=UTC)
    except ValueError:
        return None
    return event(ts, None, m["module"] or "httpd", m["level"], m["msg"])


FORMAT = register_log_format(
    LogFormat(
        "apache-error",
        parse,
        examples=[
            "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
            "[Wed Oct 11 14:32:52.123456 2023] [core:error] [pid 1234] [client 10.0.0.1:5555] AH00037: Symbolic link not allowed",
        ],
        description=__doc__.splitlines()[0],
        local_time=True,  # times written without a zone
        drain_similarity=0.5,
    )
)
