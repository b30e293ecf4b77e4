"""The Linux audit log (`/var/log/audit/audit.log`): `type=USER_LOGIN msg=audit(1373330716.415:4063): pid=... res=failed'`.

As auditd writes it (linux-audit/audit-userspace): `node=<host>` first when
`name_format` is set, the record type, then the time in epoch seconds with
milliseconds and the event's serial number (the records of one event,
`SYSCALL`, `CWD`, `PATH`, `PROCTITLE`, share it), then the record's
`key=value` fields. The `ENRICHED` format (RHEL 8 and later) appends
interpreted fields after a `\\x1d` separator; they stay in the message.
Audit records carry no level.

The record type is the source and also the message's first word: what a
record says is its type and its fields, and template mining keeps types
apart by it. Before mining, the values of the fields that name a process,
user, file or address (`pid=`, `acct=`, `exe=`, `name=`, `proctitle=`, ...)
are masked; `op=`, `res=`, `success=`, `unit=` are kept, and any token
that then differs keeps two records apart (a similarity of 0.99), so a
failed login is not grouped with a successful one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_LINE = re.compile(r"^(?:node=(?P<host>\S+) )?type=(?P<type>[A-Z0-9_]+|UNKNOWN\[\d+\]) msg=audit\((?P<secs>\d{9,10})\.(?P<ms>\d{3}):\d+\):(?: (?P<content>.*))?$", re.DOTALL)
_VARYING = (
    "pid ppid uid auid ses gid euid suid fsuid egid sgid fsgid ouid ogid old-auid old-ses a0 a1 a2 a3 exit items item inode dev rdev "
    "mode acct addr hostname exe comm cwd name proctitle cmd key tty subj obj id laddr lport saddr"
).split()
MASKS = [(r"\b(" + "|".join(re.escape(k) for k in _VARYING) + r")=(\"[^\"]*\"|[^\s'\"]*)", r"\1=<*>")]


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m:
        return None
    ts = datetime.fromtimestamp(int(m["secs"]), tz=UTC) + timedelta(milliseconds=int(m["ms"]))
    return event(ts, m["host"], m["type"], None, f"{m['type']} {m['content'] or ''}".rstrip())


FORMAT = register_log_format(
    LogFormat(
        "linux-audit",
        parse,
        examples=[
            "type=USER_LOGIN msg=audit(1373330716.415:4063): pid=11998 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=192.0.2.1 terminal=ssh res=failed'",
            "type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2 success=no exit=-13 a0=7fffd19c5592 a1=0 a2=7fffd19c4b50 a3=a items=1 ppid=2686 pid=3538 auid=1000 uid=1000 comm=\"cat\" exe=\"/usr/bin/cat\" key=\"sshd_config\"",
            "node=web-1 type=CWD msg=audit(1364481363.243:24287): cwd=\"/home/shadowman\"",
            "type=PROCTITLE msg=audit(1364481363.243:24287): proctitle=636174002F6574632F7373682F737368645F636F6E666967",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.99,  # once the masks ran, a token that differs is one that says something (res=failed)
        masks=MASKS,
    )
)
