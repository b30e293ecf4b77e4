from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import retry_transient
from lepton_flow.ingest import CleanResult, RunInfo, StagedRef, commit


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 8], retry_condition_fn=retry_transient)
def commit_readings(cleaned: CleanResult, run: RunInfo, staged: list[StagedRef]) -> str | None:
    """Commit the cleaned windows and the files' hashes in one store transaction.

    Returns the new snapshot id: the run's output. Until this returns the
    store shows the previous snapshot, whatever happens to the run.
    """
    return commit(cleaned, run, staged)
