"""Sensor file formats, registered by name.

A format turns one file into a raw Arrow table (any columns), the source
line number of each row, and the lines it could not parse; `sources.py`
then maps the columns to the canonical long table (long or wide layout,
timestamps, units). Reading a file by its format (`read_readings`,
`read_pieces`, `tails`) lives here, above both: `sources` knows files and
the canonical table, not the formats. Adding a format is one module in this package that
calls `register_format` (or a module named by an entry point in the group
`lepton_flow.sensor_formats`); its name becomes a valid choice of the
`format` parameter of `sensor_ingest` and its suffixes are discovered.
`lepton-flow new NAME --kind sensor-format` writes one that works, with its test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np
import pyarrow as pa

from lepton_flow.plugins import GROUPS, Registry
from lepton_flow.settings import COMPRESSED
from lepton_flow.sources import PIECE_BYTES, ParsedFile, ReadOptions, SourceError, SourceFile, is_compressed, parsed_file


@dataclass
class SensorFormat:
    """`read(url, options)` -> (raw table, line number per row, parse errors); `example(path)` writes a small valid file.

    `pieces(url, options, piece_bytes)`, where a format has it, yields the
    same triple for one bounded piece of the file at a time (line numbers
    in the file), so that a file of any size is read in bounded memory; a
    format without it is read whole. `tails`: `pieces` takes a
    `formats.lines.Span` as `span`, so a file that grows is read from where
    the last run stopped (line-oriented formats).
    """

    name: str
    suffixes: tuple[str, ...]
    read: Callable[..., tuple[pa.Table, np.ndarray, list]]
    example: Callable[[str], None]
    description: str = ""
    pieces: Callable[..., Iterator[tuple[pa.Table, np.ndarray, list]]] | None = None
    tails: bool = False


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


def known_format(value: str) -> str:
    """`value` if it is `auto` or a registered format's name; `ValueError` listing the known ones otherwise."""
    known = format_names()
    if value != "auto" and value not in known:
        raise ValueError(f"unknown format {value!r}; known: auto, {', '.join(known)}")
    return value


def file_format(url: str, requested: str = "auto") -> str:
    """The format a file is read with: `requested`, or the one its suffix names (`.gz` aside)."""
    if requested != "auto":
        try:
            return known_format(requested)
        except ValueError as exc:
            raise SourceError(f"{url}: {exc}") from None
    known = by_suffix()
    path = PurePosixPath(url.split("?", 1)[0])
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSED:
        suffixes = suffixes[:-1]
    fmt = known.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise SourceError(f"{url}: unsupported file type (known: {', '.join(sorted(known))}, optionally .gz, .bz2 or .xz)")
    return fmt


def is_supported(url: str) -> bool:
    try:
        file_format(url)
    except SourceError:
        return False
    return True


def _not_text(url: str, exc: UnicodeDecodeError) -> SourceError:
    return SourceError(f"{url}: not UTF-8 text (byte {exc.start}): a binary file, or text in another encoding")


def read_readings(url: str, options: ReadOptions | None = None) -> ParsedFile:
    """Parse one source file into the canonical long table.

    Raises `SourceError` (naming the file) when the file as a whole cannot be
    read; single bad lines come back as `ParsedFile.errors`.
    """
    options = options or ReadOptions()
    try:
        raw, lines, errors = formats()[file_format(url, options.format)].read(url, options)
    except UnicodeDecodeError as exc:
        raise _not_text(url, exc) from exc
    return parsed_file(raw, lines, errors, url, options)


def tails(file: SourceFile, options: ReadOptions) -> bool:
    """Whether a file of this format, stored as it is, can be read from where an earlier read stopped (plain line-oriented
    text; not UTF-16, which is read as UTF-8 and is known by its content instead)."""
    fmt = formats().get(file_format(file.url, options.format))
    return bool(fmt and fmt.tails and not is_compressed(file.url) and not file.utf16)


def read_pieces(url: str, options: ReadOptions | None = None, piece_bytes: int = PIECE_BYTES, span=None) -> Iterator[ParsedFile]:
    """`read_readings` a bounded piece at a time: one `ParsedFile` per piece, for formats that can be cut (CSV, JSON Lines), else one.

    Each piece is judged on its own (epoch units, readings far from the
    rest): a piece holds over a million readings, enough to judge by.
    `span` (a `formats.lines.Span`, for a file that `tails`) reads part of
    the file and says how far the read went.
    """
    options = options or ReadOptions()
    fmt = formats()[file_format(url, options.format)]
    if fmt.pieces is None:
        yield read_readings(url, options)
        return
    try:
        for raw, lines, errors in fmt.pieces(url, options, piece_bytes, **({"span": span} if span is not None else {})):
            yield parsed_file(raw, lines, errors, url, options)
    except UnicodeDecodeError as exc:
        raise _not_text(url, exc) from exc
