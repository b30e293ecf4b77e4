"""The GX suite as data: loading, per-row reasons, run-time parameters."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lepton_flow import validation
from lepton_flow.settings import get_settings


def _frame(**overrides):
    base = {
        "timestamp": pd.to_datetime(["2026-01-01T00:00:00Z"] * 4),
        "sensor_id": ["s1", "s2", "s3", "s4"],
        "metric": ["temperature", "humidity", "pressure", "temperature"],
        "value": [20.0, 50.0, 1013.0, 21.0],
        "unit": ["C", "%", "hPa", "C"],
        "quality": [None] * 4,
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_clean_rows_pass():
    outcome = validation.validate_frame(_frame(), "sensor_readings")
    assert outcome.failed == 0 and outcome.success_rate == 1.0
    assert {e["expectation"] for e in outcome.expectations} >= {"value_present", "sensor_id_format", "temperature_unit"}


def test_celsius_and_percent_as_real_files_spell_them_pass():
    """bokeh's sea surface temperature file writes `temperature (celsius)`; Campbell loggers `Deg C`: every one of its
    19,226 readings failed `temperature_unit`, whose set held only `C`, `degC` and `°C`."""
    frame = _frame(unit=["celsius", "Percent", "hPa", "Deg C"])
    assert validation.validate_frame(frame, "sensor_readings").failed == 0


def test_each_failing_row_carries_the_names_of_its_expectations():
    frame = _frame(
        sensor_id=["s1", "??", "s3", "s4"],
        value=[np.nan, 50.0, 1013.0, 21.0],
        unit=["C", "%", "hPa", "F"],
        timestamp=pd.to_datetime(["2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "2300-01-01T00:00:00Z", "1960-01-01T00:00:00Z"]),
    )
    outcome = validation.validate_frame(frame, "sensor_readings")
    assert list(outcome.reasons) == ["value_present", "sensor_id_format", "timestamp_in_range", "timestamp_in_range; temperature_unit"]
    assert outcome.success_rate == 0.0
    by_name = {e["expectation"]: e for e in outcome.expectations}
    assert by_name["temperature_unit"]["unexpected"] == 1 and by_name["temperature_unit"]["first_row"] == 3
    # The stored result stays small: counts, not index lists.
    assert "unexpected_index_list" not in json.dumps(outcome.result_json)


def test_unknown_suite_names_the_file_and_the_known_ones():
    with pytest.raises(FileNotFoundError, match=r"no expectation suite .*nope\.json .*sensor_readings"):
        validation.validate_frame(_frame(), "nope")


def test_suite_name_must_match_its_file(tmp_path, monkeypatch):
    (tmp_path / "mine.json").write_text(json.dumps({"name": "other", "expectations": []}))
    monkeypatch.setenv("LEPTON_EXPECTATIONS_DIR", str(tmp_path))
    get_settings(fresh=True)
    validation.suite_spec.cache_clear()
    try:
        with pytest.raises(ValueError, match="does not match the file name"):
            validation.suite_spec("mine")
    finally:
        monkeypatch.delenv("LEPTON_EXPECTATIONS_DIR")
        get_settings(fresh=True)
        validation.suite_spec.cache_clear()


def test_data_docs_site_is_written(tmp_path):
    outcome = validation.validate_frame(_frame(unit=["F", "%", "hPa", "C"]), "sensor_readings")
    index = validation.build_data_docs(str(tmp_path), [("run-1", "file-a", outcome.result_json)], "sensor_readings")
    assert index.endswith("index.html")
    pages = list(tmp_path.rglob("file-a.html"))
    assert pages and "temperature" in pages[0].read_text()


def test_data_docs_render_only_the_new_results_and_index_the_latest(tmp_path, monkeypatch):
    """Each run renders its own pages; GX's default rebuilt every page of every earlier run."""
    from pathlib import Path

    outcome = validation.validate_frame(_frame(), "sensor_readings")
    index = Path(validation.build_data_docs(str(tmp_path), [("run-1", "file-a", outcome.result_json)], "sensor_readings"))
    first = next(tmp_path.rglob("file-a.html"))
    first.unlink()  # were earlier pages rebuilt, it would come back
    monkeypatch.setattr(validation, "DATA_DOCS_LIMIT", 2)
    validation.build_data_docs(str(tmp_path), [("run-2", "file-b", outcome.result_json), ("run-2", "file-c", outcome.result_json)], "sensor_readings")
    assert not first.exists()
    assert {p.name for p in tmp_path.rglob("*.html") if "validations" in p.parts} == {"file-b.html", "file-c.html"}
    listed = index.read_text()
    assert "file-b" in listed and "file-c" in listed and "file-a" not in listed  # the latest two only


