"""Sensor ingestion mechanics: ingest each file (read, validate, stage), clean, commit.

Each function takes and returns small references (URLs, counts, ids), never
the data itself, so that Prefect tasks wrapping them can be retried alone
and never pickle or hash a data frame. A file is read, validated and staged
in one pass, a bounded piece at a time, in memory; data then moves through
files under the run's staging prefix:

    staging/<run>/validation/<file>.json       GX result of that file (its pieces merged)
    staging/<run>/valid/w=<window>/<file>.<piece>.parquet  rows that passed, split by time window
    staging/<run>/cleaned.zarr                 the cleaned grid of the windows touched

and rejected rows through `quarantine/<dataset>/<date>/<file>.parquet`.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import defaultdict
from collections.abc import Callable

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from lepton_flow import cleaning, store, units
from lepton_flow.cleaning import FLAGGED, OBSERVED, CleanParams
from lepton_flow.formats.lines import Span
from lepton_flow.parallel import release_memory
from lepton_flow.route import REJECTED, FileOutcome, IngestRun
from lepton_flow.settings import Settings, get_settings, join
from lepton_flow.formats import is_supported, read_pieces, tails
from lepton_flow.sources import (
    MAX_METRICS,
    PIECE_BYTES,
    ReadOptions,
    SourceFile,
    discover,
    hash_file,
    notes_off,
    open_output,
    open_source,
    remove_tree,
    sensor_from_name,
    sensor_identity,
    settled,
)

NS = 1_000_000_000
DATASET = "sensor_readings"
DEFAULT_CHUNK_LEN = 4096
QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("file", pa.string()),
        pa.field("line", pa.int64()),
        pa.field("row", pa.int64()),
        pa.field("reason", pa.string()),
        pa.field("timestamp", pa.timestamp("ns", tz="UTC")),
        pa.field("sensor_id", pa.string()),
        pa.field("metric", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("unit", pa.string()),
        pa.field("raw", pa.string()),
    ]
)


STAGED_SCHEMA = pa.schema(
    [
        pa.field("ts", pa.int64()),
        pa.field("sensor_id", pa.dictionary(pa.int32(), pa.string())),
        pa.field("metric", pa.dictionary(pa.int32(), pa.string())),
        pa.field("value", pa.float64()),
        pa.field("line", pa.int64()),
    ]
)
STAGED_DICTIONARY = ["sensor_id", "metric"]
"""Staged columns written with Parquet's dictionary encoding: the few names. Times, values and line numbers are all
distinct: a dictionary tried on them first only costs time, writing and reading."""
STAGED_COMPRESSION = "lz4"
"""Staging is read once, by cleaning, soon after: LZ4 writes a million readings 15% faster than Snappy and reads them
back in half the time, at about the same size."""


class RunInfo(IngestRun):
    """A sensor ingest run: the route's run, with the store's grid, chunking and units, and where Data Docs go."""

    dataset: str = DATASET
    docs_dir: str
    grid_seconds: int = 30
    grid_from_readings: bool = False
    """A new store with no spacing asked for: discovery sets `grid_seconds` from the new files' readings (`grid_from_readings`)."""
    chunk_len: int = DEFAULT_CHUNK_LEN
    units: dict[str, str | None] = {}
    """The store's unit for each metric it holds, at `base_snapshot`: readings in other units are converted to it."""


class StagedRef(FileOutcome):
    """One file after `ingest_file`: its counts, its validation, and where its valid readings wait for cleaning."""

    file: SourceFile
    records: int
    """Records read: readings parsed plus lines that did not parse."""
    quarantined: int
    staged: int
    windows: list[int]
    pieces: list[list[int]] = []
    """For each of `windows`, the pieces of the file staged there (`valid/w=<window>/<key>.<piece>.parquet`)."""
    sensors: list[str]
    metrics: list[str]
    units: dict[str, str | None]
    min_bin: int | None = None
    max_bin: int | None = None
    readings: int = 0
    """Readings parsed (validation's denominator)."""
    parse_errors: int = 0
    failed: int = 0
    """Readings validation failed."""
    expectations: list[dict] = []
    result_url: str | None = None
    quarantine_urls: list[str] = []
    end: int | None = None
    """For a file that `tails`: the byte after the last line read (the next run reads from there)."""
    lines: int = 0
    """For a file that `tails`: the file's lines before `end`."""
    grow_key: str | None = None
    """For a file that `tails`: its ledger key by place (`grow_key`), whose record says where the next run reads from."""
    prefix: str | None = None
    """For a file that `tails`: the hash of its bytes before `end`."""

    @property
    def success_rate(self) -> float:
        return 1.0 if not self.readings else (self.readings - self.failed) / self.readings


class FileAccount(BaseModel):
    """Per file: records read = stored + quarantined + duplicates + outliers.

    `outliers` are readings stored with their value under a cleaning flag (outlier or stuck); `stored` the rest.
    """

    file: str
    sha256: str
    records: int = 0
    stored: int = 0
    quarantined: int = 0
    duplicates: int = 0
    outliers: int = 0
    status: str = "ok"
    message: str = ""

    @property
    def balanced(self) -> bool:
        return self.records == self.stored + self.quarantined + self.duplicates + self.outliers


class CleanResult(BaseModel):
    cleaned_url: str | None
    start_bin: int | None = None
    end_bin: int | None = None
    windows: list[int] = []
    sensors: list[str] = []
    metrics: list[str] = []
    accounts: dict[str, FileAccount] = {}
    quality: dict[str, dict[str, int]] = {}
    info: dict[str, int] = {}
    rejected: dict[str, str] = {}
    """Files the store cannot take (file key -> why): left out of the commit and the ledger, tried again next run."""


