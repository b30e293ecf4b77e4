"""Log formats on real loghub lines and broken ones; Drain's grouping accuracy and stable template ids."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from lepton_flow.logs.drain import Drain, grouping_accuracy
from lepton_flow.logs.formats import detect, log_formats

LOGHUB = Path(__file__).resolve().parent / "data" / "loghub"  # loghub samples (see its LICENSE and CITATION)
SAMPLES = {"HDFS": ("hdfs", 2008), "BGL": ("bgl", 2005), "OpenSSH": ("syslog-rfc3164", 2015), "Apache": ("apache-error", 2005)}

def _sample(name: str) -> tuple[list[str], list[str]]:
    raw = (LOGHUB / f"{name}_2k.log").read_text(errors="replace").splitlines()
    truth = [r["EventId"] for r in csv.DictReader(open(LOGHUB / f"{name}_2k.log_structured.csv"))]
    return raw, truth


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_loghub_sample_is_detected_parsed_and_grouped(name):
    raw, truth = _sample(name)
    fmt_name, year = SAMPLES[name]
    assert detect(raw[:200], year) == fmt_name
    fmt = log_formats()[fmt_name]
    events = [fmt.parse(line, year) for line in raw]
    assert all(e is not None for e in events)
    assert all(e["timestamp"].utcoffset() is not None and e["message"] for e in events)
    miner = Drain(similarity=fmt.drain_similarity)
    ids = [miner.add(e["message"]) for e in events]
    assert grouping_accuracy(ids, truth) >= 0.95


def test_grouping_accuracy_counts_only_exact_groups():
    assert grouping_accuracy([1, 1, 2, 2], ["a", "a", "b", "b"]) == 1.0
    assert grouping_accuracy([1, 1, 1, 2], ["a", "a", "b", "b"]) == 0.0  # group 1 mixes a and b; group 2 lacks a b
    assert grouping_accuracy([1, 1, 2, 3], ["a", "a", "b", "c"]) == 1.0


def test_template_ids_stay_stable_across_runs():
    raw, _ = _sample("HDFS")
    fmt = log_formats()["hdfs"]
    messages = [fmt.parse(line, 2008)["message"] for line in raw]
    first = Drain(similarity=fmt.drain_similarity)
    ids = [first.add(m) for m in messages[:1000]]
    saved = json.loads(json.dumps(first.state()))  # as the store keeps it
    second = Drain.from_state(saved)
    assert [second.add(m) for m in messages[:1000]] == ids  # the same lines, the same ids
    later = [second.add(m) for m in messages[1000:]]
    fresh = Drain(similarity=fmt.drain_similarity)
    assert [fresh.add(m) for m in messages] == ids + later  # two runs equal one run over everything
    new = second.add("a message of a kind never seen before")
    assert new == len(second.templates) - 1 and second.template(new) == "a message of a kind never seen before"


def test_masks_hide_the_variable_parts():
    d = Drain()
    masked = d.mask("Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106 dest: /10.250.19.102:50010 size 0x1f at /var/log/x.log took 12.5")
    assert masked == "Receiving block <BLK> src: /<IP> dest: /<IP> size <HEX> at <PATH> took <NUM>"


@pytest.mark.parametrize("name", sorted(SAMPLES.values()))
def test_formats_survive_broken_lines(name):
    fmt = log_formats()[name[0]]
    good = fmt.examples[0]
    for bad in [good[: len(good) // 3], good.encode().decode("latin-1"), "\x1b[31m" + good + "\x1b[0m", good + " " + "x" * 1_000_000, "\ufffd\ufffd"]:
        event = fmt.parse(bad, 2026)
        assert event is None or set(event) == {"timestamp", "host", "source", "level", "message"}
    assert fmt.parse(good + " \x1b[1mbold\x1b[0m", 2026)["message"].endswith("\x1b[0m")  # kept as text: escaping is the report's job


def _tricky_hdfs_lines() -> list[str]:
    good = log_formats()["hdfs"].examples[0]
    return [
        good,
        "081131 203615 148 INFO dfs.DataNode: 31 November",  # no such day: parse refuses, Arrow would roll it over
        "080229 235960 148 INFO dfs.DataNode: second 60",
        "990101 000000 1 WARN a.b$C-d: year 2099, not 1999",
        "081109 203615 148 INFO dfs.DataNode: ",  # empty message
        "081109 203615 148 INFO dfs.DataNode:  two spaces: and a colon",
        "081109 203615 148 INFO dfs.Dätä: a source Python's \\w takes and RE2's does not",
        "٠٨١١٠٩ 203615 148 INFO dfs.DataNode: Arabic-Indic digits",
        "081109 203615 148 info dfs.DataNode: lower-case level",
        "081109 203615 148 INFO dfs.DataNode no colon",
        "",
        "   ",
    ]


def _tricky_bgl_lines() -> list[str]:
    good = log_formats()["bgl"].examples[0]
    head = "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 "
    return [
        good,
        head + "2005-06-31-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO 31 June",
        head + "2005-06-03-15.42.60.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO second 60",
        head + "2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO",  # no message
        head + "2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO:colon, no space",
        head + "2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL FATAL  two spaces",
        "-\x1c 1117838570 2005.06.03 R02 2005-06-03-15.42.50.675872 R02 RAS KERNEL INFO a separator Python counts as space",
        "- 1117838570 2005.06.03 Rü2 2005-06-03-15.42.50.675872 R02 RAS KERNEL INFO a non-ASCII node",
        "- 1117838570 2005.06.03 R02\x0bx 2005-06-03-15.42.50.675872 R02 RAS KERNEL INFO a vertical tab",
    ]


def _tricky_syslog_lines() -> list[str]:
    return [
        "<34>Oct 11 22:14:15 mymachine su: 'su root' failed",
        "<191>Oct  1 02:03:04 host app[12]: pri 191 is debug, a space-padded day",
        "<999>Oct  1 02:03:04 host app: pri 999",
        "Feb 29 00:00:00 host app: 29 February in a year that has none",
        "Feb 28 23:59:60 host app: second 60",
        "Apr 31 10:00:00 host app: 31 April",
        "Foo 11 22:14:15 host app: no such month",
        "Oct 00 22:14:15 host app: day 0",
        "Oct 11 24:00:00 host app: hour 24",
        "Oct 11 22:14:15 host app:no space after the colon",
        "Oct 11 22:14:15 host app: ",
        "Oct 11 22:14:15 höst app: a non-ASCII host",
        "Oct 11 22:14:15 host\x1capp x: a separator Python counts as space",
        "Oct 11 22:14:15 host app[x]: a pid that is not one",
        "Oct 11 22:14:15 host app[7]:: two colons",
        "<34> Oct 11 22:14:15 host app: a space after the priority",
    ]


def _tricky_jsonl_lines() -> list[str]:
    """JSON records that the all-at-once reader must read as each line's own: keys that change from line to line, values
    of each kind under the common names, what only Python's `json` reads, records said by what they record."""
    import json
    import random

    rng = random.Random(3)
    names = ["ts", "time", "@timestamp", "msg", "message", "Message", "level", "severity", "Level", "host", "logger", "@t", "@mt", "log.level", "jsonPayload", "request", "status", "event"]
    values = [None, "", "done", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00+02:00", "01/Jan/2026:00:00:07 +0000", "not a time", 1767225600, 1767225600123,
              30, 4, True, 2.5, {"message": "inner"}, {"$date": "2026-01-01T00:00:00Z"}, [1], "WARN", "Information", "D2", "GET / HTTP/1.1", "502", 404]
    lines = []
    for _ in range(400):
        record = {rng.choice(["ts", "time", "@t", "Timestamp"]): rng.choice([*values[3:6], *values[7:9], rng.choice(values[:9])]),
                  rng.choice(["msg", "message", "Message", "@mt"]): rng.choice(["done"] * 6 + ["", None, 5])}
        record.update({rng.choice(names): rng.choice(values) for _ in range(rng.randint(0, 3))})
        lines.append(json.dumps(record))
    lines += [json.dumps({"ts": 1767225600 + i, "level": ["info", "warn", "", None, 30][i % 5], "msg": ["a", "", None, "b c"][i % 4], "logger": ["x", None, 5][i % 3]}) for i in range(60)]
    return lines + [
        '{"ts": 1767225600, "level": "info", "msg": "id 123456789012345678901234567890"}',  # digits past 64 bits: `json`'s
        '{"ts": 1767225600, "level": "info", "msg": "ratio", "value": NaN}',  # only Python's `json` reads NaN
        '{"ts": 1767225600, "level": "info", "msg": "cut in ha',
        '  {"ts": 1767225600, "level": "info", "msg": "indented"}',
        '{"ts": 1767225600, "level": "info", "msg": "ok", "msg": 5}',  # a key twice: the last one
        '[{"ts": 1767225600, "msg": "an array"}]',
        '{"time_local": "01/Jan/2026:00:00:07 +0000", "request": "GET /a HTTP/1.1", "status": "503"}',
    ]


