"""The `sensors` group: readings on the time grid, one float32 variable per metric and its quality codes.

Layout: dims `(time, sensor)`; one float32 variable per metric and a uint8
`<metric>_quality` beside it (codes in `lepton_flow.cleaning`). New sensors
extend the sensor axis, new metrics add variables, later data extends time.

A run's clean step writes its windows into a `CleanedBlock` (a plain Zarr
group under the run's staging prefix, laid out like the store); the commit
then merges that block into the store in one transaction.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from lepton_flow.store import ledger
from lepton_flow.store.layout import add_variables, create_grid, prepend_chunks, resize_grid, window_runs
from lepton_flow.store.repo import commit, commit_lock, group_at, moved_elsewhere, open_dataset, open_group, StoreConflict, StoreError, writable

GROUP = "sensors"


class GridState(BaseModel):
    """What a `(time, column)` group holds at one snapshot: enough to plan a run or a model against it."""

    url: str
    snapshot_id: str | None = None
    exists: bool = False
    grid_seconds: int | None = None
    chunk_len: int | None = None
    start_bin: int | None = None
    length: int = 0
    sensors: list[str] = []
    metrics: list[str] = []
    units: dict[str, str | None] = {}

    @property
    def end_bin(self) -> int | None:
        """Last grid point held (inclusive)."""
        return None if self.start_bin is None else self.start_bin + self.length - 1


def state(url: str, snapshot_id: str | None = None) -> GridState:
    """The store's sensor layout at a snapshot (default: latest)."""
    snapshot, group = group_at(url, snapshot_id, GROUP)
    out = GridState(url=url, snapshot_id=snapshot)
    if group is None:
        return out
    attrs = group.attrs.asdict()
    metrics = list(attrs.get("metrics", []))
    out.exists = True
    out.grid_seconds = int(attrs["grid_seconds"])
    out.chunk_len = int(attrs["chunk_len"])
    out.start_bin = int(attrs["start_bin"])
    out.length = int(group["time"].shape[0])
    out.sensors = [str(s) for s in group["sensor"][:]]
    out.metrics = metrics
    out.units = {m: group[m].attrs.get("units") for m in metrics}
    return out


def open_sensors(url: str, snapshot_id: str | None = None, chunks: dict | str | None = "auto"):
    """The `sensors` group as a lazy xarray Dataset (Dask arrays over the snapshot)."""
    return open_dataset(url, snapshot_id, GROUP, f"the store at {url} holds no sensor data yet", chunks)


