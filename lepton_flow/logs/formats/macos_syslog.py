"""syslog as macOS writes it (`/var/log/system.log`): program names with spaces and parentheses, and a sub-process after the pid.

`Jul  1 09:03:11 host Microsoft Word[14463]: message`,
`... sandboxd[129] ([31211]): message`,
`... com.apple.xpc.launchd[1] (com.apple.xpc.launchd.domain.pid.WebContent.32778): message`.
No year (the reader gives the file's) and no priority; the program
lands in `source`. syslogd's `--- last message repeated 3 times ---`
lines (no program) are read too, in any syslog file.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "macos-syslog",
        [
            r"<Month:[A-Z][a-z]{2}> <Day:\d{1,2}> <Time:\d\d:\d\d:\d\d> <Host:[^\s\[\]]+> <Program:[^\s\[\]:(][^\[\]:]*?>(?:\[<Pid:\d+>\])?(?: \(<Sub:[^()]*(?:\([^()]*\))?[^()]*>\)(?:\[\d+\])?)?: <Content>",
            # syslogd's own line for repeats, without a program (BSD and macOS write it with dashes, Linux without)
            r"<Month:[A-Z][a-z]{2}> <Day:\d{1,2}> <Time:\d\d:\d\d:\d\d> <Host:[^\s\[\]]+> <Content:(?:--- )?last message repeated \d+ times?(?: ---)?>",
        ],
        timestamp="%b %d %H:%M:%S",
        examples=[
            "Jul  1 09:00:55 calvisitor-10-105-160-95 kernel[0]: IOThunderboltSwitch<0>(0x0)::listenerCallback - Thunderbolt HPD packet for route = 0x0 port = 11 unplug = 0",
            "Jul  1 09:02:26 calvisitor-10-105-160-95 sandboxd[129] ([31211]): mdworker(31211) deny file-read-data /private/var/db/mds/system/mds.lock",
            "Jul  1 09:03:11 calvisitor-10-105-160-95 Microsoft Word[14463]: Sandbox extension consumed",
            "Jul  1 09:09:34 calvisitor-10-105-160-95 com.apple.xpc.launchd[1] (com.apple.xpc.launchd.domain.pid.WebContent.32778): Service exited with abnormal code: 1",
            "Jul  2 10:01:02 calvisitor-10-105-160-95 QQ[10018]: button report: 0x8002be0",
            "Jul  3 14:53:44 calvisitor-10-105-162-105 --- last message repeated 1 time ---",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.7,
        breadth=1,
    )
)
