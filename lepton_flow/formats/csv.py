"""CSV and TSV (optionally gzipped): header row, comma or tab separated, long or wide layout."""

from __future__ import annotations

import csv

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.csv as pv

from lepton_flow.formats import SensorFormat, register_format
from lepton_flow.sources import META_NAMES, SENSOR_NAMES, TIMESTAMP_NAMES, ParseError, ReadOptions, SourceError


def _header(url: str) -> list[str]:
    with fsspec.open(url, "rt", compression="infer", encoding="utf-8", errors="replace") as fh:
        first = fh.readline()
    return next(csv.reader([first.lstrip("\ufeff")]), [])


def read(url: str, options: ReadOptions) -> tuple[pa.Table, np.ndarray, list[ParseError]]:
    invalid: list[ParseError] = []

    def on_invalid(row) -> str:
        invalid.append(
            ParseError(int(row.number or 0), f"expected {row.expected_columns} fields, found {row.actual_columns}", row.text[:500])
        )
        return "skip"

    header = _header(url)
    text_cols = {h: pa.string() for h in header if h.strip().lower() in TIMESTAMP_NAMES + SENSOR_NAMES + META_NAMES + ("metric",)}
    delimiter = "\t" if ".tsv" in url.lower() else ","
    read_opts = pv.ReadOptions(use_threads=False, block_size=8 << 20)
    parse_opts = pv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid)

    def attempt(types: dict) -> pa.Table:
        invalid.clear()
        with fsspec.open(url, "rb", compression="infer") as fh:
            return pv.read_csv(fh, read_options=read_opts, parse_options=parse_opts, convert_options=pv.ConvertOptions(column_types=types))

    try:
        try:
            table = attempt(text_cols)
        except pa.ArrowInvalid as exc:
            if "conversion error" not in str(exc):
                raise
            # A later block held text in a column the first block typed as
            # numbers: read every column as text and convert cell by cell.
            table = attempt({h: pa.string() for h in header})
    except (pa.ArrowInvalid, UnicodeDecodeError, EOFError, OSError) as exc:
        if "Empty CSV file" in str(exc):
            return pa.table({}), np.zeros(0, np.int64), []
        raise SourceError(f"{url}: cannot be read as CSV: {exc}") from exc
    # Line numbers of the rows kept: the data lines minus the skipped ones
    # (quoted fields spanning lines are rare in sensor feeds and not counted).
    skipped = np.array(sorted(e.line for e in invalid), dtype=np.int64)
    total = table.num_rows + len(skipped)
    all_lines = np.arange(2, total + 2, dtype=np.int64)
    lines = np.setdiff1d(all_lines, skipped, assume_unique=True) if len(skipped) else all_lines
    return table, lines, invalid


def example(path: str) -> None:
    with open(path, "w") as fh:
        fh.write("timestamp,sensor_id,metric,value,unit\n2026-01-01T00:00:00Z,s1,temperature,20.5,C\n2026-01-01T00:00:30Z,s1,temperature,20.6,C\n")


FORMAT = register_format(SensorFormat("csv", (".csv", ".tsv"), read, example, __doc__.splitlines()[0]))