class IngestSummary(BaseModel):
    run_id: str
    snapshot_id: str | None
    store_url: str
    files: list[FileAccount]
    skipped: list[str] = []
    unsupported: list[str] = []
    quarantine_url: str = ""
    docs_url: str | None = None
    quality: dict[str, dict[str, int]] = {}
    info: dict[str, int] = {}

    def totals(self) -> dict[str, int]:
        keys = ("records", "stored", "quarantined", "duplicates", "outliers")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}


def _frees_memory(fn):
    """Per-file and per-window work returns its memory to the system when done (see `release_memory`)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            release_memory()

    return wrapper


def _write_parquet(table: pa.Table, url: str, **kwargs) -> None:
    with open_output(url) as fh:
        pq.write_table(table, fh, **kwargs)


def new_run(run_id: str, grid_seconds: int | None, settings: Settings | None = None, dataset: str = DATASET) -> RunInfo:
    """A run's staging and quarantine places, and the store snapshot it starts from.

    Its grid is the store's (a run asking for another fails in cleaning,
    naming both), else `grid_seconds`, else the readings' own spacing, which
    discovery finds (`grid_from_readings`; `DEFAULT_GRID_SECONDS` at least).
    """
    settings = settings or get_settings()
    current = store.state(settings.store)
    safe_id = re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)
    return RunInfo(
        run_id=run_id,
        dataset=dataset,
        staging_url=join(settings.staging_dir, safe_id),
        quarantine_url=join(settings.quarantine_dir, dataset),
        store_url=settings.store,
        docs_dir=join(settings.data_root, "gx"),
        base_snapshot=current.snapshot_id,
        grid_seconds=current.grid_seconds or grid_seconds or cleaning.DEFAULT_GRID_SECONDS,
        grid_from_readings=not (current.grid_seconds or grid_seconds),
        chunk_len=current.chunk_len or DEFAULT_CHUNK_LEN,
        threshold=settings.validation_threshold,
        units=current.units,
    )


class Discovery(BaseModel):
    new: list[SourceFile]
    already_ingested: list[str]
    unsupported: list[str]
    grid_seconds: int | None = None
    """For a run whose grid comes from its readings (`RunInfo.grid_from_readings`): the spacing chosen."""


GRID_CHOICES = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
"""The spacings a new store's grid is chosen from (`grid_from_readings`): the default and round multiples of it."""
SNIFF_FILES = 4
SNIFF_BYTES = 1 << 20


def grid_from_readings(urls: list[str], options: ReadOptions) -> int:
    """The grid for a new store whose spacing nobody asked for: the readings' own.

    The first MiB of up to `SNIFF_FILES` files is read; each series' (sensor,
    metric) median step between readings is taken, and the finest of them
    rounded down to one of `GRID_CHOICES` (1% of jitter allowed). So hourly
    weather or 5-minute server metrics get a grid of their spacing, not one 30
    s apart that is mostly empty and mostly gaps to flag; readings closer
    than 30 s are averaged onto the default 30 s grid as before. A file that
    cannot be read here is left to its own task to report.
    """
    steps: list[float] = []
    for url in sorted(urls)[:SNIFF_FILES]:
        try:
            with notes_off():  # said once, when the file is read
                piece = next(read_pieces(url, options, SNIFF_BYTES), None)
        except (OSError, ValueError):  # SourceError among them
            continue
        if piece is None or piece.readings < 2:
            continue
        frame = piece.table.select(["sensor_id", "metric"]).to_pandas()
        frame["ts"] = piece.table.column("timestamp").cast(pa.int64()).to_numpy(zero_copy_only=False)
        for _, ts in frame.groupby(["sensor_id", "metric"], sort=False, observed=True)["ts"]:
            diffs = np.diff(np.unique(ts.to_numpy()))
            if diffs.size:
                steps.append(float(np.median(diffs)) / 1e9)
    if not steps:
        return cleaning.DEFAULT_GRID_SECONDS
    finest = min(steps) * 1.01
    return max((g for g in GRID_CHOICES if g <= finest), default=cleaning.DEFAULT_GRID_SECONDS)


def grow_key(file: SourceFile, options: ReadOptions) -> str:
    """A line-oriented file's ledger key whatever its content: by where it is and the sensor its name gives. Its record says
    how far the last run read it (`offset`, `lines`) and the hash of the bytes before that (`prefix`)."""
    import hashlib

    return f"{store.ledger.PLACE}{hashlib.sha256(file.shown.encode()).hexdigest()[:32]}:{sensor_from_name(file.url, options)}"


