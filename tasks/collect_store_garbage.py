from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow import store
from lepton_flow.retention import GcParams, run_gc


@task(cache_policy=NO_CACHE)
def collect_store_garbage(params: GcParams) -> store.GcReport:
    """Expire old snapshots of the store (keeping the latest and those models and scores name) and delete what nothing references."""
    return run_gc(params)
