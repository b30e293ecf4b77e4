"""Training the sensor anomaly model from a store snapshot, and deciding whether it becomes current.

The flow `train_sensor_model` wires three steps: `plan` (resolve the
snapshot, channels and time ranges: metadata and one scan for the data's
extent), `fit` (stream windows through `tf.data`, train with early stopping
and a checkpoint each epoch, calibrate the flag threshold, save a registry
version) and `promote` (compare with the current version on the same
validation windows). TensorFlow is imported inside `fit` and `promote` only.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from datetime import datetime
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator, model_validator

from lepton_flow import store
from lepton_flow.cleaning import FLAGGED
from lepton_flow.forms import field_order
from lepton_flow.models import DEFAULT_MODEL, loadable, model_kinds
from lepton_flow.models.autoencoder import SIZES
from lepton_flow.models.calibration import in_sample_reference, reference_sample
from lepton_flow.models.features import grid_reader
from lepton_flow.models.inference import score_rows, score_rows_smoothed, smoothing_for, wide_smoothing_for
from lepton_flow.models.windows import Normalization, StatsAccumulator, chunk_ranges, window_starts
from lepton_flow.registry import Measure, ModelCard, Registry
from lepton_flow.settings import Settings, get_settings

ModelKind = Literal[tuple(model_kinds("windows"))]  # type: ignore[valid-type]
ModelSize = Literal[tuple(SIZES)]  # type: ignore[valid-type]


def _kind_choices(schema: dict) -> None:
    """The form shows the model kinds as a choice, even while there is one (pydantic writes one as a constant)."""
    schema.pop("const", None)
    schema["enum"] = list(model_kinds("windows"))


class TrainParams(BaseModel):
    """Parameters of `train_sensor_model`; empty fields take defaults from what the store holds."""

    model_config = {"json_schema_extra": field_order()}  # the form lists fields as declared here

    model_name: str = Field(DEFAULT_MODEL, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="Registry name of the model.")
    dataset: Literal["sensors", "logs"] = Field(
        "sensors", description="What the model reads: sensor readings, or log event counts per window and template (as log1p(count))."
    )
    snapshot_id: str | None = Field(None, description="Store snapshot to train on; empty: the latest.")
    train_start: datetime | None = Field(None, description="Start of the training range; empty: where the data starts.")
    train_end: datetime | None = Field(None, description="End of the training range (exclusive); empty: a time split.")
    validation_start: datetime | None = Field(None, description="Start of the validation range; empty: the training end.")
    validation_end: datetime | None = Field(None, description="End of the validation range (exclusive); empty: where the data ends.")
    train_share: float = Field(0.7, gt=0, lt=1, description="Share of the data's time span to train on, from its start, when the training end is empty.")
    validation_share: float = Field(
        0.15, gt=0, lt=1, description="Share of the data's time span to validate on, right after training, when the validation end is empty. The rest is only scored."
    )
    sensors: list[str] = Field(default_factory=list, description="Sensors (or log templates, T<id>) to model; empty: all.")
    metrics: list[str] = Field(default_factory=list, description="Metrics to model; empty: all (logs: count).")
    window: int = Field(
        64, ge=8, le=4096, multiple_of=4, description="Window length in grid steps (shortened to fit when the shares give a range shorter than it)."
    )
    stride: int = Field(8, ge=1, le=4096, description="Steps between the starts of training windows.")
    gap_share: float = Field(
        0.5,
        ge=0,
        lt=1,
        description=(
            "Most share of a window's steps where no value is held (gaps left after cleaning's interpolation) for it to be "
            "trained or validated on; the model sees which steps are missing. 0: only windows clear of gaps."
        ),
    )
    model_kind: ModelKind = Field(
        "conv-autoencoder",
        description="Model builder from lepton_flow.models.",
        json_schema_extra=_kind_choices,
    )
    model_size: ModelSize = Field("small", description="Width of the model.")
    epochs: int = Field(20, ge=1, le=1000, description="Most passes over the training windows (early stopping may end sooner).")
    batch_size: int = Field(64, ge=1, le=65536, description="Windows per training step.")
    learning_rate: float = Field(1e-3, gt=0, le=1, description="Adam's learning rate.")
    patience: int = Field(3, ge=1, le=100, description="Epochs without a better validation loss before stopping.")
    flag_quantile: float = Field(0.995, gt=0.5, lt=1, description="Share of validation scores below the flag threshold.")
    seed: int = Field(0, ge=0, description="Seed of the weights' initialisation and the order windows are shuffled in: the same seed, the same model.")
    labels: str | None = Field(
        None,
        description=(
            "Labels file of incident windows (CSV: sensor,start,end). When incidents of the model's sensors lie in the "
            "validation range, a new version is compared with the current one, of any kind, on them (median per-point "
            "ROC AUC) instead of on validation loss."
        ),
    )
    input_cache_mb: int = Field(
        256, ge=0, le=1 << 20, description="Memory (MiB) for store rows kept between epochs, so later epochs read less; 0: read the store every epoch."
    )

    @field_validator("train_start", "train_end", "validation_start", "validation_end")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone (e.g. 2026-01-01T00:00:00Z)")
        return value

    @model_validator(mode="after")
    def _ranges(self) -> "TrainParams":
        """What can be judged before any data is read: the shares fit, the given times are in order."""
        if self.train_share + self.validation_share > 1:
            raise ValueError(f"train_share {self.train_share} and validation_share {self.validation_share} add up to more than 1")
        order = [(n, getattr(self, n)) for n in ("train_start", "train_end", "validation_start", "validation_end") if getattr(self, n) is not None]
        for (a, ta), (b, tb) in zip(order, order[1:]):
            if tb < ta or (tb == ta and not (a, b) == ("train_end", "validation_start")):
                raise ValueError(f"{b} ({tb.isoformat()}) must come after {a} ({ta.isoformat()})")
        return self

    def check_window(self, grid_seconds: int) -> None:
        """Given ranges each hold a window: raises ValueError naming the range, before any data is read."""
        pairs = (("training", self.train_start, self.train_end), ("validation", self.validation_start or self.train_end, self.validation_end))
        for name, a, b in pairs:
            if a is not None and b is not None and (b - a).total_seconds() / grid_seconds < self.window:
                steps = int((b - a).total_seconds() // grid_seconds)
                raise ValueError(f"the {name} range {a.isoformat()} to {b.isoformat()} holds {steps} grid steps of {grid_seconds} s, fewer than one window of {self.window}")


class TrainingPlan(BaseModel):
    """What one training run reads: a snapshot, channels, and row ranges of the store's time axis."""

    store_url: str
    snapshot_id: str
    sensors: list[str]
    metrics: list[str]
    start_bin: int
    grid_seconds: int
    chunk_len: int
    train_rows: tuple[int, int]
    validation_rows: tuple[int, int]
    params: TrainParams
    # Per sensor, when the shares cut each sensor's own span (sensors that began or ended at other times):
    # (train start, train end, validation start, validation end) rows; `train_rows` and `validation_rows` then
    # span them all. Empty: every sensor has the ranges above.
    sensor_rows: dict[str, tuple[int, int, int, int]] = {}
    # Channels (metric-major) whose flagged readings training reads as observed: cleaning flagged at least
    # FLAGGED_AS_BEHAVIOUR of their training values (a state channel's plateaus read as stuck, a constant series, a
    # heavy-tailed channel's outliers). That is how such a channel behaves; hidden, the model would learn a channel
    # that never does it, and scoring would then rank each plateau as an anomaly.
    learned_flagged: list[int] = []
    # The window asked for, when a range cut by the shares was shorter and `params.window` was shortened to fit.
    window_asked: int | None = None

    @property
    def key(self) -> str:
        """Names the run's checkpoint: the same plan re-run resumes where a killed one stopped."""
        body = self.model_dump(mode="json")
        for name in ("epochs", "input_cache_mb"):  # neither changes what an epoch computes
            body["params"].pop(name, None)
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]

    def time(self, row: int) -> str:
        return store.grid_time(self.start_bin, self.grid_seconds, row)

    def range_text(self, rows: tuple[int, int]) -> tuple[str, str]:
        return self.time(rows[0]), self.time(rows[1])

    def reader(self, purpose: str | None = None) -> store.GridReader:
        """The training reader (flagged values hidden); for `purpose` "train" or "validation", each sensor read only
        over its own range of that kind (when the plan has ranges per sensor)."""
        spans = None
        if purpose and self.sensor_rows:
            at = 0 if purpose == "train" else 2
            spans = {s: (rows[at], rows[at + 1]) for s, rows in self.sensor_rows.items()}
        return grid_reader(self.store_url, self.snapshot_id, self.metrics, self.sensors, self.params.dataset, training=True, spans=spans, learned=self.learned_flagged)

    def channel_name(self, channel: int) -> str:
        return f"{self.metrics[channel // len(self.sensors)]} of {self.sensors[channel % len(self.sensors)]}"

    def validation_rows_of(self, sensor: str) -> tuple[int, int]:
        rows = self.sensor_rows.get(sensor)
        return (rows[2], rows[3]) if rows else self.validation_rows

    def train_rows_of(self, sensor: str) -> tuple[int, int]:
        rows = self.sensor_rows.get(sensor)
        return (rows[0], rows[1]) if rows else self.train_rows

    def own_validation(self, scores: np.ndarray) -> np.ndarray:
        """`(rows, sensors)` scores over `validation_rows` with each sensor's rows outside its own validation range
        made NaN."""
        return self._own(scores, self.validation_rows[0], self.validation_rows_of)

    def own_training(self, scores: np.ndarray) -> np.ndarray:
        """`(rows, sensors)` scores over `train_rows` with each sensor's rows outside its own training range made NaN."""
        return self._own(scores, self.train_rows[0], self.train_rows_of)

    def _own(self, scores: np.ndarray, a: int, rows_of) -> np.ndarray:
        if not self.sensor_rows:
            return scores
        out = scores.copy()
        for i, sensor in enumerate(self.sensors):
            lo, hi = rows_of(sensor)
            out[: max(0, lo - a), i] = np.nan
            out[max(0, hi - a) :, i] = np.nan
        return out

    def sensor_ranges(self) -> dict[str, dict[str, tuple[str, str]]]:
        """Each sensor's own training and validation range as times (for the model card), when the plan has them."""
        return {s: {"train": self.range_text(r[:2]), "validation": self.range_text(r[2:])} for s, r in self.sensor_rows.items()}


