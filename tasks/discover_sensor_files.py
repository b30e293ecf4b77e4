from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import retry_transient
from lepton_flow.ingest import Discovery, RunInfo, discover_files
from lepton_flow.runtime import run_logger
from lepton_flow.sources import ReadOptions


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 16], retry_condition_fn=retry_transient)
def discover_sensor_files(source: str, run: RunInfo, options: ReadOptions) -> Discovery:
    """New files under `source` (directory, glob or file; any fsspec URL; empty: the demo data).

    A file the store's ledger already records (same content, same sensor id
    from its name) is skipped, so a re-run over the same files ingests nothing.
    """
    found = discover_files(source, run, options)
    mib = sum(f.size or 0 for f in found.new) / 2**20
    run_logger().info(
        f"{len(found.new)} new file(s) to ingest ({mib:.1f} MiB); {len(found.already_ingested)} already ingested"
        + (f"; {len(found.unsupported)} not sensor files" if found.unsupported else "")
    )
    if found.grid_seconds:
        run_logger().info(f"a new store: its time grid is {found.grid_seconds} s, from the readings' spacing (grid_seconds sets another)")
    return found
