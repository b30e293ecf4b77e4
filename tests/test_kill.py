"""A run SIGKILLed between staging and commit, and one SIGKILLed during the commit, leave the store as it was; a re-run completes it."""

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


def _window_rows(path: Path, sensor: str, windows: list[int], per_window: int = 200, chunk_len: int = 4096):
    """Readings of one sensor in the given store windows (chunks of `chunk_len` 30 s bins from the epoch-aligned start)."""
    start = pd.Timestamp("2026-02-01", tz="UTC")
    base = start.value // (30 * 10**9) // chunk_len * chunk_len  # the window the start falls in
    frames = []
    for w in windows:
        bins = (base + w * chunk_len + np.arange(per_window)) * 30 * 10**9
        frames.append(pd.DataFrame({"timestamp": pd.to_datetime(bins, utc=True), "sensor_id": sensor, "metric": "temperature", "value": 20 + np.sin(np.arange(per_window) / 9), "unit": "C"}))
    pd.concat(frames).to_csv(path, index=False)


def _run_held_at_the_commit(data_root: Path, src: Path, lock_path: str, log: Path):
    """Start `lepton-flow run sensor-ingest` while this process holds the store's commit lock; return once it waits there."""
    staged_before = set((data_root / "staging").glob("*/cleaned.zarr/zarr.json"))
    lock = open(lock_path, "w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # the run stages and cleans, then waits here to commit
    proc = subprocess.Popen(
        [sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", str(src)],
        env=_cli_env(data_root), stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while not set((data_root / "staging").glob("*/cleaned.zarr/zarr.json")) - staged_before:
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the run never reached the clean step"
        time.sleep(0.2)
    time.sleep(2)
    assert list((data_root / "staging").glob("*/valid/*/*.parquet")), "staging should hold the run's readings"
    return proc, lock


def _assert_unchanged(url: str, before, commits_before: int) -> None:
    now = store.state(url)
    assert now.snapshot_id == before.snapshot_id, "the branch moved"
    assert store.ledger.keys(url, now.snapshot_id) == store.ledger.keys(url, before.snapshot_id) and len(store.history(url, limit=1000)) == commits_before


def test_a_run_killed_before_and_during_its_commit_leaves_the_store_and_a_rerun_completes(ingest_flow, data_root, tmp_path):
    """SIGKILL (1) while the run waits to commit, its readings staged and cleaned, then (2) while the commit writes
    chunks into the store (at the first chunk, before the branch moves): the store stays at its snapshot both times,
    and the re-run stores each row once."""
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
    lock_path = url.rstrip("/") + ".lock"

    # (1) Killed between staging and commit.
    proc, lock = _run_held_at_the_commit(data_root, src, lock_path, tmp_path / "killed-1.log")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    lock.close()
    assert proc.returncode == -signal.SIGKILL
    _assert_unchanged(url, before, commits_before)

    # (2) Killed during the commit: release the lock, kill the run at its first new chunk.
    chunks = Path(url) / "chunks"
    held = set(os.listdir(chunks))
    proc, lock = _run_held_at_the_commit(data_root, src, lock_path, tmp_path / "killed-2.log")
    lock.close()
    killed_after = None
    deadline = time.monotonic() + 120
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
    assert killed_after, "the commit wrote no chunk before the run ended: " + (tmp_path / "killed-2.log").read_text()[-2000:]
    assert proc.returncode == -signal.SIGKILL
    _assert_unchanged(url, before, commits_before)
    assert len(set(os.listdir(chunks)) - held) >= killed_after  # written, and referenced by no snapshot

    rerun = subprocess.run(
        [sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", str(src)],
        env=_cli_env(data_root), capture_output=True, text=True, timeout=300,
    )
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "files ingested:      1" in rerun.stdout and "already ingested:    1" in rerun.stdout
    ds = store.open_sensors(url).load()
    assert int((ds.temperature_quality.sel(sensor="s1").values == 1).sum()) == 24 * 200  # each row once
    shutil.rmtree(data_root / "prefect-home", ignore_errors=True)


def test_killing_the_cli_takes_its_api_server_and_cluster_with_it(data_root, tmp_path):
    """SIGKILL of `lepton-flow run` left the embedded API server (uvicorn, 254 MB) running for minutes: children die with it."""
    import psutil

    src = tmp_path / "src"
    src.mkdir()
    times = pd.date_range("2026-03-01", periods=2000, freq="30s", tz="UTC")
    for i in range(4):
        pd.DataFrame({"timestamp": times, "sensor_id": f"s{i}", "metric": "temperature", "value": 20.0}).to_csv(src / f"s{i}.csv", index=False)
    env = {**_cli_env(data_root), "LEPTON_LOCAL_CLUSTER_ABOVE_MB": "0"}  # a cluster, however small the input
    cli = subprocess.Popen([sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", str(src)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    parent = psutil.Process(cli.pid)
    deadline = time.time() + 120
    children: list = []
    while time.time() < deadline:
        children = parent.children(recursive=True)
        if any("uvicorn" in " ".join(c.cmdline()) for c in children if c.is_running()) and len(children) >= 3:
            break
        time.sleep(0.2)
    assert any("uvicorn" in " ".join(c.cmdline()) for c in children), "the API server never started"
    time.sleep(2)  # let the cluster's workers come up too
    children = parent.children(recursive=True)
    os.kill(cli.pid, signal.SIGKILL)
    cli.wait(timeout=30)
    gone, alive = psutil.wait_procs(children, timeout=60)
    try:
        assert alive == [], [" ".join(p.cmdline()[:4]) for p in alive]
    finally:
        for p in alive:
            p.kill()
