"""Readers and discovery: every layout to the canonical table, bad lines named by number."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lepton_flow.formats import is_supported, read_readings
from lepton_flow.sources import READING_SCHEMA, ReadOptions, SourceError, discover


def test_long_csv_with_offsets_is_normalised_to_utc(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        "timestamp,sensor_id,metric,value,unit\n"
        "2026-01-01T01:00:00+01:00,s1,temperature,20.5,C\n"
        "2026-01-01T00:00:30Z,s1,temperature,20.6,C\n"
    )
    parsed = read_readings(str(path))
    assert parsed.table.schema == READING_SCHEMA
    ts = parsed.table.column("timestamp").to_pylist()
    assert [t.isoformat() for t in ts] == ["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:30+00:00"]
    assert parsed.table.column("line").to_pylist() == [2, 3]
    assert parsed.errors == []


def test_gzipped_csv_and_naive_times_in_a_configured_zone(tmp_path):
    path = tmp_path / "a.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("time,sensor,metric,value\n2026-07-01 12:00:00,s1,humidity,50\n")
    parsed = read_readings(str(path), ReadOptions(timezone="Europe/Berlin"))
    assert parsed.table.column("timestamp")[0].as_py().isoformat() == "2026-07-01T10:00:00+00:00"


def test_xz_and_bzip2_sensor_files_read_as_their_plain_text_and_name_their_sensor(tmp_path):
    import bz2
    import lzma

    from lepton_flow.settings import file_stem

    text = "timestamp,value\n2026-07-01T12:00:00Z,50\n2026-07-01T12:00:30Z,51\n"
    (tmp_path / "pump-a.csv").write_text(text)
    (tmp_path / "pump-b.csv.xz").write_bytes(lzma.compress(text.encode()))
    (tmp_path / "pump-c.csv.bz2").write_bytes(bz2.compress(text.encode()))
    plain = read_readings(str(tmp_path / "pump-a.csv")).table.drop_columns(["sensor_id"])
    for name in ("pump-b.csv.xz", "pump-c.csv.bz2"):
        assert is_supported(str(tmp_path / name)) and file_stem(name) == name.split(".")[0]
        parsed = read_readings(str(tmp_path / name))
        assert parsed.table.drop_columns(["sensor_id"]).equals(plain) and set(parsed.table.column("sensor_id").to_pylist()) == {name.split(".")[0]}
    longer = "timestamp,value\n" + "".join(f"2026-07-01T12:{i // 60 % 60:02d}:{i % 60:02d}Z,{i * 7 % 101}\n" for i in range(3000))
    packed = lzma.compress(longer.encode())
    (tmp_path / "cut.csv.xz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(SourceError, match=r"cut.csv.xz.*(truncated or corrupt|cut short|ended before)"):
        read_readings(str(tmp_path / "cut.csv.xz"))


def test_a_zstd_bomb_is_refused_as_a_gzip_one_is(tmp_path):
    import zstandard

    (tmp_path / "bomb.csv.zst").write_bytes(zstandard.ZstdCompressor(level=3).compress(b"timestamp,value\n" + b"0" * (80 << 20)))
    with pytest.raises(SourceError, match=r"bomb.csv.zst: decompresses past .* \(a decompression bomb\?\)"):
        read_readings(str(tmp_path / "bomb.csv.zst"))


def test_the_nul_blocks_a_crash_leaves_in_a_sensor_file_cost_only_the_row_it_cut(tmp_path):
    """A power loss leaves NUL bytes where the last blocks were never written; the rows after the reboot follow them.
    The NULs are taken out: a record after them is read, and a row the crash cut short runs into the next one and is
    quarantined with it, under its own line number."""
    record = lambda i: f'{{"timestamp": "2026-01-01T00:00:{i:02d}Z", "sensor_id": "s1", "metric": "t", "value": {i}}}\n'.encode()  # noqa: E731
    (tmp_path / "s.jsonl").write_bytes(record(0) + record(1) + b"\x00" * 4096 + record(2) + record(3))
    parsed = read_readings(str(tmp_path / "s.jsonl"))
    assert (parsed.readings, parsed.errors, parsed.table.column("value").to_pylist()) == (4, [], [0.0, 1.0, 2.0, 3.0])
    row = lambda i: f"2026-01-01T00:00:{i:02d}Z,s1,t,{i}\n".encode()  # noqa: E731
    (tmp_path / "s.csv").write_bytes(b"timestamp,sensor_id,metric,value\n" + row(0) + row(1)[:12] + b"\x00" * 4096 + row(2) + row(3))
    parsed = read_readings(str(tmp_path / "s.csv"))
    assert parsed.readings == 2 and parsed.table.column("value").to_pylist() == [0.0, 3.0]
    assert [(e.line, e.reason.split(":")[0]) for e in parsed.errors] == [(3, "column timestamp")]


def test_bad_lines_are_returned_with_their_line_numbers(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "timestamp,sensor_id,metric,value\n"
        "2026-01-01T00:00:00Z,s1,t,1\n"
        "garbage\n"
        "2026-01-01T00:00:30Z,s1,t,abc\n"
        "not-a-time,s1,t,2\n"
        "2026-01-01T00:01:30Z,s1,t,3\n"
    )
    parsed = read_readings(str(path))
    assert parsed.table.column("line").to_pylist() == [2, 6]
    assert [(e.line, e.reason.split(":")[0]) for e in parsed.errors] == [(3, "expected 4 fields, found 1"), (4, "column value"), (5, "column timestamp")]
    assert "'abc' is not a number" in parsed.errors[1].reason
    assert parsed.readings + len(parsed.errors) == 5


def test_wide_parquet_by_metric_melts_with_units_from_names(tmp_path):
    path = tmp_path / "w.parquet"
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2026-01-01T00:00:00Z", "2026-01-01T00:00:30Z"]),
            "sensor_id": ["s1", "s2"],
            "temperature[C]": [20.0, np.nan],
            "Humidity [%]": [40.0, 41.0],
        }
    )
    pq.write_table(pa.Table.from_pandas(frame), path)
    table = read_readings(str(path)).table.to_pandas()
    # The empty cell is no reading.
    assert len(table) == 3
    assert set(zip(table.sensor_id, table.metric, table.unit)) == {("s1", "temperature", "C"), ("s1", "humidity", "%"), ("s2", "humidity", "%")}


def test_wide_csv_by_sensor_and_metric_columns(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("timestamp,a/temperature[C],b/temperature[C]\n2026-01-01T00:00:00Z,1,2\n2026-01-01T00:00:30Z,3,nil\n")
    table = read_readings(str(path)).table.to_pandas()
    assert sorted(zip(table.sensor_id, table.value)) == [("a", 1.0), ("a", 3.0), ("b", 2.0)]


def test_json_lines_with_epoch_milliseconds_and_a_broken_line(tmp_path):
    path = tmp_path / "a.jsonl"
    lines = [json.dumps({"timestamp": 1767225600000, "sensor_id": "s1", "metric": "pressure", "value": 1013.2, "unit": "hPa"}), "{broken", "[1, 2]"]
    path.write_text("\n".join(lines) + "\n")
    parsed = read_readings(str(path))
    assert parsed.table.column("timestamp")[0].as_py().isoformat() == "2026-01-01T00:00:00+00:00"
    assert [(e.line, e.reason.split(":")[0]) for e in parsed.errors] == [(2, "invalid JSON"), (3, "a JSON line must be an object")]


def test_rows_without_a_sensor_or_metric_are_quarantined_not_a_crash(tmp_path):
    """A JSON line without `sensor_id`, or with `metric: null` or blank, is one bad line (it crashed staging for the whole file)."""
    path = tmp_path / "a.jsonl"
    rows = [
        {"timestamp": "2026-01-01T00:00:00Z", "sensor_id": "s1", "metric": "t", "value": 1.0},
        {"timestamp": "2026-01-01T00:00:30Z", "metric": "t", "value": 2.0},
        {"timestamp": "2026-01-01T00:01:00Z", "sensor_id": "s1", "metric": None, "value": 3.0},
        {"timestamp": "2026-01-01T00:01:30Z", "sensor_id": " ", "metric": "t", "value": 4.0},
        {"timestamp": "2026-01-01T00:02:00Z", "sensor_id": "s2", "metric": "t", "value": 5.0},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    parsed = read_readings(str(path))
    assert parsed.table.column("value").to_pylist() == [1.0, 5.0]
    assert [(e.line, e.reason) for e in parsed.errors] == [(2, "column sensor_id: missing"), (3, "column metric: missing"), (4, "column sensor_id: missing")]
    wide = tmp_path / "w.csv"
    wide.write_text("timestamp,sensor_id,temperature\n2026-01-01T00:00:00Z,,1.0\n2026-01-01T00:00:30Z,s1,2.0\n")
    parsed = read_readings(str(wide))
    assert parsed.table.column("value").to_pylist() == [2.0] and [(e.line, e.reason) for e in parsed.errors] == [(2, "column sensor_id: missing")]


def test_file_without_sensor_column_takes_its_name_or_the_option(tmp_path):
    path = tmp_path / "pump-7.csv"
    path.write_text("timestamp,flow\n2026-01-01T00:00:00Z,1.5\n")
    assert read_readings(str(path)).table.column("sensor_id").to_pylist() == ["pump-7"]
    assert read_readings(str(path), ReadOptions(sensor_id="p7")).table.column("sensor_id").to_pylist() == ["p7"]


@pytest.mark.parametrize("content", ["", "timestamp,sensor_id,metric,value\n"])
def test_empty_and_header_only_files_hold_no_readings(tmp_path, content):
    path = tmp_path / "e.csv"
    path.write_text(content)
    parsed = read_readings(str(path))
    assert parsed.readings == 0 and parsed.errors == []


def test_whole_file_errors_name_the_file(tmp_path):
    no_time = tmp_path / "no_time.csv"
    no_time.write_text("sensor_id,value\ns1,1\n")
    with pytest.raises(SourceError, match=r"no_time\.csv: no timestamp column"):
        read_readings(str(no_time))
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"\x00\x01 definitely not parquet")
    with pytest.raises(SourceError, match=r"garbage\.parquet: cannot be read as Parquet"):
        read_readings(str(garbage))
    with pytest.raises(SourceError, match="unsupported file type"):
        read_readings(str(tmp_path / "x.docx"))


def test_discover_skips_known_hashes_duplicates_and_unknown_types(tmp_path):
    (tmp_path / "a.csv").write_text("timestamp,v\n2026-01-01T00:00:00Z,1\n")
    (tmp_path / "copy_of_a.csv").write_text("timestamp,v\n2026-01-01T00:00:00Z,1\n")
    (tmp_path / "b.csv").write_text("timestamp,v\n2026-01-01T00:00:00Z,2\n")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / ".hidden.csv").write_text("x")
    new, known, unsupported = discover(str(tmp_path), set(), is_supported)
    assert [f.name for f in new] == ["a.csv", "b.csv"]
    assert [p.rsplit("/", 1)[1] for p in known] == ["copy_of_a.csv"]
    assert [p.rsplit("/", 1)[1] for p in unsupported] == ["notes.txt"]
    again, known2, _ = discover(str(tmp_path), {new[0].sha256}, is_supported)
    assert [f.name for f in again] == ["b.csv"] and len(known2) == 2
    assert [f.name for f in discover(str(tmp_path / "b*.csv"), set(), is_supported)[0]] == ["b.csv"]
    with pytest.raises(SourceError, match="no such file"):
        discover(str(tmp_path / "missing"), set(), is_supported)


def _roots(tmp_path):
    """An allowed folder and a secret one beside it holding private.csv; returns them and a good CSV text."""
    allowed, secret = tmp_path / "incoming", tmp_path / "secret"
    allowed.mkdir()
    secret.mkdir()
    line = "timestamp,sensor,metric,value\n2026-03-01T00:00:00Z,s1,temperature,20.5\n"
    (secret / "private.csv").write_text(line.replace("20.5", "99.0"))
    return allowed, secret, line


def test_sources_only_under_the_configured_roots(tmp_path, monkeypatch):
    """With LEPTON_SOURCE_ROOTS set, a source outside them (also by `..`) is refused naming the roots, and a
    symlink inside a root that points out is left out; unset, any source is read."""
    from lepton_flow.settings import get_settings

    allowed, secret, line = _roots(tmp_path)
    (allowed / "ok.csv").write_text(line)
    (allowed / "link.csv").symlink_to(secret / "private.csv")

    monkeypatch.setenv("LEPTON_SOURCE_ROOTS", f"{allowed}, s3://bucket/incoming")
    get_settings(fresh=True)
    try:
        new, _, left_out = discover(str(allowed), set(), is_supported)
        assert [f.name for f in new] == ["ok.csv"] and left_out == [str(allowed / "link.csv")]
        for outside in (str(secret), str(allowed / ".." / "secret"), str(allowed / "link.csv"), "s3://bucket/incoming/../private"):
            with pytest.raises(SourceError, match="outside the allowed source roots") as err:
                discover(outside, set(), is_supported)
            assert str(allowed) in str(err.value)
    finally:
        monkeypatch.delenv("LEPTON_SOURCE_ROOTS")
        get_settings(fresh=True)
    new, _, _ = discover(str(secret), set(), is_supported)
    assert [f.name for f in new] == ["private.csv"]


def test_a_file_swapped_for_a_symlink_out_after_discovery_is_refused_when_read(tmp_path, monkeypatch):
    """Roots are checked on the opened descriptor: a file replaced by a link to an outside file between discovery and read is not read."""
    from lepton_flow.settings import get_settings
    from lepton_flow.sources import open_source

    allowed, secret, line = _roots(tmp_path)
    (allowed / "a.csv").write_text(line)
    (allowed / "sub").mkdir()
    (allowed / "sub" / "b.csv").write_text(line.replace("20.5", "21.5"))
    monkeypatch.setenv("LEPTON_SOURCE_ROOTS", str(allowed))
    get_settings(fresh=True)
    try:
        new, _, _ = discover(str(allowed), set(), is_supported)
        assert [f.name for f in new] == ["a.csv", "b.csv"]
        (allowed / "a.csv").unlink()
        (allowed / "a.csv").symlink_to(secret / "private.csv")
        (allowed / "sub" / "b.csv").unlink()
        (allowed / "sub").rmdir()
        (allowed / "sub").symlink_to(secret)  # a directory on the path swapped, too
        (secret / "b.csv").write_text(line.replace("20.5", "77.0"))
        for f in new:
            with pytest.raises(SourceError, match="outside the allowed source roots"):
                with open_source(f.url) as fh:
                    fh.read()
            with pytest.raises(SourceError, match="outside the allowed source roots"):
                read_readings(f.url)
    finally:
        monkeypatch.delenv("LEPTON_SOURCE_ROOTS")
        get_settings(fresh=True)


def test_fifos_devices_and_link_loops_in_a_drop_folder_are_left_out_with_a_reason(tmp_path):
    """Only regular files are opened: a FIFO would block the read for ever, /dev/zero never ends, a link loop fails every run."""
    import os

    line = "timestamp,sensor,metric,value\n2026-03-01T00:00:00Z,s1,temperature,20.5\n"
    (tmp_path / "good.csv").write_text(line)
    os.mkfifo(tmp_path / "pipe.csv")
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    (tmp_path / "self.csv").symlink_to(tmp_path / "self.csv")
    (tmp_path / "gone.csv").symlink_to(tmp_path / "missing.csv")
    new, _, left_out = discover(str(tmp_path), set(), is_supported)
    assert [f.name for f in new] == ["good.csv"]
    reasons = {u.split(" ", 1)[0].rsplit("/", 1)[1]: u.split(" ", 1)[1] for u in left_out}
    assert reasons == {
        "gone.csv": "(cannot be opened: no such file or directory)",
        "pipe.csv": "(not a regular file: a FIFO)",
        "self.csv": "(cannot be opened: too many levels of symbolic links)",
        "zero.csv": "(not a regular file: a character device)",
    }
    # Swapped in after discovery, a FIFO is refused at open without blocking.
    os.remove(tmp_path / "good.csv")
    os.mkfifo(tmp_path / "good.csv")
    with pytest.raises(SourceError, match="not a regular file: a FIFO"):
        read_readings(new[0].url)


def test_json_lines_with_a_line_not_in_utf8_and_one_over_the_limit(tmp_path):
    from lepton_flow.sources import MAX_LINE_BYTES

    good = '{"timestamp": 1767225600000, "sensor_id": "s1", "metric": "temperature", "value": 20.5, "unit": "C"}\n'
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + good.encode()
        + '{"timestamp": 1767225630000, "sensor_id": "caf\xe9", "metric": "temperature", "value": 20.6, "unit": "C"}\n'.encode("latin-1")
        + b'{"pad": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}\n'
        + good.replace("1767225600000", "1767225660000").encode()
    )
    parsed = read_readings(str(path))
    assert parsed.readings == 2
    assert [(e.line, e.reason.split(" (")[0]) for e in parsed.errors] == [(2, "not UTF-8 text"), (3, f"line of {MAX_LINE_BYTES + 22:,} bytes, over the {MAX_LINE_BYTES:,} a JSON line may have")]


def test_sweep_staging_removes_only_folders_a_day_old(tmp_path):
    """A killed run's staging goes at the next run's start; a live run's, and this run's own, stay."""
    import os
    import time

    from lepton_flow.sources import sweep_staging

    staging = tmp_path / "staging"
    for name in ("run-killed", "run-live", "run-this", "logs-killed"):
        (staging / name / "valid").mkdir(parents=True)
        (staging / name / "valid" / "x.parquet").write_bytes(b"x")
    (staging / "stray.txt").write_text("not a run folder")
    two_days_ago = time.time() - 2 * 86400
    for name in ("run-killed", "run-this", "logs-killed", "stray.txt"):
        os.utime(staging / name, (two_days_ago, two_days_ago))
    gone = sweep_staging(str(staging), str(staging / "run-this"))
    assert sorted(Path(g).name for g in gone) == ["logs-killed", "run-killed"]
    assert sorted(p.name for p in staging.iterdir()) == ["run-live", "run-this", "stray.txt"]
    assert sweep_staging(str(tmp_path / "none-yet"), str(tmp_path / "none-yet" / "run")) == []


def test_readings_far_from_the_rest_of_their_file_are_quarantined_as_clock_faults(tmp_path):
    from lepton_flow.sources import isolated

    day = 86_400 * 10**9
    base = np.datetime64("2026-03-01", "ns").astype(np.int64)
    times = base + np.arange(100) * 30 * 10**9
    assert not isolated(times).any()
    with_reset = np.concatenate([times, [5 * 60 * 10**9]])  # 1970-01-01T00:05Z
    assert np.flatnonzero(isolated(with_reset)).tolist() == [100]
    # Ten years of daily readings: no gap of a year, nothing isolated.
    assert not isolated(base - np.arange(3650) * day).any()
    # Two halves a decade apart, each large: both kept (a backfill file), not judged a fault.
    assert not isolated(np.concatenate([times, times - 3650 * day])).any()
    path = tmp_path / "a.csv"
    path.write_text("timestamp,sensor_id,metric,value\n" + "".join(f"2026-03-01T00:{i:02d}:00Z,s1,t,{i}\n" for i in range(30)) + "1970-01-01T00:05:00Z,s1,t,1\n")
    parsed = read_readings(str(path))
    assert parsed.table.num_rows == 30 and [(e.line, e.reason.split(" lies")[0]) for e in parsed.errors] == [(32, "timestamp 1970-01-01T00:05:00+00:00")]


def test_a_wide_file_with_thousands_of_metric_columns_is_refused_at_once(tmp_path):
    """5,000 metric columns took 466 s and left 10,013 files in the store; past MAX_METRICS the file is refused before it is parsed."""
    from lepton_flow.sources import MAX_METRICS

    names = [f"m{i}[C]" for i in range(5000)]
    path = tmp_path / "wide.csv"
    path.write_text("timestamp," + ",".join(names) + "\n" + "2026-03-01T00:00:00Z," + ",".join("1.0" for _ in names) + "\n")
    with pytest.raises(SourceError, match=f"wide.csv: 5,000 metrics in one wide file, over the {MAX_METRICS}"):
        read_readings(str(path))
    ok = tmp_path / "ok.csv"
    ok.write_text("timestamp," + ",".join(f"s{i}/temperature[C]" for i in range(300)) + "\n2026-03-01T00:00:00Z," + ",".join("1" for _ in range(300)) + "\n")
    assert read_readings(str(ok)).table.num_rows == 300  # 300 sensors of one metric: fine


def test_lossy_and_mixed_epoch_timestamps(tmp_path):
    """float32 epoch seconds rounded 15 of 20 readings onto each other; two rows in seconds among milliseconds landed at 1970-01-21."""
    times = 1_772_323_200 + np.arange(20) * 30  # 2026-03-01, every 30 s
    table = pa.table({"timestamp": pa.array(times.astype("float32")), "sensor_id": ["s1"] * 20, "metric": ["t"] * 20, "value": np.arange(20.0)})
    pq.write_table(table, tmp_path / "f32.parquet")
    with pytest.raises(SourceError, match=r"f32.parquet: column timestamp holds times as 32-bit floats, which round epoch seconds"):
        read_readings(str(tmp_path / "f32.parquet"))
    pq.write_table(table.set_column(0, "timestamp", pa.array(times.astype("float64"))), tmp_path / "f64.parquet")
    assert read_readings(str(tmp_path / "f64.parquet")).table.column("timestamp").cast(pa.int64()).to_numpy().tolist() == (times * 10**9).tolist()

    millis = [str(t * 1000) for t in times]
    millis[3], millis[7] = str(times[3]), str(times[7])  # two rows in seconds
    rows = "".join(f"{m},s1,t,{i}\n" for i, m in enumerate(millis))
    (tmp_path / "mixed.csv").write_text("timestamp,sensor_id,metric,value\n" + rows)
    parsed = read_readings(str(tmp_path / "mixed.csv"))
    assert parsed.table.num_rows == 18 and [e.line for e in parsed.errors] == [5, 9]
    assert all("an epoch number in another unit" in e.reason for e in parsed.errors)
    assert parsed.table.column("timestamp")[0].as_py().isoformat() == "2026-03-01T00:00:00+00:00"


def test_http_sources_are_listed_and_read_by_their_own_url(tmp_path):
    """An http:// source became http://http://... and failed; it is read as given."""
    import functools
    import http.server
    import threading

    (tmp_path / "a.csv").write_text("timestamp,sensor_id,metric,value\n2026-03-01T00:00:00Z,s1,t,1.5\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/a.csv"
        new, _, left_out = discover(url, set(), is_supported)
        assert [f.url for f in new] == [url] and left_out == []
        assert read_readings(new[0].url).table.column("value").to_pylist() == [1.5]
    finally:
        server.shutdown()
        server.server_close()


def _awkward_csv(path):
    """A long CSV holding what breaks parsers: short and long rows, a line that is not UTF-8, a 1.5 MB line, CRLF, quoted commas."""
    rows = ["timestamp,sensor_id,metric,value,unit"]
    for i in range(400):
        t = f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z"
        rows.append(f'{t},"s,{i % 3}",temperature,{20 + i / 10},C')
    rows[50] = "2026-01-01T00:00:49Z,s1,temperature"  # too few fields
    rows[120] = "2026-01-01T00:01:59Z,s1,temperature,20.0,\xb0C"  # Latin-1 below
    rows[200] = "2026-01-01T00:03:19Z,s1,temperature,20.0,C," + "x" * 1_500_000  # over MAX_LINE_BYTES
    rows[300] = rows[300] + ",extra"  # too many fields
    data = b"".join(r.encode("latin-1" if i == 120 else "utf-8") + (b"\r\n" if i % 7 == 0 else b"\n") for i, r in enumerate(rows))
    path.write_bytes(data)
    return path


def _awkward_jsonl(path):
    """JSON Lines with a broken object, a line that is not UTF-8, a 1.5 MB line, an array for an object, CRLF."""
    rows = [json.dumps({"timestamp": f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z", "sensor_id": f"s{i % 3}", "metric": "temperature", "value": 20 + i / 10, "unit": "C"}) for i in range(400)]
    rows[50] = rows[50][:-5]
    rows[120] = rows[120].replace('"C"', '"\xb0C"')
    rows[200] = json.dumps({"timestamp": "2026-01-01T00:03:20Z", "pad": "x" * 1_500_000})
    rows[300] = "[1, 2]"
    path.write_bytes(b"".join(r.encode("latin-1" if i == 120 else "utf-8") + (b"\r\n" if i % 7 == 0 else b"\n") for i, r in enumerate(rows)))
    return path


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_a_file_read_in_pieces_reads_as_it_does_whole(tmp_path, kind):
    """A large file is read a bounded piece at a time (`read_pieces`): whatever the piece size, the readings, their line numbers
    and the quarantined lines with their reasons are those of reading it whole, and no piece holds more than a piece and a line."""
    from lepton_flow.formats.lines import line_pieces
    from lepton_flow.formats import read_pieces

    path = _awkward_csv(tmp_path / "a.csv") if kind == "csv" else _awkward_jsonl(tmp_path / "a.jsonl")
    whole = read_readings(str(path))
    assert whole.readings > 300 and len(whole.errors) >= 3

    def rows(tables):
        return [r for t in tables for r in t.select(["timestamp", "sensor_id", "metric", "value", "unit", "line"]).to_pylist()]

    for piece_bytes in (97, 4096, 1 << 20, 64 << 20):
        pieces = list(read_pieces(str(path), piece_bytes=piece_bytes))
        assert rows(p.table for p in pieces) == rows([whole.table]), piece_bytes
        assert [(e.line, e.reason) for p in pieces for e in p.errors] == [(e.line, e.reason) for e in whole.errors], piece_bytes
        biggest = max(len(text) for _, _, text in line_pieces(str(path), piece_bytes, header=kind == "csv"))
        assert biggest <= max(2 * piece_bytes, 1 << 20) + 1, (piece_bytes, biggest)
    assert len(list(read_pieces(str(path), piece_bytes=4096))) > 3


def test_a_parquet_file_is_read_a_batch_of_rows_at_a_time(tmp_path):
    """Parquet is read row group by row group, in batches: the readings and their row numbers are those of reading it whole."""
    from lepton_flow.formats import read_pieces

    times = pd.date_range("2026-01-01", periods=5000, freq="30s", tz="UTC")
    frame = pd.DataFrame({"timestamp": times, "sensor_id": [f"s{i % 3}" for i in range(5000)], "temperature[C]": np.arange(5000.0)})
    path = tmp_path / "a.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=1500)
    whole = read_readings(str(path))
    pieces = list(read_pieces(str(path), piece_bytes=1))
    assert len(pieces) == 5 and sum(p.readings for p in pieces) == whole.readings == 5000
    assert [r for p in pieces for r in p.table.to_pylist()] == whole.table.to_pylist()
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(SourceError, match=r"bad\.parquet: cannot be read as Parquet"):
        list(read_pieces(str(tmp_path / "bad.parquet")))


@pytest.mark.parametrize("lengths, long", [([10, (1 << 20) - 1, 10], False), ([10, 1 << 20, 10], True), ([(1 << 19) + 1] * 5, False), ([3 << 18, (1 << 20) + 1], True)])
def test_a_line_over_the_limit_is_found_wherever_it_lies_in_a_piece(lengths, long):
    """A CSV piece with a line of MAX_LINE_BYTES or more takes the careful path (the line quarantined); one without
    does not, lines of over half the limit included."""
    from lepton_flow.formats.csv import _has_long_line
    from lepton_flow.sources import MAX_LINE_BYTES

    assert MAX_LINE_BYTES == 1 << 20
    assert _has_long_line(b"\n".join(b"x" * n for n in lengths) + b"\n") is long


def test_csv_rows_after_a_blank_line_keep_their_own_line_numbers(tmp_path):
    """A blank line inside a CSV (not only at its end) is skipped, and the rows after it, kept or quarantined, are
    numbered as the file numbers them."""
    from lepton_flow.formats import read_readings

    path = tmp_path / "gaps.csv"
    path.write_bytes(
        b"timestamp,sensor_id,metric,value,unit\r\n"
        b"2026-01-01T00:00:00Z,s1,temperature,20,C\r\n"  # line 2
        b"\r\n"
        b"2026-01-01T00:00:30Z,s1,temperature,21,C,extra\r\n"  # line 4: a field too many
        b"\n\n"
        b"2026-01-01T00:01:00Z,s1,temperature,22,C\n"  # line 7
        b"2026-01-01T00:01:30Z,s1,temperature,x,C\n"  # line 8: not a number
        b"\n"
    )
    parsed = read_readings(str(path))
    assert parsed.table.column("line").to_pylist() == [2, 7]
    assert [e.line for e in parsed.errors] == [4, 8]

    # A blank line right after the header, a line of delimiters only (a row, every field empty: quarantined by
    # number), blank lines closing the file; and a file whose columns are all read as text.
    path.write_bytes(
        b"timestamp,sensor_id,metric,value,unit\n\n"
        b"2026-01-01T00:00:00Z,s1,temperature,20,C\n"  # line 3
        b",,,,\n"  # line 4
        b"2026-01-01T00:00:30Z,s1,temperature,21,C\n\n\n"  # line 5
    )
    parsed = read_readings(str(path))
    assert parsed.table.column("line").to_pylist() == [3, 5]
    assert [e.line for e in parsed.errors] == [4]
    path.write_bytes(b"timestamp,sensor_id,metric,value,unit\n2026-01-01T00:00:00Z,s1,temperature,20,C\n\n\n")
    assert read_readings(str(path)).table.column("line").to_pylist() == [2]
    wide = tmp_path / "wide.csv"
    wide.write_bytes(b"timestamp,pump-a/flow\n2026-01-01T00:00:00Z,1.5\n\n2026-01-01T00:00:30Z,x\n2026-01-01T00:01:00Z,2.5\n")
    parsed = read_readings(str(wide))
    assert parsed.table.column("line").to_pylist() == [2, 5]
    assert [e.line for e in parsed.errors] == [4]


def test_numbers_with_a_decimal_comma_are_read_where_fields_are_not_comma_separated(tmp_path):
    """A spreadsheet export from much of Europe: `;` between fields, `20,5` for 20.5 (and `1.234,5` with a thousands
    dot), long and wide; a `1.5` keeps its dot. In a comma-separated file a quoted "1,234" is not guessed at."""
    from lepton_flow.formats import read_readings

    long = tmp_path / "export.csv"
    long.write_bytes(
        "\ufefftimestamp;sensor_id;metric;value;unit\r\n"
        "2026-01-01T00:00:00Z;s1;temperature;20,5;C\r\n"
        "2026-01-01T00:00:30Z;s1;temperature;-3,25;C\r\n"
        "2026-01-01T00:01:00Z;s1;pressure;1.013,25;hPa\r\n"
        "2026-01-01T00:01:30Z;s1;temperature;1.5;C\r\n"
        "2026-01-01T00:02:00Z;s1;temperature;20,5,1;C\r\n".encode()
    )
    parsed = read_readings(str(long))
    assert parsed.table.column("value").to_pylist() == [20.5, -3.25, 1013.25, 1.5]
    assert [(e.line, e.reason) for e in parsed.errors] == [(6, "column value: '20,5,1' is not a number")]

    wide = tmp_path / "wide.tsv"
    wide.write_text("timestamp\tsensor_id\ttemperature[C]\thumidity[%]\n2026-01-01T00:00:00Z\ts1\t20,5\t55,25\n")
    assert sorted(read_readings(str(wide)).table.column("value").to_pylist()) == [20.5, 55.25]

    labelled = tmp_path / "labels.csv"  # label columns found by their spelled-out names keep their text
    labelled.write_text("Date/Time;Sensor ID;metric;value;Units\n2026-01-01 00:00:00;12,5;temperature;20,5;C\n")
    table = read_readings(str(labelled)).table
    assert table.column("sensor_id").to_pylist() == ["12,5"] and table.column("value").to_pylist() == [20.5]

    comma = tmp_path / "us.csv"
    comma.write_text('timestamp,sensor_id,metric,value,unit\n2026-01-01T00:00:00Z,s1,temperature,"1,234",C\n')
    assert read_readings(str(comma)).table.num_rows == 0  # quarantined as not a number, not read as 1.234 or 1234


def test_utf16_text_as_excel_and_windows_tools_write_it_is_read_as_text(tmp_path):
    """Excel's "Unicode Text" (UTF-16 LE with its byte order mark, tab-separated, CRLF), gzipped or not, and a big-endian
    CSV: read as their text says, a bad line named by its own number; such a file is known by its content, not tailed."""
    from lepton_flow.formats import read_pieces, tails

    rows = ["timestamp\tsensor_id\ttemperature (\u00b0C)"] + [f"2026-01-01 00:{i:02d}:00\tpump-\u00e9\t{20 + i / 10}" for i in range(30)]
    rows[7] = "2026-01-01 00:06:00\tpump-\u00e9\twarm"
    text = "\ufeff" + "\r\n".join(rows) + "\r\n"
    (tmp_path / "export.tsv").write_bytes(text.encode("utf-16-le"))
    (tmp_path / "export2.tsv.gz").write_bytes(gzip.compress(text.encode("utf-16-le")))
    (tmp_path / "export3.csv").write_bytes(text.replace("\t", ",").encode("utf-16-be"))
    for name in ("export.tsv", "export2.tsv.gz", "export3.csv"):
        pieces = list(read_pieces(str(tmp_path / name), piece_bytes=200))
        table = pa.concat_tables(p.table for p in pieces)
        assert table.num_rows == 29 and set(table.column("sensor_id").to_pylist()) == {"pump-\u00e9"}, name
        assert set(table.column("unit").to_pylist()) == {"\u00b0C"} and table.column("line").to_pylist()[:7] == [2, 3, 4, 5, 6, 7, 9]
        assert [(e.line, e.reason) for p in pieces for e in p.errors] == [(8, "column temperature (\u00b0C): 'warm' is not a number")]
    (found,), _, _ = discover(str(tmp_path / "export.tsv"), set(), is_supported)  # known as UTF-16 from the hash's own read
    assert found.utf16 and not tails(found, ReadOptions())


def test_a_json_document_of_records_is_read_as_its_records(tmp_path):
    """What APIs and tools export as `.json`: an array of objects, pretty-printed or on one line, or an object holding
    one (`{"meta": ..., "data": [...]}`). Each record numbered by the line it starts on; a bad element quarantined;
    a file of JSON Lines stays JSON Lines."""
    rows = [{"timestamp": f"2026-01-01T00:0{i}:00Z", "sensor_id": "s1", "temperature": 20 + i} for i in range(4)]
    cases = {
        "pretty.json": (json.dumps(rows, indent=2), [2, 7, 12, 17]),
        "minified.json": (json.dumps(rows), [1, 1, 1, 1]),
        "wrapped.json": (json.dumps({"meta": {"count": 4}, "data": rows}, indent=1), [6, 11, 16, 21]),
        "wrapped-line.json": (json.dumps({"data": rows, "next": None}), [1, 1, 1, 1]),
        "lines.json": ("".join(json.dumps(r) + "\n" for r in rows), [1, 2, 3, 4]),
    }
    for name, (text, lines) in cases.items():
        (tmp_path / name).write_text(text)
        parsed = read_readings(str(tmp_path / name))
        assert parsed.table.column("line").to_pylist() == lines and not parsed.errors, name
        assert sorted(parsed.table.column("value").to_pylist()) == [20, 21, 22, 23], name
    broken = tmp_path / "broken.json"
    broken.write_text("[\n" + json.dumps(rows[0]) + ",\n  3,\n" + json.dumps(rows[1]) + ',\n {"oops": }\n' + json.dumps(rows[2]) + "]\n")
    parsed = read_readings(str(broken))
    assert parsed.table.column("line").to_pylist() == [2, 4]
    assert [(e.line, e.reason) for e in parsed.errors] == [
        (3, "an array element must be an object: found a int"),
        (5, "invalid JSON: Expecting value; the array's 3 line(s) from line 5 are not read"),
    ]
    (tmp_path / "keys.json").write_text(json.dumps({"a": [{"x": 1}], "b": [{"y": 2}]}, indent=1))
    with pytest.raises(SourceError, match=r"keys.json: a JSON document of 2 key\(s\) \(a, b\): expected an array of objects"):
        read_readings(str(tmp_path / "keys.json"))


def test_spreadsheet_serial_days_are_read_as_the_local_times_they_are(tmp_path):
    """A date column a spreadsheet saved as CSV in its General format: serial days (45413 is 2024-05-01), local time.
    As epoch seconds they all fell on 1 January 1970 and were quarantined."""
    path = tmp_path / "export.csv"
    path.write_text("Date,Temperature\n45413,20.5\n45413.0416666667,20.7\n45413.5,20.9\n")
    times = read_readings(str(path)).table.column("timestamp").to_pylist()
    assert [t.isoformat() for t in times] == ["2024-05-01T00:00:00+00:00", "2024-05-01T01:00:00+00:00", "2024-05-01T12:00:00+00:00"]
    berlin = read_readings(str(path), ReadOptions(timezone="Europe/Berlin")).table.column("timestamp").to_pylist()
    assert berlin[0].isoformat() == "2024-04-30T22:00:00+00:00"
    seconds = tmp_path / "relative.csv"  # seconds since a start: epoch seconds as before (ingest's floor quarantines them)
    seconds.write_text("time,temperature\n" + "".join(f"{t},20.5\n" for t in range(0, 86400, 3600)))
    assert {t.year for t in read_readings(str(seconds)).table.column("timestamp").to_pylist()} == {1970}


def test_a_workbook_s_first_sheet_with_cells_is_read_as_its_csv_export_would_be(tmp_path):
    """An Excel workbook as a logger's export or a lab sheet looks: an empty first sheet, a title row padded to the
    sheet's width (a CSV export writes it `Pump 1 export,,,`), a blank row, the header at row 3 of column B, date-time
    cells (midnight too), whole numbers, a text cell among the numbers (its row quarantined by its number), and an error
    value (`#DIV/0!`: no reading, as python-calamine gives it)."""
    from datetime import datetime

    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("Data")
    sheet["B1"], sheet["E1"] = "Pump 1 export", "exported by hand"
    sheet.append([None, "Timestamp", "Sensor ID", "Temperature (\u00b0C)", "Pressure (hPa)"])
    sheet.move_range("A2:E2", rows=1)
    rows = [
        [None, datetime(2026, 1, 1, 0, 0), 12345, 20.5, 1013],
        [None, datetime(2026, 1, 1, 0, 1), 12345, "warm", 1013.25],
        [None, datetime(2026, 1, 1, 0, 2), 12345, "#DIV/0!", 1012.5],
    ]
    for i, row in enumerate(rows, start=4):
        for col, value in enumerate(row, start=1):
            sheet.cell(row=i, column=col, value=value)
    path = tmp_path / "pump.xlsx"
    book.save(path)
    parsed = read_readings(str(path))
    table = parsed.table.to_pandas()
    assert set(table["sensor_id"]) == {"12345"} and table["timestamp"].min() == pd.Timestamp("2026-01-01T00:00:00Z")
    assert sorted(zip(table["line"], table["metric"].astype(str), table["value"])) == [(4, "pressure", 1013.0), (4, "temperature", 20.5), (6, "pressure", 1012.5)]
    assert [(e.line, e.reason) for e in parsed.errors] == [
        (1, "before the header (line 3): a preamble line, not a reading"),
        (2, "before the header (line 3): a preamble line, not a reading"),
        (5, "column Temperature (\u00b0C): 'warm' is not a number"),
    ]
    for broken in (b"", b"PK\x03\x04 not a workbook"):
        path.write_bytes(broken)
        with pytest.raises(SourceError, match=f"{path}: cannot be read as a spreadsheet"):
            read_readings(str(path))


def test_dates_as_spreadsheets_and_mail_write_them_are_read_when_unambiguous_and_refused_by_name_when_not(tmp_path):
    """Day-first dotted dates, slash dates whose order the file's own values tell (a day above 12, or a month-first
    date with a day above 12), RFC 2822 dates; slash dates that fit both orders are quarantined saying so, and a
    layout not read is named as such (not as a year out of range)."""
    from lepton_flow.formats import read_readings

    def read(name, times, timezone="UTC"):
        path = tmp_path / name
        path.write_text("timestamp;sensor_id;metric;value\n" + "".join(f"{t};s1;temperature;{20 + i}\n" for i, t in enumerate(times)))
        return read_readings(str(path), ReadOptions(timezone=timezone))

    dotted = read("de.csv", ["01.03.2026 10:00:00", "1.3.2026 10:00", "02.03.2026"], timezone="Europe/Berlin")
    assert [str(t) for t in dotted.table.column("timestamp").to_pylist()] == [
        "2026-03-01 09:00:00+00:00", "2026-03-01 09:00:00+00:00", "2026-03-01 23:00:00+00:00"]
    us = read("us.csv", ["03/01/2026 10:00:00 PM", "03/13/2026 09:30 AM"])
    assert [str(t) for t in us.table.column("timestamp").to_pylist()] == ["2026-03-01 22:00:00+00:00", "2026-03-13 09:30:00+00:00"]
    uk = read("uk.csv", ["03/01/2026 10:00", "13/01/2026 10:00"])
    assert [str(t) for t in uk.table.column("timestamp").to_pylist()] == ["2026-01-03 10:00:00+00:00", "2026-01-13 10:00:00+00:00"]
    mail = read("mail.csv", ["Sun, 01 Mar 2026 10:00:00 GMT", "01 Mar 2026 10:00:00 +0100"])
    assert [str(t) for t in mail.table.column("timestamp").to_pylist()] == ["2026-03-01 10:00:00+00:00", "2026-03-01 09:00:00+00:00"]

    unclear = read("unclear.csv", ["03/01/2026 10:00", "04/02/2026 10:00"])
    assert unclear.table.num_rows == 0 and len(unclear.errors) == 2
    assert all("do not tell whether the day or the month comes first" in e.reason for e in unclear.errors)
    odd = read("odd.csv", ["Mar 1 2026 10am"])
    assert odd.table.num_rows == 0 and "not in a layout read here" in odd.errors[0].reason and "outside the years" not in odd.errors[0].reason


def test_a_loggers_export_with_spelled_out_headers_is_read_as_its_headers_say(tmp_path):
    """`Date/Time` is the timestamp column (not an elapsed `Time (s)` beside it), `Sensor ID` the sensor column, a unit
    in parentheses is a unit when it is one (`Temperature (°C)`) and part of the name when not (`Temperature
    (inside)`); `N/A` and `-` are no reading."""
    from lepton_flow.formats import read_readings

    path = tmp_path / "logger.csv"
    path.write_text(
        "Date/Time,Sensor ID,Time (s),Temperature (°C),Temperature (inside),Humidity (%),Pressure [hPa]\n"
        "2026-03-01 10:00:00,logger-7,0,20.5,21.0,55,1013\n"
        "2026-03-01 10:00:30,logger-7,30,N/A,21.5,56,-\n"
    )
    table = read_readings(str(path)).table
    rows = sorted(zip(table.column("timestamp").to_pylist(), table.column("sensor_id").to_pylist(), table.column("metric").to_pylist(),
                      table.column("unit").to_pylist(), table.column("value").to_pylist()), key=lambda r: (r[0], r[2]))
    assert {str(r[0]) for r in rows} == {"2026-03-01 10:00:00+00:00", "2026-03-01 10:00:30+00:00"} and {r[1] for r in rows} == {"logger-7"}
    first = {(m, u): v for t, _, m, u, v in rows if str(t).endswith("10:00:00+00:00")}
    assert first == {("humidity", "%"): 55.0, ("pressure", "hPa"): 1013.0, ("temperature", "°C"): 20.5, ("temperature_inside", None): 21.0, ("time", "s"): 0.0}
    assert len(rows) == 5 + 3  # the second line: no temperature (N/A) and no pressure (-)


def test_a_date_column_and_a_time_of_day_column_make_the_timestamp(tmp_path):
    """`Date` + `Time` as spreadsheets and weather files (TMY3: `Date (MM/DD/YYYY)`, `Time (HH:MM)`, hours 01:00-24:00)
    write them: joined into one timestamp; 24:00 is the next day's 00:00; a time that is none is quarantined naming both
    columns and the text. A `Time` column holding whole timestamps stays the timestamp, its `Date` beside it a label."""
    from lepton_flow.formats import read_readings

    wx = tmp_path / "greensboro.csv"
    wx.write_text(
        "Date (MM/DD/YYYY),Time (HH:MM),Dry-bulb (C),RHum (%)\n"
        "12/31/1988,23:00,6.1,77\n12/31/1988,24:00,5.0,80\n01/13/1988,01:00:30.5,4.0,81\n01/14/1988,25:00,3,2\n"
    )
    got = read_readings(str(wx))
    t = got.table
    rows = sorted(zip(map(str, t.column("timestamp").to_pylist()), t.column("metric").to_pylist(), t.column("unit").to_pylist(), t.column("value").to_pylist()))
    assert rows == [
        ("1988-01-13 01:00:30.500000+00:00", "dry_bulb", "C", 4.0), ("1988-01-13 01:00:30.500000+00:00", "rhum", "%", 81.0),
        ("1988-12-31 23:00:00+00:00", "dry_bulb", "C", 6.1), ("1988-12-31 23:00:00+00:00", "rhum", "%", 77.0),
        ("1989-01-01 00:00:00+00:00", "dry_bulb", "C", 5.0), ("1989-01-01 00:00:00+00:00", "rhum", "%", 80.0),
    ]  # fmt: skip
    assert [(e.line, e.reason) for e in got.errors] == [
        (5, "column Date (MM/DD/YYYY) + Time (HH:MM): timestamp '01/14/1988 25:00' is not a date/time (read: ISO 8601, epoch numbers, "
            "dd.mm.yyyy, dd/mm/yyyy or mm/dd/yyyy (as the file's dates tell), dates with the month's name (19-Sep-2003), RFC 2822)")
    ]  # fmt: skip

    whole = tmp_path / "whole.csv"
    whole.write_text("date,time,sensor_id,metric,value\nMonday,2026-03-01T10:00:00Z,s-1,temperature,20.5\n")
    t = read_readings(str(whole)).table
    assert [str(v) for v in t.column("timestamp").to_pylist()] == ["2026-03-01 10:00:00+00:00"] and t.column("value").to_pylist() == [20.5]


def test_a_typical_year_weather_file_s_flag_columns_are_its_readings_quality(tmp_path):
    """TMY3's layout (pvlib's `723170TYA.CSV` once its station line is left out): each field has a `source` column of
    letters beside it (`GHI source`; `Lprecip source` for `Lprecip depth` and `Lprecip quantity`). They are the
    quality of the readings they name, not metrics whose letters quarantine every line; a unit holding a slash
    (`W/m^2`, irradiance) is not a `sensor/metric` name; a flag-like name that names no column stays a metric."""
    from lepton_flow.formats import read_readings

    path = tmp_path / "tmy3.csv"
    path.write_text(
        "Date (MM/DD/YYYY),Time (HH:MM),GHI (W/m^2),GHI source,GHI uncert (%),Lprecip depth (mm),Lprecip quantity (hr),Lprecip source,Pump status\n"
        "06/01/1995,13:00,812,1,8,0,1,D,1\n"
        "06/01/1995,14:00,790,2,8,0,1,?,0\n"
    )
    got = read_readings(str(path))
    assert got.errors == []
    t = got.table
    rows = {(str(ts)[11:16], m, q, v) for ts, m, q, v in zip(t.column("timestamp").to_pylist(), t.column("metric").to_pylist(), t.column("quality").to_pylist(), t.column("value").to_pylist())}
    assert {m for _, m, _, _ in rows} == {"ghi", "ghi_uncert", "lprecip_depth", "lprecip_quantity", "pump_status"}
    assert {r for r in rows if r[1] in ("ghi", "lprecip_depth")} == {
        ("13:00", "ghi", "1", 812.0), ("14:00", "ghi", "2", 790.0), ("13:00", "lprecip_depth", "D", 0.0), ("14:00", "lprecip_depth", "?", 0.0)
    }  # fmt: skip
    units = dict(zip(t.column("metric").to_pylist(), t.column("unit").to_pylist()))
    assert units["ghi"] == "W/m^2" and units["lprecip_depth"] == "mm" and units["lprecip_quantity"] == "hr"
    assert set(t.column("sensor_id").to_pylist()) == {"tmy3"}
    assert {str(ts)[:10] for ts in t.column("timestamp").to_pylist()} == {"1995-06-01"}  # the header says month first


def test_a_preamble_before_a_csv_header_and_a_units_line_after_it_are_read_as_what_they_are(tmp_path, monkeypatch):
    """Loggers and weather files write a line or a few about the station before the header: TMY3 its station id, name
    and coordinates (pvlib's `723170TYA.CSV`, line 1); a Campbell TOA5 file `"TOA5",station,logger,...` then the header
    and a units line; others `# comment` lines. The header is the first line whose field count the next lines share;
    the lines before it are quarantined with their number and reason, the rows keep their own line numbers, and a
    file read again from where it grew reads under the same header. A units line after the header gives the value
    columns their units. A data row is never taken for a header."""
    from lepton_flow.formats import csv as csv_format
    from lepton_flow.formats import lines as lines_module
    from lepton_flow.formats.lines import Span

    tmy3 = tmp_path / "greensboro.csv"
    tmy3.write_text(
        '723170,"GREENSBORO PIEDMONT TRIAD INT",NC,-5.0,36.100,-79.950,273\n'
        "Date (MM/DD/YYYY),Time (HH:MM),Dry-bulb (C),RHum (%)\n"
        "01/01/1988,01:00,6.1,77\n01/01/1988,02:00,5.0,80\n"
    )
    got = read_readings(str(tmy3))
    assert [(e.line, e.reason, e.text) for e in got.errors] == [
        (1, "before the header (line 2): a preamble line, not a reading", '723170,"GREENSBORO PIEDMONT TRIAD INT",NC,-5.0,36.100,-79.950,273')
    ]
    t = got.table
    assert sorted(zip(t.column("line").to_pylist(), t.column("metric").to_pylist(), t.column("value").to_pylist())) == [
        (3, "dry_bulb", 6.1), (3, "rhum", 77.0), (4, "dry_bulb", 5.0), (4, "rhum", 80.0)
    ]  # fmt: skip

    toa5 = tmp_path / "met.csv"
    toa5.write_text(
        '"TOA5","CR1000_Met","CR1000","12345","CR1000.Std.32","CPU:met.CR1","5678","Hourly"\n'
        '"TIMESTAMP","RECORD","AirTC_Avg","RH"\n"TS","RN","Deg C","%"\n"","","Avg","Smp"\n'
        '"2019-06-01 01:00:00",0,21.3,55\n"2019-06-01 02:00:00",1,20.9,58\n'
    )
    got = read_readings(str(toa5))
    assert [(e.line, e.reason) for e in got.errors] == [
        (1, "before the header (line 2): a preamble line, not a reading"),
        (3, "after the header (line 2): a units or processing line, not a reading"),
        (4, "after the header (line 2): a units or processing line, not a reading"),
    ]
    t = got.table
    assert sorted(set(t.column("line").to_pylist())) == [5, 6]
    # The units line gives each value column its unit.
    assert dict(zip(t.column("metric").to_pylist(), t.column("unit").to_pylist())) == {"airtc_avg": "Deg C", "rh": "%"}  # RECORD: no reading
    # Read on from where it grew, the units still apply.
    grown = toa5.read_bytes()
    span = Span(start=len(grown) - len(b'"2019-06-01 02:00:00",1,20.9,58\n'), line_base=5)
    (table, lines, errors), = list(csv_format.pieces(str(toa5), ReadOptions(), 1 << 20, span))
    assert lines.tolist() == [6] and errors == [] and "AirTC_Avg [Deg C]" in table.column_names

    units = tmp_path / "units.csv"
    units.write_text("time,temp,Pressure (hPa)\n,degC,kPa\n2026-01-01T00:00:00Z,20.5,1013\n2026-01-01T00:01:00Z,20.6,1012\n")
    got = read_readings(str(units))
    assert [e.line for e in got.errors] == [2] and sorted(set(got.table.column("line").to_pylist())) == [3, 4]
    assert dict(zip(got.table.column("metric").to_pylist(), got.table.column("unit").to_pylist())) == {"temp": "degC", "pressure": "hPa"}  # the header's own unit stays

    commented = tmp_path / "pump.csv"
    commented.write_text("# exported by logger v2\n# site: north\ntimestamp,value\n2026-01-01T00:00:00Z,1.5\n2026-01-01T00:01:00Z,1.75\n2026-01-01T00:02:00Z,2\n")
    got = read_readings(str(commented))
    assert [e.line for e in got.errors] == [1, 2] and got.table.column("value").to_pylist() == [1.5, 1.75, 2.0]
    # Grown since a first read of its first two rows: the rest is read under the same header, numbered in the file.
    span = Span(start=len(commented.read_bytes().split(b"\n2026-01-01T00:02")[0]) + 1, line_base=5)
    (table, lines, errors), = list(csv_format.pieces(str(commented), ReadOptions(), 1 << 20, span))
    assert table.column_names == ["timestamp", "value"] and lines.tolist() == [6] and errors == []
    # Still being written (a last line without its end): the complete rows are read, the partial one waits.
    writing = tmp_path / "writing.csv"
    writing.write_bytes(commented.read_bytes() + b"2026-01-01T00:03")
    span = Span(final=False)
    (table, lines, errors), = list(csv_format.pieces(str(writing), ReadOptions(), 1 << 20, span))
    assert lines.tolist() == [4, 5, 6] and [e.line for e in errors] == [1, 2] and (span.end, span.lines) == (len(commented.read_bytes()), 6)

    # Line 1 is the header whenever the lines after it agree with it; a header that does not is never replaced by a data row.
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("timestamp,value,\n2026-01-01T00:00:00Z,1\n2026-01-01T00:01:00Z,2\n2026-01-01T00:02:00Z,3\n")
    assert csv_format.header_at(ragged.read_bytes().splitlines(keepends=True)) == (0, 0)
    assert [e.line for e in read_readings(str(ragged)).errors] == [2, 3, 4]  # each row named, as before
    plain = tmp_path / "plain.csv"
    plain.write_text("timestamp,value\n2026-01-01T00:00:00Z,1\n")
    assert read_readings(str(plain)).errors == []
    # A file is opened once to be read: the header is found among the lines the read starts with (a second open
    # would be one more chance for a flaky source to fail, and a retry's count off by one).
    opened = []
    real_open = lines_module.open_source
    monkeypatch.setattr(lines_module, "open_source", lambda url, offset=0: opened.append(url) or real_open(url, offset))
    assert read_readings(str(tmy3)).readings == 4 and opened == [str(tmy3)]


def test_a_new_store_s_grid_is_the_readings_own_spacing(tmp_path):
    """Hourly weather on a 30 s grid is 119 empty steps in 120, each a gap to flag: a new store's grid follows the
    first files' spacing (the finest series decides, rounded down to a round spacing, 1% of jitter allowed, never
    under the 30 s default); readings closer than that keep the default."""
    from lepton_flow.ingest import grid_from_readings

    def write(name: str, seconds: list[float], metric: str = "temperature") -> str:
        path = tmp_path / name
        start = pd.Timestamp("2026-03-01T00:00:00Z")
        path.write_text("timestamp,metric,value\n" + "".join(f"{(start + pd.Timedelta(seconds=s)).isoformat()},{metric},1\n" for s in seconds))
        return str(path)

    hourly = write("hourly.csv", [3600 * i for i in range(48)])
    jittered = write("server.csv", [300 * i + (7 if i % 2 else -4) for i in range(100)])
    ten_minutes = write("slow.csv", [600 * i for i in range(50)], metric="pressure")
    one_hz = write("fast.csv", list(range(600)))
    assert grid_from_readings([hourly], ReadOptions()) == 3600
    assert grid_from_readings([jittered], ReadOptions()) == 300
    assert grid_from_readings([ten_minutes, jittered], ReadOptions()) == 300  # the finest series
    assert grid_from_readings([one_hz, hourly], ReadOptions()) == 30
    assert grid_from_readings([write("one.csv", [0])], ReadOptions()) == 30  # nothing to judge by
    assert grid_from_readings([str(tmp_path / "missing.csv")], ReadOptions()) == 30


def test_a_column_of_names_is_a_label_of_the_rows_and_station_or_ticker_columns_name_the_sensor(tmp_path):
    """Real files, shipped in bokeh's sample data, that lost every line: NOAA's daily weather (`"STATION","NAME","DATE",
    "TMAX","TMIN"`: the station's name in every row) and a stock table (`Ticker,Date,Open,...`). A column that holds
    text in most rows and a number in none is a label of the rows, not a metric whose text quarantines every line;
    `station`, `site`, `host`, `ticker`, `symbol` columns name the sensor. A metric column with a few words among
    numbers still quarantines those lines."""
    noaa = tmp_path / "lincoln_weather.csv"
    noaa.write_text(
        '"STATION","NAME","DATE","TMAX","TMIN"\n'
        '"USW00094996","LINCOLN 11 SW, NE US","2016-01-01","36","15"\n"USW00094996","LINCOLN 11 SW, NE US","2016-01-02","39","18"\n'
    )
    got = read_readings(str(noaa))
    assert got.errors == []
    t = got.table
    assert sorted(zip(t.column("sensor_id").to_pylist(), t.column("metric").to_pylist(), t.column("value").to_pylist())) == [
        ("USW00094996", "tmax", 36.0), ("USW00094996", "tmax", 39.0), ("USW00094996", "tmin", 15.0), ("USW00094996", "tmin", 18.0)
    ]  # fmt: skip
    stocks = tmp_path / "stocks.csv"
    stocks.write_text("Ticker,Date,Open,Close\nAAPL,2000-03-01,118.56,130.31\nIBM,2000-03-01,102.0,100.25\n")
    t = read_readings(str(stocks)).table
    assert sorted(set(zip(t.column("sensor_id").to_pylist(), t.column("metric").to_pylist()))) == [("AAPL", "close"), ("AAPL", "open"), ("IBM", "close"), ("IBM", "open")]
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("timestamp,temp,state\n2026-01-01T00:00:00Z,20.5,1\n2026-01-01T00:01:00Z,20.6,ERR\n2026-01-01T00:02:00Z,20.7,2\n")
    got = read_readings(str(mixed))
    assert [(e.line, e.reason) for e in got.errors] == [(3, "column state: 'ERR' is not a number")]


def test_dates_with_month_names_and_time_columns_named_with_their_zone(tmp_path):
    """matplotlib's `msft.csv` (`19-Sep-03`, as Yahoo Finance and spreadsheets write dates, newest first) lost every line;
    aeon's `solar.csv` (`datetime_gmt`) was refused for want of a timestamp column. A month's name makes a date
    unambiguous (`19-Sep-03`, `19 Sep 2003`, `Sep 19, 2003`; two-digit years as strptime reads them), and a time
    column may carry its zone in its name."""
    msft = tmp_path / "msft.csv"
    msft.write_text("Date,Open,Close\n19-Sep-03,29.76,29.96\n18-Sep-03,28.49,29.50\n2 January 1999,1,2\n\"Sep 17, 2003\",3,4\n31-Feb-03,1,1\n")
    got = read_readings(str(msft))
    stamps = sorted({str(t)[:10] for t in got.table.column("timestamp").to_pylist()})
    assert stamps == ["1999-01-02", "2003-09-17", "2003-09-18", "2003-09-19"]
    assert [(e.line, e.reason.split(":")[0]) for e in got.errors] == [(6, "column Date")]  # 31 February is no date
    solar = tmp_path / "solar.csv"
    solar.write_text("datetime_gmt,solar_gen\n2021-05-01 00:00:00+00:00,0.0\n2021-05-01 00:30:00+00:00,0.5\n")
    t = read_readings(str(solar)).table
    assert t.column("metric").to_pylist() == ["solar_gen", "solar_gen"] and t.num_rows == 2
    for name in ("time_utc", "UTC Timestamp", "Date_Time-local"):
        path = tmp_path / "zoned.csv"
        path.write_text(f"{name},v\n2021-05-01T00:00:00Z,1\n")
        assert read_readings(str(path)).readings == 1, name


def test_missing_value_codes_far_from_a_column_s_values_are_no_reading(tmp_path):
    """pvlib's TMY3 `703165TY.csv` writes -9900 where a field has no value (16,022 of them): stored as readings, a
    model would learn them. A missing-value code (-9900, -9999, 9999.9, ...) that lies far outside its column's other
    values is no reading, as an empty cell is; the same number inside a column's range is a reading."""
    from lepton_flow.sources import missing_codes

    path = tmp_path / "station.csv"
    path.write_text("timestamp,ghi,depth\n2026-01-01T00:00:00Z,-9900,-999\n2026-01-01T01:00:00Z,410,-1500\n2026-01-01T02:00:00Z,820,1200\n")
    t = read_readings(str(path)).table
    got = sorted(zip(t.column("metric").to_pylist(), t.column("value").to_pylist()))
    assert got == [("depth", -1500.0), ("depth", -999.0), ("depth", 1200.0), ("ghi", 410.0), ("ghi", 820.0)]
    assert missing_codes(np.array([-9999.0, -9999.0])).all()  # nothing else beside them: a column of codes
    assert not missing_codes(np.array([9999.0, 10_000.0, 12_000.0])).any()
    # Long layout: judged within each metric; the row then has no value and fails `value_present` in validation.
    long = tmp_path / "long.csv"
    long.write_text("timestamp,sensor_id,metric,value\n2026-01-01T00:00:00Z,a,rain,-9999\n2026-01-01T00:00:00Z,a,rain,1.5\n2026-01-01T00:00:00Z,a,height,-9999\n2026-01-01T00:00:00Z,a,height,-9600\n2026-01-01T00:00:00Z,a,height,-8000\n")
    t = read_readings(str(long)).table
    values = {(m, None if v != v else v) for m, v in zip(t.column("metric").to_pylist(), t.column("value").to_pylist())}
    assert values == {("height", -9999.0), ("height", -9600.0), ("height", -8000.0), ("rain", 1.5), ("rain", None)}  # -9999 is inside the heights' reach


def test_influxdb_annotated_csv_and_a_home_assistant_history_export(tmp_path):
    """Two exports sensor readings come in that were refused ("no timestamp column"). InfluxDB's annotated CSV (its UI's
    download, `influx query --raw`): `#group`, `#datatype`, `#default` rows before the header, which have its field
    count; `_time`, `_value`, `_field` (the metric; `_measurement` is the table) and its tags. Home Assistant's history
    (`entity_id,state,last_changed`), where a sensor offline writes `unavailable` or `unknown`: no reading."""
    influx = tmp_path / "airSensors.csv"
    influx.write_text(
        "#group,false,false,true,true,false,false,true,true,true\n"
        "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\n"
        "#default,_result,,,,,,,,\n"
        ",result,table,_start,_stop,_time,_value,_field,_measurement,sensor_id\n"
        + "".join(f",,{t},2021-01-01T00:00:00Z,2021-01-02T00:00:00Z,2021-01-01T00:00:{s:02d}.123456789Z,{v},{field},airSensors,{sensor}\n"
                  for t, (field, sensor) in enumerate([("temperature", "TLM0100"), ("humidity", "TLM0100"), ("temperature", "TLM0101")])
                  for s, v in [(10, 21.5 + t), (20, 21.75 + t)])
    )
    got = read_readings(str(influx))
    assert [(e.line, e.reason.split(":")[0]) for e in got.errors] == [(1, "before the header (line 4)"), (2, "before the header (line 4)"), (3, "before the header (line 4)")]
    t = got.table
    assert sorted(zip(t.column("sensor_id").to_pylist(), t.column("metric").to_pylist(), t.column("value").to_pylist())) == [
        ("TLM0100", "humidity", 22.5), ("TLM0100", "humidity", 22.75), ("TLM0100", "temperature", 21.5), ("TLM0100", "temperature", 21.75),
        ("TLM0101", "temperature", 23.5), ("TLM0101", "temperature", 23.75)]
    assert str(t.column("timestamp")[0]) == "2021-01-01 00:00:10.123456789+00:00"
    ha = tmp_path / "history.csv"
    ha.write_text(
        "entity_id,state,last_changed\n"
        "sensor.living_room_temperature,21.5,2024-01-01T00:00:00.000Z\n"
        "sensor.living_room_temperature,unavailable,2024-01-01T00:07:12.345Z\n"
        "sensor.living_room_humidity,45,2024-01-01T00:00:00.000Z\n"
        "sensor.living_room_humidity,unknown,2024-01-01T00:03:00.000Z\n"
        "binary_sensor.front_door,on,2024-01-01T00:04:00.000Z\n"
    )
    got = read_readings(str(ha))
    t = got.table
    assert sorted(zip(t.column("sensor_id").to_pylist(), t.column("metric").to_pylist(), t.column("value").to_pylist())) == [
        ("sensor.living_room_humidity", "state", 45.0), ("sensor.living_room_temperature", "state", 21.5)]
    assert [(e.line, e.reason) for e in got.errors] == [(6, "column state: 'on' is not a number")]


def _series(got) -> list[tuple]:
    t = got.table
    return sorted(zip(t.column("sensor_id").to_pylist(), t.column("metric").to_pylist(), t.column("value").to_pylist(), [str(x)[:19] for x in t.column("timestamp").to_pylist()]))


def test_telegraf_s_line_protocol_and_json_and_a_prometheus_answer_read_as_tagged_series(tmp_path):
    """Where metrics pipelines leave readings: Telegraf's file output (InfluxDB line protocol, its default, or JSON) and
    a Prometheus HTTP API answer. A point's tags are its series (the host first, then the other tags: each core its own
    sensor, not duplicates of one), `measurement_field` its metric; escapes, integers, booleans read as the protocol
    says, text fields are no reading, and a broken point is quarantined with its reason. Telegraf's JSON lines were
    read as nothing and said nothing (their values nested in `fields`); a file whose columns all hold text is now refused."""
    lp = tmp_path / "metrics.lp"
    lp.write_text(
        "# telegraf outputs.file\n"
        "cpu,cpu=cpu0,host=edge-1 usage_idle=99.1,usage_user=0.5 1700000000000000000\n"
        "cpu,cpu=cpu1,host=edge-1 usage_idle=97.5,usage_user=1.5 1700000000000000000\n"
        'weather,station=KSEA,name=Seattle\\ Tacoma temp_c=7.5,wind=12i,raining=true,desc="light \\"rain\\", cold" 1700000010000000000\n'
        "cpu,host=edge-2 usage_idle=abc 1700000020000000000\n"
        "cpu,host=edge-2 usage_idle=97.0\n"
        "just some words\n"
    )
    got = read_readings(str(lp))
    assert _series(got) == [
        ("KSEA.Seattle_Tacoma", "weather_raining", 1.0, "2023-11-14 22:13:30"), ("KSEA.Seattle_Tacoma", "weather_temp_c", 7.5, "2023-11-14 22:13:30"),
        ("KSEA.Seattle_Tacoma", "weather_wind", 12.0, "2023-11-14 22:13:30"),
        ("edge-1.cpu0", "cpu_usage_idle", 99.1, "2023-11-14 22:13:20"), ("edge-1.cpu0", "cpu_usage_user", 0.5, "2023-11-14 22:13:20"),
        ("edge-1.cpu1", "cpu_usage_idle", 97.5, "2023-11-14 22:13:20"), ("edge-1.cpu1", "cpu_usage_user", 1.5, "2023-11-14 22:13:20")]
    assert [(e.line, e.reason) for e in got.errors] == [
        (5, "not a line-protocol point: field usage_idle: 'abc' is not a number"),
        (6, "a point without a time (InfluxDB would give it the time it was written)"),
        (7, "not a line-protocol point: field 'some' is not key=value")]
    points = [{"fields": {"usage_idle": 99.1}, "name": "cpu", "tags": {"cpu": "cpu0", "host": "edge-1"}, "timestamp": 1700000000},
              {"fields": {"temperature": 21.5, "ok": "yes"}, "name": "dht22", "tags": {"room": "lab"}, "timestamp": 1700000010}]
    tj = tmp_path / "metrics.json"
    tj.write_text("".join(json.dumps(p) + "\n" for p in points))
    want = [("edge-1.cpu0", "cpu_usage_idle", 99.1, "2023-11-14 22:13:20"), ("lab", "dht22_temperature", 21.5, "2023-11-14 22:13:30")]
    assert _series(read_readings(str(tj))) == want
    batch = tmp_path / "batch.json"  # Telegraf's json_batch: one document
    batch.write_text(json.dumps({"metrics": points}, indent=2))
    assert _series(read_readings(str(batch))) == want
    answer = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "node_load1", "instance": "edge-1:9100", "job": "node"}, "values": [[1700000000, "0.52"], [1700000015, "0.61"]]},
        {"metric": {"__name__": "node_load1", "instance": "edge-2:9100", "job": "node"}, "values": [[1700000000, "1.02"], [1700000015, "NaN"], [1700000030, "x"]]}]}}
    prom = tmp_path / "query_range.json"
    prom.write_text(json.dumps(answer))
    got = read_readings(str(prom))
    assert _series(got) == [("edge-1:9100.node", "node_load1", 0.52, "2023-11-14 22:13:20"), ("edge-1:9100.node", "node_load1", 0.61, "2023-11-14 22:13:35"),
                            ("edge-2:9100.node", "node_load1", 1.02, "2023-11-14 22:13:20")]
    assert [(e.line, e.reason) for e in got.errors] == [(1, 'a sample of node_load1 is not [time, number]: [1700000030, "x"]')]
    words = tmp_path / "words.jsonl"
    words.write_text('{"timestamp": 1700000000, "status": "ok", "note": "fine"}\n{"timestamp": 1700000010, "status": "ok", "note": "still"}\n')
    with pytest.raises(SourceError, match="no column holds a number: status, note"):
        read_readings(str(words))


