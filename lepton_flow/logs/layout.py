"""Log formats written as layouts, without code: loghub's template notation plus an optional timestamp pattern.

A layout is the notation of the log-parsing literature and loghub:
`<Date> <Time> <Pid> <Level> <Component>: <Content>`. Each `<Field>` takes
text; the text between fields is a regular expression, as in loghub (`\\[`
for a bracket, `(\\[<Pid>\\])?` for an optional part), in which a run of
spaces matches any run of white space. A layout whose text does not read as
one (`[<Time>] <Content>`) is read literally. `<Field:regex>` gives a field
its own pattern.

What the fields become:
- time: `Date`, `Time`, `Timestamp`, `Datetime`, `Month`, `Day`, `Year`
  (joined in order, then read by the timestamp pattern; without one, the
  first known pattern whose shape fits wins, and fields that do not fit are
  left out, so loghub's Thunderbird layout, with an epoch and two dates,
  still reads);
- host: `Host`, `Hostname`, `Node`, `Machine`, `Server`;
- source: `Component`, `Program`, `Source`, `Logger`, `Process`, `Service`,
  `Application`, `App`, `Class`, `Tag`;
- level: `Level`, `Severity`, `Priority`, `Loglevel`; logcat and klog's
  letters (`D`, `W`, ...) and Java's names are read as the common names;
- message: `Content`, `Message`, `Msg` (the last field, usually).
Any other field (`Pid`, `Thread`, `Request`, ...) is matched and left out of
the event: it never lands in the message.

The timestamp pattern is strftime's (`%Y-%m-%d %H:%M:%S,%f`), Java's
(`yyyy-MM-dd HH:mm:ss,SSS`), or `epoch`, `epoch_ms`. A pattern without a
year takes the caller's (as BSD syslog does); one with a time of day alone
(`HH:mm:ss.SSS`) is dated on the days the file's lines end on when it was
last written (`LogFormat.dayless`); without any time field the event is
dated when the file was last written (`LogFormat.timeless`).

Both of a layout's parsers give each line the same event: the way a
timestamp is read is chosen from the shape of its text alone (digits,
letters, separators), never from its values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lepton_flow.logs.logformat import LogFormat, event, plain_lines, take_lines

TIME_FIELDS = {"date", "time", "timestamp", "datetime", "month", "day", "year"}
ROLES = {
    "host": {"host", "hostname", "node", "machine", "server"},
    "source": {"component", "program", "source", "logger", "process", "service", "application", "app", "class", "tag", "category"},
    "level": {"level", "severity", "priority", "loglevel"},
    "message": {"content", "message", "msg"},
}
LEVELS = {
    "v": "debug", "d": "debug", "i": "info", "w": "warning", "e": "error", "f": "crit", "a": "crit", "c": "crit", "s": "debug",
    "trace": "debug", "finest": "debug", "finer": "debug", "fine": "debug", "config": "info", "information": "info",
    "warn": "warning", "err": "error", "severe": "error", "failure": "error", "fatal": "crit", "critical": "crit", "verbose": "debug",
    "inf": "info", "wrn": "warning", "eror": "error", "dbg": "debug", "vrb": "debug", "ftl": "crit",  # Serilog's, hclog's
    "trce": "debug", "dbug": "debug", "fail": "error",  # .NET's console logger
    "note": "info", "system": "notice",  # MySQL's error log
    "security": "notice", "fault": "crit",  # macOS's unified log
    "informational": "info",  # Falco's  # asterisk's channel for security events
    "emergency": "emerg", "fatal error": "crit", "parse error": "error", "recoverable fatal error": "error", "deprecated": "notice", "strict standards": "notice",  # PHP's
}
"""Level words and letters as written, lower case, to the common names (others are kept, lower case)."""

# strftime patterns the reader knows, most specific first; ones without %Y/%y take the caller's year. Six digits of a
# date are `%y%m%d` (Tornado's, MySQL 5's), never `%Y%m%d` with a one-digit month and day (strftime pads them).
KNOWN_TIMES = (
    "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S,%f", "%Y-%m-%d %H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d-%H.%M.%S.%f", "%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S", "%Y.%m.%d %H:%M:%S", "%Y%m%d-%H:%M:%S:%f",
    "%Y%m%d %H:%M:%S.%f", "%y%m%d %H:%M:%S", "%Y%m%d %H:%M:%S", "%y/%m/%d %H:%M:%S", "%y%m%d %H%M%S",
    "%d/%b/%Y:%H:%M:%S.%f %z", "%d/%b/%Y:%H:%M:%S %z", "%d/%b/%Y:%H:%M:%S.%f", "%d/%b/%Y:%H:%M:%S", "%d/%b/%Y %H:%M:%S %z", "%d/%b/%Y %H:%M:%S",
    "%d-%b-%Y %H:%M:%S.%f", "%d-%b-%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%a %b %d %H:%M:%S.%f %Y", "%a %b %d %H:%M:%S %Y",
    "%b %d %Y %H:%M:%S", "%b %d %H:%M:%S.%f", "%b %d %H:%M:%S", "%m-%d %H:%M:%S.%f", "%m-%d %H:%M:%S", "%m/%d %H:%M:%S.%f",
    "%m/%d %H:%M:%S", "%m.%d %H:%M:%S", "%m%d %H:%M:%S.%f", "%m%d %H:%M:%S",
    "epoch", "epoch_ms", "epoch_us", "epoch_ns",
)
_SHAPES = {
    "%Y": r"\d{4}", "%y": r"\d{2}", "%m": r"\d{1,2}", "%d": r"\d{1,2}", "%H": r"\d{1,2}", "%M": r"\d{1,2}", "%S": r"\d{1,2}",
    "%f": r"\d{1,9}", "%b": "[A-Za-z]{3}", "%a": "[A-Za-z]{3}", "%z": r"(?:Z|[+-]\d\d:?\d\d)", "%%": "%",
}
_EPOCHS = {"epoch": (r"\d{9,10}(?:\.\d{1,9})?", 1), "epoch_ms": (r"\d{12,13}", 10**3), "epoch_us": (r"\d{15,16}", 10**6), "epoch_ns": (r"\d{18,19}", 10**9)}
_JAVA = [("yyyy", "%Y"), ("yy", "%y"), ("MMM", "%b"), ("MM", "%m"), ("dd", "%d"), ("EEE", "%a"), ("HH", "%H"), ("mm", "%M"),
         ("ss", "%S"), ("SSSSSSSSS", "%f"), ("SSSSSS", "%f"), ("SSS", "%f"), ("XXX", "%z"), ("Z", "%z"), ("d", "%d"), ("M", "%m"), ("H", "%H")]
_FIELD = re.compile(r"<(\w+)(?::([^<>]*))?>")
_FIELD_OPENING = re.compile(r"<\w+:")  # a field with its own pattern, left unread: its pattern held < or >
_FIELD_PATTERNS = {"pid": r"\d+", "tid": r"\d+", "id": r"\d+", "logid": r"\d+", "level": r"[A-Za-z]+"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LONG_FRACTION = re.compile(r"([.,]\d{6})\d+")
_GAP = {False: r" +\+?", True: " +"}
# Spaces between a layout's fields read as `\s+`; written as a regular expression (` +`), the same (not `\s++`).


class LayoutError(ValueError):
    """A layout or timestamp pattern that cannot work (the message says which part)."""


def strftime_pattern(pattern: str) -> str:
    """A timestamp pattern in strftime's notation: Java's `yyyy-MM-dd HH:mm:ss,SSS` translated, strftime's and `epoch*` kept."""
    if "%" in pattern or pattern in _EPOCHS:
        return pattern
    out, i = [], 0
    while i < len(pattern):
        for java, strf in _JAVA:
            if pattern.startswith(java, i):
                out.append(strf)
                i += len(java)
                break
        else:
            if pattern[i] == "'":  # Java's quoted literal: 'T'
                end = pattern.find("'", i + 1)
                out.append(pattern[i + 1 : end if end > 0 else None])
                i = end + 1 if end > 0 else len(pattern)
            else:
                out.append(pattern[i])
                i += 1
    return "".join(out)


