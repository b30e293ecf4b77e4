from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from lepton_flow.flowtools import gpu_slot, run_logger
from lepton_flow.scoring import ScorePlan, ScoreResult, score


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=5)
def score_sensor_range(plan: ScorePlan, batch_size: int, top: int, flag_rate: float = 0.001, calibration_window: int = 2880) -> ScoreResult:
    """Score the plan's rows in large batches, holding a `gpu` slot, and commit them once; returns the snapshot.

    Flags are calibrated per sensor (`flag_rate` of points like its last `calibration_window` steps).

    Long ranges show their progress as a Prefect progress artifact.
    """
    if plan.empty:
        return score(plan, batch_size, "", run_logger())
    from prefect.artifacts import create_progress_artifact, update_progress_artifact

    progress_id = create_progress_artifact(0.0, key="score-progress", description=f"Scoring with {plan.model_name} version {plan.version}")
    with gpu_slot():
        return score(
            plan,
            batch_size,
            str(flow_run.get_id() or "local"),
            run_logger(),
            progress=lambda pct: update_progress_artifact(progress_id, pct),
            top=top,
            flag_rate=flag_rate,
            calibration_window=calibration_window,
        )
