"""Prefect's console log, which lepton-flow writes too: `10:00:00.123 | INFO    | prefect.engine - message`; no date.

Prefect's `logging.yml` formats records as `%(asctime)s.%(msecs)03d |
%(levelname)-7s | %(name)s - %(message)s` with `datefmt: "%H:%M:%S"`
(flow and task run records name their run where the logger's name would
be: `Flow run 'big-cat'`, which lands in `source`, so run names do not
split templates), and its debug layout adds `%(threadName)-12s`. A time of
day alone: the reader dates the lines from the file (`LogFormat.dayless`).
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

_HEAD = r"<Time:\d\d:\d\d:\d\d\.\d{3}> \| <Level:DEBUG|INFO|WARNING|ERROR|CRITICAL> +\| "
_NAME = r"<Logger:(?:Flow|Task) run '[^']*'|[\w.\-]+> - <Content>"

FORMAT = register_log_format(
    layout_format(
        "prefect",
        [_HEAD + _NAME, _HEAD + r"<Thread:[^|]*?> +\| " + _NAME],
        timestamp="%H:%M:%S.%f",
        examples=[
            "10:00:00.123 | INFO    | prefect.engine - Created flow run 'big-cat' for flow 'sensor-ingest'",
            "10:00:01.223 | INFO    | Flow run 'big-cat' - Beginning flow run 'big-cat' for flow 'sensor-ingest'",
            "10:00:02.323 | WARNING | Task run 'read_file-0' - Task run failed with exception: ValueError('bad row') - Retry 1/3 will start 10 second(s) from now",
            "10:00:03.423 | ERROR   | prefect.flow_runs.worker - Flow run 'big-cat' exited with non-zero exit code 1.",
            "10:00:04.523 | DEBUG   | MainThread   | prefect.client - Connecting to API at http://127.0.0.1:4200/api/",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
