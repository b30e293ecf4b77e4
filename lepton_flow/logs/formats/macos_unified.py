"""macOS's unified log as `log show` prints it: `2026-01-05 10:00:00.123456+0100 0x1a2b  Default  0x0  123  0  kernel: message`.

`log show` (default style) writes the time with its offset, the thread,
the type (`Default`, `Info`, `Debug`, `Error`, `Fault`: the level), the
activity, the process id, the TTL and the process, then the message. The
column header it starts with, and the `Filtering the log data using ...`
line a predicate adds, are neither events nor quarantined.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "macos-unified",
        r"<Timestamp:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}[+-]\d{4}> +<Thread:0x[0-9a-f]+> +<Level:Default|Info|Debug|Error|Fault> +<Activity:0x[0-9a-f]+> +<Pid:\d+> +<TTL:\d+> +<Process:[^:]+?>: <Content>",
        examples=[
            "2026-01-05 10:00:00.123456+0100 0x1a2b     Default     0x0                  123    0    kernel: (AppleSMC) Previous shutdown cause: 5",
            "2026-01-05 10:00:01.223456+0100 0x1a2c     Error       0x0                  456    7    WindowServer: [com.apple.windowserver:display] Display 1 failed",
            "2026-01-05 10:00:02.323456-0800 0x2b3c     Fault       0x4f2                789    14   Safari: (WebKit) WebContent process crashed",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
        directives=r"^(?:Timestamp\s+Thread\s+Type\s+Activity\s+PID\s+TTL|Filtering the log data using .*)\s*$",
    )
)
