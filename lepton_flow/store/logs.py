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
from lepton_flow.store.layout import TIME_ENCODING, aligned_chunks, time_coord
from lepton_flow.store.repo import StoreConflict, StoreError, commit_lock, moved_elsewhere, open_dataset, open_root, writable

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


def logs_state(url: str, snapshot_id: str | None = None) -> LogStoreState:
    snapshot, root = open_root(url, snapshot_id)
    out = LogStoreState(url=url, snapshot_id=snapshot)
    if root is None or GROUP not in root:
        return out
    group = root[GROUP]
    attrs = group.attrs.asdict()
    out.exists = True
    out.window_seconds, out.chunk_len, out.start_bin = int(attrs["window_seconds"]), int(attrs["chunk_len"]), int(attrs["start_bin"])
    out.length = int(group["time"].shape[0])
    out.templates = list(attrs.get("templates", []))
    out.drain = json.loads(attrs["drain"]) if attrs.get("drain") else None
    return out


def template_label(index: int) -> str:
    """The column name of a log template in models and scores: `T<id>` (ids never change)."""
    return f"T{index}"


def open_logs(url: str, snapshot_id: str | None = None):
    """The `logs` group as a lazy xarray Dataset: `count` over `(time, template)`, `level_count` over `(time, level)`."""
    return open_dataset(url, snapshot_id, GROUP, f"the store at {url} holds no log counts yet", chunks="auto")


def _log_block(length: int, first_template: int, n_templates: int, start_bin: int, window_seconds: int, chunk_len: int, time_at: int = 0):
    """Zero counts for `length` windows from `start_bin` (row `time_at` of the group), templates [first_template, n_templates), every level."""
    import dask.array as da
    import xarray as xr

    width = n_templates - first_template
    rows = aligned_chunks(length, time_at, chunk_len)
    return xr.Dataset(
        {
            "count": (("time", "template"), da.zeros((length, width), dtype="int32", chunks=(rows, aligned_chunks(width, first_template, TEMPLATE_CHUNK)))),
            "level_count": (("time", "level"), da.zeros((length, len(LOG_LEVELS)), dtype="int32", chunks=(rows, len(LOG_LEVELS)))),
        },
        coords={
            "time": time_coord(start_bin, length, window_seconds),
            "template": np.arange(first_template, n_templates, dtype=np.int64),
            "level": np.array(LOG_LEVELS, dtype=object),
        },
    )


def _tally(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int], weights: np.ndarray | None = None) -> np.ndarray:
    """How many times each (row, column) pair occurs (each `weights` times), as an array of `shape` (`np.add.at`, eight times faster)."""
    flat = np.asarray(rows, np.int64) * shape[1] + np.asarray(columns, np.int64)
    if weights is None:
        return np.bincount(flat, minlength=shape[0] * shape[1]).reshape(shape)
    return np.rint(np.bincount(flat, weights=weights, minlength=shape[0] * shape[1])).astype(np.int64).reshape(shape)


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
            from icechunk.xarray import to_icechunk

            first, last = int(bins.min()), int(bins.max())
            end = (last // chunk_len + 1) * chunk_len - 1
            if not current.exists:
                start = first // chunk_len * chunk_len
                block = _log_block(end - start + 1, 0, n_templates, start, window_seconds, chunk_len)
                enc = {"count": {"chunks": (chunk_len, TEMPLATE_CHUNK)}, "level_count": {"chunks": (chunk_len, len(LOG_LEVELS))}, "time": dict(TIME_ENCODING)}
                to_icechunk(block, session, group=GROUP, mode="w-", encoding=enc)
            else:
                if first < current.start_bin:
                    raise StoreError(f"events before the store's first log window ({current.start_bin * window_seconds} s since the epoch) cannot be added yet")
                start, held = current.start_bin, len(current.templates)
                if n_templates > held:  # new templates: new columns over the time the store holds
                    pad = _log_block(current.length, held, n_templates, start, window_seconds, chunk_len).drop_vars(["level_count", "level"])
                    to_icechunk(pad, session, group=GROUP, append_dim="template")
                more = end - (start + current.length - 1)
                if more > 0:  # later windows: new rows over every template and level
                    to_icechunk(_log_block(more, 0, n_templates, start + current.length, window_seconds, chunk_len, time_at=current.length), session, group=GROUP, append_dim="time")
            group = zarr.open_group(session.store, path=GROUP)
            lo, hi = first - start, last - start + 1
            counts = group["count"][lo:hi, :n_templates]
            counts += _tally(bins - first, template_ids, counts.shape, events).astype(counts.dtype, copy=False)
            group["count"][lo:hi, :n_templates] = counts
            per_level = group["level_count"][lo:hi, :]
            per_level += _tally(bins - first, levels, per_level.shape, events).astype(per_level.dtype, copy=False)
            group["level_count"][lo:hi, :] = per_level
            group.attrs.put(
                {"window_seconds": window_seconds, "chunk_len": chunk_len, "start_bin": start, "templates": templates, "drain": json.dumps(drain_state), "levels": LOG_LEVELS}
            )
        ledger.append(session, GROUP, ingested)
        return session.commit(message, metadata=metadata)
