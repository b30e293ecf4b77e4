"""Faults injected for real: a flaky source filesystem, a Dask worker killed mid-cleaning."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
import xarray as xr

import faults
from flows.sensor_ingest import SensorIngestParams
from lepton_flow import store
from lepton_flow.settings import get_settings

pytestmark = pytest.mark.slow
CORPUS = Path(__file__).resolve().parent / "corpus"


@pytest.fixture
def flaky(dask_cluster, tmp_path):
    """`flaky://` registered here and on the session's Dask workers, its state under the test's folder."""
    from distributed import Client

    state = tmp_path / "flaky-state"
    state.mkdir()
    faults.register(str(state))
    with Client(dask_cluster.scheduler_address) as client:
        client.run(faults.register, str(state))
    yield state
    os.environ.pop("FLAKY_STATE", None)


def test_transient_source_errors_are_retried_with_backoff_and_a_permanent_one_names_the_file(flaky, ingest_flow, data_root):
    src = data_root / "flaky-src"
    src.mkdir()
    for name in ("steady.csv", "hiccup.csv", "broken.csv"):
        text = (CORPUS / "sensors" / "good.csv").read_text().replace(",good,", f",{name.split('.')[0]},")
        (src / name).write_text(text)
    faults.fail_opens(flaky, src / "hiccup.csv", [2, 3])  # open 1 is discovery's hash; the ingest's first two attempts fail
    faults.fail_opens(flaky, src / "broken.csv", "all-but-first")

    # The grid asked for: a new store's grid would otherwise be sniffed from the files, one more open of each.
    state = ingest_flow(SensorIngestParams(source=f"flaky://{src}", grid_seconds=30), return_state=True)
    summary = state.result(raise_on_failure=False)

    hiccup = faults.opens(flaky, src / "hiccup.csv")
    assert [o["failed"] for o in hiccup[:3]] == [False, True, True] and not any(o["failed"] for o in hiccup[3:])
    # Backoff: the retries waited the task's delays (1 s, then 4 s) before opening again.
    assert hiccup[2]["t"] - hiccup[1]["t"] >= 0.9 and hiccup[3]["t"] - hiccup[2]["t"] >= 3.9
    broken = faults.opens(flaky, src / "broken.csv")
    assert len(broken) == 1 + 4 and all(o["failed"] for o in broken[1:])  # the first try and 3 retries
    assert state.is_failed() and "1 file(s) not ingested" in state.message
    assert f"flaky://{src}/broken.csv" in state.message and "simulated I/O error" in state.message
    accounts = {Path(f.file).name: f for f in summary.files}
    assert accounts["hiccup.csv"].stored == 20 and accounts["steady.csv"].stored == 20
    assert accounts["broken.csv"].status == "failed (ingest)"
    assert set(store.state(get_settings().store).sensors) == {"hiccup", "steady"}


def _ingest_into(root: Path, flow, source: Path):
    os.environ["LEPTON_DATA_ROOT"] = str(root)
    get_settings(fresh=True)
    state = flow(SensorIngestParams(source=str(source)), return_state=True)
    assert state.is_completed(), state.message
    ds = store.open_sensors(get_settings().store).load()
    ds.attrs = {}
    return state.result(), ds


def test_a_dask_worker_killed_mid_cleaning_redoes_its_work_and_the_store_is_identical(ingest_flow, prefect_server, data_root, tmp_path, monkeypatch):
    """A worker process SIGKILLed while it cleans windows: its nanny starts a new one, the lost windows run again, and
    the store equals that of a run nobody disturbed."""
    from distributed import Client
    from prefect_dask import DaskTaskRunner

    from lepton_flow.demo import DemoSpec, write_demo

    src = tmp_path / "src"
    write_demo(str(src), DemoSpec(sensors=4, metrics=1, days=20.0, seed=5))
    monkeypatch.setenv("LEPTON_DATA_ROOT", str(data_root))
    _, undisturbed = _ingest_into(tmp_path / "undisturbed", ingest_flow, src)

    monkeypatch.setenv("PREFECT_API_URL", prefect_server)  # the workers report task runs to the test server
    # The project's local cluster: a plain LocalCluster also leaves MALLOC_TRIM_THRESHOLD_ in this process's
    # environment, for every worker started after it to inherit.
    from lepton_flow.parallel import local_cluster

    with local_cluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)
        killed: dict = {}

        def kill_a_cleaner():
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not killed:
                processing = client.processing()
                for worker, keys in processing.items():
                    cleaning = [k for k in keys if str(k).startswith("clean_window")]
                    if cleaning and not any("clean_readings" in str(k) for k in keys):
                        os.kill(pids[worker], signal.SIGKILL)
                        killed.update(worker=worker, pid=pids[worker], keys=[str(k) for k in cleaning])
                        return
                time.sleep(0.02)

        watcher = threading.Thread(target=kill_a_cleaner, daemon=True)
        watcher.start()
        flow = ingest_flow.with_options(task_runner=DaskTaskRunner(address=cluster.scheduler_address))
        summary, disturbed = _ingest_into(tmp_path / "disturbed", flow, src)
        watcher.join(timeout=5)
        assert killed, "no clean_window task was seen running on a worker to kill"
        print(f"killed worker pid {killed['pid']} while it ran {killed['keys']}; {len(summary.files)} files, windows cleaned again")
        now = client.run(os.getpid)
        assert killed["pid"] not in now.values() and len(now) == 2  # the killed process is gone, its nanny started another
    xr.testing.assert_identical(disturbed, undisturbed)
    assert all(f.balanced for f in summary.files)
