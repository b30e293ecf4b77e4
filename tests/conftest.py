"""Shared fixtures: a data root per test, one Prefect test server and one Dask cluster per session."""

from __future__ import annotations

import os
import shutil

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture(autouse=True, scope="session")
def _prefect_logging_set_up_outside_any_test():
    """Prefect sets up its logging once per process, and its console handler keeps the stderr of that moment. Set up
    inside a test that captures descriptor 2 (`capfd`, a quiet `lepton-flow run`), every later flow run in the process
    wrote to that test's closed capture ("I/O operation on closed file")."""
    from prefect.logging.configuration import ensure_logging_setup

    ensure_logging_setup()


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """A fresh LEPTON_DATA_ROOT for the test; settings re-read from it."""
    from lepton_flow.settings import get_settings

    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("LEPTON_DATA_ROOT", str(root))
    monkeypatch.delenv("LEPTON_STORE_URL", raising=False)
    get_settings(fresh=True)
    yield root
    get_settings(fresh=True)


@pytest.fixture
def served_files(data_root, monkeypatch):
    """The data root's files served as `lepton-flow up` serves them; LEPTON_FILES_URL names this server."""
    from lepton_flow.fileserve import FileServer
    from lepton_flow.settings import get_settings

    server = FileServer(str(data_root))
    monkeypatch.setenv("LEPTON_FILES_URL", server.url)
    get_settings(fresh=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory):
    """Demo files written once per session, with their fault ledger; tests copy what they need."""
    from lepton_flow.demo import write_demo

    base = tmp_path_factory.mktemp("demo")
    ledger = write_demo(str(base / "demo"))
    return base / "demo", ledger


@pytest.fixture
def demo_copy(data_root, demo_source):
    src, ledger = demo_source
    dest = data_root / "demo"
    shutil.copytree(src, dest)
    return dest, ledger


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect API (SQLite) for every flow test in the session; yields its URL.

    Prefect's test harness, its database a copy of set-up's migrated one (as a new data root's first run gets it)
    instead of migrated at start: the harness makes its folder with `mkdtemp`, and finds the copy there.
    """
    import tempfile

    import prefect.testing.utilities as harness
    from prefect.settings import PREFECT_API_URL

    from lepton_flow.services import make_database_template

    def seeded_mkdtemp(*args, **kwargs):
        folder = tempfile.mkdtemp(*args, **kwargs)
        shutil.copyfile(make_database_template(), os.path.join(folder, "prefect-test.db"))
        return folder

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(harness, "mkdtemp", seeded_mkdtemp)
        with harness.prefect_test_harness(server_startup_timeout=180):
            yield PREFECT_API_URL.value()


@pytest.fixture(scope="session")
def dask_cluster(prefect_server):
    """A real local Dask scheduler with two worker processes, shared by flow tests.

    The workers get the test server's URL in their environment, as
    `lepton_flow.parallel.local_api` gives it to a CLI run's workers.
    """
    from lepton_flow.parallel import local_cluster

    os.environ["PREFECT_API_URL"] = prefect_server
    try:
        cluster = local_cluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    finally:
        del os.environ["PREFECT_API_URL"]
    yield cluster
    cluster.close()


@pytest.fixture
def ingest_flow(prefect_server, dask_cluster):
    """`sensor_ingest` bound to the session's Dask cluster, as LEPTON_DASK_ADDRESS would bind it."""
    from prefect_dask import DaskTaskRunner

    from flows.sensor_ingest import sensor_ingest

    return sensor_ingest.with_options(task_runner=DaskTaskRunner(address=dask_cluster.scheduler_address))


@pytest.fixture
def log_flow(prefect_server, dask_cluster):
    """`log_ingest` on the session's Dask cluster."""
    from prefect_dask import DaskTaskRunner

    from flows.log_ingest import log_ingest

    return log_ingest.with_options(task_runner=DaskTaskRunner(address=dask_cluster.scheduler_address))


LONGEST_FIRST = ("test_deployments.py",)
"""Test files that take longest (about 12 of the suite's 22 minutes here): run first, so that under `make test`'s two
processes the other process works through the rest meanwhile instead of waiting for them at the end."""


def pytest_collection_modifyitems(config, items):
    """Longest files first; skip `gpu` tests on machines without a visible GPU (TensorFlow is asked only if such tests were collected)."""
    items.sort(key=lambda item: item.path.name not in LONGEST_FIRST)
    gpu_tests = [item for item in items if "gpu" in item.keywords]
    if not gpu_tests:
        return
    from lepton_flow.gpu import gpu_count

    if gpu_count() == 0:
        skip = pytest.mark.skip(reason="no GPU visible to TensorFlow")
        for item in gpu_tests:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated Prefect SQLite database, once per test process; servers start from copies (7-10 s, not 25 s)."""
    from tests.stack import migrate_sqlite

    home = tmp_path_factory.mktemp("prefect-template")
    migrate_sqlite(home)
    return home
