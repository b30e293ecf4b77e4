"""Line-oriented files (CSV, JSON Lines) cut into pieces of whole lines, so that a file of any size is read in bounded memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lepton_flow.sources import (
    CORRUPT,
    MAX_LINE_BYTES,
    ParseError,
    SourceError,
    open_source,
)

LONG_LINE = b"\x00\n"
"""What stands in a piece for a line too long to hold: it fails to parse at its own line number, and `long_line_errors` gives the reason."""


@dataclass
class Span:
    """Which part of a line-oriented file to read, and, once read, how far the read went.

    From byte `start` (the file's first `line_base` lines lie before it; a
    CSV's header is still read from line 1) to the end. Unless `final`, a
    last line without a line end is left for a later read (a file being
    written). Reading sets `end`, the byte after the last line read, and
    `lines`, the file's lines before `end`.
    """

    start: int = 0
    line_base: int = 0
    final: bool = True
    end: int = 0
    lines: int = 0


HEAD_LINES = 20
HEAD_BYTES = 256 << 10


def _head(fh, find_header: Callable[[list[bytes]], tuple[int, int]] | None) -> tuple[list[bytes], bytes, list[bytes], bytes]:
    """(lines before the header, the header line, lines that continue it, what was read after those) from the start of an open file.

    Without `find_header` the header is line 1. With it, the first lines
    (up to `HEAD_LINES` or `HEAD_BYTES`) are read and `find_header` says
    which of them is the header and how many lines after it continue it (a
    units line).
    """
    if find_header is None:
        return [], fh.readline(MAX_LINE_BYTES + 1), [], b""
    lines: list[bytes] = []
    size = 0
    comments = 0  # leading `#` lines (a USGS RDB file's notes run to dozens): the header is looked for after them
    while len(lines) < HEAD_LINES + comments and size < HEAD_BYTES:
        line = fh.readline(MAX_LINE_BYTES + 1)
        if not line:
            break
        lines.append(line)
        size += len(line)
        if comments == len(lines) - 1 and line.startswith(b"#"):
            comments += 1
        if not line.endswith(b"\n"):
            break  # a line longer than a line may be, or the file's end: the rest is the pieces' business
    if not lines:
        return [], b"", [], b""
    at, more = find_header(lines)
    at = min(at, len(lines) - 1)
    more = max(0, min(more, len(lines) - at - 1))
    return lines[:at], lines[at], lines[at + 1 : at + 1 + more], b"".join(lines[at + 1 + more :])


def line_pieces(
    url: str,
    piece_bytes: int,
    header: bool,
    long_lines: list[tuple[int, int]] | None = None,
    span: Span | None = None,
    find_header: Callable[[list[bytes]], tuple[int, int]] | None = None,
    preamble: list[bytes] | None = None,
    continued: list[bytes] | None = None,
) -> Iterator[tuple[bytes, int, bytes]]:
    """A line-oriented file (gzip undone) cut into pieces of whole lines of about `piece_bytes`: `(header, first line number, text)` each.

    `header` True keeps line 1 apart and hands it with every piece (a CSV
    piece parses under it); the text's first line is line `first line
    number` of the file. A line over `MAX_LINE_BYTES` that does not fit in
    two pieces is never held whole: it is read past, `LONG_LINE` stands in
    its place, and `(line number, size)` is appended to `long_lines`. So
    memory stays bounded by the piece size whatever the file holds. `span`
    reads a part of the file (see `Span`). `find_header` (of the first
    lines) picks the header among them and says how many lines after it
    continue it; those are appended to `continued`, and the lines before the
    header (a preamble), where a read starts at the file's start, to
    `preamble`; neither is text.
    """
    span = span or Span()
    piece_bytes = max(piece_bytes, 1)
    longest = max(2 * piece_bytes, MAX_LINE_BYTES)
    head, ahead = b"", b""
    if header and span.start:
        with open_source(url) as fh:
            _, head, after, _ = _head(fh, find_header)
            if continued is not None:
                continued.extend(after)
    with open_source(url, span.start) as fh:
        before: list[bytes] = []
        after: list[bytes] = []
        if header and not span.start:
            before, head, after, ahead = _head(fh, find_header)  # ahead: lines read past those, the text's start
            if preamble is not None:
                preamble.extend(before)
            if continued is not None:
                continued.extend(after)
        pos = span.start or sum(map(len, before)) + len(head) + sum(map(len, after))  # the byte the next text yielded starts at
        line = span.line_base + 1 if span.start else (len(before) + len(after) + 2 if header else 1)
        carry = b""
        try:
            while True:
                block = ahead + fh.read(piece_bytes) if ahead else fh.read(piece_bytes)
                ahead = b""
                if not block:
                    if carry and span.final:
                        yield head, line, _without_nul(carry)
                        pos, line = pos + len(carry), line + 1
                    return
                text = carry + block if carry else block
                carry = b""
                cut = text.rfind(b"\n") + 1
                if cut:
                    carry = text[cut:]
                    yield head, line, _without_nul(text[:cut])
                    pos += cut
                    line += text.count(b"\n", 0, cut)
                    continue
                # The piece lies inside one line: read on to its end, as far as a line may go.
                text += fh.readline(max(longest - len(text), 0) + 1)
                if text.endswith(b"\n") or len(text) <= longest:  # the line's end, or the file's
                    if not text.endswith(b"\n") and not span.final:
                        return  # a partial last line: left for a later read
                    yield head, line, _without_nul(text)
                    pos, line = pos + len(text), line + 1
                    continue
                size = len(text)  # longer than a line may be: read past it, a piece at a time
                while (rest := fh.readline(piece_bytes)) and not rest.endswith(b"\n"):
                    size += len(rest)
                size += len(rest)
                if long_lines is not None:
                    long_lines.append((line, size))
                yield head, line, LONG_LINE
                pos, line = pos + size, line + 1
        finally:
            span.end, span.lines = pos, line - 1


def _without_nul(text: bytes) -> bytes:
    """Text with its NUL bytes taken out: the runs of them a crash leaves where a file's last blocks were never
    written (ext4's delayed allocation), before the rows written after the reboot. Line ends are kept, so line numbers
    stay the file's; a row the crash cut short runs into the next one and is quarantined with it."""
    return text.replace(b"\x00", b"") if b"\x00" in text else text


def long_line_errors(errors: list, long_lines: list[tuple[int, int]], kind: str) -> list:
    """`errors` with the reason of each line `line_pieces` stood in for saying what it was (a line of so many bytes)."""
    sizes = dict(long_lines)
    if not sizes:
        return errors
    return [ParseError(e.line, f"line of {sizes[e.line]:,} bytes, over the {MAX_LINE_BYTES:,} a {kind} line may have", "") if e.line in sizes else e for e in errors]


def parsed_pieces(url: str, piece_bytes: int, span: Span | None, kind: str, parse: Callable) -> Iterator[tuple]:
    """A headerless line-oriented file (JSON Lines, line protocol) a piece at a time, each parsed by `parse(fh,
    first_line)`: `(table, lines, errors)` per piece, a line too long to hold quarantined with its size (`kind` names
    the format in the reason), a corrupt file refused naming it."""
    import io

    long_lines: list[tuple[int, int]] = []
    try:
        for _, first_line, text in line_pieces(url, piece_bytes, header=False, long_lines=long_lines, span=span):
            table, lines, errors = parse(io.BytesIO(text), first_line)
            yield table, lines, long_line_errors(errors, long_lines, kind)
    except CORRUPT as exc:
        raise SourceError(f"{url}: cannot be read (truncated or corrupt?): {exc}") from exc


def records_table(records: list[dict], lines: list[int], errors: list[ParseError]) -> tuple:
    """`(table, line numbers, errors)` of parsed records (dicts of column to value). A field holding numbers on some
    records and text (or nested JSON) on others is kept as text: the canonical mapping judges it cell by cell."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    if not records:
        return pa.table({}), np.zeros(0, np.int64), errors
    frame = pd.DataFrame.from_records(records)
    for name in frame.columns:
        kinds = {type(v) for v in frame[name] if v is not None and v == v}
        if len(kinds) > 1 and not kinds <= {int, float}:
            frame[name] = frame[name].map(lambda v: v if v is None or v != v else str(v))
    table = pa.Table.from_pandas(frame.astype(object).where(frame.notna(), None), preserve_index=False)
    return table, np.asarray(lines, np.int64), errors

