"""CSV and TSV (optionally gzipped): header row, comma, tab, semicolon or bar separated, long or wide layout."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import tempfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from lepton_flow.formats import SensorFormat, register_format, whole
from lepton_flow.formats.lines import Span, line_pieces, long_line_errors
from lepton_flow.sources import BOM, CORRUPT, MAX_LINE_BYTES, PIECE_BYTES, ParseError, ReadOptions, SourceError, _name_and_unit, label_columns, screened_lines


DELIMITERS = (",", "\t", ";", "|")


def _header(url: str, first: bytes, number: int | None = 1) -> tuple[list[str], str]:
    """The header's column names and the file's delimiter (the most frequent of `DELIMITERS` in the header), from the header line (line `number`)."""
    first = first.removeprefix(BOM)
    where = f"line {number}" if number else "the header line"
    if b"\0" in first or len(first) > MAX_LINE_BYTES:
        raise SourceError(f"{url}: {where} is not a CSV header (binary content, or over {MAX_LINE_BYTES:,} bytes)")
    try:
        text = first.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{url}: {where} (the header) is not UTF-8 text (byte {exc.start}): a binary file, or another encoding") from exc
    delimiter = "\t" if ".tsv" in url.lower() or ".rdb" in url.lower() else max(DELIMITERS, key=text.count)
    return next(csv.reader([text], delimiter=delimiter), []), delimiter


PREAMBLE_LINES = 10
"""At most this many lines before the header are read as a preamble (`header_at`)."""
PREAMBLE_REASON = "before the header (line {header}): a preamble line, not a reading"


def _fields(text: str, delimiter: str) -> list[str]:
    return next(csv.reader([text], delimiter=delimiter), [])


_DATA_CELL = re.compile(r"^\s*[+-]?\.?\d")


def _is_data(text: str) -> bool:
    """Whether a cell reads as data, not a column name: it starts with a digit (a number, a date, a time)."""
    return _DATA_CELL.match(text) is not None


_VALUE_CELL = re.compile(r"^\s*(?:[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}.*|\d{1,2}:\d\d.*)\s*$")


def _is_value(text: str) -> bool:
    """Whether a cell is a number or a date or time, as a data row's are; a name that only begins with a digit
    (USGS's `69928_00060`, a series id and a parameter code) is not."""
    return _VALUE_CELL.match(text) is not None


_RDB_FORMAT = re.compile(r"^\d+[sdn]$")
"""A cell of a USGS RDB file's line after its header: each column's width and type (`5s`, `20d`, `14n`)."""


CONTINUED_LINES = 3
"""At most this many lines right after the header continue it (units, then e.g. a logger's processing line)."""
CONTINUED_REASON = "after the header (line {header}): a units or processing line, not a reading"


def header_at(first: list[bytes], tab: bool = False) -> tuple[int, int]:
    """Which of a CSV's first lines is its header, and how many lines right after it continue it: `(0, 0)` for most files.

    Data loggers and weather files often write a line or a few about the
    station or the logger first (a TMY3 file's station id, name and
    coordinates; a Campbell TOA5 file's `"TOA5",station,logger,...`;
    `# comment` lines, InfluxDB's annotations). Like CSV sniffers (DuckDB's, CleverCSV), the header
    is taken to be the first line whose field count the lines after it share:
    line 1 whenever it and most of the next 8 agree, else the first of the
    next `PREAMBLE_LINES` lines that does and has no field that reads as data
    (a data row is never taken for a header); where line 1 leaves fields
    empty, a later such line that names more of the columns is the header
    (line 1 was a title row a spreadsheet export padded with commas). Up to `CONTINUED_LINES` lines
    after the header with its field count and no field that reads as data,
    followed by one that has, continue it (a units line: TOA5's `"TS","RN",
    "Deg C","%"` and its processing line `"","","Avg","Smp"`). `tab`: the
    file is TSV.
    """
    complete = [line for line in first if line.endswith(b"\n")]  # a last line cut short says nothing
    if len(complete) < 3 or any(b"\0" in line for line in complete):
        return 0, 0
    try:
        lines = [line.removeprefix(BOM).decode("utf-8").rstrip("\r\n") for line in complete]
    except UnicodeDecodeError:
        return 0, 0

    def split(k: int, delimiter: str) -> list[str]:
        return _fields(lines[k], delimiter)

    def agreed(k: int, names: bool) -> bool:
        """Whether line `k` has the field count most of the (up to 8) lines after it have, under its delimiter (and,
        if `names`, no field of it reads as data)."""
        delimiter = "\t" if tab else max(DELIMITERS, key=lines[k].count)
        fields = split(k, delimiter)
        if names and any(_is_data(f) for f in fields):
            return False
        following = [len(_fields(text, delimiter)) for text in lines[k + 1 : k + 9] if text.strip()]
        return len(fields) > 1 and 2 * sum(c == len(fields) for c in following) > len(following) > 0

    def empty(k: int) -> int:
        return sum(not f.strip() for f in split(k, "\t" if tab else max(DELIMITERS, key=lines[k].count)))

    later = range(1, min(PREAMBLE_LINES, len(lines) - 2) + 1)
    if lines[0].startswith("#"):
        # Comments and annotations (InfluxDB's `#group`, `#datatype`, `#default` rows; a USGS RDB file's dozens of
        # notes) are never the header, though they may have its field count: the first line after them that agrees
        # with the lines after it and holds no number or date is.
        comments = next((k for k, text in enumerate(lines) if not text.startswith("#")), len(lines))
        after = range(comments, min(comments + PREAMBLE_LINES, len(lines) - 2) + 1)
        at = next((k for k in after if not lines[k].startswith("#") and agreed(k, names=False) and not any(_is_value(f) for f in split(k, "\t" if tab else max(DELIMITERS, key=lines[k].count)))), 0)
    elif agreed(0, names=False):
        # A title row a spreadsheet export padded to the sheet's width (`Pump 1 export,,,`) has line 1's field count
        # too: a line after it with no data that names more of the columns is the header.
        at = next((k for k in later if empty(0) and empty(k) < empty(0) and agreed(k, names=True)), 0)
    else:
        at = next((k for k in later if agreed(k, names=True)), 0)
    delimiter = "\t" if tab else max(DELIMITERS, key=lines[at].count)
    width = len(split(at, delimiter))
    more = 0
    while more < CONTINUED_LINES and at + more + 2 < len(lines):
        fields = split(at + more + 1, delimiter)
        if len(fields) != width or (any(_is_data(f) for f in fields) and not all(_RDB_FORMAT.match(f) for f in fields)):
            break
        more += 1
    if more and not any(_is_data(f) for f in split(at + more + 1, delimiter)):
        more = 0  # no data row after them: not a header's continuation
    return at, more


def with_units(header: list[str], units_line: bytes, delimiter: str) -> list[str]:
    """The header's names with a units line's units in brackets (`AirTC_Avg [Deg C]`), for value columns that name none."""
    cells = _fields(_text(units_line), delimiter)
    if cells and all(_RDB_FORMAT.match(c) for c in cells):  # an RDB file's widths and types, not units
        return header
    labels = label_columns(header)
    named = []
    for name, unit in zip(header, cells + [""] * (len(header) - len(cells))):
        unit = unit.strip()
        ok = unit and len(unit) <= 20 and "[" not in unit and "]" not in unit and name not in labels and _name_and_unit(name)[1] is None
        named.append(f"{name} [{unit}]" if ok else name)
    return named


def _text(line: bytes) -> str:
    return line.removeprefix(BOM).decode("utf-8", "replace").rstrip("\r\n")[:500]


def _screened(source, spool) -> tuple[list[int], list[ParseError]]:
    """Copy the lines of an open `source` into `spool`, leaving out blank lines, lines over `MAX_LINE_BYTES` and lines that are not UTF-8.

    Returns the line number (in `source`) of each line copied (header
    first) and the lines left out as `ParseError`s: the slow path, taken
    only when the fast one meets such a line.
    """
    copied: list[int] = []
    left_out: list[ParseError] = []
    for number, raw, bad in screened_lines(source, "CSV"):
        if bad is not None:
            left_out.append(bad)
            continue
        if not raw.strip():
            continue
        copied.append(number)
        spool.write(raw if raw.endswith(b"\n") else raw + b"\n")
    return copied, left_out


def _rewound(spool):
    spool.seek(0)
    return contextlib.nullcontext(spool)


def _has_long_line(text: bytes) -> bool:
    """Whether a line of `text` is over `MAX_LINE_BYTES` (the fast parser would take it; the rule is to quarantine it)."""
    if len(text) <= MAX_LINE_BYTES:
        return False
    # Any line over the limit holds a whole aligned stretch of half the limit without a line end: none such, none
    # over (a few hundred `find`s over a 64 MiB piece, where numbering every line end took 40 ms).
    half = MAX_LINE_BYTES // 2
    if all(text.find(b"\n", at, at + half) >= 0 for at in range(0, len(text) - half + 1, half)):
        return False
    ends = np.flatnonzero(np.frombuffer(text, np.uint8) == 10)
    bounds = np.concatenate([[-1], ends, [len(text) - 1]])
    return bool(np.diff(bounds).max() > MAX_LINE_BYTES)


def _blank_rows(table: pa.Table) -> pa.Table | None:
    """`table` without the rows blank lines made at its end, or None when a blank line lies between rows.

    The parser reads with `ignore_empty_lines` off, so a blank line is a row
    (null in typed columns, empty in text ones) and keeps its number: rows
    after a blank line would otherwise be numbered one line early. Blank
    lines are rare, so this asks first whether any column has no nulls at all
    (no row then is blank, and no row is looked at).
    """
    if table.num_rows == 0 or table.num_columns == 0:
        return table
    def text(column) -> bool:
        return pa.types.is_string(column.type) or pa.types.is_large_string(column.type)

    if any(column.null_count == 0 and not text(column) for column in table.columns):
        return table
    blank = None
    for column in table.columns:
        empty = pc.fill_null(pc.equal(column, ""), True) if text(column) else pc.is_null(column)
        blank = empty if blank is None else pc.and_(blank, empty)
        if not pc.any(blank).as_py():
            return table
    flags = np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool)
    kept = len(flags) - int(np.argmin(flags[::-1])) if not flags.all() else 0  # rows before the trailing blank ones
    return None if flags[:kept].any() else table.slice(0, kept)


