"""The training input pipeline (`models.data.window_dataset`): the windows it yields are exactly the windows in
memory, in order or shuffled per epoch, in whole batches, and its block cache keeps to its budget."""

from __future__ import annotations

import numpy as np
import pytest

from lepton_flow import store
from lepton_flow.models.data import window_dataset
from lepton_flow.models.windows import StatsAccumulator, make_windows, window_starts
from tests.helpers import cleaned_block

LENGTH, BATCH = 8, 5


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A store of 300 rows, 2 sensors x 2 metrics, chunks of 16 rows; a gap at rows 100-109 and a channel missing
    at rows 40-44. Returns the reader, the values, the normalisation and the window starts (stride 3)."""
    tmp = tmp_path_factory.mktemp("grid")
    rng = np.random.default_rng(1)
    values = {m: rng.normal(10, 2, (300, 2)).astype(np.float32) for m in ("temperature", "humidity")}
    for v in values.values():
        v[100:110] = np.nan
    values["humidity"][40:45, 1] = np.nan
    url = str(tmp / "store")
    snap = store.commit_sensors(url, cleaned_block(tmp / "b.zarr", 6400, values, ["s1", "s2"], chunk_len=16), None, "seed", {}, {})
    reader = store.GridReader(url, snap, ["temperature", "humidity"], ["s1", "s2"])
    rows = reader.rows(0, reader.length)
    acc = StatsAccumulator(reader.channels)
    acc.add(rows)
    starts = window_starts(0, reader.length, LENGTH, 3, ~np.isfinite(rows).any(axis=1), 0)
    return reader, rows, acc.result(), starts


def _epoch(ds) -> list[np.ndarray]:
    out = []
    for x, y in ds:
        np.testing.assert_array_equal(x.numpy(), y.numpy())  # the autoencoder's target is its input
        out.append(x.numpy())
    return out


def test_unshuffled_batches_are_the_in_memory_windows_in_order_across_blocks_and_pools(grid):
    reader, rows, norm, starts = grid
    expected = make_windows(rows, 0, starts, LENGTH, norm)
    # Blocks of 16 rows and pools of 2 batches: windows of one block are split over pools, pools join blocks.
    ds = window_dataset(reader, starts, LENGTH, norm, BATCH, block_rows=16, pool_windows=2 * BATCH)
    batches = _epoch(ds)
    assert int(ds.cardinality()) == len(batches) == -(-len(starts) // BATCH)
    assert [len(b) for b in batches[:-1]] == [BATCH] * (len(batches) - 1)
    np.testing.assert_array_equal(np.concatenate(batches), expected)
    assert not any(s <= 100 < s + LENGTH for s in starts)  # the gap is never inside a window
    assert expected[:, :, 7][starts == 39].any() and not expected[:, :, 7].all()  # a missing channel is masked


def test_shuffled_epochs_are_new_orders_of_the_same_windows_and_repeat_with_the_seed(grid):
    reader, rows, norm, starts = grid
    expected = make_windows(rows, 0, starts, LENGTH, norm).reshape(len(starts), -1)

    def orders(seed):
        ds = window_dataset(reader, starts, LENGTH, norm, BATCH, shuffle=True, seed=seed, block_rows=16, pool_windows=4 * BATCH)
        out = []
        for _ in range(2):
            batches = _epoch(ds)
            assert [len(b) for b in batches[:-1]] == [BATCH] * (len(batches) - 1)
            got = np.concatenate(batches).reshape(len(starts), -1)
            # Each window once: the rows of `got` are a permutation of the rows of `expected`.
            index = {w.tobytes(): i for i, w in enumerate(expected)}
            order = [index[w.tobytes()] for w in got]
            assert sorted(order) == list(range(len(starts)))
            out.append(order)
        return out

    first, again, other = orders(7), orders(7), orders(8)
    assert first == again
    assert first[0] != first[1] and first[0] != other[0]
    assert first[0] != sorted(first[0])
    # Windows mix across blocks, not only within one: some batch holds windows from two blocks.
    assert any(len({starts[i] // 16 for i in first[0][k : k + BATCH]}) > 1 for k in range(0, len(starts), BATCH))


def test_blocks_are_read_once_while_the_cache_holds_them_and_every_epoch_past_its_budget(grid):
    reader, rows, norm, starts = grid
    blocks = len({int(s) // 16 for s in starts})
    ds = window_dataset(reader, starts, LENGTH, norm, BATCH, shuffle=True, block_rows=16)
    _epoch(ds), _epoch(ds)
    assert ds.blocks.reads == blocks and len(ds.blocks.cached) == blocks
    none = window_dataset(reader, starts, LENGTH, norm, BATCH, shuffle=True, block_rows=16, cache_bytes=0)
    _epoch(none), _epoch(none)
    assert none.blocks.reads == 2 * blocks and none.blocks.cached_bytes == 0
    budget = 4 * (16 + LENGTH) * 2 * reader.channels * 4  # room for about four blocks of model rows
    some = window_dataset(reader, starts, LENGTH, norm, BATCH, shuffle=True, block_rows=16, cache_bytes=budget)
    a = _epoch(some)
    _epoch(some)
    assert 0 < some.blocks.cached_bytes <= budget and 0 < len(some.blocks.cached) < blocks
    assert some.blocks.reads == 2 * blocks - len(some.blocks.cached)
    np.testing.assert_array_equal(np.sort(np.concatenate(a), axis=None), np.sort(np.concatenate(_epoch(some)), axis=None))
