"""Log formats, registered by name.

A format parses one line into an event, a dict with `timestamp` (a
timezone-aware `datetime`), `host`, `source`, `level` and `message`, or
returns None for a line it does not recognise (the caller quarantines it
with its file and line number). Adding a format is one module in this
package that calls `register_log_format` (or a module named by an entry
point in the group `lepton_flow.log_formats`); most are a layout
(`lepton_flow.logs.layout.layout_format`, see `log4j.py`), and a user can
define one without code as `<data root>/log-formats/NAME.toml`
(`folder_formats`). `lepton-flow new NAME --kind log-format` writes one
that works, with its test.
"""

from __future__ import annotations

import re
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
    # Its lines carry no time at all (logcat's brief, Python's default
    # layout): `parse` gives the timestamp None and the reader dates each
    # event when the file was last written.
    timeless: bool = False
    # How much beyond its own software's lines it accepts (a catch-all
    # layout, a layout that allows spaces in program names): among formats
    # that fit a sample equally well, the narrowest is the file's.
    breadth: int = 0

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
        left = sum(len(e["message"]) / max(len(line), 1) for e, line in got) / len(got)
        return len(got) / len(sample), filled, left


_REGISTRY = Registry("log format", __name__, __path__, GROUPS["log_formats"])


def register_log_format(fmt: LogFormat) -> LogFormat:
    return _REGISTRY.register(fmt.name, fmt)


def log_formats() -> dict[str, LogFormat]:
    """The registered formats and those defined in the formats folder (`Settings.log_formats_dir`)."""
    from lepton_flow.settings import get_settings

    return {**folder_formats(get_settings().log_formats_dir), **_REGISTRY.items()}


_FOLDER: dict[str, tuple[tuple, dict[str, LogFormat]]] = {}


def folder_formats(folder: str) -> dict[str, LogFormat]:
    """The formats of `folder`'s `NAME.toml` files: `layout` (or `layouts`, a list), and optional `timestamp`, `description`, `similarity`, `examples`.

    Read again only when the folder's listing or a file's time changes. A
    file that does not make a working format is left out with a warning
    naming it and why (a run never fails for another file's format); so is
    one that would shadow a built-in format.
    """
    import logging
    import tomllib

    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(folder)
        listing = sorted((i["name"], str(i.get("mtime") or i.get("LastModified") or ""), i.get("size")) for i in fs.ls(root, detail=True) if i["name"].endswith(".toml"))
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as exc:
        logging.getLogger("lepton_flow").warning("log formats folder %s cannot be listed: %s", folder, exc)
        return {}
    key = tuple(listing)
    if folder in _FOLDER and _FOLDER[folder][0] == key:
        return _FOLDER[folder][1]
    from lepton_flow.logs.layout import LayoutError, layout_format

    builtin = _REGISTRY.items()
    found: dict[str, LogFormat] = {}
    for path, _, _ in listing:
        name = path.rsplit("/", 1)[-1][: -len(".toml")]
        try:
            with fs.open(path, "rb") as fh:
                spec = tomllib.load(fh)
            if name in builtin:
                raise LayoutError(f"a built-in format is called {name!r}; name the file otherwise")
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
                raise LayoutError("a format's name is letters, digits, '_', '.' and '-', at most 64")
            layouts = spec.get("layouts") or spec.get("layout")
            if not layouts:
                raise LayoutError("it has no `layout`")
            found[name] = layout_format(
                name, layouts, spec.get("timestamp") or None, examples=spec.get("examples"),
                description=str(spec.get("description") or f"defined in {path}"), drain_similarity=float(spec.get("similarity", 0.4)),
            )
        except (OSError, ValueError, TypeError, tomllib.TOMLDecodeError) as exc:
            logging.getLogger("lepton_flow").warning("log format file %s left out: %s", path, exc)
    _FOLDER[folder] = (key, found)
    return found


DETECT_SLACK = 0.02
"""Formats that parse within this share of the best are as good a fit; the most specific of them wins."""


def detect(lines: list[str], year: int = 1970, formats: dict[str, LogFormat] | None = None) -> str | None:
    """The most specific format among those that parse (nearly) the most of the sample lines; None if none parses any.

    Most specific: fills the most fields per line, then leaves the least
    text to the message, then accepts the least beyond its own lines
    (`breadth`), then its name (so the answer never depends on the order
    formats were registered in).
    """
    fits = {name: f.fit(lines, year) for name, f in (formats or log_formats()).items()}
    best = max((share for share, _, _ in fits.values()), default=0.0)
    if best <= 0:
        return None
    near = [name for name, (share, _, _) in fits.items() if share >= best - DETECT_SLACK]
    formats = formats or log_formats()
    return min(near, key=lambda name: (-round(fits[name][1], 6), round(fits[name][2], 6), formats[name].breadth, name))


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
