"""The `train_sensor_model` flow: a store snapshot to a new model version in the registry."""

from __future__ import annotations

from prefect import flow

from lepton_flow.training import TrainParams
from tasks.fit_sensor_model import fit_sensor_model
from tasks.plan_training import plan_training
from tasks.promote_model import promote_model
from tasks.report_training import report_training


@flow(name="train_sensor_model", log_prints=True)
def train_sensor_model(params: TrainParams = TrainParams()) -> str:
    """Plan, train, promote if no worse, report; returns the printed summary."""
    plan = plan_training(params)
    result = fit_sensor_model(plan)
    result = promote_model(plan, result)
    return report_training(result)
