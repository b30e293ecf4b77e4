"""Samba's logs (`log.smbd`, `log.nmbd`, `log.winbindd`): a header `[2026/01/05 10:00:00.123456,  3] file.c:123(function)`, the message on the lines under it.

Samba's default `debug` format writes each message over two or more lines:
the header (time, debug level, where in the source) and the message
indented by two spaces, which the reader joins to its header (`debug pid`,
`debug uid` and `debug class` add `, pid=...` fields to the header, left
out). The debug level is the level: 0 error, 1 warning, 2 notice, 3 info,
above debug. The source file's name lands in `source`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_HEAD = re.compile(r"^\[(?P<ts>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:[.,]\d{1,6})?),\s+(?P<level>\d{1,2})(?:, [^\]]*)?\] (?P<file>[^\s:()]+?)(?::\d+)?\([\w ]+\)\s*$")
_LEVELS = {0: "error", 1: "warning", 2: "notice", 3: "info"}


def parse(line: str, year: int) -> dict | None:
    m = _HEAD.match(line)
    if not m:
        return None
    try:
        ts = datetime.strptime(m["ts"].replace(",", "."), "%Y/%m/%d %H:%M:%S.%f" if len(m["ts"]) > 19 else "%Y/%m/%d %H:%M:%S")
    except ValueError:
        return None
    return event(ts.replace(tzinfo=UTC), None, m["file"].rsplit("/", 1)[-1], _LEVELS.get(int(m["level"]), "debug"), "")


FORMAT = register_log_format(
    LogFormat(
        "samba",
        parse,
        examples=[
            "[2026/01/05 10:00:00.123456,  0] ../../source3/smbd/server.c:1741(main)",
            "[2026/01/05 10:00:01.223456,  1, pid=2345, effective(0, 0), real(0, 0), class=auth] ../../auth/auth_log.c:760(log_authentication_event_human_readable)",
            "[2026/01/05 10:00:02,  3] smbd/service.c:1100(make_connection_snum)",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
        local_time=True,  # times written without a zone
    )
)
