"""Stuck values: `min_run` or more identical consecutive readings are a stuck sensor, flagged (runs at a rest value, 0 by default, are not)."""

from __future__ import annotations

import numpy as np

from pydantic import BaseModel, Field

from lepton_flow.cleaning import OBSERVED, STUCK, GridStep, register, runs


class FlatlineOptions(BaseModel):
    model_config = {"extra": "forbid"}

    min_run: int = Field(20, ge=2, le=100_000, description="Identical consecutive readings that make a stuck sensor.")
    rest_values: list[float] = Field(
        [0.0],
        max_length=64,
        description="Values a sensor rests at for long stretches when nothing happens (a dry rain gauge, irradiance at night, an idle "
        "machine's power): runs of them are not stuck. [] flags runs of any value.",
    )


def flatline(values: np.ndarray, quality: np.ndarray, fresh: np.ndarray, options: FlatlineOptions) -> tuple[np.ndarray, np.ndarray]:
    flagged = np.zeros(values.shape, bool)
    same = np.zeros(values.shape, bool)
    # same[t] is True when reading t repeats reading t-1 exactly.
    same[1:] = (values[1:] == values[:-1]) & (quality[1:] == OBSERVED) & (quality[:-1] == OBSERVED)
    if options.rest_values:
        same[1:] &= ~np.isin(values[:-1], np.asarray(options.rest_values, values.dtype))
    for col in np.flatnonzero(same.any(axis=0)):
        starts, ends = runs(same[:, col])
        for start, end in zip(starts, ends):
            if end - start + 1 >= options.min_run:
                flagged[start - 1 : end, col] = True
    flagged &= fresh
    return values.copy(), np.where(flagged, STUCK, quality).astype(np.uint8)


STEP = register(GridStep("flatline", flatline, halo=lambda o: o.min_run, description=__doc__.splitlines()[0], options=FlatlineOptions))
