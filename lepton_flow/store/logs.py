"""The `logs` group: event counts per time window and template, and per window and level.

Layout: `count` over `(time, template)` and `level_count` over
`(time, level)`, int32; the template texts and the miner's state are the
group's attributes, saved in the same commit as the counts, so the next run
keeps every template id.
"""

from __future__ import annotations

import json

import numpy as np
from pydantic import BaseModel

from lepton_flow.store import ledger
from lepton_flow.store.layout import create_grid, prepend_chunks, resize_grid, time_chunk_values
from lepton_flow.store.repo import StoreConflict, StoreError, commit_lock, group_at, moved_elsewhere, open_dataset, writable

GROUP = "logs"
LOG_LEVELS = ["emerg", "alert", "crit", "error", "warning", "notice", "info", "debug", "unknown"]
TEMPLATE_CHUNK = 256


class LogStoreState(BaseModel):
    """What the `logs` group holds at one snapshot: its window grid, templates and the miner's state."""

    url: str
    snapshot_id: str | None = None
    exists: bool = False
    window_seconds: int | None = None
    chunk_len: int | None = None
    start_bin: int | None = None
    length: int = 0
    templates: list[str] = []
    drain: dict | None = None
    held_chunks: list[int] | None = None
    """Chunks of rows (time) that hold counts, in order; None for a store written before they were kept (all may)."""


def logs_state(url: str, snapshot_id: str | None = None) -> LogStoreState:
    snapshot, group = group_at(url, snapshot_id, GROUP)
    out = LogStoreState(url=url, snapshot_id=snapshot)
    if group is None:
        return out
    attrs = group.attrs.asdict()
    out.exists = True
    out.window_seconds, out.chunk_len, out.start_bin = int(attrs["window_seconds"]), int(attrs["chunk_len"]), int(attrs["start_bin"])
    out.length = int(group["time"].shape[0])
    out.templates = list(attrs.get("templates", []))
    out.drain = json.loads(attrs["drain"]) if attrs.get("drain") else None
    out.held_chunks = [int(c) for c in attrs["held_chunks"]] if "held_chunks" in attrs else None
    return out


def template_label(index: int) -> str:
    """The column name of a log template in models and scores: `T<id>` (ids never change)."""
    return f"T{index}"


def open_logs(url: str, snapshot_id: str | None = None):
    """The `logs` group as a lazy xarray Dataset: `count` over `(time, template)`, `level_count` over `(time, level)`.

    Times come from the group's first window and window length, not from
    its stored coordinate, which holds only the chunks that hold counts.
    """
    import pandas as pd

    ds = open_dataset(url, snapshot_id, GROUP, f"the store at {url} holds no log counts yet", chunks="auto", drop_variables=["time"])
    st = logs_state(url, snapshot_id)
    times = pd.date_range(pd.Timestamp(st.start_bin * st.window_seconds, unit="s"), periods=st.length, freq=pd.Timedelta(seconds=st.window_seconds))
    return ds.assign_coords(time=times)


