from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow import reporting
from lepton_flow.logs.ingest import LogIngestSummary


@task(cache_policy=NO_CACHE)
def report_log_ingest(summary: LogIngestSummary) -> LogIngestSummary:
    """Per-file accounting table (lines = event lines + unparsed + blank; events = stored + invalid) and a summary."""
    from lepton_flow.runtime import run_logger

    reporting.publish_log_artifacts(summary)
    run_logger().info("%s", reporting.log_summary_line(summary))
    return summary
