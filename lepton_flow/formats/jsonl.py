"""JSON Lines (optionally gzipped): one object per line; nested values are kept as JSON text."""

from __future__ import annotations

import json

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa

from lepton_flow.formats import SensorFormat, register_format
from lepton_flow.sources import ParseError, ReadOptions, SourceError


def read(url: str, options: ReadOptions | None = None) -> tuple[pa.Table, np.ndarray, list[ParseError]]:
    records: list[dict] = []
    lines: list[int] = []
    errors: list[ParseError] = []
    with fsspec.open(url, "rt", compression="infer", encoding="utf-8", errors="strict") as fh:
        try:
            for number, text in enumerate(fh, start=1):
                if not text.strip():
                    continue
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError as exc:
                    errors.append(ParseError(number, f"invalid JSON: {exc.msg}", text[:500]))
                    continue
                if not isinstance(obj, dict):
                    errors.append(ParseError(number, "a JSON line must be an object", text[:500]))
                    continue
                records.append({k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in obj.items()})
                lines.append(number)
        except UnicodeDecodeError as exc:
            raise SourceError(f"{url}: not UTF-8 text near byte {exc.start}") from exc
    if not records:
        return pa.table({}), np.zeros(0, np.int64), errors
    frame = pd.DataFrame.from_records(records)
    table = pa.Table.from_pandas(frame.astype(object).where(frame.notna(), None), preserve_index=False)
    return table, np.asarray(lines, np.int64), errors


def example(path: str) -> None:
    with open(path, "w") as fh:
        fh.write('{"timestamp": 1767225600000, "sensor_id": "s1", "metric": "humidity", "value": 40.5, "unit": "%"}\n')
        fh.write('{"timestamp": 1767225630000, "sensor_id": "s1", "metric": "humidity", "value": 40.7, "unit": "%"}\n')


FORMAT = register_format(SensorFormat("jsonl", (".jsonl", ".ndjson", ".json"), read, example, __doc__.splitlines()[0]))
