"""The ledger of ingested files: append-only arrays in the store, written in the same commit as the data.

Group `ledger/<kind>` (`sensors`, `logs`) holds two 1-D string arrays of
equal length: `key` (a file's identity, as discovery computes it) and
`record` (JSON: file, run, time and whatever the reader needs to resume).
A commit appends its entries: it rewrites at most the last chunk of each
array and their small metadata, so its cost stays flat however many files
the store has taken, unlike one attribute map that every commit rewrote
whole and every snapshot kept. A key seen twice means its last record.

Stores written before the ledger kept the map in the root group's
attributes; the first commit that appends moves it here (`migrate`), and
readers see both until then.
"""

from __future__ import annotations

import json

import numpy as np

from lepton_flow.settings import file_stem
from lepton_flow.store.repo import open_root

GROUP = "ledger"
CHUNK = 1024
LEGACY_ATTRS = {"sensors": "lepton_ingested", "logs": "lepton_logs_ingested"}
_ARRAYS = ("key", "record")


def path(kind: str) -> str:
    return f"{GROUP}/{kind}"


PLACE = "grow:"
"""Keys of files known by their place, not their content (a file that grows: its record says how far it was read)."""


def identity(sha256: str, name: str | None = None) -> str:
    """A file's key in the ledger: its content hash, and `name` where the path gives the content meaning (a sensor id)."""
    return f"{sha256}:{name}" if name else sha256


def _legacy_key(kind: str, sha256: str, record: dict) -> str:
    """The key an attribute-ledger entry gets: sensor files were named by their content only, their sensor id by their file name."""
    return identity(sha256, file_stem(record["file"])) if kind == "sensors" and record.get("file") else sha256


def _write(root, kind: str, entries: dict[str, dict]) -> None:
    import warnings

    group = root.require_group(path(kind))
    values = {"key": list(entries), "record": [json.dumps(v, sort_keys=True, default=str) for v in entries.values()]}
    with warnings.catch_warnings():
        # zarr says its variable-length string type is not yet in the v3 spec; Icechunk and zarr read it back.
        warnings.filterwarnings("ignore", message=".*not part of the Zarr format 3 specification.*")
        warnings.filterwarnings("ignore", message=".*does not have a Zarr V3 specification.*")
        for name in _ARRAYS:
            if name not in group:
                group.create_array(name, shape=(0,), chunks=(CHUNK,), dtype=str)
    held = group["key"].shape[0]
    for name in _ARRAYS:
        array = group[name]
        array.resize((held + len(entries),))
        array[held:] = np.array(values[name], dtype=object)


def migrate(root) -> bool:
    """Move a store's attribute ledgers (written before the ledger arrays) into the arrays; True if there were any."""
    moved = False
    for kind, attr in LEGACY_ATTRS.items():
        legacy = root.attrs.get(attr)
        if legacy is None:
            continue
        if legacy:
            _write(root, kind, {_legacy_key(kind, sha, record): record for sha, record in legacy.items()})
        del root.attrs[attr]
        moved = True
    return moved


def append(session, kind: str, entries: dict[str, dict]) -> None:
    """Add a run's entries to `kind`'s ledger in a writable session (migrating an old store first)."""
    import zarr

    root = zarr.open_group(session.store)
    migrate(root)
    if entries:
        _write(root, kind, entries)


def _arrays(url: str, snapshot_id: str | None, kind: str):
    """(root, ledger group or None) of a snapshot; (None, None) before any group."""
    _, root = open_root(url, snapshot_id)
    if root is None:
        return None, None
    p = path(kind)
    return root, (root[p] if p in root else None)


def keys(url: str, snapshot_id: str | None = None, kind: str = "sensors") -> set[str]:
    """The identities of every file `kind` has ingested, at a snapshot (default: latest). Reads only the key array."""
    root, group = _arrays(url, snapshot_id, kind)
    if root is None:
        return set()
    out = {_legacy_key(kind, k, v) for k, v in root.attrs.get(LEGACY_ATTRS[kind], {}).items()}
    if group is not None and group["key"].shape[0]:
        out.update(str(k) for k in group["key"][:])
    return out


def entries(url: str, snapshot_id: str | None = None, kind: str = "sensors") -> dict[str, dict]:
    """Every ingested file of `kind`: identity -> its last record."""
    root, group = _arrays(url, snapshot_id, kind)
    if root is None:
        return {}
    out = {_legacy_key(kind, k, v): v for k, v in root.attrs.get(LEGACY_ATTRS[kind], {}).items()}
    if group is not None and group["key"].shape[0]:
        for key, record in zip(group["key"][:], group["record"][:]):
            out[str(key)] = json.loads(record)
    return out


def records(url: str, snapshot_id: str | None, kind: str, wanted: set[str]) -> dict[str, dict]:
    """The last record of each of the `wanted` keys the ledger holds (reads the key array and only those records)."""
    root, group = _arrays(url, snapshot_id, kind)
    if root is None or group is None or not wanted or not group["key"].shape[0]:
        return {}
    found: dict[str, int] = {}
    for i, key in enumerate(group["key"][:]):
        if key in wanted:
            found[str(key)] = i
    if not found:
        return {}
    rows = np.fromiter(found.values(), np.int64, len(found))
    return {key: json.loads(text) for key, text in zip(found, group["record"].get_coordinate_selection(rows))}


def count(url: str, snapshot_id: str | None = None, kind: str = "sensors") -> int:
    """How many distinct files `kind` has ingested."""
    return len(keys(url, snapshot_id, kind))
