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
from tests.stack import OUTPUT_DIR, Postgres, Stack, migrate_sqlite, stamp, wait_for

pytestmark = pytest.mark.slow

INGEST = ("sensor_ingest", "sensor-ingest")
SCORE = ("score_sensors", "score-sensors")
TRAIN = ("train_sensor_model", "train-sensor-model")
FAST_TRAINING = {"params": {"epochs": 2, "window": 32, "stride": 16, "patience": 1}}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-template")
    migrate_sqlite(home)
    return home


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
    run_id = stack.run_deployment(*INGEST, {"params": {"source": source}})
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
    assert crashed["state_name"] == "Crashed" and "no heartbeat" in crashed["state"]["message"], crashed["state"]
    # Scoring runs may have committed meanwhile: the ingested files and the commits of this source are what count.
    assert _ledger_hashes(url, store.state(url).snapshot_id) == _ledger_hashes(url, before.snapshot_id) and _commits_of(url, source) == []

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


def _chain(stack: Stack, trainings: int, kill_a_worker: bool = False) -> dict:
    """ingest -> trigger -> scoring (no model yet) ; training ; ingest -> trigger -> scores ; nothing new -> no trigger."""
    # Deploying again changes nothing and leaves one trigger on the scoring deployment.
    again = stack.deploy()
    assert "lepton-cpu (kept), lepton-gpu (kept)" in again.stdout
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
    limits = [c["name"] for c in stack.post("/v2/concurrency_limits/filter", {})]
    assert "one ingest at a time: store data-store (" in " ".join(limits), limits  # the store lock says what it is
    assert triggered[0]["parameters"]["params"]["triggered_by"] == first["id"]  # the scoring run names the ingest that started it
    logs = wait_for(lambda: [log["message"] for log in stack.logs(triggered[0]["id"]) if "no current model" in log["message"]], 30, "the scoring run's log")
    assert logs, "scoring before any training should say there is no model yet"
    if not trainings:
        return {"first": first, "scored": triggered[0]}

    # A worker killed mid-ingest: its run is marked Crashed 90 s after its last heartbeat, while the trainings run.
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
    snapshots = [e for e in stack.post("/events/filter", {"filter": {"event": {"name": ["lepton.sensors.committed"]}}})["events"]]
    assert len(snapshots) == 2 + bool(killed) and all(e["payload"]["snapshot"] for e in snapshots), snapshots

    # Nothing new: the ingest completes, emits nothing, and no scoring follows.
    t2 = time.time()
    _completed(stack, stack.run_deployment(*INGEST, {"params": {"source": part_b}}))
    time.sleep(8)
    assert _triggered_runs(stack, t2) == []
    return {"first": first, "second": second, "scored": scored[0]}


def test_deployed_chain_sqlite(sqlite_stack):
    _chain(sqlite_stack, trainings=2, kill_a_worker=True)  # two runs queued together are enough to show the slot is not shared
    # The server's and workers' logs hold what a person needs: no SQLite lock errors under this session's load, no
    # TensorFlow start-up notes, no CUDA search on a host without a GPU, no Dask warning about its dashboard port.
    from lepton_flow.gpu import has_nvidia_device

    for service in sqlite_stack.services:
        text = service.log.read_text(errors="replace")
        assert "absl::InitializeLog" not in text and "oneDNN custom operations" not in text, service.name
        assert "is already in use" not in text and "database is locked" not in text, service.name
        if not has_nvidia_device():
            assert "cuInit" not in text and "Could not find cuda drivers" not in text, service.name


# True when an element whose whole text is the run's name has, in its nearest ancestor holding a state
# badge (tag badges do not count), the badge of that state: the run page's header, never another run's row.
STATES = ["Scheduled", "Late", "Pending", "Running", "Completed", "Failed", "Crashed", "Cancelled", "Cancelling", "Paused"]
STATE_BESIDE_NAME = """([name, state, states]) => {
  for (const el of document.querySelectorAll("body *")) {
    if (el.children.length || el.textContent.trim() !== name) continue;
    for (let up = el.parentElement; up; up = up.parentElement) {
      const shown = [...up.querySelectorAll('[data-slot="badge"]')].map((b) => b.textContent.trim()).filter((t) => states.includes(t));
      if (shown.length) {
        if (shown[0] === state) return true;
        break;
      }
    }
  }
  return false;
}"""


