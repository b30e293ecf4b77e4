"""The `scores/<model>` groups: a model's anomaly scores and flags over the grid of the data it reads."""

from __future__ import annotations

import numpy as np

from lepton_flow.store.grid import grid_state
from lepton_flow.store.layout import add_variables, create_grid, prepend_chunks, resize_grid
from lepton_flow.store.repo import changed_chunks, commit, commit_lock, group_at, open_dataset, open_repo, StoreError

SCORE_VARIABLES = {
    "score": ("float32", np.nan, {"long_name": "anomaly score of the model: the row's own error, or where higher its neighbours' average over a window or its stretch's over wider spans"}),
    "error": ("float32", np.nan, {"long_name": "the row's own error, that the calibration judges"}),
    "flag": ("uint8", 0, {}),
    "tail_p": ("float32", np.nan, {"long_name": "share of the sensor's recent scores at least as high (calibrated)"}),
}
# Coordinates sit in one chunk that holds the whole axis: a write to them says nothing of which rows changed.
_COORDINATES = ("time", "sensor", "template", "level")


def scores_group(model: str) -> str:
    return f"scores/{model}"


def scored_attrs(url: str, model: str, snapshot_id: str | None = None) -> dict:
    """The attributes of `model`'s scores group (empty if it never scored): `scored_until_bin`, `input_snapshot`, ..."""
    _, group = group_at(url, snapshot_id, scores_group(model))
    return {} if group is None else group.attrs.asdict()


def scored_models(url: str, snapshot_id: str | None = None) -> list[str]:
    """Names of the models that have a scores group at a snapshot."""
    _, group = group_at(url, snapshot_id, "scores")
    return [] if group is None else sorted(name for name, _ in group.groups())


def scored_until(url: str, model: str, snapshot_id: str | None = None) -> int | None:
    """First grid point (bin) not yet scored by `model`, or None if it never scored."""
    value = scored_attrs(url, model, snapshot_id).get("scored_until_bin")
    return None if value is None else int(value)


def first_changed_row(url: str, since: str, snapshot_id: str, dataset: str, chunk_len: int) -> int | None:
    """The first row of `dataset`'s time axis whose data changed from snapshot `since` to `snapshot_id` (None: none did).

    Read from which chunks were written between the two snapshots, so it
    costs no data read: late data merged into windows already scored shows
    up here. Raises `SnapshotUnavailable` when `since` is gone.
    """
    if since == snapshot_id:
        return None
    rows = [
        int(index[0]) * chunk_len
        for path, chunks in changed_chunks(url, since, snapshot_id).items()
        if path.startswith(f"/{dataset}/") and path.rsplit("/", 1)[1] not in _COORDINATES
        for index in chunks
        if index
    ]
    return min(rows, default=None)


def open_scores(url: str, model: str, snapshot_id: str | None = None):
    """The `scores/<model>` group as a lazy xarray Dataset (`score`, `flag` over `(time, sensor)`)."""
    return open_dataset(url, snapshot_id, scores_group(model), f"the store at {url} holds no scores of model {model!r}", chunks="auto")


