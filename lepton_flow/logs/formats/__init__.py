"""Log formats, registered by name.

A format parses one line into an event, a dict with `timestamp` (a
timezone-aware `datetime`), `host`, `source`, `level` and `message`, or
returns None for a line it does not recognise (the caller quarantines it
with its file and line number). Adding a format is one module in this
package that calls `register_log_format` (or a module named by an entry
point in the group `lepton_flow.log_formats`). `lepton-flow new NAME --kind
log-format` writes one that works, with its test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from lepton_flow.plugins import GROUPS, Registry

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

    def detect(self, lines: list[str], year: int = 1970) -> float:
        """Share of the sample lines this format parses: the format with the highest share is the file's."""
        sample = [line for line in lines if line.strip()]
        return sum(self.parse(line, year) is not None for line in sample) / len(sample) if sample else 0.0


_REGISTRY = Registry("log format", __name__, __path__, GROUPS["log_formats"])


def register_log_format(fmt: LogFormat) -> LogFormat:
    return _REGISTRY.register(fmt.name, fmt)


def log_formats() -> dict[str, LogFormat]:
    return _REGISTRY.items()


def detect(lines: list[str], year: int = 1970) -> str | None:
    """The registered format that parses most of the sample lines (None if none parses any)."""
    scores = {name: f.detect(lines, year) for name, f in log_formats().items()}
    best = max(scores, key=scores.get, default=None)
    return best if best is not None and scores[best] > 0 else None


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


def event(timestamp: datetime, host: str | None, source: str | None, level: str | None, message: str) -> dict:
    return {"timestamp": timestamp, "host": host, "source": source, "level": level, "message": message}
