"""Windowing and planning: shapes, masking, gaps, the split, scores per row; no TensorFlow."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from lepton_flow import store
from lepton_flow.models.windows import (
    Normalization,
    StatsAccumulator,
    anomaly_events,
    anomaly_runs,
    gap_rows,
    make_windows,
    window_starts,
)
from lepton_flow.training import TrainParams, plan, windows_for
from tests.helpers import GRID, cleaned_block


def test_window_starts_skip_gaps_and_stay_inside_the_range():
    gaps = np.zeros(100, bool)
    gaps[40] = True
    starts = window_starts(10, 90, 8, 2, gaps, 0)
    assert starts.min() >= 10 and (starts + 8).max() <= 90
    assert not any(s <= 40 < s + 8 for s in starts)
    assert {10, 32, 42, 82} <= set(starts.tolist())
    # A range shorter than a window has none.
    assert len(window_starts(0, 7, 8, 1, gaps, 0)) == 0


def test_make_windows_masks_missing_values_instead_of_feeding_them():
    values = np.arange(20, dtype=np.float32).reshape(10, 2)
    values[3, 1] = np.nan
    norm = Normalization(mean=[0.0, 1.0], std=[1.0, 2.0])
    x = make_windows(values, 100, np.array([100, 104]), 4, norm)
    assert x.shape == (2, 4, 4) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, 0], values[0:4, 0])
    np.testing.assert_allclose(x[1, :, 1], (values[4:8, 1] - 1) / 2)
    assert x[0, 3, 1] == 0 and x[0, 3, 3] == 0  # value zeroed, mask says missing
    assert x[0, :, 2].all() and x[0, :3, 3].all()
    assert np.isfinite(x).all()


def test_normalisation_comes_from_what_it_is_given_and_survives_empty_or_flat_channels():
    acc = StatsAccumulator(3)
    acc.add(np.array([[1.0, np.nan, 5.0], [3.0, np.nan, 5.0]]))
    norm = acc.result()
    np.testing.assert_allclose(norm.mean, [2.0, 0.0, 5.0])
    np.testing.assert_allclose(norm.std, [1.0, 1.0, 1.0])


def test_scores_average_overlapping_windows_and_metrics_and_leave_unobserved_rows_nan():
    import keras

    from lepton_flow.models.inference import score_rows_graph

    rows, metrics, sensors, length = 13, 2, 3, 4
    values = np.zeros((rows, metrics * sensors), np.float32)
    values[:, 0] = 1.0  # metric 0 of sensor 0: error 1 against a model that answers 0
    values[:, [2, 5]] = np.nan  # sensor 2 never observed
    values[6, 1] = np.nan  # sensor 1 unobserved in row 6 only
    zero = keras.Sequential([keras.Input((length, 2 * metrics * sensors)), keras.layers.Lambda(lambda t: t[..., : metrics * sensors] * 0.0)])
    s = score_rows_graph(zero, values, np.zeros(6, np.float32), np.ones(6, np.float32), length, 2, metrics)
    assert s.shape == (rows, sensors)  # 13 rows: padded to frame evenly, cut back
    np.testing.assert_allclose(s[:, 0], 0.5)  # the mean of its metrics' errors, 1 and 0
    np.testing.assert_allclose(s[:, 1], 0.0)
    assert np.isnan(s[:, 2]).all()
    # Scores do not depend on where the windows fall: shifting the frame start changes nothing.
    np.testing.assert_allclose(score_rows_graph(zero, values[1:], np.zeros(6, np.float32), np.ones(6, np.float32), length, 2, metrics), s[1:])


def test_the_first_and_last_rows_are_judged_by_as_many_windows_as_any_other_row(tmp_path):
    """A model that errs only at its windows' edges (as a convolution's padding does) gave the data's first and last
    rows, which only one window reaches and at its edge, the series' top scores. Read from a real store in blocks
    (`score_rows`), every row now scores by its place in the window grid, the ends like the rest."""
    import keras

    from lepton_flow import store
    from lepton_flow.models.inference import score_rows
    from lepton_flow.models.windows import Normalization
    from tests.helpers import cleaned_block

    window, rows = 16, 203  # stride 4; blocks of 2 x 4 rows, so most blocks touch neither end
    values = {"temperature": np.sin(np.arange(rows) / 5.0).astype(np.float32)[:, None]}
    url = str(tmp_path / "store")
    snap = store.commit_sensors(url, cleaned_block(tmp_path / "b.zarr", 6400, values, ["s1"], chunk_len=16), None, "seed", {}, {})
    reader = store.GridReader(url, snap, ["temperature"], ["s1"])
    edges = np.zeros((window, 1), np.float32)
    edges[[0, -1]] = 1.0
    model = keras.Sequential([keras.Input((window, 2)), keras.layers.Lambda(lambda t: t[..., :1] + edges)])  # the input back, off by 1 at the edges
    s = score_rows(model, Normalization(mean=[0.0], std=[1.0]), reader, 0, rows, window, batch_size=2)[:, 0]
    # Four windows cover each row; a row sits at an edge of one of them when its place in the stride is 0 or 3.
    phase = np.arange(rows) % 4
    np.testing.assert_allclose(s, np.where((phase == 0) | (phase == 3), 0.25, 0.0), atol=1e-6)
    # The same rows scored in other blocks (a scheduled run's later start) score the same.
    np.testing.assert_allclose(score_rows(model, Normalization(mean=[0.0], std=[1.0]), reader, 100, rows, window, batch_size=3)[:, 0], s[100:], atol=1e-6)
    # So do the stored scores, which average each row with its neighbours (the ends' from mirrored
    # rows), from a run that starts off the stride too: windows start on the data's stride grid whichever row a run starts at.
    from lepton_flow.models.inference import score_rows_smoothed, smooth

    own, shown = score_rows_smoothed(model, Normalization(mean=[0.0], std=[1.0]), reader, 0, rows, window, 2, 4)
    np.testing.assert_allclose(own[:, 0], s, atol=1e-6)
    np.testing.assert_allclose(shown, smooth(own, 4), atol=1e-6)
    later = score_rows_smoothed(model, Normalization(mean=[0.0], std=[1.0]), reader, 101, rows, window, 3, 4)[1]
    np.testing.assert_allclose(later, shown[101:], atol=1e-6)
    # A model whose answer depends on the whole window (its mean): a row near a block's end averages neighbours whose
    # windows reach past the rows the block scores, and still scores as in one pass.
    mean_of = keras.Sequential([keras.Input((window, 2)), keras.layers.Lambda(lambda t: t[..., :1] * 0.0 + keras.ops.mean(t[..., :1], axis=1, keepdims=True))])
    from lepton_flow.models.inference import ranked

    for half, wide in ((4, ()), (window, ()), (window, [2 * window, 4 * window])):  # a stride, a window, and wider averages
        own, whole = score_rows_smoothed(mean_of, Normalization(mean=[0.0], std=[1.0]), reader, 0, rows, window, 64, half, wide)
        np.testing.assert_allclose(whole, ranked(own, 0, half, wide), atol=1e-6)
        for start, batch in ((0, 2), (101, 3), (58, 5)):
            np.testing.assert_allclose(score_rows_smoothed(mean_of, Normalization(mean=[0.0], std=[1.0]), reader, start, rows, window, batch, half, wide)[1], whole[start:], atol=1e-6)
        # Consecutive blocks, as scoring runs them, carrying the rows scored past each block into the next.
        reuse: dict = {}
        parts = [score_rows_smoothed(mean_of, Normalization(mean=[0.0], std=[1.0]), reader, a, min(rows, a + 37), window, 4, half, wide, reuse) for a in range(11, rows, 37)]
        np.testing.assert_allclose(np.concatenate([p[0] for p in parts]), own[11:], atol=1e-6)
        np.testing.assert_allclose(np.concatenate([p[1] for p in parts]), whole[11:], atol=1e-6)


def test_stored_scores_rank_a_row_with_its_stretch_and_a_spike_keeps_its_own():
    """The stored score of a row is its own error or its neighbours' weighted average (weights h - |d|), whichever is
    higher: the quiet rows of an incident that errs unevenly rank with it, and a one-row spike is not diluted."""
    from lepton_flow.models.inference import smooth

    half, rows = 4, 120
    s = np.full((rows, 2), 0.1)
    s[40:60:2, 0] = 4.0  # an incident erring at every other row
    s[90, 0] = 10.0  # a spike
    s[10:13, 1] = np.nan  # not observed
    s[13, 1] = 2.0
    out = smooth(s, half)
    weights = half - np.abs(np.arange(1 - half, half))
    expected = np.full(s.shape, np.nan)
    for c in range(2):
        for t in range(rows):
            if np.isfinite(s[t, c]):
                near = [(w, s[t + d, c]) for w, d in zip(weights, range(1 - half, half)) if 0 <= t + d < rows and np.isfinite(s[t + d, c])]
                expected[t, c] = max(s[t, c], sum(w * v for w, v in near) / sum(w for w, _ in near))
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out[41:59, 0].min() > 1.0 and out[90, 0] == 10.0 and out[0, 0] == np.float32(0.1)
    assert np.isnan(out[10:13, 1]).all() and out[14, 1] == np.float32((3 * 2.0 + 4 * 0.1 + 3 * 0.1 + 2 * 0.1 + 0.1) / 13)
    assert smooth(s, 1) is s


def test_a_stretch_average_ranks_an_incident_s_surroundings_above_the_quiet_rest():
    """`stretch` against a brute-force reading of its definition (groups of half/16 rows aligned on the store's grid,
    weights 16 - |groups apart|, each row its group's average; rows without a score left out), from two places in the
    grid; and what it is for: the rows a few windows from a long incident rank above the rest of the series, while the
    stored score (`ranked`) keeps a spike its own and the incident's rows their own."""
    from lepton_flow.models.inference import STRETCH_GROUPS, ranked, smooth, stretch

    rng = np.random.default_rng(3)
    half, rows = 64, 700
    s = rng.gamma(2.0, 0.05, (rows, 2))
    s[300:340, 0] += 3.0  # a long incident
    s[600, 0] = 50.0  # a spike
    s[100:130, 1] = np.nan  # not observed
    group = half // STRETCH_GROUPS
    for first in (0, 4096 + 7):
        out = stretch(s, first, half)
        place = (first + np.arange(rows)) // group
        expected = np.full(s.shape, np.nan)
        for c in range(2):
            known = np.isfinite(s[:, c])
            for t in np.flatnonzero(known):
                w = np.clip(STRETCH_GROUPS - np.abs(place - place[t]), 0, None) * known
                expected[t, c] = (w * np.nan_to_num(s[:, c])).sum() / w.sum()
        np.testing.assert_allclose(out, expected, rtol=1e-5)
        assert np.isnan(out[100:130, 1]).all() and np.isfinite(out[130:, 1]).all()
    shown = ranked(s, 0, 16, [half])
    quiet = np.r_[0:200, 440:540]
    assert shown[270:300, 0].min() > np.percentile(shown[quiet, 0], 99)  # the incident's lead-up ranks with it
    assert smooth(s, 16)[270:300, 0].min() < np.percentile(smooth(s, 16)[quiet, 0], 99)  # which a window's average missed
    assert shown[600, 0] == np.float32(50.0) and (shown[300:340, 0] >= s[300:340, 0].astype(np.float32)).all()
    assert ranked(s, 0, 1, []) is s
    # The stored score takes the stretch's average in log1p: one garbage reading's enormous error lifts the rows
    # around it less than the incident lifts its own (a plain average would lift them a million times over).
    s[520, 0] = 1e12
    shown = ranked(s, 0, 16, [half])
    log_average = np.expm1(stretch(np.log1p(s), 0, half))
    np.testing.assert_allclose(shown, np.fmax(smooth(s, 16), log_average), rtol=1e-5)
    around = np.r_[470:500, 540:570]  # a window and more from the reading, inside its stretch
    assert shown[around, 0].max() < shown[300:340, 0].min() and stretch(s, 0, half)[around, 0].min() > 1e9


def test_anomaly_runs_find_each_run_with_its_peak():
    flags = np.zeros((10, 2), bool)
    flags[2:5, 1] = True
    flags[7, 1] = True
    scores = np.arange(20, dtype=np.float32).reshape(10, 2)
    assert anomaly_runs(flags, scores, 100) == [(1, 102, 104, 9.0), (1, 107, 107, 15.0)]


def test_flagged_runs_close_in_time_are_one_event_across_sensors():
    """Ten neighbouring 30 s flags of one sensor are one event, not ten rows; another sensor flagged meanwhile joins it."""
    runs = [(0, 100, 100, 3.0), (0, 104, 106, 5.0), (0, 110, 110, 4.0), (2, 108, 120, 6.0), (1, 500, 501, 9.0), (0, 530, 530, 2.0)]
    events = anomaly_events(runs, gap=16)
    assert events == [(500, 501, 9.0, [(1, 9.0)]), (100, 120, 6.0, [(2, 6.0), (0, 5.0)]), (530, 530, 2.0, [(0, 2.0)])]
    assert len(anomaly_events(runs, gap=0)) == 5  # with no gap allowed only overlapping runs (108-120 and 110) join


def test_gap_rows_are_rows_without_any_value():
    v = np.array([[1, np.nan], [np.nan, np.nan], [np.nan, 2]])
    assert gap_rows(v).tolist() == [False, True, False]


@pytest.fixture
def small_store(data_root, tmp_path):
    """Five chunks of 64 steps, two sensors, two metrics; data in rows 0-299 with a hole at rows 150-169."""
    rng = np.random.default_rng(0)
    values = {m: rng.normal(10, 1, (320, 2)) for m in ("temperature", "humidity")}
    for v in values.values():
        v[150:170] = np.nan
        v[300:] = np.nan
    values["humidity"][10:20, 1] = np.nan  # missing in one channel only: masked, not a gap
    from lepton_flow.settings import get_settings

    url = get_settings().store
    store.commit_sensors(url, cleaned_block(tmp_path / "b.zarr", 6400, values, ["s1", "s2"], chunk_len=64), None, "seed", {}, {})
    return url, values


def _at(row: int) -> datetime:
    return datetime.fromtimestamp((6400 + row) * GRID, tz=UTC)


def test_plan_splits_by_time_and_no_window_crosses_the_split_or_a_gap(small_store):
    url, values = small_store
    p = plan(TrainParams(window=16, stride=4))
    # The data spans rows 0-299: the first 70% trains, the next 15% validates, the last 15% is only scored.
    assert p.train_rows == (0, 210) and p.validation_rows == (210, 255)
    assert p.sensors == ["s1", "s2"] and p.metrics == ["temperature", "humidity"]
    reader = store.GridReader(url, p.snapshot_id, p.metrics, p.sensors)
    ws = windows_for(p, reader)
    train, val = np.array(ws.train), np.array(ws.validation)
    assert (train + 16 <= 210).all() and (val >= 210).all() and (val + 16 <= 255).all()
    # A window may hold gap rows up to half its length (gap_share 0.5): the model sees which rows are missing.
    held_gaps = [len(set(range(s, s + 16)) & set(range(150, 170))) for s in train]
    assert max(held_gaps) <= 8
    assert {140, 164} <= set(train.tolist()) and 144 not in train  # 6 gap rows each (allowed); 144-159: 10 (not)
    strict = np.array(windows_for(plan(TrainParams(window=16, stride=4, gap_share=0)), reader).train)
    assert not any(s < 170 and s + 16 > 150 for s in strict)
    assert 8 in train  # rows 10-19 miss one channel only: still trained on, masked
    # Normalisation from the training rows only.
    train_rows = np.concatenate([values[m][:210] for m in p.metrics], axis=1)
    np.testing.assert_allclose(ws.normalization.mean, np.nanmean(train_rows, axis=0), rtol=1e-5)
    assert len(val) and (val + 16 <= 255).all()


def test_readings_sparser_than_the_grid_still_train_and_too_sparse_names_the_share(data_root, tmp_path):
    """Irregular readings (a traffic sensor reporting every 5 to 60 minutes on a 5-minute grid) leave gaps in most
    windows: every window had to be clear of them, and training failed after the ingest."""
    from lepton_flow.settings import get_settings

    rng = np.random.default_rng(4)
    values = {"speed": np.full((320, 1), np.nan)}
    held = np.cumsum(rng.choice([1, 1, 2, 3, 4], size=200))
    held = held[held < 300]
    values["speed"][held, 0] = rng.normal(60, 4, held.size)
    url = get_settings().store
    store.commit_sensors(url, cleaned_block(tmp_path / "b.zarr", 6400, values, ["s1"], chunk_len=64), None, "seed", {}, {})
    gaps = ~np.isfinite(values["speed"][:, 0])
    ws = windows_for(plan(TrainParams(window=16, stride=1)), store.GridReader(url, None, ["speed"], ["s1"]))
    assert ws.train and ws.validation
    assert all(gaps[s : s + 16].sum() <= 8 for s in ws.train + ws.validation)
    with pytest.raises(ValueError, match=r"no train window of 16 steps .* has values at 100% of its steps .*gap_share 0\)"):
        windows_for(plan(TrainParams(window=16, stride=1, gap_share=0)), store.GridReader(url, None, ["speed"], ["s1"]))


def test_sensors_whose_data_spans_differ_each_train_on_their_own_first_share(data_root, tmp_path):
    """A sensor installed later (or a series from another year in the same store) was trained on the first 70% of
    everyone's time: none of its own data, its normalisation from nothing. The shares now cut each sensor's own span;
    each sensor is read only over its own range of each kind, and calibrates on its own validation rows."""
    from lepton_flow.settings import get_settings

    rng = np.random.default_rng(2)
    values = {"temperature": np.full((300, 2), np.nan)}
    values["temperature"][:, 0] = rng.normal(10, 1, 300)  # s1: rows 0-299
    values["temperature"][200:, 1] = rng.normal(100, 5, 100)  # s2: rows 200-299, a level of its own
    url = get_settings().store
    store.commit_sensors(url, cleaned_block(tmp_path / "b.zarr", 6400, values, ["s1", "s2"], chunk_len=64), None, "seed", {}, {})
    p = plan(TrainParams(window=8, stride=2))
    assert p.sensor_rows == {"s1": (0, 210, 210, 255), "s2": (200, 270, 270, 285)}
    assert p.train_rows == (0, 270) and p.validation_rows == (210, 285)  # the envelopes
    train, validation = p.reader("train").rows(0, 300)[:, :2], p.reader("validation").rows(0, 300)[:, :2]
    assert np.isfinite(train[:210, 0]).all() and np.isnan(train[210:, 0]).all()
    assert np.isnan(train[:200, 1]).all() and np.isfinite(train[200:270, 1]).all() and np.isnan(train[270:, 1]).all()
    assert np.isfinite(validation[270:285, 1]).all() and np.isnan(validation[285:, 1]).all() and np.isnan(validation[:210, 0]).all()
    ws = windows_for(p, p.reader())
    np.testing.assert_allclose(ws.normalization.mean, [values["temperature"][:210, 0].mean(), values["temperature"][200:270, 1].mean()], rtol=1e-5)
    assert any(s + 8 > 200 for s in ws.train) and all(s + 8 <= 270 for s in ws.train)
    scores = p.own_validation(np.ones((285 - 210, 2)))
    assert np.isfinite(scores[:45, 0]).all() and np.isnan(scores[45:, 0]).all()  # s1 validates on rows 210-254
    assert np.isnan(scores[:60, 1]).all() and np.isfinite(scores[60:, 1]).all()  # s2 on rows 270-284
    # Times given for the ranges hold for every sensor; one span for all needs nothing per sensor.
    assert plan(TrainParams(window=8, train_end=_at(150), validation_end=_at(250))).sensor_rows == {}
    assert plan(TrainParams(window=8, sensors=["s1"])).sensor_rows == {}


def test_training_reads_flagged_readings_as_missing_but_not_as_gaps_and_scoring_reads_them(data_root, tmp_path):
    """Cleaning flags a stuck run and a spike and keeps their values: training masks them (no window is lost over
    them, the normalisation leaves them out); scoring's reader sees the spike as it was observed."""
    from lepton_flow.cleaning import OBSERVED, OUTLIER, STUCK
    from lepton_flow.models.features import grid_reader
    from lepton_flow.settings import get_settings

    values = {"temperature": np.random.default_rng(1).normal(10, 1, (256, 1))}
    codes = np.full((256, 1), OBSERVED, np.uint8)
    values["temperature"][100:140] = 10.0
    codes[100:140] = STUCK
    values["temperature"][160] = 500.0
    codes[160] = OUTLIER
    url = get_settings().store
    store.commit_sensors(url, cleaned_block(tmp_path / "b.zarr", 6400, values, ["s1"], chunk_len=64, quality={"temperature": codes}), None, "seed", {}, {})
    snap = store.state(url).snapshot_id
    training, scoring = grid_reader(url, snap, ["temperature"], ["s1"], training=True), grid_reader(url, snap, ["temperature"], ["s1"])
    hidden, gaps = training.rows(0, 256, with_gaps=True)
    assert np.isnan(hidden[100:140]).all() and np.isnan(hidden[160]).all() and np.isfinite(np.delete(hidden[:, 0], [*range(100, 140), 160])).all()
    assert not gaps.any()  # flagged readings are data the model does not learn from, not holes
    assert scoring.rows(160, 161)[0, 0] == 500.0 and np.isfinite(scoring.rows(0, 256)).all()
    p = plan(TrainParams(window=16, stride=4))
    ws = windows_for(p, p.reader())
    assert any(s <= 110 < s + 16 for s in ws.train)  # windows over the stuck run still train, masked
    assert p.train_rows[1] > 160  # the spike is in the training range, and left out of its mean
    kept = np.delete(values["temperature"][: p.train_rows[1], 0], [*range(100, 140), 160])
    assert ws.normalization.mean[0] == pytest.approx(np.mean(kept), rel=1e-5)


def test_a_channel_whose_training_values_cleaning_mostly_flagged_is_learned_as_it_behaves(data_root, tmp_path):
    """A constant series is all stuck to the stuck-value step, a pump's on-state mostly: hidden, they left nothing to
    learn (a model saved with no validation loss) or taught the model a channel that never does what it mostly does
    (scoring then flagged every plateau). A channel with 30% or more of its training values flagged is read as
    observed; the others keep their flagged values hidden, per channel."""
    from lepton_flow.cleaning import OBSERVED, STUCK
    from lepton_flow.settings import get_settings

    rng = np.random.default_rng(0)
    values = {"temperature": np.stack([np.full(256, 10.0), 20 + rng.normal(0, 1, 256), 30 + rng.normal(0, 1, 256)], axis=1)}
    codes = np.full((256, 3), OBSERVED, np.uint8)
    codes[:, 0] = STUCK  # constant: every value flagged
    codes[5, 0] = OBSERVED  # but one
    codes[::4, 1] = STUCK  # a quarter flagged: under the share, hidden
    codes[:100, 2] = STUCK  # over half of the training range flagged (a state channel)
    url = get_settings().store
    store.commit_sensors(url, cleaned_block(tmp_path / "b.zarr", 6400, values, ["s1", "s2", "s3"], chunk_len=64, quality={"temperature": codes}), None, "seed", {}, {})
    p = plan(TrainParams(window=16, stride=4))
    assert p.learned_flagged == [0, 2], p.learned_flagged
    rows = p.reader().rows(0, 256)
    assert np.isfinite(rows[:, 0]).all() and np.isfinite(rows[:, 2]).all()  # read as observed
    assert np.isnan(rows[::4, 1]).all() and np.isfinite(np.delete(rows[:, 1], np.s_[::4])).all()  # hidden
    ws = windows_for(p, p.reader())
    assert ws.train and ws.normalization.mean[0] == 10.0
    assert [p.channel_name(c) for c in p.learned_flagged] == ["temperature of s1", "temperature of s3"]


def test_ranges_cut_by_the_shares_shorten_a_window_they_cannot_hold(small_store):
    """A short series (a year of daily readings holds 55 validation steps) failed the default window of 64 after its
    ingest; ranges the shares cut now shorten the window to the longest both hold, and the plan says from what."""
    p = plan(TrainParams(window=64, stride=8))  # rows 0-299: 210 training and 45 validation steps
    assert (p.params.window, p.params.stride, p.window_asked) == (44, 8, 64)
    assert windows_for(p, p.reader()).validation  # a window fits the validation range now
    assert plan(TrainParams(window=32)).window_asked is None  # it fits: nothing changes
    with pytest.raises(ValueError, match="validation range .* holds 45 grid steps, fewer than one window of 64"):
        plan(TrainParams(window=64, validation_end=_at(255)))  # a range given as a time keeps the window asked for


def test_plan_takes_explicit_ranges_and_refuses_bad_ones(small_store):
    p = plan(TrainParams(window=16, train_end=_at(100), validation_start=_at(200), validation_end=_at(260), sensors=["s2"], metrics=["humidity"]))
    assert p.train_rows == (0, 100) and p.validation_rows == (200, 260)
    with pytest.raises(ValueError, match="unknown sensor.*nope.*s1, s2"):
        plan(TrainParams(sensors=["nope"]))
    with pytest.raises(ValueError, match="fewer than one window of 64"):
        plan(TrainParams(window=64, train_end=_at(40)))
    with pytest.raises(ValueError, match=r"validation_start \(.*\) must come after train_end"):
        TrainParams(window=16, train_end=_at(200), validation_start=_at(100), validation_end=_at(260))
    with pytest.raises(ValueError, match="add up to more than 1"):
        TrainParams(train_share=0.9, validation_share=0.2)
    with pytest.raises(ValueError, match="multiple of 4"):
        TrainParams(window=30)
    with pytest.raises(ValueError, match="time zone"):
        TrainParams(train_end=datetime(2026, 1, 1))


def test_grid_row_is_grid_time_inverse():
    from datetime import datetime, timezone

    assert store.grid_row(store.grid_time(6400, GRID, 17), 6400, GRID) == 17
    assert store.grid_row(datetime.fromtimestamp((6400 + 17) * GRID + 29, tz=timezone.utc), 6400, GRID) == 17  # within the bin


def test_plan_names_an_empty_store(data_root):
    with pytest.raises(store.StoreError, match="run sensor_ingest first"):
        plan(TrainParams())


def test_score_writer_round_trip_and_rebase_over_an_ingest(small_store, tmp_path):
    url, _ = small_store
    st = store.state(url)
    writer = store.ScoreWriter(url, "m", st.snapshot_id)
    score = np.arange(40, dtype=np.float32).reshape(20, 2)
    writer.write(100, score, score > 30, np.array([0, 1]))
    # An ingest commits while scoring runs: the scores commit rebases over it.
    more = {"temperature": np.full((64, 2), 1.0), "humidity": np.full((64, 2), 2.0)}
    store.commit_sensors(url, cleaned_block(tmp_path / "c.zarr", 6400 + 320, more, ["s1", "s2"], chunk_len=64), st.snapshot_id, "later", {}, {})
    snap = writer.commit("scores", {"model_version": "1"}, {"scored_until_bin": 6400 + 300, "threshold": 30.0})
    ds = store.open_scores(url, "m", snap).load()
    assert ds.sizes == {"time": 320, "sensor": 2}  # the grid of the snapshot it scored
    np.testing.assert_array_equal(ds.score.values[100:120], score)
    assert np.isnan(ds.score.values[:100]).all() and (ds.flag.values[100:120] == (score > 30)).all()
    assert store.scored_until(url, "m") == 6400 + 300
    assert store.state(url).length == 384  # the ingest's rows are still there
    assert store.history(url)[0]["metadata"]["model_version"] == "1"
    # The next scoring grows the scores group to the store's new length.
    w2 = store.ScoreWriter(url, "m", store.state(url).snapshot_id)
    w2.write(320, np.ones((64, 1), np.float32), np.zeros((64, 1), bool), np.array([1]))
    snap2 = w2.commit("more", {}, {"scored_until_bin": 6400 + 384})
    ds2 = store.open_scores(url, "m", snap2).load()
    assert ds2.sizes == {"time": 384, "sensor": 2}
    np.testing.assert_array_equal(ds2.score.values[100:120], score)
    assert (ds2.score.values[320:, 1] == 1).all() and np.isnan(ds2.score.values[320:, 0]).all()
    # A smoothed score is stored with the rows' own errors, and the next run's calibration history is the errors.
    w3 = store.ScoreWriter(url, "m", store.state(url).snapshot_id)
    own = np.full((64, 2), 0.5, np.float32)
    w3.write(200, own + 1, np.zeros((64, 2), bool), np.array([0, 1]), None, own)
    w3.commit("smoothed", {}, {"version": "2"})
    np.testing.assert_array_equal(store.ScoreWriter(url, "m", store.state(url).snapshot_id).history("2", np.array([0, 1]), 264, 64), own)
    # A group written before errors were kept: its `score` (then the rows' own) stands in for the rows without one.
    import zarr

    session = store.open_repo(url).writable_session("main")
    del zarr.open_group(session.store, path="scores/m")["error"]
    session.commit("a scores group from before")
    old = store.ScoreWriter(url, "m", store.state(url).snapshot_id)
    np.testing.assert_array_equal(old.history("2", np.array([0, 1]), 264, 64), own + 1)


def test_late_data_since_a_snapshot_is_found_from_the_store_history(small_store, tmp_path):
    """What scoring re-scores: the first row whose chunks an ingest wrote since the snapshot the last scoring read."""
    url, values = small_store
    seen = store.state(url).snapshot_id
    assert store.first_changed_row(url, seen, seen, "sensors", 64) is None
    later = {m: np.full((64, 2), 1.0) for m in values}
    store.commit_sensors(url, cleaned_block(tmp_path / "later.zarr", 6400 + 320, later, ["s1", "s2"], chunk_len=64), seen, "later", {}, {})
    assert store.first_changed_row(url, seen, store.state(url).snapshot_id, "sensors", 64) == 320  # only new time
    late = {m: v[128:192].copy() for m, v in values.items()}
    for v in late.values():
        v[22:42] = 5.0  # rows 150-169, the hole, filled by a late file
    store.commit_sensors(url, cleaned_block(tmp_path / "late.zarr", 6400 + 128, late, ["s1", "s2"], chunk_len=64), store.state(url).snapshot_id, "late", {}, {})
    assert store.first_changed_row(url, seen, store.state(url).snapshot_id, "sensors", 64) == 128


def test_calibrated_tail_is_the_share_of_the_last_window_of_scores_at_least_as_high():
    """Row t against rows [t - window, t) exactly, across block edges, the validation scores standing in at first."""
    from lepton_flow.models.calibration import Calibrator, reference_sample

    rng = np.random.default_rng(0)
    reference = reference_sample(rng.gamma(2, 1, (3000, 3)))
    assert [len(r) for r in reference] == [1024] * 3 and all(r == sorted(r) for r in reference)
    raw = rng.gamma(2, 1, (1500, 3))
    raw[200:260, 1] = np.nan
    cal = Calibrator(reference, window=500, block=64)
    seeded = cal._history.copy()
    tail = np.concatenate([cal(raw[:700]), cal(raw[700:])])  # two calls: the history carries over
    # However the rows are cut into calls and blocks, every tail is the same (extremes past the maximum included).
    np.testing.assert_allclose(Calibrator(reference, window=500, block=100)(raw), tail, rtol=1e-12)
    raw_extreme = raw.copy()
    raw_extreme[[300, 520, 521, 900], 0] = [40.0, 60.0, 30.0, 55.0]
    one = Calibrator(reference, window=500, block=64)(raw_extreme)
    cut = Calibrator(reference, window=500, block=128)
    np.testing.assert_allclose(np.concatenate([cut(raw_extreme[:521]), cut(raw_extreme[521:])]), one, rtol=1e-12)
    full = np.concatenate([seeded, raw])
    k = seeded.shape[0]
    for t in (0, 1, 63, 64, 65, 230, 499, 500, 501, 699, 700, 701, 1499):
        for col in range(3):
            if np.isnan(raw[t, col]):
                assert np.isnan(tail[t, col])
                continue
            view = full[k + t - 500 : k + t, col]
            view = view[np.isfinite(view)]
            at_least = (view >= raw[t, col]).sum()
            expected = (at_least + 1) / (view.size + 1) if at_least else tail[t, col]  # past the maximum: the fitted tail
            assert tail[t, col] == pytest.approx(expected, rel=1e-5), (t, col)
            assert tail[t, col] <= 1 / (view.size + 1) or at_least


def test_calibrated_flags_keep_their_rate_when_scores_drift_and_rank_extremes_apart():
    from lepton_flow.models.calibration import Calibrator, reference_sample, surprise

    rng = np.random.default_rng(1)
    raw = rng.gamma(2, 1, (30000, 2))
    raw[15000:, 0] *= 4  # a sensor's level shifts after training: its raw scores grow 4x and stay there
    cal = Calibrator(reference_sample(rng.gamma(2, 1, (3000, 2))), window=2880)
    tail = cal(raw)
    rate = 0.001
    flags = tail < rate
    assert flags[:15000].mean() <= 2 * rate and flags[15000:].mean() <= 2 * rate, (flags[:15000].mean(0), flags[15000:].mean(0))
    assert flags[15000:15050, 0].sum() >= 1  # the shift itself is news
    # A fixed threshold from the validation range (the old rule) flags most of the shifted sensor.
    fixed = np.quantile(rng.gamma(2, 1, 3000), 0.995)
    assert (raw[15000:, 0] > fixed).mean() > 0.3
    # Beyond the largest score in view, bigger is rarer: extremes keep their order.
    more = np.array([[50.0, 5.0], [80.0, 5.0], [200.0, 5.0]])
    s = surprise(cal(more))[:, 0]
    assert s[0] < s[1] < s[2]


def test_trained_rows_are_judged_against_their_own_scores_and_an_incident_among_them_stays_rare():
    """Below the top 1% (at least 20): the share of the trained rows' scores at least as high, the row among them,
    exact while the card keeps every score and within a few percent once it keeps a log-spaced sample. Past it, a
    power-law tail: the flag rate holds on heavy-tailed scores and is not exceeded on lighter ones, and an incident in
    the training range, though it holds the top ranks itself, is rarer than any rank could say."""
    from lepton_flow.models.calibration import IN_SAMPLE_POINTS, in_sample_reference, in_sample_tail, surprise

    rng = np.random.default_rng(2)
    few = rng.gamma(2, 1, (200, 1))
    few[17, 0] = np.nan
    ref = in_sample_reference(few)[0]
    assert ref["n"] == 199 and len(ref["values"]) == 199
    tail = in_sample_tail(ref, few[:, 0])
    finite = few[np.isfinite(few[:, 0]), 0]
    rank = lambda v: (finite >= v).sum()  # noqa: E731
    below = [i for i in range(200) if i != 17 and rank(few[i, 0]) >= 20]
    assert len(below) == 180
    for i in below:
        assert tail[i] == pytest.approx(rank(few[i, 0]) / 199, rel=1e-12)
    top = np.argsort(-np.nan_to_num(few[:, 0], nan=-1))[:19]
    assert np.all(np.diff(tail[top]) > 0) and tail[top[0]] < tail[top[-1]] <= 20 / 199  # higher is rarer
    assert np.isnan(tail[17])

    many = rng.gamma(2, 1, (200_000, 2))
    many[:, 1] = many[:, 0] * 1000  # the same scores on another sensor's scale: the same tails
    refs = in_sample_reference(many)
    assert all(len(r["values"]) <= IN_SAMPLE_POINTS for r in refs)
    ordered = np.sort(many[:, 0])[::-1]
    for r in (2_000, 5_000, 20_000, 100_000, 200_000):
        assert in_sample_tail(refs[0], ordered[r - 1 : r])[0] == pytest.approx(r / 200_000, rel=0.05), r
    tails = np.stack([in_sample_tail(r, many[:, c]) for c, r in enumerate(refs)], axis=1)
    np.testing.assert_allclose(tails[:, 0], tails[:, 1], rtol=1e-6)
    # Past the top 1%, a power law through the top 1% and 2%: never more flags than asked; on these light-tailed
    # (gamma) scores fewer, down to a third at one in a thousand.
    for rate, least in ((0.0005, 0.25), (0.001, 0.35), (0.005, 0.7)):
        assert least * rate <= (tails[:, 0] < rate).mean() <= 1.2 * rate, rate
    # On heavy-tailed scores (a power law, as counts with bursts give) the rate holds, and the largest of 200,000 is
    # about one in 200,000: an exponential through the same two scores called it one in 10^18 and flagged 2-7 times
    # the rate asked.
    heavy = rng.pareto(3, 200_000) + 1
    judged = in_sample_tail(in_sample_reference(heavy[:, None])[0], heavy)
    for rate in (0.0005, 0.001, 0.005):
        assert 0.7 * rate <= (judged < rate).mean() <= 1.3 * rate, rate
    assert 4.5 < surprise(judged).max() < 6.5
    # An incident of 30 rows at 3x the normal maximum, trained on: each is far rarer than 1 / n, and the rest of
    # the rows keep their rate.
    hit = many[:, :1].copy()
    hit[5000:5030, 0] = 3 * ordered[0]
    judged = in_sample_tail(in_sample_reference(hit)[0], hit[:, 0])
    assert surprise(judged[5000:5030]).min() > np.log10(200_000) + 1  # ten times rarer than any rank can say
    assert 0.35 * 0.001 <= (np.delete(judged, np.s_[5000:5030]) < 0.001).mean() <= 1.2 * 0.001
    assert np.isnan(in_sample_tail({"n": 0, "values": []}, np.array([1.0]))).all()