def discover_files(source: str, run: RunInfo, options: ReadOptions) -> Discovery:
    """New sensor files under `source` (empty: the demo data): those whose identity the store's ledger at the run's snapshot lacks.

    A line-oriented file (CSV, JSON Lines, not compressed) is known by its place (`grow_key`): one an earlier run
    read is read on from where that run stopped when its bytes up to there are unchanged (it grew: a logger
    appending readings); changed anywhere before, it is read whole again, as new content. While a file is being
    written (modified within `log_settle_seconds`) a last line without a line end waits for a later run. Other
    files are known by content.
    """
    known = store.ledger.keys(run.store_url, run.base_snapshot, "sensors") if run.base_snapshot else set()
    new, seen, unsupported = discover(source or get_settings().demo_dir, known, is_supported, identity=lambda url, sha: sensor_identity(url, sha, options))
    growing = {grow_key(f, options): f for f in new if tails(f, options)}
    records = store.ledger.records(run.store_url, run.base_snapshot, "sensors", set(growing) & known) if run.base_snapshot else {}
    settle = get_settings().log_settle_seconds
    waiting = []
    for key, f in growing.items():
        f.final = settled(f.url, settle)
        r = records.get(key)
        if r is None:
            continue
        offset = int(r["offset"])
        if offset == f.size and r["prefix"] == f.sha256:
            waiting.append(f)  # read to its end by an earlier run and unchanged since
        elif 0 < offset <= f.size and hash_file(f.url, limit=offset)[0] == r["prefix"]:
            f.offset, f.line_base = offset, int(r["lines"])
            if not (f.final or _line_end_after(f.url, offset)):
                waiting.append(f)  # nothing past where the last run stopped but a line still being written
    new = [f for f in new if f not in waiting]
    grid = grid_from_readings([f.url for f in new], options) if run.grid_from_readings and new else None
    return Discovery(new=new, already_ingested=seen + [f.url for f in waiting], unsupported=unsupported, grid_seconds=grid)


def _line_end_after(url: str, offset: int, block: int = 1 << 16) -> bool:
    """Whether a file holds a line end past byte `offset` (a complete line to read)."""
    with open_source(url, offset) as fh:
        while data := fh.read(block):
            if b"\n" in data:
                return True
    return False


def quarantine_path(run: RunInfo, file: SourceFile, part: str) -> str:
    return join(run.quarantine_url, run.day, f"{file.key}.{part}.parquet" if not file.offset else f"{file.key}.{file.offset}.{part}.parquet")


def _quarantine_table(file: SourceFile, lines, reasons: list[str], raw: list[str] | None = None, rows: pa.Table | None = None, row_index=None) -> pa.Table:
    """Quarantine entries of one file: where each came from, why, and what it held."""
    n = len(reasons)

    def field(name: str, typ: pa.DataType):
        return rows.column(name).cast(typ) if rows is not None else pa.nulls(n, typ)

    return pa.table(
        {
            "file": [file.shown] * n,
            "line": pa.array(lines, pa.int64()),
            "row": pa.array(row_index, pa.int64()) if row_index is not None else pa.nulls(n, pa.int64()),
            "reason": pa.array(reasons, pa.string()),
            "timestamp": field("timestamp", pa.timestamp("ns", tz="UTC")),
            "sensor_id": field("sensor_id", pa.string()),
            "metric": field("metric", pa.string()),
            "value": field("value", pa.float64()),
            "unit": field("unit", pa.string()),
            "raw": pa.array(raw, pa.string()) if raw is not None else pa.nulls(n, pa.string()),
        },
        schema=QUARANTINE_SCHEMA,
    )


