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
from itertools import compress

from lepton_flow.logs.formats import EVENT_FIELDS, LogFormat, event, http_level, register_log_format, take_lines, zeek, zoneless
from lepton_flow.logs.layout import LEVELS

FIELDS = {
    "timestamp": ("timestamp", "time", "ts", "@timestamp", "datetime", "date", "t", "@t", "asctime", "time_iso8601", "time_local", "requestReceivedTimestamp", "eventTime",
                  "instant", "timeMillis"),
    # `@m` CLEF's rendered message, `@mt` its template; structlog's `event`; GCP's `textPayload`, `jsonPayload.message`;
    # GELF's `short_message`.
    "message": ("message", "msg", "log", "text", "@m", "@mt", "short_message", "textPayload", "jsonPayload.message", "event", "output", "renderedmessage", "messagetemplate"),
    "level": ("level", "severity", "lvl", "loglevel", "s", "@l", "log.level", "levelname", "level_name", "priority"),
    "host": ("host", "hostname", "node", "host.name", "id.orig_h", "sourceIPAddress"),
    "source": ("source", "logger", "service", "component", "program", "c", "logger_name", "log.logger", "name", "service.name", "category", "eventSource",
               "loggerName", "app"),
    # The exception a record carries beside its message, which a text log writes after it: logstash-logback-encoder's
    # `stack_trace`, ECS's `error.stack_trace`, python-json-logger's `exc_info`, structlog's `exception`, CLEF's `@x`,
    # zap's `stacktrace`, log4j2's `thrown` (an object: its name and message), bunyan's and pino's `err.stack`.
    "trace": ("stack_trace", "error.stack_trace", "exc_info", "exception", "@x", "stacktrace", "thrown", "err.stack"),
}
"""Each field's names, most common first; a dotted name is a flat key (ECS writes `"log.level"`) or a path into objects.
Where none is a key as written, the same names match keys in any case (.NET's `Timestamp`, `LogLevel`, `Category`,
`Message`; Serilog's `RenderedMessage`)."""


def _get(obj: dict, name: str):
    if name in obj or "." not in name:
        return obj.get(name)
    return _walk(obj, name.split("."))


def _first(obj: dict, names: tuple[str, ...], field: str):
    """The first of `names` that holds a value for `field`: text for the message, a plain value for the others (a time
    may be an object: MongoDB's `{"$date": ...}`), so an object under a common name (ECS's `event`) is passed over."""
    for name in names:
        value = _get(obj, name)
        if _fits(value, field):
            return value
    return None


def _fits(value, field: str) -> bool:
    if field == "trace":
        return _trace(value) is not None
    return not (value in (None, "") or (isinstance(value, (dict, list)) and field != "timestamp") or (field == "message" and not isinstance(value, str)))


def _trace(value) -> str | None:
    """The text of a record's exception (`FIELDS["trace"]`): a string as written; log4j2's `thrown` object as its name
    and message, then its stack where it is text."""
    if value.__class__ is str:
        return value.rstrip() or None
    if value.__class__ is dict and isinstance(value.get("name"), str):
        said = f"{value['name']}: {value['message']}" if isinstance(value.get("message"), str) else value["name"]
        stack = value.get("extendedStackTrace")
        if isinstance(stack, str) and stack.strip():  # `stacktraceAsString`: the name and message begin it
            return stack.rstrip() if stack.startswith(value["name"]) else f"{said}\n{stack.rstrip()}"
        if isinstance(stack, list):  # the frames as objects, log4j2's default
            frames = [f"\tat {f.get('class')}.{f.get('method')}({f.get('file')}:{f.get('line')})" for f in stack if isinstance(f, dict)]
            return "\n".join([said, *frames])
        return said
    return None


def _with_trace(message: str, trace) -> str:
    text = None if trace is None else _trace(trace)
    return f"{message}\n{text}" if text else message


def _walk(obj: dict, path: tuple[str, ...]):
    for part in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


_PLANS: dict[tuple[str, ...], tuple[dict[str, tuple], dict[str, tuple] | None]] = {}
_PLANS_MAX = 4096


def _plan(obj: dict) -> tuple[dict[str, tuple], dict[str, tuple] | None]:
    """Where each field's names lead in records with `obj`'s keys: the paths to try in turn as the names are written,
    and (keys not all lower case) those to try where none held a value, the names matching keys in any case.

    A logger writes the same keys on every line: found once per set of keys, not once per name per line."""
    keys = tuple(obj)
    plan = _PLANS.get(keys)
    if plan is not None:
        return plan

    def paths(names: tuple[str, ...], present: dict[str, str]) -> tuple[tuple[str, ...], ...]:
        found = []
        for name in names:
            if name in present:
                found.append((present[name],))
            elif "." in name and (first := name.split(".")[0]) in present:
                found.append((present[first], *name.split(".")[1:]))
        return tuple(found)

    written = {k: k for k in keys}
    as_written = {field: paths(names, written) for field, names in FIELDS.items()}
    folded = None
    if any(not k.islower() for k in keys):  # PascalCase keys
        lowered = {k.lower(): k for k in keys if k.lower() not in written}
        folded = {field: paths(names, lowered) for field, names in FIELDS.items()}
    if len(_PLANS) >= _PLANS_MAX:
        _PLANS.clear()
    plan = _PLANS[keys] = (as_written, folded)
    return plan


