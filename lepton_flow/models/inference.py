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


STRETCH_GROUPS = 16  # groups either side of a wide average: its half-width over its group's size


def wide_smoothing_for(window: int) -> list[int]:
    """Half-widths (rows) of the wider averages a card trained now has its stored scores ranked by too: 4 and 16
    windows.

    People label an incident as a stretch (its lead-up and aftermath
    included: NAB's windows are a tenth of a series split among its
    incidents), and a long incident errs at its edges more than inside: the
    rows a few windows from the largest errors rank above the quiet rest of a
    series."""
    return [4 * max(1, window), 16 * max(1, window)]


def _window_sums(values: np.ndarray, length: int) -> np.ndarray:
    """`out[i] = values[i : i + length].sum(axis=0)` for every full window, in a few passes whatever `length` is.

    The rows are cut into blocks of `length`; a window spans the end of one
    block and the start of the next, so its sum is a suffix sum of one plus a
    prefix sum of the other (van Herk / Gil-Werman). Unlike a running sum,
    nothing is subtracted: a huge value (an outlier's error) leaves the sums
    of windows that do not hold it exact.
    """
    rows, columns = values.shape
    if rows < length:
        return np.zeros((0, columns), np.float64)
    blocks = -(-rows // length)
    padded = np.zeros((blocks * length, columns), np.float64)
    padded[:rows] = values
    cut = padded.reshape(blocks, length, columns)
    prefix = np.cumsum(cut, axis=1).reshape(-1, columns)
    suffix = np.cumsum(cut[:, ::-1], axis=1)[:, ::-1].reshape(-1, columns)
    windows = rows - length + 1
    out = suffix[:windows] + prefix[length - 1 : length - 1 + windows]
    out[::length] = suffix[:windows:length]  # a window that is a whole block: its suffix sum alone
    return out


def _triangle_sums(values: np.ndarray, half: int) -> np.ndarray:
    """Each row's neighbours within `half` rows summed with weights `half - |distance|`: a window sum of window sums."""
    padded = np.pad(values.astype(np.float64), ((half - 1, half - 1), (0, 0)))
    return _window_sums(_window_sums(padded, half), half)


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
    known = np.isfinite(scores)
    values = np.where(known, scores, 0.0)
    total = _triangle_sums(values, half)
    # The weights' sum: the same for every column with no row missing.
    count = np.repeat(_triangle_sums(np.ones((len(scores), 1)), half), scores.shape[1], axis=1)
    gaps = ~known.all(axis=0)
    if gaps.any():
        count[:, gaps] = _triangle_sums(known[:, gaps], half)
    return np.where(known, np.maximum(total / np.maximum(count, 1e-12), values), np.nan).astype(np.float32)


def stretch(scores: np.ndarray, first_row: int, half: int) -> np.ndarray:
    """The average of the scores `(rows, columns)` within about `half` rows of each row, at a coarse grain.

    Rows are summed in groups of `half // STRETCH_GROUPS` rows aligned on the
    store's grid (`first_row` is the first row's place in it), the groups
    averaged with weights falling linearly to 0 `STRETCH_GROUPS` groups away,
    and every row takes its group's average: a few operations a value
    whatever `half` is, and the same value whichever block holds the row when
    the block reaches `half` plus a group past it. Only rows with a score
    count; a row without one stays without.
    """
    rows, columns = scores.shape
    group = max(1, half // STRETCH_GROUPS)
    if not rows or half <= 1:
        return scores
    offset = first_row % group
    groups = -(-(offset + rows) // group)
    values = np.full((groups * group, columns), np.nan)
    values[offset : offset + rows] = scores
    values = values.reshape(groups, group, columns)
    known = np.isfinite(values)
    total = _triangle_sums(np.where(known, values, 0.0).sum(axis=1), STRETCH_GROUPS)
    count = _triangle_sums(known.sum(axis=1), STRETCH_GROUPS)
    average = np.repeat(total / np.maximum(count, 1e-12), group, axis=0)[offset : offset + rows]
    return np.where(np.isfinite(scores), average, np.nan).astype(np.float32)


def ranked(own: np.ndarray, first_row: int, smoothing: int, wide: tuple[int, ...] | list[int] = ()) -> np.ndarray:
    """The score stored for each row: the highest of its own error, its neighbours' average within `smoothing`
    rows (`smooth`) and its stretch's averages within each of `wide`'s half-widths (`stretch`).

    The stretch's averages are taken over `log1p` of the errors and mapped
    back: one enormous error (a garbage reading, scored like any other) lifts
    the averages of the rows around it by its logarithm, not by itself, while
    an incident, many rows erring, lifts its stretch's as before. Plain
    averages let one unlabelled reading a million times the largest error
    lift 16 windows either side above every incident (synthetic series:
    median AUC 0.94 -> 0.75).
    """
    out = smooth(own, smoothing) if smoothing > 1 else own
    if wide:
        compressed = np.sign(own) * np.log1p(np.abs(own))
        for half in wide:
            average = stretch(compressed, first_row, half)
            out = np.fmax(out, (np.sign(average) * np.expm1(np.abs(average))).astype(np.float32))
    return out


def reach(window: int, smoothing: int, wide: tuple[int, ...] | list[int] = ()) -> int:
    """Rows either side whose own errors a row's stored score reads (`ranked`): its half-widths, and a group."""
    smoothing = min(smoothing, window)
    return max([smoothing if smoothing > 1 else 0] + [half + max(1, half // STRETCH_GROUPS) for half in wide])


def score_rows(model, norm: Normalization, reader, start: int, stop: int, window: int, batch_size: int) -> np.ndarray:
    """Each row's own score `(stop - start, sensors)` for rows [start, stop), reading a window's margin around them.

    Windows start every quarter window, so each row is averaged over four
    windows (the data's first and last rows too, over rows mirrored past
    its ends); `batch_size` bounds the windows run through the model at once.
    """
    stride = max(1, window // 4)
    if reader.length < window:
        raise ValueError(f"the store holds {reader.length} grid steps, fewer than one window of {window}")
    mean, std = norm.arrays()
    step = max(stride, batch_size * stride)
    parts = []
    for a in range(start, stop, step):
        b = min(stop, a + step)
        # Windows start at multiples of the stride from the data's first row, whichever row a run starts at: a row's
        # score does not depend on which run scored it. The read reaches a window (and a stride) past the block's rows,
        # so every window holding one of them is in it.
        lo, hi = max(0, (a - window) // stride * stride), min(reader.length, b + window + stride)
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
        parts.append(own[before + a - lo : before + b - lo])
    return np.concatenate(parts) if parts else np.zeros((0, len(reader.sensors)), np.float32)


def score_rows_smoothed(model, norm: Normalization, reader, start: int, stop: int, window: int, batch_size: int, smoothing: int, wide: tuple[int, ...] | list[int] = (), reuse: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows' own scores (as `score_rows`) and the scores stored for them (`ranked`: the highest of a row's own, its
    neighbours' average within `smoothing` rows, at most a window, and its stretch's averages within `wide`'s
    half-widths), for rows [start, stop).

    A row's own reconstruction error is noisy, and an incident's rows err
    unevenly: with its neighbours' and its stretch's averages, a row is
    ranked with the stretch it is in. Flags judge each row's own error,
    calibrated against the recent rows' own errors. The rows averaged in are
    scored too (up to the reach either side), so a row's stored score is the
    same whichever run or block scores it. `reuse`, a dict kept by a caller
    scoring consecutive blocks with one model, carries the rows already
    scored past the last block into the next, so they are not scored twice.
    """
    smoothing = min(smoothing, window)
    margin = reach(window, smoothing, wide)
    if not margin or stop <= start:
        own = score_rows(model, norm, reader, start, stop, window, batch_size)
        return own, own
    lo, hi = max(0, start - margin), min(reader.length, stop + margin)
    kept = reuse.get("own") if reuse else None
    if kept is not None and reuse["lo"] <= lo <= reuse["hi"] <= hi:
        own = np.concatenate([kept[lo - reuse["lo"] :], score_rows(model, norm, reader, reuse["hi"], hi, window, batch_size)])
    else:
        own = score_rows(model, norm, reader, lo, hi, window, batch_size)
    if reuse is not None:
        reuse.update(lo=lo, hi=hi, own=own)
    return own[start - lo : stop - lo], ranked(own, lo, smoothing, wide)[start - lo : stop - lo]
