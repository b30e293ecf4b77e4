"""Reading log files: formats detected, multi-line entries kept, every other line quarantined with a reason; real fail2ban logs."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from lepton_flow.logs.reader import MAX_LINE, LogFormatError, NotALogFile, read_log

FAIL2BAN = Path(__file__).resolve().parents[1] / ".venv" / "share" / "fail2ban-logs"


def test_gzip_multiline_and_quarantine_with_line_numbers(tmp_path):
    path = tmp_path / "app.log.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(
            '{"ts": "2026-01-01T00:00:00Z", "level": "error", "msg": "boom"}\n'
            "Traceback (most recent call last):\n"
            '  File "x.py", line 1\n'
            "\n"
            '{"ts": "2026-01-01T00:00:01Z", "msg": "ok"}\n'
            "not json at all\n"
        )
    got = read_log(str(path))
    assert got.format == "jsonl" and got.balanced and (got.lines, got.blank, got.event_lines) == (6, 1, 4)
    assert [e["line"] for e in got.events] == [1, 5]
    assert got.events[0]["message"].splitlines() == ["boom", "Traceback (most recent call last):", '  File "x.py", line 1']
    assert got.quarantined == [{"line": 6, "reason": "no registered log format parses it (the file's is jsonl)", "text": "not json at all"}]


def test_syslog_lines_dated_after_the_file_was_written_belong_to_the_year_before(tmp_path):
    """A file rotated on 2 January 2027 holds December's lines: they are 2026's, January's are 2027's."""
    import os
    from datetime import UTC, datetime

    path = tmp_path / "auth.log"
    path.write_text(
        "Dec 30 23:59:00 host sshd[1]: Accepted password for a\n"
        "Dec 31 12:00:00 hóst sshd[1]: a line the fast path leaves (not ASCII)\n"
        "Jan  1 00:00:05 host sshd[1]: Accepted password for b\n"
        "261231 120000 7 INFO dfs.DataNode: an HDFS line carries its year (2026), and a date after the file's stays\n"
        "Jan  2 11:00:00 host sshd[1]: Accepted password for c\n"
    )
    written = datetime(2027, 1, 2, 12, 0, tzinfo=UTC).timestamp()
    os.utime(path, (written, written))
    got = read_log(str(path))
    assert got.format == "syslog-rfc3164" and got.balanced
    years = [(e["line"], e["timestamp"].year, e["timestamp"].month) for e in got.events]
    assert years == [(1, 2026, 12), (2, 2026, 12), (3, 2027, 1), (4, 2026, 12), (5, 2027, 1)]
    hdfs_late = datetime(2028, 1, 5, 12, 0, tzinfo=UTC).timestamp()
    (tmp_path / "late.log").write_text("280106 120000 7 INFO dfs.DataNode: four days after the file was written\n")
    os.utime(tmp_path / "late.log", (hdfs_late - 4 * 86400, hdfs_late - 4 * 86400))
    assert read_log(str(tmp_path / "late.log")).events[0]["timestamp"].year == 2028  # a format with years is left alone
    # A year given is taken as is.
    assert [e["timestamp"].year for e in read_log(str(path), year=2027).events][:2] == [2027, 2027]


def test_syslog_without_a_year_takes_the_year_given(tmp_path):
    path = tmp_path / "auth.log"
    path.write_text("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\n")
    assert read_log(str(path), year=2015).events[0]["timestamp"].year == 2015


def test_broken_files(tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_text("")
    got = read_log(str(empty))
    assert got.lines == 0 and got.events == [] and got.balanced
    long = tmp_path / "long.log"
    long.write_text("2026-01-01T00:00:00Z INFO a: fine\n" + "2026-01-01T00:00:01Z INFO " + "x" * (1 << 20) + "\n")
    got = read_log(str(long))
    assert len(got.events) == 1 and got.quarantined[0]["line"] == 2 and str(MAX_LINE) in got.quarantined[0]["reason"]
    latin = tmp_path / "latin1.log"
    latin.write_bytes("2026-01-01T00:00:00Z WARN cafe: caf\xe9 cr\xe8me\n".encode("latin-1"))
    assert read_log(str(latin)).events[0]["message"] == "cafe: café crème"
    ansi = tmp_path / "ansi.log"
    ansi.write_text("\x1b[31m2026-01-01T00:00:00Z ERROR red\x1b[0m\n2026-01-01T00:00:01Z INFO plain\n")
    got = read_log(str(ansi))
    assert got.balanced and len(got.events) + len(got.quarantined) == 2
    truncated = tmp_path / "cut.log.gz"
    whole = gzip.compress("".join(f"2026-01-01T00:00:{i % 60:02d}Z INFO request {i * 7919 % 100003}\n" for i in range(5000)).encode())
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(LogFormatError, match="cut.log.gz: cannot be read"):
        read_log(str(truncated))
    garbage = tmp_path / "garbage.log"
    garbage.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(NotALogFile, match="garbage.log: not a log file: binary content") as err:
        read_log(str(garbage))
    assert err.value.lines == 41  # 40 line ends, then the last line without one
    prose = tmp_path / "README"
    prose.write_text("A README is not a log.\n\nIt has two lines of prose.\n")
    with pytest.raises(NotALogFile, match="README: not a log file: no known log format parses any of its first 2 lines"):
        read_log(str(prose))
    with pytest.raises(LogFormatError, match="unknown log format 'cobol'"):
        read_log(str(ansi), fmt="cobol")


def test_the_nul_blocks_a_crash_leaves_in_a_log_lose_none_of_its_lines(tmp_path):
    """After a power loss, a log often holds a run of NUL bytes where the blocks it had grown into were never written
    (ext4's delayed allocation), and the lines written after the reboot follow it. Such a file was refused whole as
    binary; a run at a line's start or end is dropped, a run inside a line ends it (the line cut short, then the next)."""
    lines = [f"Jan  5 10:00:{i % 60:02d} host sshd[{100 + i}]: Accepted password for u{i} from 10.0.0.{i % 250} port 22 ssh2\n".encode() for i in range(200)]
    cases = {
        "between-lines.log": b"".join(lines[:100]) + b"\x00" * 4096 + b"".join(lines[100:]),
        "first.log": b"\x00" * 4096 + b"".join(lines),
        "last.log": b"".join(lines) + b"\x00" * 3000,
        "cut-line.log": b"".join(lines[:99]) + lines[99][:30] + b"\x00" * 4096 + b"".join(lines[100:]),
        "two-crashes.log": b"".join(lines[:50]) + b"\x00" * 512 + b"".join(lines[50:150]) + b"\x00" * 8192 + b"".join(lines[150:]),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        got = read_log(str(tmp_path / name))
        assert got.format == "syslog-rfc3164" and got.balanced and got.blank == 0 and got.end == len(data), name
        if name == "cut-line.log":  # the line the crash cut short is quarantined with its own number; the next one read
            assert (got.lines, len(got.events), [(q["line"], q["text"]) for q in got.quarantined]) == (200, 199, [(100, lines[99][:30].decode())])
        else:
            assert (got.lines, len(got.events), got.quarantined) == (200, 200, []), name
    # A file still being written that ends in NULs: they wait with the partial line, as any unfinished line does.
    assert (read_log(str(tmp_path / "last.log"), final=False).pending, len(read_log(str(tmp_path / "last.log"), final=False).events)) == (3000, 200)
    # A binary file's NULs are many short runs: still not a log.
    (tmp_path / "image.log").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00" + bytes(range(256)) * 4)
    with pytest.raises(NotALogFile, match="image.log: not a log file: binary content"):
        read_log(str(tmp_path / "image.log"))


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_line(tmp_path):
    """PowerShell 5's `Out-File -Encoding utf8` and Notepad start a file with EF BB BF: the first line is still an event,
    and offsets count the mark (a later read starts where the bytes as stored left off)."""
    first = "2026-01-01 00:00:00,123 INFO [main] org.x.Y: first\n2026-01-01 00:00:01,123 INFO [main] org.x.Y: second\n"
    path = tmp_path / "app.log"
    path.write_bytes(b"\xef\xbb\xbf" + first.encode())
    got = read_log(str(path))
    assert (got.format, len(got.events), got.quarantined, got.end) == ("log4j", 2, [], path.stat().st_size)
    with path.open("a") as fh:
        fh.write("2026-01-01 00:00:02,123 WARN [main] org.x.Y: third\n")
    more = read_log(str(path), start=got.end, line_base=got.lines)
    assert [e["message"] for e in more.events] == ["third"] and more.end == path.stat().st_size
    document = tmp_path / "export.json"
    document.write_bytes(b'\xef\xbb\xbf[{"ts": "2026-01-01T00:00:00Z", "level": "info", "msg": "a"}]\n')
    got = read_log(str(document))
    assert (got.format, len(got.events), got.end) == ("json-document", 1, document.stat().st_size)


@pytest.mark.skipif(not FAIL2BAN.is_dir(), reason="make setup unpacks fail2ban's test logs into .venv/share")
def test_fail2ban_logs_are_parsed_or_quarantined_line_by_line():
    files = sorted(p for p in FAIL2BAN.rglob("*") if p.is_file())
    assert len(files) >= 90
    log_lines = parsed = 0
    for path in files:
        try:
            got = read_log(str(path), year=2013)
        except LogFormatError as exc:
            assert str(path) in str(exc)
            log_lines += sum(1 for line in path.read_text(errors="replace").splitlines() if line.strip() and not line.startswith("#"))
            continue
        assert got.balanced, path.name
        assert all(q["reason"] and q["line"] >= 1 for q in got.quarantined)
        log_lines += got.lines - got.blank - sum(1 for q in got.quarantined if q["text"].startswith("#"))
        parsed += got.event_lines
    assert parsed / log_lines >= 0.7  # measured 0.74 with the formats registered today (0.67 before the layouts of 2026-12-02)


@pytest.mark.parametrize("data", [
    b"", b"\n", b"\n\n", b"a", b"a\n", b"a\nb", b"a\r\nb\r\r\n\n", b"\r", b" \r \n", b"x\r\ny\n\n\n",
    "é\u2028x\u0085y\n".encode(), b"a\x0bb\x1cc\n\rd\n", b"\x1b[31mred\x1b[0m\r\nz\n", b"\xff\xfe\nq\n", b"caf\xe9\r\n\x1b[1mok\n",
])
def test_a_file_splits_into_the_lines_iterating_it_gives(data):
    """Arrow splits UTF-8 files without terminal codes; the rest go line by line: each way, the lines iterating the
    file gives, less their line ends (one \\n, any \\r before it) and terminal codes, Latin-1 where a line is not UTF-8."""
    import io

    from lepton_flow.logs.reader import _ANSI, _decode, _split

    expected = [_ANSI.sub("", _decode(raw[:-1] if raw.endswith(b"\n") else raw).rstrip("\r")) for raw in io.BytesIO(data)]
    assert _split(data).to_pylist() == expected