class TrainResult(BaseModel):
    name: str
    version: str
    validation_loss: float
    threshold: float
    epochs_run: int
    initial_epoch: int
    promoted: bool | None = None
    reason: str | None = None
    card_url: str


def _pick(asked: list[str], held: list[str], what: str) -> list[str]:
    if not asked:
        return list(held)
    unknown = [a for a in asked if a not in held]
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(unknown)}; the store holds {', '.join(held)}")
    return list(asked)


def scan_blocks(reader: store.GridReader, start: int, stop: int):
    """(first row, values, gap rows) blocks of whole store chunks over rows [start, stop)."""
    for row, end in chunk_ranges(start, stop, reader.state.chunk_len):
        values, gaps = reader.rows(row, end, with_gaps=True)
        yield row, values, gaps


def sensor_extents(reader: store.GridReader) -> dict[str, tuple[int, int]]:
    """First and one-past-last row holding a value of each sensor that holds one, any metric (a reader that hides
    flagged values would leave them out)."""
    sensors = len(reader.sensors)
    first = np.full(sensors, -1, np.int64)
    last = np.full(sensors, -1, np.int64)
    for row, end in chunk_ranges(0, reader.length, reader.state.chunk_len):
        held = np.isfinite(reader.rows(row, end))
        held = held.reshape(len(held), -1, sensors).any(axis=1)  # metric-major columns: any metric of a sensor
        seen = held.any(axis=0)
        new = seen & (first < 0)
        first[new] = row + held[:, new].argmax(axis=0)
        last[seen] = row + len(held) - held[::-1, seen].argmax(axis=0)
    return {s: (int(a), int(b)) for s, a, b in zip(reader.sensors, first, last) if a >= 0}


