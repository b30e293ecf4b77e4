"""Rolling z-score, a baseline beside the autoencoder: how far each value lies from its window's mean, in that window's
standard deviations, per channel.

It goes through the same flows as any model kind (trained, registered,
promoted, scored, calibrated, evaluated), so a user can compare the
autoencoder with it on their own data (`lepton-flow evaluate`). It learns
nothing: its "reconstruction" of a window is `z - (z - mean) / std`, so the
masked squared error scoring computes is the squared z-score, and a step's
error (averaged over the windows that cover it) is its mean squared rolling
z-score. Masked values take no part in the mean and deviation. The
deviation has a floor (`FLOOR` in normalised units) so that a flat stretch
does not turn noise into huge scores.

Train it under its own name, e.g. `--param model_kind=rolling-zscore
--param model_name=zscore-baseline`: a name's versions are promoted on
validation loss, which is not comparable across kinds.
"""

from __future__ import annotations

from lepton_flow.models import layer_model, saved_names

KIND = "rolling-zscore"
INPUT = "windows"
FLOOR = 0.1

_LAYER: list = []


def layer_class():
    """The Keras layer, defined (and registered for loading) on first use: importing this module imports no Keras."""
    if _LAYER:
        return _LAYER[0]
    from lepton_flow.gpu import import_keras

    keras = import_keras()
    ops = keras.ops

    @keras.saving.register_keras_serializable(package="lepton_flow")
    class WindowZScore(keras.layers.Layer):
        def __init__(self, channels: int, floor: float = FLOOR, **kwargs):
            super().__init__(**kwargs)
            self.channels, self.floor = channels, floor

        def call(self, x):
            z, mask = x[..., : self.channels], x[..., self.channels :]
            n = ops.maximum(ops.sum(mask, axis=1, keepdims=True), 1.0)
            mean = ops.sum(z * mask, axis=1, keepdims=True) / n
            std = ops.sqrt(ops.sum(mask * ops.square(z - mean), axis=1, keepdims=True) / n)
            return z - (z - mean) / ops.maximum(std, self.floor)

        def get_config(self):
            return {**super().get_config(), "channels": self.channels, "floor": self.floor}

    _LAYER.append(WindowZScore)
    return WindowZScore


def custom_objects() -> dict:
    """What loading a saved model of this kind needs (Keras's safe mode builds only registered classes)."""
    return saved_names(layer_class())


def build(window: int, channels: int, size: str = "small"):
    """`size` is ignored: there is nothing to size."""
    return layer_model(layer_class(), window, channels, "rolling_zscore", channels)