def test_dictionary_columns_are_checked_per_combination_with_the_same_verdicts():
    """Categorical columns take the fast path; reasons and Data Docs counts equal the row-by-row run."""
    rng = np.random.default_rng(5)
    n = 5000
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime("2026-01-01T00:00:00Z") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
            "sensor_id": rng.choice(["s1", "s2", "??", "ok-3", None], n),
            "metric": rng.choice(["temperature", "humidity", "pressure", "Bad Metric"], n),
            "value": np.where(rng.random(n) < 0.02, np.nan, rng.normal(20, 5, n)),
            "unit": rng.choice(["C", "F", "%", "hPa", None], n),
            "quality": [None] * n,
        }
    )
    plain = validation.validate_frame(frame, "sensor_readings")
    fast = validation.validate_frame(frame.astype({c: "category" for c in ("sensor_id", "metric", "unit", "quality")}), "sensor_readings")
    assert plain.failed > 0
    assert list(fast.reasons) == list(plain.reasons)
    assert fast.expectations == plain.expectations

    def counts(result):
        return [(r["expectation_config"]["meta"]["name"], r["result"].get("element_count"), r["result"].get("unexpected_count"), r["result"].get("missing_count")) for r in result["results"]]

    assert counts(fast.result_json) == counts(plain.result_json)
    assert fast.result_json["statistics"] == plain.result_json["statistics"]


