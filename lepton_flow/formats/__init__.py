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
