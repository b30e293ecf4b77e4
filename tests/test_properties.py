"""Property-based tests (hypothesis): the readers account for every line, cleaning steps are stable.

- Any mix of good and bad CSV lines: readings + quarantined lines = data
  lines, each bad line is quarantined under its own number, each good line's
  value comes back.
- Dedupe, sort and interpolate applied to their own output change nothing.
- Outlier and stuck-value steps judge only bins that hold this run's
  readings: with none fresh, stored values and flags come back unchanged
  (why re-running an ingest over stored data never re-cleans it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lepton_flow.cleaning import GAP, INTERPOLATED, MISSING, OBSERVED, OUTLIER, STUCK, CleanParams, registry
from lepton_flow.formats import read_readings
from lepton_flow.sources import MISSING_CODES

PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

GOOD = st.builds(
    lambda i, v: ("good", f"2026-03-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z,s1,temperature,{v!r},C"),
    st.integers(0, 3599),
    # Missing-value codes (-9999, ...) far from the rest are no value by design (test_sources covers them).
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).filter(lambda v: v not in MISSING_CODES),
)
BAD = st.sampled_from(
    [
        ("bad", "not a time,s1,temperature,1.0,C"),
        ("bad", "2026-03-01T00:00:00Z,s1,temperature,twelve,C"),
        ("bad", "2026-03-01T00:00:00Z,s1,temperature"),
        ("bad", "2026-03-01T00:00:00Z,s1,temperature,1.0,C,extra"),
        ("bad", "2026-13-45T99:00:00Z,s1,temperature,1.0,C"),
    ]
)


@PROFILE
@given(st.lists(st.one_of(GOOD, BAD), min_size=1, max_size=60))
def test_csv_reader_accounts_for_every_line(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("prop") / "readings.csv"
    path.write_text("timestamp,sensor_id,metric,value,unit\n" + "\n".join(text for _, text in lines) + "\n")
    parsed = read_readings(str(path))
    assert parsed.readings + len(parsed.errors) == len(lines)
    bad_lines = [n + 2 for n, (kind, _) in enumerate(lines) if kind == "bad"]
    assert [e.line for e in parsed.errors] == bad_lines
    good_values = [float(text.split(",")[3]) for kind, text in lines if kind == "good"]
    assert parsed.table.column("value").to_pylist() == good_values
    assert parsed.table.column("line").to_pylist() == [n + 2 for n, (kind, _) in enumerate(lines) if kind == "good"]


ROWS = st.lists(
    st.tuples(st.integers(0, 40), st.sampled_from(["a", "b"]), st.sampled_from(["temperature", "humidity"]), st.floats(-50, 50, allow_nan=False)),
    min_size=0,
    max_size=80,
)


def _frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["ts", "sensor_id", "metric", "value"])
    frame["ts"] = frame["ts"].astype("int64") * 30_000_000_000
    frame["file"] = "f.csv"
    frame["line"] = np.arange(len(frame), dtype=np.int64) + 2
    return frame


@PROFILE
@given(ROWS)
def test_row_steps_applied_twice_change_nothing(rows):
    params = CleanParams()
    for name in ("dedupe", "sort"):
        once, removed_once, _ = registry()[name].apply(_frame(rows), params.of(registry()[name]))
        twice, removed_twice, _ = registry()[name].apply(once, params.of(registry()[name]))
        assert len(once) + len(removed_once) == len(rows)
        assert removed_twice.empty
        pd.testing.assert_frame_equal(once.reset_index(drop=True), twice.reset_index(drop=True))


def _grid(draw_values, quality_codes):
    values = np.array(draw_values, dtype=np.float64)[:, None]
    quality = np.array(quality_codes, dtype=np.uint8)[:, None]
    values[quality[:, 0] != OBSERVED] = np.nan
    return values, quality


SERIES = st.integers(5, 120).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(-100, 100, allow_nan=False), min_size=n, max_size=n),
        st.lists(st.sampled_from([OBSERVED] * 6 + [MISSING, MISSING, OUTLIER, STUCK]), min_size=n, max_size=n),
    )
)


@PROFILE
@given(SERIES, st.integers(0, 12))
def test_interpolation_applied_twice_changes_nothing(series, max_gap):
    values, quality = _grid(*series)
    params = CleanParams(options={"interpolate": {"max_gap": max_gap}})
    step = registry()["interpolate"]
    fresh = np.ones_like(values, bool)
    v1, q1 = step.apply(values, quality, fresh, params.of(step))
    v2, q2 = step.apply(v1, q1, fresh, params.of(step))
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(q1, q2)
    # Every bin is accounted for: observed ones kept, gaps filled or flagged.
    assert np.array_equal(v1[quality == OBSERVED], values[quality == OBSERVED])
    assert set(np.unique(q1[quality == MISSING])) <= {MISSING, INTERPOLATED, GAP}


@PROFILE
@given(SERIES, st.sampled_from(["hampel", "zscore", "kmeans", "flatline"]))
def test_outlier_steps_leave_bins_without_fresh_readings_alone(series, name):
    values, quality = _grid(*series)
    fresh = np.zeros_like(values, bool)
    out_values, out_quality = registry()[name].apply(values, quality, fresh, CleanParams().of(registry()[name]))
    np.testing.assert_array_equal(out_values, values)
    np.testing.assert_array_equal(out_quality, quality)
