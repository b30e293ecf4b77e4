"""`WindowsUpdate.log` as `Get-WindowsUpdateLog` writes it (Windows 10 and later): `yyyy/mm/dd hh:mm:ss.fffffff pid tid component message`.

The component (`Agent`, `ComApi`, `DownloadManager`, `Handler`, `Misc`,
`ProtocolTalker`, ...) is padded to a column; times in local time to the
tenth of a microsecond (read to the microsecond). The log says no level: an
error names itself in the message (`FATAL:`, `*FAILED*`, `0x8024...`).
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "windows-update",
        r"<Timestamp:\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{7}> <Pid> <Tid> <Component:[A-Za-z][\w.]*> <Content>",
        examples=[
            "2024/12/05 10:00:00.1234567 1020  4044  ComApi          *RESUMED* Search ClientId = UpdateOrchestrator",
            "2024/12/05 10:00:00.2234567 1020  4044  Agent           * Online = Yes; Ignore download priority = No",
            "2024/12/05 10:00:01.0000000 1020  4044  Misc            Got WSUS Client/Server URL: https://fe3.delivery.mp.microsoft.com/",
            "2024/12/05 10:00:02.5000000 1020  7132  DownloadManager *FAILED* [80246007] Download of update 0A1B2C3D failed",
        ],
        description=__doc__.splitlines()[0],
    )
)