def _tricky_access_lines() -> list[str]:
    rest = '"GET /a.html HTTP/1.1" 200 512 "http://example.com/" "Mozilla/5.0"'
    return [
        f"10.0.0.{i} - - [{d:02d}/Mar/2007:{h:02d}:39:21 +0100] " + rest for i, (d, h) in enumerate([(1, 0), (15, 12), (28, 23)])
    ] + [
        '10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 404 -',  # common format, no size
        '10.0.0.1 - - [10/Oct/2000:13:55:36 -0530] "POST /x HTTP/1.0" 503 12 "-" "curl/8"',
        '10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /say?q=\\"hi\\" HTTP/1.0" 200 1 "-" "a \\"quoted\\" agent"',
        '10.0.0.1 - - [10/Oct/2000:13:55:36 +0100] "GET / HTTP/1.0" 200 1 trailing words after the line',
        '10.0.0.1 - - [10/Oct/2000:13:55:36 +2400] "GET / HTTP/1.0" 200 1',  # an offset of a whole day
        '10.0.0.1 - - [10/Oct/2000:13:55:36 +0160] "GET / HTTP/1.0" 200 1',  # 60 minutes
        '10.0.0.1 - - [31/Apr/2007:10:00:00 +0000] "GET / HTTP/1.0" 200 1',  # 31 April
        '10.0.0.1 - - [29/Feb/2007:10:00:00 +0000] "GET / HTTP/1.0" 200 1',  # 29 February in a year that has none
        '10.0.0.1 - - [28/Feb/2007:23:59:60 +0000] "GET / HTTP/1.0" 200 1',  # second 60
        '10.0.0.1 - - [10/Oct/2000:24:00:00 +0000] "GET / HTTP/1.0" 200 1',  # hour 24
        '10.0.0.1 - - [10/Foo/2000:13:55:36 +0000] "GET / HTTP/1.0" 200 1',  # no such month
        '10.0.0.1 - - [10/Oct/0000:13:55:36 +0000] "GET / HTTP/1.0" 200 1',  # year 0
        '10.0.0.1 - - [01/Jan/2000:00:30:00 +0100] "GET / HTTP/1.0" 200 1',  # the day before in UTC
        '10.0.0.1 -\x1c - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.0" 200 1',  # a separator Python counts as space
        '10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /ü HTTP/1.0" 200 1',  # non-ASCII
        '10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.0" 2000 1',  # a four-digit status
    ]