def held_rows(state: LogStoreState) -> list[tuple[int, int]]:
    """The (first, stop) rows of each chunk that holds counts (every chunk of a store that did not keep them)."""
    chunks = state.held_chunks if state.held_chunks is not None else range(-(-state.length // state.chunk_len))
    return [(c * state.chunk_len, min((c + 1) * state.chunk_len, state.length)) for c in chunks]


def log_totals(url: str, snapshot_id: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(events per template, rows that hold events, events in each of those rows), reading only the chunks that hold counts."""
    from lepton_flow.store.repo import open_group

    st = logs_state(url, snapshot_id)
    per_template = np.zeros(len(st.templates), np.int64)
    rows, per_row = [], []
    if not st.exists:
        return per_template, np.zeros(0, np.int64), np.zeros(0, np.int64)
    group = open_group(url, st.snapshot_id, GROUP)
    for lo, hi in held_rows(st):
        block = group["count"][lo:hi, :]
        per_template[: block.shape[1]] += block.sum(axis=0, dtype=np.int64)
        events = group["level_count"][lo:hi, :].sum(axis=1, dtype=np.int64)
        at = np.flatnonzero(events)
        rows.append(at + lo)
        per_row.append(events[at])
    return per_template, np.concatenate(rows) if rows else np.zeros(0, np.int64), np.concatenate(per_row) if per_row else np.zeros(0, np.int64)


def _tally(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int], weights: np.ndarray | None = None) -> np.ndarray:
    """How many times each (row, column) pair occurs (each `weights` times), as an array of `shape` (`np.add.at`, eight times faster)."""
    flat = np.asarray(rows, np.int64) * shape[1] + np.asarray(columns, np.int64)
    if weights is None:
        return np.bincount(flat, minlength=shape[0] * shape[1]).reshape(shape)
    return np.rint(np.bincount(flat, weights=weights, minlength=shape[0] * shape[1])).astype(np.int64).reshape(shape)


def _add_counts(group, rows: np.ndarray, template_ids: np.ndarray, levels: np.ndarray, events: np.ndarray | None, n_templates: int, chunk_len: int) -> set[int]:
    """Add events to the counts chunk by chunk of time: only chunks that hold events are read and written.

    Ten years of sparse events cost what their chunks cost, not a dense
    block from the first event to the last.
    """
    chunk = rows // chunk_len
    order = np.argsort(chunk, kind="stable")
    cuts = np.flatnonzero(np.diff(chunk[order])) + 1
    for sel in np.split(order, cuts):
        lo = int(chunk[sel[0]]) * chunk_len
        hi = min(lo + chunk_len, group["time"].shape[0])
        w = None if events is None else events[sel]
        counts = group["count"][lo:hi, :n_templates]
        counts += _tally(rows[sel] - lo, template_ids[sel], counts.shape, w).astype(counts.dtype, copy=False)
        group["count"][lo:hi, :n_templates] = counts
        per_level = group["level_count"][lo:hi, :]
        per_level += _tally(rows[sel] - lo, levels[sel], per_level.shape, w).astype(per_level.dtype, copy=False)
        group["level_count"][lo:hi, :] = per_level
    return {int(c) for c in np.unique(chunk)}


def commit_logs(
    url: str,
    base_snapshot: str | None,
    window_seconds: int,
    chunk_len: int,
    bins: np.ndarray,
    template_ids: np.ndarray,
    levels: np.ndarray,
    templates: list[str],
    drain_state: dict,
    message: str,
    metadata: dict,
    ingested: dict[str, dict],
    events: np.ndarray | None = None,
) -> str:
    """Add one run's events to the per-window counts and commit them with the run's ledger entries, all or nothing.

    `bins` (window numbers since the epoch), `template_ids` and `levels`
    (indices into `LOG_LEVELS`) hold one entry per event, or with `events`
    one per group of that many events. The group grows to the run's windows
    and templates; counts in windows the store already held are added to.
    Only the chunks of windows that hold events are written (their times
    too); events before the group's first window make room before it
    (`prepend_chunks`), so neither empty time nor backfill rewrites chunks.
    """
    import zarr

    with commit_lock(url):
        repo, session = writable(url)
        current = logs_state(url)
        moved = current.snapshot_id != base_snapshot and (current.exists or base_snapshot is not None)
        if moved and not moved_elsewhere(repo, base_snapshot, GROUP, (ledger.path(GROUP),)):
            raise StoreConflict(f"the store at {url} moved from snapshot {base_snapshot} to {current.snapshot_id} while this run mined; re-run")
        if current.exists and (current.window_seconds, current.chunk_len) != (window_seconds, chunk_len):
            raise StoreError(f"the store's logs use {current.window_seconds} s windows in chunks of {current.chunk_len}; this run used {window_seconds} s and {chunk_len}")
        n_templates = len(templates)
        if len(bins):
            root = zarr.open_group(session.store)
            first, last = int(bins.min()), int(bins.max())
            end = (last // chunk_len + 1) * chunk_len
            if not current.exists:
                start = first // chunk_len * chunk_len
                held: set[int] = set()
                group = create_grid(
                    root, GROUP, variables={"count": ("int32", 0, {})}, start_bin=start, length=end - start, columns=list(range(n_templates)),
                    grid_seconds=window_seconds, chunk_len=chunk_len, dim="template", column_chunk=TEMPLATE_CHUNK, column_dtype="int64",
                    extra={"level_count": ("int32", ("level", LOG_LEVELS))}, time_values=False,
                )
            else:
                start, length = current.start_bin, current.length
                group = root[GROUP]
                held = set(current.held_chunks) if current.held_chunks is not None else set(range(-(-length // chunk_len)))
                if first < start:  # backfill: chunks of room before the first window, made without moving data
                    room = -(-(start - first) // chunk_len)
                    prepend_chunks(session, group, GROUP, room, chunk_len)
                    start, length = start - room * chunk_len, length + room * chunk_len
                    held = {c + room for c in held}
                resize_grid(group, start, max(length, end - start), list(range(n_templates)), window_seconds, dim="template", time_values=False)
            rows = np.asarray(bins, np.int64) - start
            touched = _add_counts(group, rows, template_ids, levels, events, n_templates, chunk_len)
            for c in sorted(touched - held):
                time_chunk_values(group, c, start, chunk_len, window_seconds)
            group.attrs.put({
                "window_seconds": window_seconds, "chunk_len": chunk_len, "start_bin": start, "templates": templates, "drain": json.dumps(drain_state),
                "levels": LOG_LEVELS, "held_chunks": sorted(held | touched),
            })
        ledger.append(session, GROUP, ingested)
        return session.commit(message, metadata=metadata)
