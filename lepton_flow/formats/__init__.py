"""Sensor file formats, registered by name.

A format turns one file into a raw Arrow table (any columns), the source
line number of each row, and the lines it could not parse; `sources.py`
then maps the columns to the canonical long table (long or wide layout,
timestamps, units). Adding a format is one module in this package that
calls `register_format` (or a module named by an entry point in the group
`lepton_flow.sensor_formats`); its name becomes a valid choice of the
`format` parameter of `sensor_ingest` and its suffixes are discovered.
`lepton-flow new NAME --kind sensor-format` writes one that works, with its test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from lepton_flow.plugins import GROUPS, Registry


@dataclass
class SensorFormat:
    """`read(url, options)` -> (raw table, line number per row, parse errors); `example(path)` writes a small valid file.

    `pieces(url, options, piece_bytes)`, where a format has it, yields the
    same triple for one bounded piece of the file at a time (line numbers
    in the file), so that a file of any size is read in bounded memory; a
    format without it is read whole.
    """

    name: str
    suffixes: tuple[str, ...]
    read: Callable[..., tuple[pa.Table, np.ndarray, list]]
    example: Callable[[str], None]
    description: str = ""
    pieces: Callable[..., Iterator[tuple[pa.Table, np.ndarray, list]]] | None = None


_REGISTRY = Registry("sensor format", __name__, __path__, GROUPS["formats"])


def register_format(fmt: SensorFormat) -> SensorFormat:
    taken = {s: f.name for f in _REGISTRY._items.values() for s in f.suffixes if f.name != fmt.name}
    clash = [s for s in fmt.suffixes if s in taken]
    if clash:
        raise ValueError(f"sensor format {fmt.name!r}: suffix(es) {clash} already belong to {taken[clash[0]]!r}")
    return _REGISTRY.register(fmt.name, fmt)


def formats() -> dict[str, SensorFormat]:
    return _REGISTRY.items()


def format_names() -> list[str]:
    return sorted(formats())


def by_suffix() -> dict[str, str]:
    return {s: f.name for f in formats().values() for s in f.suffixes}


LONG_LINE = b"\x00\n"
"""What stands in a piece for a line too long to hold: it fails to parse at its own line number, and `long_line_errors` gives the reason."""


def line_pieces(url: str, piece_bytes: int, header: bool, long_lines: list[tuple[int, int]] | None = None) -> Iterator[tuple[bytes, int, bytes]]:
    """A line-oriented file (gzip undone) cut into pieces of whole lines of about `piece_bytes`: `(header, first line number, text)` each.

    `header` True keeps line 1 apart and hands it with every piece (a CSV
    piece parses under it); the text's first line is line `first line
    number` of the file. A line over `MAX_LINE_BYTES` that does not fit in
    two pieces is never held whole: it is read past, `LONG_LINE` stands in
    its place, and `(line number, size)` is appended to `long_lines`. So
    memory stays bounded by the piece size whatever the file holds.
    """
    from lepton_flow.sources import MAX_LINE_BYTES, open_source

    piece_bytes = max(piece_bytes, 1)
    longest = max(2 * piece_bytes, MAX_LINE_BYTES)
    with open_source(url) as fh:
        head = fh.readline(MAX_LINE_BYTES + 1) if header else b""
        line = 2 if header else 1
        carry = b""
        while True:
            block = fh.read(piece_bytes)
            if not block:
                if carry:
                    yield head, line, carry
                return
            text = carry + block if carry else block
            carry = b""
            cut = text.rfind(b"\n") + 1
            if cut:
                carry = text[cut:]
                yield head, line, text[:cut]
                line += text.count(b"\n", 0, cut)
                continue
            # The piece lies inside one line: read on to its end, as far as a line may go.
            text += fh.readline(max(longest - len(text), 0) + 1)
            if text.endswith(b"\n") or len(text) <= longest:  # the line's end, or the file's
                yield head, line, text
                line += 1
                continue
            size = len(text)  # longer than a line may be: read past it, a piece at a time
            while (rest := fh.readline(piece_bytes)) and not rest.endswith(b"\n"):
                size += len(rest)
            size += len(rest)
            if long_lines is not None:
                long_lines.append((line, size))
            yield head, line, LONG_LINE
            line += 1


def long_line_errors(errors: list, long_lines: list[tuple[int, int]], kind: str) -> list:
    """`errors` with the reason of each line `line_pieces` stood in for saying what it was (a line of so many bytes)."""
    from lepton_flow.sources import MAX_LINE_BYTES, ParseError

    sizes = dict(long_lines)
    if not sizes:
        return errors
    return [ParseError(e.line, f"line of {sizes[e.line]:,} bytes, over the {MAX_LINE_BYTES:,} a {kind} line may have", "") if e.line in sizes else e for e in errors]


def whole(pieces: Iterator[tuple[pa.Table, np.ndarray, list]]) -> tuple[pa.Table, np.ndarray, list]:
    """A file's pieces as one (raw table, lines, errors): the `read` of a format that has `pieces`."""
    tables, lines, errors = [], [], []
    for table, piece_lines, piece_errors in pieces:
        errors += piece_errors
        if table.num_rows:
            tables.append(table)
            lines.append(piece_lines)
    if not tables:
        return pa.table({}), np.zeros(0, np.int64), errors
    try:
        table = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a column typed differently piece to piece: text, judged cell by cell later
        names = list(dict.fromkeys(n for t in tables for n in t.column_names))
        tables = [pa.table({n: t.column(n).cast(pa.string()) if n in t.column_names else pa.nulls(t.num_rows, pa.string()) for n in names}) for t in tables]
        table = pa.concat_tables(tables)
    return table, np.concatenate(lines), errors
