"""The `lepton-flow` command: fast start-up, demo data, status, parameter errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lepton_flow.cli import main


def test_help_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from lepton_flow.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'prefect', 'dask', 'great_expectations', 'pandas') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "usage: lepton-flow" in out
    assert "HEAVY []" in out


def test_importing_the_package_reads_no_settings_and_no_secret():
    """Importing lepton-flow (and its command) touches neither fsspec's configuration nor a Prefect Secret block (with an
    API that does not answer, reading one would stall every import); the settings do it when they are first read."""
    code = (
        "import fsspec.config, lepton_flow, lepton_flow.cli, lepton_flow.sources\n"
        "print('BEFORE', fsspec.config.conf.get('s3'))\n"
        "from lepton_flow.settings import get_settings\n"
        "get_settings()\n"
        "print('AFTER', fsspec.config.conf.get('s3'))\n"
    )
    env = dict(os.environ, LEPTON_S3_ENDPOINT_URL="http://127.0.0.1:9", LEPTON_S3_SECRET_BLOCK="keys", AWS_ACCESS_KEY_ID="set", PREFECT_API_URL="http://127.0.0.1:9/api")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, timeout=120).stdout
    assert "BEFORE None" in out and "AFTER {'endpoint_url': 'http://127.0.0.1:9'}" in out, out


def test_demo_data_then_if_missing(data_root, capsys):
    assert main(["demo-data", "--sensors", "4", "--days", "1", "--metrics", "2"]) == 0
    files = sorted(os.listdir(data_root / "demo"))
    assert any(f.endswith(".csv.gz") for f in files) and any(f.endswith(".parquet") for f in files) and any(f.endswith(".jsonl") for f in files)
    ledger = json.loads((data_root / "demo-faults.json").read_text())
    assert {f["kind"] for f in ledger["faults"]} >= {"spike", "stuck", "short_gap", "long_gap", "duplicates", "unparseable", "wrong_unit", "unknown_sensor", "late_file", "empty_file"}
    capsys.readouterr()
    assert main(["demo-data", "--if-missing"]) == 0
    assert "already" in capsys.readouterr().out


def test_a_demo_too_small_for_its_faults_says_what_to_change(data_root, capsys):
    assert main(["demo-data", "--sensors", "3"]) == 2
    assert "use at least 4 sensors" in capsys.readouterr().err
    assert main(["demo-data", "--days", "0.01"]) == 2
    assert "use at least 0.45 days" in capsys.readouterr().err


def test_status_without_a_store(data_root, capsys):
    assert main(["status"]) == 0
    assert "no store" in capsys.readouterr().out


def test_bad_parameters_are_refused_with_the_known_choices(data_root, capfd):
    assert main(["run", "sensor-ingest", "--steps", "dedupe,resample,fancy"]) == 2
    err = capfd.readouterr().err
    assert "fancy" in err and "hampel" in err and "interpolate" in err
    assert main(["run", "sensor-ingest", "--steps", "dedupe,resample,sort"]) == 2  # a row step after the grid is made
    assert "['sort'] are on the wrong side of 'resample'" in capfd.readouterr().err


def test_unknown_command_exits_with_usage():
    with pytest.raises(SystemExit) as exc:
        main(["launch-rockets"])
    assert exc.value.code == 2


def test_model_flow_parameters_are_checked_before_anything_runs(data_root, capfd):
    assert main(["run", "train-sensor-model", "--param", "window=30"]) == 2
    assert "multiple of 4" in capfd.readouterr().err
    assert main(["run", "train-sensor-model", "--param", "model_size=huge"]) == 2
    err = capfd.readouterr().err
    assert "huge" in err and "tiny" in err and "large" in err
    assert main(["run", "score-sensors", "--param", "nonsense"]) == 2
    assert "KEY=VALUE" in capfd.readouterr().err


def test_doctor_reports_devices_and_fails_on_what_the_settings_lack(data_root):
    env = dict(os.environ, LEPTON_DATA_ROOT=str(data_root))
    env.pop("PREFECT_API_URL", None)
    ok = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "doctor"], capture_output=True, text=True, env=env, timeout=300)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "tensorflow:" in ok.stdout and "devices:" in ok.stdout and "empty: run" in ok.stdout
    # A scheduler that does not answer and an API that does not answer: named, exit 1.
    env.update(LEPTON_DASK_ADDRESS="tcp://127.0.0.1:9", PREFECT_API_URL="http://127.0.0.1:9/api")
    bad = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "doctor"], capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 1
    assert "Dask scheduler at tcp://127.0.0.1:9" in bad.stderr and "Prefect API at http://127.0.0.1:9/api" in bad.stderr


def test_image_flows_need_a_source(data_root, capfd):
    assert main(["run", "image-classifier"]) == 2
    assert "source" in capfd.readouterr().err
    assert main(["run", "classify-images", "--param", "batch_size=0"]) == 2
    assert "batch_size" in capfd.readouterr().err
    assert main(["run", "classify-images"]) == 2
    assert "source: empty; give a directory of images (a path or fsspec URL); --param source=DIR" in capfd.readouterr().err


README = Path(__file__).resolve().parents[1] / "README.md"


def _tour() -> tuple[list[str], list[str]]:
    """The shell commands (one per line, comments dropped) and the Python blocks of the README's tour."""
    section = README.read_text().split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
    commands = [line.split("  #")[0].strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S) for line in block.splitlines()]
    return [c for c in commands if c], re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_readme_tour_runs_as_written(tmp_path):
    """Every command of the README's tour, as written, from the checkout, on a data root whose demo is smaller than
    `make run`'s (written first, so `demo-data --if-missing` keeps it), then its Python in the folder holding `data/`.
    The data root has no `prefect/` yet: the embedded API's database must be created there (it once hung instead).
    Runs are quiet: stages and the flows' own lines on the terminal, the rest in the log file each names."""
    from lepton_flow.demo import DemoSpec, write_demo
    from lepton_flow.gpu import has_nvidia_device

    work = tmp_path / "work"
    root = work / "data"
    write_demo(str(root / "demo"), DemoSpec(sensors=4, metrics=2, days=1.0, seed=3))
    commands, python = _tour()
    assert commands[0] == ". .venv/bin/activate" and len(commands) >= 6 and python, commands
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME", "VIRTUAL_ENV")}
    env.update(LEPTON_DATA_ROOT=str(root), LEPTON_DASK_WORKERS="1", PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120")
    script = "set -e\n" + "".join(f"{c}\necho '@@@ {k}'\n" for k, c in enumerate(commands))
    done = subprocess.run(["bash", "-c", script], cwd=README.parent, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    outs = dict(zip(commands, re.split(r"^@@@ \d+\n", done.stdout, flags=re.M)))
    said = {c.split(" --")[0].removeprefix("lepton-flow "): out for c, out in outs.items()}
    assert "demo data already in" in said["demo-data"]
    assert "files ingested:      " in said["run sensor-ingest"] and "    stored:" in said["run sensor-ingest"]
    assert "snapshots (newest first)" in said["status"] and "sensors:    4" in said["status"]
    assert "sensor-anomaly version 1" in said["run train-sensor-model"] and "promoted:            yes" in said["run train-sensor-model"]
    assert "rows scored:" in said["run score-sensors"]
    assert "events:" in said["run log-ingest"]
    assert (root / "prefect" / "prefect.db").is_file()
    # Quiet: no engine lines, no INFO lines, no TensorFlow start-up notes on the terminal.
    err = done.stderr
    assert "log_ingest ..." in err and "sensor_ingest ..." in err and "epoch 1: loss" in err, err[-3000:]
    # Each ingest's log ends with one line saying what it did.
    assert re.search(r"sensor_ingest: \d+ file\(s\) ingested, 0 failed, 0 already ingested; readings \d+ read, \d+ stored", err), err[-3000:]
    assert re.search(r"log_ingest: 1 file\(s\) read, 0 with nothing new, 0 failed; \d+ events", err), err[-3000:]
    assert "Finished in state" not in err and "| INFO" not in err and "oneDNN" not in err, err[-3000:]
    if not has_nvidia_device():
        assert "cuInit" not in err and "cuda drivers" not in err, err[-3000:]
    logs = [Path(p) for p in re.findall(r"^the whole log: (.+)$", done.stdout, re.M)]
    assert len(logs) == 4 and all(p.parent == root / "run-logs" for p in logs), logs  # not the log drop folder `logs/`
    whole = logs[0].read_text()
    # The tour's demo is small: its tasks ran in the command's own process, no local Dask cluster started for them.
    assert re.search(r"\d\.\d MiB of input: the tasks run in 1 thread\(s\) of this process", err), err[-3000:]
    assert "Finished in state Completed()" in whole and "Dask cluster" not in whole
    assert "http://127.0.0.1:4200/runs" in done.stdout  # where the runs are seen once the command has ended

    for block in python:
        ran = subprocess.run([sys.executable, "-c", block], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        assert ran.returncode == 0, ran.stderr[-3000:]
    assert "values flagged" in ran.stdout and "'sensor': 4" in ran.stdout, ran.stdout


def _readme_run_examples() -> list[str]:
    """Every `lepton-flow run ...` command in the README, optional parts ([...]) taken in, `...` left out."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    found = []
    for line in re.findall(r"lepton-flow run [^`\n]+", text):
        if line.startswith("lepton-flow run FLOW"):  # the reference's synopsis, not an example
            continue
        kept, quote = [], None
        for ch in line.split("  #")[0].replace("...", " "):
            if quote:
                quote = None if ch == quote else quote
            elif ch in "'\"":
                quote = ch
            elif ch in "[]":  # brackets of optional parts, outside quoted values
                ch = " "
            kept.append(ch)
        found.append(" ".join("".join(kept).split()))
    return sorted(set(found))


@pytest.mark.parametrize("command", _readme_run_examples())
def test_every_run_example_in_the_readme_has_parameters_the_flows_accept(command):
    """`--param version=3` was refused ("Input should be a valid string"): the README's examples must pass the same checks a run does."""
    import shlex

    from lepton_flow.cli import build_parser, flow_params

    argv = shlex.split(command)[1:]
    args = build_parser().parse_args(argv)
    params = flow_params(args)
    assert params, command
    if found := re.search(r"version=(\d+)", command):  # a number on the command line, the version's text in the model
        assert any(getattr(p, "version", None) == found[1] for p in params.values()), params


def test_the_readme_shows_run_examples_with_parameters():
    examples = _readme_run_examples()
    assert len(examples) >= 8 and sum("--param" in e for e in examples) >= 5
    assert sum(bool(re.search(r"version=\d+", e)) for e in examples) >= 2  # numbers, read as JSON, taken as version text