def test_a_windows_performance_monitor_log_reads_its_zone_from_its_header_and_its_host_from_each_counter(tmp_path):
    """`typeperf -f CSV` and `relog -f csv` write `"(PDH-CSV 4.0) (Pacific Standard Time)(480)"` as the time column's
    name (local times, the bias in minutes: UTC = local + bias) and `\\\\HOST\\Object(Instance)\\Counter` as each
    counter's; a counter with no sample that interval is a blank. It was refused ("no timestamp column")."""
    path = tmp_path / "web01.csv"
    rows = [
        '"(PDH-CSV 4.0) (Pacific Standard Time)(480)","\\\\WEB01\\Processor(_Total)\\% Processor Time","\\\\WEB01\\PhysicalDisk(_Total)\\Disk Reads/sec"',
        '"01/15/2024 10:00:00.123","12.5","3.25"',
        '"01/15/2024 10:00:15.123","15.0"," "',
        '"not a time","1","2"',
    ]
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode())
    got = read_readings(str(path))
    assert [(e.line, e.reason.split(":")[0]) for e in got.errors] == [(4, "column timestamp")]
    assert _series(got) == [("WEB01", "physicaldisk__total_disk_reads_sec", 3.25, "2024-01-15 18:00:00"),
                            ("WEB01", "processor__total_processor_time", 12.5, "2024-01-15 18:00:00"),
                            ("WEB01", "processor__total_processor_time", 15.0, "2024-01-15 18:00:15")]


