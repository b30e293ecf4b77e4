"""TensorFlow's and XLA's C++ log lines (TSL logging on stderr): `2026-01-05 10:00:00.123456: I tensorflow/core/platform/cpu_feature_guard.cc:182] message`.

The local time with microseconds, a colon, the level's letter (I W E F),
the source file and line before `]`; the file lands in `source`. Lines
written by glog/absl without a date (`I0105 10:00:00.123456 1234 file.cc:12]`)
are `klog`'s.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "tensorflow",
        r"<Date:\d{4}-\d\d-\d\d> <Time:\d\d:\d\d:\d\d\.\d{6}>: <Level:[IWEF]> <Source:[^\s:\]]+>:<Line:\d+>\] <Content>",
        examples=[
            "2026-01-05 10:00:00.123456: I tensorflow/core/platform/cpu_feature_guard.cc:182] This TensorFlow binary is optimized to use available CPU instructions in performance-critical operations.",
            "2026-01-05 10:00:01.223456: W tensorflow/compiler/tf2tensorrt/utils/py_utils.cc:38] TF-TRT Warning: Could not find TensorRT",
            "2026-01-05 10:00:02.323456: E external/local_xla/xla/stream_executor/cuda/cuda_driver.cc:268] failed call to cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
