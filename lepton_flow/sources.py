"""Source files: discovery by content hash, and readers into the canonical table.

Every reader returns the same long table (`READING_SCHEMA`): one reading per
row, timestamps in UTC, plus the line (or row) of the source it came from so
that any reading can be traced back. Lines that cannot become readings are
returned beside it as `ParseError`s with the reason; nothing is dropped.
"""

from __future__ import annotations

import contextlib
import contextvars
import gzip
import hashlib
import io
import os
import re
import stat
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import PurePosixPath
from typing import Annotated, Literal

import fsspec
import fsspec.config
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import AfterValidator, BaseModel, Field, field_validator

from lepton_flow.settings import COMPRESSED, file_stem, is_local, redact
from lepton_flow.store import ledger

# Text columns are dictionary-encoded: a file holds a handful of distinct
# sensors, metrics and units, and every later step (GX, dedupe, gridding)
# works on small integer codes instead of a million strings.
_TEXT = pa.dictionary(pa.int32(), pa.string())
READING_SCHEMA = pa.schema(
    [
        pa.field("timestamp", pa.timestamp("ns", tz="UTC")),
        pa.field("sensor_id", _TEXT),
        pa.field("metric", _TEXT),
        pa.field("value", pa.float64()),
        pa.field("unit", _TEXT),
        pa.field("quality", _TEXT),
        pa.field("line", pa.int64()),
    ]
)

# `created_at`: ThingSpeak's and Adafruit IO's exports; `dt`: OpenWeatherMap's history (epoch seconds).
TIMESTAMP_NAMES = (
    "timestamp", "time", "datetime", "date_time", "ts", "date", "last_changed", "last_updated", "created_at", "recorded_at", "measured_at",
    "observed_at", "sampled_at", "event_time", "sample_time", "dt",
)  # fmt: skip
SENSOR_NAMES = (
    "sensor_id", "sensor", "device_id", "device", "station", "station_id", "site", "site_id", "asset", "asset_id", "host", "hostname", "instance",
    "ticker", "symbol", "entity_id", "feed_id", "node_id", "dev_eui", "serial_number", "site_no",
)  # fmt: skip
ROW_NUMBER_NAMES = ("", "unnamed: 0", "#", "index", "entry_id", "record", "recno", "record_number", "row", "row_number", "seq", "sequence")
"""A wide file's column of whole numbers under one of these names counts its rows (pandas' `to_csv` index, ThingSpeak's
`entry_id`, a logger's record number): not a reading."""
# InfluxDB's CSV (`_time`, `_value`, `_field`; its `_measurement` is the table, not the metric) and Home Assistant's
# history export (`entity_id,state,last_changed`: its `state` a metric of each entity) name their columns so.
METRIC_NAMES = ("metric", "variable", "_field", "measurement")
VALUE_NAMES = ("value", "reading")
UNIT_NAMES = ("unit", "units")
QUALITY_NAMES = ("quality", "flag")
# Text that means "no value" in real feeds (the glucose monitor writes "nil").
MISSING_TOKENS = ["nan", "na", "n/a", "null", "none", "nil", "-", "--", "unavailable", "unknown"]  # Home Assistant's last two
MISSING_CODES = np.array([-999999.0, -99999.0, -9999.9, -9999.0, -9900.0, -999.9, -999.0, 9999.9, 9999.0, 99999.0, 999999.0])
"""Numbers that weather and hydrology files write for "no value" (TMY3 -9900, NOAA GHCN -9999, ISD 9999.9 and 999999,
USGS -999999): read as missing where they lie far outside the column's other values (`missing_codes`)."""
_UNIT_IN_NAME = re.compile(r"^(?P<name>.*?)\s*\[(?P<unit>[^\]]*)\]\s*$")
_UNIT_IN_PARENS = re.compile(r"^(?P<name>.*?)\s*\((?P<unit>[^)]*)\)\s*$")


def _name_and_unit(column: str) -> tuple[str, str | None]:
    """A wide file's value column as (metric label, unit): `temperature[C]`, or `Temperature (°C)` where the
    parentheses hold a unit of measure the unit table knows (`Temperature (inside)` stays a label)."""
    from lepton_flow.units import kind

    if m := _UNIT_IN_NAME.match(column):
        return m.group("name"), m.group("unit").strip() or None
    if (m := _UNIT_IN_PARENS.match(column)) and kind(m.group("unit").strip()):
        return m.group("name"), m.group("unit").strip()
    return column, None


_SENSOR_TEXT = re.compile(r"[^A-Za-z0-9_.:-]+")  # what a sensor id may not hold (the GX suite's `sensor_id_format`)


def tagged_record(measurement: str, tags: dict, fields: dict) -> dict:
    """A point of a tagged series (InfluxDB's line protocol, Telegraf's JSON) as one wide record, without its time.

    The series is the tags: the sensor is the value of the tag that names one (`host`, `device`, `sensor_id`, ...),
    then the other tags' values in their names' order, joined by `.` (`edge-1.cpu0`: each core its own series, not
    duplicates of one), or the tags' values alone where none names a sensor; what a sensor id may not hold becomes
    `_` (`Seattle Tacoma`: `Seattle_Tacoma`). No tags: no `sensor_id` (the file's name gives it). Each field is a
    metric `measurement_field`, as Telegraf's Prometheus output names them (a field named "" is the measurement's own
    value, as a Prometheus sample's); booleans read as 1 and 0. A text field (`status="ok"`) is not a reading: left
    out.
    """
    record: dict = {}
    if tags:
        tags = {str(k): str(v) for k, v in tags.items()}
        key = _find(list(tags), SENSOR_NAMES)
        values = ([tags[key]] if key else []) + [v for k, v in sorted(tags.items()) if k != key]
        sensor = ".".join(part for v in values if (part := _SENSOR_TEXT.sub("_", v).strip("_.:-")))[:128]
        if sensor:
            record["sensor_id"] = sensor
    for name, value in fields.items():
        if isinstance(value, bool):
            value = float(value)
        if isinstance(value, (int, float)):
            record[f"{measurement}_{name}" if name else measurement] = value
    return record


_HAS_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)


class SourceError(ValueError):
    """A source file that cannot be read at all; the message names the file."""


class SourceFile(BaseModel):
    """One file found by discovery: its content hash, and its identity in the store's ledger.

    The identity is the content hash plus what the path contributes to the
    file's meaning (a sensor id taken from the file name), so that the same
    bytes under two names are two files.
    """

    url: str
    name: str
    sha256: str
    size: int
    identity: str = ""
    offset: int = 0
    """Read from this byte: an earlier run read the file up to here, and it has grown since."""
    line_base: int = 0
    """The file's lines before `offset`."""
    final: bool = True
    """Read a last line that has no line end yet (else it waits for a later run: the file is being written)."""
    utf16: bool = False
    """Stored as UTF-16 text with its byte order mark (seen when discovery hashed it): read as UTF-8 (`open_source`)."""

    def model_post_init(self, __context) -> None:
        if not self.identity:
            self.identity = self.sha256

    @property
    def shown(self) -> str:
        """The URL as lepton-flow writes it anywhere (logs, artifacts, the ledger, messages): secrets in it redacted."""
        return redact(self.url)

    @property
    def key(self) -> str:
        """Short, stable id used in staging and quarantine paths (distinct for distinct identities)."""
        if self.identity == self.sha256:
            return self.sha256[:16]
        return hashlib.sha256(self.identity.encode()).hexdigest()[:16]


def no_password(url: str) -> str:
    """A flow's source, refused when it carries a password: Prefect stores a run's parameters in its database and logs."""
    if redact(url) != url and "@" in url.split("?", 1)[0]:
        raise ValueError(
            f"the source {redact(url)} carries a password, which Prefect would store with the run: pass it to `lepton-flow run --source` "
            "(the command keeps it out of the run), or give the workers the site's credentials in their environment (FSSPEC_HTTP)"
        )
    return url


SourceURL = Annotated[str, AfterValidator(no_password)]
"""A flow's `source` parameter: any path or fsspec URL, but none with a password in it."""


def take_credentials(url: str) -> str:
    """`url` without its `user:password@`, the credentials handed to fsspec's HTTP client instead (this process and the workers it starts).

    For `lepton-flow run --source https://user:pw@host/...`: the run then
    never sees the password, so it reaches no log, artifact or database.
    Only HTTP(S) takes credentials this way; other URLs with a password are
    refused naming what to use instead.
    """
    import base64
    import json
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{redact(url)}: a password in a {parts.scheme}:// URL is not taken; use that store's own credentials (AWS_* variables, a Prefect Secret block)")
    token = base64.b64encode(f"{unquote(parts.username or '')}:{unquote(parts.password)}".encode()).decode()
    config = json.loads(os.environ.get("FSSPEC_HTTP") or "{}")
    config.setdefault("client_kwargs", {}).setdefault("headers", {})["Authorization"] = f"Basic {token}"
    os.environ["FSSPEC_HTTP"] = json.dumps(config)  # the cluster's workers start after this and inherit it
    fsspec.config.conf.setdefault("http", {}).update(config)
    fsspec.config.conf.setdefault("https", {}).update(config)
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def sensor_from_name(url: str, options: "ReadOptions") -> str:
    """The sensor id a file without a sensor column gets: the `sensor_id` option, else the file's name."""
    return options.sensor_id or file_stem(url)


