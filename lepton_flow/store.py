"""The versioned store: the only module that opens, writes or commits it.

Cleaned sensor data lives in an Icechunk repository holding Zarr v3 groups.
A run writes in one session and commits once; a run that fails or is killed
commits nothing, so readers only ever see whole runs. The list of ingested
file hashes lives in the same repository and changes in the same commit.

Layout of group `sensors`: dims `(time, sensor)`; one float32 variable per
metric and a uint8 `<metric>_quality` beside it (codes in
`lepton_flow.cleaning`). The time axis is a regular grid: grid point `b` is
`b * grid_seconds` after the Unix epoch, and the axis starts at a chunk
boundary (`start_bin` is a multiple of `chunk_len`), so that time windows of
`chunk_len` bins map onto whole chunks and can be written in parallel.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from urllib.parse import urlparse

import numpy as np
from pydantic import BaseModel

from lepton_flow.settings import is_local

GROUP = "sensors"
SENSOR_CHUNK = 64
INGESTED_ATTR = "lepton_ingested"
_NS = 1_000_000_000


class StoreError(RuntimeError):
    """The store cannot take this write; the message says why and what to do."""


class StoreConflict(StoreError):
    """The store moved on since this run read it; re-run to merge with the new data."""


class SensorStoreState(BaseModel):
    """What the store holds, at one snapshot: enough to plan a run against it."""

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
    ingested: dict[str, dict] = {}

    @property
    def end_bin(self) -> int | None:
        """Last grid point held (inclusive)."""
        return None if self.start_bin is None else self.start_bin + self.length - 1


def _quiet_icechunk() -> None:
    import icechunk

    # Commits to local directories are serialised by `commit_lock`, which is
    # what the storage's concurrency warning asks for; keep real errors.
    icechunk.set_logs_filter("error")


def _storage(url: str):
    import icechunk

    if is_local(url):
        path = url.removeprefix("file://")
        return icechunk.local_filesystem_storage(os.path.abspath(path))
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        endpoint = os.environ.get("LEPTON_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
        return icechunk.s3_storage(
            bucket=parsed.netloc,
            prefix=parsed.path.strip("/") or None,
            endpoint_url=endpoint,
            allow_http=bool(endpoint and endpoint.startswith("http://")),
            force_path_style=bool(endpoint),
            from_env=True,
        )
    if parsed.scheme in ("gs", "gcs"):
        return icechunk.gcs_storage(bucket=parsed.netloc, prefix=parsed.path.strip("/") or None, from_env=True)
    if parsed.scheme == "memory":
        return icechunk.in_memory_storage()
    raise StoreError(f"unsupported store URL {url!r}: use a local path, s3:// or gs://")


def open_repo(url: str, create: bool = False):
    """The Icechunk repository at `url`; with `create`, made if missing."""
    import icechunk

    _quiet_icechunk()
    storage = _storage(url)
    if icechunk.Repository.exists(storage):
        return icechunk.Repository.open(storage)
    if not create:
        raise StoreError(f"no store at {url}: run an ingest first")
    if is_local(url):
        os.makedirs(url, exist_ok=True)
    return icechunk.Repository.create(storage)


def exists(url: str) -> bool:
    import icechunk

    _quiet_icechunk()
    return icechunk.Repository.exists(_storage(url))


@contextlib.contextmanager
def commit_lock(url: str) -> Iterator[None]:
    """Serialise commits to a local store (object stores need no lock)."""
    if not is_local(url):
        yield
        return
    path = os.path.abspath(url.removeprefix("file://")).rstrip("/") + ".lock"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _session(url: str, snapshot_id: str | None):
    repo = open_repo(url)
    if snapshot_id:
        return repo.readonly_session(snapshot_id=snapshot_id)
    return repo.readonly_session(branch="main")


def state(url: str, snapshot_id: str | None = None) -> SensorStoreState:
    """The store's sensor layout and ingested files at a snapshot (default: latest)."""
    import zarr

    if not exists(url):
        return SensorStoreState(url=url)
    session = _session(url, snapshot_id)
    try:
        root = zarr.open_group(session.store, mode="r")
    except zarr.errors.GroupNotFoundError:
        return SensorStoreState(url=url, snapshot_id=session.snapshot_id)
    ingested = dict(root.attrs.get(INGESTED_ATTR, {}))
    out = SensorStoreState(url=url, snapshot_id=session.snapshot_id, ingested=ingested)
    if GROUP not in root:
        return out
    group = root[GROUP]
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
    import xarray as xr

    session = _session(url, snapshot_id)
    try:
        return xr.open_zarr(session.store, group=GROUP, consolidated=False, chunks=chunks)
    except (FileNotFoundError, KeyError) as exc:
        raise StoreError(f"the store at {url} holds no sensor data yet") from exc


