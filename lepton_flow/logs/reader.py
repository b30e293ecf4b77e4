"""Reading a log file into events: detect its format, keep multi-line entries together, quarantine what no format parses.

Accounting per file: lines read = lines in events + quarantined lines + blank
lines. A stack trace or other continuation (a line that does not parse and
starts with white space, `Traceback`, `Caused by` or `at `) joins the event
before it; any other line that does not parse is quarantined with its line
number and reason, as is a line over `MAX_LINE` characters. Reading a file
that is still being written, an event with continuation lines at the end
waits for the next read (its trace may go on), and continuation lines that
start a read join the event the read before ended with.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lepton_flow.logs.formats import EVENT_FIELDS, LogFormat, detect, log_formats
from lepton_flow.logs.layout import LEVELS
from lepton_flow.logs.logformat import file_head, http_level
from lepton_flow.sources import BOM, CORRUPT, SourceError, file_time, open_source

MAX_LINE = 64 * 1024
EARLIER = -2
"""Owner of continuation lines at the start of a read from an offset: the last event of the read before."""
SAMPLE = 200
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
"""Terminal colour and cursor codes: left out of the text a line is parsed and stored from."""


def _joined(message: str, level, more: list[str]) -> tuple[str, str | None]:
    """(message, level) of an event with the lines that continue it. An event whose own line says nothing takes its
    first continuation line, unindented, as its message (ASP.NET's `info: Category[id]` header), and a level word
    leading that line as its level when it has none (java.util.logging's `WARNING: ...` under its dated header)."""
    if not message.strip():
        first, more = more[0].strip(), more[1:]
        lead = _LEVEL_LEAD.fullmatch(first)
        if lead and (level is None or pd.isna(level)) and lead[1].lower() in _LEVEL_WORDS:
            level, first = LEVELS.get(lead[1].lower(), lead[1].lower()), lead[2]
        message = first
    return "\n".join([message, *more]), level


_LEVEL_LEAD = re.compile(r"([A-Za-z]+): (.*)", re.DOTALL)
_LEVEL_WORDS = {*(w for w in LEVELS if len(w) > 1 and w not in ("system", "security")), "debug", "info", "notice", "warning", "error", "crit", "alert", "emerg"}


_CONTINUATION = re.compile(r"^(?:\s|Traceback |Caused by|at |\.\.\. \d+ more|[\w.$]+(?:Error|Exception|Warning|Exit|Interrupt)(?::|$))")


_ESCAPE = re.compile(r"#(0[0-3][0-7])")
"""rsyslog's escape of a control character (`$EscapeControlCharactersOnReceive`, on by default): `#` and its octal code."""


def _unescaped(messages: pd.Series) -> pd.Series:
    """Messages with rsyslog's control-character escapes put back: a tab `#011`, a line end `#012` (a multi-line
    message, a trace), a carriage return `#015` (dropped, as the reader drops them at line ends), terminal codes
    `#033[...` (left out, as the reader leaves them out of lines); NUL (`#000`) stays escaped."""
    text = pa.array(messages.astype(object).to_numpy(), pa.string())
    hit = pc.fill_null(pc.match_substring_regex(text, _ESCAPE.pattern), False).to_numpy(zero_copy_only=False)
    if not hit.any():
        return messages
    out = messages.to_numpy(object).copy()

    def one(m: re.Match) -> str:
        code = int(m[1], 8)
        return m[0] if code == 0 else "" if code == 0o15 else chr(code)

    for i in np.flatnonzero(hit).tolist():
        got = _ESCAPE.sub(one, out[i])
        out[i] = _ANSI.sub("", got) if "\x1b" in got else got
    return pd.Series(out, index=messages.index, name=messages.name)


_HINTS = [
    (r"^\[\s*\d+\.\d{6}\] ", "; they are dmesg's, timed in seconds since boot, not dates: save them with `dmesg -T`, or read /var/log/kern.log"),
]
"""Layouts that cannot be dated as they are, and what to read instead: said when most of a refused file's sample has one."""


class LogFormatError(ValueError):
    """The file cannot be read as a log (the message names the file and why)."""


class NotALogFile(LogFormatError):
    """The file is not a log at all (binary, or no known format parses any line of its sample): `lines` it has."""

    def __init__(self, message: str, lines: int = 0):
        super().__init__(message)
        self.lines = lines


@dataclass
class LogEvents:
    url: str
    format: str | None
    quarantined: list[dict] = field(default_factory=list)  # line, reason, text
    lines: int = 0
    blank: int = 0  # blank lines, and the format's directive lines (`LogFormat.directives`)
    event_lines: int = 0
    end: int = 0  # the byte after the last line read
    pending: int = 0  # bytes of a partial last line left for a later read
    line_base: int = 0  # lines of the file before the first line read
    more: bool = False  # the read stopped at `max_bytes`: the file goes on from `end`
    after_event: bool = True  # its last line belongs to an event (so continuation lines that start the next read join it)
    frame: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[*EVENT_FIELDS, "line"]))
    """One row per event in line order: the event's fields and `line`, its first line number."""

    @property
    def events(self) -> list[dict]:
        """The events as dicts (for tests and small files; the data path uses `frame`)."""
        return self.frame.to_dict("records")

    @property
    def balanced(self) -> bool:
        return self.lines == self.event_lines + len(self.quarantined) + self.blank


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # lossless for any byte; the text stays readable for most legacy logs


