"""SSSD's debug logs (`/var/log/sssd/*.log`): `(time): [program] [function] (0xLEVEL): message`.

SSSD 2.x writes `(2024-05-01  9:05:03): ` (the hour space-padded), older
releases `(Wed May  1 09:05:03 2024) `; either with microseconds after the
seconds (`:123456`) under `debug_microseconds`. The program is the process
(`sssd`, `nss`, `be[example.com]`, `sssd[be[default]]`) and lands in
`source`; the level is SSSD's debug level, a bit mask: 0x0010 fatal and
0x0020 critical failures (crit), 0x0040 serious ones (error), 0x0080
minor ones (warning), 0x0100 configuration (info), tracing from 0x0200 on
(debug). Request ids (`[RID#5]`) stay in the message.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

_REST = r"\[<Program:[^\s\[\]]+(?:\[[^\[\]]*(?:\[[^\[\]]*\])?[^\[\]]*\])?>\] \[<Function:[^\s\]]+>\] \(<Level:0x[0-9a-f]{4,6}>\): <Content>"
_NEW = r"\(<Date:\d{4}-\d\d-\d\d> +<Time:\d{1,2}:\d\d:\d\d{}>\): "
_OLD = r"\(<Date:[A-Z][a-z]{{2}} [A-Z][a-z]{{2}} +\d{{1,2}} \d\d:\d\d:\d\d{} \d{{4}}>\) "
_LEVELS = {"0x0010": "crit", "0x0020": "crit", "0x0040": "error", "0x0080": "warning", "0x0100": "info"}
_LEVELS |= {f"0x{1 << bit:04x}": "debug" for bit in range(9, 19)}  # 0x0200 to 0x40000

FORMAT = register_log_format(
    layout_format(
        "sssd",
        [
            (_NEW.replace("{}", r":\d{6}") + _REST, "%Y-%m-%d %H:%M:%S:%f"),
            (_NEW.replace("{}", "") + _REST, "%Y-%m-%d %H:%M:%S"),
            (_OLD.format(r":\d{6}") + _REST, "%a %b %d %H:%M:%S:%f %Y"),
            (_OLD.format("") + _REST, "%a %b %d %H:%M:%S %Y"),
        ],
        examples=[
            "(2024-05-01  9:05:03): [be[example.com]] [sdap_get_generic_ext_step] (0x0400): [RID#5] calling ldap_search_ext with [(objectclass=*)][cn=example,dc=com].",
            "(2024-05-01 10:00:00:123456): [nss] [cache_req_search_done] (0x0080): [CID#7] CR #3: Object found, but needs to be refreshed.",
            "(Tue Mar 31 06:03:46 2015) [sssd[be[default]]] [sysdb_search_by_name] (0x0400): No such entry",
            "(Tue Mar 31 05:58:38:004211 2015) [sssd] [start_service] (0x0100): Queueing service LDAP for startup",
            "(2024-05-01 10:00:01): [be[example.com]] [sdap_async_sys_connect_done] (0x0020): connect failed [111][Connection refused].",
        ],
        description=__doc__.splitlines()[0],
        levels=_LEVELS,
    )
)
