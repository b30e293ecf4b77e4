from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import sweep_stale_staging
from lepton_flow.logs.ingest import LogIngestParams, LogRun, new_run


@task(cache_policy=NO_CACHE)
def plan_log_run(run_id: str, params: LogIngestParams) -> LogRun:
    """Where this run stages and quarantines, the store snapshot (with the miner's state) it starts from, and the layout it reads by."""
    run = new_run(run_id, params.window_seconds, params.threshold, layout=params.layout, timestamp_format=params.timestamp_format, timezone=params.timezone)
    sweep_stale_staging(run.staging_url)
    return run
