"""JSON Lines logs: one object per line; fields found by common names (`timestamp`/`time`/`ts`/`@timestamp`, `message`/`msg`, `level`/`severity`, `host`/`hostname`, `source`/`logger`/`service`), or by a mapping the caller gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format
from lepton_flow.logs.layout import LEVELS

FIELDS = {
    "timestamp": ("timestamp", "time", "ts", "@timestamp", "datetime", "date", "t"),
    "message": ("message", "msg", "log", "text"),
    "level": ("level", "severity", "lvl", "loglevel", "s"),
    "host": ("host", "hostname", "node"),
    "source": ("source", "logger", "service", "component", "program", "c"),
}


def _first(obj: dict, names: tuple[str, ...]):
    for name in names:
        if name in obj and obj[name] not in (None, ""):
            return obj[name]
    return None


def _time(value) -> datetime | None:
    if isinstance(value, dict) and len(value) == 1 and ("$date" in value or "$numberLong" in value):  # MongoDB's extended JSON
        inner = next(iter(value.values()))
        return _time(int(inner) if isinstance(inner, str) and inner.lstrip("-").isdigit() else inner)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds or seconds
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    return None


def parse_with(line: str, mapping: dict[str, str] | None = None) -> dict | None:
    """Parse with explicit field names (`{"timestamp": "when", "message": "text", ...}`); unnamed fields use the common names."""
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    mapping = mapping or {}
    values = {k: (obj.get(mapping[k]) if k in mapping else _first(obj, names)) for k, names in FIELDS.items()}
    ts = _time(values["timestamp"])
    if ts is None or values["message"] is None:
        return None
    text = lambda v: None if v is None else str(v)  # noqa: E731
    level = text(values["level"])
    level = _LEVEL_LETTERS.get(level.lower(), level.lower()) if level else None
    return event(ts, text(values["host"]), text(values["source"]), level, str(values["message"]))


_LEVEL_LETTERS = {**{letter: LEVELS[letter] for letter in "iwef"}, **{f"d{n}": "debug" for n in range(1, 6)}}
"""MongoDB's severities (`"s": "I"`, `"D2"`) as the common names."""


def parse(line: str, year: int) -> dict | None:
    return parse_with(line)


FORMAT = register_log_format(
    LogFormat(
        "jsonl",
        parse,
        examples=[
            '{"timestamp": "2026-01-01T00:00:00Z", "level": "INFO", "host": "web-1", "logger": "api", "message": "request done"}',
            '{"ts": 1767225600123, "severity": "error", "msg": "disk full", "service": "db"}',
        ],
        description=__doc__.splitlines()[0],
        breadth=1,
    )
)
