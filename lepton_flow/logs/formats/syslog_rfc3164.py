"""BSD syslog (RFC 3164): `<PRI>Mmm dd hh:mm:ss host program[pid]: message`; the year comes from the caller."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import MONTHS, LogFormat, event, keep_exact, plain_lines, register_log_format, take_lines, time_digits
from lepton_flow.logs.logformat import JOURNALCTL_MARKS, SYSLOG_PROCESS

_LINE = re.compile(
    r"^(?:<(?P<pri>\d{1,3})>)?(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?P<host>\S+) (?P<source>[^\s:\[]+)(?:\[\d+\])?: ?(?P<msg>.*)$"
)
_MONTHS = {m: i for i, m in enumerate(MONTHS, start=1)}
_LEVELS = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m:
        return None
    text = m["ts"]
    month = _MONTHS.get(text[:3])
    try:  # by hand: strptime was half of the parsing time
        ts = datetime(year, month, int(text[4:6]), int(text[7:9]), int(text[10:12]), int(text[13:15]), tzinfo=UTC) if month else None
    except ValueError:
        return None
    if ts is None:
        return None
    level = _LEVELS[int(m["pri"]) % 8] if m["pri"] else None
    return event(ts, m["host"], m["source"], level, m["msg"])


def parse_many(lines, year: int):
    """All lines at once (see `LogFormat.parse_many`): the ASCII lines RE2 matches, cut into their fields.

    A matched line is `[<pri>]` + 15 characters of time + space + host (no
    space) + space + source (no colon, no `[`) + `[pid]`? + `:` + one optional
    space + message, so plain splits give the fields `parse` reads
    (one `extract_regex` of the whole expression was slower than `parse`
    line by line).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not 1000 <= year <= 9999:
        lines = lines.slice(0, 0)  # a year the digits below cannot spell: every line goes to `parse`
    index, taken = take_lines(lines, plain_lines(lines, _LINE.pattern))
    pri = pc.cast(pc.struct_field(pc.extract_regex(taken, r"^<(?P<pri>\d{1,3})>"), "pri"), pa.int64())  # null: no priority
    body = pc.replace_substring_regex(taken, r"^<\d{1,3}>", "")  # "Mmm dd hh:mm:ss host source[pid]: message"
    text = pc.utf8_slice_codeunits(body, 0, 15)  # the day maybe space-padded
    month = pc.add(pc.index_in(pc.utf8_slice_codeunits(text, 0, 3), value_set=pa.array(MONTHS)), 1)
    day = pc.cast(pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(text, 4, 6)), pa.int64())
    hms = pc.cast(pc.replace_substring(pc.utf8_slice_codeunits(text, 7, 15), ":", ""), pa.int64())
    digits = pc.add(pc.add(pc.multiply(pc.add(pc.multiply(month, 100), day), 1_000_000), hms), year * 10**10)
    ts = pc.strptime(pc.cast(digits, pa.string()), format="%Y%m%d%H%M%S", unit="s", error_is_null=True)
    exact = pc.fill_null(pc.equal(digits, time_digits(ts)), False)
    host_rest = pc.split_pattern(pc.utf8_slice_codeunits(body, 16), " ", max_splits=1)
    source_rest = pc.split_pattern(pc.list_element(host_rest, 1), ":", max_splits=1)
    level = pc.take(pa.array(_LEVELS), pc.subtract(pri, pc.multiply(pc.divide(pri, 8), 8)))
    table = pa.table({
        "timestamp": pc.assume_timezone(ts, "UTC"),
        "host": pc.list_element(host_rest, 0),
        "source": pc.list_element(pc.split_pattern(pc.list_element(source_rest, 0), "[", max_splits=1), 0),
        "level": level,
        "message": pc.replace_substring_regex(pc.list_element(source_rest, 1), "^ ", ""),
    })
    return keep_exact(index, table, exact)


FORMAT = register_log_format(
    LogFormat(
        "syslog-rfc3164",
        parse,
        examples=[
            "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
            "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
        ],
        description=__doc__.splitlines()[0],
        local_time=True,  # times written without a zone
        # sshd and its kind log many near-identical messages that differ in
        # one word; measured on loghub's OpenSSH sample: 0.79 at 0.4, 0.99 at 0.7.
        drain_similarity=0.7,
        parse_many=parse_many,
        yearless=True,
        directives=JOURNALCTL_MARKS,  # `journalctl`'s default output is this layout
        records=True,  # a program's trace arrives a line a record
        process=SYSLOG_PROCESS,
        escaped=True,  # rsyslog's `#011`, `#012`
    )
)