@pytest.mark.parametrize("name", sorted(n for n, f in log_formats().items() if f.parse_many is not None))
def test_parse_many_gives_the_events_parse_gives(name):
    """A format's all-at-once parser takes only lines its line parser takes, and gives each the same event."""
    import pyarrow as pa

    fmt = log_formats()[name]
    sample = {"hdfs": "HDFS", "bgl": "BGL", "syslog-rfc3164": "OpenSSH"}.get(name)
    tricky = {"hdfs": _tricky_hdfs_lines, "bgl": _tricky_bgl_lines, "syslog-rfc3164": _tricky_syslog_lines, "access-combined": _tricky_access_lines, "jsonl": _tricky_jsonl_lines}.get(name, list)()
    lines = list(fmt.examples) + (_sample(sample)[0] if sample else []) + tricky
    year = 2007 if name == "syslog-rfc3164" else 2008  # no 29 February
    index, table = fmt.parse_many(pa.array(lines), year)
    got = dict(zip(index.tolist(), table.to_pylist()))
    assert len(got) >= len(lines) // 2  # it takes the bulk of a file in its own format
    for i, line in enumerate(lines):
        want = fmt.parse(line, year)
        if i in got:
            assert want is not None, f"parse_many took a line parse refuses: {line!r}"
            assert got[i]["timestamp"] == want["timestamp"] and {k: got[i][k] for k in ("host", "source", "level", "message")} == {k: want[k] for k in ("host", "source", "level", "message")}, line
    taken = {lines[i] for i in got}
    assert not any(("31 November" in line or "second 60" in line or "31 June" in line or "31 April" in line or "29 February" in line) for line in taken)  # dates Arrow would roll over
    assert fmt.parse_many(pa.array(lines), 99999)[0].size == 0 or name != "syslog-rfc3164"  # a year the digits cannot spell: all to `parse`


