"""The store: round trips, growth along every axis, partial windows, conflicts."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
import zarr

from lepton_flow import store
from tests.helpers import GRID, cleaned_block as _block

W = 8
NS = 1_000_000_000


def _expected(start_bin, values, sensors, units=None) -> xr.Dataset:
    length = next(iter(values.values())).shape[0]
    time = ((np.arange(length) + start_bin) * GRID * NS).astype("datetime64[ns]")
    data = {}
    for m, v in values.items():
        data[m] = (("time", "sensor"), v.astype("float32"), {"units": (units or {}).get(m, "C")})
        data[f"{m}_quality"] = (("time", "sensor"), np.where(np.isnan(v), 0, 1).astype("uint8"))
    return xr.Dataset(data, coords={"time": time, "sensor": np.array(sensors, dtype=object)})


def _read(url):
    ds = store.open_sensors(url).load()
    ds = ds.assign_coords(sensor=ds.sensor.astype(object))
    for name in ds.data_vars:
        ds[name].attrs = {k: v for k, v in ds[name].attrs.items() if k == "units"}
    ds.attrs = {}
    return ds


def test_round_trip_of_a_first_commit(tmp_path):
    url = str(tmp_path / "store")
    rng = np.random.default_rng(1)
    values = {"temperature": rng.normal(20, 1, (16, 2))}
    values["temperature"][3, 1] = np.nan
    snap = store.commit_sensors(url, _block(tmp_path / "b.zarr", 8 * 1000, values, ["s1", "s2"]), None, "first", {"run": "1"}, {"h1": {"file": "a"}})
    xr.testing.assert_identical(_read(url), _expected(8000, values, ["s1", "s2"]))
    state = store.state(url)
    assert state.snapshot_id == snap and state.sensors == ["s1", "s2"] and store.ledger.entries(url) == {"h1": {"file": "a"}}
    assert store.history(url)[0]["metadata"] == {"run": "1"}


def test_later_commits_grow_time_sensors_and_metrics(tmp_path):
    url = str(tmp_path / "store")
    first = {"temperature": np.full((8, 1), 1.0)}
    s1 = store.commit_sensors(url, _block(tmp_path / "a.zarr", 0, first, ["s1"]), None, "1", {}, {"h1": {}})
    # Second run: a new sensor, a new metric, and data in window 2 (window 1 untouched).
    second = {"temperature": np.full((8, 2), 2.0), "humidity": np.full((8, 2), 50.0)}
    s2 = store.commit_sensors(url, _block(tmp_path / "b.zarr", 16, second, ["s1", "s2"]), s1, "2", {}, {"h2": {}})
    ds = _read(url)
    assert ds.sizes == {"time": 24, "sensor": 2}
    assert list(ds.sensor.values) == ["s1", "s2"]
    np.testing.assert_array_equal(ds.temperature.values[:8, 0], 1.0)
    assert np.isnan(ds.temperature.values[:8, 1]).all() and np.isnan(ds.temperature.values[8:16]).all()
    assert (ds.temperature_quality.values[8:16] == 0).all()
    np.testing.assert_array_equal(ds.temperature.values[16:], 2.0)
    assert np.isnan(ds.humidity.values[:16]).all() and (ds.humidity.values[16:] == 50).all()
    state = store.state(url)
    assert state.metrics == ["temperature", "humidity"] and store.ledger.keys(url) == {"h1", "h2"}
    assert [c["id"] for c in store.history(url)][:2] == [s2, s1]
    # Earlier snapshots stay readable as they were.
    old = store.open_sensors(url, snapshot_id=s1).load()
    assert old.sizes == {"time": 8, "sensor": 1}


def test_only_the_cleaned_windows_are_written(tmp_path):
    url = str(tmp_path / "store")
    base = {"temperature": np.arange(32, dtype=float).reshape(32, 1)}
    s1 = store.commit_sensors(url, _block(tmp_path / "a.zarr", 0, base, ["s1"]), None, "1", {}, {})
    # A block spanning windows 0..3 of which only 0 and 3 were cleaned: 1 and 2 must survive.
    patch = {"temperature": np.full((32, 1), -1.0)}
    store.commit_sensors(url, _block(tmp_path / "b.zarr", 0, patch, ["s1"], windows=[0, 3]), s1, "2", {}, {})
    got = _read(url).temperature.values[:, 0]
    np.testing.assert_array_equal(got[:8], -1)
    np.testing.assert_array_equal(got[8:24], np.arange(8, 24))
    np.testing.assert_array_equal(got[24:], -1)


def test_a_commit_on_a_moved_store_is_refused(tmp_path):
    url = str(tmp_path / "store")
    s1 = store.commit_sensors(url, _block(tmp_path / "a.zarr", 0, {"t": np.ones((8, 1))}, ["s1"]), None, "1", {}, {})
    store.commit_sensors(url, _block(tmp_path / "b.zarr", 8, {"t": np.ones((8, 1))}, ["s1"]), s1, "2", {}, {})
    with pytest.raises(store.StoreConflict, match="moved from snapshot"):
        store.commit_sensors(url, _block(tmp_path / "c.zarr", 16, {"t": np.ones((8, 1))}, ["s1"]), s1, "3", {}, {})
    assert len(store.history(url)) == 3  # init + two commits: the refused one left nothing


def test_an_ingest_commits_over_a_commit_that_left_its_group_alone(tmp_path):
    """A scoring run commits its scores while an ingest cleans: the ingest's commit goes on top, not refused."""
    url = str(tmp_path / "store")
    s1 = store.commit_sensors(url, _block(tmp_path / "a.zarr", 0, {"t": np.ones((8, 1))}, ["s1"]), None, "1", {}, {"h1": {}})
    session = store.open_repo(url).writable_session("main")
    scores = zarr.open_group(session.store, path="scores/m", mode="a")
    scores.create_array("score", shape=(8,), dtype="f4", chunks=(8,))[:] = 0.5
    s2 = session.commit("scores")
    s3 = store.commit_sensors(url, _block(tmp_path / "b.zarr", 8, {"t": np.full((8, 1), 2.0)}, ["s1"]), s1, "2", {}, {"h2": {}})
    assert [c["id"] for c in store.history(url)][:3] == [s3, s2, s1]
    ds = _read(url)
    np.testing.assert_array_equal(ds.t.values[:, 0], [1.0] * 8 + [2.0] * 8)
    assert store.ledger.keys(url) == {"h1", "h2"}
    assert float(zarr.open_group(store.open_repo(url).readonly_session(branch="main").store, path="scores/m", mode="r")["score"][0]) == 0.5


