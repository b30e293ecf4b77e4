"""The `image_classifier` flow: a directory of class folders to a new image classifier version in the registry."""

from __future__ import annotations

from prefect import flow

from lepton_flow.images import CLASS_FOLDERS, ImageParams
from lepton_flow.reporting import refused
from lepton_flow.sources import source_problem
from tasks.fit_image_classifier import fit_image_classifier
from tasks.promote_image_classifier import promote_image_classifier
from tasks.report_image_training import report_image_training
from tasks.scan_images import scan_images


@flow(name="image_classifier", log_prints=True)
def image_classifier(params: ImageParams) -> str:
    """Scan (rejecting what is not an image), train, promote if no worse, report; returns the printed summary."""
    if problem := source_problem(params.source, CLASS_FOLDERS):
        return refused(problem, "image-classifier-refused")
    images = scan_images(params.source, params.color)
    result = fit_image_classifier(params, images)
    result = promote_image_classifier(result)
    return report_image_training(result)
