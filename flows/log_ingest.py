"""The `log_ingest` flow: log files to template counts per window in the store."""

from __future__ import annotations

from prefect import flow, unmapped
from prefect.runtime import flow_run

from lepton_flow.flowtools import outcomes, split_completed, store_lock
from lepton_flow.logs.ingest import LogIngestParams, LogIngestSummary
from lepton_flow.parallel import expect_input, fit_to_input, task_runner
from lepton_flow.reporting import refused
from lepton_flow.settings import get_settings
from lepton_flow.sources import source_problem
from lepton_flow.runtime import ended_failed
from tasks.discover_log_files import discover_log_files
from tasks.mine_log_templates import mine_log_templates
from tasks.plan_log_run import plan_log_run
from tasks.read_log_file import read_log_file
from tasks.report_log_ingest import report_log_ingest


@flow(name="log_ingest", task_runner=task_runner(), log_prints=True)
def log_ingest(params: LogIngestParams) -> LogIngestSummary:
    """Discover, read and validate (per file, on Dask), mine and count, commit, report; returns the run's summary."""
    if problem := source_problem(params.source, empty="the log drop folder"):
        return refused(problem, "log-ingest-refused")
    expect_input(params.source or get_settings().log_dir)  # a small input: what its tasks import, while it is found
    with store_lock(get_settings().store):  # one ingest of a store at a time
        run = plan_log_run(str(flow_run.get_id() or "local"), params)
        new, known = discover_log_files(params.source, run)
        fit_to_input(new)  # a few small files: threads of this process, not a cluster started for them
        refs, failed = split_completed(read_log_file.map(new, unmapped(run), unmapped(params.format), unmapped(params.year)), [f.url for f in new], "read")
        snapshot, templates, added = mine_log_templates(refs, run, params.similarity)
    summary = report_log_ingest(
        LogIngestSummary(
            run_id=run.run_id, files=refs, skipped=known, failed=[f.described for f in failed], snapshot_id=snapshot, store_url=run.store_url,
            templates=templates, new_templates=added, quarantine_url=run.quarantine_url,
        )
    )
    _, rejected = outcomes(refs, "read")
    if failed or rejected:
        messages = [f.described for f in failed + rejected]
        return ended_failed(f"{len(messages)} log file(s) not ingested: " + "; ".join(messages[:3]), data=summary)
    return summary
