"""What a log format is: the event fields, the `LogFormat` record, and helpers the formats' all-at-once parsers share.

Kept apart from the registry (`lepton_flow.logs.formats`) so that layouts
(`lepton_flow.logs.layout`) build on it while the registry builds on them.
"""

from __future__ import annotations

import re

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

EVENT_FIELDS = ("timestamp", "host", "source", "level", "message")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
"""English month abbreviations, as syslog and access logs write them (January first)."""


@dataclass
class LogFormat:
    """`parse(line, year)` -> event dict or None; `examples` are lines it must parse (the contract tests use them)."""

    name: str
    parse: Callable[[str, int], dict | None]
    examples: list[str] = field(default_factory=list)
    description: str = ""
    # Template mining's similarity threshold for this format's messages (see lepton_flow.logs.drain).
    drain_similarity: float = 0.4
    # Optional: `parse_many(lines, year)` parses an Arrow string array at
    # once and returns (indices of the lines it parsed, an Arrow table of
    # EVENT_FIELDS for them, timestamps in UTC). It may leave any line out
    # (those go to `parse`), but must give each line it takes the event
    # `parse` gives: tests check the two agree.
    parse_many: Callable | None = None
    # Its lines carry no year: `parse` takes the caller's, and the reader
    # moves an event dated over a day after the file's modification time to
    # the year before (December's lines in a file written in January).
    yearless: bool = False
    # Its lines carry a time of day but no date (Prefect's console log, `%H:%M:%S`): `parse` dates them on the
    # caller's year's first day, and the reader puts them on the days that end the file when it was last written
    # (a midnight between two lines is a day back; such a file is read whole, not in pieces).
    dayless: bool = False
    # Its lines carry no time at all (logcat's brief, Python's default
    # layout): `parse` gives the timestamp None and the reader dates each
    # event when the file was last written.
    timeless: bool = False
    # How much beyond its own software's lines it accepts (a catch-all
    # layout, a layout that allows spaces in program names): among formats
    # that fit a sample equally well, the narrowest is the file's.
    breadth: int = 0
    # A regular expression for lines it does not parse that continue the event before them (a stanza's body, up to
    # a blank line), beside the stack-trace lines every format's events keep.
    continues: str | None = None
    # A regular expression for lines of its own that are not events (W3C's `#Fields:` directives): counted with the
    # blank lines, neither events nor quarantined.
    directives: str | None = None
    # For a format whose lines' meaning a line of the file gives (W3C's `#Fields:`): `per_file(url)` is the format to
    # read that one file with (with state of its own, seeded from the file's head, so that a read from an offset
    # knows it too), and `on_directive(line)` is given each directive line as the read meets it.
    per_file: Callable[[str], LogFormat] | None = None
    # For a format whose files are one document (a JSON array of records): `document(data)` is the event of each record
    # of the whole file's bytes (the record's text for one that is not a log's), None when they are not such a document.
    document: Callable[[bytes], list[dict | str] | None] | None = None
    # For such a format: `document_head(first_bytes)` tells from a file's first 4 kB whether it may be one of its
    # documents (a JSON value opening, a CSV header naming a time), so that the reader reads that file whole.
    document_head: Callable[[bytes], bool] | None = None
    on_directive: Callable[[str], None] | None = None
    # Its records carry an application's lines (a container runtime's: Docker's json-file, the CRI): a record whose text
    # goes on from the one before (a stack trace's frame, a line of its own to the runtime) joins that record's event,
    # and the application's format, found from the file's first records, reads its fields from each record's text.
    wraps: bool = False
    # Each of its lines is a record a program handed to a logger (syslog, the journal): a record that continues the one
    # before of the same host and program (a stack trace sent a line at a time) joins that record's event, as a wrapping
    # format's records do; the texts are the programs' own, not read by another format.
    records: bool = False
    # For such a format: a regular expression (RE2) whose group `process` is the process id on a record's line (syslog's
    # `program[pid]:`): a stream is a host's program's process, so a record of another run of the program (sudo's
    # indented `   alice : TTY=...` for each command) never joins the one before.
    process: str | None = None
    # For a wrapping format: a regular expression (RE2) for its records that the writer cut from a longer line (the
    # CRI's `P`, Docker's record without a line end, both at 16 kB): the next record of the same stream goes on with it.
    partial: str | None = None
    # Its writer escapes control characters as `#` and three octal digits (rsyslog's default: a tab `#011`, a line end
    # `#012`, a terminal colour code `#033[...`): the reader puts them back in the messages.
    escaped: bool = False
    # Masks of its own, (RE2 pattern, replacement) without look-around, applied to its messages before the run's masks:
    # for a value its program writes in a varying number of tokens (Proxifier's `lifetime <1 sec` beside
    # `lifetime 00:01`), which template mining would otherwise take for two events of different lengths.
    masks: list[tuple[str, str]] = field(default_factory=list)
    # Whether its times are written without a zone, in the writer's local time (BSD syslog, log4j's default layouts):
    # True for all its lines, or a function of the line for formats whose lines may carry one (`+02:00`, `Z`).
    # The reader reads them as UTC unless a run names the time zone they were written in.
    local_time: bool | Callable[[str], bool] = False

    def premask(self, messages):
        """An Arrow string array of messages with this format's own masks applied."""
        import pyarrow.compute as pc

        for pattern, token in self.masks:
            messages = pc.replace_substring_regex(messages, pattern, token)
        return messages

    def detect(self, lines: list[str], year: int = 1970) -> float:
        """Share of the sample lines this format parses."""
        return self.fit(lines, year)[0]

    def fit(self, lines: list[str], year: int = 1970) -> tuple[float, float, float]:
        """How well this format reads the sample: (share of lines parsed, fields it fills per line, share of the text left to the message).

        The fields are host, source, level and a time of the line's own; a
        format that reads more of each line into fields is the more specific.
        """
        sample = [line for line in lines if line.strip()]
        if not sample:
            return 0.0, 0.0, 1.0
        events = [self.parse(line, year) for line in sample]
        got = [(e, line) for e, line in zip(events, sample) if e is not None]
        if not got:
            return 0.0, 0.0, 1.0
        filled = sum(sum(e[k] is not None for k in ("timestamp", "host", "source", "level")) for e, _ in got) / len(got)
        # White space a layout leaves before the message is no text left (a trace's indented lines, each a record).
        left = sum(len(e["message"].strip()) / max(len(line), 1) for e, line in got) / len(got)
        read = len(got)
        if self.directives:
            directive = re.compile(self.directives)
            read += sum(e is None and directive.match(line) is not None for e, line in zip(events, sample))
        if self.continues:  # a stanza's body lines are read too, as its event's
            body, inside = re.compile(self.continues), False
            for e, line in zip(events, sample):
                inside = e is not None or (inside and body.match(line) is not None)
                read += e is None and inside
        return read / len(sample), filled, left


