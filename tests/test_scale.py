"""Beyond one machine: a Dask scheduler and workers started as their own processes, and an S3-compatible object store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from flows.sensor_ingest import SensorIngestParams
from lepton_flow import store
from lepton_flow.demo import DemoSpec, write_demo
from lepton_flow.settings import get_settings

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{what} exited with {proc.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{what} did not listen on {port}")


def _cli(args: list[str], env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "lepton_flow.cli", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture
def dask_processes(prefect_server, tmp_path):
    """`dask scheduler` and two `dask worker` processes on loopback; yields the scheduler address."""
    port = _free_port()
    env = dict(os.environ, PREFECT_API_URL=prefect_server)
    logs = open(tmp_path / "dask.log", "w")
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"], env=env, stdout=logs, stderr=subprocess.STDOUT)]
    try:
        _wait_port(port, procs[0], "dask scheduler")
        address = f"tcp://127.0.0.1:{port}"
        for _ in range(2):
            procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"], cwd=REPO, env=env, stdout=logs, stderr=subprocess.STDOUT))
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def _load(url: str) -> xr.Dataset:
    ds = store.open_sensors(url).load()
    ds.attrs = {}
    return ds


def test_an_existing_scheduler_gives_the_same_store_as_a_local_cluster(dask_processes, ingest_flow, data_root, prefect_server, tmp_path):
    src = data_root / "demo"
    write_demo(str(src), DemoSpec(sensors=6, metrics=2, days=1.0, seed=11))
    local = ingest_flow(SensorIngestParams(source=str(src)), return_state=True)
    assert local.is_completed(), local.message
    local_ds = _load(get_settings().store)

    other = tmp_path / "other-root"
    env = dict(os.environ, LEPTON_DATA_ROOT=str(other), LEPTON_DASK_ADDRESS=dask_processes, PREFECT_API_URL=prefect_server)
    _cli(["run", "sensor-ingest", "--source", str(src)], env)
    from distributed import Client

    with Client(dask_processes) as client:
        ran = client.run(lambda: __import__("os").getpid())
    assert len(ran) == 2  # both worker processes are still there, the run used them
    xr.testing.assert_identical(_load(str(other / "store")), local_ds)

    env["LEPTON_DASK_ADDRESS"] = f"tcp://127.0.0.1:{_free_port()}"
    refused = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", str(src)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and f"the Dask scheduler at {env['LEPTON_DASK_ADDRESS']}" in refused.stderr


@pytest.fixture
def s3_server(tmp_path):
    """moto's S3 server as its own process on loopback, with a bucket; yields the environment that points at it."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port, proc, "moto S3 server")
        endpoint = f"http://127.0.0.1:{port}"
        env = {"AWS_ACCESS_KEY_ID": "lepton", "AWS_SECRET_ACCESS_KEY": "lepton-secret", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "LEPTON_S3_ENDPOINT_URL": endpoint}
        import boto3

        boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="lepton", aws_secret_access_key="lepton-secret", region_name="us-east-1").create_bucket(Bucket="lepton")
        yield env
    finally:
        proc.kill()
        proc.wait()


def test_sources_and_store_on_object_storage_with_keys_from_a_secret_block(s3_server, prefect_server, tmp_path, monkeypatch):
    """Sources, store, training and scoring on S3 (moto), the keys only in a Prefect Secret block: without the block the
    run cannot reach the bucket; with it everything runs, and the secret is in no output, no Prefect log (at DEBUG),
    no file under the data root and no commit. Then another process re-opens the store."""
    import fsspec
    import httpx
    from prefect.blocks.system import Secret

    secret = s3_server["AWS_SECRET_ACCESS_KEY"]
    Secret(value={"aws_access_key_id": s3_server["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": secret}).save("lepton-s3-keys", overwrite=True)
    demo = tmp_path / "demo"
    write_demo(str(demo), DemoSpec(sensors=4, metrics=2, days=1.0, seed=5))
    fs = fsspec.filesystem("s3", endpoint_url=s3_server["LEPTON_S3_ENDPOINT_URL"], key="lepton", secret=secret)
    for path in demo.iterdir():
        fs.put_file(str(path), f"lepton/src/{path.name}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        LEPTON_S3_ENDPOINT_URL=s3_server["LEPTON_S3_ENDPOINT_URL"], AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
        LEPTON_DATA_ROOT=str(tmp_path / "data"), LEPTON_STORE_URL="s3://lepton/store", PREFECT_API_URL=prefect_server,
        LEPTON_DASK_WORKERS="1", PREFECT_LOGGING_LEVEL="DEBUG", HOME=str(tmp_path),  # no ~/.aws to fall back on
    )
    ingest_args = [sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", "s3://lepton/src"]
    without = subprocess.run(ingest_args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert without.returncode != 0 and "credentials" in (without.stdout + without.stderr).lower()

    env["LEPTON_S3_SECRET_BLOCK"] = "lepton-s3-keys"
    started = time.time()
    ingest = _cli(ingest_args[3:], env)
    files = len(list(demo.iterdir()))
    assert f"files ingested:      {files}" in ingest.stdout
    train = _cli(["run", "train-sensor-model", "--param", "epochs=2", "--param", "model_size=tiny", "--param", "window=32"], env)
    scored = _cli(["run", "score-sensors"], env)
    assert "rows scored" in scored.stdout
    assert not (tmp_path / "data" / "store").exists() and fs.exists("lepton/store")

    # This test's process is a second one: it re-opens the store from object storage.
    for k, v in s3_server.items():
        monkeypatch.setenv(k, v)
    get_settings(fresh=True)  # the store's endpoint comes from the settings, read once per process
    url = "s3://lepton/store"
    st = store.state(url)
    assert len(st.sensors) == 4 and len(st.metrics) == 2 and store.ledger.count(url) == files
    sensors = store.open_sensors(url).load()
    scores = store.open_scores(url, "sensor-anomaly").load()
    assert scores.sizes == sensors.sizes and np.isfinite(scores.score.values).any()
    history = store.history(url)
    messages = [c["message"] for c in history]
    assert messages[0].startswith("scores of sensor-anomaly version 1") and any("sensor_ingest" in m or "ingest" in m for m in messages[1:])
    assert (sensors.temperature_quality.values == 1).sum() > 0.9 * sensors.sizes["sensor"] * 2880  # a day at 30 s, observed

    texts = {"failed run": without.stdout + without.stderr}
    for name, done in (("ingest", ingest), ("train", train), ("score", scored)):
        texts[name] = done.stdout + done.stderr
    logs, offset = [], 0
    after = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started - 5))
    while page := httpx.post(f"{prefect_server}/logs/filter", json={"offset": offset, "limit": 200, "logs": {"timestamp": {"after_": after}}}, timeout=30).json():
        logs += page
        offset += len(page)
    assert len(logs) > 50 and any(log["level"] == 10 for log in logs), "the runs should have logged at DEBUG"
    texts["prefect logs"] = "\n".join(log["message"] for log in logs)
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_bytes().decode("latin-1")
    texts["commits"] = repr(history)
    leaked = [where for where, text in texts.items() if secret in text]
    assert not leaked, f"the secret appears in {leaked}"