def sensor_identity(url: str, sha256: str, options: "ReadOptions") -> str:
    """A sensor file's ledger identity: its content hash and the sensor id its name would give."""
    return ledger.identity(sha256, sensor_from_name(url, options))


def zone_names() -> list[str]:
    import zoneinfo

    return ["UTC", *sorted(z for z in zoneinfo.available_timezones() if z != "UTC")]


class ReadOptions(BaseModel):
    """How to interpret a source file. The defaults detect the layout."""

    format: str = Field(
        "auto",
        description="File format; auto picks it from the file name.",
    )
    sensor_id: str | None = Field(
        None,
        description="Sensor id for files without a sensor column; default: the file's name.",
        max_length=64,
    )
    timezone: str = Field(
        "UTC",
        description="Time zone of timestamps written without an offset (an IANA name).",
        json_schema_extra=lambda schema: schema.update(enum=zone_names()),
    )
    timestamp_unit: Literal["auto", "s", "ms", "us", "ns", "excel"] = Field(
        "auto",
        description="Unit of numeric timestamps: epoch s/ms/us/ns, or excel (a spreadsheet's serial days, local time); auto judges by magnitude.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)


def known_zone(value: str) -> str:
    """`value` if it names a time zone (IANA); a one-line error naming it if not."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}: an IANA name such as Europe/Berlin, or UTC") from None
    return value

@dataclass
class ParseError:
    line: int
    reason: str
    text: str


@dataclass
class ParsedFile:
    table: pa.Table
    errors: list[ParseError] = field(default_factory=list)

    @property
    def readings(self) -> int:
        return self.table.num_rows


@contextlib.contextmanager
def open_output(url: str, mode: str = "wb"):
    """A file opened for writing at a path or fsspec URL, its folder made first; it appears whole or not at all.

    A local file is written beside its place and renamed over it when
    complete, so a full disk or a kill mid-write never leaves a torn or empty
    file where a reader looks (an object store's upload is atomic already).
    """
    fs, path = fsspec.core.url_to_fs(url)
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    if not is_local(url):
        with fs.open(path, mode) as fh:
            yield fh
        return
    tmp = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        with open(tmp, mode) as fh:
            yield fh
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class CorruptCompression(ValueError):
    """A compressed stream that does not decompress (bz2 and xz say so with an OSError or their own error)."""


CORRUPT = (EOFError, zlib.error, gzip.BadGzipFile, CorruptCompression)
"""What reading a damaged compressed file raises: bad input, not worth a retry (unlike an OSError of the filesystem)."""

def _decompressed(raw, how: str):
    """A reader of `raw`'s content, decompressed as `how` (a value of COMPRESSED) says; a stream that does not
    decompress raises CorruptCompression naming what it is not."""
    if how == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if how == "zstd":
        return _Zstd(raw)
    import bz2
    import lzma

    inner = bz2.BZ2File(raw, mode="rb") if how == "bzip2" else lzma.LZMAFile(raw, mode="rb")
    return _Undone(inner, how)


class _Zstd(io.RawIOBase):
    """A zstd stream's content, frame after frame. zstandard's own stream reader ends quietly where a file was cut
    short; this one says so (CorruptCompression), as gzip's, bzip2's and xz's readers do."""

    def __init__(self, raw):
        import zstandard

        self._zstd, self._raw, self._out, self._started = zstandard, raw, b"", False
        self._obj = zstandard.ZstdDecompressor().decompressobj()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._out:
            chunk = self._raw.read(1 << 20)
            if not chunk:
                if self._started and not self._obj.eof:
                    raise CorruptCompression("not zstd data, or cut short: the file ends inside a frame")
                return 0
            self._out = self._feed(chunk)
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _feed(self, chunk: bytes) -> bytes:
        out = []
        while chunk:
            if self._obj.eof:  # the next frame
                self._obj = self._zstd.ZstdDecompressor().decompressobj()
            self._started = True
            try:
                out.append(self._obj.decompress(chunk))
            except self._zstd.ZstdError as exc:
                raise CorruptCompression(f"not zstd data, or cut short: {exc}") from exc
            chunk = self._obj.unused_data if self._obj.eof else b""
        return b"".join(out)


class _Undone(io.RawIOBase):
    """A bz2 or xz reader whose errors on bad data (an OSError, an LZMAError) read as CorruptCompression, so that they
    are not taken for the filesystem's."""

    def __init__(self, inner, how: str):
        self._inner, self._how = inner, how

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        import lzma

        try:
            return self._inner.readinto(buffer)
        except (OSError, lzma.LZMAError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # the filesystem's
            raise CorruptCompression(f"not {self._how} data, or cut short: {exc}") from exc

    def close(self) -> None:
        self._inner.close()
        super().close()

EXPANSION_FLOOR = 64 << 20
"""A compressed source may grow to this size whatever its ratio; past it, `Settings.max_expansion` times its stored size."""


class _Capped(io.RawIOBase):
    """A stream over `inner` that stops with `SourceError` once it has given out more than its limit (no limit: `ratio` None).

    Under an `io.BufferedReader` it also gives every source the same
    `readline(size)`, which some fsspec files lack.
    """

    def __init__(self, inner, url: str, stored: int, ratio: int | None):
        self._inner, self._url, self._stored, self._ratio, self._given = inner, url, stored, ratio, 0
        self._limit = max(EXPANSION_FLOOR, ratio * stored) if ratio is not None else None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._inner.readinto(buffer)
        self._given += n or 0
        if self._limit is not None and self._given > self._limit:
            raise SourceError(
                f"{self._url}: decompresses past {self._limit:,} bytes, over {self._ratio}x its {self._stored:,} stored bytes "
                f"(a decompression bomb?); nothing of it was read. Split or recompress it, or raise LEPTON_MAX_EXPANSION."
            )
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


def open_checked(url: str, roots: list[str]):
    """A local file opened for binary reading, checked after it is open: what is read is what was checked.

    Discovery checked the path, but a path can be swapped for a symlink out
    of the allowed roots, or for a FIFO, between that check and the read.
    So the descriptor itself is checked: it must be a regular file (opened
    without blocking, so a FIFO cannot hang the open), and the path the
    kernel gives for it must lie under `roots`.
    """
    path = url.removeprefix("file://")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise SourceError(f"{url}: cannot be opened: {exc.strerror or exc}") from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise SourceError(f"{url}: not a regular file: {_FILE_KINDS.get(stat.S_IFMT(mode), 'a special file')}")
        opened = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists(f"/proc/self/fd/{fd}") else os.path.realpath(path)
        if not under_roots(opened, roots):
            raise SourceError(f"{url}: opens {opened}, outside the allowed source roots ({', '.join(roots)}); LEPTON_SOURCE_ROOTS sets them")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_stored(url: str):
    """A source file opened as stored (no gzip undone), seekable: for formats that read parts of a file by offset (Parquet)."""
    from lepton_flow.settings import get_settings

    if is_local(url):
        return open_checked(url, get_settings().allowed_roots)
    fs, path = fsspec.core.url_to_fs(url)
    return fs.open(path, "rb")


SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")


def is_spreadsheet(url: str) -> bool:
    """Whether a file is a spreadsheet workbook (by its name), which `open_source` reads as CSV text."""
    return PurePosixPath(url.split("?", 1)[0]).suffix.lower() in SPREADSHEET_SUFFIXES


def _cell(value, with_time: bool) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):  # calamine gives a date-time at midnight as a date
        return f"{value.isoformat()} 00:00:00" if with_time else value.isoformat()
    return str(value)


def spreadsheet_text(data: bytes, url: str) -> bytes:
    """A workbook's first sheet that holds cells, as CSV text: line N is the sheet's row N, empty columns left out.

    Dates and times come as ISO text (a column that holds any date-time
    writes its midnights with their time), whole numbers without `.0`; an
    error cell (`#DIV/0!`) is empty, as python-calamine gives it. So the CSV
    reader treats the sheet as it treats any export.
    """
    import csv

    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows: list[list] = []
        for i in range(len(book.sheet_names)):
            rows = book.get_sheet_by_index(i).to_python(skip_empty_area=False)
            if any(v not in (None, "") for row in rows for v in row):
                break
    except Exception as exc:  # calamine's errors are its own types: a workbook it cannot read, named
        raise SourceError(f"{url}: cannot be read as a spreadsheet: {exc}") from exc
    width = max((len(r) for r in rows), default=0)
    used = [c for c in range(width) if any(c < len(r) and r[c] not in (None, "") for r in rows)]
    timed = {c for c in used if any(c < len(r) and isinstance(r[c], datetime) for r in rows)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        cells = [_cell(row[c] if c < len(row) else None, c in timed) for c in used]
        if any(cells):
            writer.writerow(cells)
        else:
            out.write("\n")
    return out.getvalue().encode("utf-8")


def is_compressed(url: str) -> bool:
    """Whether a file is stored compressed (gzip, bzip2, xz: by its name's ending, as every reader here decides it)."""
    return PurePosixPath(url).suffix.lower() in COMPRESSED


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
"""How a UTF-16 text starts (little- and big-endian): SQL Server's ERRORLOG, Windows PowerShell's `>` and `Out-File`, Excel's "Unicode Text"."""


def is_utf16(first: bytes) -> bool:
    """Whether content starting with these bytes is UTF-16 text with its byte order mark (not UTF-32's `FF FE 00 00`)."""
    return first[:2] in UTF16_BOMS and first[:4] != b"\xff\xfe\x00\x00"


class _Utf8From16(io.RawIOBase):
    """UTF-16 text (its byte order mark first) read as UTF-8 bytes, the mark dropped; a byte that does not decode reads as U+FFFD."""

    def __init__(self, inner):
        import codecs

        self._inner = inner
        self._decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        self._out = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self._out and not self._done:
            chunk = self._inner.read(1 << 20)
            self._done = not chunk
            self._out = self._decoder.decode(chunk, final=self._done).encode("utf-8", "surrogatepass")
        n = min(len(b), len(self._out))
        b[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


@contextlib.contextmanager
def open_source(url: str, offset: int = 0, seen: dict | None = None):
    """A source file opened for binary reading from byte `offset` (of the content, gzip, bzip2, xz or zstd undone), with a cap on how far it may expand.

    Every reader goes through here, so a small gzip that would expand a
    thousandfold is refused naming the file before it fills memory. A plain
    file seeks to `offset`; a gzip decompresses up to it (counted against
    the cap like the rest). UTF-16 text (with its byte order mark) reads as
    UTF-8, so every reader sees text it knows; its `offset` counts the UTF-8
    bytes, read up to as a gzip's are. `seen["utf16"]` (when a dict is
    given) says which it was.
    """
    from lepton_flow.settings import get_settings

    settings = get_settings()
    ratio = settings.max_expansion  # LEPTON_MAX_EXPANSION, checked like every other setting
    fs, path = fsspec.core.url_to_fs(url)
    compressed = is_compressed(path)
    with open_checked(url, settings.allowed_roots) if is_local(url) else fs.open(path, "rb") as raw:
        if is_spreadsheet(path):
            stored = fs.size(path) or 0
            text = spreadsheet_text(raw.read(), url)
            if ratio and len(text) > max(64 << 20, stored * ratio):
                raise SourceError(f"{url}: its sheet reads as {len(text):,} bytes of text, over {ratio}x its {stored:,} stored bytes; raise LEPTON_MAX_EXPANSION")
            with io.BufferedReader(io.BytesIO(text[offset:])) as sheet:
                yield sheet
            return
        if not compressed:
            utf16 = is_utf16(raw.read(4))
            if seen is not None:
                seen["utf16"] = utf16
            raw.seek(0 if utf16 else offset)
            with io.BufferedReader(_Capped(raw, url, 0, None), buffer_size=1 << 20) as plain:
                if not utf16:
                    yield plain
                    return
                with io.BufferedReader(_Utf8From16(plain), buffer_size=1 << 20) as text:
                    yield _skipped(text, offset)
            return
        stored = fs.size(path) or 0
        with _decompressed(raw, COMPRESSED[PurePosixPath(path).suffix.lower()]) as unzipped:
            with io.BufferedReader(_Capped(unzipped, url, stored, ratio), buffer_size=1 << 20) as capped:
                utf16 = is_utf16(capped.peek(4)[:4])
                if seen is not None:
                    seen["utf16"] = utf16
                if not utf16:
                    yield _skipped(capped, offset)
                    return
                with io.BufferedReader(_Utf8From16(capped), buffer_size=1 << 20) as text:
                    yield _skipped(text, offset)


def _skipped(fh, offset: int):
    """`fh` read past its first `offset` bytes (for a stream that cannot seek)."""
    while offset > 0 and (skipped := len(fh.read(min(offset, 1 << 20)))):
        offset -= skipped
    return fh


MAX_LINE_BYTES = 1 << 20
"""A line of a sensor file longer than this is quarantined, not parsed (sensor lines are tens of bytes)."""
BOM = b"\xef\xbb\xbf"


def record_lists(value) -> list[str]:
    """The keys of a JSON object that hold a list of records (objects): a document's records are its one such list
    (CloudTrail's `Records`, an export's `data`), or the document is that list itself."""
    if not isinstance(value, dict):
        return []
    return [k for k, v in value.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]


def screened_lines(fh, kind: str):
    """`(number, line bytes, None)` for each line of an open source, or `(number, None, ParseError)` for one to quarantine.

    A line over `MAX_LINE_BYTES` is read a piece at a time, never whole, and
    comes back as its size; a line that is not UTF-8 as the byte where it
    fails. A UTF-8 byte order mark is taken off line 1. `kind` names the
    format in the reason ("CSV", "JSON").
    """
    number = 0
    while raw := fh.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            size = len(raw)
            while raw and not raw.endswith(b"\n"):  # the rest of that line, a piece at a time
                raw = fh.readline(MAX_LINE_BYTES)
                size += len(raw)
            yield number, None, ParseError(number, f"line of {size:,} bytes, over the {MAX_LINE_BYTES:,} a {kind} line may have", "")
            continue
        if number == 1:
            raw = raw.removeprefix(BOM)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            yield number, None, ParseError(number, f"not UTF-8 text (byte {exc.start} of the line): another encoding?", text[:500])
            continue
        yield number, raw, None


def hash_file(url: str, block: int = 4 << 20, limit: int | None = None) -> tuple[str, int]:
    """Content hash and size of the stored bytes (a gzipped file hashes as stored); with `limit`, of its first `limit` bytes."""
    return _digest(url, block, limit)[:2]


def _digest(url: str, block: int = 4 << 20, limit: int | None = None) -> tuple[str, int, bytes]:
    """`hash_file`'s answer and the file's first bytes as stored (up to 4), read in the same pass."""
    from lepton_flow.settings import get_settings

    digest = hashlib.sha256()
    size = 0
    first = b""
    with open_checked(url, get_settings().allowed_roots) if is_local(url) else fsspec.open(url, "rb") as fh:
        while chunk := fh.read(block if limit is None else min(block, limit - size)):
            digest.update(chunk)
            if size < 4:
                first = (first + chunk)[:4]
            size += len(chunk)
    return digest.hexdigest(), size, first


def file_time(url: str) -> datetime:
    """When the file was last written (now, if its store does not say): what log lines without a year are dated against."""
    try:
        fs, path = fsspec.core.url_to_fs(url)
        info = fs.info(path)
        mtime = info.get("mtime") or info.get("LastModified") or info.get("created")
        if isinstance(mtime, datetime):
            return mtime if mtime.tzinfo else mtime.replace(tzinfo=UTC)
        if mtime:
            return datetime.fromtimestamp(float(mtime), tz=UTC)
    except (OSError, ValueError, TypeError):
        pass
    return datetime.now(UTC)


def settled(url: str, settle_seconds: int) -> bool:
    """Whether a file has not been written to for `settle_seconds`: a last line without a line end is then read as a line."""
    return time.time() - file_time(url).timestamp() >= settle_seconds


def list_source(source: str) -> list[str]:
    """Supported files under a directory, a glob or a single file, sorted by name."""
    fs, _, paths = fsspec.get_fs_token_paths(source)
    if any(ch in source for ch in "*?["):
        found = [p for p in paths if fs.isfile(p)]
    elif fs.isdir(paths[0]):
        found = fs.find(paths[0])
    elif fs.exists(paths[0]):
        found = [paths[0]]
    else:
        raise SourceError(f"{source}: no such file or directory")
    found = [p for p in found if not PurePosixPath(p).name.startswith((".", "_"))]
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    # Local paths stay paths; object stores list bucket paths (the protocol goes back on); HTTP lists whole URLs already.
    urls = sorted(p if protocol in ("file", "local") or "://" in p else f"{protocol}://{p}" for p in found)
    return urls


_FILE_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a directory"}


def why_not_a_file(url: str) -> str | None:
    """Why a listed path must not be opened (a FIFO or device would block or never end, a link loop fails), or None for a regular file.

    Object stores list only objects: None for any URL that is not local.
    """
    if not is_local(url):
        return None
    path = url.removeprefix("file://")
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"cannot be opened: {exc.strerror.lower() if exc.strerror else exc}"
    if stat.S_ISREG(mode):
        return None
    return f"not a regular file: {_FILE_KINDS.get(stat.S_IFMT(mode), 'a special file')}"


def under_roots(url: str, roots: list[str]) -> bool:
    """Whether `url`, resolved (`..`, symlinks), lies under one of `roots` (already resolved); True without roots."""
    from lepton_flow.settings import resolve_location

    if not roots:
        return True
    target = resolve_location(url)
    return any(target == root or target.startswith(root.rstrip("/") + "/") for root in roots)


ANY_SOURCE = "a directory, a glob or a file that exists"


def source_problem(source: str, give: str = ANY_SOURCE, empty: str | None = None, empty_at: str | None = None) -> str | None:
    """Why a flow's `source` cannot be read at all, as one line naming it and what to do; None when it can.

    An empty source stands for `empty` (e.g. the demo data), found at
    `empty_at` when that is given (checked); with `empty` None an empty source
    is refused, naming what to `give`. Checked before any task runs (one
    look-up, not a listing), so that an input mistake ends the run with this
    line rather than a traceback. A glob that matches nothing is no mistake:
    there is nothing new.
    """
    from lepton_flow.settings import get_settings

    if not source.strip():
        if empty is None:
            return f"source: empty; give {give} (a path or fsspec URL)"
        if empty_at and not _exists(empty_at):
            return f"source: empty, which means {empty}, and there is none at {empty_at}; give a source"
        return None
    if any(ch in source for ch in "*?["):
        return None
    shown = redact(source)
    roots = get_settings().allowed_roots
    if not under_roots(source, roots):
        return f"source {shown}: outside the allowed source roots ({', '.join(roots)}); give a path under them, or set LEPTON_SOURCE_ROOTS"
    try:
        if _exists(source):
            return None
    except (OSError, ValueError, ImportError) as exc:
        return f"source {shown}: cannot be reached ({type(exc).__name__}: {redact(str(exc))}); check the address and the credentials"
    return f"source {shown}: no such file or directory; give {give}" + (f" (empty: {empty})" if empty else "")


def _exists(url: str) -> bool:
    fs, path = fsspec.core.url_to_fs(url)
    return fs.exists(path)


def list_candidates(source: str, supported) -> tuple[list[str], list[str]]:
    """(files under `source` to read, files left out: not a plain file, outside the allowed roots, of an unsupported type).

    A source outside `LEPTON_SOURCE_ROOTS` is refused whole, naming the
    roots; a file inside it that resolves outside (a symlink out) is left
    out and logged.
    """
    from lepton_flow.runtime import run_logger
    from lepton_flow.settings import get_settings

    roots = get_settings().allowed_roots
    if not under_roots(source, roots):
        raise SourceError(f"{source}: outside the allowed source roots ({', '.join(roots)}); LEPTON_SOURCE_ROOTS sets them")
    unsupported: list[str] = []
    candidates = []
    for url in list_source(source):
        if why := why_not_a_file(url):
            run_logger().warning("%s: %s; left out", redact(url), why)
            unsupported.append(f"{redact(url)} ({why})")
        elif not under_roots(url, roots):
            run_logger().warning("%s resolves outside the allowed source roots: left out", url)
            unsupported.append(url)
        elif not supported(url):
            unsupported.append(url)
        else:
            candidates.append(url)
    return candidates, unsupported


def discover(source: str, ingested: set[str], supported, identity=None) -> tuple[list[SourceFile], list[str], list[str]]:
    """New files under `source`, skipping those whose identity the store's ledger holds.

    `supported(url)` says whether a file is of a type to read (for sensor
    files `formats.is_supported`). `identity(url, sha256)` is what the ledger records for a file (default:
    its content hash). Returns (new files, urls of files already ingested or
    duplicated within this listing, urls of files of an unsupported type or
    outside the allowed source roots, as `list_candidates` leaves them out).
    Two files of one identity are ingested once.
    """
    new: list[SourceFile] = []
    known: list[str] = []
    seen = set(ingested)
    candidates, unsupported = list_candidates(source, supported)
    # hashlib lets go of the GIL while it hashes, and object stores answer
    # slowly: a few threads hash files side by side (in listing order).
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(4, max(1, len(candidates)))) as pool:
        hashes = list(pool.map(_digest, candidates))
    for url, (sha, size, first) in zip(candidates, hashes):
        key = identity(url, sha) if identity else sha
        if key in seen:
            known.append(url)
            continue
        seen.add(key)
        new.append(SourceFile(url=url, name=PurePosixPath(url).name, sha256=sha, size=size, identity=key, utf16=is_utf16(first)))
    return new, known, unsupported


def _find(names: list[str], candidates: tuple[str, ...]) -> str | None:
    """The column named as one of `candidates` (case and spaces aside); failing that, the one whose name is a candidate
    once a bracketed or parenthesised suffix and every sign but letters and digits are left out (`Date/Time`,
    `Timestamp (UTC)`, `Sensor ID`), the longest candidate first (`Date/Time` is a date-time, not a time)."""
    lowered = {n.strip().lower(): n for n in names}
    for cand in candidates:
        if cand in lowered:
            return lowered[cand]
    squeezed: dict[str, str] = {}
    for n in names:
        squeezed.setdefault(re.sub(r"[^a-z0-9]", "", re.sub(r"\s*[\[(][^\])]*[\])]\s*$", "", n.strip().lower())), n)
    for cand in sorted(candidates, key=len, reverse=True):
        if (key := re.sub(r"[^a-z0-9]", "", cand)) in squeezed:
            return squeezed[key]
    return None


_ZONE_WORD = re.compile(r"^(?:utc|gmt|local)[ _-]+|[ _-]+(?:utc|gmt|local)$", re.IGNORECASE)


def _find_zoned_time(names: list[str]) -> str | None:
    """A timestamp column whose name carries its zone as a word (`datetime_gmt`, `time_utc`, `UTC_Timestamp`)."""
    bare = {_ZONE_WORD.sub("", n.strip()): n for n in names if _ZONE_WORD.search(n.strip())}
    found = _find(list(bare), TIMESTAMP_NAMES)
    return bare[found] if found else None


DATE_NAMES = ("date", "day")
TIME_OF_DAY_NAMES = ("time", "time of day", "clock")
_TIME_OF_DAY = r"^\s*([01]?\d|2[0-4]):[0-5]\d(:[0-5]\d([.,]\d+)?)?\s*$"
_END_OF_DAY = r"^\s*24:00(:00([.,]0+)?)?\s*$"
_DATE_ORDER_IN_NAME = {"MM/DD/YYYY": "%m/%d/%Y", "DD/MM/YYYY": "%d/%m/%Y", "DD.MM.YYYY": "%d.%m.%Y", "MM-DD-YYYY": "%m-%d-%Y", "DD-MM-YYYY": "%d-%m-%Y"}


def date_and_time_columns(names: list[str]) -> tuple[str, str] | None:
    """A date column and a time-of-day column that may together make the timestamp (`Date`, `Time`; `Date
    (MM/DD/YYYY)`, `Time (HH:MM)`), when no column is named as a date and time in one."""
    if _find(names, tuple(n for n in TIMESTAMP_NAMES if n not in DATE_NAMES + TIME_OF_DAY_NAMES)) is not None:
        return None
    date, time = _find(names, DATE_NAMES), _find(names, TIME_OF_DAY_NAMES)
    return (date, time) if date and time and date != time else None


def _joined_date_and_time(raw: pa.Table, names: list[str]) -> tuple[pa.Table, str, np.ndarray, pa.Array] | None:
    """The table with its date and time-of-day columns joined into one column as written (`Date + Time`, what errors
    quote), its name, the rows whose time was 24:00 (the end of the day, as ISO 8601 and typical-year weather files write it: read as
    the next day's 00:00), and the text to parse. A date column whose name gives its layout (`Date (MM/DD/YYYY)`) is
    read in that order. None unless the time column's first value is a time of day alone."""
    pair = date_and_time_columns(names)
    if pair is None:
        return None
    date, time = (pc.utf8_trim_whitespace(raw.column(c).cast(pa.string())) for c in pair)
    held = time.filter(pc.invert(pc.is_null(time)))
    if len(held) == 0 or not pc.match_substring_regex(held[0], _TIME_OF_DAY).as_py():
        return None
    name = f"{pair[0]} + {pair[1]}"
    table = raw.drop_columns(list(pair)).append_column(name, pc.binary_join_element_wise(date, time, " "))  # as written
    told = _DATE_ORDER_IN_NAME.get(next((k for k in _DATE_ORDER_IN_NAME if k in pair[0].upper().replace(" ", "")), ""))
    if told:  # `Date (MM/DD/YYYY)`: the header tells the order the dates cannot (06/01 is June or January)
        parsed = pc.strptime(date, format=told, unit="s", error_is_null=True)
        date = pc.if_else(pc.is_null(parsed), date, pc.strftime(parsed, format="%Y-%m-%d"))
    end_of_day = pc.fill_null(pc.match_substring_regex(time, _END_OF_DAY), False)
    time = pc.if_else(end_of_day, pa.scalar("00:00"), time)
    return table, name, end_of_day.to_numpy(zero_copy_only=False), pc.binary_join_element_wise(date, time, " ")


FLAG_WORDS = ("source", "flag", "flags", "qc", "quality", "status")
_BRACKETED_SUFFIX = re.compile(r"\s*[\[(][^\])]*[\])]\s*$")


def flag_columns(names: list[str]) -> dict[str, list[str]]:
    """Columns of a wide table that flag other columns' values, with the columns each flags: a name ending in a flag
    word whose rest names other columns (`GHI source` flags `GHI (W/m^2)`; `Lprecip source` flags `Lprecip depth
    (mm)` and `Lprecip quantity (hr)`, as typical-year weather files write them). Their text is the readings'
    quality, not a metric; a flag-like name that names no other column stays a metric."""
    labels = {c: _name_and_unit(c)[0].strip().lower() for c in names}
    out: dict[str, list[str]] = {}
    for col, label in labels.items():
        words = label.split()
        if len(words) < 2 or words[-1] not in FLAG_WORDS:
            continue
        base = " ".join(words[:-1])
        targets = [c for c, other in labels.items() if c != col and (other == base or other.startswith(base + " ")) and other.split()[-1] not in FLAG_WORDS]
        if targets:
            out[col] = targets
    return out


_NOTES: contextvars.ContextVar[bool] = contextvars.ContextVar("lepton_source_notes", default=True)


@contextlib.contextmanager
def notes_off():
    """Read without logging notes about the file (its label columns): a look at a file's first lines to learn its
    spacing, before the run reads it and says them once."""
    token = _NOTES.set(False)
    try:
        yield
    finally:
        _NOTES.reset(token)


def label_columns(names: list[str]) -> set[str]:
    """The columns of a table with these names that hold labels, not numbers, as `to_canonical` finds them: the
    timestamp (or a date and a time-of-day column), sensor, unit and quality columns, and the metric column of a long
    table (one with a value column)."""
    found = {_find(names, TIMESTAMP_NAMES), _find(names, SENSOR_NAMES), _find(names, UNIT_NAMES), _find(names, QUALITY_NAMES)}
    found |= set(date_and_time_columns(names) or ())
    if _find(names, VALUE_NAMES):
        found.add(_find(names, METRIC_NAMES))
    else:
        found |= set(flag_columns(names))
    return found - {None}


ZONE_COLUMN_NAMES = ("tz_cd", "tz", "time_zone", "timezone", "zone")


def _zone_column(raw: pa.Table, names: list[str], ts_name: str) -> str | None:
    """A column that gives each row's time zone by its abbreviation (USGS's `tz_cd`: `EST`, `EDT`), beside a time column
    of text: its name is one of `ZONE_COLUMN_NAMES` and each cell a zone `parse_timestamps` knows (an offset in seconds,
    OpenWeatherMap's `timezone`, is not one)."""
    name = _find([n for n in names if n != ts_name], ZONE_COLUMN_NAMES)
    if name is None or not pa.types.is_string(raw.column(ts_name).type) and not pa.types.is_large_string(raw.column(ts_name).type):
        return None
    cells = {c.strip().upper() for c in raw.column(name).cast(pa.string()).to_pylist() if c and c.strip()}
    return name if cells and cells <= {*ZONE_ABBREVIATIONS, "UTC", "GMT"} else None


def _row_numbers(raw: pa.Table, name: str) -> bool:
    """Whether a wide file's column counts its rows (`ROW_NUMBER_NAMES`, every cell a whole number)."""
    if name.strip().lower() not in ROW_NUMBER_NAMES:
        return False
    text = pc.utf8_trim_whitespace(raw.column(name).cast(pa.string()))
    return bool(pc.all(pc.fill_null(pc.match_substring_regex(text, r"^\d+$"), False)).as_py())


def _normalise_metric(name: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")


EXCEL_DAYS = (25569.0, 73051.0)
"""Spreadsheet serial days (days since 1899-12-30) from 1970 to 2100: as epoch seconds they would all fall on 1 January 1970."""


def _epoch_unit(values: np.ndarray) -> str:
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0:
        return "s"
    if np.mean((finite >= EXCEL_DAYS[0]) & (finite <= EXCEL_DAYS[1])) >= 0.99:
        return "excel"
    mag = float(np.median(finite))
    if mag > 1e17:
        return "ns"
    if mag > 1e14:
        return "us"
    if mag > 1e11:
        return "ms"
    return "s"


def _localize(naive: pa.Array, tz: str) -> pa.Array:
    """Local times in `tz` as UTC: the repeated hour of a daylight-saving change reads as its first pass.

    A local time the change skips does not exist: the whole column goes to
    the per-value path, where that time alone becomes null (quarantined).
    """
    if tz == "UTC":
        return naive.cast(pa.timestamp("ns", tz="UTC"))
    return pc.assume_timezone(naive, tz, ambiguous="earliest", nonexistent="raise").cast(pa.timestamp("ns", tz="UTC"))


def _epoch(values: np.ndarray, options: ReadOptions) -> pa.Array:
    """Epoch numbers (unit from the options, or judged by magnitude for the whole file) as UTC nanoseconds; out of range: null.

    With the unit judged, a value a hundred times or more off the file's
    median is in another unit (seconds among milliseconds): null, not a
    reading at 1970-01-21.
    """
    unit = options.timestamp_unit if options.timestamp_unit != "auto" else _epoch_unit(values)
    if unit == "excel":  # local days, as a spreadsheet keeps its date-times: in the configured zone
        ns = np.round((values - EXCEL_DAYS[0]) * 86400) * 1e9  # to the second: a day's fraction is not exact in binary
        ok = np.isfinite(ns) & (values >= 1) & (values < 2958466)  # Excel's 1900-01-01 to 9999-12-31
        naive = pa.array(np.where(ok, ns, 0).astype("int64"), type=pa.int64(), mask=~ok).cast(pa.timestamp("ns"))
        try:
            return _localize(naive, options.timezone)
        except pa.ArrowInvalid:  # a local time a daylight-saving change skips: none of the column, as with text
            return pa.nulls(len(values), pa.timestamp("ns", tz="UTC"))
    ns = values * {"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1.0}[unit]
    ok = np.isfinite(ns) & (np.abs(ns) < 9.2e18)
    if options.timestamp_unit == "auto" and ok.any():
        typical = float(np.median(np.abs(values[ok])))
        if typical > 0:
            ok &= (np.abs(values) >= typical / 100) & (np.abs(values) <= typical * 100)
    out = np.where(ok, ns, 0).astype("int64")
    return pa.array(out, type=pa.int64(), mask=~ok).cast(pa.timestamp("ns", tz="UTC"))


def _why_not_a_time(text: str | None, tz: str) -> str:
    """Why one timestamp cell gave no time: the reason a quarantined row carries."""
    if text is None or not text.strip():
        return "missing"
    try:
        float(text)
        return f"{text.strip()!r} is an epoch number in another unit than the rest of the file's (seconds among milliseconds?)"
    except ValueError:
        pass
    if (m := _SLASHED.match(text.strip())) and int(m.group(1)) <= 12 and int(m.group(2)) <= 12:
        return f"{text!r}: the file's slash dates do not tell whether the day or the month comes first (none above 12); ISO 8601 (2026-03-01T10:00:00) does"
    try:
        t = pd.Timestamp(text.strip())
    except (ValueError, OverflowError):
        return f"{text!r} is not a date/time (read: {OTHER_LAYOUTS})"
    if t.tzinfo is None:
        try:
            t.tz_localize(tz, nonexistent="raise")
        except (ValueError, OverflowError):
            return f"{text!r} does not exist in {tz} (a daylight-saving change skips it)"
    if 1678 <= t.year <= 2261:
        return f"{text!r} is not in a layout read here ({OTHER_LAYOUTS})"
    return f"{text!r} is outside the years 1678-2261 a timestamp can hold"


def _in_ns_range(parsed: pd.Series) -> pd.Series:
    """Parsed times as nanoseconds; those a nanosecond timestamp cannot hold (before 1678, after 2261) become NaT."""
    if parsed.dt.unit != "ns":
        parsed = parsed.where((parsed.dt.year > 1677) & (parsed.dt.year < 2262)).dt.as_unit("ns")
    return parsed


def parse_timestamps(col: pa.ChunkedArray | pa.Array, options: ReadOptions) -> pa.Array:
    """Any timestamp column as UTC nanoseconds; unparseable values become null."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    typ = col.type
    if pa.types.is_timestamp(typ):
        try:
            if typ.tz is None:
                return _localize(col.cast(pa.timestamp("ns")), options.timezone)
            return col.cast(pa.timestamp("ns", tz="UTC"))
        except pa.ArrowInvalid:  # out of the nanosecond range, or skipped by a DST change: value by value below
            col = col.cast(pa.string())
    if pa.types.is_integer(typ) or pa.types.is_floating(typ):
        return _epoch(col.to_numpy(zero_copy_only=False).astype("float64"), options)
    strings = col.cast(pa.string())
    try:
        return pc.cast(strings, pa.timestamp("ns", tz="UTC"))
    except pa.ArrowInvalid:
        pass
    try:
        return _localize(pc.cast(strings, pa.timestamp("ns")), options.timezone)
    except pa.ArrowInvalid:
        pass
    # Mixed or irregular text: parse per value, offsets where given, the
    # configured zone elsewhere; what still fails becomes null.
    s = pd.Series(strings.to_numpy(zero_copy_only=False), dtype=object).astype("string").str.strip()
    numbers = pd.to_numeric(s, errors="coerce")
    if s.notna().any() and numbers[s.notna()].notna().all():
        # Epoch numbers read as text (a CSV's timestamp column is read as text).
        return _epoch(numbers.to_numpy("float64", na_value=np.nan), options)
    # `2024-12-05 10:00:05 UTC` (ThingSpeak, Adafruit IO), `... +0000 UTC` (OpenWeatherMap): the zone said in a word.
    s = s.str.replace(_UTC_WORD, "+00:00", regex=True)
    named = s.str.extract(_ZONE_NAME, expand=False)
    if named.notna().any():  # `05-Dec-24 10:00 AM EST` (building systems' trend exports): each zone's rows in that zone
        out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
        for zone, rows in s[named.notna()].groupby(named[named.notna()]).groups.items():
            hours = ZONE_ABBREVIATIONS[zone]
            within = options.model_copy(update={"timezone": f"Etc/GMT{-hours:+d}" if hours else "UTC"})
            got = parse_timestamps(pa.array(s[rows].str.replace(_ZONE_NAME, "", regex=True).tolist(), pa.string()), within)
            out[rows] = got.to_pandas().to_numpy()
        rest = named.isna()
        if rest.any():
            out[rest] = parse_timestamps(pa.array(s[rest].tolist(), pa.string()), options).to_pandas().to_numpy()
        return pa.array(out, type=pa.timestamp("ns", tz="UTC"))
    has_offset = s.str.contains(_HAS_OFFSET, na=False)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    if has_offset.any():
        out[has_offset] = _in_ns_range(pd.to_datetime(s[has_offset], format="ISO8601", utc=True, errors="coerce"))
    naive_mask = ~has_offset & s.notna()
    if naive_mask.any():
        parsed = _in_ns_range(pd.to_datetime(s[naive_mask], format="ISO8601", errors="coerce"))
        # The repeated hour of a daylight-saving change reads as its first
        # pass (ambiguous=True: daylight time); a skipped time gives NaT.
        ambiguous = np.ones(len(parsed), bool)
        out[naive_mask] = parsed.dt.tz_localize(options.timezone, ambiguous=ambiguous, nonexistent="NaT").dt.tz_convert("UTC")
    rest = s.notna() & out.isna()
    if rest.any():
        out[rest] = _other_layouts(s[rest], options.timezone)
    return pa.array(out, type=pa.timestamp("ns", tz="UTC"))


_UTC_WORD = r"(?<=\d)\s+(?:[+-]00:?00\s+)?(?:UTC|GMT)$"
ZONE_ABBREVIATIONS = {
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10,
    "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "WET": 0, "WEST": 1, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11,
}  # fmt: skip
"""Zone abbreviations a time may end with, in hours from UTC. `CST` is North America's (a Chinese export writing it
would be read 14 hours off); `IST` (India, Ireland, Israel) and `BST` mean too many things to be read."""
_ZONE_NAME = r"(?<=\d|M)\s+(" + "|".join(sorted(ZONE_ABBREVIATIONS, key=len, reverse=True)) + r")$"
_DOTTED = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}(?:[ T]|$)")  # 01.03.2026 10:00: day first (Germany, Russia, ...)
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/\d{4}(?:[ T]|$)")  # 03/01/2026: day or month first, as the file tells
_RFC2822 = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}")  # Sun, 01 Mar 2026 10:00:00 GMT
_TIMES = (" %H:%M:%S.%f", " %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p", "T%H:%M:%S", "")
# 19-Sep-03, 19 Sep 2003, 19-September-2003 (spreadsheets, Yahoo Finance); Sep 19, 2003 (US prose): the month's name says which is which.
_DAY_MONTH_NAMED = re.compile(r"^\d{1,2}[- ][A-Za-z]{3,9}\.?[- ]\d{2}(?:\d{2})?(?:[ T]|$)")
_MONTH_NAMED_DAY = re.compile(r"^[A-Za-z]{3,9}\.? \d{1,2},? \d{4}(?:[ T]|$)")
_DAY_MONTH_FORMATS = [f"%d{sep}{month}{sep}{year}" for sep in ("-", " ") for month in ("%b", "%B") for year in ("%Y", "%y")]
_MONTH_DAY_FORMATS = [f"{month} %d{comma} %Y" for month in ("%b", "%B") for comma in (",", "")]
OTHER_LAYOUTS = "ISO 8601, epoch numbers, dd.mm.yyyy, dd/mm/yyyy or mm/dd/yyyy (as the file's dates tell), dates with the month's name (19-Sep-2003), RFC 2822"


def _slash_order(values: pd.Series) -> str | None:
    """Which comes first in the slash dates `values`: "day" when a first field is over 12, "month" when a second one
    is; None when no value tells (or they contradict each other)."""
    fields = values.str.extract(_SLASHED).astype("float64")
    day_first, month_first = bool((fields[0] > 12).any()), bool((fields[1] > 12).any())
    if day_first == month_first:
        return None
    return "day" if day_first else "month"


def _other_layouts(s: pd.Series, tz: str) -> pd.Series:
    """Text times that are not ISO 8601 but say unambiguously what they mean, as UTC (the rest NaT): day-first dotted
    dates, slash dates whose order the values tell, dates with the month's English name (`19-Sep-03`, `Sep 19,
    2003`; two-digit years as C's strptime reads them: 69-99 the 1900s, 00-68 the 2000s), RFC 2822 dates (e-mail,
    HTTP). Without an offset, in `tz`."""
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")

    def local(mask: pd.Series, formats: list[str]) -> None:
        sub = s[mask]
        got = pd.Series(pd.NaT, index=sub.index, dtype="datetime64[ns]")
        for fmt in formats:
            todo = got.isna()
            if not todo.any():
                break
            got[todo] = pd.to_datetime(sub[todo], format=fmt, errors="coerce")
        got = _in_ns_range(got)
        out[mask] = got.dt.tz_localize(tz, ambiguous=np.ones(len(got), bool), nonexistent="NaT").dt.tz_convert("UTC")

    dotted = s.str.match(_DOTTED).fillna(False).astype(bool)
    if dotted.any():
        local(dotted, [f"%d.%m.%Y{t}" for t in _TIMES])
    slashed = s.str.match(_SLASHED).fillna(False).astype(bool)
    if slashed.any() and (order := _slash_order(s[slashed])):
        first, second = ("%d", "%m") if order == "day" else ("%m", "%d")
        local(slashed, [f"{first}/{second}/%Y{t}" for t in _TIMES])
    for pattern, formats in ((_DAY_MONTH_NAMED, _DAY_MONTH_FORMATS), (_MONTH_NAMED_DAY, _MONTH_DAY_FORMATS)):
        named = s.str.match(pattern).fillna(False).astype(bool)
        if named.any():
            local(named, [f"{date}{t}" for date in formats for t in _TIMES])
    rfc = s.str.match(_RFC2822).fillna(False).astype(bool)
    if rfc.any():
        from email.utils import parsedate_to_datetime

        def one(text: str):
            try:
                t = pd.Timestamp(parsedate_to_datetime(text))
            except (TypeError, ValueError, IndexError, OverflowError):
                return pd.NaT
            return t.tz_localize(tz) if t.tzinfo is None else t

        out[rfc] = _in_ns_range(pd.to_datetime(s[rfc].map(one), utc=True, errors="coerce"))
    return out


def _numbers(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values, mask of cells that held text that is not a number)."""
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_boolean(col.type) or pa.types.is_null(col.type):
        return col.cast(pa.float64()).to_numpy(zero_copy_only=False).astype("float64"), np.zeros(len(col), bool)
    text = pd.Series(col.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)
    values = pd.to_numeric(text, errors="coerce").to_numpy("float64", na_value=np.nan)
    stripped = text.where(text.isna(), text.astype(str).str.strip())
    bad = stripped.notna().to_numpy() & (stripped.to_numpy() != "") & np.isnan(values)
    bad &= ~stripped.astype(str).str.lower().isin(MISSING_TOKENS).to_numpy()
    return values, bad


_SUFFIXED = r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s.,;+-][^\d]*?)\s*$"  # 45.2%  23.5 °C  12 ms


def _unit_suffix(col: pa.ChunkedArray) -> tuple[pa.ChunkedArray, str | None]:
    """A text column whose cells are numbers with one unit written after them (`45.2%`, `23.5 °C`, as Grafana's
    "formatted data" export and some loggers write them) as its numbers and that unit, where the unit table knows the
    unit and at least half the cells have it; any other column as it is, with no unit. A cell without the unit stays
    as written (to be judged as a number, or quarantined)."""
    from lepton_flow.units import kind

    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return col, None
    text = pd.Series(col.to_numpy(zero_copy_only=False), dtype=object)
    filled = text[text.notna() & (text.astype(str).str.strip() != "")].astype(str)
    if filled.empty:
        return col, None
    parts = filled.str.extract(_SUFFIXED)
    units = parts[1].dropna().unique()
    if len(units) != 1 or 2 * int(parts[1].notna().sum()) < len(filled) or kind(units[0]) is None:
        return col, None
    numbers = pd.Series(text.astype(object), dtype=object)
    numbers.loc[parts.index[parts[1].notna()]] = parts[0][parts[1].notna()]
    return pa.chunked_array([pa.array(numbers.tolist(), pa.string())]), str(units[0])


def _code_values(values: np.ndarray) -> np.ndarray:
    """Which values are one of `MISSING_CODES`, wherever they lie."""
    with np.errstate(invalid="ignore"):
        codes = (values <= -999.0) | (values >= 9999.0)  # two passes over a column, where `isin` takes eleven
    if codes.any():
        codes[codes] = np.isin(values[codes], MISSING_CODES)
    return codes


def missing_codes(values: np.ndarray) -> np.ndarray:
    """Which of one column's (or metric's) values are missing-value codes (`MISSING_CODES`): each such number that lies
    beyond the range of the other values by more than half that range (or with no other value beside it). A -999 among
    readings from -2000 to 2000 stays a reading; -9900 among irradiances of 0 to 1,000 does not."""
    codes = _code_values(values)
    if not codes.any():
        return codes
    others = values[~codes & np.isfinite(values)]
    if not others.size:
        return codes
    lo, hi = float(others.min()), float(others.max())
    margin = max(0.5 * (hi - lo), 1.0)
    return codes & ((values < lo - margin) | (values > hi + margin))


def _constant(text: str, n: int) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([text], pa.string()))


def _string_col(table: pa.Table, name: str | None, n: int) -> pa.Array:
    if name is None:
        return pa.nulls(n, pa.string())
    return table.column(name).cast(pa.string()).combine_chunks()


def _cells(raw: pa.Table, column: str, mask: np.ndarray) -> list[tuple[int, str | None]]:
    """(row, text) of the masked cells of a column: only the few rows an error message needs."""
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return []
    return list(zip(rows.tolist(), raw.column(column).take(pa.array(rows)).cast(pa.string()).to_pylist()))


def _missing(raw: pa.Table, column: str, dropped: np.ndarray, lines: np.ndarray, errors: list[ParseError]) -> np.ndarray:
    """Rows whose `column` is null or blank (a JSON line without the key, `"metric": null`); each not yet dropped gets its error."""
    text = pc.utf8_trim_whitespace(raw.column(column).cast(pa.string()))
    missing = pc.fill_null(pc.equal(text, ""), True).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(missing & ~dropped):
        errors.append(ParseError(int(lines[i]), f"column {column}: missing", ""))
    return missing


MAX_METRICS = 256
"""Metrics one file may bring: each is a pair of variables in the store, and thousands of them (a 5,000-column wide CSV took
466 s and left 10,013 files) do not scale; such data belongs in the long layout under fewer metric names, or split."""


def _check_metric_count(url: str, columns: list[str], has_sensor_column: bool) -> None:
    metrics = set()
    for col in columns:
        label = _name_and_unit(col)[0]
        if "/" in label and not has_sensor_column:
            label = label.split("/", 1)[1]
        metrics.add(_normalise_metric(label))
    if len(metrics) > MAX_METRICS:
        raise SourceError(
            f"{url}: {len(metrics):,} metrics in one wide file, over the {MAX_METRICS} a store keeps as variables; "
            "split the file, or write it long (timestamp, sensor_id, metric, value) with sensors as sensor_id"
        )


def _flatten_nested(raw: pa.Table) -> pa.Table:
    """Struct, list and map columns as JSON text, so that a nested value is judged (and quarantined) like any other text."""
    import json

    for i, f in enumerate(raw.schema):
        if pa.types.is_nested(f.type):
            text = [None if v is None else json.dumps(v, default=str) for v in raw.column(i).to_pylist()]
            raw = raw.set_column(i, f.name, pa.array(text, pa.string()))
    return raw


def to_canonical(raw: pa.Table, lines: np.ndarray, url: str, options: ReadOptions) -> ParsedFile:
    """Map a raw table (long or wide layout) onto `READING_SCHEMA`.

    Long: `timestamp, sensor_id, metric, value[, unit, quality]`.
    Wide: `timestamp[, sensor_id]` plus one column per metric, named
    `metric`, `metric[unit]` or `sensor/metric[unit]`; melted on read.
    """
    raw = _flatten_nested(raw)
    end_of_day = to_parse = None
    joined = _joined_date_and_time(raw, raw.column_names)
    if joined is not None:
        raw, ts_name, end_of_day, to_parse = joined
    names = raw.column_names
    n = raw.num_rows
    errors: list[ParseError] = []
    if joined is None:
        ts_name = _find(names, TIMESTAMP_NAMES) or _find_zoned_time(names)
    if ts_name is None:
        raise SourceError(f"{url}: no timestamp column (looked for {', '.join(TIMESTAMP_NAMES)}; found {', '.join(names) or 'none'})")
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise SourceError(f"{url}: duplicate column names {dupes}")
    sensor_name = _find(names, SENSOR_NAMES)
    metric_name = _find(names, METRIC_NAMES)
    value_name = _find(names, VALUE_NAMES)
    unit_name = _find(names, UNIT_NAMES)
    quality_name = _find(names, QUALITY_NAMES)
    default_sensor = sensor_from_name(url, options)

    zone_name = _zone_column(raw, names, ts_name) if to_parse is None else None
    if zone_name:  # USGS's `tz_cd`: each row's zone beside its local time
        to_parse = pc.binary_join_element_wise(raw.column(ts_name).cast(pa.string()), pc.fill_null(raw.column(zone_name).cast(pa.string()), ""), " ")
    ts_type = raw.column(ts_name).type
    if pa.types.is_floating(ts_type) and ts_type.bit_width < 64:
        raise SourceError(
            f"{url}: column {ts_name} holds times as {ts_type.bit_width}-bit floats, which round epoch seconds of this century to 128 s "
            "(readings become duplicates); write them as integers, float64 or timestamps"
        )
    ts = parse_timestamps(raw.column(ts_name) if to_parse is None else to_parse, options)
    if end_of_day is not None and end_of_day.any():  # 24:00 is the next day's 00:00 (24 hours on; a DST day aside)
        unit = ts.type.unit if pa.types.is_timestamp(ts.type) else "ns"
        ts = pc.if_else(pa.array(end_of_day), pc.add(ts, pa.scalar(86_400 * {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit], pa.duration(unit))), ts)
    ts_bad = pc.and_(pc.is_null(ts), pc.invert(pc.is_null(raw.column(ts_name)))).to_numpy(zero_copy_only=False)
    ts_missing = pc.is_null(raw.column(ts_name)).to_numpy(zero_copy_only=False)
    drop = ts_bad | ts_missing
    for i, text in _cells(raw, ts_name, drop):
        what = "missing" if ts_missing[i] else _why_not_a_time(text, options.timezone)
        errors.append(ParseError(int(lines[i]), f"column {ts_name}: timestamp {what}", ""))

    sensor = _string_col(raw, sensor_name, n) if sensor_name else _constant(default_sensor, n)
    if sensor_name:
        drop = drop | _missing(raw, sensor_name, drop, lines, errors)
    parts: list[pa.Table] = []
    if metric_name and value_name:
        drop = drop | _missing(raw, metric_name, drop, lines, errors)
        values, bad = _numbers(raw.column(value_name))
        for i, text in _cells(raw, value_name, bad & ~drop):
            errors.append(ParseError(int(lines[i]), f"column {value_name}: {text!r} is not a number", ""))
        metric = pc.utf8_lower(pc.utf8_trim_whitespace(_string_col(raw, metric_name, n)))
        if _code_values(values).any():  # judged among its own metric's values; a row with no value fails `value_present`
            codes = pd.Series(values).groupby(pd.Series(metric.to_numpy(zero_copy_only=False)), sort=False).transform(lambda v: missing_codes(v.to_numpy()))
            values = np.where(codes.to_numpy(bool), np.nan, values)
        keep = ~(drop | bad)
        parts.append(
            pa.table(
                {
                    "timestamp": ts,
                    "sensor_id": sensor,
                    "metric": metric,
                    "value": pa.array(values, pa.float64()),
                    "unit": _string_col(raw, unit_name, n),
                    "quality": _string_col(raw, quality_name, n),
                    "line": pa.array(lines, pa.int64()),
                }
            )
            .cast(READING_SCHEMA)
            .filter(pa.array(keep))
        )
    else:
        skip = {ts_name, sensor_name, unit_name, quality_name, zone_name} - {None}
        value_cols = [c for c in names if c not in skip and not _row_numbers(raw, c)]
        flags = flag_columns(value_cols)
        value_cols = [c for c in value_cols if c not in flags]
        if not value_cols:
            raise SourceError(f"{url}: no value columns besides {', '.join(sorted(skip))}")
        _check_metric_count(url, value_cols, sensor_name is not None)
        bad_any = np.zeros(n, bool)
        pending: list[tuple[str, str | None, str, np.ndarray]] = []
        labels: list[str] = []
        for col in value_cols:
            column, suffix_unit = _unit_suffix(raw.column(col))
            values, bad = _numbers(column)
            if len(value_cols) > 1 and 2 * int(bad.sum()) > n and not np.isfinite(values).any():
                labels.append(col)  # text in most rows and a number in none: a label of the rows (a station's name), not readings
                continue
            for i, text in _cells(raw, col, bad & ~drop):
                errors.append(ParseError(int(lines[i]), f"column {col}: {text!r} is not a number", ""))
            bad_any |= bad
            values = np.where(missing_codes(values), np.nan, values)  # no reading, as an empty cell
            label, unit = _name_and_unit(col)
            unit = unit or suffix_unit
            col_sensor = None
            # `sensor/metric`: a slash in a bracketed suffix is a unit's (`ETR (W/m^2)`), not a sensor's.
            if "/" in _BRACKETED_SUFFIX.sub("", label) and not sensor_name:
                col_sensor, label = label.split("/", 1)
            pending.append((_normalise_metric(label), unit, col_sensor or "", values, col))
        if not pending:
            raise SourceError(f"{url}: no column holds a number: {', '.join(labels)} hold text in every row (labels of the rows, not readings)")
        if labels and _NOTES.get():
            from lepton_flow.runtime import run_logger

            run_logger().info("%s: column(s) %s hold text, not numbers, in every row: read as labels of the rows, not metrics", redact(url), ", ".join(labels))
        # A line with any unparseable cell is quarantined whole: keeping its
        # other cells would split one observation across outcomes. An empty
        # cell in a wide file is no reading (that sensor did not report).
        keep_line = ~(drop | bad_any)
        flag_of = {target: flag for flag, targets in flags.items() for target in targets}
        for metric, unit, col_sensor, values, col in pending:
            keep = keep_line & ~np.isnan(values)
            parts.append(
                pa.table(
                    {
                        "timestamp": ts,
                        "sensor_id": _constant(col_sensor, n) if col_sensor else sensor,
                        "metric": _constant(metric, n),
                        "value": pa.array(values, pa.float64()),
                        "unit": _constant(unit, n) if unit else _string_col(raw, unit_name, n),
                        "quality": _string_col(raw, quality_name or flag_of.get(col), n),
                        "line": pa.array(lines, pa.int64()),
                    }
                )
                .cast(READING_SCHEMA)
                .filter(pa.array(keep))
            )
    table = pa.concat_tables(parts) if parts else READING_SCHEMA.empty_table()
    table = _drop_isolated(table, errors)
    errors.sort(key=lambda e: e.line)
    return ParsedFile(table=table, errors=errors)


ISOLATION_DAYS = 365
"""A group of readings this far in time from the rest of its file, and small beside it, is a clock fault (a reset to 1970, a year typed wrong)."""
ISOLATED_SHARE = 0.05


def isolated(ns: np.ndarray, gap_days: float = ISOLATION_DAYS, share: float = ISOLATED_SHARE) -> np.ndarray:
    """Which times lie in small groups more than `gap_days` from the file's largest group: True for each such time.

    Times are cut into groups wherever consecutive times (sorted) lie more
    than `gap_days` apart; every group but the largest that holds under
    `share` of the times is isolated. A file that spans years evenly has no
    such gap and loses nothing.
    """
    n = len(ns)
    if n < 2:
        return np.zeros(n, bool)
    in_order = bool(np.all(ns[1:] >= ns[:-1]))  # most files are written in time order: no sort
    order = np.arange(n) if in_order else np.argsort(ns, kind="stable")
    cuts = np.diff(ns if in_order else ns[order]) > int(gap_days * 86400 * 1e9)
    if not cuts.any():
        return np.zeros(n, bool)
    group = np.concatenate([[0], np.cumsum(cuts)])
    sizes = np.bincount(group)
    small = (sizes < share * n) & (np.arange(len(sizes)) != np.argmax(sizes))
    out = np.zeros(n, bool)
    out[order] = small[group]
    return out


def _drop_isolated(table: pa.Table, errors: list[ParseError]) -> pa.Table:
    """Readings far in time from the rest of their file become errors (quarantined with the reason), the rest stay."""
    if table.num_rows < 2:
        return table
    ns = table.column("timestamp").cast(pa.int64()).to_numpy()
    far = isolated(ns)
    if not far.any():
        return table
    rest = ns[~far]
    span = f"{pd.Timestamp(rest.min(), tz='UTC').isoformat()} to {pd.Timestamp(rest.max(), tz='UTC').isoformat()}"
    lines = table.column("line").to_numpy()
    for i in np.flatnonzero(far):
        when = pd.Timestamp(int(ns[i]), tz="UTC").isoformat()
        errors.append(ParseError(int(lines[i]), f"timestamp {when} lies over {ISOLATION_DAYS} days from the rest of the file ({span}): a clock reset or a wrong date?", ""))
    return table.filter(pa.array(~far))


def parsed_file(raw: pa.Table, lines: np.ndarray, errors: list[ParseError], url: str, options: ReadOptions) -> ParsedFile:
    """A format's raw table, line numbers and parse errors as the canonical `ParsedFile` of `url`."""
    if raw.num_columns == 0 or raw.num_rows == 0:
        return ParsedFile(table=READING_SCHEMA.empty_table(), errors=errors)
    parsed = to_canonical(raw, lines, url, options)
    parsed.errors = sorted(errors + parsed.errors, key=lambda e: e.line)
    return parsed


PIECE_BYTES = 64 << 20
"""How much of a file is read at a time (text, before parsing): a piece of this size parses to about 1.5 M long readings."""


def remove_tree(url: str) -> None:
    """Remove a folder (a run's staging) at a path or fsspec URL, if it is there."""
    fs, path = fsspec.core.url_to_fs(url)
    if fs.exists(path):
        fs.rm(path, recursive=True)


STAGING_MAX_AGE_HOURS = 24


def sweep_staging(staging_dir: str, keep: str, max_age_hours: float = STAGING_MAX_AGE_HOURS) -> list[str]:
    """Remove run folders under `staging_dir` older than `max_age_hours` (a killed run's), never `keep`; returns what went.

    A run removes its own staging when it ends; one killed before that
    leaves it behind. Runs take minutes, so a folder untouched for a day
    belongs to no live run. Folders without a modification time (object
    storage prefixes) are left alone.
    """
    import time

    fs, base = fsspec.core.url_to_fs(staging_dir)
    keep_path = fsspec.core.url_to_fs(keep)[1].rstrip("/")
    try:
        entries = fs.ls(base, detail=True)
    except FileNotFoundError:
        return []
    cutoff, gone = time.time() - max_age_hours * 3600, []
    for entry in entries:
        name, mtime = entry["name"].rstrip("/"), entry.get("mtime")
        if entry.get("type") != "directory" or name == keep_path or not isinstance(mtime, (int, float)) or mtime > cutoff:
            continue
        try:
            fs.rm(name, recursive=True)
            gone.append(name)
        except OSError:  # another sweep got there first
            pass
    return gone