def test_a_different_grid_is_refused(tmp_path):
    url = str(tmp_path / "store")
    s1 = store.commit_sensors(url, _block(tmp_path / "a.zarr", 0, {"t": np.ones((8, 1))}, ["s1"]), None, "1", {}, {})
    block = _block(tmp_path / "b.zarr", 8, {"t": np.ones((8, 1))}, ["s1"])
    zarr.open_group(block, mode="r+").attrs["grid_seconds"] = 60
    with pytest.raises(store.StoreError, match="30 s grid"):
        store.commit_sensors(url, block, s1, "2", {}, {})


def test_missing_store_and_bad_urls_say_what_to_do(tmp_path):
    with pytest.raises(store.StoreError, match="run an ingest first"):
        store.open_repo(str(tmp_path / "nothing"))
    with pytest.raises(store.StoreError, match="unsupported store URL"):
        store.open_repo("ftp://host/x")
    assert store.state(str(tmp_path / "nothing")).exists is False


def test_growing_by_more_than_a_chunk_from_a_partial_chunk(tmp_path):
    """A store whose time and sensor axes end inside a chunk grows by more than a chunk along each: the appended
    fill is split on the store's chunk boundaries (a fill chunk straddling one is refused by xarray, or corrupts)."""
    url = str(tmp_path / "store")
    chunk = 16
    first = {"temperature": np.full((5, 3), 1.0)}
    s1 = store.commit_sensors(url, _block(tmp_path / "a.zarr", 0, first, ["s0", "s1", "s2"], chunk_len=chunk), None, "1", {}, {})
    sensors = [f"s{i}" for i in range(store.SENSOR_CHUNK + 10)]
    later = {"temperature": np.full((5, len(sensors)), 2.0)}
    store.commit_sensors(url, _block(tmp_path / "b.zarr", 7 * chunk, later, sensors, chunk_len=chunk), s1, "2", {}, {})
    ds = _read(url)
    assert ds.sizes == {"time": 7 * chunk + 5, "sensor": len(sensors)}
    np.testing.assert_array_equal(ds.temperature.values[:5, :3], 1.0)
    assert np.isnan(ds.temperature.values[5 : 7 * chunk]).all() and (ds.temperature_quality.values[5 : 7 * chunk] == 0).all()
    np.testing.assert_array_equal(ds.temperature.values[7 * chunk :], 2.0)


def test_the_logs_group_grows_by_more_than_a_chunk_of_templates_from_a_partial_one(tmp_path):
    url = str(tmp_path / "store")
    chunk = 8

    def commit(base, n_templates, window):
        ids = np.arange(n_templates)
        return store.commit_logs(
            url, base, 60, chunk, np.full(n_templates, window), ids, np.zeros(n_templates, np.int64),
            [f"template {i}" for i in ids], {}, f"{n_templates} templates", {}, {},
        )

    s1 = commit(None, 10, 100)
    commit(s1, 10 + store.TEMPLATE_CHUNK + 5, 3 * chunk + 100)  # more than a chunk of new templates, and later windows
    ds = store.open_logs(url).load()
    assert ds.sizes["template"] == 10 + store.TEMPLATE_CHUNK + 5
    assert int(ds["count"].sum()) == 10 + 10 + store.TEMPLATE_CHUNK + 5
    assert int(ds["count"].isel(template=slice(10, None)).sum()) == store.TEMPLATE_CHUNK + 5


