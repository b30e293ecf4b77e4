"""The `store_gc` flow: expire old snapshots of the store and free what nothing references, daily."""

from __future__ import annotations

from prefect import flow

from lepton_flow.retention import GcParams, describe
from lepton_flow.settings import get_settings
from tasks.collect_store_garbage import collect_store_garbage
from tasks.report_store_gc import report_store_gc


@flow(name="store_gc", log_prints=True)
def store_gc(params: GcParams = GcParams()) -> str:
    """Expire and collect; returns the printed report (kept snapshots and why, expired, bytes freed)."""
    report = collect_store_garbage(params)
    report_store_gc(report)
    return describe(report, get_settings().store)
