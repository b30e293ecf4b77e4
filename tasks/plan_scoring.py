from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.scoring import ScoreParams, ScorePlan, plan


@task(cache_policy=NO_CACHE)
def plan_scoring(params: ScoreParams) -> ScorePlan:
    """Resolve the model version, the input snapshot and the rows to score (default: after the last scored time)."""
    return plan(params)
