"""What a model reads from the store: a dataset's grid, with the feature transform that dataset's models expect."""

from __future__ import annotations

import numpy as np

from lepton_flow import store
from lepton_flow.cleaning import FLAGGED

# Event counts are heavy-tailed: a burst of thousands should not drown the rest.
TRANSFORMS = {"logs": np.log1p}


def grid_reader(
    url: str,
    snapshot_id: str,
    metrics: list[str],
    sensors: list[str],
    dataset: str = "sensors",
    training: bool = False,
    spans: dict[str, tuple[int, int]] | None = None,
    learned: list[int] | None = None,
) -> store.GridReader:
    """A reader of `dataset`'s grid at a snapshot, giving model features (log1p counts for logs, values for sensors).

    For `training`, readings cleaning flagged (outliers, stuck values) read as missing: the model learns what is
    normal from the rest. Scoring reads every observed value, flagged or not. `spans`: the rows each sensor is read
    over (a training range per sensor); its other rows read as missing. `learned`: channels (metric-major) whose
    flagged readings training reads as observed.
    """
    hide = FLAGGED if training else ()
    return store.GridReader(url, snapshot_id, metrics, sensors, dataset, transform=TRANSFORMS.get(dataset), hide_quality=hide, spans=spans, shown=learned)
