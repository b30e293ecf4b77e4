from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import retry_transient
from lepton_flow.logs.ingest import LogRun, discover
from lepton_flow.logs.tail import TailedFile


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 8], retry_condition_fn=retry_transient)
def discover_log_files(source: str, run: LogRun) -> tuple[list[TailedFile], list[str]]:
    """Log files under the source with lines the store has not counted, each with where to start; and those with nothing new."""
    return discover(source, run)