def test_reading_a_file_takes_the_fast_path_and_the_line_path_alike(tmp_path):
    """A file the fast path reads gives the events and quarantine reading it line by line gives, continuations included."""
    from lepton_flow.logs import reader

    raw, _ = _sample("HDFS")
    lines = raw[:50] + ["Traceback (most recent call last):", '  File "x.py", line 1', "not a log line"] + _tricky_hdfs_lines() + raw[50:60]
    path = tmp_path / "mixed.log"
    path.write_text("\n".join(lines) + "\n")
    fast = reader.read_log(str(path), "hdfs", 2008)
    hdfs = log_formats()["hdfs"]
    try:
        hdfs.parse_many = None  # every line through `parse`
        slow = reader.read_log(str(path), "hdfs", 2008)
    finally:
        hdfs.parse_many = __import__("lepton_flow.logs.formats.hdfs", fromlist=["parse_many"]).parse_many
    assert fast.balanced and (fast.lines, fast.blank, fast.event_lines) == (slow.lines, slow.blank, slow.event_lines)
    assert fast.quarantined == slow.quarantined
    assert fast.frame.fillna({"host": ""}).astype(str).equals(slow.frame.fillna({"host": ""}).astype(str))
    assert fast.events[49]["message"].endswith('\nTraceback (most recent call last):\n  File "x.py", line 1')


def test_masking_all_at_once_equals_masking_each_message():
    """RE2's masks (no look-around) give Python's text, on messages built to trip them up."""
    import random

    import pyarrow as pa

    rng = random.Random(7)
    uuid = "78dc1847-5f0b-49cc-8a2e-0123456789ab"
    alphabet = list("0123456789") * 3 + list("abxXfF_.-+:/ ") * 2 + ["blk_", "0x", "10.0.0.1", "é", "٣", "\t", uuid, uuid[:-1], uuid + "0"]
    alphabet += ["k", "ms", "MB", "KiB", "s", "Hz", "bps", "secs"]  # units glued to numbers
    messages = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(50_000)]
    messages += [m for line in _sample("HDFS")[0] for m in [log_formats()["hdfs"].parse(line, 2008)["message"]]]
    d = Drain()
    assert d.mask_many(pa.array(messages)).to_pylist() == [d.mask(m) for m in messages]
    assert sum("<UUID>" in m for m in d.mask_many(pa.array(messages)).to_pylist()) > 500  # the case is met often
    assert sum("_<NUM>" in m for m in d.mask_many(pa.array(messages)).to_pylist()) > 500
    from lepton_flow.logs.drain import _LEGACY_MASKS, _UNGLUED_MASKS, _UNITLESS_MASKS

    # Stores mined before the UUID mask, the glued one, or units: their own masks, through RE2 too.
    for masks in (_LEGACY_MASKS, _UNGLUED_MASKS, _UNITLESS_MASKS):
        legacy = Drain(masks=masks)
        assert legacy.mask_many(pa.array(messages)).to_pylist() == [legacy.mask(m) for m in messages]
    custom = Drain(masks=[(r"(?<=user )\w+", "<USER>")])  # masks RE2 cannot run: each message in Python
    assert custom.mask_many(pa.array(["login user bob", "x"])).to_pylist() == ["login user <USER>", "x"]


