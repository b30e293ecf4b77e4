from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow import reporting
from lepton_flow.registry import Registry
from lepton_flow.settings import get_settings
from lepton_flow.training import TrainResult


@task(cache_policy=NO_CACHE)
def report_training(result: TrainResult) -> str:
    """Metrics table, training curves image and summary artifacts; returns the printed summary."""
    settings = get_settings()
    card = Registry(settings.models).card(result.name, result.version)
    png = reporting.training_curves_png(card.history, f"{card.name} version {card.version}")
    url = reporting.save_png(png, settings.reports_dir, f"train/{card.name}-{card.version}.png")
    reporting.publish_training_artifacts(card, url, result.card_url)
    card.extra["card_url"] = result.card_url
    return reporting.training_text(card, url)
