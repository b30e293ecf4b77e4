"""CUPS's `error_log` (`/var/log/cups/error_log`): `L [dd/Mmm/yyyy:hh:mm:ss +zzzz] message`, the level one letter.

cupsd writes its level's letter first (`E` error, `W` warning, `N`
notice, `I` info, `D` and `d` debug, `A` alert, `C` critical, `X`
emergency), then the time as access logs write it, with microseconds under
`LogTimeFormat usecs`. Lines about a job or a client name it in the
message (`[Job 12] ...`).
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "cups",
        r"<Level:[XACEWNIDd]> \[<Timestamp:\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d(?:\.\d{6})? [+-]\d{4}>\] <Content>",
        examples=[
            "I [04/Nov/2010:17:37:40 -0400] Allowing up to 100 client connections per host.",
            'E [04/Nov/2010:17:37:40 -0400] StartListening: Unable to find IP address for server name "localhost.localdomain" - Host name lookup failure',
            "W [11/Dec/2023:08:00:01.123456 +0100] [Job 12] Backend returned status 1 (failed)",
            "N [11/Dec/2023:08:00:02 +0100] Scheduler shutting down normally.",
        ],
        description=__doc__.splitlines()[0],
        levels={"a": "alert", "c": "crit", "n": "notice", "x": "emerg"},
    )
)
