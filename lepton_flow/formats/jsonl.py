"""JSON Lines (optionally gzipped): one object per line; nested values are kept as JSON text. A `.json` file that is one document (an array of objects, or an object holding one) is read as its records.

Telegraf's JSON (`{"fields": {...}, "name": "cpu", "tags": {...}, "timestamp": 1700000000}`, one per line or its
batch `{"metrics": [...]}`) is read as its points, as is a Prometheus HTTP API query's answer (a `matrix` or
`vector` of series): see `sources.tagged_record`.

An API's or a tool's JSON export is usually a document, pretty-printed:
`[{"timestamp": ..., ...}, ...]` or `{"data": [...]}`. Such a file starts
with `[`, or with a line that is `{` alone; its records are the array's
objects, each numbered by the line it starts on. It is read whole.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa

from lepton_flow.formats import SensorFormat, register_format, whole
from lepton_flow.formats.lines import Span, parsed_pieces, records_table
from lepton_flow.sources import (
    BOM,
    CORRUPT,
    PIECE_BYTES,
    ParseError,
    ReadOptions,
    SourceError,
    open_source,
    record_lists,
    screened_lines,
    tagged_record,
)


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
        if (points := _prometheus(obj, number)) is not None:
            records += points[0]
            lines += [number] * len(points[0])
            errors += points[1]
            continue
        records.append(_flat(obj))
        lines.append(number)
    return records_table(records, lines, errors)


def _flat(obj: dict) -> dict:
    """A record's columns: a Telegraf point's (`fields`, `name`, `tags`, `timestamp`) as its series and metrics
    (`sources.tagged_record`); otherwise as written, nested values as JSON text."""
    if isinstance(obj.get("fields"), dict) and isinstance(obj.get("name"), str) and "timestamp" in obj:
        obj = {"timestamp": obj["timestamp"], **tagged_record(obj["name"], obj["tags"] if isinstance(obj.get("tags"), dict) else {}, obj["fields"])}
    return {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in obj.items()}


def _prometheus(outer, line: int) -> tuple[list[dict], list[ParseError]] | None:
    """The points of a Prometheus HTTP API query's answer (`{"status": "success", "data": {"resultType": "matrix",
    "result": [...]}}`, or a `vector`), all at `line`: each series' samples, its labels the series and `__name__` the
    metric (see `sources.tagged_record`); None for any other object."""
    data = outer.get("data") if isinstance(outer, dict) else None
    if not (isinstance(data, dict) and data.get("resultType") in ("matrix", "vector") and isinstance(data.get("result"), list)):
        return None
    records, errors = [], []
    for series in data["result"]:
        if not isinstance(series, dict):
            errors.append(ParseError(line, f"a series is not an object: {json.dumps(series)[:80]}", ""))
            continue
        labels = dict(series.get("metric") or {})
        name = str(labels.pop("__name__", "value"))
        for sample in series.get("values") or ([series["value"]] if "value" in series else []):
            try:
                stamp, value = sample
                value = float(value)
            except (TypeError, ValueError):
                errors.append(ParseError(line, f"a sample of {name} is not [time, number]: {json.dumps(sample)[:80]}", ""))
                continue
            records.append({"timestamp": stamp, **tagged_record(name, labels, {"": value})})
    return records, errors


def read(url: str, options: ReadOptions | None = None) -> tuple[pa.Table, np.ndarray, list[ParseError]]:
    """The whole file: its pieces (`pieces`) put together."""
    return whole(pieces(url, options, PIECE_BYTES))


def _is_document(url: str) -> bool:
    """Whether a file's text is a JSON document: it starts with `[`, or with a line that is `{` alone, or it is one
    line holding an object with an array of objects in it (`{"data": [{...}, ...]}` written without line breaks)."""
    with open_source(url) as fh:
        head = fh.read(4096).removeprefix(BOM).lstrip()
        if head.startswith(b"[") or head.split(b"\n", 1)[0].strip() == b"{":
            return True
        if not head.startswith(b"{"):
            return False
        first = head if b"\n" in head else head + fh.readline()
        first, rest = first.split(b"\n", 1) if b"\n" in first else (first, b"")
        if rest.strip() or fh.read(64).strip():  # more lines: JSON Lines
            return False
    try:
        obj = json.loads(first)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return False
    return bool(record_lists(obj))


def _document(url: str, text: str) -> tuple[pa.Table, np.ndarray, list[ParseError]]:
    """The records of a JSON document: an array's objects, or those of the one array of objects an object holds."""
    decoder = json.JSONDecoder()
    at = len(text) - len(text.lstrip())
    if text.startswith("{", at):
        try:
            outer = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{url}: line {exc.lineno}: invalid JSON: {exc.msg}") from exc
        if (points := _prometheus(outer, 1)) is not None:  # pretty-printed: its points numbered line 1
            return records_table(points[0], [1] * len(points[0]), points[1])
        arrays = record_lists(outer)
        if len(arrays) != 1:
            raise SourceError(f"{url}: a JSON document of {len(outer)} key(s) ({', '.join(list(outer)[:8])}): expected an array of objects, or an object holding one")
        found = re.search(r'"%s"\s*:\s*\[' % re.escape(json.dumps(arrays[0])[1:-1]), text)
        if found is None:
            raise SourceError(f"{url}: cannot find where the array {arrays[0]!r} starts")
        at = found.end() - 1
    records: list[dict] = []
    lines: list[int] = []
    errors: list[ParseError] = []
    line, counted = 1, 0
    at += 1  # past `[`
    while True:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text) or text[at] == "]":
            break
        line += text.count("\n", counted, at)
        counted = at
        try:
            obj, end = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            rest = text.count("\n", at) + 1
            errors.append(ParseError(exc.lineno, f"invalid JSON: {exc.msg}; the array's {rest} line(s) from line {line} are not read", text[at : at + 500]))
            break
        if isinstance(obj, dict):
            records.append(_flat(obj))
            lines.append(line)
        else:
            errors.append(ParseError(line, f"an array element must be an object: found a {type(obj).__name__}", text[at:end][:500]))
        at = end
    return records_table(records, lines, errors)


def pieces(url: str, options: ReadOptions | None, piece_bytes: int, span: Span | None = None):
    """The file a bounded piece of whole lines at a time (see `formats.lines.line_pieces`); a JSON document whole."""
    try:
        document = _is_document(url)
        if document:
            with open_source(url) as fh:
                data = fh.read()
    except CORRUPT as exc:
        raise SourceError(f"{url}: cannot be read (truncated or corrupt?): {exc}") from exc
    if document:
        text = data.removeprefix(BOM).decode("utf-8")
        if span is not None:  # read whole, and known whole: it grows as a document, not by lines
            span.end, span.lines = len(data), data.count(b"\n")
        yield _document(url, text)
        return
    yield from parsed_pieces(url, piece_bytes, span, "JSON", _parse)


def example(path: str) -> None:
    with open(path, "w") as fh:
        fh.write('{"timestamp": 1767225600000, "sensor_id": "s1", "metric": "humidity", "value": 40.5, "unit": "%"}\n')
        fh.write('{"timestamp": 1767225630000, "sensor_id": "s1", "metric": "humidity", "value": 40.7, "unit": "%"}\n')


FORMAT = register_format(SensorFormat("jsonl", (".jsonl", ".ndjson", ".json"), read, example, __doc__.splitlines()[0], pieces=pieces, tails=True))
