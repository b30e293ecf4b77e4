"""`tf.data` pipelines that stream windows from a store snapshot.

Rows, not windows, cross from the store into TensorFlow. Window starts are
grouped by block of store rows (a multiple of the store's time chunk, so each
read touches whole chunks). A block is read once per epoch at most, in a
thread pool a few blocks ahead of use, turned into model rows once
(`model_rows`: normalised values and mask), and kept for later epochs while
the cache budget allows. Blocks are then joined into pools of a few thousand
windows; TensorFlow cuts each batch of windows out of its pool with a gather
in its own threads (a window repeats each row `length / stride` times, so
cutting windows late moves that many times fewer bytes through Python).

Shuffling: each epoch visits the blocks in a new order (seeded by the seed and
the epoch) and permutes the windows within each pool. Memory is bounded by
the cache budget plus a few blocks and pools, never the whole store.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from lepton_flow.models.windows import Normalization, model_rows
from lepton_flow.store import GridReader

POOL_WINDOWS = 8192  # windows mixed together when shuffling (the old shuffle buffer's size)
CACHE_BYTES = 256 << 20


def block_groups(starts: np.ndarray, block_rows: int) -> list[np.ndarray]:
    """Window starts grouped by the block of rows they start in."""
    if len(starts) == 0:
        return []
    keys = starts // block_rows
    cuts = np.nonzero(np.diff(keys))[0] + 1
    return np.split(starts, cuts)


class BlockRows:
    """Model rows of each block of window starts: read in parallel ahead of use, cached up to a byte budget.

    Block `i` holds rows from its first window's start to its last window's end. Blocks are cached in the order
    they are first read until the budget is spent and kept for every later epoch (with blocks met in a random
    order, keeping the first ones hits as often as evicting would, without re-reading the evicted).
    """

    def __init__(self, reader: GridReader, groups: list[np.ndarray], length: int, norm: Normalization, cache_bytes: int):
        self.reader, self.groups, self.length, self.norm = reader, groups, length, norm
        self.budget = max(0, int(cache_bytes))
        self.cached: dict[int, np.ndarray] = {}
        self.cached_bytes = 0
        self.reads = 0  # blocks read from the store (a measure for tests and benchmarks)
        self._lock = threading.Lock()

    def load(self, i: int) -> np.ndarray:
        hit = self.cached.get(i)
        if hit is not None:
            return hit
        group = self.groups[i]
        rows = model_rows(self.reader.rows(int(group[0]), int(group[-1]) + self.length), self.norm)
        with self._lock:
            self.reads += 1
            if i not in self.cached and self.cached_bytes + rows.nbytes <= self.budget:
                self.cached[i] = rows
                self.cached_bytes += rows.nbytes
        return rows

    def in_order(self, order: np.ndarray, workers: int) -> Iterator[tuple[int, np.ndarray]]:
        """(block, its rows) in `order`, reads running `2 * workers` blocks ahead of the consumer."""
        ahead = 2 * workers
        with ThreadPoolExecutor(workers, thread_name_prefix="lepton-flow-read") as pool:
            pending: list[tuple[int, Future]] = []
            todo = iter(order.tolist())
            try:
                for i in itertools.islice(todo, ahead):
                    pending.append((i, pool.submit(self.load, i)))
                while pending:
                    i, fut = pending.pop(0)
                    nxt = next(todo, None)
                    if nxt is not None:
                        pending.append((nxt, pool.submit(self.load, nxt)))
                    yield i, fut.result()
            finally:
                for _, fut in pending:
                    fut.cancel()


def pools(blocks: BlockRows, order: np.ndarray, pool_windows: int, rng: np.random.Generator | None, workers: int):
    """(rows, local starts) pools of `pool_windows` windows (the last one shorter) over blocks in `order`.

    Each pool joins the rows its windows need; local starts index those joined rows, permuted with `rng`.
    Pools hold whole batches (the caller makes `pool_windows` a multiple of the batch size), so only the
    epoch's last batch is short, as it would be without pools.
    """
    pieces: list[tuple[np.ndarray, np.ndarray]] = []
    n = 0

    def assemble():
        rows = np.concatenate([p for p, _ in pieces]) if len(pieces) > 1 else pieces[0][0]
        offsets = np.cumsum([0] + [len(p) for p, _ in pieces[:-1]])
        local = np.concatenate([s + o for (_, s), o in zip(pieces, offsets)]).astype(np.int32)
        if rng is not None:
            rng.shuffle(local)
        return rows, local

    for i, rows in blocks.in_order(order, workers):
        group = blocks.groups[i]
        first = int(group[0])
        pos = 0
        while pos < len(group):
            take = min(len(group) - pos, pool_windows - n)
            part = group[pos : pos + take]
            lo, hi = int(part[0]) - first, int(part[-1]) - first + blocks.length
            pieces.append((rows[lo:hi], part - part[0]))
            n, pos = n + take, pos + take
            if n == pool_windows:
                yield assemble()
                pieces, n = [], 0
    if pieces:
        yield assemble()


def window_dataset(
    reader: GridReader,
    starts: np.ndarray,
    length: int,
    norm: Normalization,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    block_rows: int | None = None,
    cache_bytes: int = CACHE_BYTES,
    pool_windows: int = POOL_WINDOWS,
    workers: int | None = None,
):
    """A dataset of `(inputs, inputs)` batches: the autoencoder's input is also its target.

    Without `shuffle`, batches hold the windows in `starts` order. The dataset's `blocks` attribute is its
    `BlockRows` (reads and cache, for tests and benchmarks).
    """
    from lepton_flow.gpu import import_tensorflow

    tf = import_tensorflow()
    block_rows = block_rows or reader.state.chunk_len
    starts = np.asarray(starts, dtype=np.int64)
    groups = block_groups(starts, block_rows)
    blocks = BlockRows(reader, groups, length, norm, cache_bytes)
    width = 2 * reader.channels
    pool_windows = max(1, pool_windows // batch_size) * batch_size
    workers = workers or min(4, os.cpu_count() or 1)
    epochs = itertools.count()

    def epoch():
        e = next(epochs)
        if shuffle:
            rng = np.random.default_rng([seed, e])
            order = rng.permutation(len(groups))
        else:
            rng, order = None, np.arange(len(groups))
        yield from pools(blocks, order, pool_windows, rng, workers)

    spec = (tf.TensorSpec((None, width), tf.float32), tf.TensorSpec((None,), tf.int32))
    offsets = tf.range(length, dtype=tf.int32)

    def batches(rows, local):
        def cut(j):
            x = tf.gather(rows, local[j * batch_size : (j + 1) * batch_size, None] + offsets)
            x = tf.ensure_shape(x, (None, length, width))
            return x, x

        count = (tf.size(local, out_type=tf.int64) + batch_size - 1) // batch_size
        return tf.data.Dataset.range(count).map(cut)

    ds = tf.data.Dataset.from_generator(epoch, output_signature=spec).prefetch(2)
    ds = ds.interleave(batches, cycle_length=1, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    # Keras wants the count to size epochs and progress.
    ds = ds.apply(tf.data.experimental.assert_cardinality(-(-len(starts) // batch_size))).prefetch(tf.data.AUTOTUNE)
    ds.blocks = blocks
    return ds