class ScoreWriter:
    """Writes a model's scores over the grid of the data it reads, then commits them once.

    The `scores/<model>` group has that grid's time axis and its columns as
    the `sensor` axis (sensors, or log templates `T<id>`; columns a model does
    not take stay NaN). Writes go to an Icechunk session; nothing is visible
    until `commit`, which takes the local commit lock only for the commit
    itself and rebases over commits that other runs (an ingest) made
    meanwhile, since those touch other groups.
    """

    def __init__(self, url: str, model: str, input_snapshot: str, dataset: str = "sensors"):
        import zarr

        self.url, self.model, self.group = url, model, scores_group(model)
        self.input = grid_state(url, input_snapshot, dataset)
        if not self.input.exists:
            raise StoreError(f"the store at {url} holds no {dataset} data to score")
        self.session = open_repo(url).writable_session("main")
        root = zarr.open_group(self.session.store)
        inp = self.input
        if self.group not in root:
            create_grid(root, self.group, variables=SCORE_VARIABLES, start_bin=inp.start_bin, length=inp.length, columns=inp.sensors, grid_seconds=inp.grid_seconds, chunk_len=inp.chunk_len)
            self._attrs: dict = {}
        else:
            group = root[self.group]
            self._attrs = group.attrs.asdict()
            sensors = [str(s) for s in group["sensor"][:]]
            if inp.sensors[: len(sensors)] != sensors:
                raise StoreError(f"{self.group} in {url} lists sensors the sensors group does not hold in that order")
            held_start = int(self._attrs.get("start_bin", inp.start_bin))
            if inp.start_bin < held_start:  # the data was backfilled before its first time: the scores make the same room
                prepend_chunks(self.session, group, self.group, (held_start - inp.start_bin) // inp.chunk_len, inp.chunk_len, times=(inp.start_bin, inp.grid_seconds))
            resize_grid(group, inp.start_bin, inp.length, inp.sensors, inp.grid_seconds)
            missing = {k: v for k, v in SCORE_VARIABLES.items() if k not in group}
            if missing:  # a scores group written before calibrated flags, or before rows' own errors were kept
                add_variables(group, missing, inp.chunk_len)
        group = zarr.open_group(self.session.store, path=self.group)
        self._arrays = {name: group[name] for name in SCORE_VARIABLES}

    def write(self, start: int, score: np.ndarray, flag: np.ndarray, columns: np.ndarray, tail: np.ndarray | None = None, error: np.ndarray | None = None) -> None:
        """Scores of rows [start, start + len(score)) for the sensors at `columns` of the sensor axis (and their tail
        probabilities, and the rows' own errors where `score` is smoothed: else `score` is theirs)."""
        values = {"score": score.astype(np.float32), "error": (score if error is None else error).astype(np.float32), "flag": flag.astype(np.uint8)}
        if tail is not None:
            # float32 holds down to ~1e-38: rarer tails are stored as that, not as 0
            values["tail_p"] = np.maximum(tail, np.finfo(np.float32).tiny).astype(np.float32)
        for name, data in values.items():
            self._put(name, start, data, columns)

    def _put(self, name: str, start: int, data: np.ndarray, columns: np.ndarray) -> None:
        stop = start + data.shape[0]
        lo, hi = int(columns.min()), int(columns.max()) + 1
        array = self._arrays[name]
        if hi - lo == len(columns):
            array[start:stop, lo:hi] = data
        else:
            held = array[start:stop, lo:hi]
            held[:, columns - lo] = data
            array[start:stop, lo:hi] = held

    def _get(self, name: str, start: int, stop: int, columns: np.ndarray) -> np.ndarray:
        lo, hi = int(columns.min()), int(columns.max()) + 1
        return self._arrays[name][start:stop, lo:hi][:, columns - lo]

    def scored_by(self) -> str | None:
        """The model version whose scores this group last committed (None: none yet)."""
        version = self._attrs.get("version")
        return None if version is None else str(version)

    def revise(self, start: int, score: np.ndarray, columns: np.ndarray) -> None:
        """The stored `score` of rows [start, start + len(score)) at `columns` written again where those rows were
        scored (their `error` is held), their errors, flags and tails kept: rows whose averages reach past the data a
        run had, ranked again once what follows them is in."""
        stop = start + score.shape[0]
        held = np.isfinite(self._get("error", start, stop, columns))
        before = self._get("score", start, stop, columns)
        self._put("score", start, np.where(held, score, before).astype(np.float32), columns)

    def history(self, model_version: str, columns: np.ndarray, start: int, rows: int) -> np.ndarray | None:
        """Rows' own errors of rows [start - rows, start) at `columns`, if this group's last scores came from `model_version`."""
        if self.scored_by() != str(model_version) or start <= 0:
            return None
        a = max(0, start - rows)
        error = self._get("error", a, start, columns)
        # Rows scored before `error` was kept have none: their `score` is their own (those versions did not smooth).
        missing = ~np.isfinite(error)
        if missing.any():
            error = np.where(missing, self._get("score", a, start, columns), error)
        return error

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
            return commit(self.session, message, metadata, rebase_with=icechunk.ConflictDetector())
