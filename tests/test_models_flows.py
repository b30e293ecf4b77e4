"""Training and scoring end to end under the Prefect test server: registry, artifacts, scores, resume."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from flows.score_sensors import score_sensors
from flows.sensor_ingest import SensorIngestParams
from flows.train_sensor_model import train_sensor_model
from lepton_flow import store
from lepton_flow.demo import DemoSpec, write_demo
from lepton_flow.registry import Registry
from lepton_flow.scoring import ScoreParams
from lepton_flow.settings import get_settings
from lepton_flow.training import TrainParams
from tests.helpers import fetched

pytestmark = pytest.mark.slow

TINY = dict(model_size="tiny", epochs=3, window=32, stride=8, batch_size=32)


@pytest.fixture(scope="module")
def _ingested_demo(tmp_path_factory, prefect_server, dask_cluster) -> Path:
    """A small demo (4 sensors, 2 metrics, one day) ingested once for this file, by the flow on the session's cluster."""
    from prefect_dask import DaskTaskRunner

    from flows.sensor_ingest import sensor_ingest

    root = tmp_path_factory.mktemp("ingested-demo")
    write_demo(str(root / "demo"), DemoSpec(sensors=4, metrics=2, days=1.0, seed=3))
    flow = sensor_ingest.with_options(task_runner=DaskTaskRunner(address=dask_cluster.scheduler_address))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEPTON_DATA_ROOT", str(root))
        mp.delenv("LEPTON_STORE_URL", raising=False)
        get_settings(fresh=True)
        try:
            state = flow(SensorIngestParams(source=str(root / "demo")), return_state=True)
        finally:
            get_settings(fresh=True)
    assert state.is_completed(), state.message
    return root / "store"


@pytest.fixture
def demo_store(_ingested_demo, data_root):
    """The ingested demo's store, copied into the test's data root (an Icechunk repository on disk is its files)."""
    shutil.copytree(_ingested_demo, data_root / "store")
    return get_settings().store


def _artifacts(flow_state, keys: list[str]) -> dict:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys)),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_state.state_details.flow_run_id])),
        )
    return {a.key: a for a in found}


def _table(artifact) -> list[dict]:
    return json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data