def test_the_same_dictionary_values_are_judged_once_and_each_frame_keeps_its_own_verdicts(monkeypatch):
    """The files of a run hold the same sensors, metrics and units: GX judges such a combination of values once per
    process. A later frame with the same values gets the verdicts and Data Docs counts of its own rows; a frame
    bringing a new value is judged again."""
    rng = np.random.default_rng(7)
    n = 3000
    calls = []
    run = validation._run
    monkeypatch.setattr(validation, "_run", lambda frame, suite: calls.append(len(frame)) or run(frame, suite))
    monkeypatch.setattr(validation, "_VALUE_RESULTS", type(validation._VALUE_RESULTS)())

    def frame(units):
        return pd.DataFrame(
            {
                "timestamp": pd.to_datetime("2026-01-01T00:00:00Z") + pd.to_timedelta(np.arange(n), unit="s"),
                "sensor_id": np.tile(["s1", "s2", "??"], n // 3),
                "metric": np.repeat(["temperature", "humidity", "pressure"], n // 3),
                "value": np.where(rng.random(n) < 0.05, np.nan, rng.normal(20, 5, n)),
                "unit": units,
                "quality": [None] * n,
            }
        )

    def check(f):
        plain = validation.validate_frame(f, "sensor_readings")
        fast = validation.validate_frame(f.astype({c: "category" for c in ("sensor_id", "metric", "unit", "quality")}), "sensor_readings")
        assert list(fast.reasons) == list(plain.reasons) and fast.expectations == plain.expectations
        assert [r["result"].get("unexpected_count") for r in fast.result_json["results"]] == [r["result"].get("unexpected_count") for r in plain.result_json["results"]]
        return fast

    units = np.repeat(["C", "%", "hPa"], n // 3)
    check(frame(units))
    calls.clear()
    second = check(frame(units))  # other values and missing readings, the same sensors, metrics and units
    assert second.failed > 0
    assert len(calls) == 2  # the plain run's one suite, then the fast run's row suite: its values' verdicts were known
    calls.clear()
    units[-1] = "F"  # a pressure in F: a new combination
    third = check(frame(units))
    assert "pressure_unit" in third.reasons[-1]
    assert len(calls) == 3  # the values judged again


def test_a_condition_on_a_numeric_column_keeps_an_expectation_per_row(tmp_path, monkeypatch):
    """Units checked only where depth > 100: the verdict depends on a numeric column, so it cannot be taken per combination."""
    suite = {
        "name": "custom",
        "expectations": [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "unit", "value_set": ["C"], "row_condition": "depth>100", "condition_parser": "pandas"},
                "meta": {"name": "hot_in_celsius"},
            }
        ],
    }
    (tmp_path / "custom.json").write_text(json.dumps(suite))
    monkeypatch.setenv("LEPTON_EXPECTATIONS_DIR", str(tmp_path))
    get_settings(fresh=True)
    validation.suite_spec.cache_clear()
    try:
        frame = _frame(unit=["F", "F", "C", "F"]).assign(depth=[20.0, 150.0, 150.0, 21.0]).astype({"unit": "category", "sensor_id": "category", "metric": "category"})
        outcome = validation.validate_frame(frame, "custom")
        assert list(outcome.reasons) == [None, "hot_in_celsius", None, None]
    finally:
        monkeypatch.delenv("LEPTON_EXPECTATIONS_DIR")
        get_settings(fresh=True)
        validation.suite_spec.cache_clear()


XSS = '<img src=x onerror="document.title=\'pwned\'">'


def test_values_from_the_data_reach_data_docs_as_text_never_as_markup(tmp_path):
    """A quarantined sensor id that is an HTML payload is shown in the Data Docs page as text, and runs nothing in a browser."""
    from playwright.sync_api import sync_playwright

    from tests.stack import chromium_launch

    outcome = validation.validate_frame(_frame(sensor_id=["s1", XSS, "s3", "<script>document.title='pwned'</script>"], unit=[XSS, "%", "hPa", "C"]), "sensor_readings")
    assert outcome.failed == 3  # two sensor ids and a unit
    validation.build_data_docs(str(tmp_path / "gx"), [("run-1", "file-a", outcome.result_json)], "sensor_readings")
    page_file = next((tmp_path / "gx").rglob("file-a.html"))
    text = page_file.read_text()
    assert "<img src=x" not in text and "<script>document.title" not in text and "&lt;img src=x" in text
    import tempfile
    from pathlib import Path

    scratch = Path(tempfile.mkdtemp(prefix="lf-"))  # Chromium's socket path must stay short
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**chromium_launch(scratch))
        page = browser.new_page()
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort())
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        title, body = page.title(), page.inner_text("body")
        browser.close()
    __import__("shutil").rmtree(scratch, ignore_errors=True)
    assert title != "pwned" and "<img src=x onerror=" in body  # shown as the text it is


def test_an_unreadable_suite_in_the_data_docs_project_is_written_anew(tmp_path):
    """A full disk left the GX project's copy of the suite empty: every later run failed on its JSON; it is rebuilt from expectations/."""
    outcome = validation.validate_frame(_frame(), "sensor_readings")
    validation.build_data_docs(str(tmp_path), [("run-1", "file-a", outcome.result_json)], "sensor_readings")
    copy = tmp_path / "gx" / "expectations" / "sensor_readings.json"
    assert json.loads(copy.read_text())["name"] == "sensor_readings"
    copy.write_text("")
    validation.build_data_docs(str(tmp_path), [("run-2", "file-b", outcome.result_json)], "sensor_readings")
    assert json.loads(copy.read_text())["name"] == "sensor_readings" and list(tmp_path.rglob("file-b.html"))


def test_outputs_appear_whole_or_not_at_all(tmp_path):
    """A write that fails half-way leaves the previous file (or none), never a torn one."""
    from lepton_flow.sources import open_output

    target = tmp_path / "out" / "result.json"
    with open_output(str(target), "w") as fh:
        fh.write('{"ok": 1}')
    with pytest.raises(OSError):
        with open_output(str(target), "w") as fh:
            fh.write('{"half')
            raise OSError(28, "No space left on device")
    assert json.loads(target.read_text()) == {"ok": 1} and [p.name for p in target.parent.iterdir()] == ["result.json"]
