"""The log data path: read and validate each file (in parallel), mine templates (in order, one miner), count per window, commit.

Per file: lines read = lines in events + lines quarantined (no format
parses them) + blank lines; events = events stored + events that failed the
GX suite `expectations/log_events.json` (quarantined with the expectation's
name). Template mining runs in the flow's process over the run's events in
time order, starting from the miner state the store holds, so template ids
never change from run to run; counts per window and template, and per window
and level, are added to the store's `logs` group in one commit with the
miner's new state and the files' hashes.

Each read task stages its file's events counted per (window, masked text,
level), with each text's first event, not the events themselves: mining then
takes each distinct text once, in the order of its first event in the run,
which gives the ids and counts mining every event in time order gives, and
the flow's process holds a few rows per window, not a row per event.
"""

from __future__ import annotations

import contextlib

import os
import re

import fsspec
import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, field_validator, model_validator

from lepton_flow import store
from lepton_flow.forms import field_order
from lepton_flow.logs.layout import LEVELS
from lepton_flow.logs.logformat import LogFormat
from lepton_flow.settings import Settings, get_settings, join
from lepton_flow.route import REJECTED, FileOutcome, IngestRun
from lepton_flow.sources import SourceFile, SourceURL, known_zone, open_output, remove_tree, zone_names

DATASET = "log_events"
NOT_A_LOG = "not a log file"
"""A file's status when it is not a log at all: recorded once, not retried until its content changes, not a failure of the run."""
CHUNK_LEN = 1024  # windows per store chunk


def _log_format_names() -> list[str]:
    from lepton_flow.logs.formats import log_formats

    return sorted(log_formats())


class LogIngestParams(BaseModel):
    """Parameters of `log_ingest`."""

    model_config = {"hide_input_in_errors": True, "json_schema_extra": field_order()}  # a refused source may carry a secret; fields as declared

    source: SourceURL = Field("", max_length=2048, description="Log files: a directory, a glob or one file, as a path or fsspec URL (plain or .gz). Empty: <data root>/logs.")
    format: str = Field("auto", description="Log format; auto detects it per file from a sample of its lines. Formats defined in <data root>/log-formats are listed too.", json_schema_extra=lambda s: s.update(enum=["auto", *_log_format_names()]))
    layout: str = Field("", max_length=2000, description="A layout for every file, in loghub's template notation: <Date> <Time> <Level> <Component>: <Content>. Overrides format. Empty: use format.")
    timestamp_format: str = Field("", max_length=200, description="How the layout's time fields spell a time: strftime (%Y-%m-%d %H:%M:%S,%f), Java (yyyy-MM-dd HH:mm:ss,SSS) or epoch. Empty: recognised from its shape.")
    year: int | None = Field(None, ge=1970, le=2200, description="Year for formats whose timestamps have none (BSD syslog); empty: each file's modification year.")
    timezone: str = Field("UTC", description="Time zone the logs' times were written in where a line gives none (syslog, log4j's default layouts): an IANA name. Times with an offset, and epochs, are read as they say.",
                          json_schema_extra=lambda schema: schema.update(enum=zone_names()))
    window_seconds: int = Field(60, ge=1, le=86_400, description="Counting window in seconds (a store keeps its own).")
    similarity: float | None = Field(None, gt=0, le=1, description="Template mining similarity threshold; empty: each file's format's.")
    threshold: float | None = Field(None, ge=0, le=1, description="Least share of a file's events that must pass validation; empty: the setting LEPTON_VALIDATION_THRESHOLD (0.5 unless set).")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return known_zone(value)

    @field_validator("format")
    @classmethod
    def _known(cls, value: str) -> str:
        if value != "auto" and value not in _log_format_names():
            raise ValueError(f"unknown log format {value!r}; known: auto, {', '.join(_log_format_names())}")
        return value

    @model_validator(mode="after")
    def _layout_works(self):
        if self.layout.strip():
            from lepton_flow.logs.layout import layout_format

            layout_format("layout", self.layout, self.timestamp_format.strip() or None)  # a LayoutError says which part is wrong
        elif self.timestamp_format.strip():
            raise ValueError("timestamp_format is for a layout: give layout too, or leave timestamp_format empty")
        return self