class _Quarantine:
    """One quarantine file written a piece at a time; it appears whole when `stack` closes (and not at all if it closes on an error)."""

    def __init__(self, url: str, stack: contextlib.ExitStack):
        self.url, self._stack, self._writer = url, stack, None

    def add(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        if self._writer is None:
            fh = self._stack.enter_context(open_output(self.url))
            self._writer = self._stack.enter_context(pq.ParquetWriter(fh, QUARANTINE_SCHEMA))
        self._writer.write_table(table)

    @property
    def written(self) -> str | None:
        return self.url if self._writer is not None else None


def _unit_pairs(metric: pd.Series, unit: pd.Series) -> list[tuple[str | None, str | None, Callable[[], np.ndarray]]]:
    """Each distinct (metric, unit) of a piece, with a function giving the mask of the rows that hold it (a missing unit as None).

    Works on the columns' category codes: a piece holds a million rows and a
    handful of pairs, and most pairs need nothing done, so the mask of a
    pair is computed only when its function is called.
    """
    metric, unit = metric.astype("category"), unit.astype("category")
    width = len(unit.cat.categories) + 1
    key = (metric.cat.codes.to_numpy().astype(np.int64) + 1) * width + unit.cat.codes.to_numpy().astype(np.int64) + 1
    pairs = []
    for k in np.flatnonzero(np.bincount(key)):
        m, u = divmod(int(k), width)
        pairs.append((metric.cat.categories[m - 1] if m else None, unit.cat.categories[u - 1] if u else None, lambda k=k: key == k))
    return pairs


def _unit_reasons(frame: pd.DataFrame, store_units: dict[str, str | None], reasons: np.ndarray) -> None:
    """Add a reason to each row whose unit cannot be stored as its metric's unit (km/h beside hPa, an unknown unit beside a known one)."""
    for metric, unit, rows in _unit_pairs(frame["metric"], frame["unit"]):
        if why := units.why_not(unit, units.stored_unit(store_units.get(metric), unit)):
            reason = f"unit_mismatch ({why})"
            rows = rows()
            current = reasons[rows]
            reasons[rows] = np.where(current == None, reason, current.astype(str) + "; " + reason)  # noqa: E711


def grid_bins(ts_ns: np.ndarray, grid_seconds: int) -> np.ndarray:
    """Grid point of each timestamp: the nearest multiple of the grid step since the epoch."""
    step = grid_seconds * NS
    return np.floor_divide(ts_ns + step // 2, step)


def _in_stored_units(table: pa.Table, store_units: dict[str, str | None]) -> tuple[pa.Table, dict[str, str | None]]:
    """Values converted to the unit each metric is stored in (validation quarantined those that cannot be), and those units."""
    if not table.num_rows:
        return table, {}
    values = table.column("value").to_numpy().copy()
    metric, unit = table.column("metric").to_pandas(), table.column("unit").to_pandas()
    stored: dict[str, str | None] = {}
    for m, u, rows in _unit_pairs(metric, unit):
        to = units.stored_unit(store_units.get(m), u)
        if to is not None or m not in stored:
            stored[m] = to
        if u is not None and to is not None and u.strip() != to.strip():
            rows = rows()
            values[rows] = units.convert(values[rows], u, to)
    return table.set_column(table.schema.get_field_index("value"), "value", pa.array(values, pa.float64())), stored


def staged_path(run: RunInfo, window: int, key: str, piece: int) -> str:
    return join(run.staging_url, "valid", f"w={window}", f"{key}.{piece}.parquet")


class _FileIngest:
    """What `ingest_file` gathers over a file's pieces: counts, validation, the windows each piece staged."""

    def __init__(self, file: SourceFile, run: RunInfo):
        self.file, self.run = file, run
        self.readings = self.parse_errors = self.failed = self.staged = 0
        self.expectations: list[dict] = []
        self.examples: dict[str, dict] = {}
        self.result_json: dict = {}
        self.window_pieces: dict[int, list[int]] = defaultdict(list)
        self.sensors: set[str] = set()
        self.metrics: set[str] = set()
        self.units: dict[str, str | None] = {}
        self.min_bin: int | None = None
        self.max_bin: int | None = None

    def validate(self, table: pa.Table, invalid: _Quarantine) -> np.ndarray:
        """Validate one piece (its rows numbered after the pieces before it); quarantine what fails; returns the mask of rows that passed."""
        from lepton_flow.validation import merge_results, validate_frame

        frame = table.to_pandas()
        outcome = validate_frame(frame.drop(columns=["line"]), self.run.dataset)
        _unit_reasons(frame, self.run.units, outcome.reasons)
        bad = np.flatnonzero(outcome.reasons != None)  # noqa: E711 (elementwise)
        if bad.size:
            rows = table.take(pa.array(bad))
            invalid.add(_quarantine_table(self.file, lines=rows.column("line").to_numpy(), reasons=outcome.reasons[bad].astype(str).tolist(), rows=rows, row_index=bad + self.readings))
        for e in outcome.expectations:
            if e["first_row"] is not None and e["expectation"] not in self.examples:
                row = frame.iloc[e["first_row"]]
                self.examples[e["expectation"]] = {k: row[k] for k in ("line", "sensor_id", "metric", "value", "unit", "timestamp")}
        if not self.expectations:
            self.expectations = [dict(e, first_row=None if e["first_row"] is None else e["first_row"] + self.readings) for e in outcome.expectations]
        else:
            for mine, e in zip(self.expectations, outcome.expectations):
                if mine["first_row"] is None and e["first_row"] is not None:
                    mine["first_row"] = e["first_row"] + self.readings
                mine["unexpected"] += e["unexpected"]
                mine["success"] = mine["success"] and e["success"]
        if outcome.result_json:
            self.result_json = merge_results(self.result_json, outcome.result_json) if self.result_json else outcome.result_json
        self.failed += int(bad.size)
        self.readings += table.num_rows
        keep = np.ones(table.num_rows, bool)
        keep[bad] = False
        return keep

    def stage(self, table: pa.Table, piece: int) -> None:
        """Write one piece's valid readings into staging, split by store time window, in the units the store keeps."""
        run = self.run
        table, piece_units = _in_stored_units(table, run.units)
        for m, u in piece_units.items():
            if u is not None or m not in self.units:
                self.units[m] = u
        if not table.num_rows:
            return
        ts = table.column("timestamp").cast(pa.int64()).to_numpy()
        bins = grid_bins(ts, run.grid_seconds)
        windows = np.floor_divide(bins, run.chunk_len)
        out = pa.table(
            {
                "ts": pa.array(ts, pa.int64()),
                "sensor_id": table.column("sensor_id"),
                "metric": table.column("metric"),
                "value": table.column("value"),
                "line": table.column("line"),
            }
        ).cast(STAGED_SCHEMA)
        if not np.all(ts[1:] >= ts[:-1]):  # most files are written in time order: then so are their windows
            order = np.lexsort((ts, windows))
            out, windows = out.take(pa.array(order)), windows[order]
        cuts = np.flatnonzero(np.diff(windows)) + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(windows)]):
            w = int(windows[lo])
            _write_parquet(out.slice(lo, hi - lo), staged_path(run, w, self.file.key, piece), row_group_size=65536, use_dictionary=STAGED_DICTIONARY, compression=STAGED_COMPRESSION)
            self.window_pieces[w].append(piece)
        self.staged += out.num_rows
        self.sensors |= set(table.column("sensor_id").unique().to_pylist())
        self.metrics |= set(table.column("metric").unique().to_pylist())
        lo_bin, hi_bin = int(bins.min()), int(bins.max())
        self.min_bin = lo_bin if self.min_bin is None else min(self.min_bin, lo_bin)
        self.max_bin = hi_bin if self.max_bin is None else max(self.max_bin, hi_bin)

    def unstage(self) -> None:
        fs = fsspec.core.url_to_fs(self.run.staging_url)[0]
        for w, pieces in self.window_pieces.items():
            for piece in pieces:
                fs.rm(fsspec.core.url_to_fs(staged_path(self.run, w, self.file.key, piece))[1])
        self.window_pieces.clear()

    def rejection(self, quarantine_url: str | None) -> StagedRef:
        worst = max(self.expectations, key=lambda e: e["unexpected"])
        example = self.examples.get(worst["expectation"], {})
        return StagedRef(
            file=self.file, status=REJECTED, staged=0, windows=[], sensors=[], metrics=[], units={},
            readings=self.readings, parse_errors=self.parse_errors, failed=self.failed, expectations=self.expectations,
            message=f"{self.file.shown}: only {self.success_rate:.1%} of {self.readings} readings passed "
            f"(threshold {self.run.threshold:.0%}); expectation {worst['expectation']} failed {worst['unexpected']} times, "
            f"e.g. line {int(example.get('line', 0))}: sensor_id={example.get('sensor_id')!r} metric={example.get('metric')!r} "
            f"value={example.get('value')!r} unit={example.get('unit')!r} timestamp={example.get('timestamp')}. "
            f"Nothing from this file was stored; failing readings are in {quarantine_url}",
            records=self.readings + self.parse_errors,
            quarantined=self.parse_errors + self.failed,
        )

    @property
    def success_rate(self) -> float:
        return 1.0 if not self.readings else (self.readings - self.failed) / self.readings


