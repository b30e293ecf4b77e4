from __future__ import annotations

import time

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import retry_transient, run_logger
from lepton_flow.ingest import ParsedRef, RunInfo, read_file
from lepton_flow.sources import ReadOptions, SourceFile


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 16], retry_condition_fn=retry_transient, task_run_name="read {file.name}")
def read_sensor_file(file: SourceFile, run: RunInfo, options: ReadOptions) -> ParsedRef:
    """Parse one file (CSV, CSV.gz, Parquet, JSON Lines; long or wide) into canonical Parquet.

    Lines that do not parse are quarantined with their line number and
    reason; a file that cannot be read at all fails with its name.
    """
    start = time.perf_counter()
    ref = read_file(file, run, options)
    run_logger().info("%s: %d readings, %d unparseable lines, %.2f s", file.name, ref.readings, ref.parse_errors, time.perf_counter() - start)
    return ref
