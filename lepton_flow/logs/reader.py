"""Reading a log file into events: detect its format, keep multi-line entries together, quarantine what no format parses.

Accounting per file: lines read = lines in events + quarantined lines + blank
lines. A stack trace or other continuation (a line that does not parse and
starts with white space, `Traceback`, `Caused by` or `at `) joins the event
before it; any other line that does not parse is quarantined with its line
number and reason, as is a line over `MAX_LINE` characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import fsspec

from lepton_flow.logs.formats import detect, log_formats
from lepton_flow.sources import CORRUPT, SourceError, open_source

MAX_LINE = 64 * 1024
SAMPLE = 200
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
"""Terminal colour and cursor codes: left out of the text a line is parsed and stored from."""
_CONTINUATION = re.compile(r"^(?:\s|Traceback |Caused by|at |\.\.\. \d+ more|[\w.$]+(?:Error|Exception|Warning|Exit|Interrupt)(?::|$))")


class LogFormatError(ValueError):
    """No registered format parses the file (the message names the file and the formats tried)."""


@dataclass
class LogEvents:
    url: str
    format: str | None
    events: list[dict] = field(default_factory=list)  # each with `line` (its first line number)
    quarantined: list[dict] = field(default_factory=list)  # line, reason, text
    lines: int = 0
    blank: int = 0
    event_lines: int = 0

    @property
    def balanced(self) -> bool:
        return self.lines == self.event_lines + len(self.quarantined) + self.blank


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # lossless for any byte; the text stays readable for most legacy logs


def _file_year(url: str) -> int:
    try:
        fs, path = fsspec.core.url_to_fs(url)
        info = fs.info(path)
        mtime = info.get("mtime") or info.get("LastModified") or info.get("created")
        if isinstance(mtime, datetime):
            return mtime.year
        if mtime:
            return datetime.fromtimestamp(float(mtime), tz=UTC).year
    except (OSError, ValueError, TypeError):
        pass
    return datetime.now(UTC).year


def read_log(url: str, fmt: str = "auto", year: int | None = None) -> LogEvents:
    """Every line of a (possibly gzipped) log file, as events or quarantined lines; `year` for formats without one (default: the file's)."""
    year = year or _file_year(url)
    try:
        with open_source(url) as fh:
            lines = [_ANSI.sub("", _decode(raw).rstrip("\r\n")) for raw in fh]
    except CORRUPT as exc:  # a truncated or corrupt gzip; other OSErrors (the filesystem's) are retried
        raise LogFormatError(f"{url}: cannot be read: {exc}") from exc
    except SourceError as exc:  # a decompression bomb
        raise LogFormatError(str(exc)) from exc
    out = LogEvents(url=url, format=None, lines=len(lines))
    formats = log_formats()
    if fmt == "auto":
        sample = [line for line in lines[: SAMPLE * 5] if line.strip() and len(line) <= MAX_LINE][:SAMPLE]
        fmt = detect(sample, year) if sample else None
        if fmt is None and sample:
            raise LogFormatError(f"{url}: no registered log format parses its lines (tried {', '.join(sorted(formats))})")
    elif fmt not in formats:
        raise LogFormatError(f"unknown log format {fmt!r}; known: {', '.join(sorted(formats))}")
    out.format = fmt
    # Files mix formats (an application's own lines beside syslog-wrapped
    # ones): a line the file's format rejects gets the other formats before
    # quarantine.
    order = [formats[fmt]] + [f for name, f in sorted(formats.items()) if name != fmt] if fmt else []

    def parse(text: str, year: int) -> dict | None:
        for f in order:
            event = f.parse(text, year)
            if event is not None:
                return event
        return None

    for number, text in enumerate(lines, start=1):
        if not text.strip():
            out.blank += 1
            continue
        if len(text) > MAX_LINE:
            out.quarantined.append({"line": number, "reason": f"line longer than {MAX_LINE} characters", "text": text[:500]})
            continue
        event = parse(text, year)
        if event is not None:
            event["line"] = number
            out.events.append(event)
            out.event_lines += 1
        elif out.events and _CONTINUATION.match(text) and out.events[-1]["line"] + _span(out.events[-1]) == number:
            out.events[-1]["message"] += "\n" + text
            out.events[-1]["lines"] = _span(out.events[-1]) + 1
            out.event_lines += 1
        else:
            out.quarantined.append({"line": number, "reason": f"no registered log format parses it (the file's is {fmt})", "text": text[:500]})
    return out


def _span(event: dict) -> int:
    return event.get("lines", 1)
