from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lepton_flow.logs.ingest import LogRun, new_run
from lepton_flow.settings import get_settings
from lepton_flow.sources import sweep_staging


@task(cache_policy=NO_CACHE)
def plan_log_run(run_id: str, window_seconds: int, threshold: float | None) -> LogRun:
    """Where this run stages and quarantines, and the store snapshot (with the miner's state) it starts from."""
    run = new_run(run_id, window_seconds, threshold)
    for gone in sweep_staging(get_settings().staging_dir, run.staging_url):
        get_run_logger().info("removed %s: staging left by a run that was stopped before it ended (untouched for a day)", gone)
    return run