def custom_format(layout: str, timestamp_format: str = ""):
    """The `layout` parameter as a `LogFormat` (None without one)."""
    from lepton_flow.logs.layout import layout_format

    return layout_format("layout", layout.strip(), timestamp_format.strip() or None) if layout.strip() else None


class LogRun(IngestRun):
    """A log ingest run: the route's run, with the store's count window and template miner, and the run's layout."""

    window_seconds: int
    masks: list[tuple[str, str]] | None = None  # the store's miner's, if it has one (None: the defaults)
    layout: str = ""  # the run's layout parameter: every file is read by it
    timestamp_format: str = ""
    timezone: str = "UTC"  # where lines give no zone: the zone they were written in


class LogFileRef(FileOutcome):
    file: SourceFile
    format: str | None
    lines: int
    blank: int
    event_lines: int
    events: int
    unparsed: int
    invalid: int = 0
    stored: int = 0
    staged_url: str | None = None
    quarantine_url: str | None = None
    start: int = 0  # the byte reading began at (where an earlier run stopped)
    end: int = 0  # the byte after the last line read: where the next run begins
    pending: int = 0  # bytes of a partial last line, left for the next run
    line_base: int = 0  # the file's lines before `start`

    @property
    def balanced(self) -> bool:
        return self.lines == self.event_lines + self.unparsed + self.blank and self.events == self.stored + self.invalid


class LogIngestSummary(BaseModel):
    run_id: str
    files: list[LogFileRef]
    skipped: list[str] = []
    failed: list[str] = []  # files whose read failed, each with why
    snapshot_id: str | None = None
    store_url: str
    templates: int = 0
    new_templates: int = 0
    quarantine_url: str


def new_run(run_id: str, window_seconds: int, threshold: float | None, settings: Settings | None = None, layout: str = "", timestamp_format: str = "", timezone: str = "UTC") -> LogRun:
    settings = settings or get_settings()
    current = store.logs_state(settings.store)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)
    return LogRun(
        run_id=run_id,
        staging_url=join(settings.staging_dir, f"logs-{safe}"),
        quarantine_url=join(settings.quarantine_dir, DATASET),
        store_url=settings.store,
        base_snapshot=current.snapshot_id,
        window_seconds=current.window_seconds or window_seconds,
        threshold=settings.validation_threshold if threshold is None else threshold,
        masks=[tuple(m) for m in current.drain["masks"]] if current.drain else None,
        layout=layout,
        timestamp_format=timestamp_format,
        timezone=timezone,
    )


def discover(source: str, run: LogRun):
    """(files with lines to read, and from which byte; urls with nothing new) under `source` (empty: the drop folder)."""
    from lepton_flow.logs import tail
    from lepton_flow.settings import get_settings, is_local

    settings = get_settings()
    if not source:
        # The drop directory that scheduled runs read; empty means nothing new.
        source = settings.log_dir
        if is_local(source):
            os.makedirs(source, exist_ok=True)
    return tail.discover(source, store.ledger.entries(run.store_url, run.base_snapshot, "logs"), settings.log_settle_seconds)


def _levels(levels: pd.Series) -> pd.Series:
    """Levels in lower case under their common names (missing: unknown), as a categorical: one name per distinct value, not per event."""
    values = levels.astype("category")
    names = [LEVELS.get(str(c).lower(), str(c).lower()) for c in values.cat.categories]
    categories = sorted({*names, "unknown"})
    lookup = np.array([categories.index(n) for n in names] + [categories.index("unknown")], np.int64)  # code -1 (missing): unknown
    return pd.Series(pd.Categorical.from_codes(lookup[values.cat.codes.to_numpy()], categories=categories), index=levels.index)