HOSTILE = '<img src=x onerror="window.__xss=(window.__xss||0)+1">'


def test_ui_custom_run(sqlite_stack, tmp_path):
    """Headless Chromium: open the UI, find the sensor-ingest deployment, start a custom run with another
    source from the parameter form, and wait until the UI shows it Completed; keep a screenshot. The source
    holds a file named like an HTML image whose error handler runs script: every artifact of the run (the
    accounting and validation tables name the file) shows that name as text, and no script runs."""
    from playwright.sync_api import expect, sync_playwright

    from tests.stack import chromium_launch

    stack = sqlite_stack
    source = _demo_part(stack, "from-ui", "2026-03-02T12:00:00Z")
    hostile = Path(source) / f"{HOSTILE}.csv"
    hostile.write_text("timestamp,sensor_id,metric,value,unit\n2026-03-02T12:00:00Z,ui-x,temperature,20.5,C\n2026-03-02T12:00:30Z,ui-x,temperature,20.6,C\n")
    ui = stack.api.removesuffix("/api")
    shot = OUTPUT_DIR / "ui-sensor-ingest-run.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**chromium_launch(tmp_path))
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        # Loopback only: the UI's analytics calls (and anything else) never leave the machine.
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")) else route.abort())
        page = context.new_page()
        page.set_default_timeout(60_000)

        try:
            page.goto(f"{ui}/v2/deployments")
            page.get_by_role("link", name="sensor-ingest", exact=True).click()
            page.get_by_role("button", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Custom run").click()
            name_field = page.get_by_label("Run Name")
            expect(name_field).not_to_have_value("")  # the form makes up a name once it has loaded
            run_name = f"ui-custom-{int(time.time())}"
            name_field.fill(run_name)
            # The fields a user comes to change come first, in the model's order, not alphabetically; steps shows its defaults.
            page.get_by_label("Source (Optional)").wait_for()
            page.screenshot(path=str(OUTPUT_DIR / "ui-sensor-ingest-form.png"), full_page=True)
            labels = [t.strip() for t in page.locator("label").all_inner_texts() if t.strip()]
            first = [next((i for i, t in enumerate(labels) if t.startswith(name)), None) for name in ("Source", "Format", "Steps", "Timezone", "Hampel Half Window", "Max Gap")]
            assert None not in first and first == sorted(first), labels
            page.get_by_label("Source (Optional)").fill(source)
            _submit(page, ui, stack, run_name)
            # The page keeps the previous DOM (the deployment page, with older runs' Completed badges) until
            # the run page renders: be on this run's page, and read the badge beside this run's name only.
            made = stack.post("/flow_runs/filter", {"flow_runs": {"name": {"any_": [run_name]}}})
            page.wait_for_url(f"**/runs/flow-run/{made[0]['id']}**")
            page.wait_for_function(STATE_BESIDE_NAME, arg=[run_name, "Completed", STATES], timeout=240_000, polling=1000)
            wanted = {"sensor-ingest-accounting", "sensor-ingest-validation", "sensor-ingest-summary"}
            # Read until they are listed: once, under load, the badge showed Completed before the API listed them.
            def listed():
                found = stack.artifacts(made[0]["id"])
                return found if wanted <= {a["key"] for a in found} else None

            artifacts = wait_for(listed, 60, "the run's artifacts")
            # Both of the server's UIs: the default one at / and the new one at /v2.
            for artifact, prefix in [(a, p) for a in artifacts for p in ("", "/v2")]:
                page.goto(f"{ui}{prefix}/artifacts/artifact/{artifact['id']}")
                page.get_by_text(artifact["key"]).first.wait_for()
                if artifact["type"] == "table":
                    page.get_by_text("onerror=", exact=False).first.wait_for()  # the name, shown as text
                page.wait_for_timeout(500)  # an injected image would have failed to load by now
                assert page.evaluate("window.__xss") is None and page.locator("img[onerror]").count() == 0, (prefix, artifact["key"])
            _links_open_files(page, ui, stack, artifacts)
            _bad_source_fails_with_one_line(page, ui, stack)
            _empty_required_source_submits_and_fails_in_one_line(page, ui, stack)
        finally:
            OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
            browser.close()
    runs = stack.post("/flow_runs/filter", {"flow_runs": {"name": {"any_": [run_name]}}})
    assert len(runs) == 1, runs
    assert stack.wait_final(runs[0]["id"], 30)["state_name"] == "Completed", runs
    assert runs[0]["parameters"]["params"]["source"] == source
    # Steps without exactly one 'resample' are refused when the run is asked for (as the form submits it), not 8 s into it.
    import httpx

    deployment = stack.deployment("sensor_ingest", "sensor-ingest")
    for steps in (["dedupe", "hampel"], ["resample", "hampel", "resample"]):
        r = httpx.post(f"{stack.api}/deployments/{deployment['id']}/create_flow_run", json={"parameters": {"params": {"steps": steps}}}, timeout=30)
        assert r.status_code == 409 and "params.steps" in r.text, (steps, r.status_code, r.text[:500])
    assert shot.stat().st_size > 10_000


def test_schedules_match_prefect_yaml(tmp_path, sqlite_template):
    """Schedules read back from the server are the file's; the scheduler creates upcoming runs for each."""
    stack = Stack(tmp_path, template_home=sqlite_template, scheduler=True, workers=False)
    try:
        stack.deploy()
        declared = {d["name"]: d for d in yaml.safe_load(PREFECT_FILE.read_text())["deployments"]}
        flows = {f["id"]: f["name"] for f in stack.post("/flows/filter", {})}
        served = {d["name"]: d for d in stack.post("/deployments/filter", {})}
        assert set(served) == set(declared)
        for name, want in declared.items():
            got = served[name]
            assert flows[got["flow_id"]] == want["entrypoint"].split(":")[1] and got["work_pool_name"] == want["work_pool"]["name"]
            assert set(got["tags"]) == set(want["tags"])
            if "concurrency_limit" in want:
                assert got["global_concurrency_limit"]["limit"] == want["concurrency_limit"]["limit"], got
                assert got["concurrency_options"]["collision_strategy"] == want["concurrency_limit"]["collision_strategy"], got
            schedules = [s["schedule"] for s in got["schedules"]]
            expected = want.get("schedules", [])
            assert len(schedules) == len(expected), (name, schedules)
            for have, spec in zip(schedules, expected):
                if "interval" in spec:
                    assert have["interval"] == spec["interval"], (name, have)
                else:
                    assert have["cron"] == spec["cron"] and have["timezone"] == spec["timezone"], (name, have)
        scheduled = [d for d in declared.values() if d.get("schedules")]

        def upcoming():
            out = {}
            for want in scheduled:
                runs = stack.runs_of(served[want["name"]]["id"])
                out[want["name"]] = [r for r in runs if r["state_name"] == "Scheduled" and r["auto_scheduled"]]
            return out if all(out.values()) else None

        # The Kubernetes base job templates are accepted by a server (it checks every placeholder has a variable).
        for pool in ("lepton-cpu", "lepton-gpu"):
            template = PREFECT_FILE.parent / "k8s" / f"{pool}-job-template.json"
            made = stack.prefect("work-pool", "create", f"k8s-{pool}", "--type", "kubernetes", "--base-job-template", str(template))
            assert made.returncode == 0, made.stdout + made.stderr
        manifest = stack.get("/work_pools/k8s-lepton-gpu")["base_job_template"]["job_configuration"]["job_manifest"]
        assert manifest["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "{{ gpus }}"

        found = wait_for(upcoming, 90, "the scheduler to create upcoming runs for every scheduled deployment")
        cron = found["train-sensor-model"][0]
        assert cron["expected_start_time"][11:16] == "02:00", cron["expected_start_time"]
        ingest = [stamp(r["expected_start_time"]) for r in found["sensor-ingest"]]
        assert all(round(b - a) == 900 for a, b in zip(ingest, ingest[1:])), ingest
    finally:
        stack.stop()


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


def _submit(page, ui: str, stack: Stack, run_name: str) -> None:
    """Submit the custom-run form whose run name is `run_name`, and open the run's page.

    Seen under load: a click on Submit that sent nothing (the form was still settling). Click again only
    while the server has no run of that name, so at most one run is made."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    view = page.get_by_role("link", name="View run")
    for _ in range(3):
        page.get_by_role("button", name="Submit").click()
        try:
            view.wait_for(timeout=20_000)
            break
        except PlaywrightTimeout:
            made = stack.post("/flow_runs/filter", {"flow_runs": {"name": {"any_": [run_name]}}})
            if made:  # submitted, the toast was missed: open the run's page as its link would
                page.goto(f"{ui}/v2/runs/flow-run/{made[0]['id']}")
                break
    else:
        raise AssertionError("the UI did not submit the custom run after three clicks on Submit")
    if view.is_visible():
        view.click()


def _links_open_files(page, ui: str, stack: Stack, artifacts: list[dict]) -> None:
    """The ingest summary's Data Docs link opens the Data Docs page; a training-curves image artifact loads its
    image from the URL the data root's files are served at (not a data: URL)."""
    summary = next(a for a in artifacts if a["key"] == "sensor-ingest-summary")
    page.goto(f"{ui}/artifacts/artifact/{summary['id']}")
    link = page.get_by_role("link", name="validation results")
    href = link.get_attribute("href")
    assert href and href.startswith(stack.files.url + "/gx/") and href.endswith("index.html"), href
    page.goto(href)
    page.get_by_text("Validation Results", exact=False).first.wait_for()  # GX's own index page
    page.screenshot(path=str(OUTPUT_DIR / "ui-data-docs-from-artifact.png"), full_page=True)

    curves = stack.post("/artifacts/filter", {"artifacts": {"key": {"any_": ["train-curves"]}}})
    if not curves:  # this test run alone: train once
        _completed(stack, stack.run_deployment(*TRAIN, FAST_TRAINING), timeout=600)
        curves = wait_for(lambda: stack.post("/artifacts/filter", {"artifacts": {"key": {"any_": ["train-curves"]}}}), 30, "the train-curves artifact")
    assert curves[0]["data"].startswith(stack.files.url + "/reports/train/"), curves[0]["data"][:100]
    page.goto(f"{ui}/artifacts/artifact/{curves[0]['id']}")
    image = page.locator(f'img[src="{curves[0]["data"]}"]')
    image.wait_for()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 100", arg=image.element_handle(), timeout=30_000)
    page.screenshot(path=str(OUTPUT_DIR / "ui-training-curves.png"), full_page=True)


def _bad_source_fails_with_one_line(page, ui: str, stack: Stack) -> None:
    """A source that does not exist: the run ends Failed, and its page shows the one-line message (no traceback)."""
    missing = str(stack.data_root / "incoming" / "no-such-folder")
    run_id = stack.run_deployment(*INGEST, {"params": {"source": missing}})
    run = stack.wait_final(run_id, 240)
    assert run["state_name"] == "Failed" and "no such file or directory" in run["state"]["message"], run["state"]
    page.goto(f"{ui}/v2/runs/flow-run/{run_id}")
    page.wait_for_function(STATE_BESIDE_NAME, arg=[run["name"], "Failed", STATES], timeout=60_000, polling=1000)
    page.get_by_text("no such file or directory; give a directory", exact=False).first.wait_for()
    page.screenshot(path=str(OUTPUT_DIR / "ui-bad-source-failed.png"), full_page=True)
    logs = [log["message"] for log in stack.logs(run_id)]
    assert not [m for m in logs if "Traceback" in m], logs  # an input mistake, not a bug: no traceback anywhere in its log

    # A time zone the form would refuse, sent as a deployment made before the list existed would take it (the
    # schema not enforced): the run ends Failed naming the field and what to give, without a traceback.
    import httpx

    deployment = stack.deployment(*INGEST)
    r = httpx.post(f"{stack.api}/deployments/{deployment['id']}/create_flow_run", json={"parameters": {"params": {"timezone": "Mars/Olympus"}}, "enforce_parameter_schema": False}, timeout=30)
    assert r.status_code == 201, r.text[:500]
    run = stack.wait_final(r.json()["id"], 240)
    message = run["state"]["message"]
    assert run["state_name"] == "Failed" and "params.timezone" in message and "unknown time zone 'Mars/Olympus': an IANA name such as Europe/Berlin" in message, message
    # The engine checks parameters before the flow's logger exists: the reason is in the state (the run's header), and
    # nothing in the run's log (the pull steps' lines) or the worker's is a traceback.
    logs = wait_for(lambda: [log["message"] for log in stack.logs(run["id"])], 30, "the run's log")
    worker = next(s for s in stack.services if s.name == "worker for lepton-cpu").log.read_text(errors="replace")
    assert not [m for m in logs if "Traceback" in m] and "Mars/Olympus" in worker and "Traceback" not in worker.split("Mars/Olympus", 1)[1], logs


def test_every_deployed_parameter_is_described_and_none_is_a_type_switch(sqlite_stack):
    """Read back from the server: every field of every deployment's parameter form has a description, and no field
    is drawn as a switch between a type and None ("Property is type None"): optional fields are plain fields."""
    deployments = sqlite_stack.post("/deployments/filter", {})
    assert len(deployments) >= 7, [d["name"] for d in deployments]
    problems, fields = [], 0
    for d in deployments:
        schema = d["parameter_openapi_schema"]
        defs = schema.get("definitions", schema.get("$defs", {}))

        def walk(where: str, props: dict) -> None:
            nonlocal fields
            for name, prop in props.items():
                fields += 1
                if "$ref" in prop or (prop.get("allOf") and "$ref" in prop["allOf"][0]):
                    ref = prop.get("$ref") or prop["allOf"][0]["$ref"]
                    walk(f"{where}.{name}", defs[ref.rsplit("/", 1)[-1]].get("properties", {}))
                    continue
                if not prop.get("description"):
                    problems.append(f"{where}.{name}: no description")
                if any(b.get("type") == "null" for b in prop.get("anyOf", [])):
                    problems.append(f"{where}.{name}: drawn as a type/None switch")

        walk(d["name"], schema.get("properties", {}))
    assert fields > 60 and problems == [], problems


def _empty_required_source_submits_and_fails_in_one_line(page, ui: str, stack: Stack) -> None:
    """The image classifier's form submitted without a source: the run is made (Prefect's form, once refused a required
    field, sent nothing on the next Submit) and ends Failed saying what to give."""
    from playwright.sync_api import expect

    page.goto(f"{ui}/v2/deployments")
    page.get_by_role("link", name="image-classifier", exact=True).click()
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Custom run").click()
    name_field = page.get_by_label("Run Name")
    expect(name_field).not_to_have_value("")
    run_name = f"ui-no-source-{int(time.time())}"
    name_field.fill(run_name)
    page.get_by_label("Source (Optional)").wait_for()
    _submit(page, ui, stack, run_name)
    made = stack.post("/flow_runs/filter", {"flow_runs": {"name": {"any_": [run_name]}}})
    assert len(made) == 1 and made[0]["parameters"]["params"].get("source", "") == "", made
    run = stack.wait_final(made[0]["id"], 240)
    assert run["state_name"] == "Failed" and run["state"]["message"].startswith("source: empty; give a directory with one folder per class"), run["state"]
    page.goto(f"{ui}/v2/runs/flow-run/{run['id']}")
    page.get_by_text("source: empty; give a directory", exact=False).first.wait_for()


def test_up_runs_everything_and_ctrl_c_stops_it(tmp_path):
    """`lepton-flow up --paused`: server, deployments with their schedules paused, a READY worker per pool, the data
    root's reports served read-only, the UI address printed; SIGINT stops all of it."""
    import os
    import signal
    import subprocess
    import sys

    import httpx
    import psutil

    from lepton_flow.deploy import pool_status
    from lepton_flow.services import free_port

    port, files_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME", "LEPTON_FILES_URL")}
    env.update({"LEPTON_DATA_ROOT": str(tmp_path / "data"), "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false"})
    (tmp_path / "data" / "reports").mkdir(parents=True)
    (tmp_path / "data" / "reports" / "note.txt").write_text("served")
    (tmp_path / "data" / "secret.txt").write_text("not served")
    log = open(tmp_path / "up.log", "w+")
    # As from a terminal: a test run started in the background (`make test &`) ignores SIGINT, and its children would too.
    proc = subprocess.Popen(
        [sys.executable, "-m", "lepton_flow.cli", "up", "--port", str(port), "--files-port", str(files_port), "--paused"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_for(lambda: "Prefect UI: http://127.0.0.1:%d" % port in (tmp_path / "up.log").read_text(), 240, "lepton-flow up to print the UI address")
        assert httpx.get(f"{api}/health").status_code == 200
        assert pool_status("lepton-cpu", api) == "READY" and pool_status("lepton-gpu", api) == "READY"
        assert "TensorFlow" in httpx.get(f"{api}/work_pools/lepton-gpu").json()["description"]
        deployments = httpx.post(f"{api}/deployments/filter", json={}).json()
        names = {d["name"] for d in deployments}
        assert {"sensor-ingest", "log-ingest", "train-sensor-model", "score-sensors", "image-classifier", "classify-images"} <= names
        assert all(d["paused"] for d in deployments), [(d["name"], d["paused"]) for d in deployments]
        files = f"http://127.0.0.1:{files_port}"
        assert f"reports and Data Docs: {files}/" in (tmp_path / "up.log").read_text()
        assert httpx.get(f"{files}/reports/note.txt").text == "served"
        assert httpx.get(f"{files}/secret.txt").status_code == 404 and httpx.get(f"{files}/prefect/prefect.db").status_code == 404
        assert (tmp_path / "data" / "prefect" / "prefect.db").exists()
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 3, children  # the server and two workers
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
    out = (tmp_path / "up.log").read_text()
    assert code == 0, out
    assert "stopping the workers and the server" in out
    alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], alive
    for url in (f"{api}/health", f"{files}/"):
        try:
            httpx.get(url, timeout=2)
            raise AssertionError(f"{url} still answers after Ctrl-C")
        except httpx.HTTPError:
            pass


def test_a_worker_elsewhere_pulls_the_flow_code_from_git(sqlite_stack, tmp_path):
    """A deployment whose pull step clones a git repository (served by `git daemon` on loopback), run by
    a worker in an empty directory of its own: the flow that runs is the one in the repository."""
    import subprocess

    from lepton_flow.deploy import REPO_ROOT
    from lepton_flow.services import Service, free_port, start_worker

    stack = sqlite_stack
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
        worker = start_worker("lepton-remote", stack.api, tmp_path / "worker-remote.log", env=stack.env, cwd=str(host))
        source = _demo_part(stack, "from-git", "2026-03-03T00:00:00Z")
        run = _completed(stack, stack.run_deployment("sensor_ingest", "sensor-ingest-from-git", {"params": {"source": source}}))
        logs = wait_for(lambda: [log["message"] for log in stack.logs(run["id"]) if marker in log["message"]], 30, "the marker line in the run's logs")
        assert logs == [marker]
        steps = [log["message"] for log in stack.logs(run["id"]) if "git_clone" in log["message"]]
        assert "Deployment step 'git_clone' completed successfully" in steps, steps
    finally:
        if worker:
            worker.stop()
        daemon.stop()


def test_a_server_with_authentication_refuses_a_client_without_the_credentials(tmp_path, sqlite_template):
    """PREFECT_SERVER_API_AUTH_STRING on the server: requests without PREFECT_API_AUTH_STRING get 401, `lepton-flow
    deploy` without it stops with a message that says what to set, with it deploys; the password is printed nowhere."""
    import shutil
    import subprocess
    import sys

    import httpx

    from lepton_flow.services import client_env, server_env, start_server

    home = tmp_path / "prefect"
    shutil.copytree(sqlite_template, home)
    password = "auth-7c1e9b-never-logged"
    env = server_env(home, scheduler=False)
    env["PREFECT_SERVER_API_AUTH_STRING"] = f"lepton:{password}"
    server, api = start_server(home, env=env)
    try:
        assert httpx.get(f"{api}/health", timeout=10).status_code == 200  # probes stay open
        assert httpx.post(f"{api}/flows/filter", json={}, timeout=10).status_code == 401
        assert httpx.post(f"{api}/flows/filter", json={}, timeout=10, auth=("lepton", "wrong")).status_code == 401
        assert httpx.post(f"{api}/flows/filter", json={}, timeout=10, auth=("lepton", password)).status_code == 200

        client = client_env(api)
        for key in ("PREFECT_API_AUTH_STRING", "PREFECT_SERVER_API_AUTH_STRING"):
            client.pop(key, None)
        client["PREFECT_HOME"] = str(tmp_path / "client-home")
        deploy = [sys.executable, "-m", "lepton_flow.cli", "deploy"]
        refused = subprocess.run(deploy, env=client, capture_output=True, text=True, timeout=300)
        assert refused.returncode != 0 and "401" in refused.stdout + refused.stderr, refused.stdout + refused.stderr
        allowed = subprocess.run(deploy, env={**client, "PREFECT_API_AUTH_STRING": f"lepton:{password}"}, capture_output=True, text=True, timeout=300)
        assert allowed.returncode == 0, allowed.stdout + allowed.stderr
        assert "sensor_ingest/sensor-ingest" in allowed.stdout
        for text in (refused.stdout, refused.stderr, allowed.stdout, allowed.stderr, server.log.read_text()):
            assert password not in text
    finally:
        server.stop()
