"""Blue Gene/L RAS logs: `label epoch yyyy.mm.dd node yyyy-mm-dd-HH.MM.SS.ffffff node type component LEVEL message` (loghub's BGL sample)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, keep_exact, plain_lines, register_log_format, take_lines, time_digits

_LINE = re.compile(
    r"^(?P<label>\S+) (?P<epoch>\d{9,11}) \d{4}\.\d\d\.\d\d (?P<node>\S+) (?P<ts>\d{4}-\d\d-\d\d-\d\d\.\d\d\.\d\d\.\d{6}) \S+ (?P<type>[A-Z]+) (?P<source>[A-Z_]+) (?P<level>[A-Z]+) ?(?P<msg>.*)$"
)


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m:
        return None
    t = m["ts"]
    try:  # by hand: strptime was half of the parsing time
        ts = datetime(int(t[:4]), int(t[5:7]), int(t[8:10]), int(t[11:13]), int(t[14:16]), int(t[17:19]), int(t[20:26]), tzinfo=UTC)
    except ValueError:
        return None
    return event(ts, m["node"], m["source"].lower(), m["level"].lower(), m["msg"])


_REST = r"^(?P<level>[A-Z]+) ?(?P<msg>.*)$"


def parse_many(lines, year: int):
    """All lines at once (see `LogFormat.parse_many`): ASCII lines RE2 matches, split on their single spaces."""
    import pyarrow as pa
    import pyarrow.compute as pc

    index, taken = take_lines(lines, plain_lines(lines, _LINE.pattern))
    # label, epoch, date, node, time, node, type, source, "LEVEL message" (no field but the last holds a space)
    parts = pc.split_pattern(taken, " ", max_splits=8)
    stamp = pc.list_element(parts, 4)  # yyyy-mm-dd-HH.MM.SS.ffffff
    whole = pc.utf8_slice_codeunits(stamp, 0, 19)
    ts = pc.strptime(whole, format="%Y-%m-%d-%H.%M.%S", unit="s", error_is_null=True)
    digits = pc.cast(pc.replace_substring_regex(whole, r"[-.]", ""), pa.int64())
    exact = pc.fill_null(pc.equal(digits, time_digits(ts)), False)
    micros = pc.cast(pc.utf8_slice_codeunits(stamp, 20, 26), pa.int64())
    ts = pc.add(pc.cast(ts, pa.timestamp("us")), pc.cast(micros, pa.duration("us")))
    rest = pc.extract_regex(pc.list_element(parts, 8), _REST)
    table = pa.table({
        "timestamp": pc.assume_timezone(ts, "UTC"),
        "host": pc.list_element(parts, 3),
        "source": pc.utf8_lower(pc.list_element(parts, 7)),
        "level": pc.utf8_lower(rest.field("level")),
        "message": rest.field("msg"),
    })
    return keep_exact(index, table, exact)


def alert_label(line: str) -> str | None:
    """The line's alert category (`-` for none): the ground truth loghub's BGL sample carries in its first column."""
    m = _LINE.match(line.rstrip("\r\n"))
    return m["label"] if m else None


FORMAT = register_log_format(
    LogFormat(
        "bgl",
        parse,
        examples=[
            "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected",
            "KERNDTLB 1118536327 2005.06.11 R30-M0-N9-C:J16-U01 2005-06-11-17.32.07.581048 R30-M0-N9-C:J16-U01 RAS KERNEL FATAL data TLB error interrupt",
        ],
        description=__doc__.splitlines()[0],
        local_time=True,  # times written without a zone
        drain_similarity=0.5,
        parse_many=parse_many,
    )
)
