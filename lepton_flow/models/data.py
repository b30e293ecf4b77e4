"""`tf.data` pipelines that stream windows from a store snapshot.

Windows are grouped by block of store rows (a multiple of the store's time
chunk, so each read touches whole chunks); blocks are read in parallel by
`tf.data`'s map, their windows unbatched, shuffled and batched, and the next
batches prefetched while the model trains. The store is never loaded whole:
at most a few blocks are in memory at once.
"""

from __future__ import annotations

import numpy as np

from lepton_flow.models.windows import Normalization, make_windows
from lepton_flow.store import GridReader


def block_groups(starts: np.ndarray, block_rows: int) -> list[np.ndarray]:
    """Window starts grouped by the block of rows they start in."""
    if len(starts) == 0:
        return []
    keys = starts // block_rows
    cuts = np.nonzero(np.diff(keys))[0] + 1
    return np.split(starts, cuts)


def window_dataset(
    reader: GridReader,
    starts: np.ndarray,
    length: int,
    norm: Normalization,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    block_rows: int | None = None,
):
    """A dataset of `(inputs, inputs)` batches: the autoencoder's input is also its target."""
    from lepton_flow.gpu import import_tensorflow

    tf = import_tensorflow()
    block_rows = block_rows or reader.state.chunk_len
    groups = block_groups(np.asarray(starts, dtype=np.int64), block_rows)
    width = 2 * reader.channels

    def load(i):
        group = groups[int(i)]
        first = int(group[0])
        values = reader.rows(first, int(group[-1]) + length)
        return make_windows(values, first, group, length, norm)

    ds = tf.data.Dataset.range(len(groups))
    if shuffle:
        ds = ds.shuffle(len(groups), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(
        lambda i: tf.ensure_shape(tf.numpy_function(load, [i], tf.float32, stateful=False), (None, length, width)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=not shuffle,
    )
    ds = ds.unbatch()
    if shuffle:
        ds = ds.shuffle(min(len(starts), 8192), seed=seed, reshuffle_each_iteration=True)
    # unbatch hides the count; Keras wants it to size epochs and progress.
    batches = -(-len(starts) // batch_size)
    ds = ds.batch(batch_size).apply(tf.data.experimental.assert_cardinality(batches))
    return ds.map(lambda x: (x, x)).prefetch(tf.data.AUTOTUNE)
