"""`sensor_ingest` end to end under the Prefect test server, on a real Dask cluster."""

from __future__ import annotations

import gzip
import hashlib
import json
import importlib.resources
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from flows.sensor_ingest import SensorIngestParams
from lepton_flow import store
from lepton_flow.cleaning import GAP, INTERPOLATED, OBSERVED, OUTLIER, STUCK
from lepton_flow.settings import get_settings

pytestmark = pytest.mark.slow


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _quarantine(data_root: Path) -> pd.DataFrame:
    files = sorted((data_root / "quarantine").rglob("*.parquet"))
    return pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True) if files else pd.DataFrame()


def _quality(ds, fault) -> np.ndarray:
    times = pd.to_datetime(fault["timestamps"]).tz_localize(None)
    return ds[f"{fault['metric']}_quality"].sel(sensor=fault["sensor"], time=times).values


def _values(ds, fault) -> np.ndarray:
    times = pd.to_datetime(fault["timestamps"]).tz_localize(None)
    return ds[fault["metric"]].sel(sensor=fault["sensor"], time=times).values


def test_demo_ingest_accounts_for_every_reading_and_catches_every_fault(ingest_flow, demo_copy, data_root):
    demo, ledger = demo_copy
    state = ingest_flow(SensorIngestParams(source=str(demo)), return_state=True)
    assert state.is_completed(), state.message
    summary = state.result()
    accounts = {Path(f.file).name: f for f in summary.files}
    assert len(accounts) == len(list(demo.iterdir()))
    for name, acc in accounts.items():
        assert acc.balanced, f"{name}: {acc}"
    totals = summary.totals()
    assert totals["records"] == totals["stored"] + totals["quarantined"] + totals["duplicates"] + totals["outliers"]
    assert totals["stored"] > 300_000

    ds = store.open_sensors(get_settings().store).load()
    quarantine = _quarantine(data_root)
    for fault in ledger["faults"]:
        kind = fault["kind"]
        if kind == "spike":
            # Flagged, not erased: the spike's value is stored, for scoring to judge.
            assert (_quality(ds, fault) == OUTLIER).all() and np.isfinite(_values(ds, fault)).all(), fault
        elif kind == "stuck":
            stuck = _values(ds, fault)
            assert (_quality(ds, fault) == STUCK).all() and np.isfinite(stuck).all() and (stuck == stuck[0]).all(), fault
        elif kind == "short_gap":
            assert (_quality(ds, fault) == INTERPOLATED).all(), fault
            times = pd.to_datetime(fault["timestamps"]).tz_localize(None)
            assert np.isfinite(ds[fault["metric"]].sel(sensor=fault["sensor"], time=times).values).all()
        elif kind == "long_gap":
            assert (_quality(ds, fault) == GAP).all(), fault
        elif kind == "late_file":
            assert (_quality(ds, fault) == OBSERVED).all(), fault
            # The re-sent rows were already in another file of the run: one copy is kept.
            assert accounts[fault["file"]].duplicates + accounts["readings_p0_g0.csv"].duplicates >= fault["resent"]
        elif kind == "duplicates":
            assert accounts[fault["file"]].duplicates == fault["count"], fault
        elif kind == "out_of_order":
            assert summary.info["out_of_order"] >= 1
            assert accounts[fault["file"]].duplicates == 0
        elif kind == "unparseable":
            rows = quarantine[(quarantine["file"].str.endswith(fault["file"])) & quarantine["reason"].str.startswith("parse_error")]
            assert sorted(rows["line"]) == sorted(fault["lines"]), fault
        elif kind == "wrong_unit":
            rows = quarantine[quarantine["file"].str.endswith(fault["file"]) & (quarantine["reason"] == fault["reason"])]
            assert len(rows) == fault["count"]
            assert set(rows["unit"]) == {"F"}
        elif kind == "unknown_sensor":
            rows = quarantine[quarantine["reason"] == fault["reason"]]
            assert len(rows) == fault["count"]
        elif kind == "empty_file":
            assert accounts[fault["file"]].status == "empty"
            assert accounts[fault["file"]].records == 0
        else:
            pytest.fail(f"fault kind {kind} has no check")

    # Nothing else was called an outlier: every removed bin is an injected fault.
    spikes = sum(1 for f in ledger["faults"] if f["kind"] == "spike")
    assert sum(h.get("outlier_flagged", 0) for h in summary.quality.values()) == spikes

    # Commit names the run and its files; the docs site and staging cleanup happened.
    last = store.history(get_settings().store, limit=1)[0]
    assert summary.run_id in last["message"] and "readings_p0_g0.csv" in last["message"]
    # The commit records counts; the files and their hashes are the ledger's entries of this run, in the same commit.
    entries = store.ledger.entries(get_settings().store, last["id"])
    assert last["metadata"] == {"flow_run_id": summary.run_id, "files": sum(1 for r in entries.values() if r["run"] == summary.run_id)}
    # CSV and JSON Lines files are known by their place, read to their end: a later run reads only what is appended.
    places = [r for k, r in entries.items() if k.startswith(store.ledger.PLACE)]
    assert places and all(r["offset"] == Path(demo / Path(r["file"]).name).stat().st_size and r["prefix"] == r["sha256"] for r in places)
    assert summary.docs_url and Path(summary.docs_url).is_file()

    # The run's table artifacts, as the Prefect API holds them.
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["sensor-ingest-accounting", "sensor-ingest-validation", "sensor-ingest-summary"])),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])),
        )
    by_key = {a.key: a for a in artifacts}
    assert set(by_key) == {"sensor-ingest-accounting", "sensor-ingest-validation", "sensor-ingest-summary"}
    table = by_key["sensor-ingest-accounting"].data
    table = json.loads(table) if isinstance(table, str) else table
    assert len(table) == len(accounts) and all(row["balanced"] for row in table)
    assert {row["file"] for row in table} == set(accounts)  # short names: the columns after them stay on screen
    # Validation: one row per file, files with failures first, each naming the expectations that failed.
    checks = by_key["sensor-ingest-validation"].data
    checks = json.loads(checks) if isinstance(checks, str) else checks
    failing = [row["failed_readings"] for row in checks]
    assert len(checks) == len({row["file"] for row in checks}) and failing == sorted(failing, reverse=True) and failing[0] > 0
    assert checks[0]["failed_expectations"] and any("temperature_unit (" in row["failed_expectations"] for row in checks)
    assert all(row["failed_expectations"] == "" for row in checks if not row["failed_readings"])
    assert summary.snapshot_id in by_key["sensor-ingest-summary"].data
    assert not (data_root / "staging" / summary.run_id).exists()

    # Re-running on the same files adds nothing and leaves the store byte-identical.
    before = _tree_digest(data_root / "store")
    again = ingest_flow(SensorIngestParams(source=str(demo)), return_state=True)
    assert again.is_completed()
    rerun = again.result()
    assert rerun.files == [] and len(rerun.skipped) == len(accounts)
    assert rerun.snapshot_id == summary.snapshot_id
    assert _tree_digest(data_root / "store") == before


