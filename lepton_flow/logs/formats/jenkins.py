"""Jenkins' log (`jenkins.log`, the controller's console): `2026-01-05 10:00:00.123+0000 [id=23]	INFO	jenkins.InitReactorRunner$1#onAttained: Started initialization`.

Jenkins formats java.util.logging records with its own
`SupportLogFormatter`: the time to the millisecond with its offset, the
thread id in brackets, then the level, the logger's class and method
(`Class#method`) and `: `, separated by tabs; a stack trace follows on
lines of its own. Levels are java.util.logging's (`SEVERE`, `WARNING`,
`INFO`, `CONFIG`, `FINE`, ...); the class and method land in `source`.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "jenkins",
        r"<Date:\d{4}-\d\d-\d\d> <Time:\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}> \[id=<Thread:\d+>\]\t<Level:SEVERE|WARNING|INFO|CONFIG|FINE|FINER|FINEST>"
        r"\t<Logger:[\w.$]+(?:#[\w$]+)?>: <Content>",
        examples=[
            "2026-01-05 10:00:00.123+0000 [id=23]\tINFO\tjenkins.InitReactorRunner$1#onAttained: Started initialization",
            "2026-01-05 10:00:01.456+0100 [id=47]\tWARNING\thudson.model.UpdateCenter#updateDefaultSite: Upgrading Jenkins. Failed to update the default Update Site 'default'.",
            "2026-01-05 10:00:02.789+0000 [id=51]\tSEVERE\thudson.model.Executor#finish1: Executor threw an exception",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
