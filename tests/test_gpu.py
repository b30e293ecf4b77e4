"""On a GPU: memory growth, mixed precision, and a training step on the device. Skipped without one."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gpu


def test_configure_turns_on_memory_growth_and_mixed_precision():
    import keras

    from lepton_flow.gpu import configure, import_tensorflow

    tf = import_tensorflow()
    info = configure()
    assert info.kind == "gpu" and info.mixed_precision
    assert keras.mixed_precision.global_policy().name == "mixed_float16"
    assert all(tf.config.experimental.get_memory_growth(d) for d in tf.config.list_physical_devices("GPU"))


def test_the_autoencoder_trains_on_the_gpu_with_float32_output():
    from lepton_flow.gpu import configure, strategy
    from lepton_flow.models.autoencoder import build, masked_mse

    configure()
    with strategy().scope():
        model = build(32, 4, "tiny")
        model.compile(optimizer="adam", loss=masked_mse)
    x = np.random.default_rng(0).normal(size=(256, 32, 8)).astype("float32")
    x[..., 4:] = 1.0
    history = model.fit(x, x, epochs=2, batch_size=64, verbose=0)
    assert model.output.dtype == "float32" and np.isfinite(history.history["loss"]).all()
