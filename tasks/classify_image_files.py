from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from lepton_flow.flowtools import gpu_slot, run_logger
from lepton_flow.images import ClassifyParams, ClassifyResult, classify


@task(cache_policy=NO_CACHE)
def classify_image_files(params: ClassifyParams) -> ClassifyResult:
    """Predict every usable image of the source with a registry model, holding a `gpu` slot; predictions go to a CSV."""
    with gpu_slot():
        return classify(params, str(flow_run.get_id() or "local"), run_logger())
