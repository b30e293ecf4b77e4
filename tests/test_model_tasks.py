"""The training and scoring tasks' units, each with a bad-input case (`task.fn`, no Prefect run)."""

from __future__ import annotations

import numpy as np
import pytest

from lepton_flow import store
from lepton_flow.registry import RegistryError
from lepton_flow.scoring import ScoreParams, ScorePlan, ScoreResult
from lepton_flow.settings import get_settings
from lepton_flow.training import TrainParams, TrainResult
from tasks.plan_scoring import plan_scoring
from tasks.plan_training import plan_training
from tasks.promote_model import promote_model
from tasks.report_scoring import report_scoring
from tasks.report_training import report_training
from tasks.score_sensor_range import score_sensor_range
from tests.helpers import cleaned_block


@pytest.fixture
def one_chunk_store(data_root, tmp_path):
    rng = np.random.default_rng(1)
    values = {"temperature": rng.normal(20, 1, (64, 2))}
    url = get_settings().store
    store.commit_sensors(url, cleaned_block(tmp_path / "b.zarr", 640, values, ["a", "b"], chunk_len=64), None, "seed", {}, {})
    return url


def test_plan_training_resolves_the_snapshot_and_refuses_unknown_metrics(one_chunk_store):
    plan = plan_training.fn(TrainParams(window=8, stride=2))
    assert plan.snapshot_id == store.state(one_chunk_store).snapshot_id and plan.sensors == ["a", "b"]
    assert plan.train_rows == (0, 45) and plan.validation_rows == (45, 55)  # 70% and the next 15% of 64 rows
    with pytest.raises(ValueError, match="unknown metric.*pressure.*temperature"):
        plan_training.fn(TrainParams(metrics=["pressure"]))


def test_plan_scoring_names_the_models_the_registry_holds(one_chunk_store):
    assert plan_scoring.fn(ScoreParams()) is None  # no model yet: nothing to score, not a failure
    with pytest.raises(RegistryError, match="no model 'sensor-anomaly'.*train one first"):
        plan_scoring.fn(ScoreParams(require_model=True))


def test_promote_and_report_training_refuse_a_version_that_does_not_exist(one_chunk_store):
    plan = plan_training.fn(TrainParams(window=8, stride=2))
    ghost = TrainResult(name="sensor-anomaly", version="7", validation_loss=1.0, threshold=1.0, epochs_run=1, initial_epoch=0, card_url="-")
    with pytest.raises(RegistryError, match="no model 'sensor-anomaly'"):
        promote_model.fn(plan, ghost)
    with pytest.raises(RegistryError):
        report_training.fn(ghost)


def test_an_empty_scoring_range_commits_nothing_and_says_so(one_chunk_store):
    snapshot = store.state(one_chunk_store).snapshot_id
    plan = ScorePlan(store_url=one_chunk_store, snapshot_id=snapshot, model_name="m", version="1", rows=(64, 64), start_bin=640, grid_seconds=30, chunk_len=64)
    result = score_sensor_range.fn(plan, 1024, 10)
    assert result.snapshot_id is None and result.rows_scored == 0
    assert store.history(one_chunk_store)[0]["id"] == snapshot
    assert "nothing new to score" in report_scoring.fn(ScoreResult(snapshot_id=None, plan=plan))


def test_epoch_checkpoint_resumes_and_survives_a_kill_at_any_write(tmp_path, caplog):
    """A training killed mid-epoch resumes from its last whole epoch; a checkpoint torn by a kill never fails the re-run."""
    import json

    import keras

    from lepton_flow.training import EpochCheckpoint

    x = np.linspace(0, 1, 64, dtype=np.float32).reshape(-1, 1)
    y = 3 * x + 1

    def model():
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        m.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
        return m

    class Kill(keras.callbacks.Callback):  # stands in for SIGKILL: stops the run without on_train_end
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 3:
                raise KeyboardInterrupt

    ckpt = tmp_path / "ckpt"
    first = model()
    with pytest.raises(KeyboardInterrupt):
        first.fit(x, y, epochs=10, verbose=0, callbacks=[EpochCheckpoint(str(ckpt)), Kill()])
    meta = json.loads((ckpt / "training_metadata.json").read_text())
    assert meta == {"epoch": 3, "weights": "epoch-3.weights.h5"}
    assert sorted(p.name for p in ckpt.iterdir()) == ["epoch-3.weights.h5", "training_metadata.json"]  # older epochs removed

    resumed = model()
    history = resumed.fit(x, y, epochs=5, verbose=0, callbacks=[EpochCheckpoint(str(ckpt))])
    assert len(history.history["loss"]) == 2  # epochs 4 and 5 only
    assert not ckpt.exists()  # a finished run removes its checkpoint

    # A kill while the next epoch's weights were written leaves a torn file beside a whole checkpoint: it resumes.
    with pytest.raises(KeyboardInterrupt):
        model().fit(x, y, epochs=10, verbose=0, callbacks=[EpochCheckpoint(str(ckpt)), Kill()])
    (ckpt / "epoch-4.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n torn")
    history = model().fit(x, y, epochs=5, verbose=0, callbacks=[EpochCheckpoint(str(ckpt))])
    assert len(history.history["loss"]) == 2

    # Damage that should not happen (a disk fault, a hand edit): logged, removed, trained from epoch 0.
    for damage in ("weights", "metadata", "missing"):
        with pytest.raises(KeyboardInterrupt):
            model().fit(x, y, epochs=10, verbose=0, callbacks=[EpochCheckpoint(str(ckpt)), Kill()])
        if damage == "weights":
            (ckpt / "epoch-3.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n torn")
        elif damage == "metadata":
            (ckpt / "training_metadata.json").write_text('{"epoch": 3, "wei')
        else:
            (ckpt / "epoch-3.weights.h5").unlink()
        caplog.clear()
        with caplog.at_level("WARNING"):
            history = model().fit(x, y, epochs=5, verbose=0, callbacks=[EpochCheckpoint(str(ckpt))])
        assert len(history.history["loss"]) == 5, damage
        assert "cannot be read" in caplog.text and "training from epoch 0" in caplog.text, damage
        assert not ckpt.exists()
