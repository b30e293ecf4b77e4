"""The systemd journal exported as JSON (`journalctl -o json`): one object per line with `__REALTIME_TIMESTAMP`, `MESSAGE`, `PRIORITY`, ...

Fields as systemd.journal-fields(7) names them: the time in microseconds
since the epoch (a string), `_HOSTNAME`, `SYSLOG_IDENTIFIER` (else `_COMM`),
`PRIORITY` 0-7 (syslog's levels). A `MESSAGE` that is not valid UTF-8 is
exported as an array of bytes; it is decoded (invalid bytes replaced).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LEVELS = ["emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"]


def parse(line: str, year: int) -> dict | None:
    if '"__REALTIME_TIMESTAMP"' not in line:
        return None
    try:
        obj = json.loads(line)
        ts = _EPOCH + timedelta(microseconds=int(obj["__REALTIME_TIMESTAMP"]))
    except (json.JSONDecodeError, RecursionError, KeyError, TypeError, ValueError, OverflowError):
        return None
    if not isinstance(obj, dict):
        return None
    message = obj.get("MESSAGE")
    if isinstance(message, list):
        try:
            message = bytes(message).decode("utf-8", errors="replace")
        except (TypeError, ValueError):
            return None
    if message is None:
        message = ""
    priority = obj.get("PRIORITY")
    level = _LEVELS[int(priority)] if isinstance(priority, str) and priority.isdigit() and int(priority) < 8 else None
    source = obj.get("SYSLOG_IDENTIFIER") or obj.get("_COMM")
    host = obj.get("_HOSTNAME")
    return event(ts, str(host) if host else None, str(source) if source else None, level, str(message))


FORMAT = register_log_format(
    LogFormat(
        "journald-json",
        parse,
        examples=[
            '{"__CURSOR":"s=739ad463348b4ceca5a9e69c95a3c93f;i=4ece7;b=6c7c6013a26343b29e964691ff25d04c;m=4fc72436e;t=4c508a72423d9;x=4c5ed5d8e8e2e6b9","__REALTIME_TIMESTAMP":"1342540861416409","__MONOTONIC_TIMESTAMP":"21415215982","_BOOT_ID":"6c7c6013a26343b29e964691ff25d04c","_HOSTNAME":"epsilon","PRIORITY":"6","SYSLOG_IDENTIFIER":"sshd","_PID":"1963","_COMM":"sshd","MESSAGE":"Accepted publickey for lennart from 192.168.1.2 port 52162 ssh2"}',
            '{"__REALTIME_TIMESTAMP":"1700000000000001","_HOSTNAME":"node-1","PRIORITY":"3","_COMM":"kubelet","MESSAGE":[102,97,105,108,101,100,255]}',
        ],
        description=__doc__.splitlines()[0],
        records=True,  # a service's trace on stdout is an entry a line
        process=r'"_PID"\s*:\s*"(?P<process>\d+)"',
        partial=r'"CONTAINER_PARTIAL_MESSAGE"\s*:\s*"true"',  # Docker's journald driver: a line it cut at 16 kB goes on
    )
)
