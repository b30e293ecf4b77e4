from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.training import TrainingPlan, TrainParams, plan


@task(cache_policy=NO_CACHE)
def plan_training(params: TrainParams) -> TrainingPlan:
    """Resolve the store snapshot, sensors, metrics and time ranges a training run reads.

    Fails here, before TensorFlow starts, when the store, a sensor or a range is missing.
    """
    return plan(params)