def test_numbers_glued_to_words_by_underscores_are_masked_and_each_kind_of_id_keeps_its_token():
    """Hadoop's attempt and container ids, Spark's block ids, Trino's query ids: every line was its own masked text (what
    staged counts and mining hold grows with those), though Drain grouped them. The numbers go, the prefix stays."""
    import pyarrow as pa

    from lepton_flow.logs.drain import _UNGLUED_MASKS

    d = Drain()
    assert [d.mask(m) for m in (
        "Task attempt_1445144423722_0020_m_000000_0 is done", "Found block rdd_2_0 locally", "Block broadcast_0_piece0 stored",
        "Query 20240501_100001_00001_abcde failed", "eth_0 up, v1_2.3, x.12_3, -5_1",
    )] == [
        "Task attempt_<NUM>_<NUM>_m_<NUM>_<NUM> is done", "Found block rdd_<NUM>_<NUM> locally", "Block broadcast_<NUM>_piece0 stored",
        "Query <NUM>_<NUM>_<NUM>_abcde failed", "eth_<NUM> up, v1_2.3, x.12_<NUM>, -<NUM>_<NUM>",
    ]
    lines = [f"Task attempt_1445144423722_{j:04d}_m_{i:06d}_{i % 3} is done. And is in the process of committing" for j in range(30) for i in range(100)]
    lines += [f"Container container_1445144423722_{j:04d}_01_{i:06d} transitioned from NEW to ALLOCATED" for j in range(30) for i in range(10)]
    masked = d.mask_many(pa.array(lines))
    assert len(set(masked.to_pylist())) == 2 and len(set(d.add_many(masked))) == 2
    before = Drain(masks=_UNGLUED_MASKS)  # a store mined before this mask keeps its masks
    assert len(set(before.mask_many(pa.array(lines)).to_pylist())) == len(lines)


def test_a_number_written_with_its_unit_is_masked_as_a_number():
    """The kernel's `Memory: 123k/456k available (1234k kernel code, ...)`, sizes and durations with their units: each
    value had kept its text, so a message of several became a template per line (168 templates for one message over
    2,000 lines of a 2005 Red Hat syslog written as its kernel writes it). Words that only begin with digits stay."""
    import pyarrow as pa

    from lepton_flow.logs.drain import _UNITLESS_MASKS

    d = Drain()
    assert [d.mask(m) for m in ("Memory: 123k/456k available (1234k kernel code, 99k reserved)", "took 250ms, then 3.5s", "wrote 512MB, 2KiB left",
                                "at 2GHz over 10Mbps, 100%", "1st 2nd 64bit md5 9f4ef63 5s3")] == [
        "Memory: <NUM>/<NUM> available (<NUM> kernel code, <NUM> reserved)", "took <NUM>, then <NUM>", "wrote <NUM>, <NUM> left",
        "at <NUM> over <NUM>, <NUM>%", "1st 2nd 64bit md5 9f4ef63 5s3"]
    lines = [f"Memory: {a}k/{b}k available ({c}k kernel code, {a % 97}k reserved, {b % 89}k data, {c % 83}k init, 0k highmem)"
             for a, b, c in zip(range(100_000, 100_500), range(200_000, 200_500), range(1_000, 1_500))]
    assert len(set(Drain(similarity=0.7).add_many(d.mask_many(pa.array(lines))))) == 1
    before = Drain(similarity=0.7, masks=_UNITLESS_MASKS)  # a store mined before keeps its masks, and its template ids
    assert len(set(before.add_many(before.mask_many(pa.array(lines))))) > 50


