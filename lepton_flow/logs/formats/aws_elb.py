"""AWS load balancers' access logs: Application Load Balancer (`https 2024-05-01T12:34:56.123456Z app/name/id client:port target:port ...`) and Classic (no type first).

The fields are space-separated, the request, user agent and later ones
quoted (AWS's "Access log entries" pages). The time is when the response
was sent, in UTC; the client lands in `host`, the load balancer in
`source`, and the level follows the load balancer's status code (5xx
error, 4xx warning, else info; `-` when no response was sent: warning).
The message keeps the request line and the two status codes, as an access
log's template should.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, http_level, register_log_format

_LINE = re.compile(
    r"^(?:(?P<type>https?|h2|grpcs|wss?) )?(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z) (?P<elb>\S+) "
    r"(?P<client>\S+) (?P<target>\S+) (?:-?[\d.]+ ){3}(?P<status>\d{3}|-) (?P<target_status>\d{3}|-) \d+ \d+ \"(?P<request>[^\"]*)\"(?: |$)"
)


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m:
        return None
    try:
        ts = datetime.fromisoformat(m["ts"].replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None
    status = m["status"]
    level = "warning" if status == "-" else http_level(int(status))
    client = m["client"].rsplit(":", 1)[0] if m["client"] != "-" else None
    return event(ts, client, m["elb"], level, f'{m["request"]} {status} {m["target_status"]}')


FORMAT = register_log_format(
    LogFormat(
        "aws-elb",
        parse,
        examples=[
            'https 2024-05-01T12:34:56.123456Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2024-05-01T12:34:56.000000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"',
            'http 2024-05-01T12:34:57.000000Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.40:2818 - -1 -1 -1 503 - 34 366 "GET http://www.example.com:80/api HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2024-05-01T12:34:57.000000Z "forward" "-" "-" "-" "-" "-" "-"',
            '2024-05-01T12:34:58.123456Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -',
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
