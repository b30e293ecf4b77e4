"""InfluxDB line protocol (Telegraf's `outputs.file` default, `influx` exports): `measurement,tag=v,... field=1.5,count=2i 1700000000000000000`.

Each line is a point: a measurement, its tags (which series), its fields
(the values: floats, integers `2i` and `2u`, booleans, quoted text), and an
epoch time, nanoseconds as InfluxDB writes it unless `timestamp_unit` says
otherwise. Commas, spaces and `=` in names are escaped with a backslash, as
the protocol's reference describes; lines starting with `#` are comments.
Points become readings as `sources.tagged_record` maps them: the tags the
sensor, `measurement_field` the metric. A line without a time, or whose
fields do not read, is quarantined with its reason.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from lepton_flow.formats import SensorFormat, register_format, whole
from lepton_flow.formats.lines import Span, parsed_pieces, records_table
from lepton_flow.sources import (
    PIECE_BYTES,
    ParseError,
    ReadOptions,
    screened_lines,
    tagged_record,
)

_TRUE = {"t", "T", "true", "True", "TRUE"}
_FALSE = {"f", "F", "false", "False", "FALSE"}


def _cut(text: str, sep: str, quoted: bool = False) -> list[str]:
    """`text` cut at each `sep` not escaped by a backslash (nor, with `quoted`, inside double quotes), escapes kept."""
    parts, at, escaped, inside = [], 0, False, False
    for i, c in enumerate(text):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif quoted and c == '"':
            inside = not inside
        elif c == sep and not inside:
            parts.append(text[at:i])
            at = i + 1
    parts.append(text[at:])
    return parts


def _unescape(text: str) -> str:
    return text.replace("\\,", ",").replace("\\=", "=").replace("\\ ", " ").replace('\\"', '"').replace("\\\\", "\\")


def _value(text: str):
    if text.startswith('"'):
        if len(text) < 2 or not text.endswith('"'):
            raise ValueError(f"an unclosed string {text[:40]!r}")
        return _unescape(text[1:-1])
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    try:
        return int(text[:-1]) if text[-1:] in ("i", "u") else float(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a number") from None


def point(line: str) -> tuple[str, dict, dict, int | None]:
    """(measurement, tags, fields, time) of one line; ValueError saying what is wrong."""
    sections = [s for s in _cut(line.strip(), " ", quoted=True) if s != ""]
    if len(sections) < 2 or len(sections) > 3:
        raise ValueError("not `measurement[,tags] fields [time]`")
    key = _cut(sections[0], ",")
    tags = {}
    for pair in key[1:]:
        k, *rest = _cut(pair, "=")
        if not k or not "=".join(rest):
            raise ValueError(f"tag {pair!r} is not key=value")
        tags[_unescape(k)] = _unescape("=".join(rest))
    fields = {}
    for pair in _cut(sections[1], ",", quoted=True):
        k, *rest = _cut(pair, "=")
        if not k or not rest:
            raise ValueError(f"field {pair!r} is not key=value")
        try:
            fields[_unescape(k)] = _value("=".join(rest))
        except ValueError as exc:
            raise ValueError(f"field {_unescape(k)}: {exc}") from None
    stamp = None
    if len(sections) == 3:
        if not sections[2].lstrip("-").isdigit():
            raise ValueError(f"time {sections[2][:30]!r} is not an integer")
        stamp = int(sections[2])
    return _unescape(key[0]), tags, fields, stamp


def _parse(fh, first_line: int = 1) -> tuple[pa.Table, np.ndarray, list[ParseError]]:
    records, lines, errors = [], [], []
    for number, raw, bad in screened_lines(fh, "line protocol"):
        number += first_line - 1
        if bad is not None:
            errors.append(ParseError(number, bad.reason, bad.text))
            continue
        text = raw.decode("utf-8").strip()
        if not text or text.startswith("#"):
            continue
        try:
            measurement, tags, fields, stamp = point(text)
        except ValueError as exc:
            errors.append(ParseError(number, f"not a line-protocol point: {exc}", text[:500]))
            continue
        if stamp is None:
            errors.append(ParseError(number, "a point without a time (InfluxDB would give it the time it was written)", text[:500]))
            continue
        records.append({"timestamp": stamp, **tagged_record(measurement, tags, fields)})
        lines.append(number)
    return records_table(records, lines, errors)


def pieces(url: str, options: ReadOptions | None, piece_bytes: int, span: Span | None = None):
    """The file a bounded piece of whole lines at a time (see `formats.lines.line_pieces`)."""
    return parsed_pieces(url, piece_bytes, span, "line protocol", _parse)


def read(url: str, options: ReadOptions | None = None) -> tuple[pa.Table, np.ndarray, list[ParseError]]:
    return whole(pieces(url, options, PIECE_BYTES))


def example(path: str) -> None:
    with open(path, "w") as fh:
        fh.write("dht22,host=edge-1,room=lab temperature=21.5,humidity=40.2 1767225600000000000\n")
        fh.write("dht22,host=edge-1,room=lab temperature=21.6,humidity=40.1 1767225630000000000\n")


FORMAT = register_format(SensorFormat("influx-line", (".lp", ".influx"), read, example, __doc__.splitlines()[0], pieces=pieces, tails=True))
