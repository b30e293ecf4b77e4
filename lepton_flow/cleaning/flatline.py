"""Stuck values: `flatline_min_run` or more identical consecutive readings are a stuck sensor, flagged."""

from __future__ import annotations

import numpy as np

from lepton_flow.cleaning import OBSERVED, STUCK, CleanParams, GridStep, register, runs


def flatline(values: np.ndarray, quality: np.ndarray, fresh: np.ndarray, params: CleanParams) -> tuple[np.ndarray, np.ndarray]:
    flagged = np.zeros(values.shape, bool)
    same = np.zeros(values.shape, bool)
    # same[t] is True when reading t repeats reading t-1 exactly.
    same[1:] = (values[1:] == values[:-1]) & (quality[1:] == OBSERVED) & (quality[:-1] == OBSERVED)
    for col in np.flatnonzero(same.any(axis=0)):
        starts, ends = runs(same[:, col])
        for start, end in zip(starts, ends):
            if end - start + 1 >= params.flatline_min_run:
                flagged[start - 1 : end, col] = True
    flagged &= fresh
    return values.copy(), np.where(flagged, STUCK, quality).astype(np.uint8)


STEP = register(GridStep("flatline", flatline, halo=lambda p: p.flatline_min_run, description=__doc__.splitlines()[0]))
