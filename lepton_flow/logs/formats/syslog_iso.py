"""syslog files with full dates: `2024-05-01T12:34:56.123456+00:00 host program[pid]: message`.

rsyslog's `RSYSLOG_FileFormat` (the default of `/var/log/syslog` and
`auth.log` on Ubuntu 24.04 and later), syslog-ng's ISO dates, and
`journalctl -o short-iso` / `short-iso-precise` (`+0000` without a colon).
The host lands in `host` and the program in `source`; syslog files carry no
level. A host holds no parentheses (ESXi's `In(14)` in that place is a
severity: format `vmware`). A line whose "host" is a level word (`2024-05-01T12:34:56Z WARN
cache: ...`) is an application's line, not syslog's.
"""

from __future__ import annotations

from dataclasses import replace

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format
from lepton_flow.logs.logformat import JOURNALCTL_MARKS, SYSLOG_PROCESS

LEVEL_WORDS = ["TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "ERR", "CRIT", "CRITICAL", "FATAL", "ALERT", "EMERG", "SEVERE"]

_LAYOUT = layout_format(
    "syslog-iso",
    r"<Timestamp:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)> <Host:[^\s\[\]()]+> <Program:[^\s\[\]:]+>(?:\[<Pid:\d+>\])?: <Content>",
    examples=[
        "2024-05-01T12:34:56.123456+00:00 ubuntu systemd[1]: Started session-5.scope - Session 5 of User ubuntu.",
        "2024-05-01T12:34:57.000123+00:00 ubuntu sshd[2345]: Accepted publickey for ubuntu from 10.0.0.9 port 51514 ssh2: ED25519 SHA256:Xf0",
        "2024-05-01T12:35:00.500000+00:00 ubuntu kernel: [  123.456789] EXT4-fs (sda1): re-mounted. Quota mode: none.",
        "2024-05-01T12:35:02+02:00 mail-1 postfix/smtpd[777]: connect from unknown[10.0.0.1]",
        "2024-05-01T12:35:03+0000 ubuntu CRON[3456]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
    ],
    description=__doc__.splitlines()[0],
    drain_similarity=0.7,  # as BSD syslog's: sshd and its kind write near-identical messages that differ in a word
)


def parse(line: str, year: int) -> dict | None:
    got = _LAYOUT.parse(line, year)
    return None if got is None or got["host"].upper() in LEVEL_WORDS else got


def parse_many(lines, year: int):
    import pyarrow as pa
    import pyarrow.compute as pc

    index, table = _LAYOUT.parse_many(lines, year)
    keep = pc.invert(pc.is_in(pc.utf8_upper(table.column("host")), value_set=pa.array(LEVEL_WORDS)))
    return index[keep.to_numpy(zero_copy_only=False)], table.filter(keep)


FORMAT = register_log_format(
    replace(_LAYOUT, parse=parse, parse_many=parse_many, directives=JOURNALCTL_MARKS, records=True, process=SYSLOG_PROCESS, escaped=True)
)
