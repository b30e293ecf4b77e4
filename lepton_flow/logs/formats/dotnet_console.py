"""ASP.NET Core and .NET's console logger: `info: Microsoft.Hosting.Lifetime[14]` with the message on the indented line after it.

As `SimpleConsoleFormatter` writes (dotnet/runtime,
Microsoft.Extensions.Logging.Console): the level in four letters (`trce`,
`dbug`, `info`, `warn`, `fail`, `crit`), the category (the logger's name,
the source here) and the event id in brackets; the message and an
exception follow, each line indented six spaces, and join the event (the
first is its message). `SingleLine = true` writes the message on the same
line. With `TimestampFormat` set, the time comes first (`yyyy-MM-dd
HH:mm:ss `, ISO 8601, bracketed or not); without one, or with a time of day
only (`HH:mm:ss `, the documentation's example), the events are dated when
the file was last written.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

HEAD = r"<Level:trce|dbug|info|warn|fail|crit>: <Category:[^\s\[\]]+>\[<EventId:\d+>\](?: <Content>)?"
STAMP = r"<Timestamp:\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,7})?(?:Z|[+-]\d\d:\d\d)?>"

FORMAT = register_log_format(
    layout_format(
        "dotnet-console",
        [
            rf"\[?{STAMP}\]? +{HEAD}",
            HEAD,
            rf"\[?<Clock:\d\d:\d\d:\d\d(?:[.,]\d{{1,7}})?>\]? +{HEAD}",
        ],
        examples=[
            "info: Microsoft.Hosting.Lifetime[14]",  # its message is on the next, indented line
            "warn: Microsoft.AspNetCore.HttpsPolicy.HttpsRedirectionMiddleware[3] Failed to determine the https port for redirect.",
            "2024-05-01 10:00:00 fail: Microsoft.AspNetCore.Server.Kestrel[13] Connection id \"0HN3\": An unhandled exception was thrown by the application.",
        ],
        description=__doc__.splitlines()[0],
        continues=r"\s",
    )
)
