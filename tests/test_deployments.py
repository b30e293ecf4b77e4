"""Deployments against a real Prefect server and real workers, as users meet them.

One stack per database: `prefect server start` (SQLite from a migrated
copy, or PostgreSQL started here), `lepton-flow deploy` (twice), a
`prefect worker` per pool. Runs start with `prefect deployment run`; what
happened is read back from the server: states, logs, artifacts, automations.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from lepton_flow.demo import DemoSpec, write_demo
from lepton_flow.deploy import PREFECT_FILE
from tests.stack import Postgres, Stack, stamp, wait_for

pytestmark = pytest.mark.slow

INGEST = ("sensor_ingest", "sensor-ingest")
SCORE = ("score_sensors", "score-sensors")
TRAIN = ("train_sensor_model", "train-sensor-model")
FAST_TRAINING = {"params": {"epochs": 2, "window": 32, "stride": 16, "patience": 1}}


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory, sqlite_template):
    stack = Stack(tmp_path_factory.mktemp("stack-sqlite"), template_home=sqlite_template)
    yield stack
    stack.stop()


@pytest.fixture
def postgres_stack(tmp_path_factory):
    base = tmp_path_factory.mktemp("stack-postgres")
    pg = Postgres(base)
    try:
        stack = Stack(base, database_url=pg.url)
    except BaseException:
        pg.stop()
        raise
    yield stack
    stack.stop()
    pg.stop()


def _demo_part(stack: Stack, name: str, start: str, days: float = 0.5) -> str:
    out = stack.data_root / "incoming" / name
    write_demo(str(out), DemoSpec(sensors=4, metrics=2, days=days, start=start, seed=3))
    return str(out)


def _completed(stack: Stack, run_id: str, timeout: float = 300) -> dict:
    run = stack.wait_final(run_id, timeout)
    assert run["state_name"] == "Completed", f"{run['name']}: {run['state_name']} {run['state'].get('message')}\n{stack.diagnose()}"
    return run


def _triggered_runs(stack: Stack, after: float) -> list[dict]:
    """Runs of the scoring deployment created by its trigger (not by hand) after `after`."""
    score = stack.deployment(*SCORE)
    return [r for r in stack.runs_of(score["id"]) if stamp(r["created"]) > after and r["auto_scheduled"] is False and r.get("created_by", {}) and r["created_by"].get("type") == "AUTOMATION"]


def _kill_the_cpu_worker_mid_ingest(stack: Stack) -> dict:
    """Start an ingest, and at its first heartbeat SIGKILL the lepton-cpu worker with its flow-run process (and that
    run's Dask processes): nothing is left to report the end. Returns what `_crashed_then_rerun` checks."""
    import psutil

    from lepton_flow import store

    url = str(stack.data_root / "store")
    before = store.state(url)
    source = _demo_part(stack, "killed", "2026-03-01T12:00:00Z")
    worker = next(s for s in stack.services if s.name == "worker for lepton-cpu")
    # Its files are few: it would read them in its own threads in a few seconds. This run starts a local Dask cluster
    # (a run's job variables replace the deployment's env whole: the heartbeats' setting is kept), so it is still
    # running when it is killed.
    env = {**stack.deployment(*INGEST)["job_variables"].get("env", {}), "LEPTON_LOCAL_CLUSTER_ABOVE_MB": "0"}
    run_id = stack.run_deployment(*INGEST, {"params": {"source": source}}, job_variables={"env": env})
    wait_for(lambda: stack.get(f"/flow_runs/{run_id}")["state_name"] == "Running", 120, "the ingest to start running")
    heartbeat = {"filter": {"event": {"name": ["prefect.flow-run.heartbeat"]}, "any_resource": {"id": [f"prefect.flow-run.{run_id}"]}}}
    wait_for(lambda: stack.post("/events/filter", heartbeat)["events"], 60, "the run's first heartbeat")
    victims = [psutil.Process(worker.proc.pid), *psutil.Process(worker.proc.pid).children(recursive=True)]
    for proc in victims:
        proc.kill()
    psutil.wait_procs(victims, timeout=30)
    stack.services.remove(worker)
    assert stack.get(f"/flow_runs/{run_id}")["state_name"] == "Running", "the run should have been killed mid-way"
    return {"run_id": run_id, "source": source, "before": before, "url": url}


def _commits_of(url: str, source: str) -> list[dict]:
    """The commits that ingested files of `source`: the ledger names each file's run, the commit names its run."""
    from lepton_flow import store

    runs = {r.get("run") for r in store.ledger.entries(url).values() if str(r.get("file", "")).startswith(source)}
    return [c for c in store.history(url, limit=1000) if c["metadata"].get("flow_run_id") in runs]


def _ledger_hashes(url: str, snapshot_id: str | None) -> set[str]:
    """Content hashes of the files the store's ledger holds at a snapshot (none before the store has one)."""
    from lepton_flow import store

    return {r["sha256"] for r in store.ledger.entries(url, snapshot_id).values()} if snapshot_id else set()


def _crashed_then_rerun(stack: Stack, killed: dict) -> None:
    """The heartbeat automation marks the killed run Crashed; nothing of it is in the store; the same run on a new
    worker ingests every file, in one commit."""
    from lepton_flow import store
    from lepton_flow.deploy import CRASH_AUTOMATION
    from lepton_flow.services import start_worker
    from lepton_flow.sources import hash_file

    names = [a["name"] for a in stack.post("/automations/filter", {})]
    assert names.count(CRASH_AUTOMATION) == 1, names  # deployed twice: still one
    url, source, before = killed["url"], killed["source"], killed["before"]
    crashed = stack.wait_final(killed["run_id"], timeout=300)
    assert crashed["state_name"] == "Crashed" and "no heartbeat for 45 s" in crashed["state"]["message"], crashed["state"]
    # Scoring runs may have committed meanwhile: the ingested files and the commits of this source are what count.
    assert _ledger_hashes(url, store.state(url).snapshot_id) == _ledger_hashes(url, before.snapshot_id) and _commits_of(url, source) == []

    # The crash seen, the grace goes back to deploy's default: at 45 s, one 30 s heartbeat held up 15 s marked the re-run
    # Crashed while it ran (seen in CI with both cores loaded: 35 s between two of its log lines).
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from lepton_flow.deploy import HEARTBEAT_GRACE_SECONDS, ensure_crash_detection

    with temporary_settings(updates={PREFECT_API_URL: stack.api}):
        ensure_crash_detection(HEARTBEAT_GRACE_SECONDS)
    crash = [a for a in stack.post("/automations/filter", {}) if a["name"] == CRASH_AUTOMATION]
    assert len(crash) == 1 and crash[0]["trigger"]["within"] == HEARTBEAT_GRACE_SECONDS, crash
    stack.services.append(start_worker("lepton-cpu", stack.api, stack.base / "worker-lepton-cpu-2.log", env=stack.env))
    t0 = time.time()
    _completed(stack, stack.run_deployment(*INGEST, {"params": {"source": source}}), timeout=400)
    # Its commit triggers a scoring run: let it finish, so that the chain's next trigger check sees its own.
    wait_for(lambda: [r for r in _triggered_runs(stack, t0) if r["state_name"] in ("Completed", "Failed", "Crashed")], 240, "the scoring run after the re-run")
    done = store.state(url)
    hashes = {hash_file(str(p))[0] for p in Path(source).iterdir() if not p.name.startswith((".", "_"))}
    assert hashes <= _ledger_hashes(url, done.snapshot_id)  # every file (an empty one's content may have been ingested before)
    assert _ledger_hashes(url, done.snapshot_id) - _ledger_hashes(url, before.snapshot_id) == hashes - _ledger_hashes(url, before.snapshot_id)
    assert len(_commits_of(url, source)) == 1  # one commit holds them all


def _chain(stack: Stack, trainings: int, kill_a_worker: bool = False, meanwhile=None) -> dict:
    """ingest -> trigger -> scoring (no model yet) ; training ; ingest -> trigger -> scores ; nothing new -> no trigger.
    `meanwhile()` runs after the trainings and the killed run's crash and re-run: while the crash automation's grace is
    45 s (to mark the killed run Crashed soon), a healthy run on a loaded machine, whose heartbeats come every 30 s, is
    one late heartbeat from being marked Crashed too (seen in CI with both cores busy: the git worker's ingest, which
    starts a Dask cluster)."""
    # Deploying again changes nothing but the crash automation's grace, set to a new value, and leaves one trigger on
    # the scoring deployment and one crash automation.
    from lepton_flow.deploy import CRASH_AUTOMATION

    again = stack.deploy(env={"LEPTON_HEARTBEAT_GRACE_SECONDS": "45"})
    assert "lepton-cpu (kept), lepton-gpu (kept)" in again.stdout
    crash = [a for a in stack.post("/automations/filter", {}) if a["name"] == CRASH_AUTOMATION]
    assert len(crash) == 1 and crash[0]["trigger"]["within"] == 45.0, crash
    score = stack.deployment(*SCORE)
    owned = stack.post("/automations/filter", {})
    mine = [a for a in owned if a.get("actions") and any(act.get("deployment_id") == score["id"] for act in a["actions"])]
    assert len(mine) == 1, mine
    # Named and described for a person reading the Automations page (not `score-sensors__automation_1`).
    assert mine[0]["name"] == "lepton: score new sensor readings after each ingest" and "lepton.sensors.committed" in mine[0]["description"], mine[0]

    part_a = _demo_part(stack, "a", "2026-03-01T00:00:00Z")
    t0 = time.time()
    first = _completed(stack, stack.run_deployment(*INGEST, {"params": {"source": part_a}}))
    triggered = wait_for(lambda: [r for r in _triggered_runs(stack, t0) if r["state_name"] in ("Completed", "Failed", "Crashed")], 120, "the trigger to run scoring after the first ingest")
    assert triggered[0]["state_name"] == "Completed", triggered[0]
    assert triggered[0]["parameters"]["params"]["require_model"] is False
    # The ingest's log reads as a story: its own lines, one summary line at the end, no "Finished in state
    # Completed()" per task run (those are on the Task Runs tab), and the flow's final state.
    lines = wait_for(lambda: (got := stack.logs(first["id"])) and any(g["message"].startswith("Finished in state") for g in got) and got, 30, "the ingest's log")
    assert not [g for g in lines if g["task_run_id"] and g["message"].startswith("Finished in state Completed")], [g["message"] for g in lines]
    assert any(g["message"].startswith("sensor_ingest: ") and "file(s) ingested" in g["message"] for g in lines), [g["message"] for g in lines]
    # Under a megabyte of new files: read in threads of the flow run's process, no Dask cluster started for them.
    assert any("of input: the tasks run in" in g["message"] and "thread(s) of this flow run's process" in g["message"] for g in lines), [g["message"] for g in lines]
    limits = [c["name"] for c in stack.post("/v2/concurrency_limits/filter", {})]
    assert "one ingest at a time: store data-store (" in " ".join(limits), limits  # the store lock says what it is
    assert triggered[0]["parameters"]["params"]["triggered_by"] == first["id"]  # the scoring run names the ingest that started it
    logs = wait_for(lambda: [log["message"] for log in stack.logs(triggered[0]["id"]) if "no current model" in log["message"]], 30, "the scoring run's log")
    assert logs, "scoring before any training should say there is no model yet"
    if not trainings:
        return {"first": first, "scored": triggered[0]}

    # A worker killed mid-ingest: its run is marked Crashed 45 s after its last heartbeat, while the trainings run.
    killed = _kill_the_cpu_worker_mid_ingest(stack) if kill_a_worker else None

    # Training runs queued together wait for the one `gpu` slot instead of sharing it.
    runs = [stack.run_deployment(*TRAIN, FAST_TRAINING) for _ in range(trainings)]
    held = []
    for run_id in runs:
        _completed(stack, run_id, timeout=600)

        def slot_times():
            logs = stack.logs(run_id)  # shipped in batches: the last ones may land after the run completes
            taken = [stamp(log["timestamp"]) for log in logs if log["message"].startswith("gpu slot taken (prefect lock)")]
            released = [stamp(log["timestamp"]) for log in logs if log["message"].startswith("gpu slot released")]
            return (taken, released) if taken and released else None

        taken, released = wait_for(slot_times, 30, f"the gpu slot log lines of training run {run_id}")
        assert len(taken) == 1 and len(released) == 1, (taken, released)
        held.append((taken[0], released[0], run_id))
    held.sort()
    for (_, end, a), (start, _, b) in zip(held, held[1:]):
        assert start >= end, f"training runs {a} and {b} held the gpu slot at the same time: {held}"

    if killed:
        _crashed_then_rerun(stack, killed)
    if meanwhile:  # after the grace is back at 90 s: under 45 s, a healthy run is one late heartbeat from Crashed
        meanwhile()

    part_b = _demo_part(stack, "b", "2026-03-02T00:00:00Z")
    t1 = time.time()
    second = _completed(stack, stack.run_deployment(*INGEST, {"params": {"source": part_b}}))
    scored = wait_for(lambda: [r for r in _triggered_runs(stack, t1) if r["state_name"] in ("Completed", "Failed", "Crashed")], 240, "the trigger to run scoring after the second ingest")
    assert scored[0]["state_name"] == "Completed", f"{scored[0]['state']}\n{stack.diagnose()}"
    scored_artifacts = {a["key"]: a for a in stack.artifacts(scored[0]["id"])}
    assert {"score-summary", "score-top-anomalies"} <= set(scored_artifacts), set(scored_artifacts)
    summary_md = scored_artifacts["score-summary"]["data"]
    assert "triggered by flow run" in summary_md and (second["id"] in summary_md or second["id"].replace("-", "\\-") in summary_md), summary_md
    ingest_keys = {a["key"] for a in stack.artifacts(second["id"])}
    assert {"sensor-ingest-summary", "sensor-ingest-accounting"} <= ingest_keys, ingest_keys
    events = stack.post("/events/filter", {"filter": {"event": {"name": ["lepton.sensors.committed"]}}})["events"]
    snapshots = [e for e in events if e["resource"].get("lepton.store-url", "").startswith(str(stack.data_root))]  # this store's, not another host's
    assert len(snapshots) == 2 + bool(killed) and all(e["payload"]["snapshot"] for e in snapshots), snapshots

    # Nothing new: the ingest completes, emits nothing, and no scoring follows.
    t2 = time.time()
    _completed(stack, stack.run_deployment(*INGEST, {"params": {"source": part_b}}))
    time.sleep(8)
    assert _triggered_runs(stack, t2) == []
    return {"first": first, "second": second, "scored": scored[0]}


def test_deployed_chain_sqlite(sqlite_stack, tmp_path):
    """The chain, with two trainings queued together (enough to show the gpu slot is not shared) and a worker killed
    mid-ingest; then a worker elsewhere runs flow code it pulls from git."""
    _chain(sqlite_stack, trainings=2, kill_a_worker=True, meanwhile=lambda: _a_worker_elsewhere_pulls_the_flow_code_from_git(sqlite_stack, tmp_path))
    # The server's and workers' logs hold what a person needs: no SQLite lock errors (the server begins its write
    # transactions IMMEDIATE, `lepton_flow.prefect_server`; Prefect's own logged some under two stacks on two cores),
    # no TensorFlow start-up notes, no CUDA search on a host without a GPU, no Dask warning about its dashboard port.
    from lepton_flow.gpu import has_nvidia_device

    for service in sqlite_stack.services:
        text = service.log.read_text(errors="replace")
        assert "absl::InitializeLog" not in text and "oneDNN custom operations" not in text, service.name
        assert "is already in use" not in text and "database is locked" not in text, service.name
        if not has_nvidia_device():
            assert "cuInit" not in text and "Could not find cuda drivers" not in text, service.name


def test_deployed_chain_postgres(postgres_stack):
    """The server on PostgreSQL: deploy twice, ingest, the trigger's scoring run (the rest of the chain is the SQLite one's)."""
    _chain(postgres_stack, trainings=0)


def test_deploy_needs_a_server(tmp_path):
    """Without PREFECT_API_URL, deploy says what to do instead of deploying to an ephemeral API."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "deploy"], env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "PREFECT_API_URL is not set" in proc.stderr and "lepton-flow up" in proc.stderr


def _a_worker_elsewhere_pulls_the_flow_code_from_git(stack: Stack, tmp_path: Path) -> None:
    """A deployment whose pull step clones a git repository (served by `git daemon` on loopback), run by a worker in
    an empty directory of its own, with a data root of its own (another host's): the flow that runs is the one in the
    repository."""
    import subprocess

    from lepton_flow.deploy import REPO_ROOT
    from lepton_flow.services import Service, free_port, start_worker

    served, work, host = tmp_path / "served", tmp_path / "work", tmp_path / "other-host"
    host.mkdir()
    git = lambda *a, cwd=None: subprocess.run(["git", *a], cwd=cwd, check=True, capture_output=True, text=True)  # noqa: E731
    git("clone", "--quiet", str(REPO_ROOT), str(work))
    marker = f"flow code from git {time.time_ns()}"
    flow_file = work / "flows" / "sensor_ingest.py"
    lines = flow_file.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if "run = plan_ingest_run(" in line)
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    lines.insert(at, f"{indent}print({marker!r})\n")
    flow_file.write_text("".join(lines))
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-am", "marker", cwd=work)
    git("clone", "--quiet", "--bare", str(work), str(served / "lepton-flow.git"))

    port = free_port()
    daemon = Service("git daemon", ["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={served}", "--listen=127.0.0.1", f"--port={port}", str(served)], stack.env, tmp_path / "git-daemon.log")
    worker = None
    try:
        spec = yaml.safe_load(PREFECT_FILE.read_text())
        ingest = next(d for d in spec["deployments"] if d["name"] == "sensor-ingest")
        spec["pull"] = [{"prefect.deployments.steps.git_clone": {"repository": f"git://127.0.0.1:{port}/lepton-flow.git"}}]
        spec["deployments"] = [{**ingest, "name": "sensor-ingest-from-git", "schedules": [], "work_pool": {"name": "lepton-remote"}}]
        (tmp_path / "prefect.yaml").write_text(yaml.safe_dump(spec))
        assert stack.prefect("work-pool", "create", "lepton-remote", "--type", "process").returncode == 0
        done = stack.prefect("deploy", "--prefect-file", str(tmp_path / "prefect.yaml"), "--all", cwd=REPO_ROOT)
        assert done.returncode == 0, done.stdout + done.stderr
        # That host's runs always start a local Dask cluster (LEPTON_LOCAL_CLUSTER_ABOVE_MB=0), whatever their size.
        env = {**stack.env, "LEPTON_DATA_ROOT": str(host / "data"), "LEPTON_LOCAL_CLUSTER_ABOVE_MB": "0"}
        worker = start_worker("lepton-remote", stack.api, tmp_path / "worker-remote.log", env=env, cwd=str(host))
        source = _demo_part(stack, "from-git", "2026-03-03T00:00:00Z")
        run = _completed(stack, stack.run_deployment("sensor_ingest", "sensor-ingest-from-git", {"params": {"source": source}}))
        logs = wait_for(lambda: [log["message"] for log in stack.logs(run["id"]) if marker in log["message"]], 30, "the marker line in the run's logs")
        assert logs == [marker]
        steps = [log["message"] for log in stack.logs(run["id"]) if "git_clone" in log["message"]]
        assert "Deployment step 'git_clone' completed successfully" in steps, steps
        printed = (tmp_path / "worker-remote.log").read_text(errors="replace")
        assert "Creating a new Dask cluster with `lepton_flow.parallel.local_cluster`" in printed and "is already in use" not in printed
    finally:
        if worker:
            worker.stop()
        daemon.stop()