def _sensor_rows(extents: dict[str, tuple[int, int]], t0: int | None, params: TrainParams) -> dict[str, tuple[int, int, int, int]]:
    """Each sensor's training and validation rows: the shares of its own span, from `t0` (the training start asked
    for) or its first value."""
    out = {}
    for sensor, (first, stop) in extents.items():
        start = max(first, t0) if t0 is not None else first
        span = max(0, stop - start)
        t1 = start + int(round(span * params.train_share))
        out[sensor] = (start, t1, t1, min(stop, t1 + int(round(span * params.validation_share))))
    return out


FLAGGED_AS_BEHAVIOUR = 0.3
"""A channel whose training values cleaning flagged at least this share of (stuck or outlier) is learned as observed."""

MIN_WINDOW = 8
"""The shortest window a range cut by the shares may shorten `TrainParams.window` to (its own lower bound)."""


def plan(params: TrainParams, settings: Settings | None = None) -> TrainingPlan:
    """Resolve the snapshot, the channels and the ranges; errors name what is missing."""
    settings = settings or get_settings()
    if params.labels:  # a labels file that cannot be read is said now, not after training
        from lepton_flow.evaluation import load_labels

        load_labels(params.labels)
    st = store.grid_state(settings.store, params.snapshot_id, params.dataset)
    if not st.exists:
        flow = "sensor_ingest" if params.dataset == "sensors" else "log_ingest"
        raise store.StoreError(f"the store at {settings.store} holds no {params.dataset} data: run {flow} first")
    sensors = _pick(params.sensors, st.sensors, "sensor(s)" if params.dataset == "sensors" else "template(s)")
    metrics = _pick(params.metrics, st.metrics, "metric(s)")
    params.check_window(st.grid_seconds)  # given ranges too short for a window: said before any data is read
    extents = sensor_extents(grid_reader(st.url, st.snapshot_id, metrics, sensors, params.dataset))  # flagged values count
    if not extents:
        raise ValueError(f"snapshot {st.snapshot_id} holds no values for these sensors and metrics")
    grid, sb = st.grid_seconds, st.start_bin
    first, stop = min(a for a, _ in extents.values()), max(b for _, b in extents.values())
    t0 = store.grid_row(params.train_start, sb, grid) if params.train_start else first
    by_sensor = {}
    if params.dataset == "sensors" and not (params.train_end or params.validation_start or params.validation_end):
        # The shares cut each sensor's own span: a sensor installed later, or a series from another year, is
        # trained on its own first share, not on the first share of everyone's time.
        by_sensor = _sensor_rows(extents, t0 if params.train_start else None, params)
        if len(set(by_sensor.values())) <= 1 and len(by_sensor) == len(sensors):
            by_sensor = {}  # one span for all: the ranges below
    span = stop - t0  # the data's time span from the training start: the shares cut it
    if params.train_end:
        t1 = store.grid_row(params.train_end, sb, grid)
    elif params.validation_start:
        t1 = store.grid_row(params.validation_start, sb, grid)
    else:
        t1 = t0 + int(round(span * params.train_share))
    v0 = store.grid_row(params.validation_start, sb, grid) if params.validation_start else t1
    v1 = store.grid_row(params.validation_end, sb, grid) if params.validation_end else min(stop, v0 + int(round(span * params.validation_share)))
    if by_sensor:
        t0, t1 = min(r[0] for r in by_sensor.values()), max(r[1] for r in by_sensor.values())
        v0, v1 = min(r[2] for r in by_sensor.values()), max(r[3] for r in by_sensor.values())
    t0, t1, v0, v1 = (min(max(r, 0), st.length) for r in (t0, t1, v0, v1))
    asked = None
    room = min(t1 - t0, v1 - v0) // 4 * 4  # the longest window (a multiple of 4) both ranges hold
    if not (params.train_end or params.validation_start or params.validation_end) and MIN_WINDOW <= room < params.window:
        # Ranges cut by the shares from a short series (a year of daily readings: 55 validation steps) shorten the
        # window rather than fail after the ingest; ranges given as times keep theirs, refused below if too short.
        asked, params = params.window, params.model_copy(update={"window": room, "stride": min(params.stride, room)})
    out = TrainingPlan(
        store_url=st.url,
        snapshot_id=st.snapshot_id,
        sensors=sensors,
        metrics=metrics,
        start_bin=sb,
        grid_seconds=grid,
        chunk_len=st.chunk_len,
        train_rows=(t0, t1),
        validation_rows=(v0, v1),
        params=params,
        sensor_rows=by_sensor,
        window_asked=asked,
    )
    for name, (a, b) in (("training", (t0, t1)), ("validation", (v0, v1))):
        if b - a < params.window:
            a_t, b_t = out.range_text((a, b))
            raise ValueError(f"the {name} range {a_t} to {b_t} holds {max(b - a, 0)} grid steps, fewer than one window of {params.window}")
    if t0 < v1 and v0 < t1 and not by_sensor:  # per sensor, each one's validation follows its training by construction
        raise ValueError("the training and validation ranges overlap")
    held, flagged = np.zeros(len(metrics) * len(sensors), np.int64), np.zeros(len(metrics) * len(sensors), np.int64)
    counter = out.reader("train")
    for a, b in chunk_ranges(t0, t1, st.chunk_len):
        h, f = counter.flag_counts(a, b, FLAGGED)
        held, flagged = held + h, flagged + f
    out.learned_flagged = [int(c) for c in np.flatnonzero((flagged > 0) & (flagged >= FLAGGED_AS_BEHAVIOUR * held))]
    return out


