"""Demo data: realistic multi-sensor files with the faults real feeds have.

`write_demo` writes CSV, gzipped CSV, Parquet and JSON Lines files in long
and wide layouts, and a ledger (`demo-faults.json` beside the demo folder)
of every fault it injected and where, so tests can check each was caught:
spikes, stuck values, short and long gaps, duplicate rows, out-of-order
rows, a late file overlapping an earlier window, unparseable lines, wrong
units, unknown sensor ids and an empty file.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

METRICS = {
    "temperature": ("C", 0.05),
    "humidity": ("%", 0.3),
    "pressure": ("hPa", 0.05),
}
DEFAULT_START = "2026-03-01T00:00:00Z"
FORMATS = ("long_csv", "long_csv_gz", "wide_parquet", "long_jsonl", "wide_csv")
LEDGER = "demo-faults.json"


@dataclass
class DemoSpec:
    sensors: int = 20
    metrics: int = 3
    days: float = 2.0
    grid_seconds: int = 30
    periods: int = 4
    groups: int = 4
    start: str = DEFAULT_START
    seed: int = 7


def _signal(rng: np.random.Generator, t_s: np.ndarray, sensors: int, metrics: list[str]) -> np.ndarray:
    day = 86_400.0
    out = np.empty((len(t_s), sensors, len(metrics)))
    phase = rng.uniform(0, 2 * np.pi, sensors)
    for j, m in enumerate(metrics):
        noise = METRICS[m][1]
        for s in range(sensors):
            wave = np.sin(2 * np.pi * t_s / day + phase[s])
            if m == "temperature":
                base = 18 + 0.2 * s + 4 * wave
            elif m == "humidity":
                base = 55 + 10 * wave + 0.3 * s
            else:
                base = 1013 + 3 * np.sin(2 * np.pi * t_s / (3 * day) + phase[s] / 3) + 0.1 * s
            out[:, s, j] = base + rng.normal(0, noise, len(t_s))
    return np.round(out, 3)


def write_demo(out_dir: str, spec: DemoSpec | None = None, chunk_len: int = 4096) -> dict:
    """Write the demo files into `out_dir`; returns the fault ledger (also written beside it)."""
    spec = spec or DemoSpec()
    rng = np.random.default_rng(spec.seed)
    metrics = list(METRICS)[: spec.metrics]
    step = spec.grid_seconds
    T = int(spec.days * 86_400 // step)
    t0 = pd.Timestamp(spec.start).tz_convert("UTC")
    grid_ns = t0.value + np.arange(T, dtype=np.int64) * step * 1_000_000_000
    jitter = rng.uniform(-0.2, 0.2, T) * step * 1e9
    ts = grid_ns + jitter.astype(np.int64)
    values = _signal(rng, (grid_ns - grid_ns[0]) / 1e9, spec.sensors, metrics)
    present = np.ones(values.shape, bool)
    sensor_ids = [f"sensor-{i:02d}" for i in range(spec.sensors)]
    P = T // spec.periods
    if P < 2 * 40 + 240 + 1:
        shortest = spec.periods * (2 * 40 + 241) * step / 86_400
        raise ValueError(f"demo of {spec.days} days at {step} s is too short to place its faults: use at least {shortest:.2f} days")
    if spec.sensors < spec.groups:
        raise RuntimeError(f"the demo spreads sensors over {spec.groups} groups of files: use at least {spec.groups} sensors")
    groups = np.array_split(np.arange(spec.sensors), spec.groups)
    abs_bin = (grid_ns + step * 500_000_000) // (step * 1_000_000_000)
    faults: list[dict] = []
    busy = np.zeros(values.shape, bool)

    def iso(i: int) -> str:
        return pd.Timestamp(grid_ns[i], tz="UTC").isoformat()

    def pick_span(length: int, margin: int = 40, period: int | None = None) -> tuple[int, int, int]:
        """A free (start, sensor, metric) span away from period and window edges."""
        for _ in range(10_000):
            p = rng.integers(0, spec.periods) if period is None else period
            start = int(rng.integers(p * P + margin, (p + 1) * P - margin - length))
            s, m = int(rng.integers(0, spec.sensors)), int(rng.integers(0, len(metrics)))
            window_edge = np.any(np.diff(abs_bin[max(0, start - margin) : start + length + margin] // chunk_len) != 0)
            if not window_edge and not busy[max(0, start - margin) : start + length + margin, s, m].any():
                busy[max(0, start - margin) : start + length + margin, s, m] = True
                return start, s, m
        raise RuntimeError("demo too small to place its faults; use more days or sensors")

    wrong_unit_group, wrong_unit_period = 1, 2
    wrong_sensor = int(groups[wrong_unit_group][0])
    if "temperature" in metrics:
        busy[wrong_unit_period * P : (wrong_unit_period + 1) * P, wrong_sensor, 0] = True

    for _ in range(12):
        i, s, m = pick_span(1)
        sign = rng.choice([-1.0, 1.0])
        values[i, s, m] += sign * {"temperature": 15.0, "humidity": 35.0, "pressure": 25.0}[metrics[m]]
        faults.append({"kind": "spike", "sensor": sensor_ids[s], "metric": metrics[m], "timestamps": [iso(i)]})
    for _ in range(2):
        i, s, m = pick_span(40)
        values[i : i + 40, s, m] = values[i, s, m]
        faults.append({"kind": "stuck", "sensor": sensor_ids[s], "metric": metrics[m], "timestamps": [iso(k) for k in range(i, i + 40)]})
    for _ in range(3):
        i, s, m = pick_span(6)
        present[i : i + 6, s, m] = False
        faults.append({"kind": "short_gap", "sensor": sensor_ids[s], "metric": metrics[m], "timestamps": [iso(k) for k in range(i, i + 6)]})
    for _ in range(2):
        i, s, m = pick_span(240)
        present[i : i + 240, s, m] = False
        faults.append({"kind": "long_gap", "sensor": sensor_ids[s], "metric": metrics[m], "timestamps": [iso(k) for k in range(i, i + 240)]})
    late_start, late_s, late_m = pick_span(60, period=0)
    present[late_start : late_start + 60, late_s, late_m] = False

    os.makedirs(out_dir, exist_ok=True)
    file_no = 0
    for p in range(spec.periods):
        rows_slice = slice(p * P, T if p == spec.periods - 1 else (p + 1) * P)
        for g, members in enumerate(groups):
            # Files that carry row-level faults stay long: a wide layout
            # would fold duplicates and wrong units into one cell.
            forced = {(wrong_unit_group, wrong_unit_period): "long_csv", (0, 1): "long_csv", (0, 2): "long_jsonl", (2, 3): "long_csv_gz"}
            fmt = forced.get((g, p), FORMATS[(2 * file_no) % len(FORMATS)])
            file_no += 1
            name = f"readings_p{p}_g{g}"
            frame = _long_frame(ts, values, present, sensor_ids, metrics, rows_slice, members)
            injected: list[dict] = []
            if (g, p) == (wrong_unit_group, wrong_unit_period) and "temperature" in metrics:
                hit = (frame["sensor_id"] == sensor_ids[wrong_sensor]) & (frame["metric"] == "temperature")
                # A third of that sensor's readings: small demos must keep the file above the validation threshold.
                hit &= hit.cumsum() <= max(1, int(hit.sum()) // 3)
                frame.loc[hit, "value"] = np.round(frame.loc[hit, "value"] * 9 / 5 + 32, 3)
                frame.loc[hit, "unit"] = "F"
                injected.append({"kind": "wrong_unit", "sensor": sensor_ids[wrong_sensor], "metric": "temperature", "count": int(hit.sum()), "reason": "temperature_unit"})
                bad_ids = pd.DataFrame(
                    {
                        "timestamp": pd.to_datetime(frame["timestamp"].iloc[:10].to_numpy(), utc=True),
                        "sensor_id": ["??"] * 5 + ["-bad id"] * 5,
                        "metric": metrics[0],
                        "value": 1.0,
                        "unit": METRICS[metrics[0]][0],
                    }
                )
                frame = pd.concat([frame, bad_ids], ignore_index=True)
                injected.append({"kind": "unknown_sensor", "count": 10, "reason": "sensor_id_format"})
            if (g, p) in ((0, 2), (2, 3)):
                dup = frame.sample(30, random_state=spec.seed + g)
                frame = pd.concat([frame, dup], ignore_index=True)
                injected.append({"kind": "duplicates", "count": 30})
            if (g, p) == (0, 1):
                a = len(frame) // 3
                block = frame.iloc[a : a + 200].sample(frac=1.0, random_state=spec.seed)
                frame = pd.concat([frame.iloc[:a], block, frame.iloc[a + 200 :]], ignore_index=True)
                injected.append({"kind": "out_of_order", "count": 200})
            garbage = []
            if (g, p) == (0, 1):
                garbage = ["#### transmitter reset ####", "2026-03-01T06:00:00Z,sensor-01", "2026-03-01T06:00:30Z,sensor-01,temperature,abc,C", "\x00\x00\x7f binary noise"]
            path = _write(out_dir, name, fmt, frame, metrics, garbage, rng)
            for item in injected:
                item["file"] = os.path.basename(path)
                faults.append(item)
            if garbage:
                faults.append({"kind": "unparseable", "file": os.path.basename(path), "count": len(garbage), "lines": _lines_holding(path, garbage)})

    late_rows = slice(late_start, late_start + 60)
    late_present = np.zeros(values.shape, bool)
    late_present[late_rows, late_s, late_m] = True
    late = _long_frame(ts, values, late_present, sensor_ids, metrics, slice(0, T), np.arange(spec.sensors))
    original = _long_frame(ts, values, present, sensor_ids, metrics, slice(0, P), groups[0])
    resent = original.iloc[:100]
    pd.concat([late, resent], ignore_index=True).to_csv(os.path.join(out_dir, "late_readings.csv"), index=False)
    faults.append(
        {
            "kind": "late_file",
            "file": "late_readings.csv",
            "sensor": sensor_ids[late_s],
            "metric": metrics[late_m],
            "timestamps": [iso(k) for k in range(late_start, late_start + 60)],
            "resent": len(resent),
        }
    )
    open(os.path.join(out_dir, "empty.csv"), "w").close()
    faults.append({"kind": "empty_file", "file": "empty.csv"})

    ledger = {
        "spec": spec.__dict__,
        "metrics": {m: METRICS[m][0] for m in metrics},
        "sensors": sensor_ids,
        "readings_written": int(present.sum()),
        "faults": faults,
    }
    with open(os.path.join(os.path.dirname(os.path.abspath(out_dir)), LEDGER), "w") as fh:
        json.dump(ledger, fh, indent=1)
    return ledger


def _long_frame(ts, values, present, sensor_ids, metrics, rows: slice, members) -> pd.DataFrame:
    parts = []
    idx = np.arange(len(ts))[rows]
    for s in members:
        for j, m in enumerate(metrics):
            keep = idx[present[idx, s, j]]
            parts.append(
                pd.DataFrame(
                    {
                        "timestamp": pd.to_datetime(ts[keep], utc=True),
                        "sensor_id": sensor_ids[s],
                        "metric": m,
                        "value": values[keep, s, j],
                        "unit": METRICS[m][0],
                    }
                )
            )
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(["timestamp", "sensor_id", "metric"], kind="stable", ignore_index=True)


def _each_once(column: pd.Series, text) -> pd.Series:
    """`column.map(text)` calling `text` once per distinct value (a time repeats for every sensor and metric)."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return pd.Series(np.array([text(v) for v in uniques], dtype=object)[codes], index=column.index, name=column.name)