def with_header(fmt: LogFormat, header: Callable[[str], Any]) -> LogFormat:
    """`fmt`, whose files each have a header that explains their lines (W3C's `#Fields:`, Zeek's `#fields`, a VPC flow
    log's field names): `header(url)` reads it from the file's head and has `parse` (a line, by it) and `directive`
    (a header line met while reading, which replaces it)."""
    from dataclasses import replace

    def per_file(url: str) -> LogFormat:
        read = header(url)
        return replace(fmt, parse=read.parse, on_directive=read.directive)

    fmt.per_file = per_file
    return fmt


def file_head(url: str, size: int = 64 << 10) -> str:
    """The first `size` bytes of a (possibly compressed) file as text, for a format whose lines a header in it explains
    (W3C's `#Fields:`, Zeek's `#fields`); empty where it cannot be read (the read itself then says why, naming the file)."""
    from lepton_flow.sources import open_source

    try:
        with open_source(url) as fh:
            return fh.read(size).decode("utf-8", "replace")
    except (OSError, ValueError):
        return ""


SYSLOG_PROCESS = r"^[^\[]*?\[(?P<process>\d+)\]:"
"""The process id of a syslog line (`program[pid]:`, the line's first bracket), for `LogFormat.process`."""
JOURNALCTL_MARKS = r"^-- (?:Logs begin at|Journal begins at|Boot [0-9a-f]{32}|No entries|Reboot)\b.*--$"
"""The lines `journalctl` writes between entries in its text outputs (`-- Boot 3a5f...  --`, `-- No entries --`)."""


def plain_lines(lines, pattern: str | None = None):
    r"""Arrow booleans: the lines RE2 reads as Python's `re` would, and (with `pattern`) that RE2 matches.

    That is, ASCII lines (RE2's `\d`, `\w` and `\s` are ASCII, Python's are
    not) without \x0b or \x1c-\x1f (white space to Python's `\s`, not to RE2's).
    """
    import pyarrow.compute as pc

    ok = pc.and_(pc.string_is_ascii(lines), pc.invert(pc.match_substring_regex(lines, r"[\x0b\x1c-\x1f]")))
    return pc.and_(ok, pc.match_substring_regex(lines, pattern)) if pattern else ok


def take_lines(lines, ok):
    """(indices, lines) of the lines an Arrow boolean array marks (null: not marked), for `parse_many` to parse."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    index = np.flatnonzero(pc.fill_null(ok, False).to_numpy(zero_copy_only=False))
    return index, lines.take(pa.array(index, pa.int64()))


def keep_exact(index, table, exact):
    """`parse_many`'s answer: the rows whose times `exact` confirms (see `time_digits`)."""
    keep = exact.to_numpy(zero_copy_only=False)
    return (index, table) if keep.all() else (index[keep], table.filter(exact))


def time_digits(ts):
    """yyyymmddHHMMSS of each time of an Arrow timestamp array, as integers, for `parse_many` to compare with the text.

    Arrow's `strptime` rolls 31 April or second 60 over where `datetime` (and so `parse`) refuses them.
    """
    import pyarrow.compute as pc

    total = pc.year(ts)
    for part in (pc.month, pc.day, pc.hour, pc.minute, pc.second):
        total = pc.add(pc.multiply(total, 100), part(ts))
    return total


def http_level(status: int) -> str:
    """An HTTP response's level, as access logs are counted: 5xx error, 4xx warning, else info."""
    return "error" if status >= 500 else "warning" if status >= 400 else "info"


def event(timestamp: datetime, host: str | None, source: str | None, level: str | None, message: str) -> dict:
    return {"timestamp": timestamp, "host": host, "source": source, "level": level, "message": message}


def zoneless(text) -> bool:
    """Whether a time is ISO 8601 text without a zone (python-json-logger's `asctime`, `2026-03-01 12:00:00,123`): the
    writer's local time. An epoch, or text with an offset or `Z`, is the instant it says."""
    if not isinstance(text, str):
        return False
    try:
        return datetime.fromisoformat(text).tzinfo is None
    except ValueError:
        return False
