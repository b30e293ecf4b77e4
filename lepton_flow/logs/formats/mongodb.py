"""MongoDB's text log before 4.4: `2026-01-05T10:00:00.123+0000 I NETWORK  [conn1] end connection 127.0.0.1:50000`.

The time with its offset, the severity's letter (F E W I, D1 to D5), the
component (lands in `source`; `-` for none) and the context in brackets
(a connection or thread, left out). MongoDB 4.4 and later write JSON
(`jsonl` reads it).
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "mongodb",
        r"<Timestamp:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:Z|[+-]\d{4})> <Level:[FEWID]>\d? <Component:[A-Z_]+|-> +\[<Context:[^\]]+>\] <Content>",
        examples=[
            "2026-01-05T10:00:00.123+0000 I NETWORK  [conn1] end connection 127.0.0.1:50000 (0 connections now open)",
            "2026-01-05T10:00:01.223+0100 W STORAGE  [initandlisten] Detected unclean shutdown - /data/db/mongod.lock is not empty.",
            "2026-01-05T10:00:02.323Z D1 COMMAND  [conn2] run command admin.$cmd { isMaster: 1 }",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
