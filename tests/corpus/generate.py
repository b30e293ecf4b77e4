"""Corpus files too big or too binary to keep in git, made at test time.

`cases.toml` names them with `generate = "<function>"`; each function
writes one file at the path it is given and returns nothing.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HEADER = "timestamp,sensor_id,metric,value,unit\n"


def _rows(sensor: str, n: int, metric: str = "temperature", unit: str = "C") -> str:
    return "".join(f"2026-03-02T{i // 120:02d}:{i // 2 % 60:02d}:{30 * (i % 2):02d}Z,{sensor},{metric},{20 + i % 7 / 10:.1f},{unit}\n" for i in range(n))


def truncated_gzip(path: Path) -> None:
    """A gzipped CSV cut in the middle of its stream (an upload that stopped)."""
    whole = gzip.compress((HEADER + _rows("g1", 5000)).encode())
    path.write_bytes(whole[: len(whole) // 2])


def gzip_bomb(path: Path) -> None:
    """A 100 KB gzip that expands a thousandfold: a valid header, then 100 MB of one repeated row."""
    row = b"2026-03-02T00:00:00Z,g2,temperature,20.0,C\n"
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(HEADER.encode())
        block = row * (1 << 16)
        for _ in range((100 << 20) // len(block)):
            fh.write(block)


def ten_mb_line(path: Path) -> None:
    """A CSV whose third line is 10 MB long, among good lines."""
    good = _rows("g3", 6).splitlines(keepends=True)
    path.write_text(HEADER + "".join(good[:1]) + "2026-03-02T00:00:30Z,g3,temperature," + "9" * (10 << 20) + ",C\n" + "".join(good[2:]))


def ten_mb_log_line(path: Path) -> None:
    """A log whose second line is 10 MB long between two good syslog lines."""
    path.write_text(
        "2026-03-02T00:00:00Z INFO sshd[101]: Accepted password for alice from 10.0.0.1 port 5000 ssh2\n"
        + "2026-03-02T00:00:01Z INFO sshd[102]: " + "A" * (10 << 20) + "\n"
        + "2026-03-02T00:00:02Z INFO sshd[103]: Accepted password for bob from 10.0.0.2 port 5001 ssh2\n"
    )


def log_gzip_bomb(path: Path) -> None:
    """A log gzip that expands a thousandfold."""
    line = b"2026-03-02T00:00:00Z INFO app: same line again\n"
    with gzip.open(path, "wb", compresslevel=9) as fh:
        block = line * (1 << 16)
        for _ in range((100 << 20) // len(block)):
            fh.write(block)


def truncated_log_gzip(path: Path) -> None:
    whole = gzip.compress("".join(f"2026-03-02T00:00:{i % 60:02d}Z INFO request {i * 7919 % 100003}\n" for i in range(5000)).encode())
    path.write_bytes(whole[: len(whole) // 2])


def wrong_schema_parquet(path: Path) -> None:
    """Parquet from another system: no timestamp column at all."""
    pq.write_table(pa.table({"order_id": [1, 2, 3], "amount": [9.5, 3.0, 7.25]}), path)


def wrong_types_parquet(path: Path) -> None:
    """Parquet with the right names but a struct where the value should be, and one text timestamp that is not a time."""
    pq.write_table(
        pa.table(
            {
                "timestamp": ["2026-03-02T00:00:00Z", "2026-03-02T00:00:30Z", "soon"],
                "sensor_id": ["g4", "g4", "g4"],
                "metric": ["temperature"] * 3,
                "value": pa.array([{"v": 1.0}, {"v": 2.0}, {"v": 3.0}]),
                "unit": ["C"] * 3,
            }
        ),
        path,
    )


def corrupt_parquet(path: Path) -> None:
    """A Parquet file whose footer was cut off."""
    good = path.with_suffix(".tmp")
    pq.write_table(pa.table({"timestamp": ["2026-03-02T00:00:00Z"], "temperature": [20.0]}), good)
    path.write_bytes(good.read_bytes()[:-20])
    good.unlink()


def nanosecond_parquet_far_dates(path: Path) -> None:
    """Parquet with timestamp[s] values a nanosecond timestamp cannot hold (year 3000 and 1500) beside good ones."""
    import datetime as dt

    times = [dt.datetime(2026, 3, 2, 0, 0, s, tzinfo=dt.UTC) for s in (0, 30)] + [dt.datetime(3000, 1, 1, tzinfo=dt.UTC), dt.datetime(1500, 1, 1, tzinfo=dt.UTC)]
    pq.write_table(pa.table({"timestamp": pa.array(times, pa.timestamp("s", tz="UTC")), "sensor_id": ["g5"] * 4, "temperature[C]": [20.0, 20.1, 20.2, 20.3]}), path)


def twenty_mb_text_line(path: Path) -> None:
    """A CSV whose third line is 20 MB of text: more than the parser's 8 MB block."""
    good = _rows("g6", 6).splitlines(keepends=True)
    path.write_text(HEADER + "".join(good[:2]) + "2026-03-02T00:01:00Z,g6,temperature," + "x" * (20 << 20) + ",C\n" + "".join(good[3:]))