def test_log_counts_add_up_per_window_template_and_level(tmp_path):
    url = str(tmp_path / "store")
    bins = np.array([100, 100, 100, 101, 103, 100])
    ids = np.array([2, 2, 0, 1, 2, 2])
    levels = np.array([0, 0, 3, 3, 1, 0])
    s1 = store.commit_logs(url, None, 60, 8, bins, ids, levels, ["a", "b", "c"], {}, "first", {}, {})
    store.commit_logs(url, s1, 60, 8, np.array([101, 101]), np.array([1, 1]), np.array([2, 2]), ["a", "b", "c"], {}, "second", {}, {})
    ds = store.open_logs(url).load().sel(time=np.array([100, 101, 102, 103]) * np.timedelta64(60, "s") + np.datetime64(0, "s"))
    counts = ds["count"].to_numpy()
    assert counts[0].tolist() == [1, 0, 3] and counts[1].tolist() == [0, 3, 0] and counts[2].sum() == 0 and counts[3].tolist() == [0, 0, 1]
    per_level = ds["level_count"].to_numpy()
    assert per_level[0, 0] == 3 and per_level[0, 3] == 1 and per_level[1, 3] == 1 and per_level[1, 2] == 2 and per_level[3, 1] == 1
    assert int(per_level.sum()) == int(counts.sum()) == 8


def _imports(path) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_store_package_imports_zarr_or_icechunk():
    """The store's boundary: library, tasks, flows and benchmarks reach Zarr and Icechunk only through `lepton_flow.store`."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = [p for d in ("lepton_flow", "tasks", "flows", "benchmarks") for p in (root / d).rglob("*.py")]
    inside = [p for p in files if (root / "lepton_flow" / "store") in p.parents]
    assert len(inside) >= 7 and len(files) > 60
    leaks = sorted(str(p.relative_to(root)) for p in files if p not in inside and _imports(p) & {"zarr", "icechunk"})
    assert leaks == []
    assert all(_imports(p) & {"zarr", "icechunk"} for p in inside if p.name in ("repo.py", "sensors.py", "logs.py"))


def test_a_store_written_before_the_ledger_arrays_is_migrated_on_its_next_commit(tmp_path):
    """tests/data/legacy-store was written by the code before the ledger arrays: ingested files in the root's attributes."""
    import shutil
    from pathlib import Path

    url = str(tmp_path / "store")
    shutil.copytree(Path(__file__).parent / "data" / "legacy-store", url)
    legacy = zarr.open_group(store.open_repo(url).readonly_session(branch="main").store, mode="r")
    assert set(legacy.attrs) == {"lepton_ingested", "lepton_logs_ingested"}
    # Read before any migration: sensor files keyed by content and the sensor id their name gives.
    sensors = {f"{'a' * 64}:pump-a", f"{'b' * 64}:long"}
    assert store.ledger.keys(url) == sensors and store.ledger.keys(url, kind="logs") == {"c" * 64}
    before = store.state(url)
    snap = store.commit_sensors(url, _block(tmp_path / "b.zarr", 8008, {"temperature": np.full((8, 2), 2.0)}, ["pump-a", "s2"]), before.snapshot_id, "after", {}, {"d" * 64 + ":x": {"file": "/src/x.csv"}})
    root = zarr.open_group(store.open_repo(url).readonly_session(branch="main").store, mode="r")
    assert "lepton_ingested" not in root.attrs and "lepton_logs_ingested" not in root.attrs
    assert store.ledger.keys(url, snap) == sensors | {"d" * 64 + ":x"} and store.ledger.keys(url, snap, "logs") == {"c" * 64}
    assert store.ledger.entries(url, snap)[f"{'a' * 64}:pump-a"] == {"file": "/src/pump-a.csv", "run": "r1", "at": "2026-01-01T00:00:00+00:00"}
    # The data the old code wrote is still there beside the new.
    np.testing.assert_array_equal(_read(url).temperature.values[:, 0], [1.0] * 8 + [2.0] * 8)
    assert store.logs_state(url).templates == ["user <*> logged in"]
    # The ledger holds each entry once: a second commit appends only its own.
    store.record_ingested(url, snap, "more", {}, {"e" * 64 + ":y": {"file": "/src/y.csv"}})
    assert int(zarr.open_group(store.open_repo(url).readonly_session(branch="main").store, path="ledger/sensors", mode="r")["key"].shape[0]) == 4


