"""NLog's default layout (.NET): `${longdate}|${level:uppercase=true}|${logger}|${message}`, fields between bars.

`longdate` is `yyyy-MM-dd HH:mm:ss.ffff` in local time. The template that
ASP.NET Core's NLog set-up ships puts the event id first
(`${longdate}|${event-properties:item=EventId_Id:whenEmpty=0}|${level}|...`),
and many configurations end the line with the exception
(`${message} ${exception:format=tostring}`): both read, the id left out, the
exception kept in the message.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

_TIME = r"<Timestamp:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{4}>"
_REST = r"\|<Level:TRACE|DEBUG|INFO|WARN|ERROR|FATAL|Trace|Debug|Info|Warn|Error|Fatal>\|<Logger:[^|\s]+>\|<Content>"

FORMAT = register_log_format(
    layout_format(
        "nlog",
        [_TIME + _REST, _TIME + r"\|<Id:\d+>" + _REST],
        examples=[
            "2024-12-05 10:00:00.1234|INFO|MyApp.Program|Application started",
            "2024-12-05 10:00:01.5678|ERROR|MyApp.Worker|Job 7 failed: timeout System.TimeoutException: The operation has timed out.",
            "2024-12-05 10:00:02.0001|14|INFO|Microsoft.Hosting.Lifetime|Now listening on: http://localhost:5000",
            "2024-12-05 10:00:03.9999|0|WARN|Microsoft.AspNetCore.HttpsPolicy.HttpsRedirectionMiddleware|Failed to determine the https port for redirect.",
        ],
        description=__doc__.splitlines()[0],
    )
)
