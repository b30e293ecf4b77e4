"""A run killed between staging and commit leaves the store as it was; a re-run completes it."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.sensor_ingest import SensorIngestParams
from lepton_flow import store
from lepton_flow.settings import get_settings

pytestmark = pytest.mark.slow


def _csv(path: Path, sensor: str, n: int = 300):
    times = pd.date_range("2026-02-01", periods=n, freq="30s", tz="UTC")
    pd.DataFrame({"timestamp": times, "sensor_id": sensor, "metric": "temperature", "value": 20 + np.sin(np.arange(n) / 9), "unit": "C"}).to_csv(path, index=False)


def _cli_env(data_root: Path) -> dict:
    env = dict(os.environ)
    env.update(
        LEPTON_DATA_ROOT=str(data_root),
        LEPTON_DASK_WORKERS="1",
        PREFECT_HOME=str(data_root / "prefect-home"),
        PYTHONUNBUFFERED="1",
    )
    env.pop("PREFECT_API_URL", None)
    return env


def test_kill_between_staging_and_commit_then_rerun(ingest_flow, data_root, tmp_path):
    src = data_root / "src"
    src.mkdir()
    _csv(src / "a.csv", "s1")
    first = ingest_flow(SensorIngestParams(source=str(src)), return_state=True).result()
    url = get_settings().store
    before = store.state(url)
    assert before.snapshot_id == first.snapshot_id and before.sensors == ["s1"]
    commits_before = len(store.history(url))

    _csv(src / "b.csv", "s2")
    lock_path = url.rstrip("/") + ".lock"
    log = open(tmp_path / "killed-run.log", "w")
    with open(lock_path, "w") as lock:
        # Holding the store's commit lock keeps the run from committing:
        # it stages and cleans, then waits, and is killed while it waits.
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.Popen(
            [sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", str(src)],
            env=_cli_env(data_root),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 240
            while not list((data_root / "staging").glob("*/cleaned.zarr/zarr.json")):
                assert proc.poll() is None, (tmp_path / "killed-run.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the run never reached the clean step"
                time.sleep(0.5)
            time.sleep(3)
            assert list((data_root / "staging").glob("*/valid/*/*.parquet")), "staging should hold the run's readings"
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    after_kill = store.state(url)
    assert after_kill.snapshot_id == before.snapshot_id
    assert after_kill.sensors == ["s1"] and set(after_kill.ingested) == set(before.ingested)
    assert len(store.history(url)) == commits_before

    rerun = subprocess.run(
        [sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", str(src)],
        env=_cli_env(data_root),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "files ingested:      1" in rerun.stdout and "already ingested:    1" in rerun.stdout
    done = store.state(url)
    assert done.sensors == ["s1", "s2"] and len(done.ingested) == 2
    ds = store.open_sensors(url).load()
    assert int((ds.temperature_quality.sel(sensor="s2").values == 1).sum()) == 300  # each row once
    shutil.rmtree(data_root / "prefect-home", ignore_errors=True)


def _window_rows(path: Path, sensor: str, windows: list[int], per_window: int = 200, chunk_len: int = 4096):
    """Readings of one sensor in the given store windows (chunks of `chunk_len` 30 s bins from the epoch-aligned start)."""
    start = pd.Timestamp("2026-02-01", tz="UTC")
    base = start.value // (30 * 10**9) // chunk_len * chunk_len  # the window the start falls in
    frames = []
    for w in windows:
        bins = (base + w * chunk_len + np.arange(per_window)) * 30 * 10**9
        frames.append(pd.DataFrame({"timestamp": pd.to_datetime(bins, utc=True), "sensor_id": sensor, "metric": "temperature", "value": 20 + np.sin(np.arange(per_window) / 9), "unit": "C"}))
    pd.concat(frames).to_csv(path, index=False)


def test_kill_during_the_commit_then_rerun(ingest_flow, data_root, tmp_path):
    """SIGKILL while the commit writes chunks into the store (after the first chunk lands, before the branch moves):
    the store stays at its previous snapshot, and the re-run stores each row once."""
    src = data_root / "src"
    src.mkdir()
    _window_rows(src / "even.csv", "s1", list(range(0, 24, 2)))
    first = ingest_flow(SensorIngestParams(source=str(src)), return_state=True).result()
    url = get_settings().store
    before = store.state(url)
    assert before.snapshot_id == first.snapshot_id
    commits_before = len(store.history(url, limit=1000))
    # The odd windows, between the stored ones: the commit writes them region by region.
    _window_rows(src / "odd.csv", "s1", list(range(1, 24, 2)))

    chunks = Path(url) / "chunks"
    held = set(os.listdir(chunks))
    lock_path = url.rstrip("/") + ".lock"
    log = open(tmp_path / "killed-run.log", "w")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the run stages and cleans, then waits here to commit
        proc = subprocess.Popen(
            [sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", str(src)],
            env=_cli_env(data_root), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 240
        while not list((data_root / "staging").glob("*/cleaned.zarr/zarr.json")):
            assert proc.poll() is None, (tmp_path / "killed-run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the run never reached the clean step"
            time.sleep(0.2)
        time.sleep(2)
    # Lock released: the commit starts writing. Kill the run at its first new chunk.
    killed_after = None
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            new = set(os.listdir(chunks)) - held
            if new:
                os.killpg(proc.pid, signal.SIGKILL)
                killed_after = len(new)
                break
            time.sleep(0.001)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert killed_after, "the commit wrote no chunk before the run ended: " + (tmp_path / "killed-run.log").read_text()[-2000:]
    assert proc.returncode == -signal.SIGKILL

    after_kill = store.state(url)
    assert after_kill.snapshot_id == before.snapshot_id, "the branch moved: the kill came after the commit"
    assert set(after_kill.ingested) == set(before.ingested) and len(store.history(url, limit=1000)) == commits_before
    assert len(set(os.listdir(chunks)) - held) >= killed_after  # written, and unreferenced by any snapshot

    rerun = subprocess.run(
        [sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", str(src)],
        env=_cli_env(data_root), capture_output=True, text=True, timeout=300,
    )
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    ds = store.open_sensors(url).load()
    assert int((ds.temperature_quality.sel(sensor="s1").values == 1).sum()) == 24 * 200  # each row once
    print(f"killed with {killed_after} new chunk file(s) written and the branch unmoved")
    shutil.rmtree(data_root / "prefect-home", ignore_errors=True)
