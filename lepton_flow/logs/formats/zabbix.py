"""Zabbix server, proxy and agent logs: `  1234:20260105:100000.123 agent #0 started [main process]`.

The process id padded to six columns, the local date and time with
milliseconds (`%Y%m%d:%H%M%S.%f`), then the message.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "zabbix",
        r"\s*<Pid:\d+>:<Date:\d{8}>:<Time:\d{6}\.\d{3}> <Content>",
        timestamp="%Y%m%d %H%M%S.%f",
        examples=[
            "  1234:20260105:100000.123 agent #0 started [main process]",
            "  1235:20260105:100001.223 active check configuration update from [zabbix:10051] started to fail (cannot connect to [[zabbix]:10051]: [111] Connection refused)",
            "123456:20260105:100002.323 Zabbix agent item \"system.cpu.load[all,avg1]\" on host \"web01\" failed: first network error",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
