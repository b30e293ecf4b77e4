"""Tornado's and Jupyter's logs: `[I 260105 10:00:00 web:2239] message`, `[W 2026-01-05 10:00:01.223 ServerApp] message`.

Tornado's `LogFormatter` writes `[%(levelname)1.1s %(asctime)s
%(module)s:%(lineno)d]` with the date as `%y%m%d`; Jupyter Server,
JupyterHub and other traitlets applications `[%(levelname)1.1s
%(asctime)s.%(msecs).03d %(name)s]`, JupyterHub with the module and line
after the name. The level is its first letter (`C` critical); the module
or application lands in `source`. Times are local, without a zone.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

_LEVEL = "<Level:[DIWEC]>"

FORMAT = register_log_format(
    layout_format(
        "tornado",
        [
            rf"\[{_LEVEL} <Date:\d{{6}}> <Time:\d\d:\d\d:\d\d> <Source:[\w.]+>:<Line:\d+>\] <Content>",
            rf"\[{_LEVEL} <Date:\d{{4}}-\d\d-\d\d> <Time:\d\d:\d\d:\d\d\.\d{{3}}> <Source:[\w.\-]+>(?: <Module:[\w.]+:\d+>)?\] <Content>",
        ],
        examples=[
            "[I 260105 10:00:00 web:2239] 200 GET / (127.0.0.1) 1.23ms",
            "[W 260105 10:00:01 web:2239] 404 GET /favicon.ico (10.0.0.7) 0.80ms",
            "[I 2026-01-05 10:00:02.123 ServerApp] Jupyter Server 2.10.0 is running at:",
            "[E 2026-01-05 10:00:03.456 JupyterHub app:3382] Failed to connect to db: sqlite:///jupyterhub.sqlite",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
