"""The generic grid reader: any `(time, column)` group seen as rows of channels, for models.

Models read sensors and log counts alike: a time axis of grid points and
columns (sensors, or log templates `T<id>`) of one or more variables. What a
model does with the values (a log1p of counts, say) is the model's business,
passed in as `transform`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from lepton_flow.store import logs, sensors
from lepton_flow.store.repo import StoreError, open_group
from lepton_flow.store.sensors import GridState

DATASETS = (sensors.GROUP, logs.GROUP)


def grid_state(url: str, snapshot_id: str | None = None, dataset: str = sensors.GROUP) -> GridState:
    """The grid a model reads, in the sensors' terms whatever the dataset.

    `sensors`: the sensors group as it is. `logs`: the logs group's windows as
    the time axis, its templates as columns (`T0`, `T1`, ...) and one
    variable, `count`.
    """
    if dataset == sensors.GROUP:
        return sensors.state(url, snapshot_id)
    if dataset != logs.GROUP:
        raise ValueError(f"unknown dataset {dataset!r}: one of {', '.join(DATASETS)}")
    st = logs.logs_state(url, snapshot_id)
    out = GridState(url=url, snapshot_id=st.snapshot_id)
    if st.exists:
        out.exists = True
        out.grid_seconds, out.chunk_len, out.start_bin, out.length = st.window_seconds, st.chunk_len, st.start_bin, st.length
        out.sensors = [logs.template_label(i) for i in range(len(st.templates))]
        out.metrics, out.units = ["count"], {"count": "events"}
    return out


class GridReader:
    """Reads `(time, column)` blocks of chosen variables and columns from one snapshot of a dataset.

    Training and scoring read the store a block of rows at a time (rows are
    store time indices, 0 at `start_bin`); a reader opens the snapshot once
    and is safe to share between the threads of a `tf.data` pipeline.
    """

    def __init__(
        self,
        url: str,
        snapshot_id: str,
        metrics: list[str],
        sensors: list[str],
        dataset: str = sensors.GROUP,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
        hide_quality: tuple[int, ...] = (),
        spans: dict[str, tuple[int, int]] | None = None,
        shown: list[int] | None = None,
    ):
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
        group = open_group(url, snapshot_id, dataset)
        self._arrays = [group[m] for m in metrics]
        self._transform = transform
        # Values whose quality code is one of `hide_quality` read as NaN (training hides what cleaning flagged),
        # except in the `shown` channels (metric-major indices).
        self._hide = np.asarray(hide_quality, np.uint8)
        self._shown = np.asarray(shown or [], np.int64)
        self._group = group
        # Rows [a, b) of a sensor that `spans` names are all it reads of that sensor; its other rows read as missing.
        self._spans = None
        if spans:
            self._spans = np.array([spans.get(s, (0, np.iinfo(np.int64).max)) for s in sensors], np.int64).T

    @functools.cached_property
    def _quality(self) -> list | None:
        """The metrics' quality arrays (None if any is missing), opened on first use: a reader that hides nothing and
        counts no flags (scoring's) never opens them."""
        names = [f"{m}_quality" for m in self.metrics]
        return [self._group[n] for n in names] if all(n in self._group for n in names) else None

    @property
    def length(self) -> int:
        return self.state.length

    @property
    def channels(self) -> int:
        return len(self.metrics) * len(self.sensors)

    def _read(self, arrays, start: int, stop: int) -> np.ndarray:
        lo, hi = int(self._columns.min()), int(self._columns.max()) + 1
        return np.concatenate([a[start:stop, lo:hi][:, self._columns - lo] for a in arrays], axis=1)

    def stored_chunks(self, stop: int) -> list[bytes]:
        """The stored (compressed) bytes of the chunks that hold rows [0, `stop`) of the reader's variables: what a read
        of them fetches before decoding (benchmarks time fetch and decompression apart)."""
        from zarr.core.buffer import default_buffer_prototype
        from zarr.core.sync import sync

        out = []
        for a in self._arrays:
            for i in range(-(-stop // a.chunks[0])):
                for j in range(-(-a.shape[1] // a.chunks[1])):
                    got = sync(a.store.get(f"{a.path}/{a.metadata.encode_chunk_key((i, j))}", prototype=default_buffer_prototype()))
                    if got is not None:
                        out.append(got.to_bytes())
        return out

    def flag_counts(self, start: int, stop: int, codes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Per channel over rows [start, stop) (within `spans`): values held, and those whose quality is one of `codes`."""
        start, stop = max(0, start), min(stop, self.length)
        held = np.isfinite(self._read(self._arrays, start, stop))
        if self._spans is not None:
            held &= ~self._outside(start, stop)
        if self._quality is None:
            return held.sum(0), np.zeros(held.shape[1], np.int64)
        return held.sum(0), (held & np.isin(self._read(self._quality, start, stop), np.asarray(codes, np.uint8))).sum(0)

    def _outside(self, start: int, stop: int) -> np.ndarray:
        """`(rows, channels)`: True where a row lies outside its sensor's span."""
        row = np.arange(start, stop, dtype=np.int64)[:, None]
        return np.tile((row < self._spans[0]) | (row >= self._spans[1]), len(self.metrics))

    def rows(self, start: int, stop: int, with_gaps: bool = False):
        """Values of rows [start, stop) as float32 `(rows, metrics * sensors)`, metric-major; NaN where missing (and hidden).

        With `with_gaps`, also the rows where no channel holds a value at all, hidden ones counting as values: a
        flagged reading is data the model does not learn from, not a hole in the series (a row outside every
        sensor's span is one).
        """
        start, stop = max(0, start), min(stop, self.length)
        out = self._read(self._arrays, start, stop).astype(np.float32, copy=False)
        if self._spans is not None:
            out = np.where(self._outside(start, stop), np.float32(np.nan), out)
        gaps = ~np.isfinite(out).any(axis=1) if with_gaps else None
        if len(self._hide) and self._quality is not None:
            hidden = np.isin(self._read(self._quality, start, stop), self._hide)
            hidden[:, self._shown] = False
            out = np.where(hidden, np.float32(np.nan), out)
        if self._transform is not None:
            out = self._transform(out)
        return (out, gaps) if with_gaps else out
