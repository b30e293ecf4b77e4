"""Zeek's logs (conn.log, dns.log, http.log, notice.log, ...): its ASCII writer's `#fields` header and tab-separated records.

As Zeek's ASCII writer writes them: `#separator \\x09`, `#set_separator`,
`#empty_field`, `#unset_field`, `#path`, `#open`, `#fields`, `#types`
directives (and `#close` at the end), neither events nor quarantined; each
record starts with its time in epoch seconds. The file's `#fields` and
`#path` (the last met, or those of the file's head for a read from an
offset) say what each column is: the originator (`id.orig_h`) lands in
`host`, the log's path (`conn`, `dns`, `http`) in `source`, and a record is
said by what it records (`dns` by its query, type and answer code, `http` by
method, URI and status with the status's level, a notice by its note and
message, a weird by its name, both at level warning). The words a record's
kind takes few values of come first, the name it takes many of (a DNS
query, a TLS server name) last, so that template mining groups by the
first: `A NXDOMAIN example.com`. The same records
written as JSON (`LogAscii::use_json`) are read by `jsonl`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, file_head, http_level, register_log_format, with_header

DIRECTIVES = r"^#(?:separator|set_separator|empty_field|unset_field|path|open|close|fields|types)\b"
_LINE = re.compile(r"^(?P<ts>\d{9,10}(?:\.\d{1,6})?)\t(?P<rest>.*)$")
_UNSET = ("-", "(empty)", "")


def _value(fields: dict, name: str) -> str | None:
    value = fields.get(name)
    return None if value is None or value in _UNSET else str(value)


def says(path: str | None, fields: dict) -> tuple[str, str] | None:
    """(message, level) of one Zeek record, by what its log records; None for fields no log shape here knows."""
    v = lambda name: _value(fields, name)  # noqa: E731
    if path == "notice" or (path is None and v("note")):
        return f"{v('note') or 'notice'}: {v('msg') or ''}".rstrip(), "warning"
    if path == "weird" or (path is None and v("name") and "notice" in fields):
        return f"weird: {v('name') or ''}".rstrip(), "warning"
    if path == "http" or (path is None and v("method") and "uri" in fields):
        status = v("status_code")
        code = int(status) if status and status.isdigit() else None
        return " ".join(p for p in (v("method") or "-", v("uri") or "-", status or "-")), http_level(code) if code else "info"
    if path == "dns" or (path is None and "query" in fields and "rcode_name" in fields):
        return " ".join(p or "-" for p in (v("qtype_name"), v("rcode_name"), v("query"))), "info"
    if path == "ssl" or (path is None and "server_name" in fields and "cipher" in fields):
        return " ".join(p or "-" for p in (v("version"), "established" if v("established") in ("T", "true", "True") else "not-established", v("server_name"))), "info"
    if path == "conn" or (path is None and "conn_state" in fields):
        return " ".join(p or "-" for p in (v("proto"), v("service"), v("conn_state"))), "info"
    if path:  # another log: its path, then its fields that are words (an enum, a name), not numbers or addresses
        words = [str(x) for k, x in fields.items() if k not in ("ts", "uid") and not k.startswith("id.") and isinstance(x, str) and re.fullmatch(r"[A-Za-z_][\w.:/-]*", x) and x not in _UNSET]
        return " ".join([path, *words[:4]]), "info"
    return None


def _time(text: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(text), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


_RECORD = re.compile(r"^[CF][A-Za-z0-9]{14,20}\t(?P<orig>\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]+)\t")
"""A record's uid (`C...` for a connection, `F...` for a file) and its originator's address, as Zeek's logs begin."""


def parse(line: str, year: int) -> dict | None:
    """A record without its file's `#fields` (detection's sample, a line alone): the originator where the line starts
    as Zeek's records do, the rest of the line as its message."""
    m = _LINE.match(line.rstrip("\r\n"))
    ts = _time(m["ts"]) if m else None
    if ts is None:
        return None
    record = _RECORD.match(m["rest"])
    return event(ts, record["orig"] if record else None, None, None, m["rest"].replace("\t", " "))


class _Header:
    """One file's directives, and its records read by them."""

    def __init__(self, url: str):
        self.separator, self.names, self.path = "\t", None, None
        for text in file_head(url).splitlines():
            if not text.startswith("#"):
                break
            self.directive(text)

    def directive(self, text: str) -> None:
        name, _, value = text[1:].partition(" " if text.startswith("#separator") else self.separator)
        if name == "separator":
            self.separator = value.encode().decode("unicode_escape") or "\t"
        elif name == "path":
            self.path = value.strip() or None
        elif name == "fields":
            self.names = value.split(self.separator)

    def parse(self, line: str, year: int) -> dict | None:
        text = line.rstrip("\r\n")
        values = text.split(self.separator)
        ts = _time(values[0]) if self.names and len(values) == len(self.names) and self.names[0] == "ts" else None
        if ts is None:
            return parse(line, year)
        fields = dict(zip(self.names, values))
        message, level = says(self.path, fields) or (" ".join(values[1:]), None)
        return event(ts, _value(fields, "id.orig_h"), self.path, level, message)


FORMAT = register_log_format(
    with_header(LogFormat(
        "zeek",
        parse,
        examples=[
            "1714557600.123456\tCHhAvVGS1DHFjwGM9\t192.168.1.10\t51234\t93.184.216.34\t443\ttcp\tssl\tSF",  # under its `#fields` directive
            "1714557601.000001\tC4J4Th3PJpwUYZZ6gc\t192.168.1.11\t53211\t8.8.8.8\t53\tudp\t4242\t0.012\texample.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
        directives=DIRECTIVES,
        breadth=3,  # its records are any `epoch<TAB>text`: without its directives in sight, a file is another format's
    ), _Header)
)
