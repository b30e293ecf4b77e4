"""The `classify_images` flow: a registry image classifier predicts a directory of images."""

from __future__ import annotations

from prefect import flow

from lepton_flow.images import IMAGES, ClassifyParams
from lepton_flow.reporting import refused
from lepton_flow.sources import source_problem
from tasks.classify_image_files import classify_image_files
from tasks.report_classification import report_classification


@flow(name="classify_images", log_prints=True)
def classify_images(params: ClassifyParams) -> str:
    """Predict, then report predictions, the confusion matrix when labelled, and rejected files; returns the printed summary."""
    if problem := source_problem(params.source, IMAGES):
        return refused(problem, "classify-images-refused")
    return report_classification(classify_image_files(params))
