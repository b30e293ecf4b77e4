"""logfmt: `key=value` pairs, values quoted when they hold spaces, as Go services write them (Prometheus, Grafana, Loki, Traefik, Heroku's router).

`ts=2025-06-24T14:36:25.123Z caller=main.go:512 level=info msg="Server is ready"`;
`logger=server t=2025-06-24T14:36:25.12+00:00 level=info msg="HTTP Server Listen" address=[::]:3000`.
The time is `time`, `ts`, `t`, `timestamp` or `date` (ISO 8601 or epoch
seconds); the message is `msg` or `message`, followed by the other pairs
(their values are what the miner masks), so events that differ only in
those values share a template. The level is `level`/`lvl`/`severity`; the
source `logger`/`component`/`module`/`source`, else `caller`. A line that is not
all pairs, or has no time or no message, is not logfmt.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format, zoneless
from lepton_flow.logs.layout import LEVELS

_PAIR = re.compile(r'(\s*(?<![\w.\-/])([A-Za-z_][\w.\-/]*)=("(?:[^"\\]|\\.)*"|[^\s"]*))')
"""A pair, white space before it. Its key never starts inside a word (a pair that follows another starts after white
space or a closing quote), so searching a long run of word characters for a pair costs one step a character."""
TIME_KEYS = ("time", "ts", "t", "timestamp", "date")
MESSAGE_KEYS = ("msg", "message")
LEVEL_KEYS = ("level", "lvl", "severity")
SOURCE_KEYS = ("logger", "component", "module", "source", "caller")


def pairs(line: str) -> dict[str, str] | None:
    """The line's pairs in order, quotes undone (a key's first value where it is written twice); None unless the whole
    line is pairs."""
    text = line.rstrip("\r\n")
    found = _PAIR.findall(text)
    # Pairs that follow each other from the line's start to its end (white space after): what matching pair after pair
    # from the start would take. A stretch that is not a pair leaves a gap, and the lengths fall short.
    if sum(len(whole) for whole, _, _ in found) != len(text.rstrip()):
        return None
    out = {key: value for _, key, value in found}
    if len(out) != len(found):  # a key written twice: its first value
        out = {}
        for _, key, value in found:
            out.setdefault(key, value)
    for key, value in out.items():
        if value.startswith('"'):
            out[key] = _ESCAPE.sub(r"\1", value[1:-1]) if "\\" in value else value[1:-1]
    return out


_ESCAPE = re.compile(r"\\(.)")


def _time(text: str) -> datetime | None:
    try:
        if _NUMERIC_TIME.fullmatch(text):
            return datetime.fromtimestamp(float(text), tz=UTC)
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _first(found: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        value = found.get(k)
        if value:
            return value
    return None


_NAMED = frozenset(TIME_KEYS + MESSAGE_KEYS + LEVEL_KEYS + ("caller",))
_NUMERIC_TIME = re.compile(r"\d{9,10}(?:\.\d+)?")


def parse(line: str, year: int) -> dict | None:
    found = pairs(line)
    if not found or len(found) < 3:
        return None
    when, message = _first(found, TIME_KEYS), _first(found, MESSAGE_KEYS)
    if message is None or not when:
        return None
    ts = _time(when)
    if ts is None:
        return None
    source_key = next((k for k in SOURCE_KEYS if found.get(k)), None)
    # The other pairs follow the message; a caller's line number is no part of an event.
    rest = " ".join([f"{k}={v}" for k, v in found.items() if k not in _NAMED and k != source_key])
    level = _first(found, LEVEL_KEYS)
    level = LEVELS.get(level.lower(), level.lower()) if level else None
    return event(ts, None, found[source_key] if source_key else None, level, (f"{message} {rest}" if rest else message).strip())


FORMAT = register_log_format(
    LogFormat(
        "logfmt",
        parse,
        examples=[
            'ts=2025-06-24T14:36:25.123Z caller=main.go:512 level=info msg="Server is ready to receive web requests."',
            'logger=server t=2025-06-24T14:36:25.12+00:00 level=info msg="HTTP Server Listen" address=[::]:3000 protocol=http',
            'time="2025-06-24T14:36:26Z" level=error msg="Provider connection error" providerName=docker',
            'at=info method=GET path="/" host=myapp.herokuapp.com fwd="204.204.204.204" dyno=web.1 connect=1ms service=18ms status=200 bytes=13 ts=1719239785 msg=request',
        ],
        description=__doc__.splitlines()[0],
        local_time=lambda line: (found := pairs(line)) is not None and zoneless(_first(found, TIME_KEYS)),  # a time without its zone
    )
)