@_frees_memory
def ingest_file(file: SourceFile, run: RunInfo, options: ReadOptions, piece_bytes: int = PIECE_BYTES) -> StagedRef:
    """Read, validate and stage one source file, a bounded piece at a time, in memory.

    Lines that do not parse and readings that fail validation are
    quarantined with their line and reason; the valid readings are staged
    as Parquet split by store time window (in the store's units). Memory
    follows the piece size, not the file's. A file whose share of valid
    readings is under the run's threshold comes back REJECTED, its message
    naming the file, the expectation and an example row, and none of it
    stays staged.
    A file that cannot be read at all raises `SourceError` naming it.
    """
    acc = _FileIngest(file, run)
    span = Span(start=file.offset, line_base=file.line_base, final=file.final) if tails(file, options) else None
    with contextlib.ExitStack() as stack:
        parse_q = _Quarantine(quarantine_path(run, file, "parse"), stack)
        invalid_q = _Quarantine(quarantine_path(run, file, "invalid"), stack)
        for piece, parsed in enumerate(read_pieces(file.url, options, piece_bytes, span)):
            if parsed.errors:
                acc.parse_errors += len(parsed.errors)
                parse_q.add(
                    _quarantine_table(file, lines=[e.line for e in parsed.errors], reasons=[f"parse_error: {e.reason}" for e in parsed.errors], raw=[e.text for e in parsed.errors])
                )
            if parsed.table.num_rows:
                keep = acc.validate(parsed.table, invalid_q)
                acc.stage(parsed.table.filter(pa.array(keep)), piece)
            del parsed
    if acc.readings and acc.success_rate < run.threshold:
        acc.unstage()
        return acc.rejection(invalid_q.written)
    result_url = None
    if acc.result_json:
        result_url = join(run.staging_url, "validation", f"{file.key}.json")
        with open_output(result_url, "w") as fh:
            json.dump(acc.result_json, fh, default=str)
    windows = sorted(acc.window_pieces)
    return StagedRef(
        file=file,
        records=acc.readings + acc.parse_errors,
        quarantined=acc.parse_errors + acc.failed,
        staged=acc.staged,
        windows=windows,
        pieces=[acc.window_pieces[w] for w in windows],
        sensors=sorted(acc.sensors),
        metrics=sorted(acc.metrics),
        units=acc.units,
        min_bin=acc.min_bin,
        max_bin=acc.max_bin,
        readings=acc.readings,
        parse_errors=acc.parse_errors,
        failed=acc.failed,
        expectations=acc.expectations,
        result_url=result_url,
        quarantine_urls=[u for u in (parse_q.written, invalid_q.written) if u],
        end=span.end if span else None,
        lines=span.lines if span else 0,
        grow_key=grow_key(file, options) if span else None,
        prefix=None if span is None else file.sha256 if span.end == file.size else hash_file(file.url, limit=span.end)[0],
    )


class WindowJob(BaseModel):
    """Everything a window worker needs; small enough to send to every worker."""

    run: RunInfo
    cleaned_url: str
    files: list[str]
    file_pieces: list[dict[int, list[int]]]
    """For each file, the pieces it staged in each window."""
    store_exists: bool
    store_start: int | None
    store_length: int
    start_bin: int
    end_bin: int
    sensors: list[str]
    metrics: list[str]
    staged_windows: list[int]
    steps: list[str]
    params: CleanParams


def _window_rows(job: WindowJob, window: int, lo: int, hi: int) -> pd.DataFrame:
    """Staged rows of `window`'s partitions whose grid bin lies in [lo, hi), with their file's index."""
    step = job.run.grid_seconds * NS
    t_lo, t_hi = lo * step - step // 2, hi * step - step // 2
    fs = fsspec.core.url_to_fs(job.run.staging_url)[0]
    parts = []
    for idx, key in enumerate(job.files):
        # Staging recorded which pieces of each file went to which window: no
        # listing or probing of the staging folder (a request per file and
        # window on object storage).
        for piece in job.file_pieces[idx].get(window, ()):
            path = fsspec.core.url_to_fs(staged_path(job.run, window, key, piece))[1]
            part = pq.read_table(path, filesystem=fs, filters=[("ts", ">=", t_lo), ("ts", "<", t_hi)])
            parts.append(part.append_column("file", pa.array(np.full(part.num_rows, idx, np.int32))))
    if not parts:
        return STAGED_SCHEMA.append(pa.field("file", pa.int32())).empty_table().to_pandas()
    # One conversion for all files: Arrow unifies their dictionaries into one categorical.
    return pa.concat_tables(parts).to_pandas()


