"""Cleaning steps, registered by name.

A run cleans with a pipeline of named steps, chosen by a flow parameter:
row steps work on the long table before it is put on the time grid, then
`resample` puts it on the grid, then grid steps work on one metric's
`(time, sensor)` array at a time. Adding a step is one module in this
package that calls `register` (or a module named by an entry point in the
group `lepton_flow.cleaning_steps`); its name then becomes a valid choice of
the `steps` parameter of `sensor_ingest`. `lepton-flow new NAME --kind
clean-step` writes one that works, with its test.

Quality codes, stored per `(time, sensor)` beside each metric in
`<metric>_quality`: 0 missing, 1 observed (mean of the readings in the bin),
2 interpolated, 3 outlier flagged, 4 stuck value flagged, 5 a gap longer
than `max_gap`, left NaN.

Cleaning flags, it does not erase: a reading an outlier or stuck-value step
judges keeps its observed value under code 3 or 4 (`FLAGGED`). Training
masks flagged values (the model does not learn them as normal); scoring
scores every observed value, flagged or not, so the spike a step flagged is
the spike a model is asked about. Grid steps judge only code-1 readings, and
interpolation never draws a line from a flagged one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, model_validator

from lepton_flow.plugins import GROUPS, Registry

MISSING, OBSERVED, INTERPOLATED, OUTLIER, STUCK, GAP = 0, 1, 2, 3, 4, 5
QUALITY_MEANINGS = {
    MISSING: "missing",
    OBSERVED: "observed",
    INTERPOLATED: "interpolated",
    OUTLIER: "outlier_flagged",
    STUCK: "stuck_flagged",
    GAP: "gap_unfilled",
}
FLAGGED = (OUTLIER, STUCK)
"""Codes of readings kept with their value but judged not normal by a cleaning step."""


DEFAULT_GRID_SECONDS = 30


class NoOptions(BaseModel):
    """The settings of a step that has none."""

    model_config = {"extra": "forbid"}


def grid_seconds_field():
    return Field(None, ge=1, le=86_400, description=f"Spacing of the time grid, in seconds. Empty: the store's grid; for a new store, the readings' own spacing (at least {DEFAULT_GRID_SECONDS}).")


FLAT_NAMES = {
    "hampel_half_window": ("hampel", "half_window"),
    "hampel_sigmas": ("hampel", "sigmas"),
    "zscore_threshold": ("zscore", "threshold"),
    "kmeans_clusters": ("kmeans", "clusters"),
    "kmeans_threshold": ("kmeans", "threshold"),
    "flatline_min_run": ("flatline", "min_run"),
    "max_gap": ("interpolate", "max_gap"),
}
"""The built-in steps' settings under the flat names they had before each step declared its own (still accepted)."""


def nest_flat_names(data, into: str | None = None):
    """`data` (a model's input) with flat names (`hampel_sigmas`) moved into their step's settings (`hampel.sigmas`),
    under `data[into]` when given; anything else is returned as it is."""
    if not isinstance(data, dict) or not any(k in FLAT_NAMES for k in data):
        return data
    data = dict(data)
    sections = dict(data.get(into) or {}) if into else data
    for flat, (step, name) in FLAT_NAMES.items():
        if flat in data:
            section = sections.get(step) or {}
            section = section.model_dump() if isinstance(section, BaseModel) else dict(section)
            section[name] = data.pop(flat)
            sections[step] = section
    if into:
        data[into] = sections
    return data


class CleanParams(BaseModel):
    """The cleaning settings of one run: the grid, and each step's own settings by step name (absent: its defaults)."""

    model_config = {"extra": "forbid"}

    grid_seconds: int | None = grid_seconds_field()
    options: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Each step's settings by step name, as its options model takes them.")

    @model_validator(mode="before")
    @classmethod
    def _flat_names(cls, data):
        return nest_flat_names(data, into="options")

    def of(self, step: "Step") -> BaseModel:
        """`step`'s settings: its options model, with what this run set."""
        return step.options(**self.options.get(step.name, {}))


