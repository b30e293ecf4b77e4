"""JSON Lines (optionally gzipped): one object per line; nested values are kept as JSON text."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa

from lepton_flow.formats import SensorFormat, register_format, whole
from lepton_flow.formats.lines import Span, line_pieces, long_line_errors
from lepton_flow.sources import CORRUPT, PIECE_BYTES, ParseError, ReadOptions, SourceError, screened_lines


def _parse(fh, first_line: int = 1) -> tuple[pa.Table, np.ndarray, list[ParseError]]:
    """The JSON lines of an open `fh`, its first line being line `first_line` of the file."""
    records: list[dict] = []
    lines: list[int] = []
    errors: list[ParseError] = []
    shift = first_line - 1
    for number, raw, bad in screened_lines(fh, "JSON"):
        number += shift
        if bad is not None:
            errors.append(ParseError(number, bad.reason, bad.text))
            continue
        text = raw.decode("utf-8")
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            errors.append(ParseError(number, f"invalid JSON: {exc.msg} (column {exc.colno})", text[:500]))
            continue
        if not isinstance(obj, dict):
            errors.append(ParseError(number, f"a JSON line must be an object: found a {type(obj).__name__}", text[:500]))
            continue
        records.append({k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in obj.items()})
        lines.append(number)
    if not records:
        return pa.table({}), np.zeros(0, np.int64), errors
    frame = pd.DataFrame.from_records(records)
    for name in frame.columns:
        # A field holding numbers on some lines and text (or nested JSON) on
        # others is kept as text; the canonical mapping judges it cell by cell.
        kinds = {type(v) for v in frame[name] if v is not None and v == v}
        if len(kinds) > 1 and not kinds <= {int, float}:
            frame[name] = frame[name].map(lambda v: v if v is None or v != v else str(v))
    table = pa.Table.from_pandas(frame.astype(object).where(frame.notna(), None), preserve_index=False)
    return table, np.asarray(lines, np.int64), errors


def read(url: str, options: ReadOptions | None = None) -> tuple[pa.Table, np.ndarray, list[ParseError]]:
    """The whole file: its pieces (`pieces`) put together."""
    return whole(pieces(url, options, PIECE_BYTES))


def pieces(url: str, options: ReadOptions | None, piece_bytes: int, span: Span | None = None):
    """The file a bounded piece of whole lines at a time (see `formats.lines.line_pieces`)."""
    long_lines: list[tuple[int, int]] = []
    try:
        for _, first_line, text in line_pieces(url, piece_bytes, header=False, long_lines=long_lines, span=span):
            table, lines, errors = _parse(io.BytesIO(text), first_line)
            yield table, lines, long_line_errors(errors, long_lines, "JSON")
    except CORRUPT as exc:
        raise SourceError(f"{url}: cannot be read (truncated or corrupt?): {exc}") from exc


def example(path: str) -> None:
    with open(path, "w") as fh:
        fh.write('{"timestamp": 1767225600000, "sensor_id": "s1", "metric": "humidity", "value": 40.5, "unit": "%"}\n')
        fh.write('{"timestamp": 1767225630000, "sensor_id": "s1", "metric": "humidity", "value": 40.7, "unit": "%"}\n')


FORMAT = register_format(SensorFormat("jsonl", (".jsonl", ".ndjson", ".json"), read, example, __doc__.splitlines()[0], pieces=pieces, tails=True))
