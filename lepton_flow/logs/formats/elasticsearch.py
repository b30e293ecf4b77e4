"""Elasticsearch and OpenSearch server logs (log4j2's pattern layout there): `[time][LEVEL ][logger   ] [node] message`.

`[2025-06-24T14:36:25,123][INFO ][o.e.n.Node               ] [node-1] started`:
the level and the logger are padded with spaces inside their brackets; the
node's name follows in brackets (it is the host). Logstash's own log writes
the same layout with its pipeline and plugin ids glued after the logger
(`[logstash.outputs.elasticsearch][main]`): left out.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format
from lepton_flow.logs.layout import LEVELS

_LINE = re.compile(
    r"^\[(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[,.]\d{3})(?P<tz>Z|[+-]\d\d:?\d\d)?\]\[(?P<level>[A-Z]+) *\]\[(?P<logger>[^\]]*?) *\](?:\[[^\]]*\]){0,2} "
    r"(?:\[(?P<node>[^\]]+)\] )?(?P<msg>.*)$"
)


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m or not m["msg"]:
        return None
    try:
        ts = datetime.fromisoformat(m["ts"].replace(",", ".") + (m["tz"] or "+00:00")).astimezone(UTC)  # Z and +0200 read as written
    except ValueError:
        return None
    level = m["level"].lower()
    return event(ts, m["node"], m["logger"], LEVELS.get(level, level), m["msg"])


FORMAT = register_log_format(
    LogFormat(
        "elasticsearch",
        parse,
        examples=[
            "[2025-06-24T14:36:25,123][INFO ][o.e.n.Node               ] [node-1] started",
            "[2025-06-24T14:36:26,456][WARN ][o.e.c.r.a.DiskThresholdMonitor] [node-1] high disk watermark [90%] exceeded on [abc][node-1]",
            "[2025-06-24T14:36:27,001][ERROR][o.o.b.OpenSearchUncaughtExceptionHandler] [opensearch-node1] uncaught exception in thread [main]",
            "[2025-06-24T14:36:28,223][WARN ][logstash.outputs.elasticsearch][main] Attempted to resurrect connection to dead ES instance, but got an error",
        ],
        description=__doc__.splitlines()[0],
        local_time=lambda line: (m := _LINE.match(line)) is not None and m["tz"] is None,  # times written without a zone
    )
)