class WindowSet(BaseModel):
    """Window starts of the training and validation ranges, and the normalisation from training rows."""

    train: list[int]
    validation: list[int]
    normalization: Normalization


def _ranges_text(plan: TrainingPlan, most: int = 4) -> str:
    shown = [f"{s} {r['train'][0]} to {r['train'][1]}" for s, r in list(plan.sensor_ranges().items())[:most]]
    more = len(plan.sensor_rows) - most
    return "; ".join(shown) + (f"; and {more} more (the model card lists them)" if more > 0 else "")


def most_gaps(params: TrainParams) -> int:
    """Gap rows a training or validation window may hold."""
    return int(params.window * params.gap_share)


def windows_for(plan: TrainingPlan, reader: store.GridReader, norm: Normalization | None = None) -> WindowSet:
    """One pass over both ranges: gap rows, window starts and (unless given) the normalisation.

    With ranges per sensor, each range is read with each sensor over its own
    rows of that kind (`plan.reader`): the normalisation comes from each
    sensor's own training rows, and a window lies where some sensor is in range.
    """
    p = plan.params
    stats = StatsAccumulator(reader.channels)
    out = {}
    for name, (a, b) in (("train", plan.train_rows), ("validation", plan.validation_rows)):
        gaps = []
        for _, values, block_gaps in scan_blocks(plan.reader(name) if plan.sensor_rows else reader, a, b):
            gaps.append(block_gaps)
            if name == "train" and norm is None:
                stats.add(values)
        out[name] = window_starts(a, b, p.window, p.stride, np.concatenate(gaps), a, most_gaps(p)).tolist()
        if not out[name]:
            a_t, b_t = plan.range_text((a, b))
            raise ValueError(
                f"no {name} window of {p.window} steps between {a_t} and {b_t} has values at {1 - p.gap_share:.0%} of its steps or more "
                f"(gap_share {p.gap_share:g}): the readings are sparser than the store's grid of {plan.grid_seconds} s"
            )
    return WindowSet(train=out["train"], validation=out["validation"], normalization=norm or stats.result())


