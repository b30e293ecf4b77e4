"""The `score_sensors` flow: a registry model scores the store, and the scores land as a new snapshot."""

from __future__ import annotations

from prefect import flow

from lepton_flow.scoring import ScoreParams
from tasks.plan_scoring import plan_scoring
from tasks.report_scoring import report_scoring
from tasks.score_sensor_range import score_sensor_range


@flow(name="score_sensors", log_prints=True)
def score_sensors(params: ScoreParams = ScoreParams()) -> str:
    """Plan the range, score and commit it, report the top anomalies; returns the printed summary."""
    plan = plan_scoring(params)
    if plan is None:
        return f"nothing scored: no current model {params.model_name!r} yet (train one: train-sensor-model)"
    result = score_sensor_range(plan, params.batch_size, params.top, params.flag_rate, params.calibration_window)
    return report_scoring(result)
