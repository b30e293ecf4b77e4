"""`lepton-flow deploy` and `lepton-flow up`: the work pools, the `gpu` limit and the deployments.

`deploy` works against whatever `PREFECT_API_URL` points at and can be run
again at any time: pools that exist are kept as they are, the `gpu` limit is
set to the slots asked for, and `prefect deploy` updates the deployments and
replaces their triggers. `up` runs everything on one machine: a Prefect
server, `deploy`, one worker per pool; Ctrl-C stops it all.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import lepton_flow
from lepton_flow.services import (
    ServiceError,
    api_get,
    api_request,
    client_env,
    pool_status,
    prefect_bin,
    server_env,
    start_server,
    start_worker,
    stop_all,
)
from lepton_flow.settings import get_settings

REPO_ROOT = Path(lepton_flow.__file__).resolve().parents[1]
PREFECT_FILE = REPO_ROOT / "deployments" / "prefect.yaml"
CPU_POOL, GPU_POOL = "lepton-cpu", "lepton-gpu"
POOLS = {
    CPU_POOL: "Ingestion and cleaning (Dask inside the flow run).",
    GPU_POOL: "TensorFlow training and scoring; runs take a slot of the `gpu` concurrency limit.",
}
K8S_TEMPLATES = REPO_ROOT / "deployments" / "k8s"


class DeployError(ServiceError):
    """Deploying failed; the message says where and what to do."""


def host_gpus() -> int:
    """GPUs on this host by `nvidia-smi -L`, without importing TensorFlow; 0 when there is none."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return 0
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def _prefect(args: list[str], env: dict[str, str], cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:

    proc = subprocess.run([prefect_bin(), "--no-prompt", *args], env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise DeployError(f"`prefect {' '.join(args)}` failed ({proc.returncode}):\n{(proc.stdout + proc.stderr)[-4000:]}")
    return proc


def _job_template(pool: str, pool_type: str) -> dict | None:
    """The base job template a pool of this type is made with: the shipped Kubernetes one, the process worker's
    default; None for another type (the Prefect CLI then fetches its default)."""
    import json

    shipped = K8S_TEMPLATES / f"{pool}-job-template.json"
    if pool_type == "kubernetes" and shipped.exists():
        return json.loads(shipped.read_text())
    if pool_type == "process":
        from prefect.workers.process import ProcessWorker

        return ProcessWorker.get_default_base_job_template()
    return None


def ensure_pools(api_url: str, env: dict[str, str], pool_type: str = "process") -> dict[str, str]:
    """Create the two work pools that do not exist yet; returns pool -> 'created' | 'kept'.

    Made over the REST API with their job template and description (each
    `prefect work-pool create` was a 3 s interpreter start); a pool type
    whose template is not known here goes through the Prefect CLI.
    """
    out = {}
    for pool, description in POOLS.items():
        if api_get(api_url, f"/work_pools/{pool}") is not None:
            out[pool] = "kept"
            continue
        template = _job_template(pool, pool_type)
        if template is not None:
            body = {"name": pool, "type": pool_type, "description": description, "base_job_template": template}
            made = api_request("POST", api_url, "/work_pools/", body)
            if made.status_code != 409:  # 409: made meanwhile by another deploy
                made.raise_for_status()
        else:
            _prefect(["work-pool", "create", pool, "--type", pool_type], env)
            # The CLI takes no description; the UI's Work Pools page shows it.
            api_request("PATCH", api_url, f"/work_pools/{pool}", {"description": description}).raise_for_status()
        out[pool] = "created"
    return out


def set_gpu_limit(slots: int) -> int:
    """Create or update the `gpu` global concurrency limit to `slots` (the GPUs of one worker host)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
    from prefect.exceptions import ObjectNotFound

    from lepton_flow.flowtools import GPU_LIMIT

    with get_client(sync_client=True) as client:
        try:
            current = client.read_global_concurrency_limit_by_name(GPU_LIMIT)
        except ObjectNotFound:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=GPU_LIMIT, limit=slots))
            return slots
        if current.limit != slots or not current.active:
            client.update_global_concurrency_limit(GPU_LIMIT, GlobalConcurrencyLimitUpdate(limit=slots, active=True))
        return slots


CRASH_AUTOMATION = "lepton: mark runs without heartbeats Crashed"
HEARTBEAT_GRACE_SECONDS = 90


def ensure_crash_detection(grace: int = HEARTBEAT_GRACE_SECONDS) -> str:
    """The automation that marks a flow run Crashed once its heartbeats stop (its worker or host died).

    A process killed with SIGKILL reports nothing; without this its run
    stays Running for ever and holds its concurrency slots. Flow runs send
    heartbeats (PREFECT_FLOWS_HEARTBEAT_FREQUENCY, 30 s in prefect.yaml);
    `grace` seconds without one, after a first, is a crash. Kept when present; its grace changed when it differs.
    """
    from datetime import timedelta

    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    try:
        present = Automation.read(name=CRASH_AUTOMATION)
    except ValueError:
        present = None
    automation = Automation(
        name=CRASH_AUTOMATION,
        description=f"A flow run that sent a heartbeat and then none for {grace} s (its worker or host died) is marked Crashed.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", "prefect.flow-run.Completed", "prefect.flow-run.Failed", "prefect.flow-run.Cancelled", "prefect.flow-run.Crashed"},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=grace),
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED, message=f"no heartbeat for {grace} s: its worker or host stopped; run it again")],
    )
    if present is None:
        return str(automation.create().id)
    if present.trigger.within != automation.trigger.within:
        automation.id = present.id
        automation.update()
    return str(present.id)


def deploy(gpu_slots: int | None = None, prefect_file: Path = PREFECT_FILE, checkout: str | None = None, pool_type: str = "process") -> dict:
    """Pools, the `gpu` limit and every deployment of `prefect_file`, against PREFECT_API_URL."""
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    if not api:
        raise DeployError("PREFECT_API_URL is not set: deploy needs a Prefect server (start one with `lepton-flow up`, or point PREFECT_API_URL at yours)")
    if not Path(prefect_file).is_file():
        raise DeployError(f"no deployment file at {prefect_file}")
    env = dict(os.environ)
    env["PREFECT_API_URL"] = api
    # The pull step's working directory, resolved now: the checkout workers run the code from.
    env["LEPTON_CHECKOUT"] = checkout or env.get("LEPTON_CHECKOUT") or str(REPO_ROOT)
    pools = ensure_pools(api, env, pool_type)
    settings = get_settings()
    slots = gpu_slots if gpu_slots is not None else settings.gpus_per_host or max(1, host_gpus())
    set_gpu_limit(slots)
    _prefect(["deploy", "--prefect-file", str(prefect_file), "--all"], env, cwd=REPO_ROOT)
    ensure_crash_detection(settings.heartbeat_grace_seconds)
    names = sorted(f"{d['flow_name']}/{d['name']}" for d in _deployments(api))
    return {"api": api, "pools": pools, "gpu_slots": slots, "deployments": names, "checkout": env["LEPTON_CHECKOUT"]}


def _deployments(api_url: str) -> list[dict]:
    r = api_request("POST", api_url, "/deployments/filter", {"limit": 200}).raise_for_status()
    flows = api_request("POST", api_url, "/flows/filter", {"limit": 200}).raise_for_status().json()
    names = {f["id"]: f["name"] for f in flows}
    return [{**d, "flow_name": names.get(d["flow_id"], "?")} for d in r.json()]


def pause_schedules(api: str) -> list[str]:
    """Pause every deployment on the server at `api` (runs by hand still start); returns their names."""
    import httpx

    names = []
    for d in httpx.post(f"{api}/deployments/filter", json={}, timeout=30).json():
        httpx.post(f"{api}/deployments/{d['id']}/pause_deployment", timeout=30).raise_for_status()
        names.append(d["name"])
    return sorted(names)


def up(port: int = 4200, host: str = "127.0.0.1", home: str | None = None, gpu_slots: int | None = None, files_port: int | None = None, paused: bool = False) -> int:
    """A Prefect server, the deployments and one worker per pool on this machine, and the data root's reports served
    read-only beside them (`files_port`, 0: not served), until Ctrl-C."""
    from lepton_flow.fileserve import FileServer
    from lepton_flow.settings import FILES_PORT, get_settings, is_local, join

    settings = get_settings()
    home = home or os.environ.get("PREFECT_HOME") or join(settings.data_root, "prefect")
    os.makedirs(home, exist_ok=True)
    logs = Path(home) / "logs"
    services = []
    files = None
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        print(f"starting the Prefect server on {host}:{port} (PREFECT_HOME {home}) ...", flush=True)
        server, api = start_server(home, port=port, host=host, env=server_env(home))
        services.append(server)
        env = client_env(api)
        env["PREFECT_HOME"] = home
        env["LEPTON_DATA_ROOT"] = settings.data_root
        files_port = FILES_PORT if files_port is None else files_port
        if files_port and is_local(settings.data_root):
            try:
                files = FileServer(settings.data_root, host=host, port=files_port)
            except OSError as exc:
                raise ServiceError(f"cannot serve the data root's reports on {host}:{files_port} ({exc.strerror}): pass --files-port with a free port, or 0") from None
            # The flows link their artifacts there, unless a shared server's address is set.
            env.setdefault("LEPTON_FILES_URL", files.url)
        cmd = [sys.executable, "-m", "lepton_flow.cli", "deploy"] + ([] if gpu_slots is None else ["--gpu-slots", str(gpu_slots)])
        done = subprocess.run(cmd, env=env, text=True)
        if done.returncode != 0:
            raise DeployError("`lepton-flow deploy` failed (above)")
        if paused:
            names = pause_schedules(api)
            print(f"schedules paused: {', '.join(names)} (resume them in the UI, or `prefect deployment resume FLOW/NAME`)", flush=True)
        for pool in POOLS:
            services.append(start_worker(pool, api, logs / f"worker-{pool}.log", env=env))
            print(f"worker for {pool} ready (log {logs / f'worker-{pool}.log'})", flush=True)
        ui = api.removesuffix("/api")
        if files:
            print(f"reports and Data Docs: {files.url}/ (read-only; artifacts link there)", flush=True)
        print(f"\nPrefect UI: {ui}\nIn another shell: export PREFECT_API_URL={api}   (then `prefect deployment run sensor_ingest/sensor-ingest`)\nCtrl-C stops the server and the workers.", flush=True)
        while not stopping:
            dead = [s for s in services if not s.running]
            if dead:
                print(f"lepton-flow up: {dead[0].name} exited; its log {dead[0].log}:\n{dead[0].tail()}", file=sys.stderr)
                return 1
            time.sleep(1.0)
        return 0
    except KeyboardInterrupt:
        return 0
    except ServiceError as exc:
        print(f"lepton-flow up: {exc}", file=sys.stderr)
        return 1
    finally:
        if files:
            files.stop()
        if services:
            print("stopping the workers and the server ...", flush=True)
        # The workers first, while the server still takes their last events (stopped together, a worker retried
        # a server that was gone until it was killed).
        stop_all(list(reversed(services[1:])))
        stop_all(services[:1])
