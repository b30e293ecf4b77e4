"""Apache Airflow's task and component logs: `[2026-01-05T10:00:00.123+0000] {taskinstance.py:1234} INFO - message`.

Airflow's `LOG_FORMAT` is `[%(asctime)s] {%(filename)s:%(lineno)d}
%(levelname)s - %(message)s`. The time as Airflow 2.6 and later write it
(ISO 8601 with its offset), as its web UI shows a task's log
(`2026-01-05, 10:00:00 UTC`: the zone the UI was set to; read as the run's
`timezone`), and as Airflow 1 and 2.0-2.5 wrote it (`2026-01-05
10:00:00,123`, local time). The file name lands in `source`; a task's
output, logged by `subprocess.py` or `logging_mixin.py`, keeps its text.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

_AFTER = r" \{<Source:[^\s:{}]+>:<Line:\d+>\} <Level:[A-Z]+> - <Content>"

FORMAT = register_log_format(
    layout_format(
        "airflow",
        [
            r"\[<Timestamp:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:?\d\d)?>\]" + _AFTER,
            r"\[<Date:\d{4}-\d\d-\d\d>, <Time:\d\d:\d\d:\d\d> <Zone:[A-Za-z]{1,5}|[+-]\d\d:?\d\d>\]" + _AFTER,
            r"\[<Date:\d{4}-\d\d-\d\d> <Time:\d\d:\d\d:\d\d(?:,\d{3})?>\]" + _AFTER,
        ],
        examples=[
            "[2026-01-05T10:00:00.123+0000] {taskinstance.py:1159} INFO - Dependencies all met for dep_context=non-requeueable deps ti=<TaskInstance: etl.load manual__2026-01-05T09:59:58+00:00 [queued]>",
            "[2026-01-05, 10:00:01 UTC] {subprocess.py:93} INFO - Output: rows=1200",
            "[2021-03-01 10:00:02,345] {taskinstance.py:1455} ERROR - Task failed with exception",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
