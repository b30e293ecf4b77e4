from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow import reporting
from lepton_flow.images import ImageTrainResult
from lepton_flow.registry import Registry
from lepton_flow.settings import get_settings


@task(cache_policy=NO_CACHE)
def report_image_training(result: ImageTrainResult) -> str:
    """Metrics (with accuracy per class), training curves and rejected files as artifacts; returns the printed summary."""
    card = Registry(get_settings().models).card(result.name, result.version)
    png = reporting.training_curves_png({"loss": card.history.get("loss", []), "val_loss": card.history.get("val_loss", [])}, f"{card.name} version {card.version}")
    url = reporting.save_png(png, get_settings().reports_dir, f"images/{card.name}-{card.version}.png")
    reporting.publish_image_training_artifacts(card, result, url)
    return reporting.image_training_text(card, result)
