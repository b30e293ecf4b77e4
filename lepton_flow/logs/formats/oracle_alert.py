"""Oracle Database's alert log (`alert_<SID>.log`): a line holding the time alone, then what happened on the lines below it.

Oracle 12.2 and later write the time as ISO 8601 with microseconds and the
offset (`2024-12-05T10:00:00.123456+00:00`), earlier releases as
`Thu Dec 05 10:00:00 2024` (local time). Every line up to the next time
line is the event's: its first is the message (`ORA-00600: internal error
code, ...`, `Starting ORACLE instance (normal)`), a leading `WARNING:` its
level.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d\s*$")
_OLD = re.compile(r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\s*$")


def parse(line: str, year: int) -> dict | None:
    text = line.strip()
    try:
        if _ISO.match(line):
            return event(datetime.fromisoformat(text).astimezone(UTC), None, None, None, "")
        if _OLD.match(line):
            return event(datetime.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y").replace(tzinfo=UTC), None, None, None, "")
    except ValueError:
        return None
    return None


def local_time(line: str) -> bool:
    return _OLD.match(line) is not None


FORMAT = register_log_format(
    LogFormat(
        "oracle-alert",
        parse,
        examples=["2024-12-05T10:00:00.123456+00:00", "2019-03-01T22:15:09.008923-05:00", "Thu Dec 05 10:00:00 2024", "Mon Mar  4 09:05:07 2019"],
        description=__doc__.splitlines()[0],
        local_time=local_time,
        continues=r"(?!\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d\s*$|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\s*$)\S",
    )
)
