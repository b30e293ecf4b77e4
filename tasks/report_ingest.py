from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import FileFailure
from lepton_flow.ingest import CleanResult, IngestSummary, RunInfo, StagedRef, summarise


@task(cache_policy=NO_CACHE)
def report_ingest(
    run: RunInfo,
    cleaned: CleanResult,
    snapshot_id: str | None,
    staged: list[StagedRef],
    failures: list[FileFailure],
    skipped: list[str],
    unsupported: list[str],
) -> IngestSummary:
    """Accounting and validation tables, a summary and GX Data Docs for the run.

    Returns the summary the CLI prints; its per-file rows satisfy
    read = stored + quarantined + duplicates + outliers.
    """
    from lepton_flow.reporting import publish_ingest_artifacts, summary_line
    from lepton_flow.runtime import run_logger

    summary, validation_rows = summarise(run, cleaned, snapshot_id, staged, failures, skipped, unsupported)
    publish_ingest_artifacts(summary, validation_rows)
    run_logger().info("%s", summary_line(summary))
    return summary
