"""Each task's function on tiny data, with a bad-input case for each."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from lepton_flow.cleaning import CleanParams
from lepton_flow.settings import get_settings
from lepton_flow.sources import ReadOptions, SourceError, SourceFile
from lepton_flow.store import StoreConflict, StoreError
from tasks.clean_readings import clean_readings
from tasks.commit_readings import commit_readings
from tasks.discover_sensor_files import discover_sensor_files
from tasks.plan_ingest_run import plan_ingest_run
from tasks.ingest_sensor_file import ingest_sensor_file

STEPS = ["dedupe", "sort", "resample", "hampel", "interpolate"]


def _write(path, n=100, unit="C", sensor="s1", start="2026-01-01", offset=0.0):
    times = pd.date_range(start, periods=n, freq="30s", tz="UTC")
    frame = pd.DataFrame({"timestamp": times, "sensor_id": sensor, "metric": "temperature", "value": 20 + offset + np.sin(np.arange(n) / 10), "unit": unit})
    frame.to_csv(path, index=False)
    return path


def _source(data_root, **kwargs):
    """A source folder holding one file, a.csv (100 readings unless `n` says otherwise)."""
    src = data_root / "src"
    src.mkdir()
    _write(src / "a.csv", **kwargs)
    return src


def _through_stage(run, src):
    found = discover_sensor_files.fn(str(src), run, ReadOptions())
    staged = []
    for f in found.new:
        staged.append(ingest_sensor_file.fn(f, run, ReadOptions()))
    return found, staged


def test_plan_ingest_run(data_root):
    run = plan_ingest_run.fn("run-1", 30, 0.9)
    assert run.threshold == 0.9 and run.base_snapshot is None and run.grid_seconds == 30
    assert run.staging_url.startswith(str(data_root)) and run.store_url == get_settings().store
    with pytest.raises(ValueError):
        plan_ingest_run.fn("run-2", 30, 1.5)


def test_discover_and_its_bad_input(data_root):
    src = _source(data_root)
    run = plan_ingest_run.fn("r", 30)
    assert [f.name for f in discover_sensor_files.fn(str(src), run, ReadOptions()).new] == ["a.csv"]
    with pytest.raises(SourceError, match="no such file or directory"):
        discover_sensor_files.fn(str(data_root / "missing"), run, ReadOptions())


def test_the_same_bytes_under_two_names_are_two_files(data_root):
    """A file without a sensor column takes its sensor id from its name: pump-a and pump-b hold the same bytes but two sensors."""
    src = data_root / "src"
    src.mkdir()
    times = pd.date_range("2026-01-01", periods=20, freq="30s", tz="UTC")
    pd.DataFrame({"timestamp": times, "temperature": np.arange(20.0)}).to_csv(src / "pump-a.csv", index=False)
    shutil.copy(src / "pump-a.csv", src / "pump-b.csv")
    shutil.copy(src / "pump-a.csv", src / "pump-b.csv.copy")  # not a supported type: not a third file
    run = plan_ingest_run.fn("r", 30)
    found = discover_sensor_files.fn(str(src), run, ReadOptions())
    assert [f.name for f in found.new] == ["pump-a.csv", "pump-b.csv"] and found.already_ingested == []
    assert found.new[0].sha256 == found.new[1].sha256 and found.new[0].key != found.new[1].key
    # Named by a sensor_id parameter, both files mean the same readings: the second is a repeat.
    same = discover_sensor_files.fn(str(src), run, ReadOptions(sensor_id="pump"))
    assert [f.name for f in same.new] == ["pump-a.csv"] and [u.rsplit("/", 1)[-1] for u in same.already_ingested] == ["pump-b.csv"]


def test_ingest_and_its_bad_input(data_root):
    run = plan_ingest_run.fn("r", 30)
    path = _write(data_root / "a.csv")
    with open(path, "a") as fh:
        fh.write("broken line\n")
    file = SourceFile(url=str(path), name="a.csv", sha256="0" * 64, size=path.stat().st_size)
    staged = ingest_sensor_file.fn(file, run, ReadOptions())
    assert (staged.records, staged.readings, staged.parse_errors, staged.staged) == (101, 100, 1, 100)
    assert [u.rsplit("/", 1)[-1] for u in staged.quarantine_urls] == [f"{file.key}.parse.parquet"]
    bad = data_root / "b.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    with pytest.raises(SourceError, match=r"b\.csv"):
        ingest_sensor_file.fn(SourceFile(url=str(bad), name="b.csv", sha256="1" * 64, size=10), run, ReadOptions())
    gone = SourceFile(url=str(data_root / "gone.csv"), name="gone.csv", sha256="4" * 64, size=10)
    with pytest.raises(SourceError, match=r"gone\.csv: cannot be opened"):
        ingest_sensor_file.fn(gone, run, ReadOptions())


def test_validate_and_a_file_under_the_threshold(data_root):
    run = plan_ingest_run.fn("r", 30, 0.5)
    good = _write(data_root / "good.csv")
    file = SourceFile(url=str(good), name="good.csv", sha256="2" * 64, size=1)
    staged = ingest_sensor_file.fn(file, run, ReadOptions())
    assert staged.failed == 0 and staged.success_rate == 1 and staged.result_url
    bad = _write(data_root / "fahrenheit.csv", unit="F")
    file = SourceFile(url=str(bad), name="fahrenheit.csv", sha256="3" * 64, size=1)
    rejected = ingest_sensor_file.fn(file, run, ReadOptions())
    assert rejected.rejected and not rejected.accepted and rejected.staged == 0
    assert re.search(r"fahrenheit\.csv: only 0\.0% .*temperature_unit .*line 2: sensor_id='s1'", rejected.message), rejected.message
    assert not list((data_root / "staging").rglob(f"{file.key}.*.parquet")), "a rejected file leaves nothing staged"


def test_ingest_stages_by_window(data_root):
    run = plan_ingest_run.fn("r", 30)
    src = _source(data_root, n=5000)  # 5000 bins at 30 s: more than one 4096-bin window
    _, (staged,) = _through_stage(run, src)
    assert staged.staged == 5000 and len(staged.windows) == 2 and staged.metrics == ["temperature"] and staged.units == {"temperature": "C"}
    assert staged.pieces == [[0], [0]]


def test_clean_and_commit_round_trip_and_bad_inputs(data_root):
    from lepton_flow import store

    run = plan_ingest_run.fn("r1", 30)
    src = _source(data_root)
    _, staged = _through_stage(run, src)
    with pytest.raises(ValueError, match="unknown cleaning step"):
        clean_readings.fn(staged, run, ["resample", "no_such_step"], CleanParams())
    cleaned = clean_readings.fn(staged, run, STEPS, CleanParams())
    (acc,) = cleaned.accounts.values()
    assert acc.balanced and acc.stored == 100
    snapshot = commit_readings.fn(cleaned, run, staged)
    ds = store.open_sensors(run.store_url).load()
    values = ds.temperature.sel(sensor="s1").dropna("time").values
    np.testing.assert_allclose(values, (20 + np.sin(np.arange(100) / 10)).astype("float32"))
    assert store.state(run.store_url).snapshot_id == snapshot

    # Two runs planned on the same snapshot: the second to commit is refused, not merged blindly.
    run_a, run_b = plan_ingest_run.fn("a", 30), plan_ingest_run.fn("b", 30)
    _write(src / "b.csv", sensor="s2")
    _, staged_a = _through_stage(run_a, src)
    _, staged_b = _through_stage(run_b, src)
    commit_readings.fn(clean_readings.fn(staged_a, run_a, STEPS, CleanParams()), run_a, staged_a)
    with pytest.raises(StoreConflict, match="re-run"):
        commit_readings.fn(clean_readings.fn(staged_b, run_b, STEPS, CleanParams()), run_b, staged_b)


def test_files_that_would_take_the_store_past_its_metric_limit_are_turned_away_alone(data_root, monkeypatch):
    """Each metric is two variables: past MAX_METRICS (here 2), a file bringing more is rejected, the others are committed."""
    import lepton_flow.ingest
    from lepton_flow import store

    monkeypatch.setattr(lepton_flow.ingest, "MAX_METRICS", 2)
    run = plan_ingest_run.fn("r1", 30)
    src = _source(data_root)
    _, staged = _through_stage(run, src)
    commit_readings.fn(clean_readings.fn(staged, run, STEPS, CleanParams()), run, staged)
    src2 = data_root / "src2"
    src2.mkdir()
    times = pd.date_range("2026-01-01", periods=10, freq="30s", tz="UTC")
    pd.DataFrame({"timestamp": times, "sensor_id": "s1", "humidity": 50.0}).to_csv(src2 / "one.csv", index=False)
    pd.DataFrame({"timestamp": times, "sensor_id": "s1", "pressure": 1000.0, "wind": 3.0}).to_csv(src2 / "two.csv", index=False)
    run2 = plan_ingest_run.fn("r2", 30)
    _, staged2 = _through_stage(run2, src2)
    cleaned = clean_readings.fn(staged2, run2, STEPS, CleanParams())
    accounts = {a.file.rsplit("/", 1)[1]: a for a in cleaned.accounts.values()}
    assert accounts["one.csv"].status == "ok" and accounts["two.csv"].status == "rejected"
    assert "would take the store past 2 metrics" in accounts["two.csv"].message
    commit_readings.fn(cleaned, run2, staged2)
    assert store.state(run2.store_url).metrics == ["temperature", "humidity"]
    assert {r["file"].rsplit("/", 1)[1] for r in store.ledger.entries(run2.store_url).values()} == {"a.csv", "one.csv"}


def test_clean_refuses_a_grid_the_store_does_not_have(data_root):
    run = plan_ingest_run.fn("r1", 30)
    src = _source(data_root)
    _, staged = _through_stage(run, src)
    commit_readings.fn(clean_readings.fn(staged, run, STEPS, CleanParams()), run, staged)
    run2 = plan_ingest_run.fn("r2", 60)
    _write(src / "b.csv", start="2026-01-02")
    _, staged2 = _through_stage(run2, src)
    with pytest.raises(StoreError, match="30 s grid"):
        clean_readings.fn(staged2, run2, STEPS, CleanParams(grid_seconds=60))


def test_a_run_that_names_no_grid_takes_the_stores(data_root):
    """A store made on a 60 s grid: later runs (a schedule, `make run`) need not repeat it."""
    first = plan_ingest_run.fn("r1", 60)
    assert first.grid_seconds == 60
    src = _source(data_root)
    _, staged = _through_stage(first, src)
    commit_readings.fn(clean_readings.fn(staged, first, STEPS, CleanParams(grid_seconds=60)), first, staged)
    later = plan_ingest_run.fn("r2", None)
    assert later.grid_seconds == 60
    _write(src / "b.csv", start="2026-01-02")
    _, staged2 = _through_stage(later, src)
    cleaned = clean_readings.fn(staged2, later, STEPS, CleanParams())
    commit_readings.fn(cleaned, later, staged2)
    from lepton_flow import store

    assert store.state(get_settings().store).grid_seconds == 60
    assert sum(a.stored for a in cleaned.accounts.values()) == 100  # b.csv: 100 readings at 30 s, two per 60 s bin, all stored
    assert plan_ingest_run.fn("r3", None).grid_seconds == 60


def test_a_new_store_without_a_grid_gets_the_default(data_root):
    assert plan_ingest_run.fn("r1", None).grid_seconds == 30


def test_a_file_ingested_in_pieces_stages_and_quarantines_what_it_does_whole(data_root):
    """One large file is read, validated and staged a piece at a time: counts, quarantine (line, reason), staged readings,
    the validation summary and the Data Docs result are those of one piece, whatever the piece size."""
    import json

    import pyarrow.parquet as pq

    from lepton_flow.ingest import ingest_file

    path = data_root / "big.csv"
    lines = ["timestamp,sensor_id,metric,value,unit"]
    times = pd.date_range("2026-01-01", periods=6000, freq="10s", tz="UTC")
    for i, t in enumerate(times):
        unit = "F" if i % 97 == 0 else "C"  # fails temperature_unit
        lines.append(f"{t.isoformat()},s{i % 4},temperature,{20 + i % 13},{unit}")
    lines[1500] = "not,a,row"
    lines[4500] = f"{times[4499].isoformat()},bad id!,temperature,1,C"  # fails sensor_id_format
    path.write_text("\n".join(lines) + "\n")
    file = SourceFile(url=str(path), name="big.csv", sha256="5" * 64, size=path.stat().st_size)

    def run_with(piece_bytes):
        run = plan_ingest_run.fn(f"p{piece_bytes}", 30)
        staged = ingest_file(file, run, ReadOptions(), piece_bytes=piece_bytes)
        quarantined = sorted((r["line"], r["row"], r["reason"]) for u in staged.quarantine_urls for r in pq.read_table(u, columns=["line", "row", "reason"]).to_pylist())
        rows = sorted(
            (r["ts"], r["sensor_id"], r["value"], r["line"])
            for w, pieces in zip(staged.windows, staged.pieces)
            for p in pieces
            for r in pq.read_table(f"{run.staging_url}/valid/w={w}/{file.key}.{p}.parquet").to_pylist()
        )
        with open(staged.result_url) as fh:
            result = json.load(fh)
        counts = [(r["success"], r["result"].get("element_count"), r["result"].get("unexpected_count")) for r in result["results"]]
        return staged, quarantined, rows, counts, result["statistics"]

    whole, *whole_rest = run_with(64 << 20)
    assert whole.records == 6000 and whole.parse_errors == 1 and whole.failed == 62 + 1 and whole.staged == 6000 - 1 - 63
    for size in (24000,):
        pieces, *rest = run_with(size)
        assert max(max(p) for p in pieces.pieces) >= 5, "read in pieces"
        assert rest == whole_rest
        assert (pieces.records, pieces.quarantined, pieces.staged, pieces.windows) == (whole.records, whole.quarantined, whole.staged, whole.windows)
        assert pieces.expectations == whole.expectations and (pieces.min_bin, pieces.max_bin, pieces.sensors) == (whole.min_bin, whole.max_bin, whole.sensors)


def _rows(first: int, n: int) -> str:
    """CSV lines of readings `first` .. `first + n - 1` (30 s apart), as `_write` writes them."""
    times = pd.date_range("2026-01-01", periods=first + n, freq="30s", tz="UTC")[first:]
    return "".join(f"{t.isoformat()},s1,temperature,{20 + np.sin(i / 10)},C\n" for i, t in zip(range(first, first + n), times))


def test_a_sensor_file_that_grows_is_read_from_where_the_last_run_stopped(data_root):
    """A logger appending to its CSV: each run reads only the new lines (a partial last line waits while the file is
    being written); a file changed before that point, or truncated, is read whole again."""
    import os
    import time

    from lepton_flow import store

    src = _source(data_root)
    path = src / "a.csv"

    def run(run_id):
        plan = plan_ingest_run.fn(run_id, 30)
        found, staged = _through_stage(plan, src)
        if staged:
            cleaned = clean_readings.fn(staged, plan, STEPS, CleanParams())
            commit_readings.fn(cleaned, plan, staged)
            return found, staged[0], cleaned.accounts[staged[0].file.key]
        return found, None, None

    def stored():
        ds = store.open_sensors(get_settings().store)
        return int(np.isfinite(ds.temperature.sel(sensor="s1").values).sum())

    _, first, _ = run("r1")
    assert (first.records, first.end, first.lines) == (100, path.stat().st_size, 101)

    partial = "2026-01-01T01:15:00+00:00,s1,tempera"
    with path.open("a") as fh:
        fh.write(_rows(100, 50) + partial)
    found, grown, account = run("r2")
    assert (grown.file.offset, grown.file.line_base, grown.records, account.duplicates) == (first.end, 101, 50, 0)
    assert grown.end == path.stat().st_size - len(partial) and stored() == 150

    # Nothing new but the partial line, still being written: nothing to read.
    found, nothing, _ = run("r3")
    assert nothing is None and str(path) in found.already_ingested

    # The line is finished, a bad one follows; once the file has settled everything is read, line numbers the file's own.
    with path.open("a") as fh:
        fh.write("ture,21.5,C\nnot a reading\n" + _rows(151, 10))
    old = time.time() - 3600
    os.utime(path, (old, old))
    _, more, account = run("r4")
    assert (more.records, more.parse_errors, more.file.line_base) == (12, 1, 151) and account.balanced and stored() == 161
    bad = pd.concat(pd.read_parquet(p) for p in more.quarantine_urls)
    assert bad["line"].tolist() == [153]

    # Changed before where the last run stopped (an export written again): read whole, the readings held already as duplicates.
    text = path.read_text().replace(",20.0,C", ",20.25,C", 1)
    path.write_text(text)
    _, again, account = run("r5")
    assert again.file.offset == 0 and again.records == 162 and account.duplicates >= 160

    # Truncated and written anew (copytruncate): read from the start.
    path.write_text(path.read_text().splitlines(keepends=True)[0] + _rows(300, 20))
    _, fresh, account = run("r6")
    assert fresh.file.offset == 0 and fresh.records == 20 and account.duplicates == 0 and stored() == 181
