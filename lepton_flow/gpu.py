"""The accelerator TensorFlow runs on, chosen once per process.

On every visible GPU memory growth is turned on (so two processes can share a
card without one taking all of it); on a GPU, Keras computes in mixed
precision; with several GPUs a `MirroredStrategy` spreads each batch over
them; with none the work runs on the CPU and the log says so once.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache

from pydantic import BaseModel

log = logging.getLogger("lepton_flow")


class DeviceInfo(BaseModel):
    """What `configure` found and set; recorded in model cards and printed by `doctor`."""

    kind: str  # "gpu" or "cpu"
    devices: list[str]
    strategy: str
    mixed_precision: bool
    tensorflow: str
    keras: str
    cuda: str | None = None
    cudnn: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}: {', '.join(self.devices)} ({self.strategy}{', mixed precision' if self.mixed_precision else ''})"


def import_tensorflow():
    """TensorFlow, imported quietly (its C++ start-up chatter is not for users)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


@lru_cache(maxsize=1)
def configure() -> DeviceInfo:
    tf = import_tensorflow()
    import keras

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised by an earlier use in this process
            pass
    build = tf.sysconfig.get_build_info()
    if gpus:
        keras.mixed_precision.set_global_policy("mixed_float16")
        strategy = "MirroredStrategy" if len(gpus) > 1 else "default"
    else:
        strategy = "default"
        log.info("no GPU visible: TensorFlow runs on the CPU")
    return DeviceInfo(
        kind="gpu" if gpus else "cpu",
        devices=[d.name for d in gpus] or ["CPU:0"],
        strategy=strategy,
        mixed_precision=bool(gpus),
        tensorflow=tf.__version__,
        keras=keras.__version__,
        cuda=build.get("cuda_version"),
        cudnn=build.get("cudnn_version"),
    )


def strategy():
    """The distribution strategy `configure` chose: build and compile models inside its scope."""
    tf = import_tensorflow()
    info = configure()
    if info.strategy == "MirroredStrategy":
        return _mirrored()
    return tf.distribute.get_strategy()


@lru_cache(maxsize=1)
def _mirrored():
    tf = import_tensorflow()
    return tf.distribute.MirroredStrategy()


def gpu_count() -> int:
    """GPUs visible to this process (imports TensorFlow)."""
    return len(import_tensorflow().config.list_physical_devices("GPU"))