@dataclass
class RowStep:
    """A step over the long table of one window.

    `apply(rows, options)` gets a frame with columns `ts` (int64 ns UTC),
    `sensor_id`, `metric`, `value`, `file`, `line`, and the step's settings
    (an instance of its `options` model), and returns (rows kept, rows
    removed, counts worth reporting); it must not modify its input. Removed
    rows are accounted as `outcome` ("duplicates" or "outliers").
    """

    name: str
    apply: Callable[[pd.DataFrame, BaseModel], tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]]
    outcome: Literal["duplicates", "outliers"] = "duplicates"
    kind: ClassVar[Literal["rows"]] = "rows"
    description: str = ""
    options: type[BaseModel] = NoOptions

    def halo(self, options: BaseModel) -> int:
        return 0


@dataclass
class GridStep:
    """A step over one metric's grid.

    `apply(values, quality, fresh, options)` gets float64 values `(time,
    sensor)`, their uint8 quality codes, a mask of bins that hold readings
    from this run (stored bins are not judged again) and the step's settings
    (an instance of its `options` model), and returns new values and quality
    arrays; it must not modify its inputs. A step that judges readings flags
    them (quality `OUTLIER` or `STUCK`) and keeps their values.
    `halo(options)` is the number of neighbouring bins on each side the step
    looks at, so that windows processed apart give the same answer as the
    whole series (a contract test holds every step to it). A step whose
    statistics span the whole window in view (a mean, clusters) sets
    `local=False` and says so in its description: what it flags then depends
    on where the windows are cut.
    """

    name: str
    apply: Callable[[np.ndarray, np.ndarray, np.ndarray, BaseModel], tuple[np.ndarray, np.ndarray]]
    halo: Callable[[BaseModel], int]
    kind: ClassVar[Literal["grid"]] = "grid"
    description: str = ""
    local: bool = True
    options: type[BaseModel] = NoOptions


@dataclass
class ResampleStep:
    name: str = "resample"
    kind: ClassVar[Literal["resample"]] = "resample"
    description: str = "Put readings on the time grid: the mean of the readings within half a bin of each grid point."
    options: type[BaseModel] = NoOptions

    def halo(self, options: BaseModel) -> int:
        return 0


Step = RowStep | GridStep | ResampleStep
DEFAULT_STEPS = ["dedupe", "sort", "resample", "hampel", "flatline", "interpolate"]
_REGISTRY = Registry("cleaning step", __name__, __path__, GROUPS["cleaning"])


def register(step: Step) -> Step:
    """Add a step under its name (lower case letters, digits and `_`: it names the step's section of the flow's form)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", step.name):
        raise ValueError(f"cleaning step name {step.name!r}: use lower case letters, digits and '_', starting with a letter")
    return _REGISTRY.register(step.name, step)


register(ResampleStep())


def registry() -> dict[str, Step]:
    return _REGISTRY.items()


def step_names() -> list[str]:
    return sorted(registry())


def step_descriptions() -> dict[str, str]:
    """Each step's one-line description, by name."""
    return {name: step.description for name, step in sorted(registry().items())}


def plan(steps: list[str]) -> tuple[list[RowStep], list[GridStep]]:
    """Check a pipeline and split it into row steps and grid steps.

    Raises ValueError naming the problem: an unknown step (with the known
    ones), a missing `resample`, or a step on the wrong side of it.
    """
    known = registry()
    unknown = [s for s in steps if s not in known]
    if unknown:
        raise ValueError(f"unknown cleaning step(s) {unknown}; known: {sorted(known)}")
    if steps.count("resample") != 1:
        raise ValueError("the cleaning steps must include 'resample' exactly once: the store holds a time grid")
    if len(set(steps)) != len(steps):
        raise ValueError(f"a cleaning step is listed twice: {steps}")
    cut = steps.index("resample")
    rows, grid = [known[s] for s in steps[:cut]], [known[s] for s in steps[cut + 1 :]]
    misplaced = [s.name for s in rows if s.kind != "rows"] + [s.name for s in grid if s.kind != "grid"]
    if misplaced:
        raise ValueError(f"step(s) {misplaced} are on the wrong side of 'resample' (row steps before it, grid steps after)")
    return rows, grid  # type: ignore[return-value]


def halo(steps: list[str], params: CleanParams) -> int:
    """Bins of context a window needs on each side for these steps."""
    known = registry()
    return max([0] + [known[s].halo(params.of(known[s])) for s in steps]) + 1


def step_options() -> dict[str, type[BaseModel]]:
    """The options model of each registered step that has settings, by step name."""
    return {name: step.options for name, step in sorted(registry().items()) if step.options.model_fields}


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of each run of True in a 1-D mask."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return edges[0::2], edges[1::2]
