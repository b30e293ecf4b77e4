"""AWS VPC Flow Logs: `2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK`.

As AWS delivers them (the default format, version 2: `version account-id
interface-id srcaddr dstaddr srcport dstport protocol packets bytes start
end action log-status`), space-separated, `-` for a field without a value.
Files delivered to S3 start with a header line naming the fields, which a
custom format (versions 3 to 5: `vpc-id`, `flow-direction`, `pkt-srcaddr`,
...) reorders; the header is not an event, and the file's (from its head,
for a read from an offset) says where each field is. An event is a record's
start time; the source address is the host, the interface the source; the
message is the action, protocol and destination port (`REJECT tcp 22`), at
level warning for a rejected flow or a `SKIPDATA` record.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, file_head, register_log_format, with_header

DEFAULT = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status".split()
HEADER = r"^(?=.*\bsrcaddr\b)(?=.*\baction\b)(?=.*\bstart\b)[a-z0-9-]+(?: [a-z0-9-]+)+\s*$"
_PROTOCOLS = {"1": "icmp", "6": "tcp", "17": "udp", "47": "gre", "50": "esp", "58": "icmpv6", "132": "sctp"}
_V2 = re.compile(r"^\d+ (?:\d{12}|unknown|-) (?:eni-[0-9a-f]+|-) \S+ \S+ \S+ \S+ \S+ \S+ \S+ \d{10} \d{10} (?:ACCEPT|REJECT|-) (?:OK|NODATA|SKIPDATA)\s*$")


def _record(names: list[str], values: list[str]) -> dict | None:
    if len(values) != len(names):
        return None
    field = dict(zip(names, values))
    start = field.get("start", "")
    if not start.isdigit():
        return None
    try:
        ts = datetime.fromtimestamp(int(start), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    value = lambda name: None if field.get(name) in (None, "-") else field[name]  # noqa: E731
    action, status = value("action"), value("log-status") or "OK"
    if action is None:  # NODATA, SKIPDATA: no traffic in the window, or records the capture skipped
        return event(ts, None, value("interface-id"), "warning" if status == "SKIPDATA" else "info", status)
    proto = _PROTOCOLS.get(field.get("protocol", ""), field.get("protocol", "-"))
    level = "warning" if action == "REJECT" else "info"
    return event(ts, value("srcaddr"), value("interface-id"), level, f"{action} {proto} {field.get('dstport', '-')}")


_LOOSE = re.compile(r"^\d+ .*? (?P<start>\d{10}) \d{10} (?P<action>ACCEPT|REJECT)(?: |$)")


def parse(line: str, year: int) -> dict | None:
    """A version 2 record; without the file's header, a custom one by its `start end action` (as AWS orders them)."""
    text = line.rstrip("\r\n")
    if _V2.match(text):
        return _record(DEFAULT, text.split())
    m = _LOOSE.match(text)
    return None if m is None else event(datetime.fromtimestamp(int(m["start"]), tz=UTC), None, None, "warning" if m["action"] == "REJECT" else "info", m["action"])


class _Header:
    """One file's field names (its header line, else version 2's)."""

    def __init__(self, url: str):
        self.names = DEFAULT
        for text in file_head(url).splitlines()[:1]:
            self.directive(text)

    def directive(self, text: str) -> None:
        if re.match(HEADER, text):
            self.names = text.split()

    def parse(self, line: str, year: int) -> dict | None:
        return _record(self.names, line.rstrip("\r\n").split()) if self.names is not DEFAULT else parse(line, year)


FORMAT = register_log_format(
    with_header(LogFormat(
        "vpc-flow",
        parse,
        examples=[
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
            "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK",
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
        directives=HEADER,
    ), _Header)
)
