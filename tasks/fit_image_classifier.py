from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from lepton_flow.flowtools import gpu_slot, run_logger
from lepton_flow.images import ImageParams, ImageSet, ImageTrainResult, fit


@task(cache_policy=NO_CACHE)
def fit_image_classifier(params: ImageParams, images: ImageSet) -> ImageTrainResult:
    """Train the CNN on the scanned images, holding a `gpu` slot; returns the new registry version (not yet current)."""
    with gpu_slot():
        return fit(params, images, str(flow_run.get_id() or "local"), run_logger())