def _parse(url: str, opener, header: list[str], delimiter: str, first_line: int, screen: bool = False) -> tuple[pa.Table, np.ndarray, list[ParseError]]:
    """Parse the CSV text `opener()` gives (its header on its line 1, its first data line being line `first_line` of the file).

    `screen` True takes the careful path at once (lines over the limit); it
    is taken after the fast one for text that is not UTF-8 or a blank line
    before more rows (lines quarantined or numbered one by one).

    Returns the table, each row's line number in the file, and the lines
    that did not parse (numbered in the file).
    """
    shift = first_line - 2  # text line n is file line n + shift (the header excepted)
    invalid: list[ParseError] = []
    physical: list[int] | None = None  # text line numbers of the rows parsed, when blank or bad lines were left out

    def on_invalid(row) -> str:
        number = int(row.number or 0)
        if physical is not None and 0 < number <= len(physical):
            number = physical[number - 1]
        invalid.append(ParseError(number + shift, f"expected {row.expected_columns} fields, found {row.actual_columns}", row.text[:500]))
        return "skip"

    text_cols = {h: pa.string() for h in label_columns(header)}
    read_opts = pv.ReadOptions(use_threads=False, block_size=8 << 20)
    parse_opts = pv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid, ignore_empty_lines=False)

    def parse(source_opener) -> pa.Table:
        def attempt(types: dict) -> pa.Table:
            invalid.clear()
            with source_opener() as source:
                return pv.read_csv(source, read_options=read_opts, parse_options=parse_opts, convert_options=pv.ConvertOptions(column_types=types))

        try:
            return attempt(text_cols)
        except pa.ArrowInvalid as exc:
            if "conversion error" not in str(exc):
                raise
            # A later block held text in a column the first block typed as
            # numbers: read every column as text and convert cell by cell.
            return attempt({h: pa.string() for h in header})

    left_out: list[ParseError] = []
    try:
        try:
            if screen:
                raise pa.ArrowInvalid("a line over the limit")
            table = parse(opener)
            if any(pa.types.is_binary(t) for t in table.schema.types):
                raise pa.ArrowInvalid("a column holds bytes that are not UTF-8")
            table = _blank_rows(table)
            if table is None:
                raise pa.ArrowInvalid("a blank line between rows")
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if "Empty CSV file" in str(exc):
                return pa.table({}), np.zeros(0, np.int64), []
            # A line over the block size, or not UTF-8: parse again with such
            # lines left out (and quarantined by number), the rest as usual.
            with tempfile.TemporaryFile() as spool, opener() as source:
                physical, left_out = _screened(source, spool)
                table = parse(lambda: _rewound(spool))
    except pa.ArrowInvalid as exc:
        raise SourceError(f"{url}: cannot be read as CSV: {exc}") from exc
    except CORRUPT as exc:
        raise SourceError(f"{url}: cannot be read as CSV (truncated or corrupt?): {exc}") from exc
    left_out = [ParseError(e.line + shift, e.reason, e.text) for e in left_out]
    errors = sorted(invalid + left_out, key=lambda e: e.line)
    skipped = {e.line for e in invalid}
    if physical is not None:
        lines = np.array([n + shift for n in physical[1:] if n + shift not in skipped], dtype=np.int64)
        if len(lines) == table.num_rows:
            return table, lines, errors
    # Line numbers of the rows kept: the data lines minus the skipped ones
    # (quoted fields spanning lines are rare in sensor feeds and not counted).
    total = table.num_rows + len(skipped)
    all_lines = np.arange(first_line, total + first_line, dtype=np.int64)
    lines = np.setdiff1d(all_lines, np.array(sorted(skipped), dtype=np.int64), assume_unique=True) if skipped else all_lines
    return table, lines, errors


