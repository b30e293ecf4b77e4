"""The Java Service Wrapper's log (`wrapper.log`, Tanuki's, around Nexus, ActiveMQ, Mule and others): `LEVEL | jvm 1 | yyyy/MM/dd HH:mm:ss | message`.

Its default `wrapper.logfile.format` (`LPTM`): the level, the process
that wrote the line (`wrapper` for the wrapper's own, `jvm N` for the
application's output, the N counting restarts), the time, then the line;
columns padded. The process lands in `source`. The wrapper labels
everything the JVM prints `INFO`: the application's own lines are read by
their format (their level and logger; see `LogFormat.wraps`), and a stack
trace's lines, one wrapper line each, stay with their event. `STATUS` and
`ADVICE` lines are the wrapper's own notices.
"""

from __future__ import annotations

from dataclasses import replace

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    replace(layout_format(
        "java-wrapper",
        r"<Level:DEBUG|INFO|STATUS|NOTICE|ADVICE|WARN|ERROR|FATAL> +\| <Process:jvm \d+|wrapper[a-z]?> +\| "
        r"<Date:\d{4}/\d\d/\d\d> <Time:\d\d:\d\d:\d\d(?:\.\d{3})?> \|(?:\x20|$)<Content>",
        examples=[
            "STATUS | wrapper  | 2015/04/28 18:39:56 | --> Wrapper Started as Daemon",
            "INFO   | jvm 1    | 2015/04/28 18:40:00 | 2015-04-28 18:40:00,077 [DefaultQuartzScheduler_Worker-8] INFO  com.redhat.rhn.taskomatic.TaskoQuartzHelper - Job started",
            "ERROR  | wrapper  | 2015/05/24 07:35:48 | JVM appears hung: Timed out waiting for signal from JVM.",
            "INFO   | jvm 2    | 2015/05/24 07:35:50 | JVMDUMP013I Processed dump event \"user\", detail \"\".",
        ],
        description=__doc__.splitlines()[0],
        levels={"status": "notice", "advice": "notice"},
    ), wraps=True)
)