def test_a_commit_appends_to_the_ledger_without_rewriting_it(tmp_path):
    """Each commit writes the ledger's last chunk and metadata only: the chunks of earlier entries stay as they were."""
    url = str(tmp_path / "store")
    snap = store.record_ingested(url, None, "0", {}, {f"{i:064x}": {"file": f"/f{i}"} for i in range(store.ledger.CHUNK + 10)})
    for n in range(3):
        before = snap
        snap = store.record_ingested(url, snap, str(n), {}, {f"new{n}": {"file": f"/n{n}"}})
        written = store.repo.changed_chunks(url, before, snap)
        assert sorted(written) == ["/ledger/sensors/key", "/ledger/sensors/record"]
        assert all(chunks == [(1,)] for chunks in written.values())
    assert store.ledger.count(url) == store.ledger.CHUNK + 13
    # A sensor ingest and a log ingest append to their own ledgers: neither is a conflict for the other.
    logs = store.record_ingested(url, snap, "logs", {}, {"l1": {"file": "/a.log"}}, kind="logs")
    store.record_ingested(url, snap, "sensors", {}, {"s9": {"file": "/s9"}})
    assert store.ledger.keys(url, kind="logs") == {"l1"} and "s9" in store.ledger.keys(url) and logs != snap


def test_what_a_commit_leaves_in_the_repository_info_does_not_grow_with_its_files(tmp_path):
    """Icechunk rewrites its repository-info object (every snapshot's message and metadata) on each commit: a run of
    2,000 files adds about what a run of one file adds there; the files are the ledger's."""
    import os

    url = str(tmp_path / "store")
    info = os.path.join(url, "repo")
    snap = store.record_ingested(url, None, "first", {}, {"a": {"file": "/a"}})
    growth = []
    for n in (1, 2000):
        before = os.path.getsize(info)
        names = [f"/drop/site-{i:05d}/readings-with-a-long-name-{i:05d}.csv" for i in range(n)]
        message = store.bounded_message(f"sensor_ingest run r{n}: {n} file(s)", [os.path.basename(f) for f in names])
        snap = store.record_ingested(url, snap, message, {"flow_run_id": f"r{n}", "files": n}, {f"{n}-{i}": {"file": f} for i, f in enumerate(names)})
        growth.append(os.path.getsize(info) - before)
        last = store.history(url, 1)[0]
        assert len(last["message"]) <= store.MESSAGE_LIMIT and last["message"].startswith(f"sensor_ingest run r{n}: {n} file(s): readings-with")
    assert "and 19" in last["message"]  # the names that did not fit are counted
    assert growth[1] < growth[0] + 200, growth
    assert store.ledger.count(url) == 2002
    with pytest.raises(ValueError, match="record lists in the ledger"):
        store.record_ingested(url, snap, "m", {"files": names}, {"z": {"file": "/z"}})


def test_one_store_through_a_symlink_takes_one_lock(tmp_path):
    """Two runs reaching one store by two paths took two locks and one failed with StoreConflict every time."""
    real = tmp_path / "stores" / "main"
    (tmp_path / "stores").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "stores")
    via_link = str(tmp_path / "link" / "main")
    assert store.repo.lock_path(via_link) == store.repo.lock_path(str(real)) == str(real) + ".lock"
    s1 = store.commit_sensors(str(real), _block(tmp_path / "a.zarr", 0, {"t": np.ones((8, 1))}, ["s1"]), None, "1", {}, {"a": {}})
    store.commit_sensors(via_link, _block(tmp_path / "b.zarr", 8, {"t": np.ones((8, 1))}, ["s1"]), s1, "2", {}, {"b": {}})
    assert store.ledger.keys(str(real)) == {"a", "b"}


_BUSY_AT_EXIT = """
import sys, time
from lepton_flow.store import repo
import zarr
from zarr.core import sync
session = repo.open_repo(sys.argv[1], create=True).writable_session("main")
zarr.open_group(session.store, mode="a")
assert sync.loop[0] is not None and sync.iothread[0].is_alive(), "zarr's I/O loop did not start"
# zarr's loop still busy when the interpreter exits, as it is on a loaded machine
sync.loop[0].call_soon_threadsafe(time.sleep, 0.6)
time.sleep(0.05)
"""


def test_a_process_exits_cleanly_while_zarrs_io_loop_is_busy(tmp_path):
    # zarr's exit handler alone waits 0.2 s, then closes the running loop and prints a traceback
    # into the log of the flow run or worker; the store's handler waits for the loop to stop.
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _BUSY_AT_EXIT, str(tmp_path / "store")], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Cannot close a running event loop" not in done.stderr, done.stderr
    assert "did not finish cleanly" not in done.stderr, done.stderr
