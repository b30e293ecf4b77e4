"""Keeping a store that is committed every 15 minutes small: which snapshots must stay, and the expiry run.

The store expires snapshots and collects garbage (`store.retention`); this
module says which snapshots something still needs: every model card's
training snapshot (so any model can be traced and retrained on its own data)
and the snapshot each scores group was computed from.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from lepton_flow import store
from lepton_flow.forms import field_order
from lepton_flow.registry import Registry
from lepton_flow.settings import Settings, get_settings


class GcParams(BaseModel):
    """Parameters of `store_gc` and `lepton-flow gc`."""

    model_config = {"json_schema_extra": field_order()}  # the form lists fields as declared here

    keep_days: float = Field(
        1.0,
        ge=0,
        le=36500,
        description="Expire snapshots older than this many days, except the latest and those models and scores name. Every snapshot kept makes each commit rewrite a little more (Icechunk lists them all in one object that every commit rewrites).",
    )
    dry_run: bool = Field(False, description="Only say what would be expired; change nothing.")
    grace_hours: float = Field(6.0, ge=0, le=720, description="Never delete objects younger than this: the chunks of a run still writing are safe.")


def referenced_snapshots(settings: Settings | None = None) -> dict[str, str]:
    """Snapshot id -> why it must be kept: the model cards' training snapshots and the scores groups' input snapshots."""
    settings = settings or get_settings()
    keep: dict[str, str] = {}
    registry = Registry(settings.models)
    for name in registry.names():
        for version in registry.versions(name):
            snap = registry.card(name, version).snapshot_id
            if snap:
                keep.setdefault(snap, f"model {name} version {version} was trained on it")
    url = settings.store
    if store.exists(url):
        for model in store.scored_models(url):
            snap = store.scored_attrs(url, model).get("input_snapshot")
            if snap:
                keep.setdefault(snap, f"scores of {model} were computed from it")
    return keep


def run_gc(params: GcParams, settings: Settings | None = None) -> store.GcReport:
    """Expire and collect the configured store's snapshots as `params` say; raises `StoreError` without a store."""
    settings = settings or get_settings()
    if not store.exists(settings.store):
        raise store.StoreError(f"no store at {settings.store}: nothing to collect")
    return store.collect(settings.store, referenced_snapshots(settings), params.keep_days, params.dry_run, params.grace_hours)


def describe(report: store.GcReport, url: str) -> str:
    """The report as lines a person reads: what was kept and why, what was expired, the bytes freed."""
    lines = [f"store:     {url}"]
    lines.append(f"snapshots: {report.snapshots_before} before, {report.snapshots_after} after" + (" (dry run: nothing changed)" if report.dry_run else ""))
    lines.append(f"kept:      {len(report.kept)}")
    lines += [f"  {snap}  {why}" for snap, why in report.kept.items()]
    verb = "would expire" if report.dry_run else "expired"
    lines.append(f"{verb}:   {len(report.expired)} snapshot(s)")
    for snap, why in report.missing.items():
        lines.append(f"  already gone: {snap} ({why})")
    if report.bytes_freed is not None:
        lines.append(f"freed:     {report.bytes_freed:,} bytes in {report.objects_deleted:,} object(s)")
    return "\n".join(lines)
