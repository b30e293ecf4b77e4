"""What a user meets on a Prefect server, in headless Chromium and over the API: the run form, refusals, artifacts and
their links, `lepton-flow up`, schedules, authentication.

Apart from `test_deployments.py` (the deploy-ingest-trigger-score chain), with
a stack of its own, so that the two files run side by side (`--dist loadfile`).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from lepton_flow.deploy import PREFECT_FILE
from tests.stack import OUTPUT_DIR, Stack, stamp, wait_for
from tests.test_deployments import FAST_TRAINING, INGEST, TRAIN, _completed, _demo_part

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ui_stack(tmp_path_factory, sqlite_template):
    stack = Stack(tmp_path_factory.mktemp("stack-ui"), template_home=sqlite_template)
    yield stack
    stack.stop()


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


def test_ui_custom_run(ui_stack, tmp_path):
    """Headless Chromium: open the UI, find the sensor-ingest deployment, start a custom run with another
    source from the parameter form, and wait until the UI shows it Completed; keep a screenshot. The source
    holds a file named like an HTML image whose error handler runs script: every artifact of the run (the
    accounting and validation tables name the file) shows that name as text, and no script runs."""
    from playwright.sync_api import expect, sync_playwright

    from tests.stack import chromium_launch

    stack = ui_stack
    # Runs that must end Failed in one line, started first: they run on the workers while the form is used.
    refused = _start_refused_runs(stack)
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
            # Then each cleaning step's own section, titled by the step, with its settings filled in.
            first = [next((i for i, t in enumerate(labels) if t.startswith(name)), None) for name in ("Source", "Format", "Steps", "Timezone", "hampel settings", "Half Window", "interpolate settings", "Max Gap")]
            assert None not in first and first == sorted(first), labels
            expect(page.get_by_label("Half Window (Optional)")).to_have_value("7")
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
            training = stack.run_deployment(*TRAIN, FAST_TRAINING)  # its curves are opened below, after the artifacts
            # Both of the server's UIs: the default one at / and the new one at /v2.
            for artifact, prefix in [(a, p) for a in artifacts for p in ("", "/v2")]:
                page.goto(f"{ui}{prefix}/artifacts/artifact/{artifact['id']}")
                page.get_by_text(artifact["key"]).first.wait_for()
                if artifact["type"] == "table":
                    page.get_by_text("onerror=", exact=False).first.wait_for()  # the name, shown as text
                page.wait_for_timeout(500)  # an injected image would have failed to load by now
                assert page.evaluate("window.__xss") is None and page.locator("img[onerror]").count() == 0, (prefix, artifact["key"])
            _links_open_files(page, ui, stack, artifacts, training)
            _refused_runs_fail_in_one_line(page, ui, stack, refused)
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


def _links_open_files(page, ui: str, stack: Stack, artifacts: list[dict], training: str) -> None:
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

    _completed(stack, training, timeout=600)
    curves = wait_for(lambda: stack.post("/artifacts/filter", {"artifacts": {"key": {"any_": ["train-curves"]}}}), 30, "the train-curves artifact")
    assert curves[0]["data"].startswith(stack.files.url + "/reports/train/"), curves[0]["data"][:100]
    page.goto(f"{ui}/artifacts/artifact/{curves[0]['id']}")
    image = page.locator(f'img[src="{curves[0]["data"]}"]')
    image.wait_for()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 100", arg=image.element_handle(), timeout=30_000)
    page.screenshot(path=str(OUTPUT_DIR / "ui-training-curves.png"), full_page=True)


def _start_refused_runs(stack: Stack) -> dict:
    """A source that does not exist; a time zone the form would refuse, sent as a deployment made before the list
    existed would take it (the schema not enforced)."""
    import httpx

    missing = str(stack.data_root / "incoming" / "no-such-folder")
    deployment = stack.deployment(*INGEST)
    r = httpx.post(f"{stack.api}/deployments/{deployment['id']}/create_flow_run", json={"parameters": {"params": {"timezone": "Mars/Olympus"}}, "enforce_parameter_schema": False}, timeout=30)
    assert r.status_code == 201, r.text[:500]
    return {"missing": stack.run_deployment(*INGEST, {"params": {"source": missing}}), "zone": r.json()["id"]}


def _refused_runs_fail_in_one_line(page, ui: str, stack: Stack, refused: dict) -> None:
    """Each ends Failed; the missing source's page shows its one-line message; no traceback in either run's log or the
    worker's (the engine checks parameters before the flow's logger exists: that reason is in the run's header)."""
    run = stack.wait_final(refused["missing"], 240)
    assert run["state_name"] == "Failed" and "no such file or directory" in run["state"]["message"], run["state"]
    page.goto(f"{ui}/v2/runs/flow-run/{run['id']}")
    page.wait_for_function(STATE_BESIDE_NAME, arg=[run["name"], "Failed", STATES], timeout=60_000, polling=1000)
    page.get_by_text("no such file or directory; give a directory", exact=False).first.wait_for()
    page.screenshot(path=str(OUTPUT_DIR / "ui-bad-source-failed.png"), full_page=True)
    logs = [log["message"] for log in stack.logs(run["id"])]
    assert not [m for m in logs if "Traceback" in m], logs  # an input mistake, not a bug: no traceback anywhere in its log

    run = stack.wait_final(refused["zone"], 240)
    message = run["state"]["message"]
    assert run["state_name"] == "Failed" and "params.timezone" in message and "unknown time zone 'Mars/Olympus': an IANA name such as Europe/Berlin" in message, message
    logs = wait_for(lambda: [log["message"] for log in stack.logs(run["id"])], 30, "the run's log")
    worker = next(s for s in stack.services if s.name == "worker for lepton-cpu").log.read_text(errors="replace")
    assert not [m for m in logs if "Traceback" in m] and "Mars/Olympus" in worker and "Traceback" not in worker.split("Mars/Olympus", 1)[1], logs


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


def test_every_deployed_parameter_is_described_and_none_is_a_type_switch(ui_stack):
    """Read back from the server: every field of every deployment's parameter form has a description, and no field
    is drawn as a switch between a type and None ("Property is type None"): optional fields are plain fields."""
    deployments = ui_stack.post("/deployments/filter", {})
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
    assert "database is locked" not in (tmp_path / "data" / "prefect" / "server.log").read_text()
    alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], alive
    for url in (f"{api}/health", f"{files}/"):
        try:
            httpx.get(url, timeout=2)
            raise AssertionError(f"{url} still answers after Ctrl-C")
        except httpx.HTTPError:
            pass


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
