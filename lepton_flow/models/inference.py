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


def score_rows(model, norm: Normalization, reader, start: int, stop: int, window: int, batch_size: int) -> np.ndarray:
    """Scores `(stop - start, sensors)` for rows [start, stop), reading a window's margin around them.

    Windows start every quarter window, so each row is averaged over four
    windows (the data's first and last rows too, over rows mirrored past
    its ends); `batch_size` bounds the windows run through the model at once.
    """
    stride = max(1, window // 4)
    if reader.length < window:
        raise ValueError(f"the store holds {reader.length} grid steps, fewer than one window of {window}")
    mean, std = norm.arrays()
    parts = []
    step = max(stride, batch_size * stride)
    for a in range(start, stop, step):
        b = min(stop, a + step)
        lo, hi = max(0, a - window), min(reader.length, b + window)
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
        scores = score_rows_graph(model, values, mean, std, window, stride, len(reader.metrics))[before:]
        parts.append(scores[a - lo : b - lo])
    return np.concatenate(parts)
