from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import emit_committed
from lepton_flow.logs.ingest import LogFileRef, LogRun, mine_and_commit


@task(cache_policy=NO_CACHE)
def mine_log_templates(refs: list[LogFileRef], run: LogRun, similarity: float | None) -> tuple[str | None, int, int]:
    """Mine templates (ids stable across runs), count events per window, template and level, and commit them in one transaction.

    Returns (snapshot id, templates known, templates new in this run).
    """
    snapshot, known, new = mine_and_commit(refs, run, similarity)
    if snapshot and refs:
        emit_committed("logs", run.store_url, snapshot, files=len(refs), templates=known, new_templates=new)
    return snapshot, known, new
