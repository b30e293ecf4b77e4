"""Supercomputer RAS logs of the Thunderbird/Liberty/Spirit family: `alert epoch yyyy.mm.dd node Mmm d hh:mm:ss node/location program[pid]: message`.

The first field is the alert category (`-` for none), the second the time
in epoch seconds (what the event is dated by), then the syslog line as the
collector received it.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

HEAD = r"<Label:\S+> <Timestamp:\d{9,10}> <Dated:\d{4}\.\d\d\.\d\d> <Host:\S+> <Clock:[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d> <Location:\S+>"

FORMAT = register_log_format(
    layout_format(
        "thunderbird",
        [
            HEAD + r" <Component:[^\s:\[]+(?:\([^)]*\))?>(?:\[<Pid:\d+>\])?: <Content>",
            HEAD + " <Content>",
        ],
        timestamp="epoch",
        examples=[
            "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root",
            "- 1131566462 2005.11.09 tbird-admin1 Nov 10 02:51:02 local@tbird-admin1 postfix/postdrop[10896]: warning: unable to look up public/pickup: No such file or directory",
            "- 1131566463 2005.11.09 dn73 Nov 9 12:01:03 dn73/dn73 kernel: ib_sm_sweep.c:1455: No topology change",
            "VAPI 1131653011 2005.11.10 cn142 Nov 10 12:03:31 cn142/cn142 kernel: [KERNEL_IB][ib_mad_dispatch][ib_mad_static.c:1050]: (fatal error) VIPKL_poll_cq failed",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