def _shape(pattern: str) -> str:
    if pattern in _EPOCHS:
        return _EPOCHS[pattern][0]
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "%":
            code = pattern[i : i + 2]
            if code not in _SHAPES:
                raise LayoutError(f"timestamp pattern {pattern!r}: {code!r} is not one the reader knows ({', '.join(sorted(_SHAPES))})")
            out.append(_SHAPES[code])
            i += 2
        else:
            out.append(r"\s+" if pattern[i] == " " else re.escape(pattern[i]))
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class _Time:
    pattern: str
    shape: re.Pattern
    yearless: bool
    zoned: bool  # an epoch, or a pattern with its offset (`%z`): the time is one instant whatever the writer's zone
    dayless: bool = False  # a time of day alone (`%H:%M:%S`): read on the year's first day, dated by the reader

    @classmethod
    def of(cls, pattern: str) -> _Time:
        yearless = pattern not in _EPOCHS and "%Y" not in pattern and "%y" not in pattern
        dayless = yearless and not any(code in pattern for code in ("%d", "%j", "%b", "%m"))
        return cls(pattern, re.compile(_shape(pattern), re.ASCII), yearless, pattern in _EPOCHS or "%z" in pattern, dayless)

    def read(self, text: str, year: int) -> datetime | None:
        """The time `text` spells under this pattern, in UTC (naive times are UTC); None for a value that cannot be."""
        try:
            if self.pattern in _EPOCHS:
                secs, _, frac = text.partition(".")
                scale = _EPOCHS[self.pattern][1]
                us = int(secs) * 10**6 + int((frac + "000000")[:6]) if scale == 1 else _scaled(int(secs), scale)
                return _EPOCH + timedelta(microseconds=us)
            text = _LONG_FRACTION.sub(r"\1", " ".join(text.split()))
            ts = datetime.strptime(f"{year} {text}", "%Y " + self.pattern) if self.yearless else datetime.strptime(text, self.pattern)
        except (ValueError, OverflowError, OSError):
            return None
        return ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)


