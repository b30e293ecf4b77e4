from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from lepton_flow.flowtools import gpu_slot, run_logger
from lepton_flow.training import TrainingPlan, TrainResult, fit


@task(cache_policy=NO_CACHE)
def fit_sensor_model(plan: TrainingPlan) -> TrainResult:
    """Train a new model version on the plan's windows, holding a `gpu` slot; returns the registry version.

    A checkpoint is kept each epoch: a run killed mid-training resumes from
    its last epoch when re-run with the same plan.
    """
    with gpu_slot():
        return fit(plan, str(flow_run.get_id() or "local"), run_logger())
