from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import sweep_stale_staging
from lepton_flow.ingest import RunInfo, new_run


@task(cache_policy=NO_CACHE)
def plan_ingest_run(run_id: str, grid_seconds: int | None, threshold: float | None = None) -> RunInfo:
    """The run's staging and quarantine places and the store snapshot it builds on.

    The snapshot read here is the one the commit must still find, so that
    two runs never overwrite each other's windows unnoticed.
    """
    run = new_run(run_id, grid_seconds)
    sweep_stale_staging(run.staging_url)
    if threshold is not None:
        run.threshold = threshold
    return run
