"""Windows servicing logs (`%windir%\\Logs\\CBS\\CBS.log`, CSI and DISM lines): `yyyy-MM-dd HH:mm:ss, Level   Component    message`.

The level (`Info`, `Warning`, `Error`, `Perf`) is padded with spaces to a
column, then the component (`CBS`, `CSI`, `DISM`, ...); times are local and
read as UTC.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "windows-cbs",
        r"<Date:\d{4}-\d\d-\d\d> <Time:\d\d:\d\d:\d\d>, <Level:Info|Warning|Error|Perf|Verbose> <Component:[\w ]+?>(?: <Content>)?",
        timestamp="%Y-%m-%d %H:%M:%S",
        examples=[
            r"2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1.7601.23505 with Core: C:\Windows\winsxs\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_6.1.7601.23505_none_681aa442f6fed7f0\cbscore.dll",
            "2016-09-28 04:30:31, Info                  CSI    00000001@2016/9/27:20:30:31.455 WcpInitialize (wcp.dll version 0.0.0.6) called (stack @0x7fed806eb5d @0x7fefa1c8728)",
            "2016-09-28 04:30:31, Error                 CBS    Failed to internally open package. [HRESULT = 0x800f0805 - CBS_E_INVALID_PACKAGE]",
            "2017-01-05 10:11:12, Info                  DISM   DISM Provider Store: PID=4242 TID=1212 Getting the collection of providers",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.7,
    )
)
