"""Hampel filter: a reading further than `sigmas` robust deviations from the median of its neighbourhood is an outlier.

For each bin, over the `2 * half_window + 1` bins around it: the
median, and 1.4826 times the median absolute deviation from that median
(the exact filter, not the rolling approximation, which calls the peaks of
smooth signals outliers). The series' own noise level is the least spread
allowed, so a flat or perfectly smooth stretch does not turn its ordinary
noise into outliers; where there is no spread at all (the neighbourhood and
most of the series' steps equal, as a rain gauge's dry hours), nothing is
called an outlier.
"""

from __future__ import annotations

import warnings

import bottleneck as bn
import numpy as np

from pydantic import BaseModel, Field

from lepton_flow.cleaning import OBSERVED, OUTLIER, GridStep, register


class HampelOptions(BaseModel):
    model_config = {"extra": "forbid"}

    half_window: int = Field(7, ge=1, le=500, description="Bins on each side of a point.")
    sigmas: float = Field(5.0, gt=0, le=100, description="Robust standard deviations that make an outlier.")


def window_median(windows: np.ndarray, min_count: int) -> np.ndarray:
    """NaN-aware median over the last axis (sorting puts NaN last); NaN with fewer than `min_count` values."""
    ordered = np.sort(windows, axis=-1)
    count = np.count_nonzero(~np.isnan(windows), axis=-1)
    lo = np.maximum((count - 1) // 2, 0)[..., None]
    hi = np.maximum(count // 2, 0)[..., None]
    median = 0.5 * (np.take_along_axis(ordered, lo, -1) + np.take_along_axis(ordered, hi, -1))[..., 0]
    return np.where(count >= min_count, median, np.nan)


def noise_level(values: np.ndarray) -> np.ndarray:
    """Per column: 1.4826 * median |x[t] - x[t-1]| / sqrt(2), the white-noise spread a slow trend does not inflate."""
    if len(values) < 2:
        return np.zeros(values.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        level = 1.4826 * np.nanmedian(np.abs(np.diff(values, axis=0)), axis=0) / np.sqrt(2)
    return np.where(np.isfinite(level), level, 0.0)


def hampel(values: np.ndarray, quality: np.ndarray, fresh: np.ndarray, options: HampelOptions) -> tuple[np.ndarray, np.ndarray]:
    k = options.half_window
    if values.shape[0] == 0:
        return values.copy(), quality.copy()
    width = 2 * k + 1
    # bottleneck's moving median is a trailing window: pad k bins on each
    # side and drop the first 2k to centre it (4-5x faster than pandas'
    # rolling median); the padding also lets a series shorter than the window in.
    pad = np.full((k, values.shape[1]), np.nan)
    median = bn.move_median(np.concatenate([pad, values, pad]), width, min_count=k + 1, axis=0)[2 * k :]
    floor = noise_level(values)
    with np.errstate(invalid="ignore"):
        deviation = np.abs(values - median)
        # Only a reading beyond the noise floor can be an outlier; the exact
        # window spread is computed for those few alone.
        candidate = fresh & (quality == OBSERVED) & (deviation > options.sigmas * floor) & (deviation > 0)
    rows, cols = np.nonzero(candidate)
    flagged = np.zeros(values.shape, bool)
    if rows.size:
        padded = np.pad(values, ((k, k), (0, 0)), constant_values=np.nan)
        windows = padded[rows[:, None] + np.arange(width)[None, :], cols[:, None]]
        scale = 1.4826 * window_median(np.abs(windows - median[rows, cols][:, None]), k + 1)
        spread = np.fmax(scale, floor[cols])
        with np.errstate(invalid="ignore"):
            # No spread at all (a rain gauge's dry hours: every neighbour and most steps of the series equal) leaves
            # nothing to measure a deviation by: a shower is not an outlier of zeros.
            flagged[rows, cols] = (deviation[rows, cols] > options.sigmas * spread) & (spread > 0)
    return values.copy(), np.where(flagged, OUTLIER, quality).astype(np.uint8)


STEP = register(GridStep("hampel", hampel, halo=lambda o: o.half_window, description=__doc__.splitlines()[0], options=HampelOptions))
