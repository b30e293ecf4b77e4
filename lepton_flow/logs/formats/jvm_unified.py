"""The JVM's unified logging (`-Xlog`, JDK 9 and later: GC, class loading, safepoints): `[2026-01-05T10:00:00.123+0000][info][gc] GC(0) Pause Young ...`.

Each line starts with its decorators in brackets, in the JVM's fixed order
(`time` or `utctime`, `uptime`, `timemillis`, ..., `hostname`, `pid`,
`tid`, `level`, `tags`); the JVM pads each to the widest it has written so
far (`[info   ]`, `[gc,heap     ]`). A line is dated by `time` or `utctime`
(`yyyy-MM-ddTHH:mm:ss.SSS+ZZZZ`), so a log written with them (`-Xlog:gc*:
file=gc.log:time,uptime,level,tags`) is read; the default file decorators
(`uptime,level,tags`) give no date and are not. The level lands in `level`,
the tags (`gc,heap`) in `source`; the other decorators are left out.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "jvm-unified",
        r"\[<Timestamp:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}>\](?:\[[^\[\]]*\])*?"
        r"\[<Level:trace|debug|info|warning|error>\s*\]\[<Tag:[a-z0-9_]+(?:,[a-z0-9_]+)*>\s*\]\s<Content>",
        examples=[
            "[2026-01-05T10:00:00.123+0000][info][gc] Using G1",
            "[2026-01-05T10:00:01.456+0100][0.512s][info   ][gc,heap     ] Heap region size: 1M",
            "[2026-01-05T10:00:02.789+0000][1.834s][warning][gc,alloc] GC(3) To-space exhausted",
            "[2026-01-05T10:00:03.000+0000][2.001s][12345][12367][info ][safepoint   ] Safepoint \"G1CollectForAllocation\", Time since last: 1234 ns",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