_NUL_RUN = re.compile(rb"\x00+")
BINARY_NUL_RUNS = 4
"""A text file may hold a run of NUL bytes where a crash left the blocks it had grown into unwritten (ext4's delayed
allocation), one per crash; the first lines of a binary file (or of UTF-16 without its byte order mark) hold
many. From this many runs in its first lines a file is binary."""


def _without_nul_runs(data: bytes) -> tuple[bytes, list[int]]:
    """The text with its runs of NUL bytes taken out: a run between two pieces of a line ends the first (the line a
    crash cut short, then the first line written after it), any other run is dropped. Also the byte positions, in
    `data`, that end a line so (the last NUL of each such run), for offsets into the bytes as stored."""
    parts, breaks, at = [], [], 0
    for m in _NUL_RUN.finditer(data):  # each run whole: a look-around at every NUL of a long run cost seconds a piece
        begin, end = m.span()
        parts.append(data[at:begin])
        if data[begin - 1 : begin] not in (b"", b"\n") and data[end : end + 1] not in (b"", b"\n"):
            parts.append(b"\n")
            breaks.append(end - 1)
        at = end
    parts.append(data[at:])
    return b"".join(parts), breaks


def _binary(raw: bytes, lines: int) -> bool:
    """Whether the first `lines` lines of the bytes as stored hold NUL bytes as a binary file's do (see BINARY_NUL_RUNS)."""
    end = 0
    for _ in range(lines):
        end = raw.find(b"\n", end) + 1
        if not end:
            end = len(raw)
            break
    return sum(1 for _ in islice(_NUL_RUN.finditer(raw, 0, end), BINARY_NUL_RUNS)) >= BINARY_NUL_RUNS


def _line_ends(raw: bytes, breaks: list[int] | None) -> np.ndarray:
    """The byte positions in `raw` of each line's end: its line feeds, and the NUL runs that end a line."""
    ends = np.flatnonzero(np.frombuffer(raw, np.uint8) == 10)
    return np.sort(np.concatenate([ends, np.asarray(breaks, ends.dtype)])) if breaks else ends


