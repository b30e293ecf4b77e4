"""Python's `logging`: the default `LEVEL:logger:message` (no time) and the common `%(asctime)s` layouts.

`%(asctime)s` writes `2024-05-01 10:00:00,123`. Layouts read:
`%(levelname)s:%(name)s:%(message)s` (`basicConfig`'s default; events are
dated when the file was last written), the logging cookbook's
`%(asctime)s - %(name)s - %(levelname)s - %(message)s`,
`%(asctime)s [%(levelname)s] %(name)s: %(message)s`,
`%(asctime)s %(levelname)s [%(name)s] %(message)s`,
`%(asctime)s:%(levelname)s:%(name)s:%(message)s` and
`%(asctime)s - %(levelname)s - %(message)s`; cloud-init's
`%(asctime)s - %(filename)s[%(levelname)s]: %(message)s` (`/var/log/cloud-init.log`); fail2ban's own
`%(asctime)s %(name)-24s[%(process)d]: %(levelname)-7s %(message)s` and
Ansible's `log_path` file (`%(asctime)s p=%(process)d u=USER n=%(name)s | %(message)s`).
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

LEVEL = "<Level:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL>"
ASCTIME = r"<Date:\d{4}-\d\d-\d\d> <Time:\d\d:\d\d:\d\d(?:,\d{3})?>"
LOGGER = r"<Logger:[\w.\-]+>"

FORMAT = register_log_format(
    layout_format(
        "python-logging",
        [
            rf"{ASCTIME} - {LOGGER} - {LEVEL} - <Content>",
            rf"{ASCTIME} \[{LEVEL}\] {LOGGER}: <Content>",
            rf"{ASCTIME} {LEVEL} \[{LOGGER}\] <Content>",
            rf"{ASCTIME}:{LEVEL}:{LOGGER}:<Content>",
            rf"{ASCTIME} - {LEVEL} - <Content>",
            rf"{ASCTIME} - {LOGGER}\[{LEVEL}\]: <Content>",
            rf"{LEVEL}:<Logger:[\w.\-]*>:<Content>",
            rf"{ASCTIME} {LOGGER} +\[<Pid:\d+>\]: <Level:DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL|HEAVYDEBUG|TRACEDEBUG> +<Content>",
            rf"{ASCTIME} p=<Pid:\d+> u=<User:\S+> n=<Logger:\S+> \| <Content>",
        ],
        examples=[
            "2024-05-01 10:00:00,123 - myapp.db - WARNING - retrying connection (attempt 2)",
            "2024-05-01 10:00:01,456 [ERROR] urllib3.connectionpool: Retrying after connection broken",
            "2024-05-01 10:00:02,789 INFO [__main__] started with 4 workers",
            "2024-05-01 10:00:03,000:DEBUG:asyncio:Using selector: EpollSelector",
            "2024-05-01 10:00:04,001 - INFO - job 17 done in 3.2 s",
            "2024-05-01 10:00:04,002 - util.py[WARNING]: Failed to get raw userdata in module rightscale_userdata",
            "WARNING:root:disk usage at 91%",
            "INFO:botocore.credentials:Found credentials in environment variables.",
            "2024-05-01 10:00:05,123 fail2ban.actions        [1234]: NOTICE  [sshd] Ban 192.0.2.5",
            "2024-05-01 10:00:06,223 p=1234 u=root n=ansible | TASK [Gathering Facts] *********************************************",
        ],
        description=__doc__.splitlines()[0],
    )
)
