"""Log files tracked as log shippers track them: a fingerprint of a file's first bytes, and the offset read up to.

A file's identity (its key in the store's ledger) is `tail:<n>:<sha256 of
its first n bytes>`, gzip undone, with n = `FINGERPRINT_BYTES`, or the whole
file if it was shorter when first read (Filebeat's and Vector's checksum
fingerprints, which do not change as a file grows). The ledger's record for
a key says how far the stream was read (`offset`, the end of its last
complete line, and `lines` before it) and in which format, written in the
same commit as the counts of those lines, so a run killed before its commit
leaves the offsets where they were and the next run reads exactly what was
not committed.

So, from one run to the next:
- a file that grew is read from its offset;
- a file renamed by rotation (`app.log` to `app.log.1`, later
  `app.log.1.gz`) has the same first bytes, so the same key: it is read from
  its offset, which is usually its end;
- a file truncated (copytruncate) is shorter than its offset, or starts
  with other bytes: it is read from 0;
- a partial last line (no line end yet) is left for the next run while the
  file is being written (modified within `Settings.log_settle_seconds`); a
  gzipped file is final and is read to its end, after which its key is
  `complete`: later runs decompress its first kilobyte only;
- two names for one stream in one listing are read once;
- UTF-16 text is read as UTF-8 (`sources.open_source`) and its offsets
  count those bytes; it has new lines when its size changed since the read
  or a partial last line was left then (`pending`).
Stores written before tailing keyed files by their whole content's hash;
such a file is recognised once and from then on followed like the others.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

from lepton_flow.sources import CORRUPT, SourceError, SourceFile, hash_file, is_compressed, list_candidates, open_source, settled

FINGERPRINT_BYTES = 1024
PREFIX = "tail:"


class TailedFile(SourceFile):
    """A log file to read, and where: from `offset` (bytes, gzip undone), after `line_base` lines, in `known_format` if a run detected it before."""

    known_format: str | None = None
    final: bool = False
    """Read to its end, a partial last line included (a gzipped file, or one not written to for a while)."""


def stream_key(head: bytes) -> str:
    return f"{PREFIX}{len(head)}:{hashlib.sha256(head).hexdigest()}"


def _head(url: str) -> tuple[bytes, bool]:
    """A file's first bytes (gzip undone, UTF-16 read as UTF-8) and whether it is UTF-16."""
    seen: dict = {}
    with open_source(url, seen=seen) as fh:
        return fh.read(FINGERPRINT_BYTES), seen.get("utf16", False)


def discover(source: str, records: dict[str, dict], settle_seconds: int) -> tuple[list[TailedFile], list[str]]:
    """(files with lines to read, and from where; urls with nothing new) under `source`, given the ledger's `records`.

    Reads each file's first kilobyte only. A file a store written before
    tailing ingested whole (its ledger key the content's hash) is hashed and
    counted once, and returned to be read from its end, so that its run
    commits a record for it and it is followed from then on.
    """
    cursors = {k: r for k, r in records.items() if k.startswith(PREFIX)}
    legacy = {k for k in records if not k.startswith(PREFIX)}
    # The lengths of first bytes the keys were taken over (an empty file's key, over none, matches nothing else).
    lengths = sorted({n for k in cursors if (n := int(k[len(PREFIX):].split(":", 1)[0])) > 0}, reverse=True)
    candidates, _ = list_candidates(source, lambda url: True)
    new: list[TailedFile] = []
    known: list[str] = []
    claimed: set[str] = set()
    for url in candidates:
        name = PurePosixPath(url).name
        try:
            head, utf16 = _head(url)
        except (*CORRUPT, SourceError):  # its read task says why, naming the file; nothing is recorded, so it is tried again
            sha, size = hash_file(url)
            new.append(TailedFile(url=url, name=name, sha256=sha, size=size, final=True))
            continue
        key = next((k for n in lengths if n <= len(head) and (k := stream_key(head[:n])) in cursors), None) or stream_key(head)
        if key in claimed:  # another name for a stream this listing already reads
            known.append(url)
            continue
        claimed.add(key)
        record = cursors.get(key)
        size = _size(url)
        compressed = is_compressed(url)
        if record is None and legacy and hash_file(url)[0] in legacy:
            # Ingested whole by a run before tailing: from now on a stream read to its end (the run commits its record).
            read, lines = _content(url)
            new.append(TailedFile(url=url, name=name, sha256=key.rsplit(":", 1)[-1], size=size, identity=key, offset=read, line_base=lines, final=True))
            continue
        offset, line_base, fmt = 0, 0, None
        if record is not None:
            if record.get("complete") or (record.get("not_a_log") and record.get("size") == size):
                known.append(url)
                continue
            # UTF-16 text is read as UTF-8 (`open_source`): its offsets count those bytes, so its own size is
            # compared with the size it had when it was read.
            utf16 = utf16 and not compressed
            if not record.get("not_a_log") and (compressed or size >= int(record.get("size" if utf16 else "offset", 0))):
                offset, line_base, fmt = int(record.get("offset", 0)), int(record.get("lines", 0)), record.get("format")
            if (size == record.get("size") and not record.get("pending")) if utf16 else (not compressed and size == offset):
                known.append(url)
                continue
        new.append(TailedFile(
            url=url, name=name, sha256=key.rsplit(":", 1)[-1], size=size, identity=key, offset=offset, line_base=line_base,
            known_format=fmt, final=compressed or settled(url, settle_seconds),
        ))
    return new, known


def _content(url: str) -> tuple[int, int]:
    """(bytes, lines) of a file's content, gzip undone; a last line without a line end counts."""
    size = lines = 0
    last = b"\n"
    with open_source(url) as fh:
        while block := fh.read(1 << 20):
            size += len(block)
            lines += block.count(b"\n")
            last = block[-1:]
    return size, lines + (last != b"\n")


def _size(url: str) -> int:
    import fsspec

    fs, path = fsspec.core.url_to_fs(url)
    return int(fs.size(path) or 0)


def record(file: SourceFile, end: int, lines: int, fmt: str | None, run_id: str, shown: str, **extra) -> dict:
    """The ledger record of a file read up to byte `end` (`lines` lines before it)."""
    out = {"file": shown, "size": file.size, "run": run_id, "offset": end, "lines": lines, "format": fmt, **extra}
    if isinstance(file, TailedFile) and file.final and is_compressed(file.url):
        out["complete"] = True
    return out
