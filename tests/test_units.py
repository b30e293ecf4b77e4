"""Units: readings in another unit of their metric's kind are converted; others are quarantined, never mixed under one label."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lepton_flow import units
from lepton_flow.settings import get_settings


@pytest.mark.parametrize(
    ("value", "unit", "to", "expected"),
    [
        (100.0, "km/h", "mph", 62.137119),
        (100.0, "km/h", "m/s", 27.777778),
        (10.0, "kn", "km/h", 18.52),
        (212.0, "F", "C", 100.0),
        (-40.0, "F", "C", -40.0),
        (0.0, "C", "K", 273.15),
        (300.0, "K", "F", 80.33),
        (101.325, "kPa", "hPa", 1013.25),
        (14.6959488, "psi", "hPa", 1013.25),
        (29.92, "inHg", "mbar", 1013.21),
        (1.0, "mi", "km", 1.609344),
        (1.0, "kWh", "J", 3.6e6),
        (0.8, "kW/m^2", "W/m2", 800.0),  # irradiance, as TMY3 and solar loggers write it
        (np.pi, "rad", "degrees", 180.0),
        (68.0, "Deg F", "Deg C", 20.0),  # Campbell loggers' units line
        (3.0, "hr", "min", 180.0),
    ],
)
def test_conversions_follow_the_definitions(value, unit, to, expected):
    assert units.convert(np.array([value]), unit, to)[0] == pytest.approx(expected, rel=1e-4)


def test_what_cannot_be_converted_says_why():
    assert units.why_not("mph", "km/h") is None and units.why_not(None, "km/h") is None and units.why_not("furlongs", "furlongs") is None
    assert units.why_not("hPa", "km/h") == "unit 'hPa' (pressure) cannot be converted to the metric's unit 'km/h' (speed)"
    assert "cannot be converted" in units.why_not("furlongs", "km/h")
    with pytest.raises(ValueError, match="pressure"):
        units.convert(np.array([1.0]), "hPa", "mph")
    assert units.stored_unit("km/h", "mph") == "km/h" and units.stored_unit(None, "mph") == "m/s" and units.stored_unit(None, "furlongs") == "furlongs"
    # Units written as words are read whatever their case; symbols keep theirs (`MM` is not millimetres).
    assert units.kind("Celsius") == "temperature" and units.kind("KNOTS") == "speed" and units.kind("MM") is None
    assert units.convert(np.array([212.0]), "Fahrenheit", "celsius")[0] == pytest.approx(100.0)


def test_a_run_with_speeds_in_kmh_and_mph_stores_one_speed(data_root):
    """speed[km/h] = 100 and speed[mph] = 62.1 were stored as 100 and 62.1 in one variable labelled mph: now both are 27.8 m/s,
    and a later file in hPa for speed is quarantined with the reason."""
    from lepton_flow import store
    from lepton_flow.cleaning import CleanParams
    from lepton_flow.sources import ReadOptions
    from tasks.clean_readings import clean_readings
    from tasks.commit_readings import commit_readings
    from tasks.discover_sensor_files import discover_sensor_files
    from tasks.plan_ingest_run import plan_ingest_run
    from tasks.ingest_sensor_file import ingest_sensor_file

    def ingest(folder):
        run = plan_ingest_run.fn(folder.name, 30)
        found = discover_sensor_files.fn(str(folder), run, ReadOptions())
        staged = [ingest_sensor_file.fn(f, run, ReadOptions()) for f in found.new]
        cleaned = clean_readings.fn(staged, run, ["dedupe", "sort", "resample"], CleanParams())
        commit_readings.fn(cleaned, run, staged)
        return staged

    times = pd.date_range("2026-03-01", periods=10, freq="30s", tz="UTC")
    first = data_root / "first"
    first.mkdir()
    pd.DataFrame({"timestamp": times, "speed[km/h]": 100.0}).to_csv(first / "car-a.csv", index=False)
    pd.DataFrame({"timestamp": times, "speed[mph]": 62.137119}).to_csv(first / "car-b.csv", index=False)
    ingest(first)
    url = get_settings().store
    ds = store.open_sensors(url).load()
    assert ds.speed.attrs["units"] == "m/s"
    np.testing.assert_allclose(ds.speed.sel(sensor=["car-a", "car-b"]).dropna("time").values, 27.777778, rtol=1e-5)

    later = data_root / "later"
    later.mkdir()
    pd.DataFrame({"timestamp": times + pd.Timedelta("1h"), "speed[hPa]": 1000.0, "speed[km/h]": 36.0}).to_csv(later / "car-c.csv", index=False)
    (validated,) = ingest(later)
    assert validated.failed == 10
    (quarantine_url,) = validated.quarantine_urls
    quarantined = pd.read_parquet(quarantine_url)
    assert set(quarantined["reason"]) == {"unit_mismatch (unit 'hPa' (pressure) cannot be converted to the metric's unit 'm/s' (speed))"}
    stored = store.open_sensors(url).load().speed.sel(sensor="car-c").dropna("time").values
    np.testing.assert_allclose(stored, 10.0, rtol=1e-5)  # 36 km/h, in the store's m/s



