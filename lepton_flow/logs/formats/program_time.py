"""A program's name, then an ISO date and time, then `:` and the message, as Debian's `update-alternatives` writes `/var/log/alternatives.log`.

`update-alternatives 2025-06-24 14:36:53: link group pager updated to point to /usr/bin/less`.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "program-time",
        r"<Program:[A-Za-z][\w.\-]*> <Timestamp:\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?>: <Content>",
        examples=[
            "update-alternatives 2025-06-24 14:36:53: run with --quiet --install /usr/bin/pager pager /usr/bin/less 77",
            "update-alternatives 2025-06-24 14:36:53: link group pager updated to point to /usr/bin/less",
        ],
        description=__doc__.splitlines()[0],
    )
)
