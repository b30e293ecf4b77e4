from __future__ import annotations

import time

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import retry_transient, run_logger
from lepton_flow.ingest import ParsedRef, RunInfo, ValidatedRef, validate_file


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 8], retry_condition_fn=retry_transient, task_run_name="validate {parsed.file.name}")
def validate_readings(parsed: ParsedRef, run: RunInfo) -> ValidatedRef:
    """Check a parsed file against the GX suite `expectations/<dataset>.json`.

    Failing readings go to quarantine with the expectation's name; a file
    under the run's threshold fails here, naming the expectation and an
    example row, and none of it reaches the store.
    """
    start = time.perf_counter()
    ref = validate_file(parsed, run)
    run_logger().info("%s: %d of %d readings failed, %.2f s", parsed.file.name, ref.failed, parsed.readings, time.perf_counter() - start)
    return ref
