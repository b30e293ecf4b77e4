"""Docker's `json-file` logging driver: `{"log":"text\\n","stream":"stdout","time":"RFC3339Nano"}` per line.

The line end Docker keeps inside `log` is dropped; the stream lands in
`source`; nanoseconds are read to the microsecond. The application's own
lines inside are read by their format (see `LogFormat.wraps`).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_NANOS = re.compile(r"(\.\d{6})\d+")


def parse(line: str, year: int) -> dict | None:
    if '"log"' not in line or '"time"' not in line:
        return None
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("log"), str) or not isinstance(obj.get("time"), str):
        return None
    try:
        ts = datetime.fromisoformat(_NANOS.sub(r"\1", obj["time"]).replace("Z", "+00:00"))
    except ValueError:
        return None
    stream = obj.get("stream")
    return event(ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC), None, str(stream) if stream else None, None, obj["log"].rstrip("\r\n"))


FORMAT = register_log_format(
    LogFormat(
        "docker-json",
        parse,
        examples=[
            '{"log":"Log line is here\\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}',
            '{"log":"panic: runtime error\\n","stream":"stderr","time":"2024-02-01T12:00:00.000000001+01:00","attrs":{"tag":"web"}}',
        ],
        description=__doc__.splitlines()[0],
        wraps=True,
        # A `log` that does not end with a line end: a longer line, cut at 16 kB, goes on in the stream's next record.
        partial=r'^\{"log":"(?:[^"\\]|\\[^n]|(?:\\n)+(?:[^"\\]|\\[^n]))*"',
    )
)
