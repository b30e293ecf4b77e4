"""Training and scoring speed fed from the store against the same work fed from memory, in one run.

    python benchmarks/train_score.py [--rows 65536] [--sensors 16] [--epochs 2]

It commits a synthetic multivariate series (daily and faster cycles, noise,
a few NaNs) to a temporary store, then times, on the same windows and the
same model:

- training steps per second, (a) streamed from the store snapshot through
  `lepton_flow.models.data.window_dataset` (chunk-aligned parallel reads,
  windowing, masking, shuffling, prefetch), (b) `model.fit` on the same
  windows held in memory as one numpy array;
- scoring windows per second, (a) `lepton_flow.models.inference.score_rows` over the
  store (read, window, infer, average overlapping windows per row and
  sensor), (b) `model.predict` on the same windows held in memory.

Targets (the TensorFlow issue): (a)/(b) >= 0.9 for training, >= 0.8 for
scoring. Each training mode gets a warm-up epoch (tracing) that is not timed.
Run it by hand: it asserts nothing; machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

GRID = 30
CHUNK = 4096


def make_store(url: str, rows: int, sensors: int, metrics: list[str]) -> str:
    from lepton_flow import store

    rng = np.random.default_rng(0)
    t = np.arange(rows)[:, None]
    block = os.path.join(os.path.dirname(url), "block.zarr")
    names = [f"s{i:03d}" for i in range(sensors)]
    start_bin = (1_700_000_000 // GRID) // CHUNK * CHUNK
    cleaned = store.CleanedBlock.create(
        block, grid_seconds=GRID, chunk_len=CHUNK, start_bin=start_bin, end_bin=start_bin + rows - 1,
        windows=sorted({(start_bin + i) // CHUNK for i in range(rows)}), sensors=names, metrics=metrics, units={m: "C" for m in metrics},
    )
    for k, m in enumerate(metrics):
        phase = rng.uniform(0, 2 * np.pi, sensors)
        v = 10 + 5 * np.sin(2 * np.pi * t / 2880 + phase) + np.sin(2 * np.pi * t / 97 * (k + 1)) + rng.normal(0, 0.2, (rows, sensors))
        v[rng.random(v.shape) < 0.002] = np.nan
        cleaned.write(m, 0, v, np.isfinite(v).astype("uint8"))
    return store.commit_sensors(url, block, None, "benchmark data", {}, {})


def timed_fit(model, data, epochs: int, steps: int, **kw) -> float:
    """Steps per second over `epochs` timed epochs, after one untimed warm-up epoch."""
    model.fit(data, epochs=1, verbose=0, **kw) if not isinstance(data, np.ndarray) else model.fit(data, data, epochs=1, verbose=0, **kw)
    t = time.perf_counter()
    if isinstance(data, np.ndarray):
        model.fit(data, data, epochs=epochs, verbose=0, **kw)
    else:
        model.fit(data, epochs=epochs, verbose=0, **kw)
    return epochs * steps / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=16 * CHUNK)
    ap.add_argument("--sensors", type=int, default=16)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--stride", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--size", default="small")
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()

    import keras

    from lepton_flow import gpu, store
    from lepton_flow.models.autoencoder import build, masked_mse
    from lepton_flow.models.data import window_dataset
    from lepton_flow.models.windows import StatsAccumulator, make_windows, window_starts
    from lepton_flow.models.inference import score_rows

    device = gpu.configure()
    metrics = ["temperature", "humidity"]
    with tempfile.TemporaryDirectory() as tmp:
        url = os.path.join(tmp, "store")
        snap = make_store(url, args.rows, args.sensors, metrics)
        reader = store.GridReader(url, snap, metrics, [f"s{i:03d}" for i in range(args.sensors)])
        values = reader.rows(0, reader.length)
        acc = StatsAccumulator(reader.channels)
        acc.add(values)
        norm = acc.result()
        gaps = ~np.isfinite(values).any(axis=1)
        starts = window_starts(0, reader.length, args.window, args.stride, gaps, 0)
        steps = -(-len(starts) // args.batch)

        def fresh_model():
            keras.utils.set_random_seed(0)
            with gpu.strategy().scope():
                m = build(args.window, reader.channels, args.size)
                m.compile(optimizer=keras.optimizers.Adam(1e-3), loss=masked_mse)
            return m

        streamed = window_dataset(reader, starts, args.window, norm, args.batch, shuffle=True)
        train_store = timed_fit(fresh_model(), streamed, args.epochs, steps)
        in_memory = make_windows(values, 0, starts, args.window, norm)
        train_mem = timed_fit(fresh_model(), in_memory, args.epochs, steps, batch_size=args.batch, shuffle=True)
        del in_memory

        model = fresh_model()
        # The windows scoring frames: every quarter window over the whole store.
        sstarts = np.arange(0, reader.length - args.window + 1, max(1, args.window // 4), dtype=np.int64)
        score_rows(model, norm, reader, 0, reader.length, args.window, 4096)  # warm-up: tracing
        t = time.perf_counter()
        score_rows(model, norm, reader, 0, reader.length, args.window, 4096)
        score_store = len(sstarts) / (time.perf_counter() - t)
        x = make_windows(values, 0, sstarts, args.window, norm)
        model.predict(x, batch_size=4096, verbose=0)  # warm-up: tracing
        t = time.perf_counter()
        model.predict(x, batch_size=4096, verbose=0)
        score_mem = len(sstarts) / (time.perf_counter() - t)

    out = {
        "device": device.label,
        "rows": args.rows,
        "channels": reader.channels,
        "train_windows": int(len(starts)),
        "score_windows": int(len(sstarts)),
        "train_steps_per_s": {"store": round(train_store, 1), "memory": round(train_mem, 1), "ratio": round(train_store / train_mem, 3)},
        "score_windows_per_s": {"store": round(score_store), "memory": round(score_mem), "ratio": round(score_store / score_mem, 3)},
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
