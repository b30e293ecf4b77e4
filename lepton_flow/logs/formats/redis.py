"""Redis server logs: `pid:role dd Mon yyyy HH:MM:SS.mmm <level> message`, the level one of `. - * #`.

`1:M 24 Jun 2025 14:36:25.123 * Ready to accept connections tcp`: the
role is C (a child: an RDB or AOF rewrite), S (a replica), M (a primary)
or X (sentinel); `.` is debug, `-` verbose, `*` notice, `#` warning.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_LINE = re.compile(r"^(?P<pid>\d+):(?P<role>[CSMX]) (?P<ts>\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3}) (?P<level>[.\-*#]) (?P<msg>.*)$")
LEVELS = {".": "debug", "-": "debug", "*": "notice", "#": "warning"}
ROLES = {"C": "child", "S": "replica", "M": "primary", "X": "sentinel"}


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m or not m["msg"]:
        return None
    try:
        ts = datetime.strptime(m["ts"], "%d %b %Y %H:%M:%S.%f").replace(tzinfo=UTC)
    except ValueError:
        return None
    return event(ts, None, f"redis-{ROLES[m['role']]}", LEVELS[m["level"]], m["msg"])


FORMAT = register_log_format(
    LogFormat(
        "redis",
        parse,
        examples=[
            "1:C 24 Jun 2025 14:36:25.001 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
            "1:M 24 Jun 2025 14:36:25.123 * Ready to accept connections tcp",
            "68:S 24 Jun 2025 14:37:01.500 - Accepted 10.0.0.7:51234",
        ],
        description=__doc__.splitlines()[0],
        local_time=True,  # times written without a zone
    )
)