def _found(obj: dict, paths: tuple[tuple[str, ...], ...], field: str):
    for path in paths:
        value = obj.get(path[0]) if len(path) == 1 else _walk(obj, path)
        if _fits(value, field):
            return value
    return None


_NUMBERED_LEVELS = {
    **dict(enumerate(("emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"))),  # syslog's, as GELF writes them
    10: "debug", 20: "debug", 30: "info", 40: "warning", 50: "error", 60: "crit",  # bunyan's and pino's
}


def _time(value) -> datetime | None:
    if isinstance(value, dict) and isinstance(value.get("epochSecond"), int):  # log4j2's JsonLayout: `instant`
        nanos = value.get("nanoOfSecond")
        return _time(value["epochSecond"]) if not isinstance(nanos, int) else _time(value["epochSecond"] + nanos / 1e9)
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


def local_time(line: str) -> bool:
    """Whether the record's time is written without a zone (`LogFormat.local_time`)."""
    try:
        obj = (_fast_loads or json.loads)(line)
    except (ValueError, RecursionError):
        return False
    if not isinstance(obj, dict):
        return False
    as_written, folded = _plan(obj)
    value = _found(obj, as_written["timestamp"], "timestamp")
    if value is None and folded is not None:
        value = _found(obj, folded["timestamp"], "timestamp")
    return zoneless(value)


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


try:
    from orjson import loads as _fast_loads  # Prefect's own dependency; `json`'s answer where it has one, faster
except ImportError:  # pragma: no cover
    _fast_loads = None
_LONG_NUMBER = r"\d{19}"
"""orjson reads an integer past 64 bits as a float where `json` keeps it whole (and refuses NaN, which `json` reads):
lines with such digits are decoded by `json`, and lines orjson refuses go to `parse`."""


def parse_many(lines, year: int):
    """The events of the lines that are JSON objects of a log's record, as `parse` gives them, decoded one by one but
    read by fields: records with the same keys (a logger writes the same keys on every line) share where each field is.
    A record that does not say its message in a field (access logs, Suricata, CloudTrail) is read by `record_event`."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    ok = pc.starts_with(pc.utf8_ltrim_whitespace(lines), "{")
    index, taken = take_lines(lines, ok)
    texts = taken.to_pylist()
    fast = _fast_loads is not None
    long = pc.match_substring_regex(taken, _LONG_NUMBER).to_numpy(zero_copy_only=False) if fast and len(texts) else np.zeros(len(texts), bool)
    rows: list[int] = []
    columns: dict[str, list] = {k: [] for k in EVENT_FIELDS}
    for first in range(0, len(texts), _CHUNK):  # decoded records held a chunk at a time
        _read_records(texts[first : first + _CHUNK], long[first : first + _CHUNK] if fast else None, first, rows, columns)
    at = np.asarray(rows, np.int64)
    if at.size and (np.diff(at) < 0).any():  # records of other keys, or read one by one, in between
        order = np.argsort(at, kind="stable")
        at = at[order]
        columns = {name: [values[i] for i in order] for name, values in columns.items()}
    table = pa.table({
        "timestamp": pa.array(columns["timestamp"], pa.timestamp("us", "UTC")),
        **{name: pa.array(columns[name], pa.string()) for name in EVENT_FIELDS[1:]},
    })
    return index[at], table


_CHUNK = 16_384


def _read_records(texts: list[str], long, first: int, rows: list[int], columns: dict[str, list]) -> None:
    """`parse_many`'s work on a chunk of lines (`first`: the chunk's first line's place among them all): each event's
    line into `rows` and its fields onto `columns`. `long`: lines for `json`, not orjson (None: all for `json`)."""
    objs: list = []
    if long is not None and not long.any():
        try:
            objs = [_fast_loads(text) for text in texts]  # a chunk of whole records: all at once
        except (ValueError, RecursionError):
            objs = []
    if len(objs) != len(texts):
        objs = [None] * len(texts)
        for j, text in enumerate(texts):
            try:
                objs[j] = _fast_loads(text) if long is not None and not long[j] else json.loads(text)
            except (ValueError, RecursionError):
                continue  # to `parse`: what orjson refuses, `json` may read
    groups: dict[tuple, list[int]] = {}
    for j, obj in enumerate(objs):
        if obj.__class__ is dict:
            groups.setdefault(tuple(obj), []).append(first + j)
    for keys, members in groups.items():
        group = [objs[j - first] for j in members]
        as_written, folded = _plan(group[0])
        values = {}
        for field in FIELDS:
            chosen = _column(group, as_written[field], field)
            if folded is not None and None in chosen:
                more = _column(group, folded[field], field)
                chosen = [v if v is not None else w for v, w in zip(chosen, more)]
            values[field] = chosen
        message, raw_ts, raw_level = values["message"], values["timestamp"], values["level"]
        ts = [None if v is None else _time(v) for v in raw_ts]
        # An event: a message, and a time that is one, or no time at all and a level (`record_event`'s rule).
        keep = [m is not None and (t is not None or (r is None and lv is not None)) for m, t, r, lv in zip(message, ts, raw_ts, raw_level)]
        clef = _dialect(keys)
        rows += compress(members, keep)
        columns["timestamp"] += compress(ts, keep)
        if any(v is not None for v in values["trace"]):
            message = [m if m is None or t is None else _with_trace(m, t) for m, t in zip(message, values["trace"])]
        columns["message"] += compress(message, keep)
        columns["level"] += [_level(v, clef) for v in compress(raw_level, keep)]
        for name in ("host", "source"):
            columns[name] += [v if v is None or v.__class__ is str else str(v) for v in compress(values[name], keep)]
        for k in (k for k, m in enumerate(message) if m is None):  # said by what it records, or not a log's record
            got = record_event(group[k])
            if got is not None:
                rows.append(members[k])
                for name in EVENT_FIELDS:
                    columns[name].append(got[name])


_FITS = {
    "timestamp": lambda values: [None if v is None or v == "" else v for v in values],  # an object too (MongoDB's `$date`)
    "message": lambda values: [v if v.__class__ is str and v else None for v in values],
    "trace": lambda values: [v if _trace(v) is not None else None for v in values],
}
_FIT_PLAIN = lambda values: [None if v is None or v == "" or isinstance(v, (dict, list)) else v for v in values]  # noqa: E731
"""`_fits` over a column of values: the value, or None where it does not fit the field."""


def _column(group: list[dict], paths: tuple[tuple[str, ...], ...], field: str) -> list:
    """Each record's value for `field`: the first of `paths` that holds one, as `_found` finds it record by record."""
    chosen: list | None = None
    for path in paths:
        if chosen is None:
            key = path[0]
            chosen = _FITS.get(field, _FIT_PLAIN)([o.get(key) for o in group] if len(path) == 1 else [_walk(o, path) for o in group])
            continue
        missing = [k for k, v in enumerate(chosen) if v is None]
        if not missing:
            break
        for k in missing:
            value = _walk(group[k], path)
            if _fits(value, field):
                chosen[k] = value
    return chosen if chosen is not None else [None] * len(group)


