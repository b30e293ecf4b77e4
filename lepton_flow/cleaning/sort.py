"""Order readings by sensor, metric and time; counts readings that arrived out of order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lepton_flow.cleaning import NoOptions, RowStep, register


def sort(rows: pd.DataFrame, options: NoOptions) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    # A reading is out of order when an earlier line of its series had a later time.
    by_series = rows.groupby(["sensor_id", "metric"], sort=False, observed=True)["ts"]
    late = rows["ts"].to_numpy() < by_series.cummax().to_numpy()
    ordered = rows.sort_values(["sensor_id", "metric", "ts"], kind="stable")
    return ordered, rows.iloc[0:0], {"out_of_order": int(np.count_nonzero(late))}


STEP = register(RowStep("sort", sort, description=__doc__.splitlines()[0]))