def test_train_then_score_end_to_end(demo_store, data_root, served_files):
    url = demo_store
    trained = train_sensor_model(TrainParams(**TINY), return_state=True)
    assert trained.is_completed(), trained.message
    registry = Registry(get_settings().models)
    assert registry.versions("sensor-anomaly") == ["1"] and registry.current("sensor-anomaly") == "1"
    card = registry.card("sensor-anomaly")
    snapshot = store.state(url).snapshot_id
    assert card.snapshot_id == snapshot and card.promoted and card.promotion_reason == "first version of this model"
    assert len(card.sensors) == 4 and len(card.metrics) == 2 and card.window == 32
    assert card.scores["epochs_run"] == 3 and len(card.history["val_loss"]) == 3
    assert len(card.normalization["mean"]) == 8 and card.threshold > 0
    assert card.libraries["tensorflow"] and card.device.startswith(("cpu", "gpu"))
    assert card.train_range[1] == card.validation_range[0]
    assert any((data_root / "tensorboard" / "sensor-anomaly").rglob("events.out.tfevents.*"))
    arts = _artifacts(trained, ["train-metrics", "train-curves", "train-summary"])
    assert set(arts) == {"train-metrics", "train-curves", "train-summary"}
    metrics = {row["metric"]: row["value"] for row in _table(arts["train-metrics"])}
    assert metrics["validation_loss"] == pytest.approx(card.scores["validation_loss"])
    # The image by the URL the data root's files are served at (not a data: URL), and the summary links it.
    png = data_root / "reports" / "train" / "sensor-anomaly-1.png"
    assert arts["train-curves"].data == f"{served_files.url}/reports/train/sensor-anomaly-1.png"
    assert fetched(arts["train-curves"].data) == png.read_bytes() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"({served_files.url}/reports/train/sensor-anomaly-1.png)" in arts["train-summary"].data
    assert f"({served_files.url}/models/sensor-anomaly/1/card.json)" in arts["train-summary"].data

    # The gpu limit exists, and no slot stays taken after the run.
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name("gpu")
    assert limit.limit >= 1 and limit.active_slots == 0

    ingest_run = "0b7e1c2d-3f4a-4b5c-8d6e-7f8091a2b3c4"
    scored = score_sensors(ScoreParams(triggered_by=ingest_run), return_state=True)  # as a deployment trigger fills it in
    assert scored.is_completed(), scored.message
    assert f"triggered by:        flow run {ingest_run}" in scored.result()
    with pytest.raises(ValueError, match="triggered_by"):
        ScoreParams(triggered_by="x)](javascript:alert(1)")  # only a run id: nothing else reaches the summary's link
    assert "triggered by flow run" in _artifacts(scored, ["score-summary"])["score-summary"].data
    head = store.history(url)[0]
    assert head["metadata"]["model_version"] == "1" and head["metadata"]["input_snapshot"] == snapshot
    assert "version 1" in head["message"] and snapshot in head["message"]
    sensors = store.open_sensors(url).load()
    scores = store.open_scores(url, "sensor-anomaly").load()
    assert scores.sizes == sensors.sizes and list(scores.sensor.values) == list(sensors.sensor.values)
    held = np.isfinite(sensors[card.metrics[0]].values) | np.isfinite(sensors[card.metrics[1]].values)
    assert np.isfinite(scores.score.values[held]).all()  # every observed (time, sensor) has a score
    # The first scoring starts at the first reading, not at the chunk boundary the grid starts on before it.
    first = int(held.any(axis=1).argmax())
    assert first > 0 and f"rows scored:         {len(held) - first} ({np.datetime_as_string(sensors.time.values[first], 's')}Z to" in scored.result()
    # The demo's spikes were flagged by cleaning, not erased: training left them out, scoring judged their values,
    # and they rank at the top.
    from lepton_flow.cleaning import OUTLIER

    spikes = np.logical_or.reduce([sensors[f"{m}_quality"].values == OUTLIER for m in card.metrics])
    assert spikes.sum() >= 4 and np.isfinite(sensors[card.metrics[0]].values[sensors[f"{card.metrics[0]}_quality"].values == OUTLIER]).all()
    # Each sensor's scores have a scale of their own (the calibrated surprise compares them): a spike ranks against its own
    # sensor's rows, by its own error (what flags judge) and by the stored score (that error, or its stretch's average
    # where that is higher: a spike keeps its own).
    for name in ("error", "score"):
        values = scores[name].values
        ranks = np.array([(values[:, c] < values[r, c]).sum() / np.isfinite(values[:, c]).sum() for r, c in zip(*np.nonzero(spikes))])
        assert np.median(ranks) > 0.99, (name, ranks)
    # Flags are calibrated per sensor: a tail probability (share of its recent scores at least as high) under the rate.
    assert len(card.score_reference) == 4 and all(r == sorted(r) for r in card.score_reference)
    tail = scores.tail_p.values
    assert np.isfinite(tail[held]).all() and ((tail[held] > 0) & (tail[held] <= 1)).all()
    assert (scores.flag.values == (np.nan_to_num(tail, nan=1) < 0.001)).all()
    assert scores.flag.values[held].mean() < 0.01  # 1% at most; the demo's faults make the rest
    arts = _artifacts(scored, ["score-top-anomalies", "score-worst-anomaly", "score-summary", "score-progress"])
    assert set(arts) == {"score-top-anomalies", "score-worst-anomaly", "score-summary", "score-progress"}
    top = _table(arts["score-top-anomalies"])
    assert top and top == sorted(top, key=lambda r: -r["peak_score"])
    assert fetched(arts["score-worst-anomaly"].data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert float(arts["score-progress"].data) == 100.0

    # Nothing new since: the next scoring run commits nothing.
    again = score_sensors(ScoreParams(), return_state=True)
    assert again.is_completed() and "nothing new to score" in again.result()
    assert store.history(url)[0]["id"] == head["id"]

    # A saved model loaded in a fresh process gives the same scores.
    code = (
        "import json, numpy as np\n"
        "from lepton_flow import store\n"
        "from lepton_flow.models.windows import Normalization\n"
        "from lepton_flow.registry import Registry\n"
        "from lepton_flow.models.inference import score_rows_smoothed\n"
        "from lepton_flow.settings import get_settings\n"
        "r = Registry(get_settings().models); c = r.card('sensor-anomaly')\n"
        f"reader = store.GridReader({url!r}, {snapshot!r}, c.metrics, c.sensors)\n"
        "own, s = score_rows_smoothed(r.load_model('sensor-anomaly'), Normalization(**c.normalization), reader, 0, reader.length, c.window, 512, c.smoothing, c.wide_smoothing)\n"
        "np.save('fresh.npy', s); np.save('own.npy', own)\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=data_root, check=True, env=dict(os.environ), timeout=300)
    fresh, own = np.load(data_root / "fresh.npy"), np.load(data_root / "own.npy")
    np.testing.assert_allclose(fresh, scores.score.values, rtol=1e-5, atol=1e-6, equal_nan=True)
    # The stored score is the rows' own error or its averages over a window, and 4 and 16 windows, either side; the
    # flags judged the errors.
    assert card.smoothing == card.window and card.wide_smoothing == [4 * card.window, 16 * card.window]
    np.testing.assert_allclose(own, scores.error.values, rtol=1e-5, atol=1e-6, equal_nan=True)
    own_known = np.isfinite(scores.error.values)
    assert (own_known == np.isfinite(scores.score.values)).all()
    assert (scores.score.values[own_known] >= scores.error.values[own_known]).all() and (scores.score.values[own_known] > scores.error.values[own_known]).mean() > 0.3

    # The second half scored again, its history read back from the first half's stored scores: the same tails and flags.
    from datetime import timezone

    half = scores.sizes["time"] // 2
    when = scores.time.values[half].astype("datetime64[ms]").astype(object).replace(tzinfo=timezone.utc)
    rescored_state = score_sensors(ScoreParams(start=when), return_state=True)
    assert rescored_state.is_completed(), rescored_state.message
    rescored = store.open_scores(url, "sensor-anomaly").load()
    np.testing.assert_allclose(rescored.tail_p.values[half:], scores.tail_p.values[half:], rtol=1e-5, equal_nan=True)
    np.testing.assert_array_equal(rescored.flag.values, scores.flag.values)

    # Late data merged into a window already scored: the next scoring run starts there, not where the last stopped.
    from lepton_flow.scoring import plan as score_plan
    from tests.helpers import cleaned_block

    st = store.state(url)
    assert score_plan(ScoreParams()).rows == (st.length, st.length)  # scored to the end
    early = store.open_sensors(url).load()  # the store is one window (chunk): late data is written back as all of it
    late = {m: early[m].values + 0.5 for m in st.metrics}
    store.commit_sensors(url, cleaned_block(data_root / "late.zarr", st.start_bin, late, st.sensors, units=st.units, chunk_len=st.chunk_len), st.snapshot_id, "late", {}, {})
    assert score_plan(ScoreParams()).rows == (0, st.length)


def test_promotion_happens_only_when_no_worse(demo_store):
    registry = Registry(get_settings().models)
    first = train_sensor_model(TrainParams(**{**TINY, "epochs": 6, "model_size": "small"}), return_state=True)
    assert first.is_completed(), first.message
    # A barely trained model is worse on the same validation windows: not promoted.
    worse = train_sensor_model(TrainParams(**{**TINY, "epochs": 1, "learning_rate": 1e-6}), return_state=True)
    assert worse.is_completed(), worse.message
    card = registry.card("sensor-anomaly", "2")
    assert card.promoted is False and card.compared_with == "1"
    assert card.scores["validation_loss"] > card.scores["current_validation_loss"]
    assert "worse than version 1" in card.promotion_reason
    assert registry.current("sensor-anomaly") == "1"
    # A better trained one is: promoted.
    better = train_sensor_model(TrainParams(**{**TINY, "epochs": 25, "model_size": "small", "learning_rate": 3e-3}), return_state=True)
    assert better.is_completed(), better.message
    card = registry.card("sensor-anomaly", "3")
    assert card.promoted is True and card.scores["validation_loss"] <= card.scores["current_validation_loss"]
    assert registry.current("sensor-anomaly") == "3"
    with pytest.raises(LookupError, match="no version '9'.*1, 2, 3"):
        registry.resolve("sensor-anomaly", "9")


def test_training_killed_mid_run_resumes_from_its_last_epoch(demo_store, data_root, prefect_server):
    # Host lock files for the GPU slot: the test server, like Prefect's
    # embedded API, runs no repossessor to free a killed run's leased slot.
    env = dict(os.environ, LEPTON_DATA_ROOT=str(data_root), PREFECT_API_URL=prefect_server, PYTHONUNBUFFERED="1", LEPTON_LOCKS="host")
    args = [sys.executable, "-m", "lepton_flow.cli", "run", "train-sensor-model", "--param", "model_size=small", "--param", "window=32", "--param", "stride=2", "--param", "patience=100"]
    log = open(data_root / "killed.log", "w")
    proc = subprocess.Popen([*args, "--param", "epochs=200"], env=env, stdout=log, stderr=subprocess.STDOUT)
    checkpoints = data_root / "checkpoints" / "sensor-anomaly"
    deadline = time.monotonic() + 240
    epoch = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            meta = list(checkpoints.rglob("training_metadata.json"))
            if meta:
                epoch = json.loads(meta[0].read_text())["epoch"]
                if epoch >= 2:
                    break
            time.sleep(0.2)
        assert proc.poll() is None, (data_root / "killed.log").read_text()[-3000:]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert epoch >= 2, "no checkpoint written in time"
    registry = Registry(get_settings().models)
    assert registry.versions("sensor-anomaly") == []  # the killed run saved nothing
    # Same plan (the epoch count is not part of it): resumes where the kill left it.
    done = subprocess.run([*args, "--param", f"epochs={epoch + 4}"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    card = registry.card("sensor-anomaly")
    assert card.scores["initial_epoch"] >= 2 and card.scores["epochs_run"] <= epoch + 4 - card.scores["initial_epoch"]
    assert not list(checkpoints.rglob("training_metadata.json"))  # a finished run clears its checkpoint


def test_real_ucr_series_anomaly_is_found(ingest_flow, data_root):
    """UCR anomaly archive series 135, with the default cleaning steps: the highest score lies within 100 points of the
    labelled anomaly (Hampel flags readings, it does not erase what the model is meant to find)."""
    from lepton_flow.demo import write_real_series

    series = write_real_series("ucr-135", str(data_root / "ucr"), grid_seconds=60)
    state = ingest_flow(SensorIngestParams(source=str(data_root / "ucr"), grid_seconds=60), return_state=True)
    assert state.is_completed(), state.message
    summary = state.result()
    assert summary.totals()["duplicates"] == series["train_points"]  # the TRAIN file repeats the TEST file's start

    from datetime import datetime, timedelta

    t0 = datetime.fromisoformat(series["start"])
    at = lambda i: t0 + timedelta(seconds=60 * i)  # noqa: E731
    train = series["train_points"]
    params = TrainParams(
        train_start=at(0), train_end=at(train - 200), validation_start=at(train - 200), validation_end=at(train),
        window=64, stride=1, model_size="small", epochs=30, patience=5, batch_size=32,
    )
    trained = train_sensor_model(params, return_state=True)
    assert trained.is_completed(), trained.message
    scored = score_sensors(ScoreParams(), return_state=True)
    assert scored.is_completed(), scored.message
    scores = store.open_scores(get_settings().store, "sensor-anomaly").load()
    first = int(np.searchsorted(scores.time.values, np.datetime64(series["start"].rstrip("Z"), "ns")))
    s = scores.score.values[first : first + series["points"], 0]
    labelled = np.nonzero(series["labels"])[0]
    peak = int(np.nanargmax(s))
    assert labelled.min() - 100 <= peak <= labelled.max() + 100, (peak, labelled.min(), labelled.max())


def test_flags_keep_their_rate_on_a_series_whose_level_doubles_after_training(ingest_flow, data_root):
    """A sensor's level doubles after the model was trained: the validation range's fixed threshold would flag most of
    what follows; calibrated flags mark the shift and, a calibration window later, are back within 2x of the rate.
    Dips inside the training and the validation range, judged against their own range's scores (themselves among
    them), are rarer than any rank there could say; the rest of those ranges keeps the rate. The data arrives in two
    pieces, each ingested and scored, the second from its first reading on: the stored scores are those of one pass
    over all of it."""
    import pandas as pd

    day, days = 1440, 8
    rng = np.random.default_rng(7)
    t = np.arange(days * day)
    value = 20 + 5 * np.sin(2 * np.pi * t / day) + rng.normal(0, 0.3, t.size)
    value[4 * day :] *= 2
    # Ten readings long: a rolling median over 15 (Hampel, a default step) moves with them, so cleaning does not flag them.
    dips = [slice(day + 300, day + 310), slice(2 * day + 700, 2 * day + 710)]  # in the training range, in the validation range
    for dip in dips:
        value[dip] -= 12
    start = pd.Timestamp("2026-03-01", tz="UTC")
    src = data_root / "drift"
    src.mkdir()
    frame = pd.DataFrame({"timestamp": start + pd.to_timedelta(t, unit="min"), "sensor_id": "s1", "metric": "temperature", "value": value})
    split = 5 * day
    frame[:split].to_csv(src / "s1.csv", index=False)
    state = ingest_flow(SensorIngestParams(source=str(src), grid_seconds=60), return_state=True)
    assert state.is_completed(), state.message
    at = lambda d: (start + pd.Timedelta(days=d)).to_pydatetime()  # noqa: E731
    trained = train_sensor_model(TrainParams(**{**TINY, "epochs": 4}, train_end=at(2), validation_start=at(2), validation_end=at(3)), return_state=True)
    assert trained.is_completed(), trained.message
    rate = 0.01
    # The first five days scored, then the last three once they are in, from their first reading on: the rows before
    # it whose averages reach into them were stored by the first run without them, and are ranked again.
    for piece in (None, slice(split, None)):
        if piece is not None:
            frame[piece].to_csv(src / "s1-later.csv", index=False)
            state = ingest_flow(SensorIngestParams(source=str(src), grid_seconds=60), return_state=True)
            assert state.is_completed(), state.message
        later = {} if piece is None else {"start": at(split / day)}
        scored = score_sensors(ScoreParams(flag_rate=rate, calibration_window=day, **later), return_state=True)
        assert scored.is_completed(), scored.message
    card = Registry(get_settings().models).card("sensor-anomaly")
    scores = store.open_scores(get_settings().store, "sensor-anomaly").load()
    first = int(np.searchsorted(scores.time.values, np.datetime64(start.tz_localize(None), "ns")))
    after = slice(first + 3 * day, first + days * day)  # everything after the validation range, the shift included
    raw, flags = scores.score.values[after, 0], scores.flag.values[after, 0].astype(bool)
    assert np.isfinite(raw).all()
    assert (raw[day:] > card.threshold).mean() > 0.3  # the old rule: a fixed threshold flags the shifted level throughout
    # The shift is news: flagged on its day (a burst while the sensor's recent scores fill with the new level).
    shift = slice(day, 2 * day)
    assert flags[shift].any()
    # Once a calibration window has passed since the shift, and before it, the rate is the one asked for (within 2x).
    assert 0 < flags[2 * day :].mean() <= 2 * rate and flags[:day].mean() <= 2 * rate, [float(flags[d * day : (d + 1) * day].mean()) for d in range(5)]
    assert store.scored_attrs(get_settings().store, "sensor-anomaly")["flag_rate"] == rate
    tails, before = scores.tail_p.values[first : first + 3 * day, 0], scores.flag.values[first : first + 3 * day, 0].astype(bool)
    for dip in dips:
        assert np.nanmin(tails[dip]) < 1e-4, (dip, tails[dip])  # by rank alone, at least 1 / 1440
        assert before[dip].any()
    rest = np.ones(3 * day, bool)
    for dip in dips:
        rest[dip.start - card.window : dip.stop + card.window] = False  # the windows that saw a dip score high around it
    assert before[rest].mean() <= 2 * rate, before[rest].mean()
    # Stored as one pass over all of it stores them.
    from lepton_flow.models.inference import score_rows_smoothed
    from lepton_flow.models.windows import Normalization

    url = get_settings().store
    reader = store.GridReader(url, store.state(url).snapshot_id, card.metrics, card.sensors)
    model = Registry(get_settings().models).load_model("sensor-anomaly")
    own, one_pass = score_rows_smoothed(model, Normalization(**card.normalization), reader, first, reader.length, card.window, 512, card.smoothing, card.wide_smoothing)
    # (The rows' own errors, judged when the rows were new, differ only within a window of where the first piece ended,
    # where its last rows were mirrored past the end.)
    kept = np.r_[0 : split - card.window, split : len(own)]
    np.testing.assert_allclose(scores.error.values[first:][kept], own[kept], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores.score.values[first:], one_pass, rtol=1e-5, atol=1e-6)


def test_the_rolling_zscore_kind_scores_the_squared_z_score_of_each_value():
    """The baseline's "reconstruction" makes the masked squared error the squared z-score within the window, masked
    values left out of the mean and deviation, the deviation floored."""
    from lepton_flow.models.rolling_zscore import FLOOR, build

    rng = np.random.default_rng(0)
    v = rng.normal(size=(3, 16, 2)).astype("float32")
    mask = np.ones_like(v)
    mask[0, 5, 0] = 0
    v[0, 5, 0] = 1e6  # masked: no part of the statistics
    v[2, :, 1] = 0.5  # flat: the floor
    out = np.asarray(build(16, 2)(np.concatenate([v * mask, mask], axis=-1)))
    for b, c in np.ndindex(3, 2):
        seen = mask[b, :, c] > 0
        x = v[b, seen, c]
        z = (x - x.mean()) / max(x.std(), FLOOR)
        np.testing.assert_allclose((out[b, seen, c] - x) ** 2, z**2, rtol=1e-4, atol=1e-5)


def test_the_isolation_forest_kind_scores_each_channel_window_as_scikit_learn_does():
    """The forest scikit-learn fits, walked as arrays inside the Keras layer, gives scikit-learn's own anomaly score
    (`-score_samples`) of every (window, channel) at the step farthest from the window's median, less at the others;
    a spike is that step and scores above every ordinary window; a level alone is nothing strange."""
    from lepton_flow.models.isolation_forest import build, fit_windows, points

    rng = np.random.default_rng(0)
    v = rng.normal(size=(600, 16, 3)).astype("float32")
    mask = (rng.random(v.shape) > 0.05).astype("float32")
    x = np.concatenate([v * mask, mask], axis=-1)
    model = build(16, 3)
    forest = fit_windows(model, x, seed=1)
    probe = x[:50].copy()
    probe[0, 7, 1], probe[0, 7, 4] = 8.0, 1.0  # a spike in channel 1 of window 0
    probe[1, :, 2] += 5.0 * probe[1, :, 5]  # a level no training window had
    err = np.square(np.asarray(model(probe)) - probe[..., :3])  # what scoring's masked squared error becomes
    np.testing.assert_allclose(err.max(axis=1).reshape(-1), -forest.score_samples(points(probe)), atol=1e-4)
    assert err[0, :, 1].argmax() == 7 and err[0, 7, 1] > 0.6 and err[0, 7, 1] > np.delete(err[:, :, 1], 7, axis=1).max()
    unshifted = np.square(np.asarray(model(x[1:2])) - x[1:2, :, :3])
    np.testing.assert_allclose(err[1, :, 2], unshifted[0, :, 2], atol=1e-4)


def test_the_baseline_kinds_train_score_and_load_through_the_same_flows(demo_store, data_root):
    """rolling-zscore and isolation-forest beside the autoencoder: trained (one epoch: nothing Keras could learn),
    registered with their kind, scored into their own groups with calibrated flags, the demo's flagged spikes scored
    high; a fresh process loads each in safe mode and gets the flow's validation loss back."""
    from lepton_flow.cleaning import OUTLIER

    sensors = store.open_sensors(demo_store).load()
    names = {kind: f"{kind}-baseline" for kind in ("rolling-zscore", "isolation-forest")}
    for kind, name in names.items():
        trained = train_sensor_model(TrainParams(model_kind=kind, model_name=name, epochs=5, window=32, stride=8), return_state=True)
        assert trained.is_completed(), trained.message
        card = Registry(get_settings().models).card(name)
        assert card.kind == kind and card.promoted and card.scores["epochs_run"] == 1
        scored = score_sensors(ScoreParams(model_name=name), return_state=True)
        assert scored.is_completed(), scored.message
        scores = store.open_scores(demo_store, name).load()
        spikes = np.logical_or.reduce([sensors[f"{m}_quality"].values == OUTLIER for m in card.metrics])
        assert spikes.sum() >= 4 and np.median(scores.score.values[spikes]) > np.nanpercentile(scores.score.values, 99), kind
        assert 0 < scores.flag.values.mean() < 0.02, kind
    code = (
        "import sys\nfrom lepton_flow.models import loadable\nfrom lepton_flow.registry import Registry\n"
        "from lepton_flow.training import TrainParams, masked_loss, plan, windows_for\nfrom lepton_flow.models.windows import Normalization\n"
        "loadable()\nreg = Registry(sys.argv[1])\n"
        "for name in sys.argv[2:]:\n"
        "    card, m = reg.card(name), reg.load_model(name)\n"
        "    p = plan(TrainParams(**card.parameters))\n    norm = Normalization(**card.normalization)\n    r = p.reader()\n"
        "    print('LOSS', name, masked_loss(m, norm, norm, r, windows_for(p, r, norm).validation, card.window, 256))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, get_settings().models, *names.values()], capture_output=True, text=True, timeout=300)
    losses = {line.split()[1]: float(line.split()[2]) for line in out.stdout.splitlines() if line.startswith("LOSS ")}
    assert set(losses) == set(names.values()), out.stderr[-2000:]
    for name, loss in losses.items():
        assert loss == pytest.approx(Registry(get_settings().models).card(name).scores["validation_loss"], rel=1e-5), name


def test_with_labels_promotion_compares_versions_of_any_kind_on_the_labelled_incidents(demo_store, data_root):
    """Given a labels file with incidents in the validation range, a new version is compared with the current one on
    those incidents (median per-point ROC AUC, each scored its own way), kinds apart or not; without labels a version
    of another kind cannot be compared and simply takes over."""
    import pandas as pd

    from lepton_flow.cleaning import OUTLIER

    sensors = store.open_sensors(demo_store).load()
    times = sensors.time.values
    half = times[0] + (times[-1] - times[0]) / 2
    rows = []  # the demo's spikes in the second half (the validation range below), each its minute
    for quality in [v for v in sensors.data_vars if str(v).endswith("_quality")]:
        for t, s in zip(*np.nonzero(sensors[quality].values == OUTLIER)):
            if times[t] > half + np.timedelta64(2, "m"):
                at = pd.Timestamp(times[t])
                rows.append(f"{sensors.sensor.values[s]},{at.isoformat()},{at.isoformat()}")
    assert rows, "the demo holds no flagged spike in its second half"
    labels = data_root / "incidents.csv"
    labels.write_text("sensor,start,end\n" + "\n".join(rows) + "\n")
    ranges = dict(window=32, stride=8, train_share=0.5, validation_share=0.5)
    # A labels file that cannot be read fails the run before training, naming the file and line.
    bad = data_root / "bad.csv"
    bad.write_text("sensor,start,end\nsensor-00,yesterday,2026-03-01T10:00:00Z\n")
    state = train_sensor_model(TrainParams(model_kind="rolling-zscore", model_name="picked", labels=str(bad), **ranges), return_state=True)
    assert state.is_failed() and f"{bad}: line 2: not a time" in state.message, state.message

    for kind in ("rolling-zscore", "isolation-forest"):
        state = train_sensor_model(TrainParams(model_kind=kind, model_name="picked", labels=str(labels), **ranges), return_state=True)
        assert state.is_completed(), state.message
    reg = Registry(get_settings().models)
    assert reg.versions("picked") == ["1", "2"]
    first, second = reg.card("picked", "1"), reg.card("picked", "2")
    assert first.promotion_reason == "first version of this model"
    new, old = second.scores["labelled_validation_auc"], second.scores["current_labelled_validation_auc"]
    assert min(new, old) > 0.7  # both rank the labelled spikes high: the yardstick measures something
    assert second.compared_with == "1" and "median per-point ROC AUC on the labelled validation incidents" in second.promotion_reason
    assert second.promoted == (new >= old) and reg.current("picked") == ("2" if new >= old else "1")

    state = train_sensor_model(TrainParams(model_kind="rolling-zscore", model_name="picked", **ranges), return_state=True)
    assert state.is_completed(), state.message
    third = reg.card("picked", "3")
    if reg.card("picked", "2").promoted:  # the current one is a forest: losses of two kinds are not compared
        assert third.promoted and "cannot be compared" in third.promotion_reason
    else:
        assert "validation loss" in third.promotion_reason


def test_pipeline_checks_ranges_first_and_scores_after_a_failed_training(prefect_server, dask_cluster, data_root, monkeypatch):
    """`run pipeline` as a flow: a training range too short for a window is refused before anything is read; a training
    that fails leaves scoring a completed "no model yet" and the pipeline Failed naming the training; then it runs."""
    import pandas as pd

    from flows.pipeline import PipelineParams, pipeline
    from lepton_flow import parallel

    monkeypatch.setattr(parallel, "_SHARED_CLUSTER", [dask_cluster.scheduler_address])
    src = data_root / "demo"
    write_demo(str(src), DemoSpec(sensors=4, metrics=2, days=1.0, seed=3))
    ingest = SensorIngestParams(source=str(src))
    url = get_settings().store
    start = pd.Timestamp("2026-03-01", tz="UTC").to_pydatetime()
    short = TrainParams(**TINY, train_start=start, train_end=start + pd.Timedelta(minutes=10))
    state = pipeline(PipelineParams(ingest=ingest, train=short), return_state=True)
    assert state.is_failed() and "training range" in state.message and "fewer than one window of 32" in state.message, state.message
    assert not store.exists(url)  # refused before ingesting

    state = pipeline(PipelineParams(ingest=ingest, train=TrainParams(**TINY, sensors=["no-such-sensor"])), return_state=True)
    assert state.is_failed() and "train_sensor_model failed" in state.message and "no-such-sensor" in state.message, state.message
    out = state.result(raise_on_failure=False)
    assert out.new_data and not out.trained and "files ingested" in out.text and "no current model 'sensor-anomaly' yet" in out.text

    state = pipeline(PipelineParams(ingest=ingest, train=TrainParams(**TINY)), return_state=True)
    assert state.is_completed(), state.message
    out = state.result()
    assert not out.new_data and out.trained  # nothing new to ingest, but no model yet: it trains, then scores
    assert "train_sensor_model: sensor-anomaly version 1" in out.text and "score_sensors: sensor-anomaly version 1" in out.text
    summary = _artifacts(state, ["pipeline-summary"])["pipeline-summary"].data  # each step's headline, in one artifact
    assert "trained: yes" in summary and "train\\_sensor\\_model: sensor\\-anomaly version 1" in summary, summary
