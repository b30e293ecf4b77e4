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


def _root(url: str, snapshot_id: str | None):
    """(snapshot id, root group read-only) of a snapshot; (None, None) without a repository, (id, None) before any group."""
    import zarr

    if not exists(url):
        return None, None
    session = _session(url, snapshot_id)
    try:
        return session.snapshot_id, zarr.open_group(session.store, mode="r")
    except zarr.errors.GroupNotFoundError:
        return session.snapshot_id, None


def state(url: str, snapshot_id: str | None = None) -> SensorStoreState:
    """The store's sensor layout and ingested files at a snapshot (default: latest)."""
    snapshot, root = _root(url, snapshot_id)
    if root is None:
        return SensorStoreState(url=url, snapshot_id=snapshot)
    out = SensorStoreState(url=url, snapshot_id=snapshot, ingested=dict(root.attrs.get(INGESTED_ATTR, {})))
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


def grid_time(start_bin: int, grid_seconds: int, row: int) -> str:
    """The UTC time of store row `row` as ISO text (`2026-03-01T00:00:00Z`)."""
    return str(np.datetime64((start_bin + row) * grid_seconds * _NS, "ns").astype("datetime64[s]")) + "Z"


def time_coord(start_bin: int, length: int, grid_seconds: int) -> np.ndarray:
    """Times of `length` grid points from `start_bin`, as datetime64[ns]."""
    bins = np.arange(start_bin, start_bin + length, dtype=np.int64)
    return (bins * grid_seconds * _NS).astype("datetime64[ns]")


def _sensor_variables(metrics: list[str]) -> dict[str, tuple[str, float]]:
    """The sensors group's variables for these metrics: name -> (dtype, fill)."""
    out: dict[str, tuple[str, float]] = {}
    for m in metrics:
        out[m] = ("float32", np.nan)
        out[f"{m}_quality"] = ("uint8", 0)
    return out


