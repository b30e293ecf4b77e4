"""Drop repeated readings: same sensor, metric and timestamp.

The first reading in file order (then line order) wins, so a re-sent file
never overrides the original.
"""

from __future__ import annotations

import pandas as pd

from lepton_flow.cleaning import NoOptions, RowStep, register

KEY = ["ts", "sensor_id", "metric"]


def dedupe(rows: pd.DataFrame, options: NoOptions) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    dup = rows.duplicated(subset=KEY, keep="first").to_numpy()
    return rows[~dup], rows[dup], {"duplicates": int(dup.sum())}


STEP = register(RowStep("dedupe", dedupe, outcome="duplicates", description=__doc__.splitlines()[0]))
