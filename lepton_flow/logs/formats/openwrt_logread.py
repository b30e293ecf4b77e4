"""OpenWrt's system log as `logread` prints it (and `logread -f` saves it): `Www Mmm dd hh:mm:ss yyyy facility.level program[pid]: message`.

The time is `ctime`'s, with the year; the host is written only when
`logread -h` names one. Facility and severity are named as BusyBox's
syslogd names them (`daemon.err`, `kern.warn`); the level is the
severity's, the program the tag before `: `.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.formats.busybox_syslog import FACILITY, SEVERITY, TAG
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "openwrt-logread",
        rf"<Date:[A-Z][a-z]{{2}} [A-Z][a-z]{{2}} +\d{{1,2}} \d\d:\d\d:\d\d \d{{4}}> (?:<Host:[^\s.]+> )?{FACILITY}\.{SEVERITY} {TAG}",
        timestamp="%a %b %d %H:%M:%S %Y",
        examples=[
            "Thu Mar  2 23:24:28 2023 kern.warn kernel: [ 1170.826385] conntrack: generic helper won't handle protocol 47.",
            "Thu Mar  2 23:24:30 2023 daemon.err uhttpd[1500]: luci: accepted login on / for root from 192.168.1.10",
            "Mon Dec 11 08:00:01 2023 OpenWrt daemon.notice netifd: Interface 'wan' is now up",
        ],
        description=__doc__.splitlines()[0],
    )
)
