r"""Ray's logs: the C++ core's `[2026-01-05 10:00:01,223 W 1235 1240] core_worker.cc:500: message` and Python's `2026-01-05 10:00:00,123\tINFO worker.py:1724 -- message`.

The core (raylet, GCS, core workers) writes spdlog's
`[%Y-%m-%d %H:%M:%S,%e %L %P %t]` then the source file and line; a
driver's console prefixes the process it came from (`(raylet)`,
`(MyActor pid=1234)`), and the core's own files may name their component
after the brackets (`(raylet)`): both left out, the source file lands in
`source`. Ray's Python logger
writes `%(asctime)s\t%(levelname)s %(filename)s:%(lineno)s -- %(message)s`.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

_TIME = r"<Date:\d{4}-\d\d-\d\d> <Time:\d\d:\d\d:\d\d,\d{3}>"

FORMAT = register_log_format(
    layout_format(
        "ray",
        [
            rf"(?:\(<Origin:[^)]*>\) )?\[{_TIME} <Level:[DIWEC]> <Pid:\d+> <Tid:\d+>\] (?:\(<Part:[\w.\-]+>\) )?<Source:[^\s:]+>:<Line:\d+>: <Content>",
            rf"{_TIME}\t<Level:DEBUG|INFO|WARNING|ERROR|CRITICAL> <Source:[^\s:]+>:<Line:\d+> -- <Content>",
        ],
        examples=[
            "[2026-01-05 10:00:01,223 W 1235 1240] core_worker.cc:500: Failed to connect to the GCS server",
            "(raylet) [2026-01-05 10:00:00,123 I 1234 1234] main.cc:180: Setting cluster ID to: 5e1fa2b0",
            "[2026-01-05 10:00:03,423 E 1234 1250] (raylet) file_system_monitor.cc:111: /tmp/ray/session_2026-01-05 is over 95% full, available space: 1024; capacity: 21474836480.",
            "2026-01-05 10:00:02,323\tINFO worker.py:1724 -- Started a local Ray instance.",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
