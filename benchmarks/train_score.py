"""The training input pipeline alone, and training and scoring fed from the store against the same work fed from memory.

    python benchmarks/train_score.py [--rows 65536] [--sensors 16] [--repeats 5] [--epochs 3]

It commits a synthetic multivariate series (daily and faster cycles, noise,
a few NaNs) to a temporary store, then measures, on the same windows:

- **the input pipeline alone**, no model attached: windows (and megabytes of
  store rows) per second that `lepton_flow.models.data.window_dataset`
  yields, shuffled, with its block cache off (every block read from the
  store each epoch) and warm (later epochs), beside the same windows from
  memory through `tf.data` (slices, shuffle, batch), and as a multiple of
  the windows per second the model consumes when training on this CPU;
- **where the time goes**, stage by stage over one epoch's blocks: chunk
  fetch and decompression (zstd decode of the same chunk bytes timed
  alone), model rows (normalise, mask), pools (join blocks, shuffle
  starts), and the windows cut and batched by TensorFlow (the rest);
- **training steps per second**, `repeats` times, alternating: (a) streamed
  from the store snapshot, (b) `model.fit` on the windows held in memory as
  one numpy array, (c) `model.fit` on an in-memory `tf.data` pipeline;
  each after one untimed warm-up epoch (tracing; it also fills the cache);
- **scoring windows per second**, `repeats` times: `score_rows` over the
  store against `model.predict` on the same windows in memory;
- **the stored score's cost**, `repeats` times: scoring's blocks through
  `score_rows_smoothed` with the averages a card trained now asks for (a
  window's, and 4 and 16 windows' either side), against `score_rows` on the
  same blocks (the rows' own errors alone): seconds and their ratio.

Medians are reported with every repeat, so two runs can be compared.
Targets (the input-pipeline issue): training store/memory >= 0.95, the
pipeline alone >= 10x the model's consumption. Run it by hand: it asserts
nothing; machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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


def fit_rate(model, data, epochs: int, steps: int, **kw) -> float:
    """Steps per second over `epochs` epochs of `model.fit` (data: a dataset, or a numpy array as input and target)."""
    args = (data,) if not isinstance(data, np.ndarray) else (data, data)
    t = time.perf_counter()
    model.fit(*args, epochs=epochs, verbose=0, **kw)
    return epochs * steps / (time.perf_counter() - t)


def drain(ds) -> tuple[int, float]:
    """Windows in one pass over `ds` (counted inside TensorFlow: no Python per batch) and the seconds it took."""
    import tensorflow as tf

    t = time.perf_counter()
    n = int(ds.reduce(np.int64(0), lambda total, xy: total + tf.cast(tf.shape(xy[0])[0], tf.int64)))
    return n, time.perf_counter() - t


def decompress_seconds(reader, rows: int) -> float:
    """Seconds to zstd-decode the chunks the reader's rows [0, rows) live in, from their stored bytes (no I/O timed)."""
    import numcodecs

    raws = reader.stored_chunks(rows)
    codec = numcodecs.Zstd()
    t = time.perf_counter()
    for raw in raws:
        codec.decode(raw)
    return time.perf_counter() - t