def _write(out_dir: str, name: str, fmt: str, frame: pd.DataFrame, metrics: list[str], garbage: list[str], rng) -> str:
    if fmt in ("long_csv", "long_csv_gz"):
        out = frame.copy()
        if fmt == "long_csv_gz":
            # Offsets other than Z: readers must normalise to UTC.
            out["timestamp"] = _each_once(out["timestamp"].dt.tz_convert("Europe/Berlin"), lambda t: t.isoformat())
        else:
            out["timestamp"] = _each_once(out["timestamp"], lambda t: t.isoformat().replace("+00:00", "Z"))
        lines = out.to_csv(index=False).splitlines()
        if garbage:
            at = np.sort(rng.choice(np.arange(2, len(lines)), len(garbage), replace=False))
            for k, (pos, text) in enumerate(zip(at, garbage)):
                lines.insert(int(pos) + k, text)
        text = "\n".join(lines) + "\n"
        path = os.path.join(out_dir, f"{name}.csv" + (".gz" if fmt == "long_csv_gz" else ""))
        if fmt == "long_csv_gz":
            with gzip.open(path, "wt") as fh:
                fh.write(text)
        else:
            with open(path, "w") as fh:
                fh.write(text)
        return path
    if fmt == "long_jsonl":
        out = frame.assign(timestamp=frame["timestamp"].astype("int64") // 1_000_000)
        path = os.path.join(out_dir, f"{name}.jsonl")
        out.to_json(path, orient="records", lines=True)
        return path
    wide = frame.pivot_table(index=["timestamp", "sensor_id"], columns="metric", values="value", aggfunc="first").reset_index()
    if fmt == "wide_parquet":
        wide = wide.rename(columns={m: f"{m}[{METRICS[m][0]}]" for m in metrics})
        path = os.path.join(out_dir, f"{name}.parquet")
        pq.write_table(pa.Table.from_pandas(wide, preserve_index=False), path)
        return path
    by_sensor = frame.pivot_table(index="timestamp", columns=["sensor_id", "metric"], values="value", aggfunc="first")
    by_sensor.columns = [f"{s}/{m}[{METRICS[m][0]}]" for s, m in by_sensor.columns]
    by_sensor = by_sensor.reset_index()
    by_sensor["timestamp"] = _each_once(by_sensor["timestamp"], lambda t: t.isoformat().replace("+00:00", "Z"))
    path = os.path.join(out_dir, f"{name}.csv")
    by_sensor.to_csv(path, index=False)
    return path


def _lines_holding(path: str, texts: list[str]) -> list[int]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", errors="replace") as fh:
        return [n for n, line in enumerate(fh, start=1) if line.rstrip("\n") in texts]


REAL_SERIES = {
    # name: (package, file(s) inside it, metric)
    "ucr-135": ("aeon", ["datasets/data/KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_TRAIN.csv", "datasets/data/KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_TEST.csv"], "signal"),
    "mitbih": ("sktime", ["datasets/data/mitdb/mitdb.csv"], "ecg"),
}


def _package_file(package: str, relative: str) -> str:
    """A data file inside an installed package, found without importing the package (sktime needs deps we skip)."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{package} is not installed: `pip install --no-deps {package}` ships this series")
    return os.path.join(list(spec.submodule_search_locations)[0], relative)


def write_real_series(name: str, out_dir: str, start: str = "2026-01-01T00:00:00Z", grid_seconds: int = 60) -> dict:
    """Write a real labelled series as sensor CSV files (one per source file) with timestamps on a grid.

    The archives index points 0, 1, 2, ...; point `i` gets `start + i * grid_seconds`.
    Returns the labels: `{"labels": [0/1 per point], "points": n, "files": [...], "train_points": n or None}`.
    """
    package, files, metric = REAL_SERIES[name]
    os.makedirs(out_dir, exist_ok=True)
    t0 = pd.Timestamp(start)
    written, labels, train_points = [], None, None
    for rel in files:
        raw = pd.read_csv(_package_file(package, rel))
        value_col = "value" if "value" in raw else "data"
        label_col = "is_anomaly" if "is_anomaly" in raw else "label"
        times = t0 + pd.to_timedelta(np.arange(len(raw)) * grid_seconds, unit="s")
        out = os.path.join(out_dir, os.path.basename(rel))
        pd.DataFrame({"timestamp": times.strftime("%Y-%m-%dT%H:%M:%SZ"), "sensor_id": name, "metric": metric, "value": raw[value_col]}).to_csv(out, index=False)
        written.append(out)
        if "TRAIN" in rel:
            train_points = len(raw)
        else:
            labels = raw[label_col].astype(int).tolist()
    return {"labels": labels, "points": len(labels), "files": written, "train_points": train_points, "metric": metric, "start": start, "grid_seconds": grid_seconds}


def write_digits(out_dir: str, held_out_dir: str | None = None, held_out_share: float = 0.2, seed: int = 0) -> dict:
    """scikit-learn's 1,797 handwritten digits as 8x8 grayscale PNGs in one folder per class.

    With `held_out_dir`, a stratified `held_out_share` of each class goes there
    instead (same folder layout), for testing a model on images it never saw.
    Returns counts per folder.
    """
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    counts: dict[str, int] = {}
    for label in range(10):
        idx = np.nonzero(digits.target == label)[0]
        rng.shuffle(idx)
        cut = int(round(len(idx) * held_out_share)) if held_out_dir else 0
        for k, i in enumerate(idx):
            base = held_out_dir if k < cut else out_dir
            folder = os.path.join(base, str(label))
            os.makedirs(folder, exist_ok=True)
            pixels = (digits.images[i] * (255.0 / 16.0)).round().astype(np.uint8)
            Image.fromarray(pixels, mode="L").save(os.path.join(folder, f"digit-{i:04d}.png"))
            counts[base] = counts.get(base, 0) + 1
    return counts
