"""Proxifier's traffic log: `[MM.dd HH:mm:ss] program - message`, no year (the reader gives the file's).

The program may carry a flag after its name (`QQ.exe *64`); it lands in
`source`. A connection shorter than a second has `lifetime <1 sec` where
longer ones have `lifetime 00:01` (or `01:02:03`): one value, masked as
one token so that both are one event.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "proxifier",
        r"\[<Date:\d\d\.\d\d> <Time:\d\d:\d\d:\d\d>\] <Program:[^\s\[\]].*?> - <Content>",
        timestamp="%m.%d %H:%M:%S",
        examples=[
            "[10.30 16:49:06] chrome.exe - proxy.cse.cuhk.edu.hk:5070 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS",
            "[10.30 16:49:07] chrome.exe - proxy.cse.cuhk.edu.hk:5070 close, 0 bytes sent, 0 bytes received, lifetime 00:01",
            "[10.30 16:49:07] chrome.exe - www.google.com:443 close, 451 bytes sent, 18846 bytes (18.4 KB) received, lifetime <1 sec",
            "[10.30 16:49:08] QQ.exe *64 - qq.com:443 error : Could not connect through proxy proxy.cse.cuhk.edu.hk:5070 - Proxy server cannot establish a connection with the target, status code 403",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.6,
        masks=[(r"\blifetime <\d+ sec\b", "lifetime <NUM>")],
    )
)
