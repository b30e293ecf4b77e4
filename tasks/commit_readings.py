from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import emit_committed, retry_transient
from lepton_flow.ingest import CleanResult, RunInfo, StagedRef, commit


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 8], retry_condition_fn=retry_transient)
def commit_readings(cleaned: CleanResult, run: RunInfo, staged: list[StagedRef]) -> str | None:
    """Commit the cleaned windows and the files' hashes in one store transaction.

    Returns the new snapshot id: the run's output. Until this returns the
    store shows the previous snapshot, whatever happens to the run. New data
    emits `lepton.sensors.committed`, which triggers the scoring deployment.
    """
    snapshot = commit(cleaned, run, staged)
    if snapshot and cleaned.cleaned_url is not None:
        emit_committed("sensors", run.store_url, snapshot, run=run.run_id, files=len(staged), windows=len(cleaned.windows))
    return snapshot
