"""Apache and Nginx access logs, common and combined: `host ident user [dd/Mmm/yyyy:HH:MM:SS +zzzz] "request" status bytes "referer" "agent"`.

Apache's `vhost_combined` (Debian's `other_vhosts_access.log`) writes the
site served first (`www.example.com:443 1.2.3.4 - - [...] ...`): it lands
in `source`, which is `http` for the others.
"""

from __future__ import annotations

import re
from datetime import datetime

from lepton_flow.logs.formats import (
    MONTHS,
    LogFormat,
    event,
    http_level,
    keep_exact,
    plain_lines,
    register_log_format,
    take_lines,
    time_digits,
)

_LINE = re.compile(
    r'^(?:(?P<vhost>\S+) )?(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<ts>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes>\d+|-)(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)")?'
)


def clf_match(pattern: re.Pattern, line: str) -> tuple[re.Match, datetime] | None:
    """`pattern`'s match of `line` and the time of its `ts` group (`dd/Mmm/yyyy:HH:MM:SS +zzzz`), None where either fails."""
    m = pattern.match(line.rstrip("\r\n"))
    if not m:
        return None
    try:
        return m, datetime.strptime(m["ts"], "%d/%b/%Y:%H:%M:%S %z")
    except ValueError:
        return None


def parse(line: str, year: int) -> dict | None:
    if (got := clf_match(_LINE, line)) is None:
        return None
    m, ts = got
    status = int(m["status"])
    level = http_level(status)
    # The client is the host that matters in an access log, the site served (where written) its source; the message
    # keeps request and status for mining.
    return event(ts, m["client"], m["vhost"] or "http", level, f'{m["request"]} {status} {m["bytes"]}')


def clf_times(text):
    """(UTC times, Arrow booleans: the time read is the one written) of an Arrow array of `dd/Mmm/yyyy:HH:MM:SS +zzzz`.

    `strptime` with `%z` line by line is most of a parser's time: here the
    local time is checked digit by digit and the offset taken off by
    arithmetic. Offsets `datetime` refuses (24 hours or more) and years near
    its ends read as not exact, for `parse` to judge.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    month = pc.add(pc.index_in(pc.utf8_slice_codeunits(text, 3, 6), value_set=pa.array(MONTHS)), 1)
    number = lambda a, b: pc.cast(pc.utf8_slice_codeunits(text, a, b), pa.int64())  # noqa: E731
    year_ = number(7, 11)
    digits = pc.add(pc.multiply(pc.add(pc.multiply(pc.add(pc.multiply(year_, 100), month), 100), number(0, 2)), 1_000_000),
                    pc.add(pc.add(pc.multiply(number(12, 14), 10_000), pc.multiply(number(15, 17), 100)), number(18, 20)))
    local = pc.strptime(pc.cast(digits, pa.string()), format="%Y%m%d%H%M%S", unit="s", error_is_null=True)
    off_h, off_m = number(22, 24), number(24, 26)
    exact = pc.and_(pc.equal(digits, time_digits(local)), pc.and_(pc.and_(pc.less(off_h, 24), pc.less(off_m, 60)), pc.and_(pc.greater_equal(year_, 1000), pc.less_equal(year_, 9998))))
    sign = pc.if_else(pc.equal(pc.utf8_slice_codeunits(text, 21, 22), "-"), -1, 1)
    offset = pc.multiply(sign, pc.add(pc.multiply(off_h, 3600), pc.multiply(off_m, 60)))
    utc = pc.subtract(pc.cast(local, pa.int64()), offset).cast(pa.timestamp("s", tz="UTC"))
    return utc, pc.fill_null(exact, False)


def status_level(status):
    """An Arrow array of HTTP status codes' levels, as `http_level` gives them (`-`, no response: warning)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    code = pc.cast(pc.if_else(pc.equal(status, "-"), "400", status), pa.int64())
    return pc.if_else(pc.greater_equal(code, 500), "error", pc.if_else(pc.greater_equal(code, 400), "warning", "info"))


def clf_match_many(pattern: re.Pattern, lines):
    """`clf_match` of an Arrow string array: (indices of the ASCII lines RE2 matches, their groups as a struct array,
    UTC times, whether each time read is the one written)."""
    import pyarrow.compute as pc

    index, taken = take_lines(lines, plain_lines(lines))
    m = pc.extract_regex(taken, pattern.pattern)  # null where the line does not match
    matched = pc.is_valid(m)
    index, m = index[matched.to_numpy(zero_copy_only=False)], m.filter(matched)
    return index, m, *clf_times(pc.struct_field(m, "ts"))


def parse_many(lines, year: int):
    """All lines at once (see `LogFormat.parse_many`): the ASCII lines RE2 matches, fields from the same expression."""
    import pyarrow as pa
    import pyarrow.compute as pc

    index, m, utc, exact = clf_match_many(_LINE, lines)
    status = pc.struct_field(m, "status")
    vhost = pc.struct_field(m, "vhost")  # empty where the line names none
    table = pa.table({
        "timestamp": utc,
        "host": pc.struct_field(m, "client"),
        "source": pc.if_else(pc.equal(vhost, ""), "http", vhost),
        "level": status_level(status),
        "message": pc.binary_join_element_wise(pc.struct_field(m, "request"), status, pc.struct_field(m, "bytes"), " "),
    })
    return keep_exact(index, table, exact)


FORMAT = register_log_format(
    LogFormat(
        "access-combined",
        parse,
        examples=[
            '1.2.3.4 - - [05/Mar/2007:14:39:21 +0100] "POST /123.html/trackback/ HTTP/1.0" 301 459 "http://www.mydomain.tld/123.html/trackback" "TrackBack/1.02"',
            '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
        ],
        description=__doc__.splitlines()[0],
        parse_many=parse_many,
    )
)