def _level_indices(level) -> np.ndarray:
    """Each event's position in `store.LOG_LEVELS` (unknown for a name not there), from a staged level column: one lookup per distinct name."""
    import pyarrow as pa

    level = level.combine_chunks() if isinstance(level, pa.ChunkedArray) else level
    if not pa.types.is_dictionary(level.type):
        level = level.dictionary_encode()
    position = {name: i for i, name in enumerate(store.LOG_LEVELS)}
    lookup = np.array([position.get(v, position["unknown"]) for v in level.dictionary.to_pylist()] + [position["unknown"]], np.int64)
    return lookup[level.indices.fill_null(len(lookup) - 1).to_numpy(zero_copy_only=False)]


def _seconds(stamps) -> np.ndarray:
    """Whole seconds since the epoch of an Arrow timestamp column, whatever its resolution."""
    import pyarrow as pa

    return np.floor_divide(stamps.cast(pa.int64()).to_numpy(), {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[stamps.type.unit])


def _aggregate(stamps, level, masked, window_seconds: int):
    """A file's events as counts per (window, masked text, level), each row with its text's first event in the file.

    `masked`: the events' masked texts, dictionary-encoded. `first_second`
    and `first_rank` place a text's first event: its second, and its position
    among the file's events in time order (line order at ties).
    """
    import pyarrow as pa

    from lepton_flow.logs.drain import first_positions

    seconds, levels = _seconds(stamps), _level_indices(level)
    codes = masked.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    if np.any(seconds[1:] < seconds[:-1]):
        order = np.argsort(seconds, kind="stable")
        seconds, levels, codes = seconds[order], levels[order], codes[order]
    texts, n_levels = len(masked.dictionary), len(store.LOG_LEVELS)
    first = first_positions(codes, texts)
    bins = np.floor_divide(seconds, window_seconds)
    low = int(bins.min())
    keys, events = np.unique(((bins - low) * texts + codes) * n_levels + levels, return_counts=True)
    code = keys // n_levels % texts
    return pa.table({
        "bin": keys // n_levels // texts + low,
        "text": pa.DictionaryArray.from_arrays(pa.array(code, pa.int32()), masked.dictionary),
        "level": pa.array(keys % n_levels, pa.int8()),
        "events": events,
        "first_second": seconds[first[code]],
        "first_rank": first[code],
    })


def read_file(file: SourceFile, run: LogRun, fmt: str, year: int | None) -> LogFileRef:
    """Parse, validate and stage one file, a piece at a time; quarantine its unparsed lines and invalid events with their reasons."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from lepton_flow.logs.formats import log_formats
    from lepton_flow.logs.reader import PIECE_BYTES, NotALogFile, open_log, read_log
    from lepton_flow.logs.tail import TailedFile

    where = {"start": file.offset, "line_base": file.line_base, "final": file.final} if isinstance(file, TailedFile) else {}
    if fmt == "auto" and isinstance(file, TailedFile) and file.known_format in log_formats():
        fmt = file.known_format  # a file read before keeps the format detected then
    reading = custom_format(run.layout, run.timestamp_format) or fmt
    start, line_base, final = where.get("start", 0), where.get("line_base", 0), where.get("final", True)
    ref, stored = None, 0
    staged_url = join(run.staging_url, f"{file.key}.parquet")
    with contextlib.ExitStack() as staging:
        writer = None  # each piece's counts a row group of the file's staged counts, so that no piece is held after it is read
        source = staging.enter_context(open_log(file.url, start))  # opened (and decompressed) once for all its pieces
        while True:
            try:
                got = read_log(file.url, reading, year, timezone=run.timezone, start=start, line_base=line_base, final=final, max_bytes=PIECE_BYTES, source=source)
            except NotALogFile as exc:
                # Recorded in the ledger (not read again until its content changes); it does not fail the run.
                return LogFileRef(file=file, format=None, lines=exc.lines, blank=0, event_lines=0, events=0, unparsed=exc.lines, status=NOT_A_LOG, message=str(exc).replace(file.url, file.shown))
            if ref is None:
                ref = LogFileRef(file=file, format=None, lines=0, blank=0, event_lines=0, events=0, unparsed=0, start=start, line_base=line_base)
            ref.format = ref.format or got.format  # a first piece of blank lines detects none
            ref.lines, ref.blank, ref.event_lines, ref.unparsed = ref.lines + got.lines, ref.blank + got.blank, ref.event_lines + got.event_lines, ref.unparsed + len(got.quarantined)
            ref.end, ref.pending = got.end, got.pending
            part = _read_piece_events(file, run, got, start)
            ref.events += part["events"]
            ref.invalid += part["invalid"]
            if part["counts"] is not None:
                counts = part["counts"]
                counts = counts.set_column(counts.schema.get_field_index("first_rank"), "first_rank", pc.add(counts.column("first_rank"), stored))
                if writer is None:
                    writer = staging.enter_context(pq.ParquetWriter(staging.enter_context(open_output(staged_url)), counts.schema))
                writer.write_table(counts)
            stored += part["stored"]
            if part["quarantine_url"] and not ref.quarantine_url:
                ref.quarantine_url = part["quarantine_url"]
            more, start, line_base = got.more, got.end, got.line_base + got.lines
            del got, part
            if not more:
                break
            if not isinstance(reading, LogFormat):
                reading = ref.format or "auto"  # detected once, on the first piece that holds lines
    if ref.events and 1 - ref.invalid / ref.events < run.threshold:
        ref.status, ref.message = REJECTED, f"{file.shown}: only {1 - ref.invalid / ref.events:.1%} of {ref.events} events passed validation (threshold {run.threshold:.0%})"
        ref.invalid, ref.stored = ref.events, 0
        if writer is not None:
            remove_tree(staged_url)
    elif writer is not None:
        ref.stored, ref.staged_url = stored, staged_url
    return ref


def _read_piece_events(file: SourceFile, run: LogRun, got, start: int) -> dict:
    """One read's events validated, masked and counted (`_aggregate`); its unparsed lines and invalid events quarantined."""
    import pyarrow as pa

    from lepton_flow.logs.drain import Drain
    from lepton_flow.logs.formats import log_formats
    from lepton_flow.validation import validate_frame

    frame = got.frame
    out = {"events": len(frame), "invalid": 0, "stored": 0, "counts": None, "quarantine_url": None}
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["level"] = _levels(frame["level"])
    bad = []
    if got.quarantined:
        bad.append(pd.DataFrame({"file": file.shown, "line": [q["line"] for q in got.quarantined], "reason": [q["reason"] for q in got.quarantined], "text": [q["text"] for q in got.quarantined]}))
    if len(frame):
        outcome = validate_frame(frame.drop(columns=["line"]), DATASET)
        failed = outcome.reasons != None  # noqa: E711 (elementwise)
        out["invalid"] = int(failed.sum())
        if out["invalid"]:
            bad.append(pd.DataFrame({"file": file.shown, "line": frame["line"][failed].to_numpy(), "reason": outcome.reasons[failed], "text": frame["message"][failed].str.slice(0, 500).to_numpy()}))
        good = pa.Table.from_pandas(frame[~failed] if out["invalid"] else frame, preserve_index=False)
        out["stored"] = good.num_rows
        if good.num_rows:
            # Masked and counted here, in parallel, so that mining (one process, in time order) only looks up distinct texts.
            messages = good.column("message").combine_chunks()
            if own := log_formats().get(got.format):  # a layout given as a parameter is not registered
                messages = own.premask(messages)
            masked = Drain(masks=run.masks).mask_many(messages).dictionary_encode()
            out["counts"] = _aggregate(good.column("timestamp"), good.column("level"), masked, run.window_seconds)
    if bad:
        out["quarantine_url"] = join(run.quarantine_url, run.day, f"{file.key}.parquet" if not start else f"{file.key}.{start}.parquet")
        with open_output(out["quarantine_url"]) as fh:
            pd.concat(bad, ignore_index=True).to_parquet(fh, index=False)
    return out


def mine_and_commit(refs: list[LogFileRef], run: LogRun, similarity: float | None, message_prefix: str = "log_ingest") -> tuple[str | None, int, int]:
    """Mine templates over the run's events in time order, count per window, commit; returns (snapshot, templates, new templates)."""
    from lepton_flow.logs import tail
    from lepton_flow.logs.drain import Drain, first_occurrences
    from lepton_flow.logs.formats import log_formats

    current = store.logs_state(run.store_url, run.base_snapshot)
    staged = [r for r in refs if r.staged_url]
    formats = log_formats()
    if current.drain:
        miner = Drain.from_state(current.drain)
    else:
        first_format = next((r.format for r in staged if r.format), None)
        known = formats.get(first_format)  # a layout given as a parameter is not registered: the default
        default = known.drain_similarity if known else 0.4
        miner = Drain(similarity=similarity or default)
    before = len(miner.templates)
    ingested = {
        r.file.identity: tail.record(
            r.file, r.end, r.line_base + r.lines, r.format, run.run_id, r.file.shown, pending=r.pending,
            **({"status": r.status, "reason": r.message, "not_a_log": True} if r.status == NOT_A_LOG else {}),
        )
        for r in refs if not r.rejected
    }
    if staged:
        import pyarrow as pa
        import pyarrow.parquet as pq

        parts = []
        for r in staged:
            with fsspec.open(r.staged_url, "rb") as fh:
                parts.append(pq.read_table(fh))
        rows = pa.concat_tables(parts, promote_options="permissive")
        position = np.repeat(np.arange(len(parts)), [p.num_rows for p in parts])  # files in order at ties
        text = rows.column("text").unify_dictionaries().combine_chunks()
        codes, values = text.indices.to_numpy(zero_copy_only=False).astype(np.int64), text.dictionary.to_pylist()
        # Each distinct text once, in the order of its first event in the run: its second, then its file, then its place there.
        by_first = np.lexsort((rows.column("first_rank").to_numpy(), position, rows.column("first_second").to_numpy()))
        present = first_occurrences(codes[by_first], len(values))
        events = rows.column("events").to_numpy()
        totals = np.bincount(codes, weights=events, minlength=len(values)).astype(np.int64)
        # Each text is mined at its file's format's similarity (the first file that holds it), or the run's when given.
        per_part = [similarity or (formats[r.format].drain_similarity if r.format in formats else None) for r in staged]
        first_row = np.full(len(values), len(by_first), np.int64)
        np.minimum.at(first_row, codes[by_first], np.arange(len(by_first)))
        sims = [per_part[p] for p in position[by_first][first_row[present]].tolist()]
        lookup = np.zeros(len(values), np.int64)
        lookup[present] = miner.add_counted([values[c] for c in present.tolist()], totals[present].tolist(), sims)
        ids, bins, levels = lookup[codes], rows.column("bin").to_numpy(), rows.column("level").to_numpy().astype(np.int64)
    else:
        ids = bins = levels = events = np.zeros(0, np.int64)
    if not ingested:
        remove_tree(run.staging_url)
        return run.base_snapshot, len(miner.templates), 0
    snapshot = store.commit_logs(
        run.store_url,
        run.base_snapshot,
        run.window_seconds,
        CHUNK_LEN,
        bins,
        ids,
        levels,
        [miner.template(i) for i in range(len(miner.templates))],
        miner.state(),
        store.bounded_message(f"{message_prefix} run {run.run_id}: {int(events.sum())} events from", [r.file.name for r in refs if r.status == "ok"]),
        {"flow_run_id": run.run_id, "files": len(ingested), "events": int(events.sum())},
        ingested,
        events=events,
    )
    remove_tree(run.staging_url)  # committed: the staged events are in the store's counts
    return snapshot, len(miner.templates), len(miner.templates) - before
