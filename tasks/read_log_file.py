from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import retry_transient, run_logger
from lepton_flow.logs.ingest import LogFileRef, LogRun, read_file
from lepton_flow.sources import SourceFile


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 8], retry_condition_fn=retry_transient, task_run_name="read {file.name}")
def read_log_file(file: SourceFile, run: LogRun, fmt: str, year: int | None) -> LogFileRef:
    """Parse, validate and stage one log file; its unparsed lines and invalid events go to quarantine with reasons."""
    ref = read_file(file, run, fmt, year)
    if ref.rejected:
        run_logger().warning(ref.message)
    return ref