class Layout:
    """One compiled layout: its regular expression (Python's and RE2's alike), the roles of its fields, its ways to read a time."""

    def __init__(self, template: str, timestamp: str | None = None, levels: dict[str, str] | None = None):
        self.template = template
        self.levels = {**LEVELS, **levels} if levels else LEVELS
        fields = _FIELD.findall(template)
        if not fields:
            raise LayoutError(f"layout {template!r} names no field; write fields as <Name>, e.g. <Date> <Time> <Level> <Content>")
        bad = _FIELD_OPENING.search(_FIELD.sub("", template))
        if bad:
            raise LayoutError(f"layout {template!r}: the field at {bad[0]!r} does not close; a field's own pattern may not hold < or >")
        names = [name for name, _ in fields]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise LayoutError(f"layout {template!r} names {', '.join(sorted(dupes))} more than once")
        self.regex = self._compile(template, literal=False)
        if self.regex is None:
            self.regex = self._compile(template, literal=True)
        self.groups = [f"g{i}" for i in range(len(names))]
        self.time_groups = [g for g, n in zip(self.groups, names) if n.lower() in TIME_FIELDS]
        self.role = {role: next((g for g, n in zip(self.groups, names) if n.lower() in members), None) for role, members in ROLES.items()}
        if self.role["message"] is None:  # the last field that is not a time, host, source or level holds the message
            taken = {*self.time_groups, *(g for g in self.role.values() if g)}
            rest = [g for g in self.groups if g not in taken]
            self.role["message"] = rest[-1] if rest else None
        if self.role["message"] is None:
            raise LayoutError(f"layout {template!r} has no field for the message; end it with <Content>")
        if timestamp:
            times = [_Time.of(strftime_pattern(timestamp))]
        else:
            times = [_Time.of(p) for p in KNOWN_TIMES]
        # Which time fields to read, longest run first, then which pattern: the first whose shape the text has.
        runs = [self.time_groups[i:j] for size in range(len(self.time_groups), 0, -1) for i in range(len(self.time_groups) - size + 1) for j in [i + size]]
        self.choices = [(run, t) for run in runs for t in times]
        self.timeless = not self.time_groups
        self._memo: dict[tuple, int] = {}
        self.re2 = _re2_reads(self.regex.pattern)  # else (look-arounds, back-references) only `parse` reads it

    def _compile(self, template: str, literal: bool) -> re.Pattern | None:
        parts, at, i = [], 0, 0
        for m in _FIELD.finditer(template):
            text = template[at : m.start()]
            parts.append(r"\s+".join(re.escape(p) if literal else p for p in re.split(_GAP[literal], text)))
            name, own = m[1], m[2]
            last = m.end() == len(template)
            pattern = own or _FIELD_PATTERNS.get(name.lower()) or (".*" if last else ".*?")
            parts.append(f"(?P<g{i}>{pattern})")
            at, i = m.end(), i + 1
        tail = template[at:]
        parts.append(r"\s+".join(re.escape(p) if literal else p for p in re.split(_GAP[literal], tail)))
        try:
            regex = re.compile("^" + "".join(parts) + "$")
        except re.error as exc:
            if literal:
                raise LayoutError(f"layout {template!r}: {exc}") from exc
            return None
        return regex if len(regex.groupindex) == i and all(f"g{k}" in regex.groupindex for k in range(i)) else None

    def _choice(self, values: dict) -> int | None:
        """The index in `choices` of the way to read this line's time: a function of the time fields' shapes only."""
        key = tuple(_shape_key(values[g] or "") for g in self.time_groups)
        if key in self._memo:
            return self._memo[key]
        found = None
        for k, (run, t) in enumerate(self.choices):
            if t.shape.fullmatch(" ".join(values[g] or "" for g in run)):
                found = k
                break
        if len(self._memo) < 10_000:
            self._memo[key] = found
        return found

    def parse(self, line: str, year: int) -> dict | None:
        got = self.read(line, year)
        return got[0] if got else None

    def read(self, line: str, year: int) -> tuple[dict, bool] | None:
        """`parse`'s event of `line`, and whether its time is written without a zone (None: it does not read the line)."""
        m = self.regex.match(line)
        if not m:
            return None
        values = m.groupdict()
        local = False
        if self.timeless:
            ts = None
        else:
            k = self._choice(values)
            if k is None:
                return None
            run, t = self.choices[k]
            ts = t.read(" ".join(values[g] for g in run), year)
            if ts is None:
                return None
            local = not t.zoned
        message = values[self.role["message"]] or ""  # an optional message part that is absent: empty, as RE2 gives it
        get = lambda role: values[self.role[role]] if self.role[role] else None  # noqa: E731
        level = get("level")
        level = self.levels.get(level.lower(), level.lower()) if level else None
        return event(ts, get("host") or None, get("source") or None, level, message), local

    def parse_many(self, lines, year: int):
        """(indices, Arrow table of events or None, Arrow booleans: the lines this layout's expression matches) of an Arrow string array.

        The events are those of the matched lines whose time reads; a
        matched line whose time does not read is left to `parse` (which then
        tries the next layout), as is every line that is not plain ASCII.
        """
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        pattern = self.regex.pattern
        if not self.re2:
            return np.zeros(0, np.int64), None, None
        hit = pc.fill_null(pc.match_substring_regex(lines, pattern), False)
        index, taken = take_lines(lines, pc.and_(hit, plain_lines(lines)))
        if not len(taken):
            return index, None, hit
        parts = pc.extract_regex(taken, pattern)
        col = {g: parts.field(g) for g in self.groups}
        n = len(taken)
        stamps = pa.nulls(n, pa.timestamp("us", "UTC"))
        keep = np.ones(n, bool)
        if not self.timeless:
            chosen = np.full(n, -1)
            joined = {}
            for k, (run, t) in enumerate(self.choices):
                free = chosen < 0
                if not free.any():
                    break
                if tuple(run) not in joined:
                    joined[tuple(run)] = col[run[0]] if len(run) == 1 else pc.binary_join_element_wise(*(col[g] for g in run), " ")
                fits = pc.fill_null(pc.match_substring_regex(joined[tuple(run)], "^(?:" + t.shape.pattern + ")$"), False).to_numpy(zero_copy_only=False)
                chosen[free & fits] = k
            micros = np.full(n, _NAT, np.int64)
            for k in np.unique(chosen[chosen >= 0]).tolist():
                run, t = self.choices[k]
                at = np.flatnonzero(chosen == k)
                micros[at] = _read_many(joined[tuple(run)].take(pa.array(at)), t, year)
            keep = micros != _NAT
            stamps = pa.array(micros, pa.timestamp("us", "UTC"), mask=~keep)
        message = pc.fill_null(col[self.role["message"]], "")
        level = col[self.role["level"]] if self.role["level"] else pa.nulls(n, pa.string())
        if self.role["level"]:
            words = pc.utf8_lower(level).dictionary_encode()
            names = [self.levels.get(w, w) for w in words.dictionary.to_pylist()]
            level = pc.if_else(pc.equal(pc.utf8_length(col[self.role["level"]]), 0), None, pc.take(pa.array(names, pa.string()), words.indices))

        def text(role):
            if not self.role[role]:
                return pa.nulls(n, pa.string())
            values = col[self.role[role]]
            return pc.if_else(pc.equal(pc.utf8_length(values), 0), None, values)

        table = pa.table({"timestamp": stamps, "host": text("host"), "source": text("source"), "level": level, "message": message})
        if not keep.all():
            index, table = index[keep], table.filter(pa.array(keep))
        return index, table, hit


