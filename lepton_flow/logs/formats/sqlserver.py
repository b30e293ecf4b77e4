"""SQL Server's error log (`ERRORLOG`, UTF-16): `yyyy-mm-dd hh:mm:ss.ff source message`, the source padded to a column.

The source is `Server`, `Logon`, `Backup`, or the session (`spid9s`,
`spid52`); times in the server's local time, to hundredths of a second.
An error is two lines: `Error: 18456, Severity: 14, State: 8.` then what
happened; the first takes its level from the severity (10 and under
information, 11 to 16 errors a user can correct, 17 and over faults of the
server).
"""

from __future__ import annotations

import re
from dataclasses import replace

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

_LAYOUT = layout_format(
    "sqlserver",
    r"<Timestamp:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d\d> <Source:Server|Logon|Backup|spid\d+s?|[A-Z][A-Za-z]+(?: [A-Z][A-Za-z]+)?>\s{2,}<Content>",
    examples=[
        "2024-12-05 10:00:00.12 Server      Microsoft SQL Server 2019 (RTM-CU22) (KB5027702) - 15.0.4322.2 (X64)",
        "2024-12-05 10:00:01.02 spid9s      Starting up database 'master'.",
        "2024-12-05 10:00:02.33 Logon       Error: 18456, Severity: 14, State: 8.",
        "2024-12-05 10:00:02.33 Logon       Login failed for user 'sa'. Reason: Password did not match that for the login provided. [CLIENT: 10.0.0.5]",
        "2024-12-05 10:00:05.71 Backup      Database backed up. Database: msdb, creation date(time): 2024/01/01(10:00:00), pages dumped: 2107",
    ],
    description=__doc__.splitlines()[0],
)
_SEVERITY = re.compile(r"^Error: \d+, Severity: (\d+), State: \d+\.")


def _level(message: str) -> str:
    m = _SEVERITY.match(message)
    if not m:
        return "info"
    severity = int(m[1])
    return "info" if severity <= 10 else "error" if severity <= 16 else "crit"


def parse(line: str, year: int) -> dict | None:
    got = _LAYOUT.parse(line, year)
    if got is not None:
        got["level"] = _level(got["message"])
    return got


def parse_many(lines, year: int):
    import pyarrow as pa

    index, table = _LAYOUT.parse_many(lines, year)
    levels = pa.array([_level(m) for m in table.column("message").to_pylist()], pa.string())
    return index, table.set_column(table.schema.get_field_index("level"), "level", levels)


FORMAT = register_log_format(replace(_LAYOUT, parse=parse, parse_many=parse_many))
