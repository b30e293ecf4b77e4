"""Bounded-gap interpolation: gaps up to `max_gap` bins between two readings are filled linearly; longer ones stay NaN, flagged as gaps."""

from __future__ import annotations

import numpy as np

from pydantic import BaseModel, Field

from lepton_flow.cleaning import FLAGGED, GAP, INTERPOLATED, MISSING, GridStep, register, runs


class InterpolateOptions(BaseModel):
    model_config = {"extra": "forbid"}

    max_gap: int = Field(10, ge=0, le=10_000, description="Longest gap (in bins) filled; longer gaps stay NaN and are flagged.")


def interpolate(values: np.ndarray, quality: np.ndarray, fresh: np.ndarray, options: InterpolateOptions) -> tuple[np.ndarray, np.ndarray]:
    out_values = values.copy()
    out_quality = quality.copy()
    index = np.arange(values.shape[0])
    fillable = np.isnan(values) & ((quality == MISSING) | (quality == INTERPOLATED) | (quality == GAP))
    for col in np.flatnonzero(fillable.any(axis=0)):
        # A flagged reading keeps its value but is no anchor: a line is never drawn from a spike or a stuck sensor.
        present = ~np.isnan(values[:, col]) & ~np.isin(quality[:, col], FLAGGED)
        if not present.any():
            continue
        starts, ends = runs(fillable[:, col])
        for start, end in zip(starts, ends):
            # Only gaps with a reading on both sides are gaps; the ends of a
            # series are just where the data stops.
            if start == 0 or end == len(index) or not (present[start - 1] and present[end]):
                continue
            if end - start <= options.max_gap:
                out_values[start:end, col] = np.interp(index[start:end], [start - 1, end], [values[start - 1, col], values[end, col]])
                out_quality[start:end, col] = INTERPOLATED
            else:
                out_values[start:end, col] = np.nan
                out_quality[start:end, col] = GAP
    return out_values, out_quality


STEP = register(GridStep("interpolate", interpolate, halo=lambda o: o.max_gap + 1, description=__doc__.splitlines()[0], options=InterpolateOptions))
