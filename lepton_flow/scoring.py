"""Scoring the store with a registry model: anomaly score, tail probability and flag per (time, sensor), in one commit.

Rows are scored a block of whole store chunks at a time: each block is read
with a margin on both sides, cut into overlapping windows, run through the
model in large batches, and its per-row errors written to `scores/<model>`
(`error`), with `score`, the highest of each row's error, the mean error
of the windows that hold it and its stretch's averages over wider spans
(`inference.ranked`; cards from before: the error, or the window's mean).
Each row's error is calibrated against the sensor's own recent
errors (`models.calibration`): a flag is a tail probability under
`flag_rate`, the same on every sensor and after the data drifts. The commit
names the model version and the input snapshot, so every score traces back
to its inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import numpy as np
from pydantic import BaseModel, Field

from lepton_flow import store
from lepton_flow.forms import field_order
from lepton_flow.models import DEFAULT_MODEL, loadable
from lepton_flow.models.calibration import Calibrator, in_sample_tail, surprise
from lepton_flow.models.features import grid_reader
from lepton_flow.models.inference import reach, score_rows_smoothed
from lepton_flow.models.windows import Normalization, anomaly_events, anomaly_runs, chunk_ranges
from lepton_flow.registry import CURRENT, ModelVersion, Registry
from lepton_flow.settings import Settings, get_settings

BLOCK_CHUNKS = 4  # store chunks per scoring block: big batches, bounded memory


class ScoreParams(BaseModel):
    """Parameters of `score_sensors`."""

    model_config = {"json_schema_extra": field_order()}  # the form lists fields as declared here

    model_name: str = Field(DEFAULT_MODEL, description="Registry name of the model.")
    version: ModelVersion = CURRENT
    snapshot_id: str | None = Field(None, description="Store snapshot to score; empty: the latest.")
    start: datetime | None = Field(None, description="First time to score; empty: after the last scored time.")
    end: datetime | None = Field(None, description="End of the range (exclusive); empty: the end of the data.")
    batch_size: int = Field(4096, ge=1, le=1 << 20, description="Windows per inference batch.")
    top: int = Field(10, ge=1, le=1000, description="Anomalies listed in the report.")
    flag_rate: float = Field(
        0.001, gt=0, lt=0.5, description="Share of points flagged on data like the sensor's recent past: a flag is a score that high at most this often."
    )
    calibration_window: int = Field(
        2880, ge=64, le=1_000_000, description="Grid steps of each sensor's recent scores that its new scores are judged against (2,880: a day of 30 s steps)."
    )
    triggered_by: str = Field(
        "",
        pattern=r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$",
        description="Id of the flow run whose commit started this one (the deployment's trigger fills it in); empty: started by hand or on a schedule.",
    )
    require_model: bool = Field(
        False,
        description="True: fail when the registry has no current model. False (default): finish without scoring, saying no model is trained yet (scoring after a first ingest, or after a training that failed).",
    )


class ScorePlan(BaseModel):
    store_url: str
    snapshot_id: str
    model_name: str
    version: str
    dataset: str = "sensors"
    rows: tuple[int, int]
    start_bin: int
    grid_seconds: int
    chunk_len: int

    @property
    def empty(self) -> bool:
        return self.rows[1] <= self.rows[0]

    def time(self, row: int) -> str:
        return store.grid_time(self.start_bin, self.grid_seconds, row)


class Anomaly(BaseModel):
    """One event: flagged rows of one or more sensors, runs less than a model window apart joined."""

    sensor: str  # the sensor with the event's peak
    sensors: list[str] = []  # every sensor flagged in the event, highest peak first
    detail: str = ""  # for log models: the template's text
    start: str
    end: str
    peak_score: float
    first_row: int
    last_row: int


class ScoreResult(BaseModel):
    snapshot_id: str | None
    plan: ScorePlan
    rows_scored: int = 0
    values_flagged: int = 0
    threshold: float | None = None
    flag_rate: float | None = None
    anomalies: list[Anomaly] = []


def plan(params: ScoreParams, settings: Settings | None = None) -> ScorePlan:
    settings = settings or get_settings()
    registry = Registry(settings.models)
    version = registry.resolve(params.model_name, params.version)
    card = registry.card(params.model_name, version)
    dataset = card.dataset
    st = store.grid_state(settings.store, params.snapshot_id, dataset)
    if not st.exists:
        raise store.StoreError(f"the store at {settings.store} holds no {dataset} data to score")
    grid, sb = st.grid_seconds, st.start_bin
    if params.start is not None:
        first = store.grid_row(params.start, sb, grid)
    else:
        scored = store.scored_attrs(st.url, params.model_name, st.snapshot_id)
        until = scored.get("scored_until_bin")
        # A first scoring starts at the model's first reading: the grid starts on a chunk boundary before it.
        first = _first_held_row(st, card) if until is None else int(until) - sb
        # Late data: rows before `until` that ingests changed since the last scoring read the store are scored again.
        seen = scored.get("input_snapshot") if until is not None else None
        if seen:
            try:
                changed = store.first_changed_row(st.url, seen, st.snapshot_id, dataset, st.chunk_len)
            except store.SnapshotUnavailable as exc:  # a snapshot expired, or not an ancestor: score from `until` as before
                logging.getLogger(__name__).warning("cannot tell what changed since snapshot %s (%s); scoring from where the last run stopped", seen, exc)
                changed = None
            if changed is not None:
                first = min(first, changed)
    stop = st.length if params.end is None else store.grid_row(params.end, sb, grid)
    first, stop = max(0, first), min(st.length, stop)
    return ScorePlan(
        store_url=st.url,
        snapshot_id=st.snapshot_id,
        model_name=params.model_name,
        version=version,
        dataset=dataset,
        rows=(first, max(first, stop)),
        start_bin=sb,
        grid_seconds=grid,
        chunk_len=st.chunk_len,
    )


def _first_held_row(st, card) -> int:
    """The first row where any channel the model reads holds a value (the grid's length if none does)."""
    reader = grid_reader(st.url, st.snapshot_id, card.metrics, card.sensors, card.dataset)
    for a, b in chunk_ranges(0, st.length, st.chunk_len):
        held = np.isfinite(reader.rows(a, b)).any(axis=1)
        if held.any():
            return a + int(held.argmax())
    return st.length


def score(
    plan: ScorePlan,
    batch_size: int,
    run_id: str,
    log,
    progress: Callable[[float], None] | None = None,
    top: int = 10,
    settings: Settings | None = None,
    flag_rate: float = 0.001,
    calibration_window: int = 2880,
) -> ScoreResult:
    """Score the plan's rows, write them to `scores/<model>` and commit once; returns the snapshot and top anomalies.

    Anomalies are events: flagged runs of any sensors less than a model window apart, ranked by their peak surprise (-log10 of the tail probability;
    a model card from before calibration: by raw score over its fixed threshold).
    """
    from lepton_flow import gpu

    settings = settings or get_settings()
    if plan.empty:
        return ScoreResult(snapshot_id=None, plan=plan)
    registry = Registry(settings.models)
    card = registry.card(plan.model_name, plan.version)
    device = gpu.configure()
    loadable()
    model = registry.load_model(plan.model_name, plan.version)
    norm = Normalization(**card.normalization)
    reader = grid_reader(plan.store_url, plan.snapshot_id, card.metrics, card.sensors, plan.dataset)
    writer = store.ScoreWriter(plan.store_url, plan.model_name, plan.snapshot_id, plan.dataset)
    index = {s: i for i, s in enumerate(writer.input.sensors)}
    columns = np.array([index[s] for s in card.sensors], dtype=np.int64)
    log.info("scoring rows %s to %s with %s version %s on %s", plan.time(plan.rows[0]), plan.time(plan.rows[1]), plan.model_name, plan.version, device.label)

    calibrated = len(card.score_reference) == len(card.sensors)
    if calibrated:
        # Rows the model trained on score lower than new data: they are judged, but do not become the history.
        learned_until = store.grid_row(card.validation_range[0], plan.start_bin, plan.grid_seconds) if card.validation_range else 0
        history = writer.history(plan.version, columns, plan.rows[0], calibration_window)
        if history is not None:
            history = history[max(0, learned_until - (plan.rows[0] - history.shape[0])) :]
        calibrate = Calibrator(card.score_reference, history, calibration_window)
        own = _rows_with_own_scores(card, plan)
        log.info(
            "flags calibrated per sensor: at most %.3g%% of points like the last %d steps (%s)%s",
            100 * flag_rate,
            calibration_window,
            "recent scores" if history is not None else "validation scores to start",
            "; the training and validation ranges' rows like their own range's" if own else "",
        )
    else:
        log.warning("model card %s version %s has no validation scores to calibrate with: flags use its fixed threshold %.5g; retrain to calibrate", plan.model_name, plan.version, card.threshold)
    runs: list[tuple[int, int, int, float]] = []
    flagged = 0
    blocks = chunk_ranges(plan.rows[0], plan.rows[1], plan.chunk_len * BLOCK_CHUNKS)
    reuse: dict = {}  # the rows past a block that its stored scores read, scored once for the next block too
    # The rows before this run whose averages reached past the data the last run had: ranked again with what came
    # after them (their stored `score` only; their errors, tails and flags were judged when they were new), so a
    # series scored a piece at a time on a schedule stores the scores one run over all of it would.
    back = max(0, plan.rows[0] - reach(card.window, card.smoothing, card.wide_smoothing))
    if back < plan.rows[0] and writer.scored_by() == str(plan.version):
        _, revised = score_rows_smoothed(model, norm, reader, back, plan.rows[0], card.window, batch_size, card.smoothing, card.wide_smoothing, reuse)
        writer.revise(back, revised, columns)
    for i, (a, b) in enumerate(blocks):
        s, shown = score_rows_smoothed(model, norm, reader, a, b, card.window, batch_size, card.smoothing, card.wide_smoothing, reuse)
        if calibrated:
            tail = calibrate(s, np.arange(a, b) >= learned_until)
            for col, lo, hi, reference in own:  # the training and validation ranges: each against its own scores
                x, y = max(a, lo), min(b, hi)
                if x < y:
                    tail[x - a : y - a, col] = in_sample_tail(reference, s[x - a : y - a, col])
            flag, rank = np.nan_to_num(tail, nan=1.0) < flag_rate, surprise(tail)
        else:
            tail, flag, rank = None, np.nan_to_num(s, nan=-np.inf) > card.threshold, s
        writer.write(a, shown, flag, columns, tail, s)
        flagged += int(flag.sum())
        runs = _merge(runs, anomaly_runs(flag, rank, a))
        if progress:
            progress(100.0 * (i + 1) / len(blocks))
    message = f"scores of {plan.model_name} version {plan.version} on snapshot {plan.snapshot_id} ({plan.time(plan.rows[0])} to {plan.time(plan.rows[1])}) by flow run {run_id}"
    snapshot = writer.commit(
        message,
        metadata={"flow_run_id": run_id, "model": plan.model_name, "model_version": plan.version, "input_snapshot": plan.snapshot_id},
        attrs={
            "model": plan.model_name,
            "version": plan.version,
            "threshold": card.threshold,
            "flag_rate": flag_rate if calibrated else None,
            "calibration_window": calibration_window if calibrated else None,
            "scored_until_bin": plan.start_bin + plan.rows[1],
        },
    )
    events = anomaly_events(runs, card.window)
    templates = store.logs_state(plan.store_url, plan.snapshot_id).templates if plan.dataset == "logs" else []
    anomalies = [
        Anomaly(
            sensor=card.sensors[cols[0][0]],
            sensors=[card.sensors[c] for c, _ in cols],
            detail=templates[int(card.sensors[cols[0][0]][1:])] if templates else "",
            start=plan.time(a), end=plan.time(b + 1), peak_score=peak, first_row=a, last_row=b,
        )
        for a, b, peak, cols in events[:top]
    ]
    log.info("committed snapshot %s: %d rows scored, %d values flagged in %d event(s)", snapshot, plan.rows[1] - plan.rows[0], flagged, len(events))
    return ScoreResult(
        snapshot_id=snapshot,
        plan=plan,
        rows_scored=plan.rows[1] - plan.rows[0],
        values_flagged=flagged,
        threshold=None if calibrated else card.threshold,
        flag_rate=flag_rate if calibrated else None,
        anomalies=anomalies,
    )


def _rows_with_own_scores(card, plan: ScorePlan) -> list[tuple[int, int, int, dict]]:
    """(column, first row, end row, reference) of each sensor's training rows and validation rows, when its card keeps
    their scores (cards from before: none). Both ranges' scores are in the model card, so a row there is judged
    against the scores of the range it is in, itself among them (an incident there holds their top ranks)."""
    ranges = card.extra.get("sensor_ranges", {})
    out = []
    for kind, range_, references in (("train", card.train_range, card.train_reference), ("validation", card.validation_range, card.validation_reference)):
        if len(references) != len(card.sensors) or not range_:
            continue
        for col, sensor in enumerate(card.sensors):
            lo, hi = ranges.get(sensor, {}).get(kind, range_)
            out.append((col, store.grid_row(lo, plan.start_bin, plan.grid_seconds), store.grid_row(hi, plan.start_bin, plan.grid_seconds), references[col]))
    return out


def _merge(runs: list[tuple[int, int, int, float]], new: list[tuple[int, int, int, float]]) -> list[tuple[int, int, int, float]]:
    """Join runs that continue across a block boundary into one."""
    open_at = {(c, b + 1): k for k, (c, a, b, p) in enumerate(runs)}
    for c, a, b, p in new:
        k = open_at.get((c, a))
        if k is None:
            runs.append((c, a, b, p))
        else:
            c0, a0, _, p0 = runs[k]
            runs[k] = (c0, a0, b, max(p0, p))
    return runs


def anomaly_context(result: ScoreResult, anomaly: Anomaly, margin: int | None = None, settings: Settings | None = None) -> dict:
    """Values, scores and flags of one sensor around one anomaly, for the report's plot."""
    settings = settings or get_settings()
    plan = result.plan
    card = Registry(settings.models).card(plan.model_name, plan.version)
    margin = margin or 4 * card.window
    reader = grid_reader(plan.store_url, plan.snapshot_id, card.metrics, [anomaly.sensor], plan.dataset)
    a, b = max(0, anomaly.first_row - margin), min(reader.length, anomaly.last_row + 1 + margin)
    scores = store.open_scores(plan.store_url, plan.model_name, result.snapshot_id).sel(sensor=anomaly.sensor).isel(time=slice(a, b)).load()
    times = store.time_coord(plan.start_bin + a, b - a, plan.grid_seconds)
    calibrated = result.flag_rate is not None and "tail_p" in scores
    return {
        "sensor": anomaly.sensor,
        "times": times,
        "values": {m: reader.rows(a, b)[:, i] for i, m in enumerate(card.metrics)},
        # Calibrated: the surprise (-log10 tail probability) against the flag rate's line; else the raw score and threshold.
        "score": surprise(scores["tail_p"].values) if calibrated else scores["score"].values,
        "score_label": "surprise (-log10 p)" if calibrated else "score",
        "flag": scores["flag"].values.astype(bool),
        "threshold": float(-np.log10(result.flag_rate)) if calibrated else card.threshold,
    }
