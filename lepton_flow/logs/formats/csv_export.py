"""Log records exported as CSV with a header row: Windows Event Viewer's "Save All Events As" CSV, PowerShell's `Export-Csv` of `Get-WinEvent` or `Get-EventLog`, and the CSV exports of Splunk, Kibana, Graylog and Datadog.

The file is read whole, as the CSV it is (a message may hold line ends
inside its quotes): each row is a record, counted as a line. The header
names the fields: the time (`Date and Time`, `TimeCreated`, `TimeGenerated`,
`_time`, `@timestamp`, `timestamp`, ...), the message (`Message`, `_raw`,
`Description`, ...; Event Viewer writes it in a sixth column the header
does not name), the level (`LevelDisplayName`, `Level`, `EntryType`, ...),
the source (`Source`, `ProviderName`, ...) and the host (`MachineName`,
`host`, ...). Times are read in the first way that reads the whole column:
ISO 8601, then `12/5/2024 10:00:00 AM` (Windows in English), month first,
day first, `05.12.2024 10:00:00`; a time without a zone is read as UTC. A
row without a time that reads is quarantined as `record N`.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, register_log_format
from lepton_flow.logs.layout import LEVELS

NAMES = {
    "timestamp": ("date and time", "timecreated", "timegenerated", "_time", "@timestamp", "timestamp", "time", "datetime", "date", "eventtime"),
    "message": ("message", "_raw", "description", "msg", "log", "content"),
    "level": ("leveldisplayname", "entrytype", "level", "severity", "log.level", "loglevel", "status"),
    "source": ("source", "providername", "service", "logger", "component", "sourcetype", "application"),
    "host": ("machinename", "computer", "host", "hostname", "host.name"),
}
_EVENT_VIEWER = ["level", "date and time", "source", "event id", "task category"]
"""Event Viewer's header, whose rows hold the message in a sixth column."""
_WINDOWS_LEVELS = {"0": "info", "1": "crit", "2": "error", "3": "warning", "4": "info", "5": "debug"}  # `Get-WinEvent`'s Level
_AUDIT = {"successaudit": "info", "audit success": "info", "failureaudit": "warning", "audit failure": "warning"}
_TIMES = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%d/%m/%Y %I:%M:%S %p")


def _header(head: bytes) -> list[str] | None:
    """The header's names, lower case, when a file's first bytes open an export of log records: it names a time and
    a message column (or is Event Viewer's); None for anything else (a CSV of readings has no message)."""
    lines = head.split(b"\n", 2)
    line = lines[1] if lines[0].startswith(b"#TYPE ") and len(lines) > 1 else lines[0]
    if b"," not in line or len(lines) < 2:
        return None
    try:
        names = [n.strip().lower() for n in next(csv.reader([line.decode("utf-8").rstrip("\r")]))]
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return None
    if not any(n in names for n in NAMES["timestamp"]):
        return None
    return names if names == _EVENT_VIEWER or any(n in names for n in NAMES["message"]) else None


def starts(head: bytes) -> bool:
    """Whether a file's first bytes are the header of an export of log records (`_header`)."""
    return _header(head) is not None


def _iso(text: str) -> datetime | None:
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _reader(form: str):
    def read(text: str) -> datetime | None:
        try:
            return datetime.strptime(" ".join(text.split()), form).replace(tzinfo=UTC)
        except ValueError:
            return None
    return read


def _times(values: list[str]) -> list[datetime | None]:
    """The column's times, by the first way of reading that reads all of its values (else each by the first that reads it)."""
    present = [v for v in values if v.strip()]
    readers = [_iso, *(_reader(f) for f in _TIMES)]
    for read in readers:  # each value read once by a way of reading, which is given up at its first miss
        got: list[datetime | None] = []
        for v in values:
            t = read(v.strip()) if v.strip() else None
            if t is None and v.strip():
                break
            got.append(t)
        else:
            if present:
                return got
    return [next((t for read in readers if (t := read(v.strip())) is not None), None) if v.strip() else None for v in values]


def _level(value: str | None) -> str | None:
    if not value:
        return None
    word = value.strip().lower()
    return _WINDOWS_LEVELS.get(word) or _AUDIT.get(word) or LEVELS.get(word, word)


def events(data: bytes) -> list[dict | str] | None:
    """Each row's event, or its text where it has no time that reads; None when `data` is not such an export."""
    if not starts(data[:4096]):
        return None
    text = data.decode("utf-8", errors="replace")
    if text.startswith("#TYPE "):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if len(rows) < 2:
        return None
    header = [h.strip().lower() for h in rows[0]]
    at = {field: next((header.index(n) for n in names if n in header), None) for field, names in NAMES.items()}
    if at["message"] is None and all(len(r) > len(header) for r in rows[1:] if r):
        at["message"] = len(header)  # Event Viewer: the description in a column the header does not name
    if at["timestamp"] is None or at["message"] is None:
        return None
    body = [r for r in rows[1:] if any(c.strip() for c in r)]

    def cell(r: list[str], k: str) -> str | None:
        return r[at[k]] if at[k] is not None and at[k] < len(r) else None

    times = _times([cell(r, "timestamp") or "" for r in body])
    out: list[dict | str] = []
    for r, ts in zip(body, times):
        message = cell(r, "message")
        if ts is None or message is None:
            out.append(",".join(r)[:500])
            continue
        out.append(event(ts, cell(r, "host") or None, cell(r, "source") or None, _level(cell(r, "level")), message.replace("\r\n", "\n").strip()))
    return out


def parse(line: str, year: int) -> dict | None:
    """An export of one record given whole, its header and its row (a line of a file is no export: the header gives
    its columns, and the file is read whole, by `events`)."""
    if "\n" not in line:
        return None
    found = events(line.encode("utf-8", "surrogatepass"))
    return found[0] if found and len(found) == 1 and isinstance(found[0], dict) else None


FORMAT = register_log_format(
    LogFormat(
        "csv-export",
        parse,
        examples=[  # each an export of one record: header, then row
            ("Level,Date and Time,Source,Event ID,Task Category\nInformation,12/5/2024 10:00:00 AM,Service Control Manager,7036,None,"
             "The Windows Update service entered the running state."),
            ('"Message","Id","Level","ProviderName","MachineName","TimeCreated","LevelDisplayName"\n'
             '"Disk 2 has a bad block.","7","2","disk","ws01.corp.local","13/12/2024 09:00:00","Error"'),
            '"_time","host","source","sourcetype","_raw"\n"2024-12-05T10:00:00.000+0000","web1","/var/log/nginx/error.log","nginx:error","open() failed"',
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
FORMAT.document = events
FORMAT.document_head = starts
