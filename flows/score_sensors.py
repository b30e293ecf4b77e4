"""The `score_sensors` flow: a registry model scores the store, and the scores land as a new snapshot."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from lepton_flow.reporting import md_escape, trigger_markdown
from lepton_flow.scoring import ScoreParams
from tasks.plan_scoring import plan_scoring
from tasks.report_scoring import report_scoring
from tasks.score_sensor_range import score_sensor_range


@flow(name="score_sensors", log_prints=True)
def score_sensors(params: ScoreParams = ScoreParams()) -> str:
    """Plan the range, score and commit it, report the top anomalies; returns the printed summary."""
    plan = plan_scoring(params)
    if plan is None:
        text = f"nothing scored: no current model {params.model_name!r} yet (train one: train-sensor-model)"
        create_markdown_artifact(
            key="score-summary", markdown="\n".join(filter(None, [md_escape(text), trigger_markdown(params.triggered_by)])) + "\n", description="score_sensors outcome"
        )
        return text + (f"; triggered by flow run {params.triggered_by}" if params.triggered_by else "")
    result = score_sensor_range(plan, params.batch_size, params.top, params.flag_rate, params.calibration_window)
    return report_scoring(result, params.triggered_by)
