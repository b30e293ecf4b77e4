"""A big compressed log read in pieces: one open source for all pieces, against reopening it for each, in one run.

    python benchmarks/log_compressed.py [--mb 256] [--piece-mb 16] [--compression gz|bz2|xz|zst]

A run reads a big file a piece at a time (`read_log(max_bytes=)`). A
compressed file cannot seek: reopened for each piece, it is decompressed
from its start again every time, so the work grows with the square of its
size. The benchmark writes `--mb` MiB of log4j lines, stored plain and
compressed, and reads each in `--piece-mb` MiB pieces as a run does: (a)
the plain file, (b) the compressed one through one `open_log` source (what
`read_file` does), (c) the compressed one reopened for each piece (how it
was read before). It prints seconds and the ratios b/a and c/b. Run it by
hand; it asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write(path: str, mb: int) -> int:
    line = 0
    with open(path, "w") as fh:
        while fh.tell() < mb << 20:
            fh.write("".join(f"2026-03-01 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d},{i % 1000:03d} INFO [pool-{i % 8}] org.example.Service: "
                             f"request {i} from 10.0.{i % 250}.{i % 200} served in {i % 997} ms\n" for i in range(line, line + 10000)))
            line += 10000
    return line


def pieces(path: str, piece: int, shared: bool) -> tuple[float, int]:
    from lepton_flow.logs.reader import open_log, read_log

    t0 = time.perf_counter()
    start = line_base = events = 0
    with open_log(path) if shared else contextlib.nullcontext() as source:  # without: each read opens the file again
        while True:
            got = read_log(path, "log4j", start=start, line_base=line_base, max_bytes=piece, source=source)
            events += len(got.frame)
            start, line_base = got.end, got.line_base + got.lines
            if not got.more:
                return time.perf_counter() - t0, events


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--piece-mb", type=int, default=16)
    ap.add_argument("--compression", choices=["gz", "bz2", "xz", "zst"], default="gz")
    args = ap.parse_args()
    import bz2
    import gzip
    import lzma

    import zstandard

    compress = {"gz": lambda b: gzip.compress(b, 6), "bz2": bz2.compress, "xz": lambda b: lzma.compress(b, preset=1), "zst": lambda b: zstandard.ZstdCompressor().compress(b)}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("LEPTON_DATA_ROOT", tmp)
        plain = os.path.join(tmp, "app.log")
        lines = write(plain, args.mb)
        packed = f"{plain}.1.{args.compression}"
        with open(plain, "rb") as fh, open(packed, "wb") as out:
            out.write(compress[args.compression](fh.read()))
        piece = args.piece_mb << 20
        from lepton_flow.logs.reader import read_log

        read_log(plain, "log4j", max_bytes=1 << 20)  # imports and the format's first use, outside the timings
        a, n_a = pieces(plain, piece, True)
        b, n_b = pieces(packed, piece, True)
        c, n_c = pieces(packed, piece, False)
        assert n_a == n_b == n_c == lines, (n_a, n_b, n_c, lines)
        print(json.dumps({"mb": args.mb, "piece_mb": args.piece_mb, "pieces": -(-os.path.getsize(plain) // piece), "compression": args.compression,
                          "compressed_mb": round(os.path.getsize(packed) / 2**20, 1), "lines": lines,
                          "plain_s": round(a, 2), "compressed_one_source_s": round(b, 2), "compressed_reopened_s": round(c, 2),
                          "one_source_vs_plain": round(b / a, 2), "reopened_vs_one_source": round(c / b, 2)}))


if __name__ == "__main__":
    main()
