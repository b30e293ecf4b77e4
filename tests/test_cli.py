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
    err = capfd.readouterr().err
    assert "source" in err and "batch_size" in err


def test_a_first_run_on_a_data_root_that_does_not_exist_yet(tmp_path):
    """The embedded API keeps its database under the data root; on a fresh machine that folder does not
    exist, and Prefect's local API could not open its database (the run hung for the start-up timeout)."""
    root = tmp_path / "new" / "data"
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_text("2026-03-01T00:00:00Z INFO started\n2026-03-01T00:00:05Z ERROR failed to open /var/x\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    env["LEPTON_DATA_ROOT"] = str(root)
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"
    run = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "run", "log-ingest", "--source", str(logs)], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "events:              2 (2 counted, 0 invalid)" in run.stdout
    assert (root / "prefect" / "prefect.db").is_file()
    # Quiet by default: the terminal shows the stages and the flow's own lines; the engine's lines, Dask's
    # and the workers' go to the log file the summary names.
    assert "log_ingest ..." in run.stderr and "Finished in state" not in run.stderr and "| INFO" not in run.stderr, run.stderr
    log = Path(re.search(r"^the whole log: (.+)$", run.stdout, re.M)[1])
    assert log.parent == root / "run-logs"  # not the log drop folder `logs/`
    whole = log.read_text()
    assert "Finished in state Completed()" in whole
    # The cluster started beside the API (its workers importing while it started) ran the tasks.
    assert "Connecting to an existing Dask cluster" in whole
    assert "http://127.0.0.1:4200/runs" in run.stdout  # where the runs are seen once the command has ended


def _readme_run_examples() -> list[str]:
    """Every `lepton-flow run ...` command in the README, optional parts ([...]) taken in, `...` left out."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    found = []
    for line in re.findall(r"lepton-flow run [^`\n]+", text):
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
    if "version=" in command:
        assert any(getattr(p, "version", None) in ("2", "3") for p in params.values()), params


def test_the_readme_shows_run_examples_with_parameters():
    examples = _readme_run_examples()
    assert len(examples) >= 8 and sum("--param" in e for e in examples) >= 5
    assert any("version=3" in e for e in examples) and any("version=2" in e for e in examples)
