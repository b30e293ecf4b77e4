"""PostgreSQL's server log (stderr): `2024-05-01 12:34:56.789 UTC [1234] user@db ERROR:  message`, as `log_line_prefix` writes it.

The time (`%m` or `%t`), its zone and `[%p]` open the line in PostgreSQL's
default prefix (`%m [%p] `), Debian's (`%m [%p] %q%u@%d `) and the one
pgBadger asks for (`%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h `);
whatever else the prefix holds is left out, and the level is the word
before `:` and two spaces. `LOG` is info, `FATAL` crit, `PANIC` emerg. The
`DETAIL`, `HINT`, `CONTEXT`, `STATEMENT`, `QUERY` and `LOCATION` lines
that follow an event are part of it. A zone written as an offset (`+05`,
`-03:30`) or as UTC/GMT is exact; the abbreviations below are read as their
offsets; any other zone name (`IST`, `CST`: each names more than one zone)
is the run's time zone's (`timezone`), as a time written without a zone is.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from lepton_flow.logs.formats import LogFormat, event, register_log_format

_PREFIX = r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?) (?P<zone>[A-Za-z]{1,5}|[+-]\d\d(?::?\d\d)?) \[(?P<pid>\d+)\]:?(?: \[\d+-\d+\])?(?P<who>(?: \S+)*?) "
_LINE = re.compile(f"^{_PREFIX}(?P<level>DEBUG[1-5]|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC):  (?P<msg>.*)$")
_PARTS = "DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION"
LEVELS = {"LOG": "info", "INFO": "info", "NOTICE": "notice", "WARNING": "warning", "ERROR": "error", "FATAL": "crit", "PANIC": "emerg"}
ZONES = {
    "UTC": 0, "GMT": 0, "UCT": 0, "Z": 0, "WET": 0, "WEST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
    "EST": -5, "EDT": -4, "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "AKST": -9, "AKDT": -8, "HST": -10,
    "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
}


def _zone(text: str) -> timezone | None:
    """The zone an offset or an abbreviation of `ZONES` names; None for any other name (the run's zone is read)."""
    if text[0] in "+-":
        digits = text[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
        return timezone(timedelta(minutes=minutes if text[0] == "+" else -minutes))
    hours = ZONES.get(text.upper())
    return None if hours is None else timezone(timedelta(hours=hours))


def parse(line: str, year: int) -> dict | None:
    m = _LINE.match(line.rstrip("\r\n"))
    if not m:
        return None
    try:
        ts = datetime.fromisoformat(m["ts"]).replace(tzinfo=_zone(m["zone"]) or UTC)  # a name it is not: local, as UTC until the reader reads it so
    except ValueError:
        return None
    level = m["level"]
    return event(ts.astimezone(UTC), None, "postgres", "debug" if level.startswith("DEBUG") else LEVELS[level], m["msg"])


FORMAT = register_log_format(
    LogFormat(
        "postgresql",
        parse,
        examples=[
            "2024-05-01 12:34:56.789 UTC [1234] LOG:  database system is ready to accept connections",
            '2024-05-01 12:35:02.456 UTC [1240] app@shop ERROR:  relation "orders_old" does not exist at character 15',
            "2024-05-01 14:35:03 CEST [1241]: [3-1] user=app,db=shop,app=psql,client=10.0.0.7 FATAL:  password authentication failed for user \"app\"",
            "2024-05-01 12:35:04.001 +05 [1242] WARNING:  there is no transaction in progress",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
        continues=f"^{_PREFIX}(?:{_PARTS}):  ",
        local_time=lambda line: (m := _LINE.match(line.rstrip("\r\n"))) is not None and _zone(m["zone"]) is None,
    )
)
