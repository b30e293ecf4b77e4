"""uWSGI's log: request lines `[pid: 7|app: 0|req: 1/1] 10.0.0.5 () {34 vars in 612 bytes} [Thu May  2 10:00:00 2024] GET / => generated 12 bytes in 1 msecs (HTTP/1.1 200) ...`.

As uWSGI's default `logformat` writes a request (uwsgi-docs, "Formatting
uWSGI requests logs"): the client is the host, the message is the request,
protocol, status and size as `access-combined` gives them, the level follows
the status. `--log-date` lines (`Thu May  2 10:00:00 2024 - message`, and
its `HARAKIRI` reports) and the banner's `*** Starting uWSGI ... on [date]
***` carry their time; uWSGI's other lines (the rest of its start-up
banner, `spawned uWSGI worker 1`, `DAMN ! worker 1 (pid: 7) died`, ...)
carry none and take the time of the line before them. Their level: error
for a worker that died or a harakiri, warning for uWSGI's `!!!` and
`*** WARNING` lines and a full listen queue. What the application writes
between requests is read by its own format (a traceback joins the event
before it, as everywhere).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, http_level, register_log_format

_CTIME = r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}"
_REQUEST = re.compile(
    r"^\[pid: \d+\|app: -?\d+\|req: \d+/\d+\] (?P<client>\S+) \((?P<user>[^)]*)\) \{\d+ vars in \d+ bytes\} "
    rf"\[(?P<ts>{_CTIME})\] (?P<method>\S+) (?P<uri>.*?) => generated (?P<size>\d+) bytes in \d+ (?:msecs|micros) "
    r"\((?P<proto>[^ )]+) (?P<status>\d{3})\)"
)
_START = re.compile(rf"^\*\*\* (?P<what>Starting uWSGI .*?) on \[(?P<ts>{_CTIME})\] \*\*\*$")
_DATED = re.compile(rf"^(?P<ts>{_CTIME}) - (?P<msg>.*)$")
_OWN = re.compile(
    r"^(?:\*\*\* |!!! |compiled with version|os: |nodename: |machine: |clock source|pcre jit|detected |current working directory"
    r"|your (?:memory page size|server socket listen backlog|mercy for graceful|processes number limit)|lock engine|thunder lock"
    r"|uwsgi socket \d|uWSGI (?:http bound|running as root|worker \d+ screams|is running)|Python (?:version|main interpreter)|python threads"
    r"|mapped \d+ bytes|WSGI app \d|spawned uWSGI|Respawned uWSGI|gracefully \(RE\)spawned|DAMN ! worker|worker \d+ (?:buried|killed|lifetime)"
    r"|SIG[A-Z]+(?:/SIG[A-Z]+)? received|\.\.\.(?:gracefully|brutally) killing|goodbye to uWSGI|set[gu]id\(\)|chdir\(\) to|Set PythonHome"
    r"|added \S+ to pythonpath|writing pidfile|announcing my loyalty|unable to (?:load|find)|binary reloading uWSGI|dropping root privileges)"
)
_ERROR = re.compile(r"DAMN ! worker|HARAKIRI|unable to (?:load|find)|screams")
_WARNING = re.compile(r"^!!! |^\*\*\* WARNING|listen queue of socket .* full")


def _level(text: str) -> str:
    return "error" if _ERROR.search(text) else "warning" if _WARNING.search(text) else "info"


def _time(text: str) -> datetime | None:
    try:
        return datetime.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse(line: str, year: int) -> dict | None:
    text = line.rstrip("\r\n")
    m = _REQUEST.match(text)
    if m:
        ts = _time(m["ts"])
        status = int(m["status"])
        return None if ts is None else event(ts, m["client"], "http", http_level(status), f"{m['method']} {m['uri']} {m['proto']} {status} {m['size']}")
    m = _START.match(text) or _DATED.match(text)
    if m:
        ts = _time(m["ts"])
        said = m["what"] if "what" in m.groupdict() else m["msg"]
        own = "what" in m.groupdict() or _OWN.match(said) or "HARAKIRI" in said  # `date - text` lines: uWSGI's, or the application's
        return None if ts is None else event(ts, None, "uwsgi" if own else None, _level(said) if own else None, said)
    if _OWN.match(text):
        return event(None, None, "uwsgi", _level(text), text)  # dated by the reader: the line before's time
    return None


FORMAT = register_log_format(
    LogFormat(
        "uwsgi",
        parse,
        examples=[
            "*** Starting uWSGI 2.0.21 (64bit) on [Thu May  2 09:59:58 2024] ***",
            "compiled with version: 12.2.0 on 01 May 2024 10:00:00",
            "spawned uWSGI worker 1 (pid: 7, cores: 1)",
            "[pid: 7|app: 0|req: 1/1] 10.0.0.5 () {34 vars in 612 bytes} [Thu May  2 10:00:00 2024] GET /orders => generated 12 bytes in 1 msecs (HTTP/1.1 200) 2 headers in 79 bytes (1 switches on core 0)",
        ],
        description=__doc__.splitlines()[0],
        local_time=True,  # times written without a zone
        timeless=True,  # some of its lines
        breadth=4,  # its `date - text` lines are any program's (monitorix, openwebmail): without uWSGI's own lines, `leading-time`'s
    )
)