def _codes(column: pd.Series, names: list[str]) -> np.ndarray:
    """Index of each row's label in `names` (-1 if absent), via the column's few categories."""
    column = column.astype("category")
    lookup = pd.Index(names).get_indexer(column.cat.categories)
    codes = column.cat.codes.to_numpy()
    return np.where(codes >= 0, lookup[codes], -1) if len(lookup) else np.full(len(column), -1)


@_frees_memory
def clean_window(window: int, job: WindowJob) -> dict:
    """Clean one time window and write it into the run's cleaned grid.

    Reads the window's staged rows plus a halo of neighbouring bins, runs
    the row steps, puts the rows on the grid, merges them with what the store
    holds there (a bin the store already observed keeps its value: the new
    readings for it count as duplicates), runs the grid steps, and writes the
    window's own bins. Returns per-file counts for the accounting.
    """
    rows_steps, grid_steps = cleaning.plan(job.steps)
    params = job.params
    halo = cleaning.halo(job.steps, params)
    options = {step.name: params.of(step) for step in (*rows_steps, *grid_steps)}  # each step's settings, once
    W = job.run.chunk_len
    lo, hi = window * W, min((window + 1) * W, job.end_bin + 1)
    lo = max(lo, job.start_bin)
    vlo, vhi = max(lo - halo, job.start_bin), min(hi + halo, job.end_bin + 1)
    n_files, n_sensors = len(job.files), len(job.sensors)
    counts = {k: np.zeros(n_files, np.int64) for k in ("duplicates", "outliers", "stored")}
    info: dict[str, int] = defaultdict(int)

    inner = _window_rows(job, window, lo, hi)
    outer = [_window_rows(job, w, vlo, vhi) for w in (window - 1, window + 1) if w in set(job.staged_windows)]
    outer_rows = pd.concat(outer, ignore_index=True) if outer else inner.iloc[0:0]
    for step in rows_steps:
        inner, removed, step_info = step.apply(inner, options[step.name])
        np.add.at(counts[step.outcome], removed["file"].to_numpy(), 1)
        for k, v in step_info.items():
            info[k] += v
        if len(outer_rows):
            outer_rows, _, _ = step.apply(outer_rows, options[step.name])
    n_inner = len(inner)
    # The window's rows first, then the halo's; the two frames may hold
    # different categories, so each is coded on its own.
    parts = (inner, outer_rows)
    sensor_idx = np.concatenate([_codes(p["sensor_id"], job.sensors) for p in parts]).astype(np.int64)
    metric_codes = np.concatenate([_codes(p["metric"], job.metrics) for p in parts])
    ts = np.concatenate([p["ts"].to_numpy(np.int64) for p in parts])
    row_values = np.concatenate([p["value"].to_numpy(np.float64) for p in parts])
    bins = grid_bins(ts, job.run.grid_seconds) - vlo
    view = vhi - vlo
    stored = {}
    held_at = 0  # where the store's rows begin in this view (later than its start for a view reaching before the store)
    if job.store_exists and vlo <= job.store_start + job.store_length - 1 and vhi > job.store_start:
        held_at = max(vlo, job.store_start) - vlo
        s_lo = vlo + held_at - job.store_start
        s_hi = min(vhi, job.store_start + job.store_length) - job.store_start
        stored = store.read_block(job.run.store_url, job.run.base_snapshot, s_lo, s_hi, job.metrics)

    block = store.CleanedBlock.open(job.cleaned_url)
    quality_hist: dict[str, dict[str, int]] = {}
    outcome = np.zeros(len(ts), np.int8)  # 0 stored, 1 outlier, 2 already stored
    # A neighbour of the windows that got readings is cleaned again for what they change at its edge (a gap filled,
    # a run broken); where nothing changed it is not written, so the snapshot does not say it changed (scoring
    # restarts at the first chunk that did).
    context = window not in set(job.staged_windows)
    results: list[tuple[str, np.ndarray, np.ndarray]] = []
    changed = not context
    for m_idx, metric in enumerate(job.metrics):
        sel = np.flatnonzero(metric_codes == m_idx)
        flat = bins[sel] * n_sensors + sensor_idx[sel]
        sums = np.bincount(flat, weights=row_values[sel], minlength=view * n_sensors).reshape(view, n_sensors)
        cnt = np.bincount(flat, minlength=view * n_sensors).reshape(view, n_sensors)
        fresh = cnt > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            # Rounded to the store's float32 now, so that a later run which
            # reads these bins back computes exactly what this one did.
            values = np.where(fresh, sums / np.maximum(cnt, 1), np.nan).astype("float32").astype("float64")
        quality = np.where(fresh, OBSERVED, cleaning.MISSING).astype(np.uint8)
        prior_gap = np.zeros((view, n_sensors), bool)
        if metric in stored:
            old_v, old_q = stored[metric]
            rows_held = old_v.shape[0]
            pad_v = np.full((view, n_sensors), np.nan)
            pad_q = np.zeros((view, n_sensors), np.uint8)
            pad_v[held_at : held_at + rows_held, : old_v.shape[1]] = old_v
            pad_q[held_at : held_at + rows_held, : old_q.shape[1]] = old_q
            held = pad_q == OBSERVED
            already = fresh & held
            kept_flags = np.isin(pad_q, FLAGGED) & ~fresh  # judged before, with their values: kept as they are
            values = np.where(held | kept_flags, pad_v, values)
            quality = np.where(held, OBSERVED, np.where(kept_flags, pad_q, quality)).astype(np.uint8)
            fresh = fresh & ~held
            hit = already[bins[sel], sensor_idx[sel]]
            outcome[sel[hit]] = 2
            prior_gap = pad_q == cleaning.GAP
        for step in grid_steps:
            values, quality = step.apply(values, quality, fresh, options[step.name])
        # A long gap reaching past this view cannot be seen whole from here:
        # what the store called a gap stays one unless new readings filled it.
        quality = np.where(prior_gap & (quality == cleaning.MISSING), cleaning.GAP, quality).astype(np.uint8)
        flagged = np.isin(quality[bins[sel], sensor_idx[sel]], FLAGGED) & (outcome[sel] == 0)
        outcome[sel[flagged]] = 1
        a, b = lo - vlo, hi - vlo
        if not changed:
            held_v, held_q = (pad_v[a:b], pad_q[a:b]) if metric in stored and old_v.shape[1] == n_sensors else (None, None)
            changed = held_v is None or not (np.array_equal(values[a:b], held_v, equal_nan=True) and np.array_equal(quality[a:b], held_q))
        results.append((metric, values[a:b], quality[a:b]))
        codes, freq = np.unique(quality[a:b], return_counts=True)
        quality_hist[metric] = {cleaning.QUALITY_MEANINGS[int(c)]: int(f) for c, f in zip(codes, freq)}
    if changed:
        for metric, v, q in results:
            block.write(metric, lo - job.start_bin, v, q)

    files_inner = inner["file"].to_numpy()
    inner_outcome = outcome[:n_inner]
    np.add.at(counts["stored"], files_inner[inner_outcome == 0], 1)
    np.add.at(counts["outliers"], files_inner[inner_outcome == 1], 1)
    np.add.at(counts["duplicates"], files_inner[inner_outcome == 2], 1)
    info["already_stored"] += int(np.count_nonzero(inner_outcome == 2))
    return {"window": window, "written": changed, "counts": {k: v.tolist() for k, v in counts.items()}, "quality": quality_hist, "info": dict(info)}