def test_numbers_written_with_their_unit_read_as_numbers_in_that_unit(tmp_path):
    """Grafana's CSV with "formatted data" (its default) writes `45.2%`, some loggers `23.5 °C`: a column whose cells
    carry one unit the unit table knows reads as numbers in that unit (they were all text, the file refused); a cell
    without it is judged as written; a column of words stays text."""
    path = tmp_path / "panel.csv"
    path.write_text('"Time","edge-1","room"\n2024-01-15 10:00:00,45.2%,23.5 °C\n2024-01-15 10:00:15,46%,23.6 °C\n2024-01-15 10:00:30,n/a,24 °C\n'
                    "2024-01-15 10:00:45,47.1%,hot\n")
    got = read_readings(str(path))
    t = got.table
    assert sorted(zip(t.column("metric").to_pylist(), t.column("value").to_pylist(), t.column("unit").to_pylist())) == [
        ("edge_1", 45.2, "%"), ("edge_1", 46.0, "%"), ("room", 23.5, "°C"), ("room", 23.6, "°C"), ("room", 24.0, "°C")]
    assert [(e.line, e.reason) for e in got.errors] == [(5, "column room: 'hot' is not a number")]


def test_hoboware_and_toa5_logger_files_read_their_zone_serials_and_units_without_row_numbers_or_events(tmp_path):
    """HOBOware's CSV (a title line; `#`; `Date Time, GMT-05:00` local times in 12-hour form; a series per column named
    with its unit and its logger's and sensor's serials; a column per logger event, `Logged` where it happened) was
    refused ("no timestamp column"). A TOA5 file (`.dat`, as Campbell loggers write it) was refused by its extension;
    its record number (unit `RN`) is not a reading. A reading beside an event keeps its line."""
    hobo = tmp_path / "stream.csv"
    hobo.write_text('"Plot Title: Stream temp 10234"\n'
                    '"#","Date Time, GMT-05:00","Temp, °F (LGR S/N: 10234567, SEN S/N: 10234568)","Coupler Detached (LGR S/N: 10234567)",'
                    '"End Of File (LGR S/N: 10234567)"\n'
                    "1,12/05/24 10:00:00 AM,45.123,,\n2,12/05/24 01:15:00 PM,45.210,Logged,\n3,12/05/24 01:30:00 PM,,,Logged\n")
    got = read_readings(str(hobo))
    assert [e.line for e in got.errors] == [1]  # the title line, as the preamble it is
    assert _series(got) == [("10234568", "temp", 45.123, "2024-12-05 15:00:00"), ("10234568", "temp", 45.21, "2024-12-05 18:15:00")]
    assert set(got.table.column("unit").to_pylist()) == {"°F"}
    toa5 = tmp_path / "CR1000_Station_Table10min.dat"
    toa5.write_text('"TOA5","CR1000_Station","CR1000","12345","CR1000.Std.32","CPU:weather.CR1","54321","Table10min"\n'
                    '"TIMESTAMP","RECORD","BattV_Min","AirTC_Avg"\n"TS","RN","Volts","Deg C"\n"","","Min","Avg"\n'
                    '"2024-12-05 10:00:00",1,12.71,3.452\n"2024-12-05 10:10:00",2,12.70,"NAN"\n')
    got = read_readings(str(toa5))
    assert sorted(set(got.table.column("metric").to_pylist())) == ["airtc_avg", "battv_min"]  # not `record`
    assert sorted(zip(got.table.column("metric").to_pylist(), got.table.column("value").to_pylist())) == [
        ("airtc_avg", 3.452), ("battv_min", 12.7), ("battv_min", 12.71)]


