"""Hadoop HDFS logs: `yymmdd HHMMSS pid LEVEL component: message` (as in loghub's HDFS sample); times are UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_LINE = re.compile(r"^(?P<date>\d{6}) (?P<time>\d{6}) (?P<pid>\d+) (?P<level>[A-Z]+) (?P<source>[\w.$\-]+): (?P<msg>.*)$")


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m:
        return None
    d, t = m["date"], m["time"]
    try:  # by hand: strptime was half of the parsing time
        ts = datetime(2000 + int(d[:2]), int(d[2:4]), int(d[4:6]), int(t[:2]), int(t[2:4]), int(t[4:6]), tzinfo=UTC)
    except ValueError:
        return None
    return event(ts, None, m["source"], m["level"].lower(), m["msg"])


FORMAT = register_log_format(
    LogFormat(
        "hdfs",
        parse,
        examples=["081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating"],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
