"""Pipe-separated app logs (loghub's HealthApp, an Android health app): `yyyyMMdd-H:m:s:SSS|component|pid|message`."""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "healthapp",
        r"<Time:\d{8}-\d{1,2}:\d{1,2}:\d{1,2}:\d{1,3}>\|<Component:[^|]*>\|<Pid:\d+>\|<Content>",
        timestamp="%Y%m%d-%H:%M:%S:%f",
        examples=[
            "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579",
            "20171223-22:15:29:633|Step_StandReportReceiver|30002312|onReceive action: android.intent.action.SCREEN_ON",
            "20171224-2:4:43:476|Step_SPUtils|30002312| getTodayTotalDetailSteps = 1514038440000##7007##548365##8661##12361##27173954",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.4,
    )
)
