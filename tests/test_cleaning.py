"""Cleaning steps: each one on tiny grids, the pipeline's rules, and the contract every step keeps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lepton_flow import cleaning
from lepton_flow.cleaning import GAP, INTERPOLATED, MISSING, OBSERVED, OUTLIER, STUCK, CleanParams

P = CleanParams()


def _grid(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    v = np.asarray(values, float).reshape(-1, 1)
    q = np.where(np.isnan(v), MISSING, OBSERVED).astype(np.uint8)
    return v, q, ~np.isnan(v)


def _noise(n=200, seed=0):
    return 20 + np.random.default_rng(seed).normal(0, 0.1, n)


def _step(name):
    return cleaning.registry()[name]


def test_hampel_flags_a_spike_and_nothing_else_and_keeps_its_value():
    x = _noise()
    x[100] += 5
    v, q, fresh = _grid(x)
    out_v, out_q = _step("hampel").apply(v, q, fresh, P.of(_step("hampel")))
    assert np.flatnonzero(out_q[:, 0] == OUTLIER).tolist() == [100]
    np.testing.assert_array_equal(out_v, v)  # flagged, not erased: the spike is still there to be scored


def test_hampel_calls_no_shower_of_a_rain_gauge_an_outlier():
    """A dry gauge reads exactly 0 for most hours: its neighbourhoods and its steps have no spread, and every shower was
    an outlier (pvlib's TMY3 file: 266 of its precipitation hours, masked from training). Without spread nothing is
    flagged; a spike on a series that has spread still is."""
    rain = np.zeros(300)
    rain[[40, 41, 150, 220]] = [2.5, 0.8, 12.0, 0.3]
    v, q, fresh = _grid(rain)
    _, out_q = _step("hampel").apply(v, q, fresh, P.of(_step("hampel")))
    assert not (out_q == OUTLIER).any()
    noisy = np.zeros(300) + np.random.default_rng(3).normal(0, 0.1, 300)
    noisy[150] = 12.0
    v, q, fresh = _grid(noisy)
    _, out_q = _step("hampel").apply(v, q, fresh, P.of(_step("hampel")))
    assert np.flatnonzero(out_q[:, 0] == OUTLIER).tolist() == [150]


def test_hampel_keeps_the_peak_of_a_smooth_signal():
    t = np.arange(300)
    v, q, fresh = _grid(100 + 60 * np.sin(t / 8.0))
    _, out_q = _step("hampel").apply(v, q, fresh, P.of(_step("hampel")))
    assert not (out_q == OUTLIER).any()


def test_hampel_does_not_judge_stored_bins_again():
    x = _noise()
    x[100] += 5
    v, q, fresh = _grid(x)
    fresh[100] = False
    _, out_q = _step("hampel").apply(v, q, fresh, P.of(_step("hampel")))
    assert not (out_q == OUTLIER).any()


def test_zscore_and_kmeans_catch_a_spike():
    x = _noise(500)
    x[250] += 10
    for name in ("zscore", "kmeans"):
        v, q, fresh = _grid(x)
        out_v, out_q = _step(name).apply(v, q, fresh, P.of(_step(name)))
        assert 250 in np.flatnonzero(out_q[:, 0] == OUTLIER), name
        assert (out_q == OUTLIER).sum() <= 3, name
        np.testing.assert_array_equal(out_v, v)


def test_flatline_flags_long_runs_only():
    x = _noise()
    x[50:80] = x[50]  # 30 identical readings: stuck
    x[120:125] = x[120]  # 5: could be real
    v, q, fresh = _grid(x)
    out_v, out_q = _step("flatline").apply(v, q, fresh, P.of(_step("flatline")))
    assert np.flatnonzero(out_q[:, 0] == STUCK).tolist() == list(range(50, 80))
    np.testing.assert_array_equal(out_v, v)


def test_flatline_leaves_runs_at_a_rest_value_alone():
    """A rain gauge reads 0 for days between showers (pvlib's TMY3 file: 7,845 of 8,760 hourly precipitation readings
    were flagged stuck, and training masks those): runs at a rest value (0 by default) are not stuck; a run at
    any other value still is, and `rest_values=[]` flags zeros too."""
    x = _noise()
    x[10:60] = 0.0  # dry
    x[100:140] = x[100]  # stuck
    v, q, fresh = _grid(x)
    step = _step("flatline")
    _, out_q = step.apply(v, q, fresh, P.of(step))
    assert np.flatnonzero(out_q[:, 0] == STUCK).tolist() == list(range(100, 140))
    _, out_q = step.apply(v, q, fresh, CleanParams(options={"flatline": {"rest_values": []}}).of(step))
    assert np.flatnonzero(out_q[:, 0] == STUCK).tolist() == list(range(10, 60)) + list(range(100, 140))


def test_interpolate_fills_short_gaps_and_flags_long_ones():
    x = np.arange(60, dtype=float)
    x[10:15] = np.nan  # 5 bins: filled
    x[30:45] = np.nan  # 15 bins: longer than max_gap
    x[:2] = np.nan  # before the first reading: not a gap
    v, q, fresh = _grid(x)
    out_v, out_q = _step("interpolate").apply(v, q, fresh, P.of(_step("interpolate")))
    np.testing.assert_allclose(out_v[10:15, 0], np.arange(10, 15))
    assert (out_q[10:15, 0] == INTERPOLATED).all()
    assert (out_q[30:45, 0] == GAP).all() and np.isnan(out_v[30:45]).all()
    assert (out_q[:2, 0] == MISSING).all()


def test_interpolate_draws_no_line_from_a_flagged_reading():
    x = np.arange(20, dtype=float)
    v, q, fresh = _grid(x)
    v[5:8] = np.nan
    q[5:8] = MISSING
    v[8], q[8] = 1000.0, OUTLIER  # a spike cleaning flagged, its value kept
    out_v, out_q = _step("interpolate").apply(v, q, fresh, P.of(_step("interpolate")))
    assert (out_q[5:8, 0] == MISSING).all() and np.isnan(out_v[5:8, 0]).all()
    assert out_q[8, 0] == OUTLIER and out_v[8, 0] == 1000.0


def test_a_later_step_judges_with_what_earlier_steps_flagged_left_out():
    """z-score after Hampel: the spike Hampel flagged (value kept) does not widen the spread that hides a second one."""
    x = _noise(500)
    x[100] += 400
    x[300] += 2  # 20 sigma of the noise, but under 4 sigma of a spread that counted the 400 spike
    v, q, fresh = _grid(x)
    v1, q1 = _step("hampel").apply(v, q, fresh, P.of(_step("hampel")))
    assert q1[100, 0] == OUTLIER and v1[100, 0] == v[100, 0]
    q1[300, 0] = q[300, 0]  # leave the second one to the z-score step
    _, q2 = _step("zscore").apply(v1, q1, fresh, P.of(_step("zscore")))
    assert q2[300, 0] == OUTLIER and q2[100, 0] == OUTLIER


def _rows():
    return pd.DataFrame(
        {
            "ts": [3, 1, 2, 1, 2],
            "sensor_id": ["a"] * 5,
            "metric": ["t"] * 5,
            "value": [3.0, 1.0, 2.0, 1.5, 2.0],
            "file": np.int32([0, 0, 0, 1, 1]),
            "line": [2, 3, 4, 2, 3],
        }
    )


def test_dedupe_keeps_the_first_reading_of_a_timestamp():
    kept, removed, info = _step("dedupe").apply(_rows(), P.of(_step("dedupe")))
    assert kept["value"].tolist() == [3.0, 1.0, 2.0]
    assert removed["file"].tolist() == [1, 1] and info == {"duplicates": 2}


def test_sort_orders_series_and_counts_late_readings():
    kept, removed, info = _step("sort").apply(_rows(), P.of(_step("sort")))
    assert kept["ts"].tolist() == [1, 1, 2, 2, 3] and removed.empty
    assert info["out_of_order"] == 4


@pytest.mark.parametrize(
    "steps, message",
    [
        (["dedupe", "nope", "resample"], "unknown cleaning step"),
        (["dedupe", "hampel"], "'resample' exactly once"),
        (["hampel", "resample"], "wrong side"),
        (["resample", "dedupe"], "wrong side"),
        (["resample", "hampel", "hampel"], "listed twice"),
    ],
)
def test_plan_rejects_bad_pipelines_with_a_clear_message(steps, message):
    with pytest.raises(ValueError, match=message):
        cleaning.plan(steps)


def test_default_pipeline_and_halo():
    rows, grid = cleaning.plan(cleaning.DEFAULT_STEPS)
    assert [s.name for s in rows] == ["dedupe", "sort"]
    assert [s.name for s in grid] == ["hampel", "flatline", "interpolate"]
    assert cleaning.halo(cleaning.DEFAULT_STEPS, P) == max(P.of(_step("hampel")).half_window, P.of(_step("flatline")).min_run, P.of(_step("interpolate")).max_gap + 1) + 1


def test_each_step_has_its_own_settings_in_its_own_section_and_the_flat_names_of_before_still_land_there():
    from pydantic import ValidationError

    from flows.sensor_ingest import SensorIngestParams
    from lepton_flow.cli import build_parser, flow_params

    params = SensorIngestParams(hampel_sigmas=6, interpolate={"max_gap": 3})
    assert (params.hampel.sigmas, params.hampel.half_window, params.interpolate.max_gap) == (6, 7, 3)
    clean = params.clean_params()
    assert clean.of(_step("hampel")).sigmas == 6 and clean.of(_step("interpolate")).max_gap == 3 and clean.of(_step("dedupe")) == cleaning.NoOptions()
    assert CleanParams(max_gap=4).of(_step("interpolate")).max_gap == 4
    with pytest.raises(ValidationError, match="hampel.sigma"):
        SensorIngestParams(hampel={"sigma": 3})  # a misspelt setting is refused, not ignored
    with pytest.raises(ValidationError, match="interpolate.max_gap"):
        SensorIngestParams(interpolate={"max_gap": -1})
    # On the command line: --param STEP.SETTING=VALUE.
    args = build_parser().parse_args(["run", "sensor-ingest", "--param", "hampel.sigmas=6", "--param", "flatline.min_run=30"])
    got = flow_params(args)["ingest"]
    assert got.hampel.sigmas == 6 and got.flatline.min_run == 30
    # The form: a described section per step with settings, its settings described, after the reading fields.
    schema = SensorIngestParams.model_json_schema()
    sections = {name: schema["$defs"][schema["properties"][name]["$ref"].split("/")[-1]] for name in cleaning.step_options()}
    assert {"hampel", "flatline", "interpolate", "zscore", "kmeans"} <= set(sections)
    assert all(schema["properties"][name]["description"] and all(f.get("description") for f in section["properties"].values()) for name, section in sections.items())
    assert min(schema["properties"][name]["position"] for name in sections) > schema["properties"]["grid_seconds"]["position"]


def test_a_step_name_must_name_a_section():
    with pytest.raises(ValueError, match="lower case"):
        cleaning.register(cleaning.RowStep("Not-A-Name", lambda rows, options: (rows, rows.iloc[0:0], {})))


@pytest.mark.parametrize("name", [n for n, s in cleaning.registry().items() if s.kind == "grid"])
def test_every_grid_step_keeps_the_contract(name):
    """Same shapes and dtypes out, inputs untouched, NaN and empty input handled."""
    step = _step(name)
    x = _noise(120)
    x[[10, 11, 60]] = np.nan
    x[30] += 8
    v, q, fresh = _grid(np.column_stack([x, x[::-1]]))
    copies = v.copy(), q.copy(), fresh.copy()
    out_v, out_q = step.apply(v, q, fresh, P.of(step))
    assert out_v.shape == v.shape and out_q.shape == q.shape and out_q.dtype == np.uint8
    np.testing.assert_array_equal(v, copies[0])
    np.testing.assert_array_equal(q, copies[1])
    np.testing.assert_array_equal(fresh, copies[2])
    filled = np.isnan(v) & ~np.isnan(out_v)
    assert (out_q[filled] == INTERPOLATED).all()  # a missing value gets a number only as an interpolation
    assert not np.isinf(out_v).any()
    again_v, again_q = step.apply(out_v, out_q, fresh & (out_q == OBSERVED), P.of(step))
    np.testing.assert_array_equal(again_q, out_q)  # cleaning twice changes nothing
    empty_v, empty_q = step.apply(np.empty((0, 2)), np.empty((0, 2), np.uint8), np.empty((0, 2), bool), P.of(step))
    assert empty_v.shape == (0, 2) and empty_q.shape == (0, 2)


@pytest.mark.parametrize("name", [n for n, s in cleaning.registry().items() if s.kind == "rows"])
def test_every_row_step_keeps_the_contract(name):
    rows = _rows()
    before = rows.copy()
    kept, removed, info = _step(name).apply(rows, P.of(_step(name)))
    pd.testing.assert_frame_equal(rows, before)
    assert len(kept) + len(removed) == len(rows)
    assert list(kept.columns) == list(rows.columns)
    empty_kept, empty_removed, _ = _step(name).apply(rows.iloc[0:0], P.of(_step(name)))
    assert empty_kept.empty and empty_removed.empty


def _rough_series(n=900, seed=4) -> np.ndarray:
    """Two sensors: noise with spikes, a level shift, a stuck run, short and long gaps; every step finds something."""
    rng = np.random.default_rng(seed)
    x = 20 + rng.normal(0, 0.2, (n, 2))
    x[rng.choice(n, 12, replace=False)] += rng.choice([-6, 6], (12, 2))
    x[400:, 1] += 3
    x[150:180, 0] = x[150, 0]  # stuck
    x[[90, 91, 92, 505]] = np.nan
    x[600:640, 1] = np.nan  # longer than max_gap
    return x


@pytest.mark.parametrize("name", [n for n, s in cleaning.registry().items() if s.kind == "grid" and s.local])
def test_every_local_grid_step_keeps_its_halo_promise(name):
    """Cleaned in windows that each see the step's declared `halo` of neighbours on both sides, a series comes out as
    cleaned whole: the promise that lets cleaning run one Dask task per store window. Cut every 100 bins, 9 windows."""
    step = _step(name)
    h = step.halo(P.of(step))
    x = _rough_series()
    v = x.copy()
    q = np.where(np.isnan(v), MISSING, OBSERVED).astype(np.uint8)
    fresh = ~np.isnan(v)
    whole_v, whole_q = step.apply(v, q, fresh, P.of(step))
    assert (whole_q != q).any(), name  # the series gives the step something to do
    n, size = len(v), 100
    for start in range(0, n, size):
        lo, hi = max(0, start - h), min(n, start + size + h)
        part_v, part_q = step.apply(v[lo:hi], q[lo:hi], fresh[lo:hi], P.of(step))
        keep = slice(start - lo, start - lo + min(size, n - start))
        np.testing.assert_array_equal(part_q[keep], whole_q[start : start + size], err_msg=f"{name}: window at {start}, halo {h}")
        np.testing.assert_allclose(part_v[keep], whole_v[start : start + size], equal_nan=True, err_msg=f"{name}: window at {start}")


@pytest.mark.parametrize("name", [n for n, s in cleaning.registry().items() if s.kind == "grid" and not s.local])
def test_a_grid_step_that_judges_its_whole_window_says_so(name):
    """A step that is not local (its statistics span the window in view) declares it, and its description says so: what
    it flags depends on where the store's windows are cut, which a user choosing it should know."""
    step = _step(name)
    assert "window in view" in step.description, step.description
