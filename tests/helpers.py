"""Helpers shared by test modules."""

from __future__ import annotations

import numpy as np

from lepton_flow import store

GRID = 30


def cleaned_block(path, start_bin, values: dict[str, np.ndarray], sensors, windows=None, units=None, chunk_len: int = 8, quality: dict[str, np.ndarray] | None = None):
    """A cleaned block as the clean step writes it (through `store.CleanedBlock`), quality OBSERVED where a value is given
    unless `quality` gives a metric's codes."""
    length = next(iter(values.values())).shape[0]
    block = store.CleanedBlock.create(
        str(path),
        grid_seconds=GRID,
        chunk_len=chunk_len,
        start_bin=start_bin,
        end_bin=start_bin + length - 1,
        windows=windows or sorted({(start_bin + i) // chunk_len for i in range(length)}),
        sensors=list(sensors),
        metrics=list(values),
        units=units or {m: "C" for m in values},
    )
    for metric, data in values.items():
        codes = (quality or {}).get(metric)
        block.write(metric, 0, data, np.where(np.isnan(data), 0, 1).astype("uint8") if codes is None else codes.astype("uint8"))
    return str(path)