_PDH = re.compile(r"^\(PDH-CSV [\d.]+\) \([^)]*\)\((?P<bias>-?\d+)\)$")
_COUNTER = re.compile(r"^\\\\(?P<host>[^\\]+)\\(?P<path>.+)$")


def _perfmon(table: pa.Table) -> pa.Table:
    r"""Windows Performance Monitor's CSV (`typeperf -f CSV`, `relog -f csv`, a data collector set's log) as a wide file.

    Its first column is named `(PDH-CSV 4.0) (Pacific Standard Time)(480)`: local times `01/15/2024 10:00:00.123`
    whose zone is the bias in minutes (UTC = local + bias), rewritten as ISO times with their offset (a cell that is
    no such time is left as written, to be quarantined with its reason); each counter column
    `\\HOST\Object(Instance)\Counter` becomes `HOST/Object(Instance) Counter` (the host the sensor, the rest the
    metric). Other tables as they are.
    """
    if not table.num_columns or not (m := _PDH.match(table.column_names[0])):
        return table
    offset = -int(m["bias"])
    zone = f"{'+' if offset >= 0 else '-'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    text = pd.Series(table.column(0).cast(pa.string()).to_pylist(), dtype=object)
    local = pd.to_datetime(text, format="%m/%d/%Y %H:%M:%S.%f", errors="coerce")
    iso = local.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").where(local.notna(), None) + zone
    times = pa.array(iso.where(local.notna(), text).tolist(), pa.string())
    names = ["timestamp"] + [(f"{c['host']}/{c['path'].replace(chr(92), ' ')}" if (c := _COUNTER.match(n)) else n) for n in table.column_names[1:]]
    return pa.table([times, *table.columns[1:]], names=names)


