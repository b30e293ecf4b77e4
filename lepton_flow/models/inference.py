"""Batched inference with one traced function per model.

`model.predict` builds and traces its step for each new input shape and
carries per-call overhead; scoring calls it on blocks of varying size.
Here each model gets one `tf.function` with relaxed shapes, fed fixed-size
batches, so tracing happens once or twice per process.
"""

from __future__ import annotations

import weakref

import numpy as np

from lepton_flow.models.windows import Normalization

_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def predict(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    """The model's output on `x`, in batches of `batch_size`, as float32 numpy."""
    from lepton_flow.gpu import import_tensorflow

    tf = import_tensorflow()
    fn = _FUNCTIONS.get(model)
    if fn is None:
        fn = tf.function(lambda t: model(t, training=False), reduce_retracing=True)
        _FUNCTIONS[model] = fn
    if len(x) == 0:
        return np.zeros((0, *model.output_shape[1:]), np.float32)
    parts = [np.asarray(fn(tf.constant(x[i : i + batch_size])), dtype=np.float32) for i in range(0, len(x), batch_size)]
    return np.concatenate(parts)


_SCORERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def score_rows_graph(model, values: np.ndarray, mean: np.ndarray, std: np.ndarray, window: int, stride: int, metrics: int) -> np.ndarray:
    """Anomaly score per (row, sensor) of `values` `(rows, metrics * sensors)`, all inside one TensorFlow graph.

    Normalising, masking, framing windows every `stride` rows
    (`tf.signal.frame`), the model, the masked squared error, and averaging
    each row over the windows that cover it (`tf.signal.overlap_and_add`)
    run as one traced function: on a GPU none of it returns to Python
    between the read and the scores. `values` is padded with missing rows so
    the last window ends flush; rows no window observed come back NaN.
    """
    from lepton_flow.gpu import import_tensorflow

    tf = import_tensorflow()
    rows = values.shape[0]
    if rows < window:
        raise ValueError(f"{rows} rows are fewer than one window of {window}")
    extra = (-(rows - window)) % stride
    if extra:
        values = np.concatenate([values, np.full((extra, values.shape[1]), np.nan, values.dtype)])
    fns = _SCORERS.setdefault(model, {})
    key = (window, stride, metrics)
    if key not in fns:

        def score(v, mu, sigma):
            z = (v - mu) / sigma
            observed = tf.math.is_finite(z)
            mask = tf.cast(observed, tf.float32)
            z = tf.where(observed, z, tf.zeros_like(z))
            frames = tf.signal.frame(tf.concat([z, mask], axis=1), window, stride, axis=0)
            channels = tf.shape(z)[1]
            zf, mf = frames[..., :channels], frames[..., channels:]
            pred = tf.cast(model(frames, training=False), tf.float32)
            err = mf * tf.square(pred - zf)
            total = tf.signal.overlap_and_add(tf.transpose(err, [2, 0, 1]), stride)
            count = tf.signal.overlap_and_add(tf.transpose(mf, [2, 0, 1]), stride)
            length = tf.shape(total)[-1]
            total = tf.reduce_sum(tf.reshape(total, [metrics, -1, length]), axis=0)
            count = tf.reduce_sum(tf.reshape(count, [metrics, -1, length]), axis=0)
            nan = tf.fill(tf.shape(total), float("nan"))
            return tf.transpose(tf.where(count > 0, total / tf.maximum(count, 1.0), nan))

        # One trace per model and window: blocks differ in length only.
        spec = [tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None], tf.float32), tf.TensorSpec([None], tf.float32)]
        fns[key] = tf.function(score, input_signature=spec)
    out = fns[key](tf.constant(values, tf.float32), tf.constant(mean), tf.constant(std))
    return np.asarray(out)[:rows]


def smoothing_for(window: int) -> int:
    """Rows either side over which a card trained now has its stored scores averaged: a window.

    Weights falling linearly to 0 a window away make the average of a row's
    neighbours the mean error of all the windows that hold the row (each
    window's error the mean of its rows'): the model judges windows, and a
    row ranks with the windows it is in."""
    return max(1, window)


