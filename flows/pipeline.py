"""The `pipeline` flow: ingest the sensor files, train when there is new data (or no model yet), then score.

What `lepton-flow run pipeline` and `make run` run. The training parameters
are checked before anything is read; a training that fails does not stop
the scoring (which scores with the current model, or says there is none yet),
and the pipeline then ends Failed naming the training's error.
"""

from __future__ import annotations

from prefect import flow
from pydantic import BaseModel, Field

from flows.score_sensors import score_sensors
from flows.sensor_ingest import SensorIngestParams, sensor_ingest
from flows.train_sensor_model import train_sensor_model
from lepton_flow.cleaning import DEFAULT_GRID_SECONDS
from lepton_flow.forms import field_order
from lepton_flow.parallel import on_shared_cluster
from lepton_flow.registry import Registry
from lepton_flow.scoring import ScoreParams
from lepton_flow.settings import get_settings
from lepton_flow.training import TrainParams
from lepton_flow.runtime import ended_failed, run_logger


class PipelineParams(BaseModel):
    """Parameters of `pipeline`: one set per step."""

    model_config = {"json_schema_extra": field_order()}  # the form lists fields as declared here

    # Defaults as values, not factories: the form shows them filled in.
    ingest: SensorIngestParams = Field(SensorIngestParams(), description="Where to read sensor files and how to clean them.")
    train: TrainParams = Field(TrainParams(), description="The model trained when the ingest stored new data, or when there is no model yet.")
    score: ScoreParams = Field(ScoreParams(), description="How the current model scores what it has not scored yet.")


class PipelineOutcome(BaseModel):
    """What each step said, in order, and whether there was new data."""

    texts: list[str] = []
    new_data: bool = False
    trained: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


def _grid_seconds(params: PipelineParams) -> tuple[int, bool]:
    """The grid the ingest will use: the store's, else the one asked for, else the one the readings' spacing gives;
    and whether it came from the readings."""
    from lepton_flow import store
    from lepton_flow.formats import is_supported
    from lepton_flow.ingest import grid_from_readings
    from lepton_flow.sources import SourceError, list_candidates

    settings = get_settings()
    st = store.state(settings.store)
    if st.exists or params.ingest.grid_seconds:
        return (st.grid_seconds if st.exists else params.ingest.grid_seconds), False
    try:
        files, _ = list_candidates(params.ingest.source or settings.demo_dir, is_supported)
    except (SourceError, OSError):
        return DEFAULT_GRID_SECONDS, False  # the ingest says what is wrong with the source
    return grid_from_readings(files, params.ingest.read_options()), bool(files)


@flow(name="pipeline")
def pipeline(params: PipelineParams = PipelineParams()) -> PipelineOutcome:
    """Ingest, train if there is new data or no model, score; returns each step's summary."""
    from lepton_flow.reporting import summary_text

    grid, sniffed = _grid_seconds(params)
    try:
        params.train.check_window(grid)  # a range too short for a window: said before ingesting
    except ValueError as exc:
        return ended_failed(f"train parameters: {exc}")
    if sniffed:  # the ingest takes the grid found here rather than reading the files' first lines again
        run_logger().info(f"a new store: its time grid is {grid} s, from the readings' spacing (ingest.grid_seconds sets another)")
        params = params.model_copy(update={"ingest": params.ingest.model_copy(update={"grid_seconds": grid})})
    out = PipelineOutcome()
    ingest = on_shared_cluster(sensor_ingest)(params.ingest, return_state=True)
    summary = ingest.result(raise_on_failure=False)
    if hasattr(summary, "files"):
        out.texts.append(summary_text(summary))
    if not ingest.is_completed():
        return ended_failed(f"sensor_ingest {ingest.name.lower()}: {ingest.message or summary}", data=out)
    out.new_data = any(f.stored for f in summary.files)
    failed = None
    if out.new_data or Registry(get_settings().models).current(params.train.model_name) is None:
        trained = train_sensor_model(params.train, return_state=True)
        result = trained.result(raise_on_failure=False)
        if trained.is_completed():
            out.texts.append(str(result))
            out.trained = True
        else:
            failed = f"train_sensor_model {trained.name.lower()}: {trained.message or result}"
            out.texts.append(f"lepton-flow: {failed}")
    scored = score_sensors(params.score, return_state=True)
    result = scored.result(raise_on_failure=False)
    if scored.is_completed():
        out.texts.append(str(result))
    else:
        refused = f"score_sensors {scored.name.lower()}: {scored.message or result}"
        failed = failed or refused
        out.texts.append(f"lepton-flow: {refused}")
    _publish_summary(out, failed)
    return ended_failed(failed, data=out) if failed else out


def _publish_summary(out: PipelineOutcome, failed: str | None) -> None:
    """The run's summary artifact: each step's headline (its own run has the details and artifacts)."""
    from prefect.artifacts import create_markdown_artifact

    from lepton_flow.reporting import md_escape

    lines = ["# pipeline", "", f"- new data: {'yes' if out.new_data else 'no'}; trained: {'yes' if out.trained else 'no'}"]
    lines += [f"- {md_escape(text.splitlines()[0])}" for text in out.texts if text.strip()]
    if failed:
        lines.append(f"- **failed**: {md_escape(failed)}")
    create_markdown_artifact(key="pipeline-summary", markdown="\n".join(lines) + "\n", description="pipeline outcome")
