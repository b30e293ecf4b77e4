"""What deployments/ ships for production is consistent with the code (no Docker engine runs here to build it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from lepton_flow.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deployments"


def test_compose_has_the_whole_stack_and_only_real_settings():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "prefect-server", "dask-scheduler", "dask-worker", "worker-cpu", "worker-gpu", "minio"} <= set(services)
    assert services["prefect-server"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg://")
    assert services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    pools = {tuple(s["command"][-2:]) for s in services.values() if s.get("command", [])[:3] == ["prefect", "worker", "start"]}
    assert pools == {("--pool", "lepton-cpu"), ("--pool", "lepton-gpu")}
    for name, svc in services.items():
        build = svc.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).resolve().is_file(), name
        for key in svc.get("environment") or {}:
            if key.startswith("LEPTON_"):
                assert key.removeprefix("LEPTON_").lower() in Settings.model_fields, f"{name}: {key} is not a lepton-flow setting"


def test_images_copy_what_exists_and_start_the_right_pool():
    for kind in ("cpu", "gpu"):
        text = (DEPLOY / "docker" / f"Dockerfile.{kind}").read_text()
        for src in re.findall(r"^COPY (\S+(?: \S+)*) \S+$", text, re.M):
            for path in src.split():
                assert (ROOT / path).exists(), f"Dockerfile.{kind} copies {path}, which is not in the repository"
        assert f'"--pool", "lepton-{kind}"' in text
    gpu = (DEPLOY / "docker" / "Dockerfile.gpu").read_text()
    assert ".[gpu]" in gpu
    extras = (ROOT / "pyproject.toml").read_text()
    assert "tensorflow[and-cuda]" in extras


def test_kubernetes_templates_request_gpus_only_for_the_gpu_pool():
    gpu = json.loads((DEPLOY / "k8s" / "lepton-gpu-job-template.json").read_text())
    cpu = json.loads((DEPLOY / "k8s" / "lepton-cpu-job-template.json").read_text())
    container = lambda t: t["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]["containers"][0]  # noqa: E731
    assert container(gpu)["resources"]["limits"]["nvidia.com/gpu"] == "{{ gpus }}"
    assert gpu["variables"]["properties"]["gpus"]["default"] == 1
    assert "nvidia.com/gpu" not in container(cpu)["resources"]["limits"]


def test_a_deployed_runs_logging_is_prefects_own_plus_the_story_filters():
    """A deployed run's process reads `lepton_flow/logging.yml` (the pools' job variables name it): Prefect's own
    configuration, unchanged, with exactly the filters `runtime.story_logs` installs in a process it runs in."""
    import prefect

    from lepton_flow.runtime import STORY_FILTERS

    ours = yaml.safe_load((ROOT / "lepton_flow" / "logging.yml").read_text())
    prefects = yaml.safe_load((Path(prefect.__file__).parent / "logging" / "logging.yml").read_text())
    classes = {name: spec["()"] for name, spec in ours.pop("filters").items()}
    filtered = {name: [classes[f] for f in logger.pop("filters")] for name, logger in ours["loggers"].items() if "filters" in logger}
    assert filtered == {name: [f"lepton_flow.runtime.{kind.__name__}"] for name, kind in STORY_FILTERS.items()}
    assert ours == prefects  # a Prefect upgrade that changes its own configuration shows here
    pools = yaml.safe_load((DEPLOY / "prefect.yaml").read_text())["definitions"]["work_pools"]
    assert {pool["name"]: pool["job_variables"]["env"]["PREFECT_LOGGING_SETTINGS_PATH"] for pool in pools.values()} == {
        "lepton-cpu": "{{ $LEPTON_CHECKOUT }}/lepton_flow/logging.yml", "lepton-gpu": "{{ $LEPTON_CHECKOUT }}/lepton_flow/logging.yml"}


def test_a_dask_worker_s_missed_heartbeat_is_one_warning_line_not_a_traceback():
    """distributed logs a worker's failed heartbeat with `logger.exception`; under load, or as a run's cluster shuts
    down, that traceback landed in the process worker's log (and failed the UI test's "no traceback" check). With the
    filters the workers' preload installs, it is one warning line naming the error; other records pass unchanged."""
    import io
    import logging

    from lepton_flow.runtime import story_logs

    story_logs()
    logger = logging.getLogger("distributed.worker")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger.addHandler(handler)
    try:
        try:
            raise OSError("Timed out trying to connect to tcp://127.0.0.1:40123 after 30 s")
        except OSError:
            logger.exception("Failed to communicate with scheduler during heartbeat.")
        try:
            raise ValueError("a real bug")
        except ValueError:
            logger.exception("Unexpected exception during heartbeat. Closing worker.")
    finally:
        logger.removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Failed to communicate with scheduler during heartbeat (OSError: Timed out trying to connect to tcp://127.0.0.1:40123 after 30 s)"
    assert lines[1] == "Unexpected exception during heartbeat. Closing worker." and lines[2] == "Traceback (most recent call last):"
    assert out.getvalue().count("Traceback") == 1
