"""`lepton-flow new` in a copy of the repository: each kind's generated test passes, and a new cleaning step is found and used."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lepton_flow import store
from lepton_flow.scaffold import new

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent
NEW = {"clean-step": "fahrenheit_to_celsius", "sensor-format": "semicolon", "log-format": "keyvalue", "model": "dense-ae", "task": "count_observed"}


def _run(args, cwd, env=None, timeout=600):
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env or dict(os.environ), capture_output=True, text=True, timeout=timeout)


def test_new_refuses_bad_names_kinds_and_clashes(tmp_path):
    with pytest.raises(ValueError, match="lower-case"):
        new("Bad Name", "clean-step", tmp_path)
    with pytest.raises(ValueError, match="choose one of clean-step"):
        new("thing", "widget", tmp_path)
    with pytest.raises(FileExistsError, match="'hampel' is already registered"):
        new("hampel", "clean-step", tmp_path)


def test_new_writes_into_the_checkout_the_user_stands_in(tmp_path, monkeypatch):
    """Run from another checkout, `new` wrote into the installed package's folder; it writes where the user stands."""
    from lepton_flow.scaffold import root

    other = tmp_path / "other"
    for folder in ("lepton_flow/cleaning", "tests", "deep/inside"):
        (other / folder).mkdir(parents=True)
    (other / "pyproject.toml").write_text('[project]\nname = "lepton-flow"\n')
    (other / "lepton_flow" / "__init__.py").write_text("")
    monkeypatch.chdir(other / "deep" / "inside")
    assert root() == other
    files, _ = new("my_step", "clean-step")
    assert files == [other / "lepton_flow/cleaning/my_step.py", other / "tests/test_step_my_step.py"] and all(f.exists() for f in files)
    assert not (REPO / "lepton_flow/cleaning/my_step.py").exists()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="not inside a lepton-flow checkout"):
        new("my_step2", "clean-step")


def test_new_for_every_kind_in_a_copy_of_the_repository(tmp_path, prefect_server):
    copy = tmp_path / "repo"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".venv", "data", ".git", "__pycache__", ".pytest_cache", "*.egg-info", "bench-out"))
    written = []
    for kind, name in NEW.items():
        done = _run(["-m", "lepton_flow.cli", "new", name, "--kind", kind], copy)
        assert done.returncode == 0, done.stderr
        assert "next: edit" in done.stdout and "{" not in done.stdout  # every placeholder filled (".{module}" was printed as is)
        written += [line.strip() for line in done.stdout.splitlines() if line.startswith("  ")]
    assert len(written) == 10 and all(Path(p).is_file() and str(copy) in p for p in written)
    again = _run(["-m", "lepton_flow.cli", "new", "keyvalue", "--kind", "log-format"], copy)
    assert again.returncode == 2 and "already exist" in again.stderr

    # The generated tests pass as written.
    tests = [p for p in written if "/tests/" in p]
    ran = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], copy)
    assert ran.returncode == 0, ran.stdout[-3000:]
    assert "7 passed" in ran.stdout  # 2 step tests, 2 task tests, one each for the others

    # Registries find the new modules: their names are choices in the flows' parameter schemas.
    code = (
        "import json\n"
        "from flows.sensor_ingest import SensorIngestParams\n"
        "from lepton_flow.training import TrainParams\n"
        "s = SensorIngestParams.model_json_schema()['properties']\n"
        "t = TrainParams.model_json_schema()['properties']\n"
        "print(json.dumps({'steps': s['steps']['items']['enum'], 'format': s['format']['enum'], 'kind': t['model_kind'].get('enum', [t['model_kind'].get('const')]), 'sections': sorted(s)}))\n"
    )
    schema = _run(["-c", code], copy)
    assert schema.returncode == 0, schema.stderr
    choices = json.loads(schema.stdout.strip().splitlines()[-1])
    assert "fahrenheit_to_celsius" in choices["steps"] and "hampel" in choices["steps"]
    assert {"fahrenheit_to_celsius", "hampel", "interpolate"} <= set(choices["sections"])  # the new step's settings come with it
    assert "semicolon" in choices["format"] and "dense-ae" in choices["kind"]

    # sensor_ingest with the new step selected: a Fahrenheit sensor lands in Celsius.
    src = tmp_path / "src"
    src.mkdir()
    times = pd.date_range("2026-02-01", periods=120, freq="30s", tz="UTC")
    frame = pd.concat(
        [
            pd.DataFrame({"timestamp": times, "sensor_id": "f1", "metric": "temperature", "value": 68.0 + np.arange(120) % 3 * 0.9, "unit": "C"}),
            pd.DataFrame({"timestamp": times, "sensor_id": "c1", "metric": "temperature", "value": 20.0, "unit": "C"}),
        ]
    )
    frame.to_csv(src / "readings.csv", index=False)
    env = dict(os.environ, LEPTON_DATA_ROOT=str(tmp_path / "data"), PREFECT_API_URL=prefect_server, LEPTON_DASK_WORKERS="1")
    steps = "dedupe,sort,fahrenheit_to_celsius,resample,interpolate"
    ingest = _run(["-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", str(src), "--steps", steps], copy, env)
    assert ingest.returncode == 0, ingest.stdout[-2000:] + ingest.stderr[-2000:]
    ds = store.open_sensors(str(tmp_path / "data" / "store")).load()
    f1 = ds.temperature.sel(sensor="f1").values
    f1 = f1[np.isfinite(f1)]
    np.testing.assert_allclose(f1, (68.0 + np.arange(120) % 3 * 0.9 - 32) * 5 / 9, rtol=1e-6)
    c1 = ds.temperature.sel(sensor="c1").values
    np.testing.assert_array_equal(c1[np.isfinite(c1)], 20.0)


def test_a_step_kept_in_another_package_is_found_by_its_entry_point(tmp_path):
    """A cleaning step outside this repository: an installed package names its module in the group `lepton_flow.cleaning_steps`."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "acme_steps.py").write_text(
        "from pydantic import BaseModel, Field\n"
        "from lepton_flow.cleaning import RowStep, register\n"
        "class Options(BaseModel):\n    limit: int = Field(3, description='rows kept at most')\n"
        "def keep_all(rows, options):\n    return rows.iloc[: options.limit].copy(), rows.iloc[options.limit :], {}\n"
        "STEP = register(RowStep('acme_keep_all', keep_all, description='keeps every row', options=Options))\n"
    )
    dist = site / "acme_steps-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-steps\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[lepton_flow.cleaning_steps]\nacme = acme_steps\n")
    code = (
        "from flows.sensor_ingest import SensorIngestParams as P\n"
        "s = P.model_json_schema()\n"
        "print(s['properties']['steps']['items']['enum'], s['$defs'][s['properties']['acme_keep_all']['$ref'].split('/')[-1]]['properties']['limit'])\n"
        "print(P(acme_keep_all={'limit': 1}).clean_params().options['acme_keep_all'])"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(REPO)]))
    done = _run(["-c", code], REPO, env)
    assert done.returncode == 0, done.stderr
    assert "acme_keep_all" in done.stdout and "hampel" in done.stdout
    assert "'description': 'rows kept at most'" in done.stdout  # its settings are a section of the flow's form
    assert done.stdout.strip().splitlines()[-1] == "{'limit': 1}"
