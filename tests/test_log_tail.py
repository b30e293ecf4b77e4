"""Log files that grow, rotate, get compressed and truncated: every line counted once, as log shippers count them."""

from __future__ import annotations

import fcntl
import gzip
import io
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from lepton_flow import store
from lepton_flow.logs.ingest import discover, mine_and_commit, new_run, read_file
from lepton_flow.settings import get_settings

_count = 0


def _lines(n: int) -> str:
    """`n` new log lines, each of its own text and second."""
    global _count
    out = []
    for _ in range(n):
        _count += 1
        out.append(f"2026-03-01T{_count // 3600 % 24:02d}:{_count // 60 % 60:02d}:{_count % 60:02d}Z INFO request {_count} served\n")
    return "".join(out)


def _ingest(src, run_id: str):
    run = new_run(run_id, 60, None)
    new, known = discover(str(src), run)
    refs = [read_file(f, run, "auto", None) for f in new]
    mine_and_commit(refs, run, None)
    return {os.path.basename(r.file.url): r for r in refs}, [os.path.basename(k) for k in known]


def _text_of(path) -> bytes:
    from lepton_flow.sources import open_source

    with open_source(str(path)) as fh:
        return fh.read()


def _counted() -> int:
    url = get_settings().store
    return int(store.open_logs(url)["count"].sum()) if store.logs_state(url).exists else 0


def test_growing_rotated_compressed_and_truncated_files_count_each_line_once(data_root, capsys):
    src = data_root / "logs"
    src.mkdir()
    app = src / "app.log"
    app.write_text(_lines(1000))
    refs, _ = _ingest(src, "r1")
    assert _counted() == 1000 and refs["app.log"].end == app.stat().st_size

    # Grows by 1,000 lines, one of them bad, and a partial last line being written.
    with app.open("a") as fh:
        fh.write(_lines(499) + "this line is not a log line\n" + _lines(500) + "2026-03-01T23:59:59Z INFO half of a li")
    refs, _ = _ingest(src, "r2")
    ref = refs["app.log"]
    assert (ref.line_base, ref.lines, ref.pending) == (1000, 1000, len("2026-03-01T23:59:59Z INFO half of a li")) and ref.start > 0
    assert _counted() == 1999
    quarantined = [q for q in (data_root / "quarantine").rglob("*.parquet")]
    import pandas as pd

    assert pd.concat(pd.read_parquet(q) for q in quarantined)["line"].tolist() == [1500]  # the file's own line number

    # The partial line is finished; then logrotate renames the file and the application opens a new one.
    with app.open("a") as fh:
        fh.write("ne\n")
    app.rename(src / "app.log.1")
    app.write_text(_lines(500))
    refs, known = _ingest(src, "r3")
    assert (refs["app.log.1"].lines, refs["app.log"].lines) == (1, 500) and _counted() == 2500

    # delaycompress's next turn: the rotated file gzipped (and a stray copy of it under another name).
    shutil.copy(src / "app.log.1", src / "app.log.1.bak")
    with open(src / "app.log.1", "rb") as plain, gzip.open(src / "app.log.1.gz", "wb") as packed:
        shutil.copyfileobj(plain, packed)
    (src / "app.log.1").unlink()
    refs, known = _ingest(src, "r4")
    assert refs == {} and sorted(known) == ["app.log", "app.log.1.bak", "app.log.1.gz"] and _counted() == 2500
    (src / "app.log.1.bak").unlink()
    refs, known = _ingest(src, "r5")  # the gzip alone: decompressed to its offset once, nothing after it
    assert refs["app.log.1.gz"].lines == 0 and _counted() == 2500
    refs, known = _ingest(src, "r6")
    assert refs == {} and sorted(known) == ["app.log", "app.log.1.gz"]

    # copytruncate: the live file emptied in place and written again from the start.
    with app.open("r+") as fh:
        fh.truncate(0)
    app.write_text(_lines(300))
    refs, _ = _ingest(src, "r7")
    assert (refs["app.log"].start, refs["app.log"].lines) == (0, 300) and _counted() == 2800

    # `lepton-flow status` shows the logs group: three streams (the first file, its successor, the truncated one).
    import json

    from lepton_flow.cli import main

    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    logs = json.loads(capsys.readouterr().out)["logs"]
    assert (logs["files"], logs["events"], logs["templates"]) == (3, 2800, 2) and logs["top_templates"][0]["events"] == 2799  # and the once-partial line
    assert logs["time_range"][0].startswith("2026-03-01T00:00")