def test_iot_platform_exports_and_a_pandas_index_read_without_row_counters(tmp_path):
    """ThingSpeak's channel export (`created_at` in `... UTC`, `entry_id` counting the rows), Adafruit IO's feed export
    (`feed_id`), OpenWeatherMap's history (`dt` in epoch seconds) were refused ("no timestamp column"); a CSV written by
    pandas with its index (`,timestamp,...`, an unnamed first column 0, 1, 2) read the index as a metric named ""."""
    feeds = tmp_path / "feeds.csv"
    feeds.write_text("created_at,entry_id,field1,field2,latitude,longitude,elevation,status\n"
                     "2024-12-05 10:00:05 UTC,1021,21.5,45.2,,,,\n2024-12-05 10:01:05 UTC,1022,21.6,,,,,\n")
    assert _series(read_readings(str(feeds))) == [("feeds", "field1", 21.5, "2024-12-05 10:00:05"), ("feeds", "field1", 21.6, "2024-12-05 10:01:05"),
                                                  ("feeds", "field2", 45.2, "2024-12-05 10:00:05")]
    feed = tmp_path / "feed.csv"
    feed.write_text("id,value,feed_id,created_at,lat,lon,ele\n0FB3ZJ8X1MG6Q8TRQ7V3KMQ2C4,21.5,1234567,2024-12-05 10:00:05 UTC,,,\n")
    assert _series(read_readings(str(feed))) == [("1234567", "value", 21.5, "2024-12-05 10:00:05")]
    owm = tmp_path / "berlin.csv"
    owm.write_text("dt,dt_iso,city_name,temp,humidity\n1733392800,2024-12-05 10:00:00 +0000 UTC,Berlin,3.5,85\n")
    assert _series(read_readings(str(owm))) == [("berlin", "humidity", 85.0, "2024-12-05 10:00:00"), ("berlin", "temp", 3.5, "2024-12-05 10:00:00")]
    indexed = tmp_path / "room.csv"
    indexed.write_text(",timestamp,temperature\n0,2024-12-05 10:00:00,21.5\n1,2024-12-05 10:01:00,21.6\n")
    assert {m for _, m, _, _ in _series(read_readings(str(indexed)))} == {"temperature"}
    trend = tmp_path / "ahu1.csv"  # a building system's trend export (Niagara): local times with the zone's abbreviation
    trend.write_text("Timestamp,Trend Flags,Status,Value (°F)\n05-Dec-24 10:00 AM EST,{start},{ok},68.5\n"
                     "05-Jul-24 10:15 AM EDT,{},{ok},68.9\n2024-12-05 10:30:00 UTC,{},{ok},69.0\n")
    assert [t for *_, t in sorted(_series(read_readings(str(trend))), key=lambda r: r[2])] == [
        "2024-12-05 15:00:00", "2024-07-05 14:15:00", "2024-12-05 10:30:00"]
    kept = tmp_path / "counts.csv"  # a column named like a counter that holds readings stays a metric
    kept.write_text("timestamp,index\n2024-12-05 10:00:00,0.5\n2024-12-05 10:01:00,0.7\n")
    assert {m for _, m, _, _ in _series(read_readings(str(kept)))} == {"index"}


