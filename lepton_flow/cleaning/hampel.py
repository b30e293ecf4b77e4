"""Hampel filter: a reading further than `hampel_sigmas` robust deviations from its rolling median is an outlier.

The robust deviation is 1.4826 times the rolling median of the absolute
deviations from the rolling median (the usual fast form of the filter).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from lepton_flow.cleaning import OBSERVED, OUTLIER, CleanParams, GridStep, register


def hampel(values: np.ndarray, quality: np.ndarray, fresh: np.ndarray, params: CleanParams) -> tuple[np.ndarray, np.ndarray]:
    width = 2 * params.hampel_half_window + 1
    frame = pd.DataFrame(values)
    roll = dict(window=width, center=True, min_periods=params.hampel_half_window + 1)
    median = frame.rolling(**roll).median()
    mad = (frame - median).abs().rolling(**roll).median()
    scale = 1.4826 * mad.to_numpy()
    deviation = np.abs(values - median.to_numpy())
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # A spread estimated from a few neighbours is often far too small
        # (zero where values repeat), so the series' own noise level is the
        # floor: 1.4826 * median |x[t] - x[t-1]| / sqrt(2), which a slow
        # trend does not inflate.
        floor = 1.4826 * np.nanmedian(np.abs(np.diff(values, axis=0)), axis=0) / np.sqrt(2) if len(values) > 1 else np.zeros(values.shape[1])
        floor = np.where(np.isfinite(floor), floor, 0.0)
        flagged = fresh & (quality == OBSERVED) & (deviation > params.hampel_sigmas * np.maximum(scale, floor)) & (deviation > 0)
    out_values = np.where(flagged, np.nan, values)
    out_quality = np.where(flagged, OUTLIER, quality).astype(np.uint8)
    return out_values, out_quality


STEP = register(GridStep("hampel", hampel, halo=lambda p: p.hampel_half_window, description=__doc__.splitlines()[0]))