_LEVELS_SEEN: dict[tuple, str | None] = {}


def _dialect(keys) -> str | None:
    """Whose numbered or missing levels a record's keys say it has: CLEF's (no `@l` is Information), Nextcloud's and
    ownCloud's (`reqId`, `app`, `remoteAddr`: levels 0-4, debug to fatal, where syslog's 2 would be critical)."""
    if "@t" in keys:
        return "clef"
    if "reqId" in keys and "app" in keys and "remoteAddr" in keys:
        return "nextcloud"
    return None


_NEXTCLOUD_LEVELS = {0: "debug", 1: "info", 2: "warning", 3: "error", 4: "crit"}


def _level(value, clef: str | None) -> str | None:
    """A record's level as `record_event` gives it, found once per distinct value."""
    key = (type(value), value, clef)
    try:
        return _LEVELS_SEEN[key]
    except KeyError:
        pass
    except TypeError:  # not hashable: not a level any record gives
        return _level_of(value, clef)
    if len(_LEVELS_SEEN) > 4096:
        _LEVELS_SEEN.clear()
    found = _LEVELS_SEEN[key] = _level_of(value, clef)
    return found


def _level_of(number, clef: str | None) -> str | None:
    if isinstance(number, int) and not isinstance(number, bool):
        numbered = _NEXTCLOUD_LEVELS if clef == "nextcloud" else _NUMBERED_LEVELS
        if number in numbered:
            return numbered[number]
    level = None if number is None else str(number)
    return _LEVEL_LETTERS.get(level.lower(), level.lower()) if level else ("info" if clef == "clef" else None)  # CLEF: no `@l` is Information


def record_event(obj, mapping: dict[str, str] | None = None) -> dict | None:
    """The event of one decoded JSON record (`parse_with`'s), None for one that is not a log's record."""
    if not isinstance(obj, dict):
        return None
    mapping = mapping or {}
    as_written, folded = _plan(obj)
    values = {k: (_get(obj, mapping[k]) if k in mapping else _found(obj, as_written[k], k)) for k in FIELDS}
    if folded is not None:
        for k in FIELDS:
            if values[k] is None and k not in mapping:
                values[k] = _found(obj, folded[k], k)
    ts = _time(values["timestamp"])
    said = (_access(obj) or _record(obj)) if values["message"] is None and "message" not in mapping else None
    if said is not None:
        values["message"], values["level"] = said
    if values["message"] is None or (ts is None and (values["timestamp"] is not None or values["level"] in (None, ""))):
        return None  # no message; a time that is none; no time and no level either (not a log's record)
    text = lambda v: None if v is None else str(v)  # noqa: E731
    level = _level_of(values["level"], _dialect(obj) if "level" not in mapping else None)
    return event(ts, text(values["host"]), text(values["source"]), level, _with_trace(str(values["message"]), values["trace"]))


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
        parse_many=parse_many,
        local_time=local_time,
    )
)
