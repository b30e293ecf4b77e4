"""How a `(time, column)` group is laid out: the time grid, chunking and encoding, written once for every group.

The time axis is a regular grid: grid point `b` is `b * grid_seconds` after
the Unix epoch, and a group's axis starts at a chunk boundary (`start_bin` is
a multiple of `chunk_len`), so that time windows of `chunk_len` bins map onto
whole chunks and can be written in parallel.
"""

from __future__ import annotations

import numpy as np

NS = 1_000_000_000
SENSOR_CHUNK = 64
TIME_ENCODING = {"units": "nanoseconds since 1970-01-01", "dtype": "int64", "chunks": (1 << 20,)}


def grid_time(start_bin: int, grid_seconds: int, row: int) -> str:
    """The UTC time of store row `row` as ISO text (`2026-03-01T00:00:00Z`)."""
    return str(np.datetime64((start_bin + row) * grid_seconds * NS, "ns").astype("datetime64[s]")) + "Z"


def time_coord(start_bin: int, length: int, grid_seconds: int) -> np.ndarray:
    """Times of `length` grid points from `start_bin`, as datetime64[ns]."""
    bins = np.arange(start_bin, start_bin + length, dtype=np.int64)
    return (bins * grid_seconds * NS).astype("datetime64[ns]")


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


def encoding(names, chunk_len: int, column_chunk: int = SENSOR_CHUNK, time: bool = False) -> dict:
    """Zarr encodings: `(chunk_len, column_chunk)` chunks for each variable; with `time`, the time coordinate's too."""
    enc = {name: {"chunks": (chunk_len, column_chunk)} for name in names}
    if time:
        enc["time"] = dict(TIME_ENCODING)
    return enc


def fill_block(length: int, columns: list, variables: dict[str, tuple[str, float]], start_bin: int, grid_seconds: int, chunk_len: int, dim: str = "sensor", column_chunk: int = SENSOR_CHUNK, at: tuple[int, int] = (0, 0)):
    """A lazy `(time, dim)` Dataset of fill values, to grow a group with; `at` = (time, column) index it is written from."""
    import dask.array as da
    import xarray as xr

    shape = (length, len(columns))
    chunks = (aligned_chunks(length, at[0], chunk_len), aligned_chunks(len(columns), at[1], column_chunk))
    data = {name: (("time", dim), da.full(shape, fill, dtype=dtype, chunks=chunks)) for name, (dtype, fill) in variables.items()}
    labels = np.array(columns, dtype=object) if columns and isinstance(columns[0], str) else np.asarray(columns, dtype=np.int64)
    return xr.Dataset(data, coords={"time": time_coord(start_bin, length, grid_seconds), dim: labels})


def grow(session, group: str, variables: dict[str, tuple[str, float]], start_bin: int, length: int, columns: list, new_end: int, all_columns: list, grid_seconds: int, chunk_len: int, dim: str = "sensor", column_chunk: int = SENSOR_CHUNK) -> None:
    """Extend a `(time, dim)` group to `all_columns` along `dim` and to grid point `new_end`, with fill values."""
    from icechunk.xarray import to_icechunk

    new_columns = all_columns[len(columns) :]
    if new_columns:
        pad = fill_block(length, new_columns, variables, start_bin, grid_seconds, chunk_len, dim, column_chunk, at=(0, len(columns)))
        to_icechunk(pad, session, group=group, append_dim=dim)
    more = new_end - (start_bin + length - 1)
    if more > 0:
        pad = fill_block(more, all_columns, variables, start_bin + length, grid_seconds, chunk_len, dim, column_chunk, at=(length, 0))
        to_icechunk(pad, session, group=group, append_dim="time")


def window_runs(windows: list[int]) -> list[tuple[int, int]]:
    """Contiguous runs of window numbers, as (first, last)."""
    out: list[tuple[int, int]] = []
    for w in sorted(windows):
        if out and w == out[-1][1] + 1:
            out[-1] = (out[-1][0], w)
        else:
            out.append((w, w))
    return out
