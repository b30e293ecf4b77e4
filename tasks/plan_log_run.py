from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import sweep_stale_staging
from lepton_flow.logs.ingest import LogRun, new_run


@task(cache_policy=NO_CACHE)
def plan_log_run(run_id: str, window_seconds: int, threshold: float | None) -> LogRun:
    """Where this run stages and quarantines, and the store snapshot (with the miner's state) it starts from."""
    run = new_run(run_id, window_seconds, threshold)
    sweep_stale_staging(run.staging_url)
    return run
