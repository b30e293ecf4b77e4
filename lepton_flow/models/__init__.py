"""Keras model builders and the windowing that feeds them.

`windows` is plain numpy (planning, normalisation, scoring arithmetic) and
imports no TensorFlow; `data` builds the `tf.data` pipelines; the model
modules import Keras inside `build`.

A model kind is a module here (or one named by an entry point in the group
`lepton_flow.model_kinds`) with `KIND` (its name), `INPUT` ("windows" for
sensor anomaly models: `build(window, channels, size)` maps
`(window, 2 * channels)` values-and-mask to a `(window, channels)`
reconstruction; "images" for classifiers) and `build`, and, when its
models hold custom Keras layers, `custom_objects()` (which defines and
registers them: `loadable()` calls it before a saved model is loaded). A
kind fitted outside Keras (`isolation_forest`) adds `fit_windows(model,
windows, seed)`: training calls it with a seeded sample of training windows
before Keras's epochs, and the kind stores what it learned in the model's
weights, so it saves, loads and scores as any other. Its name becomes a
choice of `model_kind` in `train_sensor_model`. `lepton-flow new NAME
--kind model` writes one that works, with its test.
"""

from __future__ import annotations

from types import ModuleType

DEFAULT_MODEL = "sensor-anomaly"
"""The registry name training and scoring use for the sensor anomaly model unless told otherwise."""

_KINDS: dict[str, ModuleType] = {}


def model_kinds(input: str | None = None) -> dict[str, ModuleType]:
    """Registered model kinds (optionally only those taking `input`), name -> module."""
    if not _KINDS:
        from lepton_flow.plugins import GROUPS, load

        for module in load(__name__, __path__, GROUPS["models"]):
            kind = getattr(module, "KIND", None)
            if kind:
                if kind in _KINDS and _KINDS[kind] is not module:
                    raise ValueError(f"model kind {kind!r} is defined twice ({_KINDS[kind].__name__}, {module.__name__})")
                _KINDS[kind] = module
    return {k: m for k, m in _KINDS.items() if input is None or getattr(m, "INPUT", None) == input}


def loadable() -> None:
    """Define every model kind's custom Keras layers, so that a saved model of any kind loads (in safe mode)."""
    for module in model_kinds().values():
        objects = getattr(module, "custom_objects", None)
        if objects:
            objects()


def layer_model(layer_class, window: int, channels: int, name: str, *args):
    """A model that is one layer (`layer_class(*args)`, named `reconstruction`) over windows of values and mask
    `(window, 2 * channels)`: the shape of the baseline kinds."""
    from lepton_flow.gpu import import_keras

    keras = import_keras()
    inp = keras.Input((window, 2 * channels), name="values_and_mask")
    out = layer_class(*args, dtype="float32", name="reconstruction")(inp)
    return keras.Model(inp, out, name=name)


def saved_names(layer_class) -> dict:
    """The names a saved model refers to a layer registered under the package `lepton_flow` by (for `custom_objects`)."""
    return {f"lepton_flow>{layer_class.__name__}": layer_class, layer_class.__name__: layer_class}

