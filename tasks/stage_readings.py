from __future__ import annotations

import time

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import retry_transient, run_logger
from lepton_flow.ingest import RunInfo, StagedRef, ValidatedRef, stage_file


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 16], retry_condition_fn=retry_transient, task_run_name="stage {validated.parsed.file.name}")
def stage_readings(validated: ValidatedRef, run: RunInfo) -> StagedRef:
    """Write a file's valid readings as Parquet under the run's staging prefix, split by time window."""
    start = time.perf_counter()
    ref = stage_file(validated, run)
    run_logger().info("%s: %d readings staged in %d window(s), %.2f s", ref.file.name, ref.staged, len(ref.windows), time.perf_counter() - start)
    return ref
