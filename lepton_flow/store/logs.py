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
from lepton_flow.store.layout import create_grid, prepend_chunks, resize_grid, time_values
from lepton_flow.store.repo import commit, commit_lock, group_at, moved_elsewhere, open_dataset, StoreConflict, StoreError, writable

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
    for lo, hi in _batched(held_rows(st), st.chunk_len * max(len(st.templates), 1) * 4):
        block = group["count"][lo:hi, :]
        per_template[: block.shape[1]] += block.sum(axis=0, dtype=np.int64)
        events = group["level_count"][lo:hi, :].sum(axis=1, dtype=np.int64)
        at = np.flatnonzero(events)
        rows.append(at + lo)
        per_row.append(events[at])
    return per_template, np.concatenate(rows) if rows else np.zeros(0, np.int64), np.concatenate(per_row) if per_row else np.zeros(0, np.int64)


def _batched(spans: list[tuple[int, int]], chunk_bytes: int) -> list[tuple[int, int]]:
    """Neighbouring (first, stop) row spans joined up to `BATCH_BYTES` (zarr reads the chunks of one span side by side)."""
    per_batch = max(1, BATCH_BYTES // max(chunk_bytes, 1))
    out: list[list[int]] = []
    taken = 0
    for lo, hi in spans:
        if out and out[-1][1] == lo and taken < per_batch:
            out[-1][1] = hi
            taken += 1
        else:
            out.append([lo, hi])
            taken = 1
    return [(lo, hi) for lo, hi in out]


def _add_into(block: np.ndarray, rows: np.ndarray, columns: np.ndarray, weights: np.ndarray | None) -> None:
    """Add to `block` how many times each (row, column) pair occurs (each `weights` times), in memory proportional to the pairs, not to the block."""
    flat = np.asarray(rows, np.int64) * block.shape[1] + np.asarray(columns, np.int64)
    keys, at = np.unique(flat, return_inverse=True)
    sums = np.bincount(at, minlength=len(keys)) if weights is None else np.rint(np.bincount(at, weights=weights, minlength=len(keys))).astype(np.int64)
    block.reshape(-1)[keys] += sums.astype(block.dtype, copy=False)


BATCH_BYTES = 16 << 20
"""Counts read and written at once: runs of neighbouring chunks up to this size, which zarr writes side by side."""


def _add_counts(group, rows: np.ndarray, template_ids: np.ndarray, levels: np.ndarray, events: np.ndarray | None, n_templates: int, chunk_len: int,
                held: set[int], times: tuple[int, int]) -> set[int]:
    """Add events to the counts, a run of neighbouring chunks of time at a time: only chunks that hold events are read and written.

    Ten years of sparse events cost what their chunks cost, not a dense
    block from the first event to the last. A chunk the store did not hold
    is not read (it is all zeros); its times are written with it
    (`times`: the group's first bin and window seconds).
    """
    chunk = rows // chunk_len
    order = np.argsort(chunk, kind="stable")
    touched = np.unique(chunk)
    per_batch = max(1, BATCH_BYTES // (chunk_len * max(n_templates, 1) * 4))
    # Batches: neighbouring chunks, at most `per_batch` of them.
    breaks = np.flatnonzero(np.diff(touched) != 1) + 1
    batches = [run[i : i + per_batch] for run in np.split(touched, breaks) for i in range(0, len(run), per_batch)]
    starts = np.searchsorted(chunk[order], [int(b[0]) for b in batches], side="left")
    stops = np.searchsorted(chunk[order], [int(b[-1]) for b in batches], side="right")
    length = group["time"].shape[0]
    for batch, a, b in zip(batches, starts, stops):
        sel = order[a:b]
        lo, hi = int(batch[0]) * chunk_len, min((int(batch[-1]) + 1) * chunk_len, length)
        fresh = not any(int(c) in held for c in batch)
        w = None if events is None else events[sel]
        counts = np.zeros((hi - lo, n_templates), np.int32) if fresh else np.ascontiguousarray(group["count"][lo:hi, :n_templates])
        _add_into(counts, rows[sel] - lo, template_ids[sel], w)
        group["count"][lo:hi, :n_templates] = counts
        del counts
        per_level = np.zeros((hi - lo, len(LOG_LEVELS)), np.int32) if fresh else np.ascontiguousarray(group["level_count"][lo:hi, :])
        _add_into(per_level, rows[sel] - lo, levels[sel], w)
        group["level_count"][lo:hi, :] = per_level
        if not all(int(c) in held for c in batch):
            group["time"][lo:hi] = time_values(times[0] + lo, hi - lo, times[1])
    return {int(c) for c in touched}


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
                    extra={"level_count": ("int32", ("level", LOG_LEVELS))}, write_times=False,
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
                resize_grid(group, start, max(length, end - start), list(range(n_templates)), window_seconds, dim="template", write_times=False)
            rows = np.asarray(bins, np.int64) - start
            touched = _add_counts(group, rows, template_ids, levels, events, n_templates, chunk_len, held, (start, window_seconds))
            group.attrs.put({
                "window_seconds": window_seconds, "chunk_len": chunk_len, "start_bin": start, "templates": templates, "drain": json.dumps(drain_state),
                "levels": LOG_LEVELS, "held_chunks": sorted(held | touched),
            })
        ledger.append(session, GROUP, ingested)
        return commit(session, message, metadata)
