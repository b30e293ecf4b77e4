from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lepton_flow.ingest import RunInfo, new_run
from lepton_flow.settings import get_settings
from lepton_flow.sources import sweep_staging


@task(cache_policy=NO_CACHE)
def plan_ingest_run(run_id: str, grid_seconds: int, threshold: float | None = None) -> RunInfo:
    """The run's staging and quarantine places and the store snapshot it builds on.

    The snapshot read here is the one the commit must still find, so that
    two runs never overwrite each other's windows unnoticed.
    """
    run = new_run(run_id, grid_seconds)
    for gone in sweep_staging(get_settings().staging_dir, run.staging_url):
        get_run_logger().info("removed %s: staging left by a run that was stopped before it ended (untouched for a day)", gone)
    if threshold is not None:
        run.threshold = threshold
    return run
