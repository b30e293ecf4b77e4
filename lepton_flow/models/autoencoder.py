"""A 1-D convolutional autoencoder over multivariate windows (Keras 3).

Input `(window, 2 * channels)`: normalised values and their mask (see
`lepton_flow.models.windows`). Output `(window, channels)`: the
reconstruction. Two strided convolutions squeeze time by 4, two transposed
convolutions restore it; the bottleneck makes it reproduce normal shapes
well and anomalies badly, so the reconstruction error is the anomaly score.
"""

from __future__ import annotations

KIND = "conv-autoencoder"
INPUT = "windows"
SIZES = {"tiny": 8, "small": 32, "medium": 64, "large": 128}


def build(window: int, channels: int, size: str = "small"):
    from lepton_flow.gpu import import_keras

    keras = import_keras()

    if window % 4:
        raise ValueError(f"window length {window} must be a multiple of 4 (the model halves time twice)")
    if size not in SIZES:
        raise ValueError(f"model size {size!r} unknown; choose one of {', '.join(SIZES)}")
    f = SIZES[size]
    layers = keras.layers
    inp = keras.Input((window, 2 * channels), name="values_and_mask")
    x = layers.Conv1D(f, 7, strides=2, padding="same", activation="relu")(inp)
    x = layers.Conv1D(max(f // 2, 4), 7, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv1DTranspose(max(f // 2, 4), 7, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv1DTranspose(f, 7, strides=2, padding="same", activation="relu")(x)
    # float32 output even under mixed precision: the loss and scores need it.
    out = layers.Conv1D(channels, 1, dtype="float32", name="reconstruction")(x)
    return keras.Model(inp, out, name="conv_autoencoder")


def masked_mse(y_true, y_pred):
    """Mean squared error over observed values only; `y_true` is the model input (values then mask)."""
    from keras import ops

    channels = ops.shape(y_pred)[-1]
    z, mask = y_true[..., :channels], y_true[..., channels:]
    err = mask * ops.square(ops.cast(y_pred, "float32") - z)
    return ops.sum(err, axis=(1, 2)) / ops.maximum(ops.sum(mask, axis=(1, 2)), 1.0)
