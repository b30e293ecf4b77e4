"""What a model reads from the store: a dataset's grid, with the feature transform that dataset's models expect."""

from __future__ import annotations

import numpy as np

from lepton_flow import store

# Event counts are heavy-tailed: a burst of thousands should not drown the rest.
TRANSFORMS = {"logs": np.log1p}


def grid_reader(url: str, snapshot_id: str, metrics: list[str], sensors: list[str], dataset: str = "sensors") -> store.GridReader:
    """A reader of `dataset`'s grid at a snapshot, giving model features (log1p counts for logs, values for sensors)."""
    return store.GridReader(url, snapshot_id, metrics, sensors, dataset, transform=TRANSFORMS.get(dataset))