def smooth(scores: np.ndarray, half: int) -> np.ndarray:
    """Each row's score `(rows, columns)` or the average of its neighbours' within `half` rows (weights falling
    linearly to 0 at `half` rows away), whichever is higher.

    The average ranks a row with the stretch it is in (an incident's rows err
    unevenly: a level shift mostly at its edges); a row that stands out from
    its stretch (a one-row spike) keeps its own score, which the average
    would dilute. Only neighbours with a score count, and a row without one
    (not observed) stays without. `half` 1 or less leaves the scores as they are.
    """
    if half <= 1 or not len(scores):
        return scores
    from scipy.ndimage import convolve1d

    weights = (half - np.abs(np.arange(1 - half, half))).astype(np.float64)
    known = np.isfinite(scores)
    values = np.where(known, scores, 0.0).astype(np.float64)
    total = convolve1d(values, weights, axis=0, mode="constant")
    count = convolve1d(known.astype(np.float64), weights, axis=0, mode="constant")
    return np.where(known, np.maximum(total / np.maximum(count, 1e-12), values), np.nan).astype(np.float32)


def _blocks(model, norm: Normalization, reader, start: int, stop: int, window: int, batch_size: int, smoothing: int):
    """(rows' own errors, smoothed or None) for [start, stop), a block at a time, from one read per block."""
    stride = max(1, window // 4)
    if reader.length < window:
        raise ValueError(f"the store holds {reader.length} grid steps, fewer than one window of {window}")
    # The block's read reaches a window (and a stride) further than its rows' windows, so the neighbours averaged in (less
    # than a window away) have all their windows in it too, and a row's average is the same whichever block holds it.
    smoothing = min(smoothing, window)
    margin = window + (smoothing if smoothing > 1 else 0)
    mean, std = norm.arrays()
    step = max(stride, batch_size * stride)
    for a in range(start, stop, step):
        b = min(stop, a + step)
        # Windows start at multiples of the stride from the data's first row, whichever row a run starts at: a row's
        # score does not depend on which run scored it.
        lo, hi = max(0, (a - margin) // stride * stride), min(reader.length, b + margin + stride)
        if hi - lo < window:
            lo = max(0, hi - window)
        values = reader.rows(lo, hi)
        # The data's first and last rows would be judged only by the one window that reaches them, at its edge (where
        # a convolution's padding errs most): a series' top score sat at its first or last point. Rows mirrored past
        # each end give them the windows every other row has; the mirrored rows' own scores are dropped.
        before = window - stride if lo == 0 else 0
        after = window - 1 if hi == reader.length else 0
        if before or after:
            values = np.pad(values, ((before, after), (0, 0)), mode="reflect")
        own = score_rows_graph(model, values, mean, std, window, stride, len(reader.metrics))
        at = slice(before + a - lo, before + b - lo)
        yield own[at], (smooth(own, smoothing)[at] if smoothing > 1 else None)


def score_rows(model, norm: Normalization, reader, start: int, stop: int, window: int, batch_size: int) -> np.ndarray:
    """Each row's own score `(stop - start, sensors)` for rows [start, stop), reading a window's margin around them.

    Windows start every quarter window, so each row is averaged over four
    windows (the data's first and last rows too, over rows mirrored past
    its ends); `batch_size` bounds the windows run through the model at once.
    """
    return np.concatenate([own for own, _ in _blocks(model, norm, reader, start, stop, window, batch_size, 0)])


def score_rows_smoothed(model, norm: Normalization, reader, start: int, stop: int, window: int, batch_size: int, smoothing: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows' own scores (as `score_rows`) and the same averaged over `smoothing` rows either side (`smooth`, at most
    a window), for rows [start, stop).

    A row's own reconstruction error is noisy, and an incident's rows err
    unevenly: with its neighbours' average, a row is ranked with the stretch
    it is in. Flags judge each row's own error, calibrated against the
    recent rows' own errors.
    """
    parts = list(_blocks(model, norm, reader, start, stop, window, batch_size, smoothing))
    if not parts:
        empty = np.zeros((0, len(reader.sensors)), np.float32)
        return empty, empty
    own, smoothed = zip(*parts)
    own = np.concatenate(own)
    return own, (own if smoothed[0] is None else np.concatenate(smoothed))