def test_logrotate_s_xz_bzip2_and_zstd_are_followed_as_its_gzip_is(data_root):
    """logrotate's `compresscmd` may be xz, bzip2 or zstd (`compressext .xz`): a rotated file compressed so is the stream it
    was, read to its end once and never again; a file that only claims to be compressed is named, not read."""
    import bz2
    import lzma

    from lepton_flow.logs.reader import LogFormatError, read_log

    src = data_root / "logs"
    src.mkdir()
    app = src / "app.log"
    app.write_text(_lines(300))
    _ingest(src, "x1")
    app.rename(src / "app.log.1")
    app.write_text(_lines(200))
    (src / "app.log.1.xz").write_bytes(lzma.compress((src / "app.log.1").read_bytes() + _lines(5).encode()))  # 5 lines more before it was rotated
    (src / "app.log.1").unlink()
    refs, known = _ingest(src, "x2")
    assert (refs["app.log.1.xz"].lines, refs["app.log"].lines) == (5, 200) and _counted() == 505
    # The next turn: .1.xz becomes .2.xz, the live file .1.bz2.
    (src / "app.log.1.xz").rename(src / "app.log.2.xz")
    (src / "app.log.1.bz2").write_bytes(bz2.compress(app.read_bytes()))
    app.write_text(_lines(100))
    refs, known = _ingest(src, "x3")
    # The new file from its start; the bzip2 decompressed to where its stream was read to, nothing after it; the xz known.
    assert {name: (ref.start, ref.lines) for name, ref in refs.items()} == {"app.log": (0, 100), "app.log.1.bz2": (len(_text_of(src / "app.log.1.bz2")), 0)}
    assert known == ["app.log.2.xz"] and _counted() == 605
    # And with zstd, in two frames (as a compressor streaming its input may write it).
    import zstandard

    whole = app.read_bytes()
    zstd = zstandard.ZstdCompressor()
    (src / "app.log.1.zst").write_bytes(zstd.compress(whole[:1000]) + zstd.compress(whole[1000:]))
    app.write_text(_lines(50))
    refs, known = _ingest(src, "x4")
    assert {name: (ref.start, ref.lines) for name, ref in refs.items()} == {"app.log": (0, 50), "app.log.1.zst": (len(whole), 0)} and _counted() == 655
    assert read_log(str(src / "app.log.1.bz2")).format == "timestamp-prefixed" and len(read_log(str(src / "app.log.2.xz")).frame) == 305
    assert len(read_log(str(src / "app.log.1.zst")).frame) == 100
    for name in ("cut.log.xz", "cut.log.bz2", "cut.log.zst"):
        packed = {"xz": lzma.compress, "bz2": bz2.compress, "zst": zstandard.ZstdCompressor().compress}[name.rsplit(".", 1)[1]](_lines(50).encode())
        (src / name).write_bytes(packed[: len(packed) // 2])
        with pytest.raises(LogFormatError, match=rf"{name}: cannot be read.*(ended before|cut short)"):
            read_log(str(src / name))
    (src / "plain.log.xz").write_bytes(_lines(3).encode())
    with pytest.raises(LogFormatError, match=r"plain.log.xz: cannot be read: not xz data"):
        read_log(str(src / "plain.log.xz"))


def test_a_log_a_crash_padded_with_nul_bytes_goes_on_being_followed(data_root):
    """The file was read; the machine lost power with lines in flight (their blocks left as NUL bytes, the last line cut
    short); after the reboot the application appends again. The next run reads from where it stopped: the line cut
    short is quarantined, every line after the NULs counted once, the offset at the file's end."""
    src = data_root / "logs"
    src.mkdir()
    app = src / "app.log"
    app.write_text(_lines(100))
    _ingest(src, "n1")
    with app.open("ab") as fh:
        fh.write(_lines(1).encode()[:15] + b"\x00" * 4096 + _lines(50).encode())  # cut inside its time
    refs, _ = _ingest(src, "n2")
    ref = refs["app.log"]
    assert (ref.lines, ref.events, ref.unparsed, ref.end) == (51, 50, 1, app.stat().st_size) and _counted() == 150
    assert _ingest(src, "n3")[0] == {}


@pytest.mark.parametrize("stored", ["plain", "gzip", "utf-16"])
def test_a_big_file_is_read_a_piece_at_a_time_with_the_counts_of_a_whole_read(data_root, monkeypatch, stored):
    """A run holds one piece of a file at a time (a 4 GB log read whole took about six times that in memory): stack
    traces across a piece's edge stay with their event, and counts, quarantine and offsets are those of one read. The
    file is opened once for all its pieces: a compressed (or UTF-16) one is not decoded again from its start for each."""
    import pyarrow.parquet as pq

    from lepton_flow.logs import reader

    src = data_root / "logs"
    src.mkdir()
    n = 3000 if stored == "plain" else 900  # the other two need only show the file opened once
    text = io.StringIO()
    for i in range(n):
        text.write(f"2026-03-01 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d},000 INFO [main] a.B: request {i} served\n")
        if i % 7 == 0:
            text.write("java.lang.RuntimeException: boom\n\tat a.b.C(C.java:1)\n\tat d.e.F(F.java:2)\n")
        if i % 500 == 0:
            text.write("not a log line\n\n")
    content = text.getvalue().encode()
    write = {"plain": lambda: (src / "app.log").write_bytes(content), "gzip": lambda: (src / "app.log.gz").write_bytes(gzip.compress(content)),
             "utf-16": lambda: (src / "app.log").write_bytes(text.getvalue().encode("utf-16"))}
    write[stored]()

    def read(run_id: str):
        run = new_run(run_id, 60, None)
        new, _ = discover(str(src), run)
        ref = read_file(new[0], run, "auto", None)
        counts = pq.read_table(ref.staged_url).to_pandas().groupby(["bin", "text", "level"], observed=True)["events"].sum()
        return run, ref, counts

    _, whole, whole_counts = read("whole")
    monkeypatch.setattr(reader, "PIECE_BYTES", 4096)
    reads, opened = [], []
    monkeypatch.setattr(reader, "read_log", lambda *a, _read=reader.read_log, **k: reads.append(k["start"]) or _read(*a, **k))
    monkeypatch.setattr(reader, "open_source", lambda *a, _open=reader.open_source, **k: opened.append(a) or _open(*a, **k))
    run, pieces, piece_counts = read("pieces")
    assert len(reads) > n // 75 and reads == sorted(set(reads))  # one read per piece, each from where the last stopped
    assert len(opened) == 1
    assert whole.end == len(content)  # offsets count the content's bytes (UTF-8), whatever the file stores
    assert whole.balanced and pieces.balanced
    fields = ("format", "lines", "blank", "event_lines", "events", "unparsed", "stored", "end", "pending", "line_base")
    assert {f: getattr(pieces, f) for f in fields} == {f: getattr(whole, f) for f in fields}
    assert (whole.events, whole.unparsed) == (n, -(-n // 500)) and piece_counts.equals(whole_counts)
    mine_and_commit([pieces], run, None)
    assert _counted() == n


def test_sparse_and_preallocated_files_and_lines_longer_than_a_piece_are_read_in_bounded_pieces(data_root, monkeypatch):
    """A sparse file of NULs (lastlog, which is hundreds of GB on hosts with large uids) was read as one line to its end:
    a GiB of NULs took 2.2 GB and a minute. It is now not a log file after its first piece; a preallocated log's NUL
    tail is read a piece at a time; a line longer than a piece is read as pieces of it (quarantined as over-long), not
    held whole. The other files of the run are read as ever."""
    from lepton_flow.logs import reader

    monkeypatch.setattr(reader, "PIECE_BYTES", 4096)
    monkeypatch.setattr(reader, "MAX_LINE", 2048)  # as in a run, a piece (64 MiB) is far longer than a line may be (64 KiB)
    src = data_root / "logs"
    src.mkdir()
    with open(src / "lastlog", "wb") as fh:
        fh.truncate(1 << 20)
    first = _lines(50)
    with open(src / "pre.log", "wb") as fh:
        fh.write(first.encode())
        fh.truncate(1 << 20)  # the rest of the file preallocated: NULs
    long = _lines(10) + "2026-03-01T00:00:00Z INFO " + "x" * 20_000 + "\n" + _lines(10)
    (src / "long.log").write_text(long)
    reads = []
    monkeypatch.setattr(reader, "read_log", lambda *a, _read=reader.read_log, **k: reads.append(k["start"]) or _read(*a, **k))
    refs, _ = _ingest(src, "sparse")
    assert refs["lastlog"].status == "not a log file" and "NUL bytes only" in refs["lastlog"].message and reads.count(0) == 3
    pre = refs["pre.log"]
    assert (pre.events, pre.unparsed, pre.end + pre.pending, pre.balanced) == (50, 0, 1 << 20, True)  # NULs without a line end wait, as any partial line
    assert reads.count(0) + len([r for r in reads if r > 0]) < 300  # pieces, not lines: the NUL tail in 4 KiB reads
    got = refs["long.log"]
    assert (got.events, got.end, got.balanced) == (20, len(long), True) and got.unparsed >= 5  # the long line, a piece at a time
    assert _counted() == 50 + 20


def test_reads_in_pieces_get_past_an_event_longer_than_a_piece_and_class_lines_as_one_whole_read(tmp_path):
    """Found by reading random files in small random pieces against one whole read: an event whose trace ran past a
    whole piece was left for the next read, which began with it again, for ever (the run hung); and continuation lines
    that began a piece joined an event even where the line before them belonged to none. Now such an event is split
    at the piece's edge (its further lines counted with it), and a piece knows how the one before it ended."""
    from lepton_flow.logs.reader import open_log, read_log

    trace = "java.lang.RuntimeException: boom\n" + "".join(f"\tat a.b.C.m{i}(C.java:{i})\n" for i in range(300))  # 8 KiB
    path = tmp_path / "app.log"
    path.write_text("2026-03-01 10:00:00,000 ERROR [main] a.B: boom\n" + trace + "not a log line\n" + trace + "2026-03-01 10:00:01,000 INFO [main] a.B: after\n")
    whole = read_log(str(path))
    assert (len(whole.frame), whole.event_lines, len(whole.quarantined)) == (2, 303, 302)
    reads, start, line_base, got_lines, event_lines, events, quarantined = 0, 0, 0, 0, 0, 0, []
    with open_log(str(path)) as source:
        while True:
            got = read_log(str(path), whole.format, start=start, line_base=line_base, max_bytes=1024, source=source)  # as a run: the format the first piece found
            reads += 1
            assert got.balanced and reads < 100
            got_lines, event_lines, events, quarantined = got_lines + got.lines, event_lines + got.event_lines, events + len(got.frame), quarantined + got.quarantined
            start, line_base = got.end, got.line_base + got.lines
            if not got.more:
                break
    assert reads > 15 and (got_lines, start, event_lines, events) == (whole.lines, whole.end, whole.event_lines, 2)
    assert [q["line"] for q in quarantined] == [q["line"] for q in whole.quarantined]


def test_a_file_untouched_for_a_while_gives_its_last_line_without_a_line_end(data_root):
    src = data_root / "logs"
    src.mkdir()
    done = src / "done.log"
    done.write_text(_lines(3) + "2026-03-01T00:00:00Z INFO the last line, no line end")
    refs, _ = _ingest(src, "fresh")
    assert refs["done.log"].lines == 3 and refs["done.log"].pending > 0 and _counted() == 3
    os.utime(done, (time.time() - 3600, time.time() - 3600))
    refs, _ = _ingest(src, "settled")
    assert (refs["done.log"].lines, refs["done.log"].pending, refs["done.log"].line_base) == (1, 0, 3) and _counted() == 4


def test_a_utf16_log_is_read_and_followed_as_it_grows(data_root):
    """SQL Server's ERRORLOG and Windows PowerShell's `>` write UTF-16 with a byte order mark: read as text, not refused as
    binary, and followed from where a run stopped (its offsets count UTF-8 bytes, its size tells it grew)."""
    src = data_root / "logs"
    src.mkdir()
    errorlog = src / "ERRORLOG"
    first = _lines(3).replace("served", "servi\u00e7o \u2713")  # text beyond ASCII: UTF-16 is not Latin-1
    errorlog.write_bytes(("\ufeff" + first).encode("utf-16-le"))
    refs, _ = _ingest(src, "u1")
    assert (refs["ERRORLOG"].format, refs["ERRORLOG"].lines, _counted()) == ("timestamp-prefixed", 3, 3)
    with errorlog.open("ab") as fh:
        fh.write((_lines(2) + "2026-03-01T23:59:59Z INFO half").encode("utf-16-le"))
    refs, _ = _ingest(src, "u2")
    ref = refs["ERRORLOG"]
    assert (ref.line_base, ref.lines, ref.pending, ref.start) == (3, 2, len("2026-03-01T23:59:59Z INFO half"), len(first.encode()))
    assert _counted() == 5
    refs, known = _ingest(src, "u3")  # unchanged, its partial line still being written
    assert set(refs) == {"ERRORLOG"} and refs["ERRORLOG"].lines == 0 and _counted() == 5
    os.utime(errorlog, (time.time() - 3600, time.time() - 3600))
    refs, _ = _ingest(src, "u4")
    assert (refs["ERRORLOG"].lines, refs["ERRORLOG"].pending) == (1, 0) and _counted() == 6
    refs, known = _ingest(src, "u5")
    assert refs == {} and known == ["ERRORLOG"] and _counted() == 6
    templates = [" ".join(t) for t in store.logs_state(get_settings().store).drain["templates"]]
    assert "request <NUM> servi\u00e7o \u2713" in templates  # decoded, not Latin-1 mojibake


def test_a_stack_trace_written_in_two_pieces_is_counted_once_with_its_event(data_root):
    """A writer's buffer can fill mid-trace, so one run sees part of an event's continuation lines. The event waits for
    the next run while its file is being written; a trace cut right after its first line joins it on the next read
    (counted with it, not quarantined as lines no format parses)."""
    src = data_root / "logs"
    src.mkdir()
    app = src / "app.log"
    app.write_text(_lines(3) + "2026-03-02T00:10:00Z ERROR worker crashed\nTraceback (most recent call last):\n  File \"w.py\", line 3, in run\n")
    refs, _ = _ingest(src, "t1")
    ref = refs["app.log"]
    assert (ref.lines, ref.events, ref.unparsed, ref.pending) == (3, 3, 0, len(app.read_bytes()) - ref.end) and ref.pending > 0 and ref.balanced
    assert _counted() == 3
    with app.open("a") as fh:
        fh.write('    raise ValueError("x")\nValueError: x\n' + _lines(2) + "2026-03-02T00:20:00Z ERROR second crash\n")
    refs, _ = _ingest(src, "t2")
    ref = refs["app.log"]
    # The crash and its four trace lines once, two lines after it, and the second crash (no trace yet: read now).
    assert (ref.line_base, ref.lines, ref.events, ref.event_lines, ref.unparsed, ref.pending) == (3, 8, 4, 8, 0, 0) and ref.balanced
    assert _counted() == 7
    with app.open("a") as fh:
        fh.write("Traceback (most recent call last):\n  File \"w.py\", line 9, in run\nKeyError: 'y'\n" + _lines(1))
    refs, _ = _ingest(src, "t3")
    ref = refs["app.log"]
    assert (ref.line_base, ref.lines, ref.events, ref.event_lines, ref.unparsed) == (11, 4, 1, 4, 0) and ref.balanced
    assert _counted() == 8 and not list((data_root / "quarantine").rglob("*.parquet"))


KILLED = """
import sys
from lepton_flow import store
from lepton_flow.logs.ingest import discover, mine_and_commit, new_run, read_file

commit = store.commit_logs

def announced(*args, **kwargs):
    print("committing", flush=True)
    return commit(*args, **kwargs)

store.commit_logs = announced
run = new_run("killed", 60, None)
new, _ = discover(sys.argv[1], run)
mine_and_commit([read_file(f, run, "auto", None) for f in new], run, None)
"""


@pytest.mark.slow
def test_a_run_killed_between_mining_and_commit_leaves_its_lines_to_the_next_run(data_root, tmp_path):
    src = data_root / "logs"
    src.mkdir()
    app = src / "app.log"
    app.write_text(_lines(400))
    _ingest(src, "before")
    url = get_settings().store
    before = store.logs_state(url).snapshot_id
    with app.open("a") as fh:
        fh.write(_lines(600))
    lock = open(url.rstrip("/") + ".lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # the run mines, then waits here to commit
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(src)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == "committing", proc.stdout.read()[-3000:]
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        lock.close()
    assert proc.returncode == -signal.SIGKILL
    assert store.logs_state(url).snapshot_id == before and _counted() == 400
    refs, _ = _ingest(src, "after")
    assert (refs["app.log"].line_base, refs["app.log"].lines) == (400, 600) and _counted() == 1000


def test_events_years_apart_and_before_the_first_window_cost_only_their_chunks(data_root):
    """Empty time between events writes nothing; events older than the store's first window (backfill) are added by moving
    chunk references, so no chunk the store held is written again and every window keeps its count."""
    import numpy as np

    src = data_root / "logs"
    src.mkdir()
    (src / "new.log").write_text("".join(f"2026-03-01T00:{i // 60:02d}:{i % 60:02d}Z INFO request {i} served\n" for i in range(120)))
    (src / "newer.log").write_text("".join(f"2026-11-01T00:00:{i:02d}Z WARN disk {i} slow\n" for i in range(30)))
    _ingest(src, "first")
    chunks = data_root / "store" / "chunks"
    before = {p.name for p in chunks.iterdir()}
    assert len(before) < 30  # 8 months of 60 s windows apart: only the chunks that hold events (and the ledger's)

    old = data_root / "old"
    old.mkdir()
    (old / "2015.log").write_text("".join(f"2015-06-01T12:00:{i:02d}Z ERROR fan {i} stopped\n" for i in range(40)))
    _ingest(old, "backfill")
    after = {p.name for p in chunks.iterdir()}
    assert before <= after and len(after - before) <= 6  # the new chunk of each of count, level_count, time; the ledger's last chunks

    ds = store.open_logs(get_settings().store).load()
    per_window = ds["count"].sum("template").to_series()
    held = per_window[per_window > 0]
    assert held.sum() == 190
    assert held.loc["2015-06-01T12:00"].sum() == 40 and held.loc["2026-03-01T00:00"] == 60 and held.loc["2026-03-01T00:01"] == 60 and held.loc["2026-11-01"].sum() == 30
    per_template, rows, events = store.log_totals(get_settings().store)
    assert per_template.sum() == 190 and events.sum() == 190 and np.all(np.diff(rows) > 0)
    state = store.logs_state(get_settings().store)
    assert len(state.held_chunks) == 3 and state.start_bin * 60 <= pd_ts("2015-06-01T12:00:00")


def pd_ts(text: str) -> int:
    import pandas as pd

    return int(pd.Timestamp(text, tz="UTC").timestamp())


def test_a_file_a_store_took_before_tailing_is_followed_from_its_end(data_root):
    """Stores written before tailing keyed a log file by its whole content's hash: such a file is not read again, and
    from the next run on it is followed like the others (appended lines read, numbered after the old ones)."""
    from lepton_flow.sources import hash_file

    src = data_root / "logs"
    src.mkdir()
    app = src / "app.log"
    app.write_text(_lines(100))
    url = get_settings().store
    sha, size = hash_file(str(app))
    store.record_ingested(url, None, "a run before tailing", {}, {sha: {"file": str(app), "size": size, "run": "old"}}, kind="logs")
    refs, _ = _ingest(src, "upgraded")
    assert (refs["app.log"].lines, refs["app.log"].line_base) == (0, 100) and _counted() == 0
    with app.open("a") as fh:
        fh.write(_lines(50))
    refs, _ = _ingest(src, "after")
    assert (refs["app.log"].lines, refs["app.log"].line_base) == (50, 100) and _counted() == 50


def test_an_empty_file_is_no_other_file_s_stream(data_root):
    src = data_root / "logs"
    src.mkdir()
    (src / "empty.log").write_text("")
    refs, _ = _ingest(src, "empty")
    assert refs["empty.log"].lines == 0
    (src / "later.log").write_text(_lines(5))
    refs, known = _ingest(src, "later")
    assert refs["later.log"].start == 0 and refs["later.log"].lines == 5 and known == ["empty.log"] and _counted() == 5
