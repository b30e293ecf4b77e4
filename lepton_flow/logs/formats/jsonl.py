"""JSON Lines logs: one object per line; fields found by the names common loggers write (zap, bunyan, pino, logstash, ECS, GELF, Serilog's CLEF, structlog, Google Cloud Logging, MongoDB, Falco), or by a mapping the caller gives.

A record without a time (.NET's JSON console logger writes none unless
configured) is an event when it has a message and a level; it is dated when
the file was last written. Records that carry no message are said by what they record: a JSON access
log by its request and status; Suricata's EVE (`eve.json`) by its event type
(an alert by its signature, the level from its severity); a Kubernetes audit
event by its verb, resource and response code (the level from the code: the
audit's own `level` is how much it recorded, not a severity); an AWS
CloudTrail record by its service, call and error code (`s3.amazonaws.com
GetObject AccessDenied`, at warning); Zeek's records
(`LogAscii::use_json`) as `zeek` says them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from lepton_flow.logs.formats import LogFormat, event, http_level, register_log_format, zeek
from lepton_flow.logs.layout import LEVELS

FIELDS = {
    "timestamp": ("timestamp", "time", "ts", "@timestamp", "datetime", "date", "t", "@t", "asctime", "time_iso8601", "time_local", "requestReceivedTimestamp", "eventTime"),
    # `@m` CLEF's rendered message, `@mt` its template; structlog's `event`; GCP's `textPayload`, `jsonPayload.message`;
    # GELF's `short_message`.
    "message": ("message", "msg", "log", "text", "@m", "@mt", "short_message", "textPayload", "jsonPayload.message", "event", "output", "renderedmessage", "messagetemplate"),
    "level": ("level", "severity", "lvl", "loglevel", "s", "@l", "log.level", "levelname", "level_name", "priority"),
    "host": ("host", "hostname", "node", "host.name", "id.orig_h", "sourceIPAddress"),
    "source": ("source", "logger", "service", "component", "program", "c", "logger_name", "log.logger", "name", "service.name", "category", "eventSource"),
}
"""Each field's names, most common first; a dotted name is a flat key (ECS writes `"log.level"`) or a path into objects.
Where none is a key as written, the same names match keys in any case (.NET's `Timestamp`, `LogLevel`, `Category`,
`Message`; Serilog's `RenderedMessage`)."""


def _get(obj: dict, name: str):
    if name in obj or "." not in name:
        return obj.get(name)
    for part in name.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _first(obj: dict, names: tuple[str, ...], field: str):
    """The first of `names` that holds a value for `field`: text for the message, a plain value for the others (a time
    may be an object: MongoDB's `{"$date": ...}`), so an object under a common name (ECS's `event`) is passed over."""
    for name in names:
        value = _get(obj, name)
        if value in (None, "") or (isinstance(value, (dict, list)) and field != "timestamp") or (field == "message" and not isinstance(value, str)):
            continue
        return value
    return None


_NUMBERED_LEVELS = {
    **dict(enumerate(("emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"))),  # syslog's, as GELF writes them
    10: "debug", 20: "debug", 30: "info", 40: "warning", 50: "error", 60: "crit",  # bunyan's and pino's
}


def _time(value) -> datetime | None:
    if isinstance(value, dict) and len(value) == 1 and ("$date" in value or "$numberLong" in value):  # MongoDB's extended JSON
        inner = next(iter(value.values()))
        return _time(int(inner) if isinstance(inner, str) and inner.lstrip("-").isdigit() else inner)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds or seconds
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:  # nginx's and Apache's `$time_local`: 04/Dec/2026:06:30:01 +0000
                return datetime.strptime(value, "%d/%b/%Y:%H:%M:%S %z")
            except ValueError:
                return None
        return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    return None


def _access(obj: dict) -> tuple[str, str] | None:
    """(message, level) of a JSON access log line without a message (nginx's `log_format ... escape=json`, Caddy's):
    the request line and status, the level from the status as `access-combined` gives it."""
    request = _first(obj, ("request", "request_line", "http.request"), "message")
    status = _first(obj, ("status", "http.response.status_code", "response_status", "status_code"), "level")
    try:
        code = int(status)
    except (TypeError, ValueError):
        return None
    if request is None or not 100 <= code <= 599:
        return None
    return f"{request} {code}", http_level(code)


_SURICATA_SEVERITY = {1: "error", 2: "warning", 3: "notice"}


def _record(obj: dict) -> tuple[str, str] | None:
    """(message, level) of a record that names what happened instead of saying it: Suricata's EVE, Kubernetes' audit."""
    kind = obj.get("event_type")
    if isinstance(kind, str) and ("flow_id" in obj or "src_ip" in obj or "in_iface" in obj):
        detail = obj.get(kind) if isinstance(obj.get(kind), dict) else {}
        if kind == "alert":
            return f"alert: {detail.get('signature', '')}".rstrip(), _SURICATA_SEVERITY.get(detail.get("severity"), "warning")
        if kind == "anomaly":
            return f"anomaly: {detail.get('event') or detail.get('type') or ''}".rstrip(), "warning"
        proto = obj.get("app_proto")
        return (f"{kind} {proto}" if isinstance(proto, str) and proto not in (kind, "failed") else kind), "info"
    if str(obj.get("apiVersion", "")).startswith("audit.k8s.io") and isinstance(obj.get("verb"), str):
        ref = obj.get("objectRef") if isinstance(obj.get("objectRef"), dict) else {}
        what = "/".join(str(ref[k]) for k in ("resource", "subresource") if ref.get(k)) or str(obj.get("requestURI", "")).split("?")[0]
        code = (obj.get("responseStatus") or {}).get("code") if isinstance(obj.get("responseStatus"), dict) else None
        code = code if isinstance(code, int) and 100 <= code <= 599 else None
        return f"{obj['verb']} {what} {code if code else obj.get('stage', '')}".rstrip(), http_level(code) if code else "info"
    if isinstance(obj.get("eventSource"), str) and isinstance(obj.get("eventName"), str) and "eventTime" in obj:  # AWS CloudTrail
        error = obj.get("errorCode")
        return f"{obj['eventSource']} {obj['eventName']}" + (f" {error}" if isinstance(error, str) else ""), "warning" if error else "info"
    if isinstance(obj.get("uid"), str) and "id.orig_h" in obj or isinstance(obj.get("id"), dict) and "orig_h" in obj["id"]:
        flat = {**obj, **{f"id.{k}": v for k, v in obj["id"].items()}} if isinstance(obj.get("id"), dict) else obj
        return zeek.says(obj.get("_path") if isinstance(obj.get("_path"), str) else None, flat)  # Zeek's records as JSON
    return None


def parse_with(line: str, mapping: dict[str, str] | None = None) -> dict | None:
    """Parse with explicit field names (`{"timestamp": "when", "message": "text", ...}`); unnamed fields use the common names."""
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        return None
    return record_event(obj, mapping)


def record_event(obj, mapping: dict[str, str] | None = None) -> dict | None:
    """The event of one decoded JSON record (`parse_with`'s), None for one that is not a log's record."""
    if not isinstance(obj, dict):
        return None
    mapping = mapping or {}
    values = {k: (_get(obj, mapping[k]) if k in mapping else _first(obj, names, k)) for k, names in FIELDS.items()}
    if any(v is None for v in values.values()) and any(not k.islower() for k in obj):  # PascalCase keys
        folded = {k.lower(): v for k, v in obj.items() if k.lower() not in obj}
        for k, names in FIELDS.items():
            if values[k] is None and k not in mapping:
                values[k] = _first(folded, names, k)
    ts = _time(values["timestamp"])
    said = (_access(obj) or _record(obj)) if values["message"] is None and "message" not in mapping else None
    if said is not None:
        values["message"], values["level"] = said
    if values["message"] is None or (ts is None and (values["timestamp"] is not None or values["level"] in (None, ""))):
        return None  # no message; a time that is none; no time and no level either (not a log's record)
    text = lambda v: None if v is None else str(v)  # noqa: E731
    number = values["level"]
    if isinstance(number, int) and not isinstance(number, bool) and number in _NUMBERED_LEVELS:
        level = _NUMBERED_LEVELS[number]
    else:
        level = text(number)
        level = _LEVEL_LETTERS.get(level.lower(), level.lower()) if level else ("info" if "@t" in obj and "level" not in mapping else None)  # CLEF: no `@l` is Information
    return event(ts, text(values["host"]), text(values["source"]), level, str(values["message"]))


_LEVEL_LETTERS = {**LEVELS, **{f"d{n}": "debug" for n in range(1, 6)}}
"""Level words as the text formats name them (`warn`, .NET's `Information`), and MongoDB's severities (`"s": "I"`, `"D2"`)."""


def parse(line: str, year: int) -> dict | None:
    return parse_with(line)


FORMAT = register_log_format(
    LogFormat(
        "jsonl",
        parse,
        examples=[
            '{"timestamp": "2026-01-01T00:00:00Z", "level": "INFO", "host": "web-1", "logger": "api", "message": "request done"}',
            '{"ts": 1767225600123, "severity": "error", "msg": "disk full", "service": "db"}',
            '{"name": "api", "hostname": "web-1", "pid": 7, "level": 50, "msg": "upstream timed out", "time": "2026-01-01T00:00:01.123Z", "v": 0}',
            '{"@t": "2026-01-01T00:00:02.1234567Z", "@mt": "Processed {Count} items in {Elapsed} ms", "Count": 3, "Elapsed": 34}',
            '{"severity": "WARNING", "timestamp": "2026-01-01T00:00:03.123456Z", "jsonPayload": {"message": "disk almost full"}}',
            '{"event": "user created", "level": "info", "timestamp": "2026-01-01T00:00:04Z", "user_id": 5}',
            '{"version": "1.1", "host": "db-2", "short_message": "replica lag high", "timestamp": 1767225605.25, "level": 4}',
            '{"@timestamp": "2026-01-01T00:00:06.000Z", "log.level": "error", "message": "payment failed", "ecs.version": "1.6.0", "log.logger": "billing"}',
            '{"time_local": "01/Jan/2026:00:00:07 +0000", "remote_addr": "10.0.0.9", "request": "GET /api/items?page=2 HTTP/1.1", "status": "502", "body_bytes_sent": "157"}',
        ],
        description=__doc__.splitlines()[0],
        breadth=1,
    )
)
