"""syslog as BusyBox's syslogd writes it (Alpine, routers, NAS and embedded Linux): `Mmm dd hh:mm:ss host facility.level program[pid]: message`.

BusyBox puts the facility's and severity's names (`daemon.info`,
`user.warn`, `authpriv.notice`, as glibc names them) between the host and
the message, unless started with `-S`; the level is the severity's. The
program is the tag before `: ` when the message has one (`syslogd started:
BusyBox v1.36.1` has none: `source` is left empty). No year: the reader
gives the file's.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FACILITY = r"<Facility:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|security|mark|local[0-7]>"
SEVERITY = r"<Level:emerg|alert|crit|err|error|warn|warning|notice|info|debug>"
TAG = r"(?:<Program:[^\s:\[\]]+>(?:\[<Pid:\d+>\])?: )?<Content>"

FORMAT = register_log_format(
    layout_format(
        "busybox-syslog",
        rf"<Month:[A-Z][a-z]{{2}}> <Day:\d{{1,2}}> <Time:\d\d:\d\d:\d\d> <Host:\S+> {FACILITY}\.{SEVERITY} {TAG}",
        timestamp="%b %d %H:%M:%S",
        examples=[
            "Mar  2 23:24:28 UDM-Pro user.warn kernel: [1293979.679369] IN=br46 OUT= MAC=24:5a:4c:a2:b1:0b SRC=192.168.46.20",
            "Mar  4 19:22:19 UDM-Pro daemon.info dnsmasq-dhcp[2345]: DHCPREQUEST(br96) 192.168.96.31 a0:57:e3:00:78:9e",
            "Jan 18 00:11:22 alpine syslog.info syslogd started: BusyBox v1.36.1",
        ],
        description=__doc__.splitlines()[0],
    )
)
