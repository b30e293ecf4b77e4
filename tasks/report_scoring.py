from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow import reporting
from lepton_flow.scoring import ScoreResult, anomaly_context
from lepton_flow.settings import get_settings


@task(cache_policy=NO_CACHE)
def report_scoring(result: ScoreResult, triggered_by: str = "") -> str:
    """Top-anomalies table, a plot of the worst sensor around its worst anomaly, and a summary; returns the printed summary."""
    url = None
    if result.anomalies:
        worst = result.anomalies[0]
        png = reporting.anomaly_png(anomaly_context(result, worst), f"{worst.sensor}: peak score {worst.peak_score:.4g} at {worst.start}")
        url = reporting.save_png(png, get_settings().reports_dir, f"score/{result.plan.model_name}-{result.snapshot_id}.png")
    if result.snapshot_id is not None:
        reporting.publish_scoring_artifacts(result, url, triggered_by)
    return reporting.scoring_text(result, url, triggered_by)