def read_block(url: str, snapshot_id: str, start: int, stop: int, metrics: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Stored values and quality for store rows [start, stop), all stored sensors."""
    import zarr

    group = zarr.open_group(_session(url, snapshot_id).store, path=GROUP, mode="r")
    out = {}
    for metric in metrics:
        if metric in group:
            out[metric] = (
                group[metric][start:stop, :].astype("float64"),
                group[f"{metric}_quality"][start:stop, :],
            )
    return out


def history(url: str, limit: int = 20) -> list[dict]:
    """Newest-first commits of branch main: id, time, message, metadata."""
    repo = open_repo(url)
    out = []
    for info in repo.ancestry(branch="main"):
        out.append({"id": info.id, "written_at": info.written_at, "message": info.message, "metadata": dict(info.metadata or {})})
        if len(out) >= limit:
            break
    return out


def _time_coord(start_bin: int, length: int, grid_seconds: int) -> np.ndarray:
    bins = np.arange(start_bin, start_bin + length, dtype=np.int64)
    return (bins * grid_seconds * _NS).astype("datetime64[ns]")


def _nan_block(length: int, sensors: list[str], metrics: list[str], start_bin: int, grid_seconds: int, chunk_len: int):
    import dask.array as da
    import xarray as xr

    shape = (length, len(sensors))
    chunks = (chunk_len, SENSOR_CHUNK)
    data = {}
    for m in metrics:
        data[m] = (("time", "sensor"), da.full(shape, np.nan, dtype="float32", chunks=chunks))
        data[f"{m}_quality"] = (("time", "sensor"), da.zeros(shape, dtype="uint8", chunks=chunks))
    return xr.Dataset(data, coords={"time": _time_coord(start_bin, length, grid_seconds), "sensor": np.array(sensors, dtype=object)})


def _encoding(names, chunk_len: int) -> dict:
    enc = {name: {"chunks": (chunk_len, SENSOR_CHUNK)} for name in names}
    return enc


def _variable_attrs(ds, units: dict[str, str | None]) -> None:
    from lepton_flow.cleaning import QUALITY_MEANINGS

    for name in list(ds.data_vars):
        if name.endswith("_quality"):
            ds[name].attrs.update(
                flag_values=list(QUALITY_MEANINGS), flag_meanings=" ".join(QUALITY_MEANINGS.values())
            )
        elif units.get(name):
            ds[name].attrs["units"] = units[name]


def commit_sensors(
    url: str,
    cleaned_url: str,
    base_snapshot: str | None,
    message: str,
    metadata: dict,
    ingested: dict[str, dict],
) -> str:
    """Write a cleaned block into the store and commit it, all or nothing.

    `cleaned_url` is the Zarr group the clean step wrote (see
    `lepton_flow.ingest.clean`); its attributes say where it goes. The store
    grows to take it: new sensors extend the sensor axis, new metrics add
    variables, later data extends time; then the block is written over its
    region, which it already merged with what the store held. Returns the new
    snapshot id. Raises `StoreConflict` if the store moved since
    `base_snapshot` was read.
    """
    import xarray as xr
    import zarr
    from icechunk.xarray import to_icechunk

    block = xr.open_zarr(cleaned_url, consolidated=False, chunks={})
    attrs = block.attrs
    grid_seconds, chunk_len = int(attrs["grid_seconds"]), int(attrs["chunk_len"])
    block_start, new_end = int(attrs["start_bin"]), int(attrs["end_bin"])
    sensors, metrics = list(attrs["sensors"]), list(attrs["metrics"])
    units = dict(attrs.get("units", {}))

    with commit_lock(url):
        repo = open_repo(url, create=True)
        session = repo.writable_session("main")
        current = state(url) if exists(url) else SensorStoreState(url=url)
        if current.snapshot_id != base_snapshot and (current.exists or base_snapshot is not None):
            raise StoreConflict(
                f"the store at {url} moved from snapshot {base_snapshot} to {current.snapshot_id} while this run cleaned; re-run to merge with it"
            )
        block = block.assign_coords(
            time=_time_coord(block_start, block.sizes["time"], grid_seconds),
            sensor=np.array(sensors, dtype=object),
        )
        _variable_attrs(block, units)
        if not current.exists:
            encoding = _encoding(block.data_vars, chunk_len)
            encoding["time"] = {"units": "nanoseconds since 1970-01-01", "dtype": "int64", "chunks": (1 << 20,)}
            to_icechunk(block, session, group=GROUP, mode="w-", encoding=encoding)
        else:
            if grid_seconds != current.grid_seconds or chunk_len != current.chunk_len:
                raise StoreError(
                    f"the store at {url} has a {current.grid_seconds} s grid in chunks of {current.chunk_len}; this run used {grid_seconds} s and {chunk_len}"
                )
            store_start = current.start_bin
            new_sensors = sensors[len(current.sensors) :]
            new_metrics = [m for m in metrics if m not in current.metrics]
            if new_sensors:
                pad = _nan_block(current.length, new_sensors, current.metrics, store_start, grid_seconds, chunk_len)
                to_icechunk(pad, session, group=GROUP, append_dim="sensor")
            if new_metrics:
                pad = _nan_block(current.length, sensors, new_metrics, store_start, grid_seconds, chunk_len)
                _variable_attrs(pad, units)
                to_icechunk(pad, session, group=GROUP, mode="a", encoding=_encoding(pad.data_vars, chunk_len))
            grow = new_end - (store_start + current.length - 1)
            if grow > 0:
                pad = _nan_block(grow, sensors, metrics, store_start + current.length, grid_seconds, chunk_len)
                to_icechunk(pad, session, group=GROUP, append_dim="time")
            # Only the windows the run cleaned are written: a block spanning
            # windows 3 and 10 must leave 4 to 9 as the store holds them.
            data = block.drop_vars(["time", "sensor"])
            for first, last in _window_runs(list(attrs["windows"])):
                lo = max(first * chunk_len, block_start) - block_start
                hi = min((last + 1) * chunk_len, new_end + 1) - block_start
                offset = block_start - store_start
                region = {"time": slice(offset + lo, offset + hi), "sensor": slice(0, len(sensors))}
                to_icechunk(data.isel(time=slice(lo, hi)), session, group=GROUP, region=region)
        # xarray replaces a group's attributes on every append: set them last.
        zarr.open_group(session.store, path=GROUP).attrs.put(
            {
                "grid_seconds": grid_seconds,
                "chunk_len": chunk_len,
                "start_bin": current.start_bin if current.exists else block_start,
                # The clean step listed the store's metrics first, then the new ones.
                "metrics": metrics,
            }
        )
        return _commit_with_ingested(session, message, metadata, ingested)


def _window_runs(windows: list[int]) -> list[tuple[int, int]]:
    """Contiguous runs of window numbers, as (first, last)."""
    out: list[tuple[int, int]] = []
    for w in sorted(windows):
        if out and w == out[-1][1] + 1:
            out[-1] = (out[-1][0], w)
        else:
            out.append((w, w))
    return out


def _commit_with_ingested(session, message: str, metadata: dict, ingested: dict[str, dict]) -> str:
    """Add the run's file hashes to the store's list in the same transaction, and commit it."""
    import zarr

    root = zarr.open_group(session.store)
    merged = dict(root.attrs.get(INGESTED_ATTR, {}))
    merged.update(ingested)
    root.attrs[INGESTED_ATTR] = merged
    return session.commit(message, metadata=metadata)


def record_ingested(url: str, base_snapshot: str | None, message: str, metadata: dict, ingested: dict[str, dict]) -> str | None:
    """Commit only the list of ingested files (a run whose files held no readings)."""
    if not ingested:
        return base_snapshot
    with commit_lock(url):
        repo = open_repo(url, create=True)
        session = repo.writable_session("main")
        if session.snapshot_id != base_snapshot and base_snapshot is not None:
            raise StoreConflict(f"the store at {url} moved since this run read it; re-run")
        return _commit_with_ingested(session, message, metadata, ingested)
