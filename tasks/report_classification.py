from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow import reporting
from lepton_flow.images import ClassifyResult
from lepton_flow.settings import get_settings


@task(cache_policy=NO_CACHE)
def report_classification(result: ClassifyResult) -> str:
    """Predictions table, confusion matrix (when images are labelled) and rejected files as artifacts; returns the printed summary."""
    png = url = None
    if result.confusion is not None:
        png = reporting.confusion_png(result.confusion, result.classes, f"{result.model_name} version {result.version}: accuracy {result.accuracy:.4f}")
        url = reporting.save_png(png, get_settings().reports_dir, f"classify/{result.model_name}-{result.version}-confusion.png")
    reporting.publish_classification_artifacts(result, url)
    return reporting.classification_text(result, url)