_NAT = -(2**63)


def _read_many(text, t: _Time, year: int):
    """`_Time.read` over an Arrow string array at once, as integer microseconds since the epoch (`_NAT` where it gives None)."""
    import numpy as np
    import pandas as pd
    import pyarrow.compute as pc

    if t.pattern in _EPOCHS:  # integer microseconds, as `_Time.read` counts them
        parts = pd.Series(text.to_pandas()).str.partition(".")
        secs = parts[0].astype("int64")
        scale = _EPOCHS[t.pattern][1]
        us = secs * 10**6 + (parts[2] + "000000").str.slice(0, 6).astype("int64") if scale == 1 else _scaled(secs, scale)
        return us.to_numpy(np.int64)
    # As `_Time.read` does: white space runs to one space (the lines are ASCII here), a fraction cut to microseconds.
    text = pc.replace_substring_regex(pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"\s+", " ")), r"([.,]\d{6})\d+", r"\1")
    fmt = t.pattern
    if t.yearless:
        text, fmt = pc.binary_join_element_wise(f"{year}", text, " "), "%Y " + fmt
    if fmt in _ISO_LIKE:  # pandas' ISO 8601 reader, about ten times its strptime; a value it refuses goes to `parse`
        text = pc.replace_substring(text, ",", ".") if "," in fmt else text
        ts = pd.to_datetime(pd.Series(text.to_pandas()), format="ISO8601", errors="coerce", utc=True).dt.as_unit("us")
        written = pc.match_substring_regex(text, _ISO_LIKE[fmt]).to_numpy(zero_copy_only=False)
        ts[~written] = pd.NaT  # one-digit fields (which `strptime` takes too) are left to `parse`
    else:
        ts = pd.to_datetime(pd.Series(text.to_pandas()), format=fmt, errors="coerce", utc=True).dt.as_unit("us")
    return np.where(ts.isna().to_numpy(), _NAT, ts.array.asi8)