def _split(data: bytes) -> pa.Array:
    """The file's lines (as iterating it would give them, less line ends and terminal codes) as an Arrow string array."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # lines that are not UTF-8 are read as Latin-1, one at a time
        lines = [_decode(raw) for raw in data.split(b"\n")]
        text = None
    else:
        if "\x1b" not in text:  # the common case, split by Arrow: a sixth of the time Python's split and list take
            lines = pc.split_pattern(pa.array([text], pa.large_string()), "\n").flatten()
            if len(lines) and lines[-1].as_py() == "":
                lines = lines.slice(0, len(lines) - 1)  # the file's last line end
            if "\r" in text:
                lines = pc.utf8_rtrim(lines, "\r")
            return lines if len(data) >= 1 << 31 else lines.cast(pa.string())
        lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the file's last line end
    if ("\r" in text) if text is not None else any("\r" in line for line in lines):
        lines = [line.rstrip("\r") for line in lines]
    if ("\x1b" in text) if text is not None else any("\x1b" in line for line in lines):
        lines = [_ANSI.sub("", line) for line in lines]
    return pa.array(lines, type=pa.large_string() if len(data) >= 1 << 31 else pa.string())


def read_log(url: str, fmt: str | LogFormat = "auto", year: int | None = None, *, start: int = 0, line_base: int = 0, final: bool = True, timezone: str = "UTC",
             max_bytes: int | None = None, source: LogSource | None = None) -> LogEvents:
    """Every line of a (possibly gzipped) log file, as events or quarantined lines; `year` for formats without one.

    Without `year`, lines without one take the year the file was last
    written, and those that would then fall over a day after that moment
    take the year before (a file rotated in January holds December's lines).
    Times written without a zone (`LogFormat.local_time`: syslog's, log4j's
    default layouts) are `timezone`'s, given in UTC; times with an offset,
    and epochs, are the instants they say.

    From byte `start` of the content (gzip undone), after `line_base`
    lines (line numbers in quarantine count from the file's start); unless
    `final`, a partial last line (no line end) is left unread: `end` is the
    byte after the last line read, `pending` the bytes left. With
    `max_bytes`, it reads about that much (whole lines, the last event left
    for the next read, as when a file is still being written) and says
    `more` when the file goes on: a big file is read a piece at a time,
    from one `source` (`open_log`) that each read takes up at `start`.

    `fmt`: a registered format's name, `auto`, or a `LogFormat` of the
    caller's (a layout given as a parameter). An event whose line carries no
    time takes the time of the event before it in the read (uWSGI's
    operational lines between its requests, logcat's `brief` lines among
    `threadtime` ones), the first ones of a read that of the first dated
    event, and a read with no dated event is dated when the file was last
    written. A line of a format without a year that carries a dated stamp of
    its own in its message (HAProxy's `[09/Dec/2013:12:59:46.633]`) takes
    that time. A file that is one JSON document of records (CloudTrail's) is
    read whole by the format that reads such documents.

    The file's format parses all its lines at once where it can
    (`LogFormat.parse_many`, Arrow's regular expressions); the lines that
    path leaves, and every line of a format without one, are parsed one at
    a time, which is also where continuations join their event and where
    lines no format parses are quarantined.
    """
    if source is None:
        with open_log(url, start) as opened:
            return read_log(url, fmt, year, start=start, line_base=line_base, final=final, timezone=timezone, max_bytes=max_bytes, source=opened)
    with _unreadable(url):
        data, more = source.piece(start, max_bytes)
    out = _read(url, fmt, year, data, more, start, line_base, final, timezone, source.after_event)
    if more and out.format and (fmt if isinstance(fmt, LogFormat) else log_formats().get(out.format, fmt)).dayless:
        # Its days are counted back from its end: read whole, as a document is.
        source.resume(start)
        with _unreadable(url):
            data, more = source.piece(start, None)
        out = _read(url, fmt, year, data, more, start, line_base, final, timezone, source.after_event)
    source.resume(out.end)
    if out.lines:
        source.after_event = out.after_event
    return out


def _read(url: str, fmt: str | LogFormat, year: int | None, data: bytes, more: bool, start: int, line_base: int, final: bool, timezone: str,
          after_event: bool = True) -> LogEvents:
    """`read_log` on the bytes of one read (`data`, from byte `start` of the content); `after_event`: whether the line
    before `start` belongs to an event (not known at the start of a run's read: taken as so)."""
    written = file_time(url)
    dated_by_file = year is None
    year = year or written.year
    formats = log_formats()
    bom = len(BOM) if start == 0 and data.startswith(BOM) else 0  # PowerShell 5's `Out-File -Encoding utf8`, Notepad's
    if bom:
        data = data[bom:]
    if start == 0 and more and fmt == "auto" and data[:1] == b"\x00" and data.count(b"\x00") == len(data):
        raise NotALogFile(f"{url}: not a log file: its first {len(data):,} bytes are NUL bytes only (a sparse or preallocated file, such as lastlog)", 0)
    if start == 0 and _document_start(data, formats):
        whole = _read_document(url, data, [fmt] if isinstance(fmt, LogFormat) else [f for name, f in sorted(formats.items()) if fmt in ("auto", name)], written)
        if whole is not None:
            whole.end += bom
            return whole
    pending = 0
    if more:
        final = False  # this piece's last line and event go on in the next piece
    if not final and data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        if cut or not more:  # a whole piece without a line end (NULs, a line over a piece) is read as it is, or no read would get past it
            pending, data = len(data) - cut, data[:cut]
    raw, breaks = data, None  # `raw`: the bytes as stored (a byte order mark aside), for offsets
    if b"\x00" in data:
        if fmt == "auto" and _binary(data, SAMPLE):
            raise NotALogFile(f"{url}: not a log file: binary content (NUL bytes in its first lines)", data.count(b"\n") + (not data.endswith(b"\n")))
        data, breaks = _without_nul_runs(data)  # a crash's unwritten blocks in a text file
    lines = _split(data)
    n = len(lines)
    out = LogEvents(url=url, format=None, lines=n, end=start + bom + len(raw), pending=pending, line_base=line_base, more=more)
    if isinstance(fmt, LogFormat):
        formats = {**formats, fmt.name: fmt}
        fmt = fmt.name
    elif fmt == "auto":
        head = lines.slice(0, SAMPLE * 5).to_pylist()
        sample = [line for line in head if line.strip() and len(line) <= MAX_LINE][:SAMPLE]
        fmt = detect(sample, year, formats) if sample else None
        if fmt is None and sample:
            hint = next((h for pattern, h in _HINTS if sum(re.match(pattern, line) is not None for line in sample) * 2 > len(sample)), "")
            raise NotALogFile(f"{url}: not a log file: no known log format parses any of its first {len(sample)} lines{hint} (tried {', '.join(sorted(formats))})", n)
    elif fmt not in formats:
        raise LogFormatError(f"unknown log format {fmt!r}; known: {', '.join(sorted(formats))}")
    out.format = fmt
    if fmt and formats[fmt].document is not None and start > 0:  # a document read before, and bytes after it now
        out.quarantined = [{"line": line_base + i + 1, "reason": f"after the end of a {fmt} read before (a document is read once; write a new file)", "text": t[:500]}
                           for i, t in enumerate(lines.to_pylist()) if t.strip()]
        out.blank = n - len(out.quarantined)
        return out
    if fmt and formats[fmt].per_file is not None:
        formats = {**formats, fmt: formats[fmt].per_file(url)}
    # Files mix formats (an application's own lines beside syslog-wrapped
    # ones): a line the file's format rejects gets the other formats before
    # quarantine.
    order = [formats[fmt]] + [f for name, f in sorted(formats.items()) if name != fmt] if fmt else []

    yearless = np.zeros(n, bool)  # lines whose event took its year from `year`
    dayless = np.zeros(n, bool)  # lines with a time of day alone
    by = np.full(n, None, object)  # the format that read each line

    def parse(i: int, text: str, year: int) -> dict | None:
        for f in order:
            event = f.parse(text, year)
            if event is not None:
                yearless[i], dayless[i] = f.yearless, f.dayless
                by[i] = f
                return event
        return None

    body = re.compile(formats[fmt].continues) if fmt and formats[fmt].continues else None  # the format's stanza bodies
    directive = re.compile(formats[fmt].directives) if fmt and formats[fmt].directives else None
    fast = np.zeros(n, bool)
    table = None
    if fmt and formats[fmt].parse_many is not None and n:
        short = pc.less_equal(pc.utf8_length(lines), MAX_LINE)
        if pc.all(short).as_py():
            index, table = formats[fmt].parse_many(lines, year)
        else:  # over-long lines are quarantined by the line-at-a-time path
            index, table = formats[fmt].parse_many(lines.filter(short), year)
            index = np.flatnonzero(short.to_numpy(zero_copy_only=False))[index]
        fast[index] = True
        yearless[index], dayless[index] = formats[fmt].yearless, formats[fmt].dayless
        by[index] = formats[fmt]
    rest = np.flatnonzero(~fast)
    owner = np.where(fast, np.arange(n), -1)  # each line's event: the index of the event's first line, -1 for none
    slow: dict[int, dict] = {}
    extra: dict[int, list[str]] = {}  # continuation lines of events the fast path parsed, by their first line
    texts = lines.take(pa.array(rest, pa.int64())).to_pylist() if rest.size else []
    for i, text in zip(rest.tolist(), texts):
        number = i + 1
        if not text.strip():
            out.blank += 1
            if body is not None and i:  # a stanza's body goes on past a blank line, up to the next stanza
                owner[i] = owner[i - 1]
            continue
        if directive is not None and directive.match(text):  # the format's own lines that are not events
            out.blank += 1
            if formats[fmt].on_directive is not None:
                formats[fmt].on_directive(text)
            continue
        if len(text) > MAX_LINE:
            out.quarantined.append({"line": number, "reason": f"line longer than {MAX_LINE} characters", "text": text[:500]})
            continue
        joins = (owner[i - 1] != -1 if i else start > 0 and after_event)
        # A line the file's format names as a continuation of its events (PostgreSQL's `STATEMENT:`) joins the event
        # before it, though a catch-all format would read it as an event of its own.
        own_body = body is not None and joins and body.match(text) is not None and formats[fmt].parse(text, year) is None
        event = None if own_body else parse(i, text, year)
        if event is not None:
            event["line"] = number
            slow[i] = event
            owner[i] = i
        elif joins and (own_body or _CONTINUATION.match(text) or (body is not None and body.match(text))):
            # The line before belongs to an event: this one joins it. At the start of a read from an offset, the
            # event is the last one an earlier read took (its trace went on after that read): counted, not stored.
            head = owner[i] = owner[i - 1] if i else EARLIER
            if head == EARLIER:
                pass
            elif fast[head]:
                extra.setdefault(int(head), []).append(text)
            else:
                slow[head]["message"], slow[head]["level"] = _joined(slow[head]["message"], slow[head]["level"], [text])
        else:
            out.quarantined.append({"line": number, "reason": f"no registered log format parses it (the file's is {fmt})", "text": text[:500]})
            continue
        out.event_lines += 1
    parts = []
    open_heads = None  # for records (`_unwrap`): the first line of each stream's last event, which it may still add to
    cut_heads: list[int] = []  # those of them whose last record is a line cut short, which the next read goes on with
    if table is not None and table.num_rows:
        frame = table.select(list(EVENT_FIELDS)).to_pandas()
        frame["line"] = index + 1
        if extra:
            at = np.searchsorted(index, np.fromiter(extra, np.int64, len(extra)))
            joined = [_joined(m, level, lines_) for m, level, lines_ in zip(frame["message"].to_numpy()[at], frame["level"].to_numpy()[at], extra.values())]
            frame.loc[at, "message"] = [m for m, _ in joined]
            frame.loc[at, "level"] = [level for _, level in joined]
        out.event_lines += len(frame)
        parts.append(frame)
    if slow:
        parts.append(pd.DataFrame(list(slow.values()), columns=[*EVENT_FIELDS, "line"]))
    if parts:
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        out.frame = frame.sort_values("line", kind="stable", ignore_index=True) if len(parts) > 1 else frame
        if fmt and formats[fmt].escaped:
            out.frame["message"] = _unescaped(out.frame["message"])
        if fmt and (formats[fmt].wraps or formats[fmt].records):
            out.frame, open_heads, cut_heads = _unwrap(url, out.frame, lines, formats[fmt], formats, year, owner)
        if dayless.any():
            _days_from_file(out.frame, dayless, written, timezone)
            yearless &= ~dayless
        if yearless.any():
            _inner_dates(out.frame, yearless)
        if dated_by_file and yearless.any():
            _year_before(out.frame, yearless, written)
        _haproxy_levels(out.frame)
        if timezone != "UTC":
            _local_to_utc(out.frame, lines, by, timezone)
        if out.frame["timestamp"].isna().any():  # lines that carry no time: the event before's, else the one after's, else the file's
            out.frame["timestamp"] = out.frame["timestamp"].ffill().bfill().fillna(pd.Timestamp(written))
    # A piece's last event, whose trace may go on in the next, is left for it: where the file goes on, unless it began
    # the piece (an event longer than a piece, which the next read would start with again, getting no further: it is
    # split there); at the end of what is written, when lines after its first already belong to it. For records, each
    # stream's last event likewise (`open_heads`; at the end of what is written, those that lines already joined or
    # whose last line was cut), the earliest of them, and with it every other stream's event whose records run past it.
    if not final and (owner >= 0).any():
        if open_heads is None:
            k = int(owner.max())
            hold = k > 0 if more else (owner[k + 1 :] == k).any()
        else:
            wait = [h for h in open_heads if h > 0] if more else [h for h in open_heads if h in cut_heads or (owner[h + 1 :] == h).any()]
            k = min(wait, default=0)
            while wait and (owner[k:] >= 0).any() and (earliest := int(owner[k:][owner[k:] >= 0].min())) < k:
                k = earliest
            hold = bool(wait) and (k > 0 or not more)
        if hold:
            _hold_last_event(out, raw, breaks, lines, owner, k)
    if out.lines:
        out.after_event = bool(owner[out.lines - 1] != -1)
    if line_base:  # numbered within what was read until here; the file's own numbers from here on
        out.frame["line"] += line_base
        for q in out.quarantined:
            q["line"] += line_base
    return out


@contextlib.contextmanager
def _unreadable(url: str):
    """A truncated or corrupt compressed file, or a decompression bomb, as a `LogFormatError` naming the file; other
    OSErrors (the filesystem's) stay as they are, to be retried."""
    try:
        yield
    except CORRUPT as exc:
        raise LogFormatError(f"{url}: cannot be read: {exc}") from exc
    except SourceError as exc:
        raise LogFormatError(str(exc)) from exc


@contextlib.contextmanager
def open_log(url: str, start: int = 0):
    """A log file opened once for reading in pieces (`read_log(source=)`) from byte `start` of its content: a
    compressed file is decompressed once, not again from its start for each piece."""
    with contextlib.ExitStack() as stack:
        with _unreadable(url):
            fh = stack.enter_context(open_source(url, start))
        yield LogSource(fh, start)


class LogSource:
    """An open log file read a piece at a time. A read ends before the bytes it took where it leaves a partial last
    line or a last event for the next read: those bytes are kept and given to the next piece first."""

    def __init__(self, fh, at: int):
        self._fh = _Prefixed(fh)
        self.at = at  # the content offset of the next byte
        self._piece, self._piece_at = b"", at
        self.after_event = True  # whether the last line read belongs to an event (at a run's first read: taken as so)

    def piece(self, start: int, max_bytes: int | None) -> tuple[bytes, bool]:
        if start != self.at:
            raise ValueError(f"a read from byte {start} of a source that is at byte {self.at}")
        data, more = _read_piece(self._fh, max_bytes, start)
        self._piece, self._piece_at = data, start
        self.at = start + len(data)
        return data, more

    def resume(self, end: int) -> None:
        """The next read starts at `end`, within the last piece."""
        if not self._piece_at <= end <= self.at:
            raise ValueError(f"byte {end} is outside the last piece read (bytes {self._piece_at} to {self.at})")
        self._fh.head = self._piece[end - self._piece_at :] + self._fh.head
        self.at, self._piece = end, b""


class _Prefixed:
    """A buffered stream with bytes put back before its next one (`head`)."""

    def __init__(self, fh):
        self.fh, self.head = fh, b""

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            out, self.head = self.head + self.fh.read(), b""
            return out
        out, self.head = self.head[:n], self.head[n:]
        return out + self.fh.read(n - len(out)) if len(out) < n else out

    def peek(self, n: int = 1) -> bytes:
        return self.head or self.fh.peek(n)


PIECE_BYTES = 64 << 20
"""How much of a log file one read holds (`read_log`'s `max_bytes` where a run reads files): about six times that at
its peak (the bytes, their text, the events)."""


def _document_start(data: bytes, formats: dict[str, LogFormat] | None = None) -> bool:
    """Whether a file's first bytes may open a document some format reads whole (`LogFormat.document_head`: a JSON value
    of records, a CSV export's header); JSON Lines open the same way. `formats`: the registry, where the caller has it."""
    head = data[:4096]
    return any(f.document_head is not None and f.document_head(head) for f in (formats or log_formats()).values())


def _read_piece(fh, max_bytes: int | None, start: int) -> tuple[bytes, bool]:
    """Up to `max_bytes` of `fh` (all of it without), and whether the file goes on after them. A file that is one JSON
    document (not JSON Lines) is read whole, as it can only be read whole; any other piece may end inside a line (the
    reader leaves that line for the next piece, or, where the piece holds no line end at all, reads it as it is)."""
    if not max_bytes:
        return fh.read(), False
    data = fh.read(max_bytes)
    if len(data) < max_bytes or not fh.peek(1):
        return data, False
    if start == 0 and _document_start(data.removeprefix(BOM)):
        first = data[: data.find(b"\n")] if b"\n" in data else data
        try:
            json.loads(first)
        except (ValueError, RecursionError):  # a document written over many lines (or one long line): whole
            return data + fh.read(), False
    return data, bool(fh.peek(1))


def _hold_last_event(out: LogEvents, raw: bytes, breaks: list[int] | None, lines: pa.Array, owner: np.ndarray, k: int) -> None:
    """Leave the last event (first line `k`) of a file still being written, and any lines after it, for the next read.

    Called when that event has continuation lines: more of its trace may
    still come (a writer's buffer fills mid-trace). Log shippers hold a
    multi-line event until the next event starts or a timeout passes
    (Filebeat's `multiline.timeout`); here the next read, or the file
    settling (then it is read as `final`), ends it. Counts, quarantine and
    `end` then stop before that event's first line. A trace cut right
    after its event's first line is joined by the next read instead: its
    leading continuation lines count with that event (see `EARLIER`).
    """
    ends = _line_ends(raw, breaks)  # of the bytes as stored (`breaks`: NUL runs that end a line)
    cut = int(ends[k - 1]) + 1 if k else 0
    in_events = int((owner[k:] >= 0).sum())
    quarantined = sum(q["line"] > k for q in out.quarantined)
    out.event_lines -= in_events
    out.blank -= (len(lines) - k) - in_events - quarantined
    out.quarantined = [q for q in out.quarantined if q["line"] <= k]
    out.frame = out.frame[out.frame["line"] <= k].reset_index(drop=True)
    start = out.end - len(raw)
    out.pending += len(raw) - cut
    out.end, out.lines = start + cut, k


_MULTILINE_TIMEOUT = pd.Timedelta(seconds=5)
"""How long after a source's last record a wrapped event can still get lines, as the other sources' records tell time
(Filebeat's `multiline.timeout`, 5 s by default)."""


def _unwrap(url: str, frame: pd.DataFrame, lines: pa.Array, wrapper: LogFormat, formats: dict[str, LogFormat], year: int,
            owner: np.ndarray) -> tuple[pd.DataFrame, list[int], list[int]]:
    """The events of a format whose records carry an application's lines (`LogFormat.wraps`, `LogFormat.records`), put
    back together.

    A record the writer cut short (`LogFormat.partial`) goes on in the next record of its stream: their texts are one
    line. Then a record whose text goes on from the record before (a stack trace's frame, `Caused by:`, a traceback's
    lines: what `_CONTINUATION` reads) joins the event of the last record of its stream (source, and host) that does
    not, unless the stream was quiet for `_MULTILINE_TIMEOUT` before it or it is a traceback after a trace; the first
    record of a stream begins an event. `owner` follows: a joined record's lines are its event's. Then, for a wrapping
    format, where one format reads most texts of the file's first records (`_inner_format`), each text it reads gives
    its event that format's level, source and message (the runtime's time and host stay).

    Also: the first lines of the events that a stream's later records could still join (each stream's last event,
    unless that stream has been quiet for `_MULTILINE_TIMEOUT`), for a read that stops before the file ends to leave
    the earliest of them, and what follows it, to the next read; and those of them whose stream's last record is cut
    short (left to the next read even when nothing has joined them yet).
    """
    first = (frame["line"].to_numpy() - 1).astype(np.int64)  # each record's first line in this read
    if wrapper.process:
        found = pc.extract_regex(lines.take(pa.array(first, pa.int64())), wrapper.process)
        frame = frame.assign(process=pc.fill_null(pc.struct_field(found, 0), "").to_numpy(zero_copy_only=False))
    streams = _streams(frame)
    cut = set()  # the streams whose last record is cut short
    if wrapper.partial:
        raw = lines.take(pa.array(first, pa.int64()))
        part = pc.fill_null(pc.match_substring_regex(raw, wrapper.partial), False).to_numpy(zero_copy_only=False)
        if part.any():
            goes_on = np.zeros(len(frame), bool)  # a record that goes on with the line of its stream's record before
            line_of = np.arange(len(frame))  # the record each record's line begins with
            for key, rows in streams.items():
                goes_on[rows[1:]] = part[rows[:-1]]
                line_of[rows] = np.maximum.accumulate(np.where(goes_on[rows], -1, rows))
                if part[rows[-1]]:
                    cut.add(key)
            if goes_on.any():
                text = frame["message"].fillna("").to_numpy(object).copy()
                parts: dict[int, list[str]] = {}
                for j in np.flatnonzero(goes_on).tolist():
                    parts.setdefault(int(line_of[j]), [text[line_of[j]]]).append(text[j])
                for h, pieces in parts.items():
                    text[h] = "".join(pieces)
                _regroup(owner, first, goes_on, line_of)
                frame, first = frame.assign(message=text)[~goes_on].reset_index(drop=True), first[~goes_on]
                streams = _streams(frame)
    messages = pa.array(frame["message"].fillna("").astype(object).to_numpy(), pa.string())
    cont = pc.fill_null(pc.match_substring_regex(messages, _CONTINUATION.pattern), False).to_numpy(zero_copy_only=False)
    if "process" in frame:  # a record that names no process joins nothing: sudo's `   alice : TTY=...` is each command's own
        cont &= frame["process"].to_numpy(object) != ""
    # Each record's head: the last record of the same stream before it that is not a continuation, -1 for none (a
    # trace printed to stderr between two lines of stdout joins the event it belongs to).
    head = np.full(len(frame), -1, np.int64)
    open_heads = []
    times = frame["timestamp"]
    latest = times.max()
    cut_heads = []
    traceback = pc.starts_with(messages, "Traceback (most recent call last):").to_numpy(zero_copy_only=False)
    stamp = pd.to_datetime(times, utc=True).dt.tz_localize(None).to_numpy("datetime64[us]")
    for key, rows in streams.items():
        heads = ~cont[rows]
        # A trace that opens a stream is an event. So it is at the start of a read from an offset: a read stops before
        # the first event of any stream that could still go on, so what a stream's first record here continues
        # was left closed (quiet for the timeout, or an event longer than a piece).
        heads[0] = True
        # A record after its stream has been quiet for the multi-line timeout, and a traceback after a trace's last line
        # (a service that crashed again, under the same name), begin events of their own.
        heads[1:] |= (np.diff(stamp[rows]) > _MULTILINE_TIMEOUT.to_timedelta64()) | (traceback[rows[1:]] & cont[rows[:-1]])
        head[rows] = np.maximum.accumulate(np.where(heads, rows, -1))
        # A stream's last event may still get lines unless the stream has written nothing for a while when the others
        # have (a log shipper's multi-line timeout): a quiet stream does not hold back a busy one's events for ever.
        if head[rows[-1]] >= 0 and not latest - times.iloc[rows[-1]] > _MULTILINE_TIMEOUT:
            open_heads.append(int(first[head[rows[-1]]]))
            if key in cut:
                cut_heads.append(open_heads[-1])
    joined = cont & (head != np.arange(len(frame)))
    if joined.any():
        text = frame["message"].to_numpy(object).copy()
        more: dict[int, list[str]] = {}
        for j in np.flatnonzero(joined).tolist():
            more.setdefault(int(head[j]), []).append(text[j])
        for h, lines_ in more.items():
            text[h] = "\n".join([text[h], *lines_])
        _regroup(owner, first, joined, head)
        frame = frame.assign(message=text)[~joined].reset_index(drop=True)
    frame = frame.drop(columns="process", errors="ignore")
    if not wrapper.wraps:
        return frame, open_heads, cut_heads
    inner = _inner_format(url, wrapper, formats, year)
    if inner is None or not len(frame):
        return frame, open_heads, cut_heads
    text = pa.array(frame["message"].fillna("").astype(object).to_numpy(), pa.string())  # a joined trace stays after the first line
    lines = pc.split_pattern(text, "\n", max_splits=1)
    first = pc.list_element(lines, 0)
    rest = pc.replace_substring_regex(text, "^[^\n]*\n?", "").to_numpy(zero_copy_only=False)
    n = len(frame)
    read = {k: np.full(n, None, object) for k in ("level", "source", "message")}
    taken = np.zeros(n, bool)
    if inner.parse_many is not None:  # all at once where it can; the lines it leaves go to `parse`, as in `_read`
        index, table = inner.parse_many(first, year)
        taken[index] = True
        for k, values in read.items():
            values[index] = table.column(k).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(~taken).tolist():
        got = inner.parse(first[i].as_py(), year)
        if got is not None:
            taken[i] = True
            for k, values in read.items():
                values[i] = got[k]
    message = frame["message"].to_numpy(object).copy()
    message[taken] = [f"{m or ''}\n{r}" if r else (m or "") for m, r in zip(read["message"][taken], rest[taken])]
    level, source = (np.where(taken & pd.notna(read[k]), read[k], frame[k].to_numpy(object)) for k in ("level", "source"))
    return frame.assign(level=level, source=source, message=message), open_heads, cut_heads


def _streams(frame: pd.DataFrame) -> dict[tuple[str, ...], np.ndarray]:
    """The rows of each stream of a frame's records (host, source, and process where the format names it), in order."""
    keys = [frame["host"].fillna(""), frame["source"].fillna("")] + ([frame["process"]] if "process" in frame else [])
    return frame.groupby(keys, sort=False).indices


def _regroup(owner: np.ndarray, first: np.ndarray, moved: np.ndarray, to: np.ndarray) -> None:
    """`owner` (each line's event, by its first line) after the records `moved` joined the records `to` (indices of
    records): their lines are now those records' events'."""
    remap = np.arange(len(owner))
    remap[first[moved]] = first[to[moved]]
    held = owner >= 0
    owner[held] = remap[owner[held]]


def _inner_format(url: str, wrapper: LogFormat, formats: dict[str, LogFormat], year: int) -> LogFormat | None:
    """The format of the application lines a wrapping format's records carry in `url`: the one `detect` finds on the
    texts of the file's first records (read from its head, so that every read of the file finds the same), when it
    reads at least half of them; None where none does (plain output, a mixture)."""
    head = file_head(url)
    lines = head.splitlines() if head.endswith("\n") else head.splitlines()[:-1]  # a line cut by the head's end is left out
    texts = []
    for line in lines[: SAMPLE * 5]:
        got = wrapper.parse(line, year)
        if got is not None and got["message"].strip() and not _CONTINUATION.match(got["message"]):
            texts.append(got["message"])
        if len(texts) == SAMPLE:
            break
    candidates = {name: f for name, f in formats.items() if not f.wraps and f.document is None and f.per_file is None}
    name = detect(texts, year, candidates) if texts else None
    return candidates[name] if name and candidates[name].fit(texts, year)[0] >= 0.5 else None


def _local_to_utc(frame: pd.DataFrame, lines: pa.Array, by: np.ndarray, timezone: str) -> None:
    """Read the times that their lines write without a zone (`LogFormat.local_time`) as `timezone`'s, and give them in UTC.

    A time a daylight-saving change repeats reads as its first pass (as a sensor file's does); one the change skips,
    which a clock in that zone never shows (a host whose zone was named wrong), as the first time after it.
    """
    rows = frame["line"].to_numpy() - 1
    local = np.zeros(len(rows), bool)
    groups: dict[int, tuple[LogFormat, list[int]]] = {}
    for at, f in enumerate(by[rows]):
        if f is not None:
            groups.setdefault(id(f), (f, []))[1].append(at)
    for f, ats in groups.values():
        if f.local_time is True:
            local[ats] = True
        elif callable(f.local_time):
            texts = lines.take(pa.array(rows[ats], pa.int64())).to_pylist()
            local[ats] = [bool(f.local_time(t)) for t in texts]
    if not local.any():
        return
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.as_unit("us")
    wall = frame.loc[local, "timestamp"].dt.tz_localize(None)
    frame.loc[local, "timestamp"] = wall.dt.tz_localize(timezone, ambiguous=np.ones(len(wall), bool), nonexistent="shift_forward").dt.tz_convert("UTC")


_INNER = r"\[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(?: ([+-]\d{4}))?\]"
"""A stamp with a year inside a message, as HAProxy and web servers write it: `[09/Dec/2013:12:59:46.633]`, `[10/Oct/2000:13:55:36 -0700]`."""


_DAY_US = 86_400 * 10**6


def _days_from_file(frame: pd.DataFrame, dayless: np.ndarray, written: datetime, timezone: str) -> None:
    """Date the events of lines with a time of day alone (read on a year's first day) by the file: the last one on the
    last day that does not put it after the moment the file was last written (on the writer's clock, `timezone`; a
    minute's grace), and each earlier one a day back for every midnight between them (a line's time over 12 hours
    later than the next one's)."""
    rows = np.flatnonzero(dayless[frame["line"].to_numpy() - 1])
    if not rows.size:
        return
    ts = pd.to_datetime(frame["timestamp"], utc=True).dt.as_unit("us")
    micros = ts.array.asi8.copy()
    of_day = micros[rows] % _DAY_US
    back = np.zeros(len(rows), np.int64)
    back[1:] = of_day[1:] < of_day[:-1] - _DAY_US // 2
    days = np.cumsum(back)
    wall = pd.Timestamp(written).tz_convert(timezone).tz_localize(None).value // 1000  # the writer's clock, in µs
    today = wall - wall % _DAY_US
    last = today if today + of_day[-1] <= wall + 60 * 10**6 else today - _DAY_US
    micros[rows] = last - (days[-1] - days) * _DAY_US + of_day
    frame["timestamp"] = pd.to_datetime(micros, unit="us", utc=True)


_HAPROXY_HTTP = re.compile(r"^\S+:\d+ \[[^\]]+\] \S+ \S+/\S+ (?:-?\d+/){4}\+?-?\d+ (\d{3}) ")
"""HAProxy's HTTP log (`option httplog`): client, `[accept date]`, frontend, backend/server, five timers, then the status."""


def _haproxy_levels(frame: pd.DataFrame) -> None:
    """HAProxy's HTTP request lines, which syslog carries without a level, take their status's (5xx error, 4xx warning,
    else info), as access logs are counted; its TCP lines and its own messages keep theirs."""
    rows = (frame["source"] == "haproxy").to_numpy() & frame["level"].isna().to_numpy()
    if not rows.any():
        return
    status = frame["message"][rows].str.extract(_HAPROXY_HTTP, expand=False).dropna()
    if len(status):
        frame.loc[status.index, "level"] = [http_level(int(code)) for code in status]


def _inner_dates(frame: pd.DataFrame, yearless: np.ndarray) -> None:
    """Give events of lines without a year the dated stamp their message carries, and mark them as having a year."""
    rows = yearless[frame["line"].to_numpy() - 1]
    found = frame["message"][rows].str.extract(_INNER)
    hit = found[0].notna()
    if not hit.any():
        return
    text = found[0][hit]
    text = text.where(text.str.contains(".", regex=False), text + ".0")
    ts = pd.to_datetime(text + " " + found[1][hit].fillna("+0000"), format="%d/%b/%Y:%H:%M:%S.%f %z", errors="coerce", utc=True)
    ok = ts.notna()
    at = ts.index[ok]
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.as_unit("us")
    frame.loc[at, "timestamp"] = ts[ok].dt.as_unit("us")
    yearless[frame.loc[at, "line"].to_numpy() - 1] = False


def _read_document(url: str, data: bytes, candidates: list[LogFormat], written: datetime) -> LogEvents | None:
    """The events of a file that is one document of records (`LogFormat.document`), its records counted as its lines;
    None when none of the `candidates` (the format named, or every one) reads documents, or reads this one."""
    for f in candidates:
        events = f.document(data) if f.document is not None else None
        if events is None or all(isinstance(got, str) for got in events):  # not a document, or one of data, not of logs
            continue
        out = LogEvents(url=url, format=f.name, lines=len(events), end=len(data))
        kept = []
        for number, got in enumerate(events, 1):
            if isinstance(got, str):
                out.quarantined.append({"line": number, "reason": f"record {number} of the document is not a log record (no message, or a time that is none)", "text": got})
            else:
                kept.append({**got, "line": number})
        out.event_lines = len(kept)
        if kept:
            frame = pd.DataFrame(kept, columns=[*EVENT_FIELDS, "line"])
            frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).ffill().bfill().fillna(pd.Timestamp(written))
            out.frame = frame
        return out
    return None


def _year_before(frame: pd.DataFrame, yearless: np.ndarray, written: datetime) -> None:
    """Move the events of lines without a year that fall over a day after the file was written to the year before."""
    ts = pd.to_datetime(frame["timestamp"], utc=True)
    late = yearless[frame["line"].to_numpy() - 1] & (ts > pd.Timestamp(written) + pd.Timedelta(days=1)).to_numpy()
    if late.any():
        ts = ts.copy()
        ts[late] = ts[late] - pd.DateOffset(years=1)
        frame["timestamp"] = ts
