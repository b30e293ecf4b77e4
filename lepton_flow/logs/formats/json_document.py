"""JSON documents of log records: AWS CloudTrail's `{"Records": [...]}` files, an export's `[{...}, {...}]` array, pretty-printed or on one line.

A file that is one JSON value, an array of records or an object holding
one (CloudTrail's `Records`, an export's `events` or `logs`), is read whole:
each record is an event read as `jsonl` reads a line (the names common
loggers write; a CloudTrail record by its service, call and error code), and
a record that is not a log's (no message, a time that is none) is
quarantined as `record N`. The document's records are its lines in the
read's counts. A file of one JSON object per line is `jsonl`'s. A document
is written once (an S3 object, an export): what a later read finds after it
is quarantined with that reason.
"""

from __future__ import annotations

import json
import re

from lepton_flow.logs.formats import LogFormat, register_log_format
from lepton_flow.logs.formats.jsonl import record_event
from lepton_flow.sources import record_lists


_TEXT = re.compile(rb"\S")


def records(data: bytes) -> list | None:
    """The records of a JSON document (a list, or an object's one list of objects); None for anything else, JSON Lines included."""
    body = data.lstrip()
    if body[:1] not in (b"[", b"{"):
        return None
    end = body.find(b"\n")
    try:
        value = json.loads(body[: end if end >= 0 else len(body)])
        if end >= 0 and _TEXT.search(body, end):
            return None  # a whole value on the first line and more after it: JSON Lines (found without copying the rest)
    except (ValueError, RecursionError):
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            return None
    if isinstance(value, dict):
        lists = record_lists(value)
        value = value[lists[0]] if len(lists) == 1 else None
    return value if isinstance(value, list) and value and all(isinstance(r, dict) for r in value) else None


def parse(line: str, year: int) -> dict | None:
    """A document on one line holding one record (a line of a document of many is read whole, not here)."""
    found = records(line.encode())
    return record_event(found[0]) if found and len(found) == 1 else None


FORMAT = register_log_format(
    LogFormat(
        "json-document",
        parse,
        examples=[
            '{"Records": [{"eventVersion": "1.08", "eventTime": "2024-05-01T10:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.10", "errorCode": "AccessDenied", "errorMessage": "Access Denied"}]}',
            '[{"@timestamp": "2024-05-01T10:00:01.000Z", "log.level": "error", "message": "payment failed", "service.name": "billing"}]',
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)


def events(data: bytes) -> list[dict | str] | None:
    """Each record's event, or its text where it is not a log's record; None when `data` is not a document of records."""
    found = records(data)
    return None if found is None else [record_event(r) or json.dumps(r)[:500] for r in found]


FORMAT.document = events
FORMAT.document_head = lambda head: head.lstrip()[:1] in (b"[", b"{")  # a JSON value opens
