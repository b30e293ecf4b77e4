"""Batched inference with one traced function per model.

`model.predict` builds and traces its step for each new input shape and
carries per-call overhead; scoring calls it on blocks of varying size.
Here each model gets one `tf.function` with relaxed shapes, fed fixed-size
batches, so tracing happens once or twice per process.
"""

from __future__ import annotations

import weakref

import numpy as np

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