def aligned_chunks(length: int, start: int, chunk: int) -> tuple[int, ...]:
    """Dask chunk sizes for `length` items written from index `start` of an axis stored in chunks of `chunk`.

    Each piece ends on a stored chunk boundary, so that no two pieces write
    one stored chunk: appending to an axis that ends inside a chunk starts
    with the piece that fills it.
    """
    if length <= 0:
        return (0,)
    first = min(length, (-start) % chunk or chunk)
    rest = length - first
    return (first,) + (chunk,) * (rest // chunk) + ((rest % chunk,) if rest % chunk else ())


def _fill_block(length: int, sensors: list, variables: dict[str, tuple[str, float]], start_bin: int, grid_seconds: int, chunk_len: int, dim: str = "sensor", column_chunk: int = SENSOR_CHUNK, at: tuple[int, int] = (0, 0)):
    """A lazy `(time, dim)` Dataset of fill values, to grow a group with; `at` = (time, column) index it is written from."""
    import dask.array as da
    import xarray as xr

    shape = (length, len(sensors))
    chunks = (aligned_chunks(length, at[0], chunk_len), aligned_chunks(len(sensors), at[1], column_chunk))
    data = {name: (("time", dim), da.full(shape, fill, dtype=dtype, chunks=chunks)) for name, (dtype, fill) in variables.items()}
    labels = np.array(sensors, dtype=object) if sensors and isinstance(sensors[0], str) else np.asarray(sensors, dtype=np.int64)
    return xr.Dataset(data, coords={"time": time_coord(start_bin, length, grid_seconds), dim: labels})


def _grow(session, group: str, variables: dict[str, tuple[str, float]], start_bin: int, length: int, sensors: list, new_end: int, all_sensors: list, grid_seconds: int, chunk_len: int, dim: str = "sensor", column_chunk: int = SENSOR_CHUNK) -> None:
    """Extend a `(time, dim)` group to `all_sensors` along `dim` and to grid point `new_end`, with fill values."""
    from icechunk.xarray import to_icechunk

    new_sensors = all_sensors[len(sensors) :]
    if new_sensors:
        pad = _fill_block(length, new_sensors, variables, start_bin, grid_seconds, chunk_len, dim, column_chunk, at=(0, len(sensors)))
        to_icechunk(pad, session, group=group, append_dim=dim)
    grow = new_end - (start_bin + length - 1)
    if grow > 0:
        pad = _fill_block(grow, all_sensors, variables, start_bin + length, grid_seconds, chunk_len, dim, column_chunk, at=(length, 0))
        to_icechunk(pad, session, group=group, append_dim="time")


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
        moved = current.snapshot_id != base_snapshot and (current.exists or base_snapshot is not None)
        if moved and not _moved_elsewhere(repo, base_snapshot, GROUP):
            raise StoreConflict(
                f"the store at {url} moved from snapshot {base_snapshot} to {current.snapshot_id} while this run cleaned; re-run to merge with it"
            )
        block = block.assign_coords(
            time=time_coord(block_start, block.sizes["time"], grid_seconds),
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
            new_metrics = [m for m in metrics if m not in current.metrics]
            # New sensors first (over the metrics the store has), then new
            # metrics (over all sensors), then later time (over everything).
            _grow(session, GROUP, _sensor_variables(current.metrics), store_start, current.length, current.sensors, current.end_bin, sensors, grid_seconds, chunk_len)
            if new_metrics:
                pad = _fill_block(current.length, sensors, _sensor_variables(new_metrics), store_start, grid_seconds, chunk_len)
                _variable_attrs(pad, units)
                to_icechunk(pad, session, group=GROUP, mode="a", encoding=_encoding(pad.data_vars, chunk_len))
            _grow(session, GROUP, _sensor_variables(metrics), store_start, current.length, sensors, new_end, sensors, grid_seconds, chunk_len)
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


def _moved_elsewhere(repo, base_snapshot: str | None, group: str) -> bool:
    """True when the commits since `base_snapshot` left `group` and the root (which lists ingested files) alone.

    Scoring runs commit their scores while an ingest cleans: the ingest then
    commits over them, its group being as it read it. Anything else that
    moved is a conflict.
    """
    if base_snapshot is None:
        return False
    diff = repo.diff(from_snapshot_id=base_snapshot, to_branch="main")
    touched = set(diff.updated_chunks)
    for name in ("new_groups", "new_arrays", "deleted_groups", "deleted_arrays", "updated_groups", "updated_arrays"):
        touched |= set(getattr(diff, name))
    for move in diff.moved_nodes:
        touched |= {str(p) for p in move}
    return not any(p == "/" or p == f"/{group}" or p.startswith(f"/{group}/") for p in touched)


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


class SensorReader:
    """Reads `(time, sensor)` blocks of chosen metrics and sensors from one snapshot.

    Training and scoring read the store a block of rows at a time (rows are
    store time indices, 0 at `start_bin`); a reader opens the snapshot once
    and is safe to share between the threads of a `tf.data` pipeline.
    """

    def __init__(self, url: str, snapshot_id: str, metrics: list[str], sensors: list[str], dataset: str = "sensors"):
        import zarr

        self.url, self.snapshot_id, self.dataset = url, snapshot_id, dataset
        self.state = grid_state(url, snapshot_id, dataset)
        if not self.state.exists:
            raise StoreError(f"the store at {url} holds no {dataset} data at snapshot {snapshot_id}")
        missing = [m for m in metrics if m not in self.state.metrics] + [s for s in sensors if s not in self.state.sensors]
        if missing:
            raise StoreError(f"snapshot {snapshot_id} of {url} has no {', '.join(missing)}")
        self.metrics, self.sensors = list(metrics), list(sensors)
        index = {s: i for i, s in enumerate(self.state.sensors)}
        self._columns = np.array([index[s] for s in sensors], dtype=np.int64)
        group = zarr.open_group(_session(url, snapshot_id).store, path=GROUP if dataset == "sensors" else LOGS_GROUP, mode="r")
        self._arrays = [group[m] for m in metrics]
        self._log1p = dataset == "logs"

    @property
    def length(self) -> int:
        return self.state.length

    @property
    def channels(self) -> int:
        return len(self.metrics) * len(self.sensors)

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Values of rows [start, stop) as float32 `(rows, metrics * sensors)`, metric-major; NaN where missing."""
        start, stop = max(0, start), min(stop, self.length)
        lo, hi = int(self._columns.min()), int(self._columns.max()) + 1
        parts = [a[start:stop, lo:hi][:, self._columns - lo] for a in self._arrays]
        out = np.concatenate(parts, axis=1).astype(np.float32, copy=False)
        # Event counts are heavy-tailed: a burst of thousands should not drown the rest.
        return np.log1p(out) if self._log1p else out


SCORE_VARIABLES = {"score": ("float32", np.nan), "flag": ("uint8", 0)}


def scores_group(model: str) -> str:
    return f"scores/{model}"


def scored_attrs(url: str, model: str, snapshot_id: str | None = None) -> dict:
    """The attributes of `model`'s scores group (empty if it never scored): `scored_until_bin`, `input_snapshot`, ..."""
    import zarr

    if not exists(url):
        return {}
    root = zarr.open_group(_session(url, snapshot_id).store, mode="r")
    path = scores_group(model)
    return root[path].attrs.asdict() if path in root else {}


def scored_until(url: str, model: str, snapshot_id: str | None = None) -> int | None:
    """First grid point (bin) not yet scored by `model`, or None if it never scored."""
    value = scored_attrs(url, model, snapshot_id).get("scored_until_bin")
    return None if value is None else int(value)


def first_changed_row(url: str, since: str, snapshot_id: str, dataset: str, chunk_len: int) -> int | None:
    """The first row of `dataset`'s time axis whose data changed from snapshot `since` to `snapshot_id` (None: none did).

    Read from Icechunk's diff of the two snapshots (which chunks were
    written), so it costs no data read: late data merged into windows
    already scored shows up here. Coordinates are left out (their one chunk
    holds the whole axis).
    """
    if since == snapshot_id:
        return None
    group = GROUP if dataset == "sensors" else LOGS_GROUP
    diff = open_repo(url).diff(from_snapshot_id=since, to_snapshot_id=snapshot_id)
    rows = [
        int(index[0]) * chunk_len
        for path, chunks in diff.updated_chunks.items()
        if path.startswith(f"/{group}/") and path.rsplit("/", 1)[1] not in ("time", "sensor", "template", "level")
        for index in chunks
        if index
    ]
    return min(rows, default=None)


def open_scores(url: str, model: str, snapshot_id: str | None = None):
    """The `scores/<model>` group as a lazy xarray Dataset (`score`, `flag` over `(time, sensor)`)."""
    import xarray as xr

    try:
        return xr.open_zarr(_session(url, snapshot_id).store, group=scores_group(model), consolidated=False)
    except (FileNotFoundError, KeyError) as exc:
        raise StoreError(f"the store at {url} holds no scores of model {model!r}") from exc


class ScoreWriter:
    """Writes a model's scores over the grid of the data it reads, then commits them once.

    The `scores/<model>` group has that grid's time axis and its columns as
    the `sensor` axis (sensors, or log templates `T<id>`; columns a model does
    not take stay NaN). Writes go to an Icechunk
    session; nothing is visible until `commit`, which takes the local commit
    lock only for the commit itself and rebases over commits that other runs
    (an ingest) made meanwhile, since those touch other groups.
    """

    def __init__(self, url: str, model: str, input_snapshot: str, dataset: str = "sensors"):
        import zarr

        self.url, self.model, self.group = url, model, scores_group(model)
        self.input = grid_state(url, input_snapshot, dataset)
        if not self.input.exists:
            raise StoreError(f"the store at {url} holds no {dataset} data to score")
        repo = open_repo(url)
        self.session = repo.writable_session("main")
        root = zarr.open_group(self.session.store)
        inp = self.input
        if self.group not in root:
            from icechunk.xarray import to_icechunk

            block = _fill_block(inp.length, inp.sensors, SCORE_VARIABLES, inp.start_bin, inp.grid_seconds, inp.chunk_len)
            encoding = _encoding(block.data_vars, inp.chunk_len)
            encoding["time"] = {"units": "nanoseconds since 1970-01-01", "dtype": "int64", "chunks": (1 << 20,)}
            to_icechunk(block, self.session, group=self.group, mode="w-", encoding=encoding)
            self._attrs: dict = {}
        else:
            group = root[self.group]
            self._attrs = group.attrs.asdict()
            length, sensors = int(group["time"].shape[0]), [str(s) for s in group["sensor"][:]]
            if inp.sensors[: len(sensors)] != sensors:
                raise StoreError(f"{self.group} in {url} lists sensors the sensors group does not hold in that order")
            _grow(self.session, self.group, SCORE_VARIABLES, inp.start_bin, length, sensors, inp.end_bin, inp.sensors, inp.grid_seconds, inp.chunk_len)
        group = zarr.open_group(self.session.store, path=self.group)
        self._score, self._flag = group["score"], group["flag"]

    def write(self, start: int, score: np.ndarray, flag: np.ndarray, columns: np.ndarray) -> None:
        """Scores of rows [start, start + len(score)) for the sensors at `columns` of the sensor axis."""
        stop = start + score.shape[0]
        lo, hi = int(columns.min()), int(columns.max()) + 1
        if hi - lo == len(columns):
            self._score[start:stop, lo:hi] = score.astype(np.float32)
            self._flag[start:stop, lo:hi] = flag.astype(np.uint8)
        else:
            s, f = self._score[start:stop, lo:hi], self._flag[start:stop, lo:hi]
            s[:, columns - lo], f[:, columns - lo] = score, flag
            self._score[start:stop, lo:hi], self._flag[start:stop, lo:hi] = s, f

    def commit(self, message: str, metadata: dict, attrs: dict) -> str:
        """Set the group's attributes (model, version, threshold, scored range) and commit; returns the snapshot id."""
        import icechunk
        import zarr

        inp = self.input
        merged = dict(self._attrs)
        merged.update(attrs)
        merged.update(grid_seconds=inp.grid_seconds, chunk_len=inp.chunk_len, start_bin=inp.start_bin, input_snapshot=inp.snapshot_id)
        zarr.open_group(self.session.store, path=self.group).attrs.put(merged)
        with commit_lock(self.url):
            return self.session.commit(message, metadata=metadata, rebase_with=icechunk.ConflictDetector())


LOGS_GROUP = "logs"
LOGS_INGESTED_ATTR = "lepton_logs_ingested"
LOG_LEVELS = ["emerg", "alert", "crit", "error", "warning", "notice", "info", "debug", "unknown"]
TEMPLATE_CHUNK = 256


class LogStoreState(BaseModel):
    """What the `logs` group holds at one snapshot: its window grid, template count, the miner's state, the ingested log files."""

    url: str
    snapshot_id: str | None = None
    exists: bool = False
    window_seconds: int | None = None
    chunk_len: int | None = None
    start_bin: int | None = None
    length: int = 0
    templates: list[str] = []
    drain: dict | None = None
    ingested: dict[str, dict] = {}


def logs_state(url: str, snapshot_id: str | None = None) -> LogStoreState:
    import json

    snapshot, root = _root(url, snapshot_id)
    if root is None:
        return LogStoreState(url=url, snapshot_id=snapshot)
    out = LogStoreState(url=url, snapshot_id=snapshot, ingested=dict(root.attrs.get(LOGS_INGESTED_ATTR, {})))
    if LOGS_GROUP not in root:
        return out
    group = root[LOGS_GROUP]
    attrs = group.attrs.asdict()
    out.exists = True
    out.window_seconds, out.chunk_len, out.start_bin = int(attrs["window_seconds"]), int(attrs["chunk_len"]), int(attrs["start_bin"])
    out.length = int(group["time"].shape[0])
    out.templates = list(attrs.get("templates", []))
    out.drain = json.loads(attrs["drain"]) if attrs.get("drain") else None
    return out


DATASETS = ("sensors", "logs")


def template_label(index: int) -> str:
    """The column name of a log template in models and scores: `T<id>` (ids never change)."""
    return f"T{index}"


def grid_state(url: str, snapshot_id: str | None = None, dataset: str = "sensors") -> SensorStoreState:
    """The grid a model reads, in the sensors' terms whatever the dataset.

    `sensors`: the sensors group as it is. `logs`: the logs group's windows as
    the time axis, its templates as columns (`T0`, `T1`, ...) and one
    variable, `count`; models read it as log1p(count).
    """
    if dataset == "sensors":
        return state(url, snapshot_id)
    if dataset != "logs":
        raise ValueError(f"unknown dataset {dataset!r}: one of {', '.join(DATASETS)}")
    st = logs_state(url, snapshot_id)
    out = SensorStoreState(url=url, snapshot_id=st.snapshot_id, ingested=st.ingested)
    if st.exists:
        out.exists = True
        out.grid_seconds, out.chunk_len, out.start_bin, out.length = st.window_seconds, st.chunk_len, st.start_bin, st.length
        out.sensors = [template_label(i) for i in range(len(st.templates))]
        out.metrics, out.units = ["count"], {"count": "events"}
    return out


def open_logs(url: str, snapshot_id: str | None = None):
    """The `logs` group as a lazy xarray Dataset: `count` over `(time, template)`, `level_count` over `(time, level)`."""
    import xarray as xr

    try:
        return xr.open_zarr(_session(url, snapshot_id).store, group=LOGS_GROUP, consolidated=False)
    except (FileNotFoundError, KeyError) as exc:
        raise StoreError(f"the store at {url} holds no log counts yet") from exc


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
    """Add one run's events to the per-window counts and commit, all or nothing.

    `bins` (window numbers since the epoch), `template_ids` and `levels`
    (indices into `LOG_LEVELS`) hold one entry per event, or with `events`
    one per group of that many events. The group grows to
    the run's windows and templates; counts in windows the store already
    held are added to. The miner's state and the template texts are saved in
    the same commit, so the next run keeps every template id.
    """
    import json

    import zarr

    with commit_lock(url):
        repo = open_repo(url, create=True)
        session = repo.writable_session("main")
        current = logs_state(url)
        moved = current.snapshot_id != base_snapshot and (current.exists or base_snapshot is not None)
        if moved and not _moved_elsewhere(repo, base_snapshot, LOGS_GROUP):
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
                encoding = {
                    "count": {"chunks": (chunk_len, TEMPLATE_CHUNK)},
                    "level_count": {"chunks": (chunk_len, len(LOG_LEVELS))},
                    "time": {"units": "nanoseconds since 1970-01-01", "dtype": "int64", "chunks": (1 << 20,)},
                }
                to_icechunk(block, session, group=LOGS_GROUP, mode="w-", encoding=encoding)
            else:
                if first < current.start_bin:
                    raise StoreError(f"events before the store's first log window ({current.start_bin * window_seconds} s since the epoch) cannot be added yet")
                start, held = current.start_bin, len(current.templates)
                if n_templates > held:  # new templates: new columns over the time the store holds
                    pad = _log_block(current.length, held, n_templates, start, window_seconds, chunk_len).drop_vars(["level_count", "level"])
                    to_icechunk(pad, session, group=LOGS_GROUP, append_dim="template")
                grow = end - (start + current.length - 1)
                if grow > 0:  # later windows: new rows over every template and level
                    to_icechunk(_log_block(grow, 0, n_templates, start + current.length, window_seconds, chunk_len, time_at=current.length), session, group=LOGS_GROUP, append_dim="time")
            group = zarr.open_group(session.store, path=LOGS_GROUP)
            lo, hi = first - start, last - start + 1
            counts = group["count"][lo:hi, :n_templates]
            counts += _tally(bins - first, template_ids, counts.shape, events).astype(counts.dtype, copy=False)
            group["count"][lo:hi, :n_templates] = counts
            per_level = group["level_count"][lo:hi, :]
            per_level += _tally(bins - first, levels, per_level.shape, events).astype(per_level.dtype, copy=False)
            group["level_count"][lo:hi, :] = per_level
            group.attrs.put(
                {
                    "window_seconds": window_seconds,
                    "chunk_len": chunk_len,
                    "start_bin": start,
                    "templates": templates,
                    "drain": json.dumps(drain_state),
                    "levels": LOG_LEVELS,
                }
            )
        root = zarr.open_group(session.store)
        merged = dict(root.attrs.get(LOGS_INGESTED_ATTR, {}))
        merged.update(ingested)
        root.attrs[LOGS_INGESTED_ATTR] = merged
        return session.commit(message, metadata=metadata)
