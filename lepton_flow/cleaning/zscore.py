"""z-score: a reading more than `zscore_threshold` standard deviations from its sensor's mean (over the window in view) is an outlier."""

from __future__ import annotations

import numpy as np

from lepton_flow.cleaning import OBSERVED, OUTLIER, CleanParams, GridStep, register


def zscore(values: np.ndarray, quality: np.ndarray, fresh: np.ndarray, params: CleanParams) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(values, axis=0) if values.size else np.zeros(values.shape[1])
        std = np.nanstd(values, axis=0) if values.size else np.zeros(values.shape[1])
        z = np.abs(values - mean) / std
        flagged = fresh & (quality == OBSERVED) & np.isfinite(z) & (z > params.zscore_threshold)
    return np.where(flagged, np.nan, values), np.where(flagged, OUTLIER, quality).astype(np.uint8)


STEP = register(GridStep("zscore", zscore, halo=lambda p: 0, description=__doc__.splitlines()[0]))