def clean_staged(staged: list[StagedRef], run: RunInfo, steps: list[str], params: CleanParams) -> CleanResult:
    """Clean every time window the staged files touch, in parallel, into one Zarr grid.

    The grid covers the touched windows and their neighbours inside the store
    (so gaps and outliers at window edges see both sides); its attributes say
    where in the store it belongs. Returns per-file accounting.
    """
    from lepton_flow.parallel import map_parallel

    cleaning.plan(steps)
    halo = cleaning.halo(steps, params)
    W = run.chunk_len
    if halo >= W:
        raise ValueError(f"the cleaning steps look {halo} bins around each reading; that must stay under the chunk length {W}")
    current = store.state(run.store_url, run.base_snapshot) if run.base_snapshot else store.GridState(url=run.store_url)
    if current.exists and params.grid_seconds is not None and current.grid_seconds != params.grid_seconds:
        raise store.StoreError(
            f"the store at {run.store_url} holds a {current.grid_seconds} s grid; this run asked for {params.grid_seconds} s"
        )
    accounts = {
        s.file.key: FileAccount(
            file=s.file.shown, sha256=s.file.sha256, records=s.records, quarantined=s.quarantined, status="empty" if s.records == 0 else "ok"
        )
        for s in staged
    }
    with_rows = [s for s in staged if s.staged]
    if not with_rows:
        return CleanResult(cleaned_url=None, accounts=accounts)

    rejected = {}
    # Each metric is a pair of variables in the store: past MAX_METRICS, files bringing more are turned away.
    held = set(current.metrics)
    for s in with_rows:
        more = set(s.metrics) - held
        if s.file.key not in rejected and len(held) + len(more) > MAX_METRICS:
            rejected[s.file.key] = f"{s.file.shown}: its {len(more)} new metric(s) would take the store past {MAX_METRICS} metrics; write them long under fewer metric names"
            accounts[s.file.key].status, accounts[s.file.key].message = "rejected", rejected[s.file.key]
        elif s.file.key not in rejected:
            held |= more
    with_rows = [s for s in with_rows if s.file.key not in rejected]
    staged = [s for s in staged if s.file.key not in rejected]
    if not with_rows:
        return CleanResult(cleaned_url=None, accounts=accounts, rejected=rejected)

    staged_windows = sorted({w for s in with_rows for w in s.windows})
    new_sensors = sorted({x for s in with_rows for x in s.sensors} - set(current.sensors))
    new_metrics = sorted({x for s in with_rows for x in s.metrics} - set(current.metrics))
    sensors, metrics = current.sensors + new_sensors, current.metrics + new_metrics
    # Readings before the store's first time (backfill) widen it there: the commit makes room without moving data.
    store_start = min(current.start_bin, staged_windows[0] * W) if current.exists else staged_windows[0] * W
    end_bin = max([s.max_bin for s in with_rows] + ([current.end_bin] if current.exists else []))
    last_window = end_bin // W
    windows = sorted({x for w in staged_windows for x in (w - 1, w, w + 1) if store_start // W <= x <= last_window})
    if not current.exists:
        windows = staged_windows
    start_bin = max(windows[0] * W, store_start)
    cleaned_url = join(run.staging_url, "cleaned.zarr")
    metric_units = dict(current.units)
    for s in with_rows:
        for m, u in s.units.items():
            if metric_units.get(m) is None:
                metric_units[m] = u
    store.CleanedBlock.create(
        cleaned_url, grid_seconds=run.grid_seconds, chunk_len=W, start_bin=start_bin, end_bin=end_bin, windows=windows, sensors=sensors, metrics=metrics, units=metric_units
    )
    job = WindowJob(
        run=run,
        cleaned_url=cleaned_url,
        files=[s.file.key for s in staged],
        file_pieces=[dict(zip(s.windows, s.pieces)) for s in staged],
        store_exists=current.exists,
        store_start=current.start_bin,
        store_length=current.length,
        start_bin=start_bin,
        end_bin=end_bin,
        sensors=sensors,
        metrics=metrics,
        staged_windows=staged_windows,
        steps=steps,
        params=params,
    )
    results = map_parallel(clean_window, windows, job)
    written = sorted(res["window"] for res in results if res["written"])
    if written != windows:  # neighbours cleaned to no change: the commit leaves them as the store holds them
        store.CleanedBlock.open(cleaned_url).set_windows(written)
        windows = written
    quality: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    info: dict[str, int] = defaultdict(int)
    keys = [s.file.key for s in staged]
    for res in results:
        for kind, per_file in res["counts"].items():
            for key, n in zip(keys, per_file):
                setattr(accounts[key], kind, getattr(accounts[key], kind) + n)
        for metric, hist in res["quality"].items() if res["written"] else ():  # the quality codes of the bins committed
            for label, n in hist.items():
                quality[metric][label] += n
        for k, v in res["info"].items():
            info[k] += v
    return CleanResult(
        cleaned_url=cleaned_url,
        start_bin=start_bin,
        end_bin=end_bin,
        windows=windows,
        sensors=sensors,
        metrics=metrics,
        accounts=accounts,
        quality={m: dict(h) for m, h in quality.items()},
        info=dict(info),
        rejected=rejected,
    )


def commit(cleaned: CleanResult, run: RunInfo, staged: list[StagedRef]) -> str | None:
    """Commit the cleaned grid and the files' hashes to the store in one transaction."""
    from lepton_flow.parallel import dask_client

    staged = [s for s in staged if s.file.key not in cleaned.rejected]
    message = store.bounded_message(f"sensor_ingest run {run.run_id}: {len(staged)} file(s)", [s.file.name for s in staged])
    ingested = {}
    for s in staged:
        entry = {"file": s.file.shown, "sha256": s.file.sha256, "run": run.run_id, "at": run.started}
        if s.grow_key:  # a file that may grow: by its place, with where the next run reads from
            ingested[s.grow_key] = {**entry, "offset": s.end, "lines": s.lines, "prefix": s.prefix}
        else:
            ingested[s.file.identity] = entry
    # Counts, not lists: the files and their hashes are the ledger's entries, written in the same commit.
    metadata = {"flow_run_id": run.run_id, "files": len(staged)}
    if cleaned.cleaned_url is None:
        return store.record_ingested(run.store_url, run.base_snapshot, message, metadata, ingested)
    with dask_client():
        return store.commit_sensors(run.store_url, cleaned.cleaned_url, run.base_snapshot, message, metadata, ingested)


def summarise(
    run: RunInfo,
    cleaned: CleanResult,
    snapshot_id: str | None,
    staged: list[StagedRef],
    failures: list,
    skipped: list[str],
    unsupported: list[str],
) -> tuple[IngestSummary, list[dict]]:
    """The run's summary and validation table; writes Data Docs and clears the run's staging.

    Called after the commit: staging is scratch space, the store, the
    quarantine and the Data Docs are what the run leaves.
    """
    from lepton_flow.validation import build_data_docs

    files = list(cleaned.accounts.values())
    accounted = {f.file for f in files}
    for failure in failures:
        if failure.file in accounted:  # turned away by the clean step: its account says so already
            continue
        status = "rejected" if failure.rejected else f"failed ({failure.stage})"
        files.append(FileAccount(file=failure.file, sha256="", records=failure.records, quarantined=failure.quarantined, status=status, message=failure.message))
    validation_rows = []
    for v in staged:
        for e in v.expectations:
            validation_rows.append(
                {"file": v.file.shown, "expectation": e["expectation"], "success": e["success"], "failed_readings": e["unexpected"], "readings": v.readings}
            )
    docs_url = None
    fs, base = fsspec.core.url_to_fs(join(run.staging_url, "validation"))
    if fs.exists(base):
        results = []
        for path in sorted(fs.ls(base, detail=False)):
            with fs.open(path, "r") as fh:
                results.append((run.run_id, path.rsplit("/", 1)[-1].removesuffix(".json"), json.load(fh)))
        if results and "://" not in run.docs_dir:
            from lepton_flow.parallel import on_this_machine

            docs_url = on_this_machine(build_data_docs, run.docs_dir, results, run.dataset)
    remove_tree(run.staging_url)
    summary = IngestSummary(
        run_id=run.run_id,
        snapshot_id=snapshot_id,
        store_url=run.store_url,
        files=files,
        skipped=skipped,
        unsupported=unsupported,
        quarantine_url=run.quarantine_url,
        docs_url=docs_url,
        quality=cleaned.quality,
        info=cleaned.info,
    )
    return summary, validation_rows
