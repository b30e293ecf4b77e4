"""Amazon S3 server access logs: `owner bucket [dd/Mmm/yyyy:HH:MM:SS +0000] remote-ip requester request-id operation key "request-uri" status error-code ...`.

Space-separated as AWS's "Amazon S3 server access log format" page writes
them, the request URI, referrer and user agent quoted, `-` for a field
without a value; fields added over the years (signature version, TLS
version, access point, ...) follow and are left out. The requester's
address lands in `host`, the bucket in `source`; the level follows the
status (5xx error, 4xx warning, else info; `-`: warning). The message keeps
the operation, the request and the status and error code, as an access
log's template should.
"""

from __future__ import annotations

import re

from lepton_flow.logs.formats import (
    LogFormat,
    event,
    http_level,
    keep_exact,
    register_log_format,
)
from lepton_flow.logs.formats.access_combined import (
    clf_match,
    clf_match_many,
    status_level,
)

_LINE = re.compile(
    r'^(?P<owner>\S+) (?P<bucket>[a-z0-9][a-z0-9.\-]{1,254}) \[(?P<ts>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] '
    r'(?P<ip>\S+) (?P<requester>\S+) (?P<id>[0-9A-Za-z]+) (?P<op>[A-Z0-9]+\.[A-Z0-9_.]+) (?P<key>\S+) "(?P<uri>[^"]*)" '
    r'(?P<status>\d{3}|-) (?P<error>\S+) (?:\d+|-) (?:\d+|-) (?:\d+|-) (?:\d+|-) "(?:[^"\\]|\\.)*"(?: |$)'
)


def parse(line: str, year: int) -> dict | None:
    if (got := clf_match(_LINE, line)) is None:
        return None
    m, ts = got
    status = m["status"]
    level = "warning" if status == "-" else http_level(int(status))
    return event(ts, None if m["ip"] == "-" else m["ip"], m["bucket"], level, f'{m["op"]} {m["uri"]} {status} {m["error"]}')


def parse_many(lines, year: int):
    """All lines at once (see `LogFormat.parse_many`): the ASCII lines RE2 matches, fields from the same expression."""
    import pyarrow as pa
    import pyarrow.compute as pc

    index, m, utc, exact = clf_match_many(_LINE, lines)
    ip, status = pc.struct_field(m, "ip"), pc.struct_field(m, "status")
    table = pa.table({
        "timestamp": utc,
        "host": pc.if_else(pc.equal(ip, "-"), None, ip),
        "source": pc.struct_field(m, "bucket"),
        "level": status_level(status),
        "message": pc.binary_join_element_wise(pc.struct_field(m, "op"), pc.struct_field(m, "uri"), status, pc.struct_field(m, "error"), " "),
    })
    return keep_exact(index, table, exact)


FORMAT = register_log_format(
    LogFormat(
        "s3-access",
        parse,
        examples=[
            '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /amzn-s3-demo-bucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSV1.2 - -',
            '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 arn:aws:iam::123456789012:user/reader A1206F460EXAMPLE REST.GET.OBJECT data/2019/02/part-0001.parquet "GET /amzn-s3-demo-bucket1/data/2019/02/part-0001.parquet HTTP/1.1" 404 NoSuchKey 243 - 11 - "-" "aws-sdk-java/1.11.500" - Ax2u7+3sHj0= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSv1.2',
            '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:01:57 +0000] - AmazonS3 7D8CBE4EB0EXAMPLE S3.EXPIRE.OBJECT logs/2018/old.gz "-" - - - 1024 - - "-" "-" -',
        ],
        description=__doc__.splitlines()[0],
        parse_many=parse_many,
        drain_similarity=0.5,
    )
)
