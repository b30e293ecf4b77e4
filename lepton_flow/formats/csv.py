"""CSV and TSV (optionally gzipped): header row, comma or tab separated, long or wide layout."""

from __future__ import annotations

import contextlib
import csv
import tempfile

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv

from lepton_flow.formats import SensorFormat, register_format
from lepton_flow.sources import BOM, CORRUPT, MAX_LINE_BYTES, META_NAMES, SENSOR_NAMES, TIMESTAMP_NAMES, ParseError, ReadOptions, SourceError, open_source, screened_lines


DELIMITERS = (",", "\t", ";", "|")


def _header(url: str) -> tuple[list[str], str]:
    """The header's column names and the file's delimiter (the most frequent of `DELIMITERS` in the header)."""
    with open_source(url) as fh:
        first = fh.readline(MAX_LINE_BYTES + 1)
    first = first.removeprefix(BOM)
    if b"\0" in first or len(first) > MAX_LINE_BYTES:
        raise SourceError(f"{url}: line 1 is not a CSV header (binary content, or over {MAX_LINE_BYTES:,} bytes)")
    try:
        text = first.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{url}: line 1 (the header) is not UTF-8 text (byte {exc.start}): a binary file, or another encoding") from exc
    delimiter = "\t" if ".tsv" in url.lower() else max(DELIMITERS, key=text.count)
    return next(csv.reader([text], delimiter=delimiter), []), delimiter


def _screened(url: str, spool) -> tuple[list[int], list[ParseError]]:
    """Copy the file's lines into `spool`, leaving out blank lines, lines over `MAX_LINE_BYTES` and lines that are not UTF-8.

    Returns the physical line number of each line copied (header first) and
    the lines left out as `ParseError`s: the slow path, taken only when the
    fast one meets such a line.
    """
    copied: list[int] = []
    left_out: list[ParseError] = []
    with open_source(url) as fh:
        for number, raw, bad in screened_lines(fh, "CSV"):
            if bad is not None:
                left_out.append(bad)
                continue
            if not raw.strip():
                continue
            copied.append(number)
            spool.write(raw if raw.endswith(b"\n") else raw + b"\n")
    return copied, left_out


def _rewound(spool):
    spool.seek(0)
    return contextlib.nullcontext(spool)


def read(url: str, options: ReadOptions) -> tuple[pa.Table, np.ndarray, list[ParseError]]:
    invalid: list[ParseError] = []
    physical: list[int] | None = None  # line numbers of the rows parsed, when blank or bad lines were left out

    def on_invalid(row) -> str:
        number = int(row.number or 0)
        if physical is not None and 0 < number <= len(physical):
            number = physical[number - 1]
        invalid.append(ParseError(number, f"expected {row.expected_columns} fields, found {row.actual_columns}", row.text[:500]))
        return "skip"

    try:
        header, delimiter = _header(url)
    except CORRUPT as exc:
        raise SourceError(f"{url}: cannot be read as CSV (truncated or corrupt?): {exc}") from exc
    text_cols = {h: pa.string() for h in header if h.strip().lower() in TIMESTAMP_NAMES + SENSOR_NAMES + META_NAMES + ("metric",)}
    read_opts = pv.ReadOptions(use_threads=False, block_size=8 << 20)
    parse_opts = pv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid)

    def parse(opener) -> pa.Table:
        def attempt(types: dict) -> pa.Table:
            invalid.clear()
            with opener() as source:
                return pv.read_csv(source, read_options=read_opts, parse_options=parse_opts, convert_options=pv.ConvertOptions(column_types=types))

        try:
            return attempt(text_cols)
        except pa.ArrowInvalid as exc:
            if "conversion error" not in str(exc):
                raise
            # A later block held text in a column the first block typed as
            # numbers: read every column as text and convert cell by cell.
            return attempt({h: pa.string() for h in header})

    left_out: list[ParseError] = []
    try:
        try:
            table = parse(lambda: open_source(url))
            if any(pa.types.is_binary(t) for t in table.schema.types):
                raise pa.ArrowInvalid("a column holds bytes that are not UTF-8")
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if "Empty CSV file" in str(exc):
                return pa.table({}), np.zeros(0, np.int64), []
            # A line over the block size, or not UTF-8: parse again with such
            # lines left out (and quarantined by number), the rest as usual.
            with tempfile.TemporaryFile() as spool:
                physical, left_out = _screened(url, spool)
                table = parse(lambda: _rewound(spool))
    except pa.ArrowInvalid as exc:
        raise SourceError(f"{url}: cannot be read as CSV: {exc}") from exc
    except CORRUPT as exc:
        raise SourceError(f"{url}: cannot be read as CSV (truncated or corrupt?): {exc}") from exc
    errors = sorted(invalid + left_out, key=lambda e: e.line)
    skipped = {e.line for e in invalid}
    if physical is not None:
        lines = np.array([n for n in physical[1:] if n not in skipped], dtype=np.int64)
        if len(lines) == table.num_rows:
            return table, lines, errors
    # Line numbers of the rows kept: the data lines minus the skipped ones
    # (quoted fields spanning lines are rare in sensor feeds and not counted).
    total = table.num_rows + len(skipped)
    all_lines = np.arange(2, total + 2, dtype=np.int64)
    lines = np.setdiff1d(all_lines, np.array(sorted(skipped), dtype=np.int64), assume_unique=True) if skipped else all_lines
    return table, lines, errors


def example(path: str) -> None:
    with open(path, "w") as fh:
        fh.write("timestamp,sensor_id,metric,value,unit\n2026-01-01T00:00:00Z,s1,temperature,20.5,C\n2026-01-01T00:00:30Z,s1,temperature,20.6,C\n")


FORMAT = register_format(SensorFormat("csv", (".csv", ".tsv"), read, example, __doc__.splitlines()[0]))
