from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import retry_transient
from lepton_flow.ingest import Discovery, RunInfo, discover_files
from lepton_flow.sources import ReadOptions


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 16], retry_condition_fn=retry_transient)
def discover_sensor_files(source: str, run: RunInfo, options: ReadOptions) -> Discovery:
    """New files under `source` (directory, glob or file; any fsspec URL; empty: the demo data).

    A file the store's ledger already records (same content, same sensor id
    from its name) is skipped, so a re-run over the same files ingests nothing.
    """
    return discover_files(source, run, options)
