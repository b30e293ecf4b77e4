from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow import store
from lepton_flow.reporting import publish_gc


@task(cache_policy=NO_CACHE)
def report_store_gc(report: store.GcReport) -> None:
    """A markdown artifact: the snapshots kept and why, how many were expired, the bytes freed."""
    publish_gc(report)