def stages(reader, groups, length: int, norm, pool_windows: int) -> dict:
    """Seconds per stage over every block once, each stage alone, in the pipeline's own functions."""
    from lepton_flow.models.data import BlockRows, pools
    from lepton_flow.models.windows import model_rows

    t = time.perf_counter()
    values = [reader.rows(int(g[0]), int(g[-1]) + length) for g in groups]
    read = time.perf_counter() - t
    t = time.perf_counter()
    for v in values:
        model_rows(v, norm)
    prep = time.perf_counter() - t
    blocks = BlockRows(reader, groups, length, norm, 1 << 40)
    list(blocks.in_order(np.arange(len(groups)), 1))  # fill the cache: pools below time joins and shuffles only
    t = time.perf_counter()
    for _ in pools(blocks, np.random.default_rng(0).permutation(len(groups)), pool_windows, np.random.default_rng(1), 1):
        pass
    pool = time.perf_counter() - t
    return {"read_and_decompress": read, "decompress": decompress_seconds(reader, int(groups[-1][-1]) + length), "model_rows": prep, "pools": pool}


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=16 * CHUNK)
    ap.add_argument("--sensors", type=int, default=16)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--stride", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--size", default="small")
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs per repeat and mode")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    import keras

    from lepton_flow import gpu, store
    from lepton_flow.models.autoencoder import build, masked_mse
    from lepton_flow.models.data import POOL_WINDOWS, block_groups, window_dataset
    from lepton_flow.models.inference import (
        score_rows,
        score_rows_smoothed,
        smoothing_for,
        wide_smoothing_for,
    )
    from lepton_flow.models.windows import StatsAccumulator, make_windows, window_starts
    from lepton_flow.scoring import BLOCK_CHUNKS

    device = gpu.configure()
    tf = gpu.import_tensorflow()
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
        groups = block_groups(starts, reader.state.chunk_len)
        row_bytes = sum(int(g[-1]) + args.window - int(g[0]) for g in groups) * reader.channels * 4
        in_memory = make_windows(values, 0, starts, args.window, norm)

        def memory_dataset():
            ds = tf.data.Dataset.from_tensor_slices(in_memory).shuffle(POOL_WINDOWS, seed=0, reshuffle_each_iteration=True)
            return ds.batch(args.batch).map(lambda x: (x, x)).prefetch(tf.data.AUTOTUNE)

        # The pipeline alone: a pass to trace, then `repeats` passes each.
        cold = window_dataset(reader, starts, args.window, norm, args.batch, shuffle=True, cache_bytes=0)
        warm = window_dataset(reader, starts, args.window, norm, args.batch, shuffle=True)
        mem_ds = memory_dataset()
        alone: dict[str, list[float]] = {"store_cold": [], "store_cached": [], "memory": []}
        for ds in (cold, warm, mem_ds):
            drain(ds)
        for _ in range(args.repeats):
            for name, ds in (("store_cold", cold), ("store_cached", warm), ("memory", mem_ds)):
                n, dt = drain(ds)
                alone[name].append(n / dt)
        stage = stages(reader, groups, args.window, norm, POOL_WINDOWS)
        cold_s = len(starts) / median(alone["store_cold"])
        cached_s = len(starts) / median(alone["store_cached"])

        def fresh_model():
            keras.utils.set_random_seed(0)
            with gpu.strategy().scope():
                m = build(args.window, reader.channels, args.size)
                m.compile(optimizer=keras.optimizers.Adam(1e-3), loss=masked_mse)
            return m

        modes = {
            "store": (fresh_model(), window_dataset(reader, starts, args.window, norm, args.batch, shuffle=True), {}),
            "memory_numpy": (fresh_model(), in_memory, {"batch_size": args.batch, "shuffle": True}),
            "memory_tf_data": (fresh_model(), memory_dataset(), {}),
        }
        train: dict[str, list[float]] = {k: [] for k in modes}
        for model, data, kw in modes.values():
            fit_rate(model, data, 1, steps, **kw)  # warm-up: tracing (and the store's first, cold epoch)
        for r in range(args.repeats):
            for name in list(modes)[r % 3 :] + list(modes)[: r % 3]:  # rotate who goes first
                model, data, kw = modes[name]
                train[name].append(fit_rate(model, data, args.epochs, steps, **kw))

        model = modes["memory_numpy"][0]
        # The windows scoring frames: every quarter window over the whole store.
        sstarts = np.arange(0, reader.length - args.window + 1, max(1, args.window // 4), dtype=np.int64)
        x = make_windows(values, 0, sstarts, args.window, norm)
        score_rows(model, norm, reader, 0, reader.length, args.window, 4096)  # warm-up: tracing
        model.predict(x, batch_size=4096, verbose=0)
        score: dict[str, list[float]] = {"store": [], "memory": []}
        for _ in range(args.repeats):
            t = time.perf_counter()
            score_rows(model, norm, reader, 0, reader.length, args.window, 4096)
            score["store"].append(len(sstarts) / (time.perf_counter() - t))
            t = time.perf_counter()
            model.predict(x, batch_size=4096, verbose=0)
            score["memory"].append(len(sstarts) / (time.perf_counter() - t))
        # The stored score (averages over a window and wider) against the rows' own errors, on scoring's blocks.
        step = reader.state.chunk_len * BLOCK_CHUNKS
        blocks = [(a, min(reader.length, a + step)) for a in range(0, reader.length, step)]
        stored: dict[str, list[float]] = {"own": [], "stored": []}
        for r in range(args.repeats):
            for name in ("own", "stored")[r % 2 :] + ("own", "stored")[: r % 2]:
                t, reuse = time.perf_counter(), {}
                for a, b in blocks:
                    if name == "own":
                        score_rows(model, norm, reader, a, b, args.window, 4096)
                    else:
                        score_rows_smoothed(model, norm, reader, a, b, args.window, 4096, smoothing_for(args.window), wide_smoothing_for(args.window), reuse)
                stored[name].append(time.perf_counter() - t)

    consumed = median(train["memory_numpy"]) * args.batch  # windows per second the model trains on, fed from memory
    out = {
        "device": device.label,
        "rows": args.rows,
        "channels": reader.channels,
        "train_windows": int(len(starts)),
        "blocks": len(groups),
        "pipeline_alone_windows_per_s": {k: round(median(v)) for k, v in alone.items()},
        "pipeline_alone_repeats": {k: [round(x) for x in v] for k, v in alone.items()},
        "store_rows_mb_per_s_cold": round(row_bytes / cold_s / 1e6, 1),
        "model_consumes_windows_per_s": round(consumed),
        "pipeline_alone_x_model": {"store_cold": round(median(alone["store_cold"]) / consumed, 1), "store_cached": round(median(alone["store_cached"]) / consumed, 1)},
        "epoch_seconds_by_stage": {
            **{k: round(v, 3) for k, v in stage.items()},
            "fetch_without_decompress": round(stage["read_and_decompress"] - stage["decompress"], 3),
            "tensorflow_cut_and_batch": round(max(0.0, cached_s - stage["pools"]), 3),
            "pipeline_epoch_cold": round(cold_s, 3),
            "pipeline_epoch_cached": round(cached_s, 3),
        },
        "train_steps_per_s": {k: round(median(v), 1) for k, v in train.items()},
        "train_repeats": {k: [round(x, 1) for x in v] for k, v in train.items()},
        "train_ratio_store_over": {
            "memory_numpy": round(median(train["store"]) / median(train["memory_numpy"]), 3),
            "memory_tf_data": round(median(train["store"]) / median(train["memory_tf_data"]), 3),
            "per_repeat_numpy": [round(a / b, 3) for a, b in zip(train["store"], train["memory_numpy"])],
        },
        "score_windows_per_s": {k: round(median(v)) for k, v in score.items()} | {"ratio": round(median(score["store"]) / median(score["memory"]), 3)},
        "stored_score_seconds": {k: round(median(v), 3) for k, v in stored.items()} | {"ratio": round(median(stored["stored"]) / median(stored["own"]), 3)},
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
