"""The Linux audit log (`/var/log/audit/audit.log`): `type=USER_LOGIN msg=audit(1373330716.415:4063): pid=... res=failed'`.

As auditd writes it (linux-audit/audit-userspace): `node=<host>` first when
`name_format` is set, the record type (the source here), then the time in
epoch seconds with milliseconds and the event's serial number (the records
of one event, `SYSCALL`, `CWD`, `PATH`, `PROCTITLE`, share it), then the
record's `key=value` fields. The `ENRICHED` format (RHEL 8 and later)
appends interpreted fields after a `\\x1d` separator; they stay in the
message. Audit records carry no level.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "linux-audit",
        r"(?:node=<Host:\S+> )?type=<Source:[A-Z0-9_]+|UNKNOWN\[\d+\]> msg=audit\(<Timestamp:\d{9,10}\.\d{3}>:<Serial:\d+>\):(?: <Content>)?",
        timestamp="epoch",
        examples=[
            "type=USER_LOGIN msg=audit(1373330716.415:4063): pid=11998 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=192.0.2.1 terminal=ssh res=failed'",
            "type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2 success=no exit=-13 a0=7fffd19c5592 a1=0 a2=7fffd19c4b50 a3=a items=1 ppid=2686 pid=3538 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=1 comm=\"cat\" exe=\"/usr/bin/cat\" key=\"sshd_config\"",
            "node=web-1 type=CWD msg=audit(1364481363.243:24287): cwd=\"/home/shadowman\"",
            "type=PROCTITLE msg=audit(1364481363.243:24287): proctitle=636174002F6574632F7373682F737368645F636F6E666967",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
