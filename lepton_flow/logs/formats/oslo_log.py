"""OpenStack services through `oslo.log`: `date time.ms pid LEVEL logger [request context] message`, with or without a file-name prefix.

oslo.log's `logging_context_format_string` is `%(asctime)s.%(msecs)03d
%(process)d %(levelname)s %(name)s [%(request_id)s %(user_identity)s]
%(instance)s%(message)s`; without a request it writes `[-]`. Collected logs
(loghub's OpenStack) put the source file's name first. The request context
is matched and left out of the message.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "oslo-log",
        r"(?:<File:\S+\.log\S*> )?<Date:\d{4}-\d\d-\d\d> <Time:\d\d:\d\d:\d\d\.\d{3}> <Pid:\d+> <Level:TRACE|DEBUG|INFO|AUDIT|WARNING|ERROR|CRITICAL> <Logger:[\w.]+> (?:\[<Request:[^\]]*>\] )?<Content>",
        examples=[
            'nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-2096-447d-96ea-a692162415ae 113d3a99c3da401fbd62cc2caa5b96d2 54fdadf51044441d91d8c5cb0a6ab2e8 - - -] 10.11.10.1 "GET /v2/54fdadf51044441d91d8c5cb0a6ab2e8/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2477829',
            "nova-compute.log.1.2017-05-16_13:55:31 2017-05-16 00:00:04.500 2931 INFO nova.compute.manager [req-3ea4052c-895d-4b64-9e2d-04d64c4d94ab - - - - -] [instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] VM Started (Lifecycle Event)",
            "2024-02-01 12:00:00.123 4242 WARNING oslo_messaging.server [-] Possible hang: stop is waiting for start to complete",
            "2024-02-01 12:00:01.456 4242 ERROR keystone.common.wsgi AttributeError: 'NoneType' object has no attribute 'id'",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
