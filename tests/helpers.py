"""Helpers shared by test modules."""

from __future__ import annotations

import numpy as np
import zarr

GRID = 30


def cleaned_block(path, start_bin, values: dict[str, np.ndarray], sensors, windows=None, units=None, chunk_len: int = 8):
    """A cleaned block as the clean step writes it: arrays plus attributes that place it in the store."""
    length = next(iter(values.values())).shape[0]
    group = zarr.open_group(str(path), mode="w")
    group.attrs.update(
        {
            "grid_seconds": GRID,
            "chunk_len": chunk_len,
            "start_bin": start_bin,
            "end_bin": start_bin + length - 1,
            "windows": windows or sorted({(start_bin + i) // chunk_len for i in range(length)}),
            "sensors": sensors,
            "metrics": list(values),
            "units": units or {m: "C" for m in values},
        }
    )
    for metric, data in values.items():
        group.create_array(metric, data=data.astype("float32"), chunks=(chunk_len, len(sensors)), dimension_names=("time", "sensor"))
        quality = np.where(np.isnan(data), 0, 1).astype("uint8")
        group.create_array(f"{metric}_quality", data=quality, chunks=(chunk_len, len(sensors)), dimension_names=("time", "sensor"))
    return str(path)
