"""Rust programs' logs, as the two common crates write them: env_logger's `[2026-01-05T10:00:00Z INFO  my_app::db] message` and tracing-subscriber's `2026-01-05T10:00:00.123456Z  INFO my_app::db: message`.

env_logger's default format is `[{timestamp} {level:<5} {module_path}]
{message}`, its time RFC 3339 in UTC to the second (`format_timestamp_*`
gives milli-, micro- or nanoseconds). tracing-subscriber's `fmt` layer
writes the time with microseconds, the level right-aligned to five
characters, the spans the event is in (`request{method=GET}:`, their
fields in braces, joined by `:` and left out of the event) and `: `, then
the target (the module path; a crate's name alone is left to the
catch-all `timestamp-prefixed`) and `: `. The level lands in `level`, the
module path in `source`.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

_TIME = r"<Timestamp:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)>"
_LEVEL = r"<Level:TRACE|DEBUG|INFO|WARN|ERROR>"
_PATH = r"<Source:[A-Za-z_]\w*(?:::\w+)*>"
# tracing's target is read only as a module path (`my_app::db`): a crate's name alone (`my_app: ready`) has the shape of
# any `time LEVEL word: message` line, which stays the catch-all's, its word in the message.
_MODULE = r"<Source:[A-Za-z_]\w*(?:::\w+)+>"
# The spans an event is in, outermost first, joined by `:`: `request{method=GET}:handle`. One span without fields looks
# like a target and is read as one (its target then stays in the message).
_ONE = r"\w+(?:\{[^{}]*\})?"
_SPANS = rf"\w+\{{[^{{}}]*\}}(?::{_ONE})*|\w+(?::{_ONE})+"

FORMAT = register_log_format(
    layout_format(
        "rust",
        [
            rf"\[{_TIME} {_LEVEL}\s+{_PATH}\] <Content>",
            rf"{_TIME}\s+{_LEVEL} (?:<Span:{_SPANS}>: )?{_MODULE}: <Content>",
        ],
        examples=[
            "[2026-01-05T10:00:00Z INFO  my_app::server] listening on 0.0.0.0:8080",
            "[2026-01-05T10:00:01.234Z ERROR my_app::db] connection refused (os error 111)",
            "2026-01-05T10:00:02.123456Z  WARN my_app::server: slow request took 1532 ms",
            "2026-01-05T10:00:03.000001Z ERROR request{method=GET uri=/orders}:query: my_app::db: query failed: timeout",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
