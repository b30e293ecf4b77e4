"""Container logs as the CRI (containerd, CRI-O; Kubernetes' /var/log/pods) writes them: `RFC3339Nano-time stream P|F message`.

`F` marks a full line, `P` a partial one the runtime split at 16 kB (each
is kept as its own event); the stream (`stdout`, `stderr`) lands in
`source`. The application's own lines inside are read by their format (see
`LogFormat.wraps`).
"""

from __future__ import annotations

from dataclasses import replace

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    replace(layout_format(
        "cri",
        r"<Timestamp:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)> <Source:stdout|stderr> <Tag:[FP]>(?:\x20<Content>)?",
        examples=[
            "2016-10-06T00:17:09.669794202Z stdout F The content of the log entry 1",
            "2016-10-06T00:17:10.113242941Z stderr P First line of a long entry split by the runtime",
            "2024-02-01T12:00:00.5+01:00 stdout F GET /healthz 200",
        ],
        description=__doc__.splitlines()[0],
    ), wraps=True, partial=r"^\S+ (?:stdout|stderr) P")
)
