"""Google's glog from 0.7 on, which writes the year: `Lyyyymmdd hh:mm:ss.uuuuuu threadid file:line] message`.

glog 0.7 made `--log_year_in_prefix` the default; before it, and in
Kubernetes' klog, the header has no year (format `klog`). The level is one
letter (I W E F), the thread id padded, the source file and line before
`]`; the file lands in `source`. Times are the writer's local time.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "glog",
        r"<Level:[IWEF]><Date:\d{8}> <Time:\d\d:\d\d:\d\d\.\d{6}> <Thread:\d+> <Source:[^\s:\]]+>:<Line:\d+>\] <Content>",
        timestamp="%Y%m%d %H:%M:%S.%f",
        examples=[
            "I20240308 23:47:32.089828 400441 config.cc:27] Loading user configuration: /home/ana/.config/app/config",
            "W20240308 23:47:33.000001  12345 server.cc:118] slow request: 1520 ms",
            "E20240309 00:00:00.100200      7 storage.cc:301] write failed: No space left on device",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
