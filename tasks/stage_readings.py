from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import retry_transient
from lepton_flow.ingest import RunInfo, StagedRef, ValidatedRef, stage_file


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 16], retry_condition_fn=retry_transient, task_run_name="stage {validated.parsed.file.name}")
def stage_readings(validated: ValidatedRef, run: RunInfo) -> StagedRef:
    """Write a file's valid readings as Parquet under the run's staging prefix, split by time window."""
    return stage_file(validated, run)
