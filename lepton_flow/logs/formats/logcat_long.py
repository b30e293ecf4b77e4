"""Android logcat's `-v long`: a header `[ MM-dd HH:mm:ss.SSS  pid: tid L/tag ]`, the message on the lines below, a blank line.

As `logcat -v long` writes it (system/logging/liblog/logprint.cpp): the
header holds the time (`-v year` puts the year first), the process and
thread ids (old releases write the thread id in hex), the level letter and
the tag; each of the message's lines follows on its own, and a blank line
ends the entry. The tag lands in `source`; lines without a year take the
file's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format
from lepton_flow.logs.layout import LEVELS

_HEADER = re.compile(r"^\[ (?:(\d{4})-)?(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) +\d+: *(?:\d+|0x[0-9a-f]+) ([VDIWEFAS])/(.*?) *\]\s*$")


def parse(line: str, year: int) -> dict | None:
    m = _HEADER.match(line)
    if m is None:
        return None
    try:
        ts = datetime(int(m[1] or year), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), int(m[7]) * 1000, tzinfo=UTC)
    except ValueError:
        return None
    return event(ts, None, m[9] or None, LEVELS[m[8].lower()], "")


FORMAT = register_log_format(
    LogFormat(
        "logcat-long",
        parse,
        examples=[
            "[ 03-17 16:13:38.811  1702: 2395 D/WindowManager ]",
            "[ 2024-01-02 03:04:05.678   123:  456 W/ActivityManager ]",
            "[ 01-02 03:04:05.678  1234:0x4d2 E/AndroidRuntime ]",
        ],
        description=__doc__.splitlines()[0],
        yearless=True,  # `parse` takes the caller's year where the header has none; the reader corrects December in January
        local_time=True,
        continues=r"(?!\[ (?:\d{4}-)?\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +\d+: *(?:\d+|0x[0-9a-f]+) [VDIWEFAS]/.*\]\s*$)\S",
    )
)