_HOBO_TIME = re.compile(r"^Date Time, GMT(?P<sign>[+-])(?P<h>\d\d):?(?P<m>\d\d)$")
_HOBO_SERIES = re.compile(r"^(?P<name>[^,]+), (?P<unit>[^,(]+?) \((?:LGR S/N: (?P<lgr>[^,)]+))?(?:, )?(?:SEN S/N: (?P<sen>[^,)]+))?(?:, )?(?:LBL: (?P<lbl>[^)]+))?\)$")
_HOBO_EVENT = re.compile(r"^[A-Za-z][A-Za-z ]*\((?:LGR|SEN) S/N: [^)]*\)$")
_HOBO_TIMES = ("%m/%d/%y %I:%M:%S %p", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%y %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%d/%m/%y %H:%M:%S", "%d/%m/%Y %H:%M:%S",
               "%d.%m.%y %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S")


def _hobo(table: pa.Table) -> pa.Table:
    """Onset HOBOware's CSV export (HOBO data loggers) as a wide file.

    Its columns: `#` (the row's number), `Date Time, GMT-05:00` (local times, `12/05/24 10:00:00 AM` by default, the
    zone in the name), a column per series, `Temp, °F (LGR S/N: 10234567, SEN S/N: 10234567)`, and a column per
    logger event (`Coupler Detached (LGR S/N: ...)`, `End Of File (...)`: `Logged` in the rows where it happened).
    The times are rewritten as ISO times with the name's offset (read in the first layout that reads them all; a
    cell no layout reads is left as written, to be quarantined with its reason); each series becomes
    `SERIAL/Name [unit]` (the sensor's serial, else the logger's, the sensor); the row number and the events, which
    are not readings, are left out. Other tables as they are.
    """
    if not table.num_columns or not (m := _HOBO_TIME.match(table.column_names[1] if table.num_columns > 1 and table.column_names[0] == "#" else table.column_names[0])):
        return table
    at = table.column_names.index(m.string)
    zone = f"{m['sign']}{m['h']}:{m['m']}"
    text = pd.Series(table.column(at).cast(pa.string()).to_pylist(), dtype=object).str.strip()
    present = text.notna() & (text != "")
    local = None
    for form in _HOBO_TIMES:
        local = pd.to_datetime(text, format=form, errors="coerce")
        if local[present].notna().all():
            break
    iso = local.dt.strftime("%Y-%m-%dT%H:%M:%S").where(local.notna(), None) + zone
    columns, names = [pa.array(iso.where(local.notna(), text).tolist(), pa.string())], ["timestamp"]
    for name, column in zip(table.column_names, table.columns):
        if name in ("#", m.string) or _HOBO_EVENT.match(name):
            continue
        if series := _HOBO_SERIES.match(name):
            serial = series["sen"] or series["lgr"]
            name = f"{serial.strip()}/{series['name'].strip()} [{series['unit'].strip()}]" if serial else f"{series['name'].strip()} [{series['unit'].strip()}]"
        columns.append(column)
        names.append(name)
    return pa.table(columns, names=names)


