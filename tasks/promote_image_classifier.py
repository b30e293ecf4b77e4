from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import run_logger
from lepton_flow.images import ImageTrainResult, promote


@task(cache_policy=NO_CACHE)
def promote_image_classifier(result: ImageTrainResult) -> ImageTrainResult:
    """Make the new version current if its validation loss is no worse than the current one's on the same images."""
    return promote(result, run_logger())
