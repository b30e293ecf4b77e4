"""The `sensor_ingest` flow: source files to a new snapshot of the sensor store."""

from __future__ import annotations

from typing import Literal

from prefect import flow, unmapped
from prefect.runtime import flow_run
from pydantic import Field, create_model, field_validator, model_validator

from lepton_flow.cleaning import DEFAULT_STEPS, CleanParams, grid_seconds_field, nest_flat_names, plan, registry, step_descriptions, step_names, step_options
from lepton_flow.flowtools import outcomes, rejections, split_completed, store_lock
from lepton_flow.formats import format_names, known_format
from lepton_flow.forms import field_order
from lepton_flow.ingest import IngestSummary
from lepton_flow.parallel import expect_input, fit_to_input, task_runner
from lepton_flow.reporting import refused
from lepton_flow.settings import get_settings
from lepton_flow.sources import ReadOptions, SourceURL, source_problem
from lepton_flow.runtime import ended_failed
from tasks.clean_readings import clean_readings
from tasks.commit_readings import commit_readings
from tasks.discover_sensor_files import discover_sensor_files
from tasks.plan_ingest_run import plan_ingest_run
from tasks.ingest_sensor_file import ingest_sensor_file
from tasks.report_ingest import report_ingest

StepName = Literal[tuple(step_names())]  # type: ignore[valid-type]


class _SensorIngestParams(ReadOptions):
    """Parameters of `sensor_ingest`: where to read, how to read it, how to clean it; one section per cleaning step
    with settings (added from the registry below)."""

    model_config = {
        "hide_input_in_errors": True,  # a refused source may carry a secret
        # What a user comes to change first; then how to read, then how to clean (the steps' sections follow).
        "json_schema_extra": field_order("source", "format", "steps", "timezone", "sensor_id", "timestamp_unit", "threshold", "grid_seconds"),
    }

    source: SourceURL = Field(
        "",
        description="Files to ingest: a directory, a glob or one file, as a path or fsspec URL. Empty: the demo data under the data root.",
        max_length=2048,
    )
    format: str = Field(
        "auto",
        description="File format; auto picks it from the file name.",
        # The registry's names, read when the schema is made: a format added
        # as a module shows up in the UI form without editing this model.
        json_schema_extra=lambda schema: schema.update(enum=["auto", *format_names()]),
    )
    steps: list[StepName] = Field(
        list(DEFAULT_STEPS),
        description="Cleaning steps in order: row steps, then 'resample' (exactly once), then grid steps. "
        + " ".join(f"{name}: {text.rstrip('.')}." for name, text in step_descriptions().items()),
        # The form refuses a list without exactly one 'resample' (the server checks this schema before a run is made).
        json_schema_extra={"contains": {"const": "resample"}, "minContains": 1, "maxContains": 1},
    )
    threshold: float | None = Field(
        None, ge=0, le=1, description="Least share of a file's readings that must pass validation; empty: the setting LEPTON_VALIDATION_THRESHOLD (0.5 unless set)."
    )
    grid_seconds: int | None = grid_seconds_field()

    @model_validator(mode="before")
    @classmethod
    def _flat_names(cls, data):
        return nest_flat_names(data)  # `hampel_sigmas=6` as before each step had its own section

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        return known_format(value)

    @field_validator("steps")
    @classmethod
    def _steps_in_order(cls, steps: list[str]) -> list[str]:
        """Row steps before 'resample', grid steps after it, each once: refused with the parameters, not minutes into a run."""
        plan(list(steps))
        return steps

    def read_options(self) -> ReadOptions:
        return ReadOptions(**{k: getattr(self, k) for k in ReadOptions.model_fields})

    def clean_params(self) -> CleanParams:
        sections = {name: getattr(self, name).model_dump() for name in step_options()}
        return CleanParams(grid_seconds=self.grid_seconds, options=sections)


def _with_step_sections(base: type) -> type:
    """`base` with one field per registered cleaning step that has settings (its options model, filled with its
    defaults), so that a step added as a module or by an installed package brings its settings into the form."""
    sections = {}
    for name, options in step_options().items():
        if name in base.model_fields:
            raise ValueError(f"cleaning step {name!r} has settings but its name is a field of sensor_ingest's parameters; rename the step")
        description = f"{name}: {registry()[name].description}"
        sections[name] = (options, Field(default_factory=options, title=f"{name} settings", description=description))
    return create_model("SensorIngestParams", __base__=base, __module__=__name__, __doc__=base.__doc__, **sections)


SensorIngestParams = _with_step_sections(_SensorIngestParams)


@flow(name="sensor_ingest", task_runner=task_runner(), log_prints=True)
def sensor_ingest(params: SensorIngestParams = SensorIngestParams()) -> IngestSummary:
    """Discover, ingest (read, validate, stage), clean and commit sensor files; returns the run's summary."""
    if problem := source_problem(params.source, empty="the demo data (`lepton-flow demo-data` makes it)", empty_at=get_settings().demo_dir):
        return refused(problem, "sensor-ingest-refused")
    expect_input(params.source or get_settings().demo_dir)  # a small input: what its tasks import, while it is found
    # One ingest of a store at a time: a second run waits, then finds the first one's files ingested.
    with store_lock(get_settings().store):
        run = plan_ingest_run(str(flow_run.get_id() or "local"), params.grid_seconds, params.threshold)
        found = discover_sensor_files(params.source, run, params.read_options())
        if found.grid_seconds:  # a new store's grid, from its readings' spacing
            run = run.model_copy(update={"grid_seconds": found.grid_seconds})
        urls = [f.url for f in found.new]
        fit_to_input(found.new)  # a few small files: threads of this process, not a cluster started for them

        # One task per file reads, validates and stages it, a bounded piece at a time.
        refs, failed = split_completed(ingest_sensor_file.map(found.new, unmapped(run), unmapped(params.read_options())), urls, "ingest")
        staged, rejected = outcomes(refs, "ingest")

        cleaned = clean_readings(staged, run, list(params.steps or DEFAULT_STEPS), params.clean_params())
        snapshot = commit_readings(cleaned, run, staged)
    failures = failed + rejected + rejections(cleaned.rejected, "clean")
    summary = report_ingest(run, cleaned, snapshot, staged, failures, found.already_ingested, found.unsupported)
    if failures:
        return ended_failed(f"{len(failures)} file(s) not ingested: " + "; ".join(f.described for f in failures[:3]), data=summary)
    return summary
