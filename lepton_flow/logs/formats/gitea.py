"""Gitea's and Forgejo's log: `yyyy/mm/dd hh:mm:ss file.go:line:Function() [L] message`, the level one letter in brackets.

The default `[log]` flags (`stdflags`) write the date, the time, the
short file name with its line and function (`...s/graceful/server.go:50:NewServer()`,
shortened with `...` when long), then the level letter: `T` trace, `D`
debug, `I` info, `W` warning, `E` error, `C` critical, `F` fatal. The
call site lands in `source`; times in local time.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "gitea",
        r"<Date:\d{4}/\d\d/\d\d> <Time:\d\d:\d\d:\d\d(?:\.\d{1,6})?> <Source:\S+\.go:\d+:\S*\(\)> \[<Level:[TDIWECF]>\] <Content>",
        examples=[
            "2024/12/05 10:00:00 ...s/graceful/server.go:50:NewServer() [I] Starting new Web server: tcp:0.0.0.0:3000 on PID: 7",
            "2024/12/05 10:00:01 ...rs/web/repo/view.go:123:Home() [E] GetBranch: branch does not exist",
            "2024/12/05 10:00:02.123456 models/db/engine.go:190:InitEngine() [W] Table user column passwd_hash_algo db default is 'argon2'",
            "2024/12/05 10:00:03 cmd/web.go:242:runWeb() [C] Failed to start server: listen tcp :3000: bind: address already in use",
        ],
        description=__doc__.splitlines()[0],
        levels={"c": "crit", "f": "crit", "t": "debug"},
    )
)
