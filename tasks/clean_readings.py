from __future__ import annotations

import time

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.cleaning import CleanParams
from lepton_flow.flowtools import retry_transient, run_logger
from lepton_flow.ingest import CleanResult, RunInfo, StagedRef, clean_staged


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 8], retry_condition_fn=retry_transient)
def clean_readings(staged: list[StagedRef], run: RunInfo, steps: list[str], params: CleanParams) -> CleanResult:
    """Run the cleaning steps over every time window the staged files touch, in parallel on Dask.

    Returns where the cleaned grid lies and, per file, how many readings
    were stored, dropped as duplicates or stored under an outlier or stuck flag.
    """
    start = time.perf_counter()
    result = clean_staged(staged, run, steps, params)
    run_logger().info("cleaned %d window(s) of %d file(s), %.2f s", len(result.windows), len(staged), time.perf_counter() - start)
    return result