def test_masking_repeated_messages_once_equals_masking_each_message():
    """Where most messages repeat (at once, or once block ids are masked), each distinct text is masked once: same text."""
    import random

    import pyarrow as pa

    from lepton_flow.logs.drain import _distinct

    rng = random.Random(11)
    alphabet = list("0123456789") * 3 + list("abxXfF_.-+:/ ") * 2 + ["blk_", "blk_-", "0x", "10.0.0.1", "é", "٣", "\t"]
    pool = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(1_000)] + [None, "blk_٣ 12", "blk_3 12"]
    repeated = [rng.choice(pool) for _ in range(40_000)]
    hdfs = [log_formats()["hdfs"].parse(line, 2008)["message"] for line in _sample("HDFS")[0]]
    renewed = [m.replace("blk_", f"blk_{turn}") for turn in range(10) for m in hdfs]  # repeats only once block ids are masked
    assert _distinct(pa.array(repeated))[1] is not None and _distinct(pa.array(renewed))[1] is None
    d = Drain()
    for messages in (repeated, renewed):
        assert d.mask_many(pa.array(messages, pa.string())).to_pylist() == [None if m is None else d.mask(m) for m in messages]
    custom = Drain(masks=[(r"(?<=user )\w+", "<USER>")])
    names = [f"login user {rng.choice(['bob', 'ann', None])}" for _ in range(20_000)]
    assert custom.mask_many(pa.array(names)).to_pylist() == [custom.mask(m) for m in names]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_mining_distinct_messages_once_equals_mining_every_message(name):
    raw, _ = _sample(name)
    fmt_name, year = SAMPLES[name]
    fmt = log_formats()[fmt_name]
    messages = [fmt.parse(line, year)["message"] for line in raw] * 3
    one, many = Drain(similarity=fmt.drain_similarity), Drain(similarity=fmt.drain_similarity)
    ids = [one.add(m) for m in messages]
    assert many.add_many([many.mask(m) for m in messages]).tolist() == ids
    assert (many.templates, many.counts) == (one.templates, one.counts)
    # As staging keeps them: each file's texts dictionary-encoded on its own.
    import pyarrow as pa

    masked = [Drain().mask(m) for m in messages]
    files = pa.chunked_array([pa.array(masked[:2500]).dictionary_encode(), pa.array(masked[2500:]).dictionary_encode()])
    staged = Drain(similarity=fmt.drain_similarity)
    assert staged.add_many(files).tolist() == ids and staged.counts == one.counts


