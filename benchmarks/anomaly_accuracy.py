"""How well the sensor anomaly model finds labelled anomalies in real series, through the real flows.

    python benchmarks/anomaly_accuracy.py [--series ucr-135 mitbih] [--steps default no-outlier-steps] [--kinds ...]

For each series (shipped in the `aeon` and `sktime` packages, see
`lepton_flow.demo.REAL_SERIES`) and each set of cleaning steps (the default
steps, Hampel and the stuck-value step included, and the same without them)
it writes the points as sensor CSV files one minute apart (`--spacing`) into a
temporary data root, runs `sensor_ingest` (no grid asked for: the store takes the points' spacing), `train_sensor_model` on the
series' normal start, and `score_sensors` over everything, on the embedded
default, once per model kind (the autoencoder and the two baselines, each
under its own model name). It prints, per series, steps and kind: readings the cleaning flagged,
where the highest score lies against the labelled anomaly (the UCR
archive's rule: within 100 points), the share of points flagged, and
precision and recall of the flags against the labels. Run it by hand; it
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import datetime, timedelta

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Training and validation points per series: the clean start of each.
SPLITS = {"ucr-135": (1000, 1200), "mitbih": (4500, 6000)}


KINDS = ["conv-autoencoder", "rolling-zscore", "isolation-forest"]

STEPS = {
    "default": None,  # the flow's default steps
    "no-outlier-steps": ["dedupe", "sort", "resample", "interpolate"],
}


def evaluate(name: str, steps: str, kinds: list[str], spacing: int = 60) -> dict:
    from flows.score_sensors import score_sensors
    from flows.sensor_ingest import SensorIngestParams, sensor_ingest
    from flows.train_sensor_model import train_sensor_model
    from lepton_flow import store
    from lepton_flow.demo import write_real_series
    from lepton_flow.scoring import ScoreParams
    from lepton_flow.settings import get_settings
    from lepton_flow.training import TrainParams

    root = tempfile.mkdtemp(prefix=f"lepton-{name}-")
    os.environ["LEPTON_DATA_ROOT"] = root
    settings = get_settings(fresh=True)
    series = write_real_series(name, os.path.join(root, "src"), grid_seconds=spacing)
    chosen = {"steps": STEPS[steps]} if STEPS[steps] else {}
    # No grid asked for, as a user would not: the new store takes the readings' spacing.
    ingest = sensor_ingest(SensorIngestParams(source=os.path.join(root, "src"), **chosen), return_state=True)
    assert ingest.is_completed(), ingest.message
    assert store.state(settings.store).grid_seconds == spacing, store.state(settings.store).grid_seconds
    cleaned_flags = int(ingest.result().totals()["outliers"])
    t0 = datetime.fromisoformat(series["start"])
    at = lambda i: t0 + timedelta(seconds=spacing * i)  # noqa: E731
    train_end, val_end = SPLITS[name]
    labels = np.asarray(series["labels"], bool)
    idx = np.nonzero(labels)[0]
    n = series["points"]
    from lepton_flow.cleaning import runs
    from lepton_flow.evaluation import evaluate as evaluate_labels

    labels_csv = os.path.join(root, "labels.csv")
    out = {"series": name, "steps": steps, "flagged_by_cleaning": cleaned_flags, "points": n, "labelled": [int(idx.min()), int(idx.max())], "kinds": {}}
    for kind in kinds:
        model = f"{kind}-model"
        params = TrainParams(
            model_kind=kind, model_name=model, train_start=at(0), train_end=at(train_end), validation_start=at(train_end), validation_end=at(val_end),
            window=64, stride=1, epochs=30, patience=5, batch_size=32,
        )  # fmt: skip
        trained = train_sensor_model(params, return_state=True)
        assert trained.is_completed(), trained.message
        scored = score_sensors(ScoreParams(model_name=model), return_state=True)
        assert scored.is_completed(), scored.message
        ds = store.open_scores(settings.store, model).load()
        first = int(np.searchsorted(ds.time.values, np.datetime64(series["start"].rstrip("Z"), "ns")))
        score, flag = ds.score.values[first : first + n, 0], ds.flag.values[first : first + n, 0].astype(bool)
        peak = int(np.nanargmax(score))
        tp, fp, fn = int((flag & labels).sum()), int((flag & ~labels).sum()), int((~flag & labels).sum())
        # The same figures `lepton-flow evaluate --labels` prints, from the series' labelled windows.
        sensor = str(ds.sensor.values[0])
        with open(labels_csv, "w") as fh:
            fh.write("sensor,start,end\n")
            for a, b in zip(*runs(labels)):
                fh.write(f"{sensor},{at(int(a)).isoformat()},{at(int(b) - 1).isoformat()}\n")
        (ev,) = evaluate_labels(labels_csv, [model])
        after = slice(val_end, n)  # points the model never saw
        tp2, fp2, fn2 = int((flag[after] & labels[after]).sum()), int((flag[after] & ~labels[after]).sum()), int((~flag[after] & labels[after]).sum())
        out["kinds"][kind] = {
            "peak_score_at": peak,
            "peak_within_100": bool(idx.min() - 100 <= peak <= idx.max() + 100),
            "flagged": int(flag.sum()),
            "flag_rate": round(float(flag.mean()), 4),
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None,
            "evaluate": {"hits_in_top_k": ev.hits_in_top_k, "incidents": ev.incidents, "event_precision": ev.event_precision, "event_recall": ev.event_recall, "median_auc": ev.median_auc},
            "after_validation": {
                "flag_rate": round(float(flag[after].mean()), 4),
                "flag_rate_on_normal_points": round(fp2 / max(1, int((~labels[after]).sum())), 5),  # the rate the user set is for these
                "precision": round(tp2 / (tp2 + fp2), 3) if tp2 + fp2 else None,
                "recall": round(tp2 / (tp2 + fn2), 3) if tp2 + fn2 else None,
            },
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", nargs="+", default=list(SPLITS), choices=list(SPLITS))
    ap.add_argument("--steps", nargs="+", default=list(STEPS), choices=list(STEPS))
    ap.add_argument("--kinds", nargs="+", default=KINDS, help="model kinds to train and score on each series, each under its own name")
    ap.add_argument("--spacing", type=int, default=60, help="seconds between the points written (a round spacing of at least 30 s: 300 for 5-minute server metrics)")
    args = ap.parse_args()
    from lepton_flow.cli import _quiet_defaults
    from lepton_flow.parallel import local_api

    _quiet_defaults()
    with local_api():
        results = [evaluate(name, steps, args.kinds, args.spacing) for name in args.series for steps in args.steps]
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