_ISO_LIKE = {
    "%Y-%m-%d %H:%M:%S,%f": r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{1,6}$", "%Y-%m-%d %H:%M:%S.%f": r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{1,6}$",
    "%Y-%m-%dT%H:%M:%S.%f": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,6}$",
    "%Y-%m-%d %H:%M:%S": r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", "%Y-%m-%dT%H:%M:%S": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$",
}
"""Time patterns pandas' ISO 8601 reader reads as `datetime.strptime` does where each field is written with two digits
(four for the year), and the text each must then be (after a comma before the fraction became a point). `strptime`
also takes one-digit fields, which these leave to `parse`."""


def _re2_reads(pattern: str) -> bool:
    """Whether Arrow's RE2 can match and take apart the lines by `pattern` (no look-around, back-reference or unnamed group)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.match_substring_regex(pa.array([""]), pattern)
        pc.extract_regex(pa.array([""]), pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _scaled(count, scale: int):
    """Microseconds from a count of 1/`scale` seconds (integer arithmetic, so both parsers agree to the microsecond)."""
    return count * (10**6 // scale) if scale <= 10**6 else count // (scale // 10**6)


def _shape_key(text: str) -> str:
    return re.sub(r"[A-Za-z]", "a", re.sub(r"\d", "0", text))


def layout_format(name: str, layouts: str | list[str | tuple[str, str]], timestamp: str | None = None, *, examples: list[str] | None = None,
                  description: str = "", drain_similarity: float = 0.4, fast: bool = True, breadth: int = 0,
                  masks: list[tuple[str, str]] | None = None, continues: str | None = None, directives: str | None = None,
                  levels: dict[str, str] | None = None) -> LogFormat:
    """A `LogFormat` that reads lines by the first of `layouts` that reads them (and, with `fast`, all lines at once too).

    A layout given as `(layout, timestamp)` reads its time by its own pattern (a program that writes its microseconds
    only when asked to, `HH:MM:SS:uuuuuu`); the others by `timestamp`. `levels` names the format's own level words
    and codes, lower case, beside the common ones (CUPS's `N`, SSSD's `0x0400`); they mean nothing elsewhere.
    """
    compiled = [Layout(t, timestamp, levels) if isinstance(t, str) else Layout(*t, levels) for t in ([layouts] if isinstance(layouts, str) else layouts)]

    def parse(line: str, year: int) -> dict | None:
        for layout in compiled:
            got = layout.parse(line, year)
            if got is not None:
                return got
        return None

    def parse_many(lines, year: int):
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        # Each layout reads the lines no layout before it matched (`parse` gives such a line to the first that does).
        rest = np.arange(len(lines), dtype=np.int64)
        indices, tables = [], []
        for layout in compiled:
            if not rest.size:
                break
            part = lines if rest.size == len(lines) else lines.take(pa.array(rest))
            index, table, hit = layout.parse_many(part, year)
            if hit is None:  # which lines it matches is not known here: the rest is left to `parse`
                break
            if table is not None and table.num_rows:
                indices.append(rest[index])
                tables.append(table)
            rest = rest[~hit.to_numpy(zero_copy_only=False)]
        if not tables:
            return np.zeros(0, np.int64), pa.table({"timestamp": pa.array([], pa.timestamp("us", "UTC")), "host": pa.array([], pa.string()), "source": pa.array([], pa.string()), "level": pa.array([], pa.string()), "message": pa.array([], pa.string())})
        index = np.concatenate(indices)
        table = pa.concat_tables(tables)
        order = np.argsort(index, kind="stable")
        return index[order], table.take(pa.array(order))

    def local_time(line: str) -> bool:
        for layout in compiled:  # the layout `parse` reads the line by (2000: a year any yearless day exists in)
            if (got := layout.read(line, 2000)) is not None:
                return got[1]
        return False

    yearless = any(layout.choices and all(t.yearless for _, t in layout.choices) for layout in compiled)
    dated = [layout for layout in compiled if layout.choices]
    dayless = bool(dated) and all(t.dayless for layout in dated for _, t in layout.choices)
    return LogFormat(
        name, parse, examples=list(examples or []), description=description, drain_similarity=drain_similarity,
        parse_many=parse_many if fast else None, yearless=yearless, dayless=dayless,
        timeless=any(layout.timeless for layout in compiled), breadth=breadth, masks=list(masks or []),
        continues=continues, directives=directives, local_time=local_time,
    )
