"""`journalctl -o short-precise`: syslog's layout with microseconds, `May 01 12:34:56.123456 host prog[pid]: message`.

What people save from `journalctl` for a bug report when the order of
events within a second matters. The host lands in `host`, the program in
`source`; journalctl's text carries no level, and no year (the reader
gives the file's). Its `-- Boot ... --` lines are not events. (`journalctl`
without `-o` is `syslog-rfc3164`'s layout; `-o short-iso` is `syslog-iso`'s.)
"""

from __future__ import annotations

from dataclasses import replace

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format
from lepton_flow.logs.logformat import JOURNALCTL_MARKS, SYSLOG_PROCESS

_TAIL = r" <Host:[^\s\[\]]+> <Program:[^\s\[\]:]+>(?:\[<Pid:\d+>\])?: <Content>"

FORMAT = register_log_format(replace(
    layout_format(
        "journalctl",
        r"<Month:[A-Z][a-z]{2}> <Day:\d{1,2}> <Time:\d\d:\d\d:\d\d\.\d{6}>" + _TAIL,
        timestamp="%b %d %H:%M:%S.%f",
        examples=[
            "May 01 12:34:56.123456 ubuntu systemd[1]: Started session-5.scope - Session 5 of User ubuntu.",
            "May 01 12:34:57.000123 ubuntu sshd[2345]: Accepted publickey for ubuntu from 10.0.0.9 port 51514 ssh2",
            "May 01 12:35:00.500000 ubuntu kernel: EXT4-fs (sda1): re-mounted. Quota mode: none.",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.7,
        directives=JOURNALCTL_MARKS,
    ),
    records=True,
    process=SYSLOG_PROCESS,
))
