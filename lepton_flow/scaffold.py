"""`lepton-flow new`: a module and its test from a template that works as written.

Each kind writes its module where its registry looks (so it is found with no
other edit) and a test beside the others; `next_steps` says what to edit.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

KINDS = {
    # kind: (module path, test path, what the registry calls it)
    "clean-step": ("lepton_flow/cleaning/{module}.py", "tests/test_step_{module}.py", "a cleaning step; choose it in sensor_ingest's `steps`"),
    "sensor-format": ("lepton_flow/formats/{module}.py", "tests/test_format_{module}.py", "a sensor file format for files ending in .{module}"),
    "log-format": ("lepton_flow/logs/formats/{module}.py", "tests/test_logformat_{module}.py", "a log format"),
    "model": ("lepton_flow/models/{module}.py", "tests/test_modelkind_{module}.py", "a model kind; choose it in train_sensor_model's `model_kind`"),
    "task": ("tasks/{module}.py", "tests/test_task_{module}.py", "a Prefect task; call it from a flow in flows/"),
}
_NAME = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")


def root(start: Path | None = None) -> Path:
    """The lepton-flow checkout the user stands in: `start` (default: the working directory) or the nearest folder above it
    holding `pyproject.toml` and `lepton_flow/`. Not the installed package's folder: run from another checkout, `new`
    wrote its files into the first one."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "lepton_flow" / "__init__.py").is_file():
            return folder
    raise ValueError(f"{here} is not inside a lepton-flow checkout (a folder with pyproject.toml and lepton_flow/): run `lepton-flow new` from one, or pass --root")


def new(name: str, kind: str, base: Path | None = None) -> tuple[list[Path], str]:
    """Write the module and test for `name`; returns the files and what to do next."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    if not _NAME.match(name):
        raise ValueError(f"name {name!r}: use 2-40 lower-case letters, digits, '-' or '_', starting with a letter")
    module = name.replace("-", "_")
    base = base or root()
    module_path, test_path = (base / p.format(module=module) for p in KINDS[kind][:2])
    what = KINDS[kind][2].format(module=module)
    existing = [p for p in (module_path, test_path) if p.exists()]
    if existing:
        raise FileExistsError(f"{', '.join(str(p) for p in existing)} already exist(s): pick another name")
    _check_unique(name, kind)
    templates = Path(__file__).parent / "templates"
    values = {"name": name, "module": module, "func": module}
    for path, suffix in ((module_path, "py"), (test_path, "test")):
        text = Template((templates / f"{kind}.{suffix}.tmpl").read_text()).substitute(values)
        path.write_text(text)
    steps = (
        f"wrote {what}:\n  {module_path}\n  {test_path}\n"
        f"next: edit {module_path.relative_to(base)} (its docstring says what it does now), "
        f"then run `.venv/bin/python -m pytest {test_path.relative_to(base)}`"
    )
    if kind == "clean-step":
        steps += f"; then `lepton-flow run sensor-ingest --steps dedupe,sort,{name},resample,hampel,interpolate`"
    return [module_path, test_path], steps


def _check_unique(name: str, kind: str) -> None:
    """Refuse a name the registry already holds (a clash would surface only at import)."""
    if kind == "clean-step":
        from lepton_flow.cleaning import step_names as names
    elif kind == "sensor-format":
        from lepton_flow.formats import format_names as names
    elif kind == "log-format":
        from lepton_flow.logs.formats import log_formats

        def names():
            return list(log_formats())
    elif kind == "model":
        from lepton_flow.models import model_kinds

        def names():
            return list(model_kinds())
    else:
        return
    if name in names():
        raise FileExistsError(f"a {kind} named {name!r} is already registered")
