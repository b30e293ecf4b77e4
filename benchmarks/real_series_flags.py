"""How much the default pipeline flags on real series that no one labelled, through the commands a user types.

    python benchmarks/real_series_flags.py [--series glucose close_ibm ...]

Series shipped in `bokeh_sampledata` (a test dependency, see
`../shared/data/README.md`): a continuous glucose monitor (5 minutes, real
gaps), a buoy's sea temperature (30 minutes), two stocks' daily closing
prices and volumes (2000 to 2013: trends, splits, the 2008 crash), a ride's
power at 1 Hz. Each goes into a data root of its own as `timestamp,value`,
through `lepton-flow run pipeline --source FILE` with defaults, and the
script prints the share of scored points flagged in the training range,
the validation range and after, and the events flagged. Nothing here is
labelled, so these are the flags a user would look at for nothing known
(the default asks for 0.1% of points; the benchmark of real labelled series
aims at no series over 2%). Run it by hand; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from importlib.resources import files

import numpy as np
import pandas as pd
from synthetic_incidents import flagged_shares

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def series() -> dict[str, tuple[pd.Series, np.ndarray]]:
    data = files("bokeh_sampledata") / "_data"
    out = {}
    d = pd.read_csv(data / "CGM.csv.gz")
    out["glucose"] = (pd.to_datetime(d["datetime"]), d["glucose"].to_numpy(float))
    d = pd.read_csv(data / "sea_surface_temperature.csv.gz")
    out["sea_temperature"] = (pd.to_datetime(d["time (UTC)"]).dt.tz_localize(None), d["temperature (celsius)"].to_numpy(float))
    d = pd.read_csv(data / "stocks.csv.gz")
    for ticker in ("AAPL", "IBM"):
        rows = d[d.Ticker == ticker]
        out[f"close_{ticker.lower()}"] = (pd.to_datetime(rows["Date"]), rows["Close"].to_numpy(float))
        out[f"volume_{ticker.lower()}"] = (pd.to_datetime(rows["Date"]), rows["Volume"].to_numpy(float))
    d = pd.read_csv(data / "cycling.csv.gz")
    out["cycling_power"] = (pd.Timestamp("2020-06-01") + pd.to_timedelta(d["time"]), d["power"].to_numpy(float))
    return out


def run(name: str, t, v, base: str) -> dict:
    root = os.path.join(base, name)
    os.makedirs(root)
    src = os.path.join(root, f"{name}.csv")
    pd.DataFrame({"timestamp": pd.DatetimeIndex(t).strftime("%Y-%m-%d %H:%M:%S"), "value": v}).to_csv(src, index=False)
    env = {**os.environ, "LEPTON_DATA_ROOT": os.path.join(root, "data")}
    done = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "run", "pipeline", "--source", src], env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode:
        return {"series": name, "error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    out = {"series": name, "points": len(v)}
    models = os.path.join(root, "data", "models")
    for model in sorted(os.listdir(models)):
        with open(os.path.join(models, model, "current")) as fh:
            version = fh.read().strip()
        shares = flagged_shares(os.path.join(root, "data"), model, version)
        out[model] = {"flagged_%": shares}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", nargs="*", help="names to run (default: all)")
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="lepton-real-series-")
    try:
        for name, (t, v) in series().items():
            if not args.series or name in args.series:
                print(json.dumps(run(name, t, v, base)), flush=True)
    finally:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