def test_late_file_merges_into_its_window_in_a_later_run(ingest_flow, demo_copy, data_root):
    demo, ledger = demo_copy
    late = next(f for f in ledger["faults"] if f["kind"] == "late_file")
    first = ingest_flow(SensorIngestParams(source=str(demo / "readings_*")), return_state=True).result()
    url = get_settings().store
    before = store.open_sensors(url).load()
    assert (_quality(before, late) == GAP).all()  # 60 bins: longer than max_gap

    second = ingest_flow(SensorIngestParams(source=str(demo)), return_state=True).result()
    assert sorted(Path(f.file).name for f in second.files) == ["empty.csv", "late_readings.csv"]
    acc = next(f for f in second.files if f.file.endswith("late_readings.csv"))
    assert acc.balanced
    assert acc.duplicates == late["resent"]  # already stored by the first run
    assert acc.stored == len(late["timestamps"])
    after = store.open_sensors(url).load()
    assert (_quality(after, late) == OBSERVED).all()
    # Everything the first run stored is unchanged outside the late window's bins.
    times = pd.to_datetime(late["timestamps"]).tz_localize(None)
    mask = np.ones(before.sizes["time"], bool)
    mask[np.searchsorted(before.time.values, times.values)] = False
    for var in ("temperature", "humidity", "pressure"):
        for name in (var, f"{var}_quality"):
            np.testing.assert_array_equal(before[name].values[mask], after[name].values[: before.sizes["time"]][mask])
    assert len(store.history(url)) == 3  # init, first run, late run
    assert second.snapshot_id != first.snapshot_id


