from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from lepton_flow.flowtools import retry_transient
from lepton_flow.images import ImageSet, scan


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 8], retry_condition_fn=retry_transient)
def scan_images(source: str, color: str = "auto") -> ImageSet:
    """Every file under the source checked: usable images by class folder, rejected files with a reason, empty class folders."""
    return scan(source, color)