@pytest.mark.parametrize("split", ["later first", "earlier first", "interleaved"])
def test_a_run_mines_its_events_in_time_order_whatever_order_its_files_are_in(data_root, split):
    """Template ids and counts are those of mining every message in time order (files in name order at ties)."""
    import numpy as np

    from lepton_flow import store
    from lepton_flow.logs.ingest import discover, mine_and_commit, new_run, read_file

    raw, _ = _sample("HDFS")
    fmt = log_formats()["hdfs"]
    events = [fmt.parse(line, 2008) for line in raw]
    stamps = np.array([e["timestamp"].timestamp() for e in events])
    cut = np.sort(stamps)[len(stamps) // 2]
    early, late = [i for i in range(len(raw)) if stamps[i] < cut], [i for i in range(len(raw)) if stamps[i] >= cut]
    src = data_root / "src"
    src.mkdir()
    names = {
        "later first": {"a.log": late, "b.log": early},
        "earlier first": {"a.log": early, "b.log": late},
        "interleaved": {"a.log": list(range(1, len(raw), 2)), "b.log": list(range(0, len(raw), 2))},  # the same seconds in both
    }[split]
    for name, rows in names.items():
        (src / name).write_text("".join(raw[i] + "\n" for i in rows))
    run = new_run("order", 60, None)
    new, _ = discover(str(src), run)
    refs = [read_file(f, run, "hdfs", 2008) for f in new]
    mine_and_commit(refs, run, None)

    in_files = names["a.log"] + names["b.log"]
    expected = Drain(similarity=fmt.drain_similarity)
    for i in sorted(in_files, key=lambda i: stamps[i]):  # stable: file order at ties
        expected.add(events[i]["message"])
    mined = Drain.from_state(store.logs_state(run.store_url).drain)
    assert (mined.templates, mined.counts) == (expected.templates, expected.counts)
    assert int(store.open_logs(run.store_url)["count"].sum()) == len(raw)


def test_events_in_the_same_second_in_two_files_are_mined_in_file_order(data_root):
    """Drain's result depends on order: B then A merge (and C stands alone); A, C then B would merge B with C."""
    from lepton_flow import store
    from lepton_flow.logs.ingest import discover, mine_and_commit, new_run, read_file

    a, b, c = "open file alpha beta gamma", "open file alpha delta epsilon", "open file zeta delta epsilon"
    src = data_root / "src"
    src.mkdir()
    (src / "1.log").write_text(f"2026-03-01T00:00:00Z INFO {b}\n")
    (src / "2.log").write_text(f"2026-03-01T00:00:00Z INFO {a}\n2026-03-01T00:00:00Z INFO {c}\n")
    run = new_run("ties", 60, None)
    new, _ = discover(str(src), run)
    mine_and_commit([read_file(f, run, "auto", None) for f in new], run, 0.5)
    expected = Drain(similarity=0.5)
    for text in (b, a, c):
        expected.add(text)
    mined = Drain.from_state(store.logs_state(run.store_url).drain)
    assert (mined.templates, mined.counts) == (expected.templates, expected.counts) == ([["open", "file", "alpha", "<*>", "<*>"], c.split()], [2, 1])


def test_masked_tokens_route_as_the_digits_they_hide():
    """Proxifier's lines start with host:port: the mask leaves `host:<NUM>`, which must not open a branch per host
    (it gave hundreds of templates for a handful of events); a half-masked UUID no longer splits a template either."""
    import random

    from lepton_flow.logs.formats import log_formats

    rng = random.Random(3)
    hosts = [f"{rng.choice(['www', 'api', 'cdn', 'proxy'])}.{''.join(rng.choices('abcdefghij', k=6))}.com" for _ in range(60)]
    kinds = [
        ("open", "{h}:{p} open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS"),
        ("close", "{h}:{p} close, {a} bytes sent, {b} bytes received, lifetime 00:{c:02d}"),
        ("error", "{h}:{p} error : Could not connect through proxy proxy.cse.cuhk.edu.hk:5070 - Proxy server cannot establish a connection with the target, status code 403"),
        ("vm", "[instance: {u}] VM Started (Lifecycle Event)"),
    ]
    lines, truth = [], []
    for i in range(1200):
        kind, text = rng.choice(kinds)
        u = "-".join("".join(rng.choices("0123456789abcdef", k=n)) for n in (8, 4, 4, 4, 12))
        message = text.format(h=rng.choice(hosts), p=rng.choice([80, 443, 5070]), a=rng.randint(0, 9999), b=rng.randint(0, 99999), c=rng.randint(0, 59), u=u)
        lines.append(f"[10.30 16:{i // 60 % 60:02d}:{i % 60:02d}] chrome.exe - {message}")
        truth.append(kind)
    fmt = log_formats()["proxifier"]
    miner = Drain(similarity=fmt.drain_similarity)
    ids = [miner.add(fmt.parse(line, 2026)["message"]) for line in lines]
    assert len(miner.templates) == 4 and grouping_accuracy(ids, truth) == 1.0
    old = Drain.from_state({**miner.state(), "routing": 1, "tree": {}, "seen": {}, "templates": [], "counts": []})
    assert len({old.add(fmt.parse(line, 2026)["message"]) for line in lines}) > 20  # as a miner saved before routes them
    assert Drain().mask("id 78dc1847-5f0b-49cc-8a2e-0123456789ab done") == "id <UUID> done"


def test_a_value_written_in_a_varying_number_of_tokens_is_one_event(data_root):
    """Proxifier writes a connection's lifetime as `<1 sec` or `00:01`: through a run, both are one template."""
    from lepton_flow import store
    from lepton_flow.logs.ingest import discover, mine_and_commit, new_run, read_file

    src = data_root / "src"
    src.mkdir()
    lines = [
        f"[10.30 16:49:{i:02d}] chrome.exe - www.site{i % 7}.com:443 close, {i * 37} bytes sent, {i * 91} bytes received, lifetime {'<1 sec' if i % 3 else f'00:{i:02d}'}"
        for i in range(30)
    ] + [f"[10.30 16:50:{i:02d}] chrome.exe - www.site{i}.com:443 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS" for i in range(5)]
    (src / "Proxifier.log").write_text("\n".join(lines) + "\n")
    run = new_run("proxifier", 60, None)
    new, _ = discover(str(src), run)
    refs = [read_file(f, run, "auto", 2026) for f in new]
    assert [r.format for r in refs] == ["proxifier"] and refs[0].events == 35
    mine_and_commit(refs, run, None)
    mined = Drain.from_state(store.logs_state(run.store_url).drain)
    assert sorted(mined.template(i) for i in range(len(mined.templates))) == [
        "<*> close, <NUM> bytes sent, <NUM> bytes received, lifetime <*>",
        "<*> open through proxy proxy.cse.cuhk.edu.hk:<NUM> HTTPS",
    ]


def test_each_file_of_a_mixed_run_is_mined_at_its_own_format_s_similarity(data_root):
    """A drop folder of two formats: the audit log's records are mined at its format's similarity (0.99: a failed
    login apart from a successful one), not at that of the file that sorts first (ASP.NET's, 0.4)."""
    from lepton_flow import store
    from lepton_flow.logs.ingest import discover, mine_and_commit, new_run, read_file

    src = data_root / "src"
    src.mkdir()
    (src / "a-app.log").write_text("info: Orders.Worker[0]\n      Queue drained\n" * 3)
    (src / "b-audit.log").write_text("".join(
        f"type=USER_LOGIN msg=audit(1700000{i:03d}.000:{i}): pid={100 + i} uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"u{i}\" exe=\"/usr/sbin/sshd\" hostname=? addr=192.0.2.{i} terminal=ssh res={'failed' if i % 2 else 'success'}'\n"
        for i in range(20)
    ))
    run = new_run("mixed", 60, None)
    new, _ = discover(str(src), run)
    refs = [read_file(f, run, "auto", 2026) for f in sorted(new, key=lambda f: f.name)]
    assert [r.format for r in refs] == ["dotnet-console", "linux-audit"]
    mine_and_commit(refs, run, None)
    mined = Drain.from_state(store.logs_state(run.store_url).drain)
    logins = sorted(t for t in (mined.template(i) for i in range(len(mined.templates))) if t.startswith("USER_LOGIN"))
    assert [t.rsplit(" ", 1)[1] for t in logins] == ["res=failed'", "res=success'"], logins


def test_messages_that_differ_in_a_capitalised_word_are_different_events():
    """nova's `VM Started` / `VM Paused` lines differ in one token of six and merged at any similarity a format uses;
    a value a program writes (a user's name, a state in capitals, a weekday, True) still merges into `<*>`."""
    import random

    from lepton_flow.logs.formats import log_formats

    rng = random.Random(5)

    def uuid() -> str:
        return "-".join("".join(rng.choices("0123456789abcdef", k=n)) for n in (8, 4, 4, 4, 12))

    kinds = {
        **{f"vm {s}": (lambda s=s: f"[instance: {uuid()}] VM {s} (Lifecycle Event)") for s in ("Started", "Paused", "Resumed", "Stopped")},
        "session": lambda: f"session opened for user {rng.choice(['cyrus', 'news', 'root', 'test'])} by (uid=0)",
        "transition": lambda: f"attempt_{rng.randint(1, 9)}_0020 TaskAttempt Transitioned from {rng.choice(['NEW', 'RUNNING', 'UNASSIGNED'])} to {rng.choice(['SUCCEEDED', 'FAILED', 'KILLED'])}",
        "sqm": lambda: f"SQM: Initializing online with Windows opt-in: {rng.choice(['True', 'False'])}",
        "ftp": lambda: f"connection from {rng.randint(1, 254)}.1.2.3 () at {rng.choice(['Fri', 'Sat', 'Sun'])} {rng.choice(['Jun', 'Jul'])} {rng.randint(10, 28)} 11:32:14 2005",
    }
    order = [rng.choice(sorted(kinds)) for _ in range(800)]
    similarity = log_formats()["oslo-log"].drain_similarity
    miner = Drain(similarity=similarity)
    lines = [kinds[k]() for k in order]
    ids = [miner.add(line) for line in lines]
    assert len(miner.templates) == len(kinds) and grouping_accuracy(ids, order) == 1.0
    assert {miner.template(i) for i in set(ids)} >= {"[instance: <UUID>] VM Paused (Lifecycle Event)", "session opened for user <*> by (uid=<NUM>)"}
    saved = Drain.from_state({k: v for k, v in Drain(similarity=similarity).state().items() if k != "words"})  # a miner saved before
    assert len({saved.add(line) for line, k in zip(lines, order) if k.startswith("vm")}) == 1  # keeps merging them, as it did