def read(url: str, options: ReadOptions) -> tuple[pa.Table, np.ndarray, list[ParseError]]:
    """The whole file: its pieces (`pieces`) put together."""
    return whole(pieces(url, options, PIECE_BYTES))


_DECIMAL_COMMA = r"^\s*[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+\s*$"  # 20,5  -3,25  1.234,5


def _decimal_commas(table: pa.Table, delimiter: str) -> pa.Table:
    """Numbers written with a decimal comma (`20,5`, `1.234,5`), as spreadsheets in much of Europe export them with `;`
    between fields, as numbers: in a file not separated by commas, every text column but the label columns
    (`label_columns`: timestamp, sensor, metric, unit, quality) has such cells rewritten (`20.5`, `1234.5`); the other
    cells stay as written (a `1.5` stays 1.5). A comma-separated file is left alone: there `"1,234"` may as well be a
    thousand."""
    if delimiter == "," or not table.num_rows:
        return table
    labels = label_columns(table.column_names)
    for i, field in enumerate(table.schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)) or field.name in labels:
            continue
        column = table.column(i)
        commas = pc.match_substring_regex(column, _DECIMAL_COMMA)
        if not pc.any(commas).as_py():
            continue
        rewritten = pc.replace_substring(pc.replace_substring(column, ".", ""), ",", ".")
        table = table.set_column(i, field, pc.if_else(commas, rewritten, column))
    return table


def pieces(url: str, options: ReadOptions, piece_bytes: int, span: Span | None = None):
    """The file read a piece of about `piece_bytes` at a time: `(table, lines, errors)` per piece, lines numbered in the file.

    Each piece is whole lines, parsed under the file's header, so one file
    of any size is held a piece at a time. A quoted field spanning lines
    that a cut falls inside is quarantined as the lines it breaks into.
    """
    long_lines: list[tuple[int, int]] = []
    header: list[str] | None = None
    named: list[str] | None = None
    before: list[bytes] = []
    after: list[bytes] = []
    tab = ".tsv" in url.lower() or ".rdb" in url.lower()
    try:
        for head, first_line, text in line_pieces(
            url, piece_bytes, header=True, long_lines=long_lines, span=span, find_header=lambda first: header_at(first, tab), preamble=before, continued=after
        ):
            if header is None:  # every piece comes with the same header
                header, delimiter = _header(url, head, None if span and span.start else len(before) + 1)
                named = with_units(header, after[0], delimiter) if after else header
            table, lines, errors = _parse(
                url, lambda: contextlib.closing(io.BytesIO(head + text)), header, delimiter, first_line,
                screen=_has_long_line(text),
            )
            if named != header and table.num_columns == len(named):
                table = table.rename_columns(named)
                # A Campbell TOA5 file's record number (unit `RN`) counts the logger's rows: not a reading.
                table = table.drop_columns([n for n in named if n.endswith(" [RN]")])
            table = _hobo(_perfmon(table))
            if (before or after) and not (span and span.start):  # lines of the head that are not the header, once
                at = len(before) + 1
                errors = [ParseError(n, PREAMBLE_REASON.format(header=at), _text(line)) for n, line in enumerate(before, 1)] + [
                    ParseError(at + n, CONTINUED_REASON.format(header=at), _text(line)) for n, line in enumerate(after, 1)
                ] + errors  # fmt: skip
                before.clear()
                after.clear()
            yield _decimal_commas(table, delimiter), lines, long_line_errors(errors, long_lines, "CSV")
    except CORRUPT as exc:
        raise SourceError(f"{url}: cannot be read as CSV (truncated or corrupt?): {exc}") from exc


def example(path: str) -> None:
    with open(path, "w") as fh:
        fh.write("timestamp,sensor_id,metric,value,unit\n2026-01-01T00:00:00Z,s1,temperature,20.5,C\n2026-01-01T00:00:30Z,s1,temperature,20.6,C\n")


FORMAT = register_format(SensorFormat("csv", (".csv", ".tsv", ".dat", ".rdb"), read, example, __doc__.splitlines()[0], pieces=pieces, tails=True))
