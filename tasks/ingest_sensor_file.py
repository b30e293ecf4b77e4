from __future__ import annotations

import time

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import retry_transient, run_logger
from lepton_flow.ingest import RunInfo, StagedRef, ingest_file
from lepton_flow.sources import ReadOptions, SourceFile


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 16], retry_condition_fn=retry_transient, task_run_name="ingest {file.name}")
def ingest_sensor_file(file: SourceFile, run: RunInfo, options: ReadOptions) -> StagedRef:
    """Read, validate and stage one file (CSV, TSV, JSON Lines, Parquet; gzipped or not; long or wide), a bounded piece at a time.

    Lines that do not parse and readings that fail the GX suite
    `expectations/<dataset>.json` are quarantined with their line and
    reason; the valid readings are staged by time window for cleaning. A
    file that cannot be read fails naming it; a file under the run's
    validation threshold comes back rejected, its message naming the
    expectation and an example row, and none of it reaches the store.
    """
    start = time.perf_counter()
    ref = ingest_file(file, run, options)
    run_logger().info(
        "%s: %d records, %d unparseable, %d failed validation, %d staged in %d window(s), %.2f s",
        file.name, ref.records, ref.parse_errors, ref.failed, ref.staged, len(ref.windows), time.perf_counter() - start,
    )
    if ref.rejected:
        run_logger().warning(ref.message)
    return ref
