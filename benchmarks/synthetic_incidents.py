"""Incidents where public benchmarks put them: inside the training range too, through `run pipeline` with defaults.

    python benchmarks/synthetic_incidents.py [--seed 11] [--baselines] [--keep]

Writes seven series in NAB's layout (`timestamp,value`, one file per series:
5-minute machine temperature with a daily cycle, hourly ambient temperature
with seasons, 30-minute taxi demand with daily and weekly cycles, 5-minute
CPU utilisation with bursts; then mention counts with heavy-tailed chatter,
traffic speed read at uneven times, an hourly price with missing hours).
The first four hold nine labelled incidents: five fall inside the first 70%
(the default training share), one inside the validation share, three after;
the last three two each, one in training and one after. Each series goes into a data root of its own, through the
commands a user types (`lepton-flow run pipeline --source FILE`, then
`lepton-flow evaluate --labels FILE --json`), and the script prints, per
series: incidents hit by the top events, events, event precision, per-point
AUC (of the incidents as labelled, and of windows as wide as NAB's: a tenth
of the series split among its incidents, centred on each, the labels NAB's
scorer reads), and the share of points flagged in the training range, the
validation range and after. With `--baselines`, the rolling z-score and the isolation
forest are trained and scored on the same store too (`run train-sensor-model
--param model_kind=... --param model_name=...`, `run score-sensors`) and
evaluated beside it. Run it by hand; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def series(seed: int) -> dict[str, tuple[pd.DatetimeIndex, np.ndarray, list[tuple[int, int]]]]:
    """name -> (times, values, incident windows as row ranges)."""
    rng = np.random.default_rng(seed)
    out = {}
    n = 80 * 288
    t = pd.date_range("2013-12-02 21:15", periods=n, freq="5min")
    ar = np.zeros(n)
    for i in range(1, n):
        ar[i] = 0.97 * ar[i - 1] + rng.normal(0, 0.6)
    v = 80 + 4 * np.sin(2 * np.pi * np.arange(n) / 288) + ar
    windows = []
    for day, kind in [(10, "fall"), (30, "heat"), (70, "fall")]:
        a = day * 288 + 100
        if kind == "fall":
            v[a : a + 30] -= np.linspace(0, 45, 30)
            windows.append((a - 20, a + 50))
        else:
            v[a : a + 200] += np.linspace(0, 18, 200)
            windows.append((a + 100, a + 240))
    out["machine_temperature"] = (t, v, windows)

    n = 300 * 24
    t = pd.date_range("2013-07-04", periods=n, freq="h")
    x = np.arange(n)
    v = 70 + 15 * np.cos(2 * np.pi * x / (365 * 24)) + 6 * np.sin(2 * np.pi * x / 24) + rng.normal(0, 1.5, n)
    v[60 * 24 : 60 * 24 + 30] += 14  # a heat wave
    v[260 * 24 : 260 * 24 + 20] -= 16  # a cold snap
    out["ambient_temperature"] = (t, v, [(60 * 24 - 5, 60 * 24 + 35), (260 * 24 - 5, 260 * 24 + 25)])

    n = 150 * 48
    t = pd.date_range("2014-07-01", periods=n, freq="30min")
    x = np.arange(n)
    daily = np.clip(np.sin(2 * np.pi * (x % 48 - 12) / 48), -0.6, None)
    v = (15000 + 9000 * daily) * (1 + 0.15 * (((x // 48) % 7) >= 5)) + rng.normal(0, 600, n)
    v[40 * 48 : 41 * 48] *= 0.45  # a holiday
    a = 120 * 48 + 20
    v[a : a + 8] += 14000  # a marathon night
    out["nyc_taxi"] = (t, v, [(40 * 48 - 4, 41 * 48 + 4), (a - 4, a + 12)])

    n = 30 * 288
    t = pd.date_range("2014-05-01", periods=n, freq="5min")
    v = 40 + 5 * rng.standard_normal(n) + 10 * (rng.random(n) < 0.02)
    a = 8 * 288 + 50
    v[a : a + 12] = 98 + rng.normal(0, 0.5, 12)  # stuck at its ceiling for an hour
    b = 26 * 288 + 90
    v[b : b + 20 : 4] = 100  # a train of spikes
    out["cpu_utilization"] = (t, v, [(a - 6, a + 18), (b - 6, b + 26)])

    # Social-media mention counts: 5-minute counts stamped 53 s past the minute, a daily cycle, heavy-tailed bursts
    # of chatter (a gamma-mixed Poisson) that are not incidents; two real surges, one inside the training range.
    n = 55 * 288
    t = pd.date_range("2015-02-26 21:42:53", periods=n, freq="5min")
    rate = 9 + 6 * np.sin(2 * np.pi * np.arange(n) / 288)
    v = rng.poisson(rate * rng.gamma(2, 0.5, n)).astype(float)
    surges = []
    for day, lift in ((20, 120), (50, 90)):
        a = day * 288 + 150
        v[a : a + 24] += rng.poisson(lift, 24)
        surges.append((a - 12, a + 36))
    out["twitter_volume"] = (t, v, surges)

    # Traffic speed read at uneven times (5 to 60 minutes apart, whole minutes): slow-downs an hour long.
    gaps = rng.choice([5, 5, 5, 6, 9, 10, 15, 20, 60], size=2500)
    t = pd.Timestamp("2015-07-10 14:24:00") + pd.to_timedelta(np.cumsum(gaps), unit="min")
    hours = (t.hour + t.minute / 60).to_numpy()
    v = 62 - 10 * np.exp(-(((hours - 17.5) / 1.5) ** 2)) + rng.normal(0, 3, t.size)
    jams = []
    for at in (900, 2200):
        end = int(np.searchsorted(t, t[at] + pd.Timedelta(hours=1)))
        v[at:end] = 18 + rng.normal(0, 3, end - at)
        jams.append((max(0, at - 3), min(t.size - 1, end + 3)))
    out["traffic_speed"] = (t, np.round(v), jams)

    # An ad exchange's hourly cost per click, a tenth of the hours missing: a bidding fault triples it for 10 hours.
    n = 1800
    t = pd.date_range("2011-07-01", periods=n, freq="h")
    x = np.arange(n)
    v = 0.1 + 0.03 * np.sin(2 * np.pi * x / 24) + rng.normal(0, 0.01, n)
    for a in (500, 1600):
        v[a : a + 10] *= 3
    keep = rng.random(n) > 0.1
    kept = np.flatnonzero(keep)
    windows = [(int(np.searchsorted(kept, a - 4)), int(np.searchsorted(kept, a + 14))) for a in (500, 1600)]
    out["adexchange_cpc"] = (t[keep], np.round(v[keep], 5), windows)
    return out


BASELINES = {"rolling-zscore": "zscore-baseline", "isolation-forest": "forest-baseline"}


def nab_windows(rows: int, windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The incidents widened as NAB labels them: a tenth of the series split evenly among them, centred on each (an
    incident longer than that keeps its own span)."""
    width = int(0.1 * rows / max(1, len(windows)))
    out = []
    for a, b in windows:
        centre = (a + b) // 2
        out.append((max(0, min(a, centre - width // 2)), min(rows - 1, max(b, centre + width // 2))))
    return out


def write_labels(path: str, name: str, t, windows) -> None:
    with open(path, "w") as fh:
        fh.write("sensor,start,end\n" + "".join(f"{name},{t[a].isoformat()}Z,{t[b].isoformat()}Z\n" for a, b in windows))


def run(name: str, t, v, windows, base: str, baselines: bool = False) -> list[dict]:
    root = os.path.join(base, name)
    os.makedirs(root)
    src, labels, wide = os.path.join(root, f"{name}.csv"), os.path.join(root, "labels.csv"), os.path.join(root, "labels-nab.csv")
    pd.DataFrame({"timestamp": t.strftime("%Y-%m-%d %H:%M:%S"), "value": np.round(v, 6)}).to_csv(src, index=False)
    write_labels(labels, name, t, windows)
    write_labels(wide, name, t, nab_windows(len(t), windows))
    env = {**os.environ, "LEPTON_DATA_ROOT": os.path.join(root, "data")}
    cli = [sys.executable, "-m", "lepton_flow.cli"]
    done = subprocess.run([*cli, "run", "pipeline", "--source", src], env=env, capture_output=True, text=True)
    if done.returncode:
        return [{"series": name, "error": (done.stderr or done.stdout).strip().splitlines()[-1:]}]
    for kind, model in BASELINES.items() if baselines else ():
        for flow in ("train-sensor-model", "score-sensors"):
            extra = ["--param", f"model_kind={kind}"] if flow == "train-sensor-model" else []
            subprocess.run([*cli, "run", flow, *extra, "--param", f"model_name={model}"], env=env, capture_output=True, text=True, check=True)
    ev = subprocess.run([*cli, "evaluate", "--labels", labels, "--json"], env=env, capture_output=True, text=True, check=True)
    ev_wide = subprocess.run([*cli, "evaluate", "--labels", wide, "--json"], env=env, capture_output=True, text=True, check=True)
    auc_wide = {r["model"]: r["median_auc"] for r in json.loads(ev_wide.stdout)}
    out = []
    for result in json.loads(ev.stdout):
        model = result["model"]
        out.append({
            "series": name,
            "model": model,
            "hits": f"{result['hits_in_top_k']} of {result['incidents']}",
            "events": result["events"],
            "event_precision": result["event_precision"] and round(result["event_precision"], 2),
            "auc": round(result["median_auc"], 3),
            "auc_nab_windows": round(auc_wide[model], 3),
            "flagged_%": flagged_shares(os.path.join(root, "data"), model, result["version"]),
        })  # fmt: skip
    return out


def flagged_shares(data_root: str, model: str, version: str) -> dict:
    """Per cent of a model's scored points flagged in its training range, its validation range and after (points
    without a score left out: the rows of gaps)."""
    from lepton_flow import store

    url = os.path.join(data_root, "store")
    st = store.grid_state(url, None, "sensors")
    row = lambda when: store.grid_row(when, st.start_bin, st.grid_seconds)  # noqa: E731
    scores = store.open_scores(url, model).load()
    flags, held = scores.flag.values[:, 0].astype(bool), np.isfinite(scores.error.values[:, 0])
    share = lambda a, b: round(100 * float(flags[a:b][held[a:b]].mean()), 3) if held[a:b].any() else None  # noqa: E731
    with open(os.path.join(data_root, "models", model, version, "card.json")) as fh:
        card = json.load(fh)
    t0, v0, v1 = row(card["train_range"][0]), row(card["validation_range"][0]), row(card["validation_range"][1])
    return {"training": share(t0, v0), "validation": share(v0, v1), "after": share(v1, None)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--baselines", action="store_true", help="train, score and evaluate the two baseline kinds on each store too")
    ap.add_argument("--keep", action="store_true", help="keep the data roots (printed) for a look")
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="lepton-incidents-")
    rows = [r for name, parts in series(args.seed).items() for r in run(name, *parts, base, args.baselines)]
    for r in rows:
        print(json.dumps(r))
    for model in sorted({r["model"] for r in rows if "model" in r}):
        hits = [tuple(map(int, r["hits"].split(" of "))) for r in rows if r.get("model") == model]
        auc = float(np.median([r["auc"] for r in rows if r.get("model") == model]))
        wide = float(np.median([r["auc_nab_windows"] for r in rows if r.get("model") == model]))
        print(f"seed {args.seed}, {model}: {sum(h for h, _ in hits)} of {sum(n for _, n in hits)} incidents hit by the top events, median AUC {auc:.3f} ({wide:.3f} over NAB-wide windows)")
    if args.keep:
        print(f"data under {base}")
    if not args.keep:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
