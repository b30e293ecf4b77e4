"""How a `(time, column)` group is laid out: the time grid, chunking and coordinates, written once for every group.

The time axis is a regular grid: grid point `b` is `b * grid_seconds` after
the Unix epoch, and a group's axis starts at a chunk boundary (`start_bin` is
a multiple of `chunk_len`), so that time windows of `chunk_len` bins map onto
whole chunks and can be written in parallel.

Groups grow by resizing their arrays, never by writing fill values: a chunk
nobody wrote reads as its array's fill value (NaN, 0), so empty time and
columns cost nothing on disk or in memory, and a commit that adds a few rows
writes only the chunks that hold them. The time coordinate is chunked like
the data, so growing it rewrites its last chunk, not the whole axis.
Groups are readable by xarray (`xr.open_zarr`): coordinates `time`
(int64 nanoseconds, decoded to datetime64) and the column axis, each array
with its dimension names.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

NS = 1_000_000_000
SENSOR_CHUNK = 64
TIME_ATTRS = {"units": "nanoseconds since 1970-01-01", "calendar": "proleptic_gregorian"}


def grid_time(start_bin: int, grid_seconds: int, row: int) -> str:
    """The UTC time of store row `row` as ISO text (`2026-03-01T00:00:00Z`)."""
    return str(np.datetime64((start_bin + row) * grid_seconds * NS, "ns").astype("datetime64[s]")) + "Z"


def grid_row(when, start_bin: int, grid_seconds: int) -> int:
    """The store row holding time `when` (an aware datetime, or ISO text as `grid_time` writes it): `grid_time`'s inverse."""
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    return int(np.floor(when.timestamp() / grid_seconds)) - start_bin


def time_coord(start_bin: int, length: int, grid_seconds: int) -> np.ndarray:
    """Times of `length` grid points from `start_bin`, as datetime64[ns]."""
    return time_values(start_bin, length, grid_seconds).astype("datetime64[ns]")


def time_values(start_bin: int, length: int, grid_seconds: int) -> np.ndarray:
    return np.arange(start_bin, start_bin + length, dtype=np.int64) * (grid_seconds * NS)


def _labels(columns: list) -> np.ndarray:
    return np.array(columns, dtype=object) if columns and isinstance(columns[0], str) else np.asarray(columns, dtype=np.int64)


def create_grid(parent, path: str, *, variables: dict[str, tuple[str, float, dict]], start_bin: int, length: int, columns: list, grid_seconds: int, chunk_len: int, dim: str = "sensor", column_chunk: int = SENSOR_CHUNK, column_dtype=str, extra: dict[str, tuple[str, list]] | None = None, write_times: bool = True):
    """Create a `(time, dim)` group at `path` under `parent`: `variables` name -> (dtype, fill, attributes), no data written.

    Without `write_times` the time coordinate is not written either: the
    caller writes the chunks of it that its data fills (a sparse group, where
    empty time costs nothing; its readers compute times from `start_bin`).

    `extra` adds variables over `(time, other)` with a fixed axis of their
    own: name -> (dtype, labels of `other`), with `other` their dimension
    (e.g. the logs' per-level counts). Returns the group.
    """
    group = parent
    for part in path.split("/"):
        group = group.require_group(part)
    group.create_array("time", shape=(length,), chunks=(chunk_len,), dtype="int64", fill_value=0, dimension_names=("time",), attributes=dict(TIME_ATTRS))
    if length and write_times:
        group["time"][:] = time_values(start_bin, length, grid_seconds)
    group.create_array(dim, shape=(len(columns),), chunks=(column_chunk,), dtype=column_dtype, dimension_names=(dim,))
    if columns:
        group[dim][:] = _labels(columns)
    for name, (dtype, fill, attrs) in variables.items():
        group.create_array(name, shape=(length, len(columns)), chunks=(chunk_len, column_chunk), dtype=dtype, fill_value=fill, dimension_names=("time", dim), attributes=attrs)
    for name, (dtype, (other, labels)) in (extra or {}).items():
        group.create_array(other, shape=(len(labels),), chunks=(len(labels),), dtype=str, dimension_names=(other,))
        group[other][:] = np.array(labels, dtype=object)
        group.create_array(name, shape=(length, len(labels)), chunks=(chunk_len, len(labels)), dtype=dtype, fill_value=0, dimension_names=("time", other))
    return group


def add_variables(group, variables: dict[str, tuple[str, float, dict]], chunk_len: int, dim: str = "sensor", column_chunk: int = SENSOR_CHUNK) -> None:
    """New `(time, dim)` variables over the group's whole extent, reading as their fill value until written."""
    shape = (group["time"].shape[0], group[dim].shape[0])
    for name, (dtype, fill, attrs) in variables.items():
        group.create_array(name, shape=shape, chunks=(chunk_len, column_chunk), dtype=dtype, fill_value=fill, dimension_names=("time", dim), attributes=attrs)


def resize_grid(group, start_bin: int, length: int, columns: list, grid_seconds: int, dim: str = "sensor", write_times: bool = True) -> None:
    """Grow a `(time, dim)` group to `length` rows and to `columns` (its own columns first), writing only the new coordinates (times too unless not `write_times`).

    Every array over `time` grows with it; data arrays are resized, not
    written, so the new rows and columns read as fill values.
    """
    held, width = group["time"].shape[0], group[dim].shape[0]
    if length < held or len(columns) < width:
        raise ValueError(f"a group only grows: {held} x {width} cannot become {length} x {len(columns)}")
    if length == held and len(columns) == width:
        return
    for name, array in group.arrays():
        names = tuple(array.metadata.dimension_names or ())
        if names and names[0] == "time":
            array.resize((length, *[len(columns) if d == dim else s for d, s in zip(names[1:], array.shape[1:])]))
    if len(columns) > width:
        group[dim].resize((len(columns),))
        group[dim][width:] = _labels(columns[width:])
    if length > held and write_times:
        group["time"][held:] = time_values(start_bin + held, length - held, grid_seconds)


def prepend_chunks(session, group, path: str, chunks: int, chunk_len: int, times: tuple[int, int] | None = None) -> None:
    """Make room for `chunks` chunks of rows before a group's first row, by moving chunk references, not data.

    Every array over `time` grows by that many rows and its chunks shift
    later (Icechunk's `shift_array`: a change to the manifest only), so
    backfill costs what the new chunks cost, whatever the store holds.
    `times` (the new first row's bin, grid seconds): the group keeps a whole
    time coordinate, so the new rows' times are written.
    """
    for name, array in list(group.arrays()):
        names = tuple(array.metadata.dimension_names or ())
        if names and names[0] == "time":
            array.resize((array.shape[0] + chunks * chunk_len, *array.shape[1:]))
            session.shift_array(f"/{path}/{name}", (chunks, *[0] * (len(array.shape) - 1)))
    if times is not None:
        group["time"][: chunks * chunk_len] = time_values(times[0], chunks * chunk_len, times[1])


def window_runs(windows: list[int]) -> list[tuple[int, int]]:
    """Contiguous runs of window numbers, as (first, last)."""
    out: list[tuple[int, int]] = []
    for w in sorted(windows):
        if out and w == out[-1][1] + 1:
            out[-1] = (out[-1][0], w)
        else:
            out.append((w, w))
    return out
