from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import run_logger
from lepton_flow.registry import Registry
from lepton_flow.scoring import ScoreParams, ScorePlan, plan
from lepton_flow.settings import get_settings


@task(cache_policy=NO_CACHE)
def plan_scoring(params: ScoreParams) -> ScorePlan | None:
    """Resolve the model version, the input snapshot and the rows to score (default: after the last scored time).

    None when `require_model` is off and the registry has no current model yet.
    """
    if not params.require_model and Registry(get_settings().models).current(params.model_name) is None:
        run_logger().info("no current model %r yet: nothing to score until one is trained", params.model_name)
        return None
    return plan(params)