SAMPLE_WINDOWS = 16384
SAMPLE_BYTES = 64 << 20


def sample_windows(reader: store.GridReader, starts: list[int], window: int, norm: Normalization, seed: int) -> np.ndarray:
    """Model input for a seeded draw of the windows at `starts`: at most SAMPLE_WINDOWS of them in SAMPLE_BYTES."""
    from lepton_flow.models.windows import make_windows

    most = min(SAMPLE_WINDOWS, max(64, SAMPLE_BYTES // (window * 2 * reader.channels * 4)))
    picked = np.asarray(starts, np.int64)
    if len(picked) > most:
        picked = np.sort(np.random.default_rng(seed).choice(picked, most, replace=False))
    return np.concatenate([make_windows(values, first, group, window, norm) for first, group, values in window_blocks(reader, picked, window)])


def window_blocks(reader: store.GridReader, starts, window: int):
    """(first row, window starts, rows) for the windows at `starts`, one block of store rows read at a time."""
    from lepton_flow.models.data import block_groups

    for group in block_groups(np.asarray(starts, np.int64), reader.state.chunk_len):
        first = int(group[0])
        yield first, group, reader.rows(first, int(group[-1]) + window)


def masked_loss(model, model_norm: Normalization, eval_norm: Normalization, reader: store.GridReader, starts: list[int], window: int, batch_size: int) -> float:
    """Mean squared error of observed values, in `eval_norm` units, over windows at `starts`.

    Comparing two versions needs one yardstick: each model sees the windows
    normalised its own way, its reconstruction is taken back to sensor units
    and then measured in the units of `eval_norm`.
    """
    from lepton_flow.models.inference import predict
    from lepton_flow.models.windows import make_windows

    m_mean, m_std = model_norm.arrays()
    e_mean, e_std = eval_norm.arrays()
    total = count = 0.0
    for first, group, values in window_blocks(reader, starts, window):
        x = make_windows(values, first, group, window, model_norm)
        ref = make_windows(values, first, group, window, eval_norm)
        c = ref.shape[2] // 2
        pred = predict(model, x, batch_size)
        pred = ((pred * m_std + m_mean) - e_mean) / e_std
        mask = ref[..., c:]
        total += float((mask * np.square(pred - ref[..., :c])).sum())
        count += float(mask.sum())
    return total / count if count else float("nan")


def validation_scores(model, norm: Normalization, reader: store.GridReader, rows: tuple[int, int], window: int, batch_size: int) -> np.ndarray:
    """Per (row, sensor) scores over a row range, as scoring computes them."""
    return score_rows(model, norm, reader, rows[0], rows[1], window, batch_size)


class _EpochLog:
    """Keras callback: the first epoch run (a resumed run starts past 0) and a log line per epoch."""

    def __new__(cls, log):
        from lepton_flow.gpu import import_keras

        keras = import_keras()

        class EpochLog(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.initial_epoch: int | None = None

            def on_epoch_begin(self, epoch, logs=None):
                if self.initial_epoch is None:
                    self.initial_epoch = epoch
                    if epoch:
                        log.info("resuming from the checkpoint of epoch %d", epoch)

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                extra = "".join(f", {k.replace('val_', 'validation ')} {float(v):.4f}" for k, v in sorted(logs.items()) if k not in ("loss", "val_loss") and "accuracy" in k)
                log.info("epoch %d: loss %.5f, validation loss %.5f%s", epoch + 1, logs.get("loss", float("nan")), logs.get("val_loss", float("nan")), extra)

        return EpochLog()


class EpochCheckpoint:
    """Keras callback: the weights after each epoch, written so that a kill at any moment leaves a usable checkpoint.

    Keras's `BackupAndRestore` overwrites `latest.weights.h5` in place, so a
    run killed while writing it leaves a file h5py cannot open and the re-run
    fails. Here each epoch's weights go to a new file (`epoch-<n>.weights.h5`),
    and only then does `training_metadata.json` (written to a temporary name
    and renamed over the old one) point at it; older weights are removed after.
    A re-run reads the metadata, loads the weights it names and starts at that
    epoch; a checkpoint that cannot be read is logged, removed, and training
    starts over from epoch 0. A finished run removes its checkpoint.
    """

    META = "training_metadata.json"

    def __new__(cls, backup_dir: str, log=None):
        import logging
        import os
        import tempfile

        import fsspec
        from lepton_flow.gpu import import_keras

        keras = import_keras()

        log = log or logging.getLogger(__name__)
        fs, root = fsspec.core.url_to_fs(backup_dir)
        meta_path = f"{root}/{cls.META}"

        class Checkpoint(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                if not fs.exists(meta_path):
                    return
                try:
                    meta = json.loads(fs.cat_file(meta_path))
                    epoch, name = int(meta["epoch"]), str(meta["weights"])
                    if self.model.optimizer is not None and not self.model.optimizer.built:
                        self.model.optimizer.build(self.model.trainable_variables)
                    with tempfile.TemporaryDirectory() as tmp:
                        local = os.path.join(tmp, name)
                        fs.get_file(f"{root}/{name}", local)
                        self.model.load_weights(local)
                except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint: start over, never fail the run
                    log.warning("checkpoint %s cannot be read (%s: %s); removing it and training from epoch 0", backup_dir, type(exc).__name__, exc)
                    fs.rm(root, recursive=True)
                    return
                self.model._initial_epoch = epoch  # what Keras's own BackupAndRestore sets; fit() starts there

            def on_epoch_end(self, epoch, logs=None):
                name = f"epoch-{epoch + 1}.weights.h5"
                fs.makedirs(root, exist_ok=True)
                with tempfile.TemporaryDirectory() as tmp:
                    local = os.path.join(tmp, name)
                    self.model.save_weights(local)
                    fs.put_file(local, f"{root}/{name}")
                staged = f"{root}/.{cls.META}.tmp"
                fs.pipe_file(staged, json.dumps({"epoch": epoch + 1, "weights": name}).encode())
                fs.mv(staged, meta_path)  # a rename on a local disk: the metadata is the old one or the new one
                for old in fs.glob(f"{root}/epoch-*.weights.h5"):
                    if not old.endswith("/" + name):
                        fs.rm(old)

            def on_train_end(self, logs=None):
                if fs.exists(root):
                    fs.rm(root, recursive=True)

        return Checkpoint()


def keras_callbacks(name: str, key: str, patience: int, settings: Settings, log=None) -> list:
    """Checkpoint each epoch (resume after a kill), early stopping keeping the best weights, TensorBoard logs.

    `key` names the run's plan: the same plan re-run finds its checkpoint.
    """
    from lepton_flow.gpu import import_keras

    keras = import_keras()

    from lepton_flow.settings import join

    return [
        EpochCheckpoint(join(settings.checkpoints_dir, name, key), log),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True),
        keras.callbacks.TensorBoard(log_dir=join(settings.tensorboard_dir, name, key)),
    ]


def fit(plan: TrainingPlan, run_id: str, log, settings: Settings | None = None) -> TrainResult:
    """Train a new version on the plan's windows and save it to the registry (not yet current)."""
    from lepton_flow.gpu import import_keras

    keras = import_keras()

    from lepton_flow import gpu
    from lepton_flow.models.autoencoder import masked_mse
    from lepton_flow.models.data import window_dataset
    from lepton_flow.settings import join

    settings = settings or get_settings()
    p = plan.params
    device = gpu.configure()
    log.info("training on %s", device.label)
    reader = plan.reader()
    # Each sensor's own ranges, when the plan has them (else the same reader).
    train_reader, val_reader = (plan.reader("train"), plan.reader("validation")) if plan.sensor_rows else (reader, reader)
    ws = windows_for(plan, reader)
    log.info("%d training and %d validation windows of %d steps over %d channels", len(ws.train), len(ws.validation), p.window, reader.channels)
    if plan.window_asked:
        log.info("window %d steps, not %d: the training and validation ranges the shares give hold %d and %d steps", p.window, plan.window_asked, plan.train_rows[1] - plan.train_rows[0], plan.validation_rows[1] - plan.validation_rows[0])
    if plan.learned_flagged:
        names = [plan.channel_name(c) for c in plan.learned_flagged]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        log.warning("cleaning flagged %d%% or more of the training values of %s (stuck or outlier): that is how they behave, and the model learns them as observed", round(100 * FLAGGED_AS_BEHAVIOUR), shown)
    if plan.sensor_rows:
        log.info("each sensor trains on its own first %.0f%% (the sensors' data spans differ): %s", 100 * p.train_share, _ranges_text(plan))
    # The cache budget is shared by the two datasets in proportion to their windows.
    budget = p.input_cache_mb << 20
    train_share = len(ws.train) / max(1, len(ws.train) + len(ws.validation))
    train_ds = window_dataset(
        train_reader, np.asarray(ws.train), p.window, ws.normalization, p.batch_size, shuffle=True, seed=p.seed, cache_bytes=int(budget * train_share)
    )
    val_ds = window_dataset(val_reader, np.asarray(ws.validation), p.window, ws.normalization, p.batch_size, cache_bytes=int(budget * (1 - train_share)))

    keras.utils.set_random_seed(p.seed)
    builder = model_kinds("windows")[p.model_kind]
    with gpu.strategy().scope():
        model = builder.build(p.window, reader.channels, p.model_size)
        model.compile(optimizer=keras.optimizers.Adam(p.learning_rate), loss=masked_mse)
    fit_windows = getattr(builder, "fit_windows", None)
    if fit_windows is not None:  # a kind fitted outside Keras (isolation-forest) learns from a sample of windows
        sample = sample_windows(train_reader, ws.train, p.window, ws.normalization, p.seed)
        log.info("fitting %s on %d training windows", p.model_kind, len(sample))
        fit_windows(model, sample, p.seed)
    # Nothing left to learn (a baseline kind): one epoch gives the history and validation loss; more repeat it.
    epochs = p.epochs if model.trainable_weights else 1
    epoch_log = _EpochLog(log)
    callbacks = keras_callbacks(p.model_name, plan.key, p.patience, settings, log) + [epoch_log]
    with warnings.catch_warnings():  # a baseline kind has nothing to learn, and Keras says so
        warnings.filterwarnings("ignore", message="The model does not have any trainable weights")
        history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, callbacks=callbacks, shuffle=False, verbose=0)

    val_loss = masked_loss(model, ws.normalization, ws.normalization, val_reader, ws.validation, p.window, max(p.batch_size, 256))
    scores = plan.own_validation(validation_scores(model, ws.normalization, reader, plan.validation_rows, p.window, max(p.batch_size, 256)))
    # The trained rows' own scores: scoring judges those rows against them, and the validation rows against theirs.
    trained = plan.own_training(validation_scores(model, ws.normalization, reader, plan.train_rows, p.window, max(p.batch_size, 256)))
    finite = scores[np.isfinite(scores)]
    threshold = float(np.quantile(finite, p.flag_quantile)) if finite.size else float("inf")
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    card = ModelCard(
        name=p.model_name,
        version="pending",
        kind=p.model_kind,
        dataset=p.dataset,
        flow_run_id=run_id,
        store_url=plan.store_url,
        snapshot_id=plan.snapshot_id,
        train_range=plan.range_text(plan.train_rows),
        validation_range=plan.range_text(plan.validation_rows),
        sensors=plan.sensors,
        metrics=plan.metrics,
        window=p.window,
        stride=p.stride,
        smoothing=smoothing_for(p.window),
        wide_smoothing=wide_smoothing_for(p.window),
        suite="expectations/sensor_readings.json" if p.dataset == "sensors" else "expectations/log_events.json",
        parameters=p.model_dump(mode="json"),
        scores={
            "validation_loss": val_loss,
            "best_val_loss": min(hist.get("val_loss", [val_loss])),
            "epochs_run": len(hist.get("loss", [])),
            "initial_epoch": epoch_log.initial_epoch or 0,
            "train_windows": len(ws.train),
            "validation_windows": len(ws.validation),
        },
        history=hist,
        normalization=ws.normalization.model_dump(),
        threshold=threshold,
        score_reference=reference_sample(scores),
        train_reference=in_sample_reference(trained),
        validation_reference=in_sample_reference(scores),
        libraries=_libraries(device),
        device=device.label,
        extra={"sensor_ranges": plan.sensor_ranges()} if plan.sensor_rows else {},
    )
    card = Registry(settings.models).save(model, card)
    log.info("saved %s version %s: validation loss %.5f, flag threshold %.5f", card.name, card.version, val_loss, threshold)
    return TrainResult(
        name=card.name,
        version=card.version,
        validation_loss=val_loss,
        threshold=threshold,
        epochs_run=int(card.scores["epochs_run"]),
        initial_epoch=int(card.scores["initial_epoch"]),
        card_url=join(settings.models, card.name, card.version, "card.json"),
    )


def _libraries(device) -> dict[str, str]:
    import importlib.metadata as md

    out = {"tensorflow": device.tensorflow, "keras": device.keras}
    for name in ("numpy", "zarr", "icechunk", "xarray", "prefect", "lepton-flow"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    if device.cuda:
        out["cuda"], out["cudnn"] = str(device.cuda), str(device.cudnn)
    return out


LABELLED_AUC = Measure("median per-point ROC AUC on the labelled validation incidents", "labelled_validation_auc", higher_is_better=True)


class LabelledValidation:
    """A version's median per-point ROC AUC over the labelled incidents that lie in the plan's validation range.

    Each version is scored with its own sensors, normalisation and window
    over the validation rows (as scoring would), so versions of different
    kinds are compared on the same yardstick.
    """

    def __init__(self, plan: TrainingPlan, path: str):
        from lepton_flow.evaluation import load_labels

        self.plan = plan
        a, b = plan.validation_rows
        start = np.datetime64((plan.start_bin + a) * plan.grid_seconds, "s").astype("datetime64[ns]")
        step = np.timedelta64(plan.grid_seconds, "s")
        self.positive: dict[str, np.ndarray] = {}
        for incident in load_labels(path):
            if incident.clean or incident.sensor not in plan.sensors:
                continue
            own_a, own_b = plan.validation_rows_of(incident.sensor)  # a sensor's own validation rows only
            lo = max(own_a - a, int(np.ceil((incident.start - start) / step)))
            hi = min(own_b - a, int(np.floor((incident.end - start) / step)) + 1)
            if lo < hi:
                mask = self.positive.setdefault(incident.sensor, np.zeros(b - a, bool))
                mask[lo:hi] = True

    def __bool__(self) -> bool:
        return bool(self.positive)

    def missing(self, card: ModelCard) -> str | None:
        lacking = sorted(set(self.positive) - set(card.sensors))
        return f"it does not model the labelled sensor(s) {', '.join(lacking)}" if lacking else None

    def __call__(self, model, card: ModelCard) -> float:
        from lepton_flow.evaluation import roc_auc

        p = self.plan
        reader = grid_reader(p.store_url, p.snapshot_id, card.metrics, card.sensors, card.dataset)
        # Ranked as `evaluate` ranks them: by the scores scoring stores.
        _, scores = score_rows_smoothed(model, Normalization(**card.normalization), reader, *p.validation_rows, card.window, max(p.params.batch_size, 256), card.smoothing, card.wide_smoothing)
        a = p.validation_rows[0]
        aucs = []
        for s, mask in self.positive.items():
            lo, hi = (r - a for r in p.validation_rows_of(s))  # a sensor's own validation rows only
            aucs.append(roc_auc(scores[lo:hi, card.sensors.index(s)], mask[lo:hi]))
        known = [v for v in aucs if v is not None]
        return float(np.median(known)) if known else float("nan")


def promote(plan: TrainingPlan, result: TrainResult, log, settings: Settings | None = None) -> TrainResult:
    """Make the new version current if it is no worse than the current one on the same validation windows
    (or, given labels with incidents in the validation range, on those incidents)."""
    settings = settings or get_settings()
    registry = Registry(settings.models)
    loadable()  # the current version may be of a kind with custom layers
    if plan.params.labels:
        judge = LabelledValidation(plan, plan.params.labels)
        if judge:
            new = registry.card(result.name, result.version)
            auc = judge(registry.load_model(result.name, result.version), new)
            if auc == auc:
                log.info("labelled validation: %d sensor(s) with incidents; median per-point ROC AUC %.4f", len(judge.positive), auc)
                card = registry.promote(result.name, result.version, auc, lambda old, _: judge.missing(old), lambda m, old, _: judge(m, old), LABELLED_AUC)
                log.info("%s version %s %s: %s", result.name, result.version, "is now current" if card.promoted else "not promoted", card.promotion_reason)
                return result.model_copy(update={"promoted": card.promoted, "reason": card.promotion_reason})
        log.info("no labelled incident with both classes lies in the validation range: comparing on validation loss")

    def incompatible(old: ModelCard, new: ModelCard) -> str | None:
        if old.kind != new.kind:  # losses of two kinds measure different things
            return f"it is a {old.kind} model, this one a {new.kind}"
        same = (old.sensors, old.metrics, old.window) == (new.sensors, new.metrics, new.window)
        return None if same else "it takes other sensors, metrics or window length"

    def current_loss(model, old: ModelCard, new: ModelCard) -> float:
        reader = plan.reader()
        new_norm, old_norm = Normalization(**new.normalization), Normalization(**old.normalization)
        ws = windows_for(plan, reader, new_norm)
        val_reader = plan.reader("validation") if plan.sensor_rows else reader
        return masked_loss(model, old_norm, new_norm, val_reader, ws.validation, new.window, max(plan.params.batch_size, 256))

    card = registry.promote(result.name, result.version, result.validation_loss, incompatible, current_loss)
    log.info("%s version %s %s: %s", result.name, result.version, "is now current" if card.promoted else "not promoted", card.promotion_reason)
    return result.model_copy(update={"promoted": card.promoted, "reason": card.promotion_reason})
