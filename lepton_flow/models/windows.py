"""Windows over the store's `(time, channel)` rows: where they may start, how they are normalised, how scores come back.

A channel is one (metric, sensor) pair, metric-major. A window is `length`
consecutive rows; it never crosses a gap (a row where no channel holds a
value: the store had no data then) nor the end of its range, so a training
window never straddles the train/validation split. Within a window, missing
values (NaN: never observed, flagged by cleaning when training, or gaps too long to fill)
are masked: the model sees 0 plus a mask channel saying "missing", and the
loss counts only observed values.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel


class Normalization(BaseModel):
    """Per-channel mean and standard deviation, from the training range only."""

    mean: list[float]
    std: list[float]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.mean, dtype=np.float32), np.asarray(self.std, dtype=np.float32)


class StatsAccumulator:
    """Streams over row blocks to give each channel's mean and standard deviation in one pass."""

    def __init__(self, channels: int):
        self.n = np.zeros(channels, np.float64)
        self.s = np.zeros(channels, np.float64)
        self.ss = np.zeros(channels, np.float64)

    def add(self, values: np.ndarray) -> None:
        finite = np.isfinite(values)
        v = np.where(finite, values, 0).astype(np.float64)
        self.n += finite.sum(axis=0)
        self.s += v.sum(axis=0)
        self.ss += (v * v).sum(axis=0)

    def result(self) -> Normalization:
        n = np.maximum(self.n, 1)
        mean = self.s / n
        var = np.maximum(self.ss / n - mean * mean, 0)
        std = np.sqrt(var)
        # A channel never seen, or constant, is left in its own units: it is
        # masked or flat, and dividing by ~0 would only amplify float noise.
        std = np.where((self.n < 2) | (std < 1e-6), 1.0, std)
        mean = np.where(self.n == 0, 0.0, mean)
        return Normalization(mean=mean.tolist(), std=std.tolist())


def gap_rows(values: np.ndarray) -> np.ndarray:
    """True for rows where no channel holds a value."""
    return ~np.isfinite(values).any(axis=1)


def window_starts(start: int, stop: int, length: int, stride: int, gaps: np.ndarray, gaps_start: int = 0, most_gaps: int = 0) -> np.ndarray:
    """Starts of the windows that lie wholly in rows [start, stop) and hold at most `most_gaps` gap rows.

    `gaps` is the gap flag of rows [gaps_start, gaps_start + len(gaps)).
    """
    if stop - start < length:
        return np.zeros(0, dtype=np.int64)
    starts = np.arange(start, stop - length + 1, stride, dtype=np.int64)
    cs = np.concatenate([[0], np.cumsum(gaps.astype(np.int64))])
    lo = starts - gaps_start
    bad = cs[lo + length] - cs[lo]
    return starts[bad <= most_gaps]


def model_rows(values: np.ndarray, norm: Normalization) -> np.ndarray:
    """Rows as the model reads them, float32 `(rows, 2 * channels)`: normalised values with missing ones set to 0,
    then the mask (1 observed, 0 missing). A window is `length` consecutive model rows."""
    mean, std = norm.arrays()
    z = (values - mean) / std
    mask = np.isfinite(z)
    out = np.empty((len(values), 2 * z.shape[1]), np.float32)
    out[:, : z.shape[1]] = np.where(mask, z, 0)
    out[:, z.shape[1] :] = mask
    return out


def make_windows(values: np.ndarray, first_row: int, starts: np.ndarray, length: int, norm: Normalization) -> np.ndarray:
    """Model input for windows at `starts` (rows), from `values` holding rows from `first_row`.

    Returns float32 `(windows, length, 2 * channels)`: normalised values with
    missing ones set to 0, then the mask (1 observed, 0 missing).
    """
    view = np.lib.stride_tricks.sliding_window_view(model_rows(values, norm), length, axis=0)  # (rows-length+1, 2C, length)
    return np.ascontiguousarray(view[starts - first_row].transpose(0, 2, 1))


def anomaly_runs(flags: np.ndarray, scores: np.ndarray, first_row: int) -> list[tuple[int, int, int, float]]:
    """Runs of flagged rows per sensor column: (column, first row, last row, peak score)."""
    from lepton_flow.cleaning import runs

    out = []
    for col in np.nonzero(flags.any(axis=0))[0]:
        for a, b in zip(*runs(flags[:, col])):
            out.append((int(col), first_row + int(a), first_row + int(b) - 1, float(np.nanmax(scores[a:b, col]))))
    return out


def anomaly_events(runs: list[tuple[int, int, int, float]], gap: int) -> list[tuple[int, int, float, list[tuple[int, float]]]]:
    """Runs of flagged rows (column, first, last, peak) joined into events: runs of any columns less than `gap` rows
    apart are one event. Returns (first row, last row, peak, [(column, its peak)] by peak), events by peak."""
    events: list[list] = []
    for col, first, last, peak in sorted(runs, key=lambda r: (r[1], r[2])):
        if events and first - events[-1][1] <= gap:
            event = events[-1]
            event[1] = max(event[1], last)
            event[2] = max(event[2], peak)
            event[3][col] = max(event[3].get(col, -np.inf), peak)
        else:
            events.append([first, last, peak, {col: peak}])
    out = [(a, b, p, sorted(cols.items(), key=lambda kv: -kv[1])) for a, b, p, cols in events]
    return sorted(out, key=lambda e: -e[2])


def chunk_ranges(start: int, stop: int, step: int) -> list[tuple[int, int]]:
    """[start, stop) cut at multiples of `step` (the store's chunk boundaries)."""
    out, row = [], start
    while row < stop:
        end = min(stop, (row // step + 1) * step)
        out.append((row, end))
        row = end
    return out
