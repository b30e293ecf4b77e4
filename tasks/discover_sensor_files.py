from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from lepton_flow import store
from lepton_flow.flowtools import retry_transient
from lepton_flow.ingest import RunInfo
from lepton_flow.settings import get_settings
from lepton_flow.sources import SourceFile, discover


class Discovery(BaseModel):
    new: list[SourceFile]
    already_ingested: list[str]
    unsupported: list[str]


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 16], retry_condition_fn=retry_transient)
def discover_sensor_files(source: str, run: RunInfo) -> Discovery:
    """New files under `source` (directory, glob or file; any fsspec URL; empty: the demo data).

    Files whose content hash the store already records are skipped, so a
    re-run over the same files ingests nothing.
    """
    ingested = set(store.state(run.store_url, run.base_snapshot).ingested) if run.base_snapshot else set()
    new, known, unsupported = discover(source or get_settings().demo_dir, ingested)
    return Discovery(new=new, already_ingested=known, unsupported=unsupported)