def read_block(url: str, snapshot_id: str, start: int, stop: int, metrics: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Stored values and quality for store rows [start, stop), all stored sensors."""
    group = open_group(url, snapshot_id, GROUP)
    out = {}
    for metric in metrics:
        if metric in group:
            out[metric] = (group[metric][start:stop, :].astype("float64"), group[f"{metric}_quality"][start:stop, :])
    return out


def sensor_variables(metrics: list[str], units: dict[str, str | None] | None = None) -> dict[str, tuple[str, float, dict]]:
    """The sensors group's variables for these metrics: name -> (dtype, fill, attributes)."""
    from lepton_flow.cleaning import QUALITY_MEANINGS

    flags = {"flag_values": list(QUALITY_MEANINGS), "flag_meanings": " ".join(QUALITY_MEANINGS.values())}
    out: dict[str, tuple[str, float, dict]] = {}
    for m in metrics:
        unit = (units or {}).get(m)
        out[m] = ("float32", np.nan, {"units": unit} if unit else {})
        out[f"{m}_quality"] = ("uint8", 0, dict(flags))
    return out


class CleanedBlock:
    """A run's cleaned grid before it is committed: arrays laid out like the store's, plus where they go.

    The clean step creates it once (`create`), its workers write their
    windows into it (`open(...).write`), and `commit_sensors` merges it into
    the store. It lives under the run's staging prefix and is scratch.
    """

    def __init__(self, url: str, group) -> None:
        self.url, self._group = url, group

    @classmethod
    def create(cls, url: str, *, grid_seconds: int, chunk_len: int, start_bin: int, end_bin: int, windows: list[int], sensors: list[str], metrics: list[str], units: dict[str, str | None]) -> "CleanedBlock":
        import zarr

        group = zarr.open_group(url, mode="w")
        group.attrs.update(
            {"grid_seconds": grid_seconds, "chunk_len": chunk_len, "start_bin": start_bin, "end_bin": end_bin, "windows": windows, "sensors": sensors, "metrics": metrics, "units": units}
        )
        length = end_bin + 1 - start_bin
        for name, (dtype, fill, _) in sensor_variables(metrics).items():
            group.create_array(name, shape=(length, len(sensors)), chunks=(chunk_len, max(1, len(sensors))), dtype=dtype, fill_value=fill, dimension_names=("time", "sensor"))
        return cls(url, group)

    @classmethod
    def open(cls, url: str) -> "CleanedBlock":
        import zarr

        return cls(url, zarr.open_group(url, mode="r+"))

    def set_windows(self, windows: list[int]) -> None:
        """The windows `commit_sensors` writes into the store: those the clean step wrote here."""
        self._group.attrs.update({"windows": windows})

    def write(self, metric: str, row: int, values: np.ndarray, quality: np.ndarray) -> None:
        """Values and quality codes of rows [row, row + len(values)) of the block, every sensor."""
        stop = row + values.shape[0]
        self._group[metric][row:stop, :] = values.astype("float32")
        self._group[f"{metric}_quality"][row:stop, :] = quality


def commit_sensors(url: str, cleaned_url: str, base_snapshot: str | None, message: str, metadata: dict, ingested: dict[str, dict]) -> str:
    """Write a cleaned block into the store and commit it with the run's ledger entries, all or nothing.

    `cleaned_url` is the `CleanedBlock` the clean step wrote; its attributes
    say where it goes. The store grows to take it (new sensors, new metrics,
    later time: resized, nothing written for them; earlier time: room made
    before the first row without moving data), then the windows the
    run cleaned are written over their region, which the clean step already
    merged with what the store held; windows it did not clean stay as they
    are. Returns the new snapshot id. Raises `StoreConflict` if the store
    moved since `base_snapshot` was read.
    """
    import zarr

    block = zarr.open_group(cleaned_url, mode="r")
    attrs = block.attrs.asdict()
    grid_seconds, chunk_len = int(attrs["grid_seconds"]), int(attrs["chunk_len"])
    block_start, new_end = int(attrs["start_bin"]), int(attrs["end_bin"])
    sensors, metrics = list(attrs["sensors"]), list(attrs["metrics"])
    units = dict(attrs.get("units", {}))

    with commit_lock(url):
        repo, session = writable(url)
        current = state(url)
        moved = current.snapshot_id != base_snapshot and (current.exists or base_snapshot is not None)
        if moved and not moved_elsewhere(repo, base_snapshot, GROUP, (ledger.path(GROUP),)):
            raise StoreConflict(f"the store at {url} moved from snapshot {base_snapshot} to {current.snapshot_id} while this run cleaned; re-run to merge with it")
        root = zarr.open_group(session.store)
        if not current.exists:
            store_start = block_start
            group = create_grid(root, GROUP, variables=sensor_variables(metrics, units), start_bin=block_start, length=new_end + 1 - block_start, columns=sensors, grid_seconds=grid_seconds, chunk_len=chunk_len)
        else:
            if grid_seconds != current.grid_seconds or chunk_len != current.chunk_len:
                raise StoreError(f"the store at {url} has a {current.grid_seconds} s grid in chunks of {current.chunk_len}; this run used {grid_seconds} s and {chunk_len}")
            store_start, length = current.start_bin, current.length
            group = root[GROUP]
            if block_start < store_start:  # backfill: room before the first time, made by moving chunk references, not data
                room = -(-(store_start - block_start) // chunk_len)
                store_start, length = store_start - room * chunk_len, length + room * chunk_len
                prepend_chunks(session, group, GROUP, room, chunk_len, times=(store_start, grid_seconds))
            resize_grid(group, store_start, max(length, new_end + 1 - store_start), sensors, grid_seconds)
            new_metrics = [m for m in metrics if m not in current.metrics]
            if new_metrics:
                add_variables(group, sensor_variables(new_metrics, units), chunk_len)
        # Only the windows the run cleaned are written: a block spanning
        # windows 3 and 10 must leave 4 to 9 as the store holds them. A few
        # windows at a time, so memory stays bounded on a big run.
        offset, names = block_start - store_start, list(sensor_variables(metrics))
        step = chunk_len * max(1, (1 << 22) // (chunk_len * max(1, len(sensors))))
        for first, last in window_runs(list(attrs["windows"])):
            lo = max(first * chunk_len, block_start) - block_start
            hi = min((last + 1) * chunk_len, new_end + 1) - block_start
            for a in range(lo, hi, step):
                b = min(hi, a + step)
                for name in names:
                    group[name][offset + a : offset + b, : len(sensors)] = block[name][a:b, :]
        group.attrs.put(
            {
                "grid_seconds": grid_seconds,
                "chunk_len": chunk_len,
                "start_bin": store_start,
                # The clean step listed the store's metrics first, then the new ones.
                "metrics": metrics,
            }
        )
        ledger.append(session, GROUP, ingested)
        return commit(session, message, metadata)


def record_ingested(url: str, base_snapshot: str | None, message: str, metadata: dict, ingested: dict[str, dict], kind: str = GROUP) -> str | None:
    """Commit only ledger entries (a run whose files held nothing to store)."""
    if not ingested:
        return base_snapshot
    with commit_lock(url):
        repo, session = writable(url)
        if session.snapshot_id != base_snapshot and base_snapshot is not None and not moved_elsewhere(repo, base_snapshot, kind, (ledger.path(kind),)):
            raise StoreConflict(f"the store at {url} moved since this run read it; re-run")
        ledger.append(session, kind, ingested)
        return commit(session, message, metadata)
