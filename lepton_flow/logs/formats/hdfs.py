"""Hadoop HDFS logs: `yymmdd HHMMSS pid LEVEL component: message` (as in loghub's HDFS sample); times are UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, keep_exact, register_log_format, take_lines, time_digits

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


def parse_many(lines, year: int):
    """All lines at once (see `LogFormat.parse_many`): the lines RE2 matches, split on their separators."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # RE2's \d and \w are ASCII, Python's are Unicode: RE2 takes a subset of the lines `parse` takes.
    index, taken = take_lines(lines, pc.match_substring_regex(lines, _LINE.pattern))
    # date, time, pid, LEVEL, "source:", message (no group but the message holds a space; a source holds no colon)
    parts = pc.split_pattern(taken, " ", max_splits=5)
    stamp = pc.binary_join_element_wise("20", pc.list_element(parts, 0), pc.list_element(parts, 1), "")
    ts = pc.strptime(stamp, format="%Y%m%d%H%M%S", unit="s", error_is_null=True)
    exact = pc.fill_null(pc.equal(pc.cast(stamp, pa.int64()), time_digits(ts)), False)
    table = pa.table({
        "timestamp": pc.assume_timezone(ts, "UTC"),
        "host": pa.nulls(len(taken), pa.string()),
        "source": pc.utf8_rtrim(pc.list_element(parts, 4), ":"),
        "level": pc.utf8_lower(pc.list_element(parts, 3)),
        "message": pc.list_element(parts, 5),
    })
    return keep_exact(index, table, exact)


FORMAT = register_log_format(
    LogFormat(
        "hdfs",
        parse,
        examples=["081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating"],
        description=__doc__.splitlines()[0],
        local_time=True,  # times written without a zone
        drain_similarity=0.5,
        parse_many=parse_many,
    )
)
