"""The accelerator TensorFlow runs on, chosen once per process.

On every visible GPU memory growth is turned on (so two processes can share a
card without one taking all of it); on a GPU, Keras computes in mixed
precision; with several GPUs a `MirroredStrategy` spreads each batch over
them; with none the work runs on the CPU and the log says so once.
"""

from __future__ import annotations

import contextlib
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
    import sys

    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with native_chatter_dropped():
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # the first look for devices initialises CUDA, and says so
    return tf


def import_keras():
    """Keras, after TensorFlow imported quietly (Keras imports it, chatter and all, when it comes first)."""
    import_tensorflow()
    import keras

    return keras


# Lines TensorFlow's C++ code writes to stderr at start-up whatever TF_CPP_MIN_LOG_LEVEL says (its absl logging starts
# before that setting is read): notes, not problems.
START_UP_NOTES = ("All log messages before absl::InitializeLog() is called", "oneDNN custom operations are on")
# ... and on a host without an NVIDIA device, its search for one (an "E" line about cuInit among them). On a host with
# a device they stay: there they say why the GPU is not used.
NO_GPU_NOTES = ("Could not find cuda drivers on your machine", "failed call to cuInit", "Cannot dlopen some GPU libraries")


def has_nvidia_device() -> bool:
    import glob
    import shutil

    return bool(glob.glob("/dev/nvidia[0-9]*")) or shutil.which("nvidia-smi") is not None


@contextlib.contextmanager
def native_chatter_dropped():
    """Descriptor 2 goes to a temporary file for the block; then every line of it but TensorFlow's start-up notes is
    written back to stderr (other threads' lines too: they come late, never lost)."""
    import sys
    import tempfile

    drop = START_UP_NOTES + (() if has_nvidia_device() else NO_GPU_NOTES)
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [line for line in held.read().splitlines(keepends=True) if not any(n.encode() in line for n in drop)]
            if kept:
                os.write(2, b"".join(kept))


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