def test_a_usgs_rdb_file_reads_past_its_notes_with_each_row_in_its_own_zone(tmp_path):
    """USGS NWIS's RDB (tab-separated, `.rdb`): dozens of `#` notes, a header whose series columns begin with digits
    (`69928_00060`: a series id and a parameter code), a line of each column's width and type (`5s`, `20d`, `14n`),
    local times with each row's zone in `tz_cd` (EST in winter, EDT in summer), the site number as the sensor. It was
    refused (its extension; as `.tsv`, "no timestamp column": the notes ran past the lines looked at for a header)."""
    notes = "".join(f"# note {k}: data may not have received Director's approval\n" for k in range(30))
    path = tmp_path / "01646500.rdb"
    path.write_text(notes + "agency_cd\tsite_no\tdatetime\ttz_cd\t69928_00060\t69928_00060_cd\n5s\t15s\t20d\t6s\t14n\t10s\n"
                    "USGS\t01646500\t2024-12-05 10:00\tEST\t5230\tP\nUSGS\t01646500\t2024-07-05 10:15\tEDT\t1210\tA\n")
    got = read_readings(str(path))
    assert _series(got) == [("01646500", "69928_00060", 1210.0, "2024-07-05 14:15:00"), ("01646500", "69928_00060", 5230.0, "2024-12-05 15:00:00")]
    assert [e.line for e in got.errors] == [*range(1, 31), 32]  # the notes and the format line, each with its reason