def test_real_glucose_monitor_series(ingest_flow, data_root):
    src = importlib.resources.files("bokeh_sampledata") / "_data/CGM.csv.gz"
    source = data_root / "cgm"
    source.mkdir()
    shutil.copy(src, source / "CGM.csv.gz")
    with gzip.open(src, "rt") as fh:
        raw = pd.read_csv(fh)
    # No grid asked for: a new store takes the monitor's own 5-minute spacing (its clock drifts off it by a minute or two).
    params = SensorIngestParams(source=str(source), sensor_id="cgm-patient-1")
    state = ingest_flow(params, return_state=True)
    assert state.is_completed(), state.message
    assert store.state(get_settings().store).grid_seconds == 300
    summary = state.result()
    (acc,) = summary.files
    assert acc.balanced
    # One reading per numeric cell: empty and "nil" cells are no reading.
    assert acc.records == sum(int(pd.to_numeric(raw[c], errors="coerce").notna().sum()) for c in ("isig", "glucose"))
    assert acc.outliers < 0.005 * acc.records  # a real, smooth signal is not mistaken for spikes
    ds = store.open_sensors(get_settings().store).load()
    assert list(ds.sensor.values) == ["cgm-patient-1"]
    assert set(ds.data_vars) >= {"glucose", "isig", "glucose_quality"}
    # Readings go to the nearest point of the 5-minute grid (the monitor's clock is off it by a minute or two).
    step = 300 * 10**9
    ns = pd.to_datetime(raw["datetime"]).astype("datetime64[ns]").astype("int64").to_numpy()
    grid = pd.to_datetime((ns + step // 2) // step * step)
    assert ds.time.values[0] <= grid.min().to_datetime64() and ds.time.values[-1] == grid.max().to_datetime64()
    # Observed bins hold the mean of the monitor's readings in that bin.
    observed = ds["glucose_quality"].sel(sensor="cgm-patient-1").values == OBSERVED
    stored = pd.Series(ds["glucose"].sel(sensor="cgm-patient-1").values[observed], index=ds.time.values[observed])
    glucose = pd.DataFrame({"t": raw["datetime"], "grid": grid, "v": pd.to_numeric(raw["glucose"], errors="coerce")}).dropna()
    truth = glucose.drop_duplicates("t", keep="first").groupby("grid")["v"].mean()  # dedupe keeps the first of a repeated timestamp
    common = stored.index.intersection(truth.index)
    assert len(common) > 0.95 * len(truth)
    np.testing.assert_allclose(stored.loc[common].values, truth.loc[common].values.astype("float32"), rtol=1e-6)
    # The monitor has real gaps: short ones were filled, long ones flagged.
    quality = ds["glucose_quality"].values
    assert (quality == INTERPOLATED).any() and (quality == GAP).any()


def test_a_rejected_file_fails_the_run_but_not_the_other_files(ingest_flow, data_root):
    source = data_root / "src"
    source.mkdir()
    times = pd.date_range("2026-01-01", periods=200, freq="30s", tz="UTC")
    good = pd.DataFrame({"timestamp": times, "sensor_id": "ok-1", "metric": "temperature", "value": 20.0 + np.arange(200) * 0.01, "unit": "C"})
    good.to_csv(source / "good.csv", index=False)
    bad = good.assign(sensor_id="bad-1", unit=["F"] * 150 + ["C"] * 50)
    bad.to_csv(source / "bad.csv", index=False)
    state = ingest_flow(SensorIngestParams(source=str(source)), return_state=True)
    assert state.is_failed()
    assert "bad.csv" in state.message and "temperature_unit" in state.message and "line 2" in state.message
    url = get_settings().store
    current = store.state(url)
    assert current.sensors == ["ok-1"]
    names = {v["file"].rsplit("/", 1)[-1] for v in store.ledger.entries(current.url, current.snapshot_id).values()}
    assert names == {"good.csv"}  # the rejected file will be tried again next run
    quarantine = _quarantine(data_root)
    assert (quarantine["reason"] == "temperature_unit").sum() == 150


def test_two_ingests_started_at_once_both_complete_and_store_each_file_once(ingest_flow, demo_copy, data_root):
    """Without the store lock both runs plan on the same snapshot and the second commit is refused;
    with it the second waits, plans on the first one's commit and skips the files it ingested."""
    from concurrent.futures import ThreadPoolExecutor

    demo, _ = demo_copy
    src = data_root / "some"
    src.mkdir()
    for path in sorted(demo.glob("readings_p0_*")):  # csv, parquet and gzip
        shutil.copy(path, src / path.name)
    assert len(list(src.iterdir())) == 4
    before = len(store.history(get_settings().store, limit=50)) if store.exists(get_settings().store) else 0
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(ingest_flow, SensorIngestParams(source=str(src)), return_state=True) for _ in range(2)]
        states = [f.result() for f in futures]
    assert all(s.is_completed() for s in states), [s.message for s in states]
    summaries = sorted((s.result() for s in states), key=lambda r: -len(r.files))
    first, second = summaries
    assert len(first.files) == 4 and second.files == [] and len(second.skipped) == 4
    assert second.snapshot_id == first.snapshot_id
    st = store.state(get_settings().store)
    assert store.ledger.count(st.url, st.snapshot_id) == 4
    # One commit for the data (after the repository's first), not two.
    assert len(store.history(get_settings().store, limit=50)) - before == 2


def _csv(path: Path, start: str, n: int, sensor: str = "s1") -> Path:
    times = pd.date_range(start, periods=n, freq="30s", tz="UTC")
    pd.DataFrame({"timestamp": times, "sensor_id": sensor, "metric": "temperature", "value": 20.0 + np.arange(n) % 5, "unit": "C"}).to_csv(path, index=False)
    return path


def test_a_clock_reset_is_quarantined_and_an_early_file_is_backfilled(ingest_flow, data_root):
    """A reading at 1970 in a file of this year's is quarantined (it made 60 M time steps); a file from before the store's first
    time is stored before it (backfill), the chunks the store held moved by reference, none written again."""
    src = data_root / "src"
    src.mkdir()
    reset = _csv(src / "reset.csv", "2026-03-01", 50)
    with open(reset, "a") as fh:
        fh.write("1970-01-01T00:05:00Z,s1,temperature,21.0,C\n")
    first = ingest_flow(SensorIngestParams(source=str(src)), return_state=True)
    assert first.is_completed(), first.message
    account = first.result().files[0]
    assert account.stored == 50 and account.quarantined == 1 and account.balanced
    assert "over 365 days from the rest of the file" in _quarantine(data_root)["reason"].iloc[0]
    url = get_settings().store
    assert store.state(url).length <= 4096  # one window, not 56 years of them

    later = data_root / "later"
    later.mkdir()
    _csv(later / "early.csv", "2025-06-01", 20, sensor="old")
    _csv(later / "good.csv", "2026-03-01T01:00:00Z", 20, sensor="s2")
    before = store.open_sensors(url).load()
    scores = store.ScoreWriter(url, "m", store.state(url).snapshot_id)  # scores over the grid as it is, to follow it back
    march_row = int(pd.Timestamp("2026-03-01", tz="UTC").timestamp()) // 30 - store.state(url).start_bin
    scores.write(march_row, np.full((50, 1), 0.5), np.zeros((50, 1)), np.array([0]))
    scores.commit("scores", {}, {})
    chunks = Path(url) / "chunks"
    held = {p.name: p.stat().st_mtime_ns for p in chunks.iterdir()}
    second = ingest_flow(SensorIngestParams(source=str(later)), return_state=True)
    assert second.is_completed(), second.message
    summary = second.result()
    accounts = {Path(f.file).name: f for f in summary.files}
    assert accounts["good.csv"].stored == 20 and accounts["early.csv"].stored == 20 and accounts["early.csv"].status == "ok"
    st = store.state(url)
    assert {"s1", "s2", "old"} <= set(st.sensors) and pd.Timestamp(st.start_bin * 30, unit="s", tz="UTC") <= pd.Timestamp("2025-06-01", tz="UTC")
    after = store.open_sensors(url).load()
    old = after.temperature.sel(sensor="old", time=slice("2025-06-01", "2025-06-01T00:09:30")).to_numpy()
    np.testing.assert_array_equal(old, 20.0 + np.arange(20) % 5)
    march = slice("2026-03-01", "2026-03-01T00:24:30")
    np.testing.assert_array_equal(after.temperature.sel(sensor="s1", time=march).to_numpy(), before.temperature.sel(sensor="s1", time=march).to_numpy())
    assert all((chunks / name).stat().st_mtime_ns == t for name, t in held.items())  # nothing the store held was written again
    store.ScoreWriter(url, "m", st.snapshot_id).commit("scores follow", {}, {})  # the scores group makes the same room
    followed = store.open_scores(url, "m").load()
    assert followed.sizes["time"] == after.sizes["time"] and (followed.time.to_numpy() == after.time.to_numpy()).all()
    assert (followed.score.sel(sensor="s1", time=march).to_numpy() == 0.5).all()


def test_an_append_writes_the_chunks_it_changes_and_no_others(ingest_flow, data_root):
    """A file continuing the series 100 bins past a store chunk's boundary writes that chunk only: its neighbour is
    cleaned again for what the new readings change at its edge (nothing here) and left as the store holds it, so
    scoring, which restarts at the first chunk a snapshot wrote, does not score it again. Readings that close a short
    gap across a boundary change the neighbour's last bins (interpolated): that neighbour is written too."""
    from lepton_flow.cleaning import INTERPOLATED

    src = data_root / "src"
    src.mkdir()
    url = get_settings().store
    first_bin = int(pd.Timestamp("2026-03-01", tz="UTC").timestamp()) // 30
    boundary = -(-(first_bin + 300) // 4096) * 4096
    at = lambda b: pd.Timestamp(b * 30, unit="s", tz="UTC").isoformat()  # noqa: E731

    bins = {}

    def ingest(name: str, start: int, n: int) -> str:
        _csv(src / name, at(start), n)
        state = ingest_flow(SensorIngestParams(source=str(src)), return_state=True)
        assert state.is_completed(), state.message
        bins[name] = sum(state.result().quality["temperature"].values())  # the run's quality codes: of the bins it wrote
        return store.state(url).snapshot_id

    def written(before: str, after: str) -> dict:
        return {p: sorted(c) for p, c in store.repo.changed_chunks(url, before, after).items() if p.startswith("/sensors/temperature")}

    snap = ingest("a.csv", first_bin, boundary + 100 - first_bin)  # to 99 bins past the boundary
    chunk = (boundary - store.state(url).start_bin) // 4096
    after = ingest("b.csv", boundary + 100, 200)
    assert written(snap, after) == {"/sensors/temperature": [(chunk, 0)], "/sensors/temperature_quality": [(chunk, 0)]}
    assert bins["b.csv"] == 300  # the chunk's bins up to the last reading, not the chunk before's too
    # The next chunk's boundary: readings up to 4 bins before it, then from 1 bin after it.
    edge = boundary + 4096
    snap = ingest("c.csv", boundary + 300, edge - 4 - (boundary + 300) + 1)
    after = ingest("d.csv", edge + 1, 50)
    assert written(snap, after) == {p: [(chunk, 0), (chunk + 1, 0)] for p in ("/sensors/temperature", "/sensors/temperature_quality")}
    quality = store.open_sensors(url).load()["temperature_quality"].values[:, 0]
    row = edge - store.state(url).start_bin
    assert (quality[row - 3 : row + 1] == INTERPOLATED).all()
