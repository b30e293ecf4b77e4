"""z-score: a reading more than `threshold` standard deviations from its sensor's mean (over the window in view) is an outlier."""

from __future__ import annotations

import warnings

import numpy as np

from pydantic import BaseModel, Field

from lepton_flow.cleaning import OBSERVED, OUTLIER, GridStep, register


class ZScoreOptions(BaseModel):
    model_config = {"extra": "forbid"}

    threshold: float = Field(4.0, gt=0, le=100, description="Standard deviations from the sensor's mean that make an outlier.")


def zscore(values: np.ndarray, quality: np.ndarray, fresh: np.ndarray, options: ZScoreOptions) -> tuple[np.ndarray, np.ndarray]:
    judged = np.where(quality == OBSERVED, values, np.nan)  # what earlier steps flagged does not shift the mean
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a sensor with nothing observed in view
        mean = np.nanmean(judged, axis=0) if values.size else np.zeros(values.shape[1])
        std = np.nanstd(judged, axis=0) if values.size else np.zeros(values.shape[1])
        z = np.abs(values - mean) / std
        flagged = fresh & (quality == OBSERVED) & np.isfinite(z) & (z > options.threshold)
    return values.copy(), np.where(flagged, OUTLIER, quality).astype(np.uint8)


STEP = register(GridStep("zscore", zscore, halo=lambda o: 0, description=__doc__.splitlines()[0], local=False, options=ZScoreOptions))
