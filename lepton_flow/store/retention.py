"""Snapshot retention: expire old snapshots except those something still names, then delete what nothing references.

A store committed every 15 minutes keeps every snapshot unless told
otherwise. `collect` expires the snapshots of branch `main` older than a
cutoff, except the latest and those in `keep` (the snapshots model cards
were trained on and scores were computed from), which it pins with Icechunk
tags named `keep-<snapshot>`; pins of snapshots no longer named are removed.
Then Icechunk's garbage collection deletes chunks, manifests and snapshots
that no kept snapshot references. On a local disk, Icechunk keeps every
repository-info object a commit replaced, as a file in `overwritten/`
(nothing reads them back; at 35,000 commits they held 7.8 GB): those older
than the same grace period go too.

A run writing meanwhile loses nothing: expiry and collection take the local
commit lock, and only objects older than a grace period (default six hours)
are deleted, so chunks of a session not yet committed are never touched.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone

from pydantic import BaseModel

from lepton_flow.store.repo import SnapshotUnavailable, commit_lock, local_folder, open_repo

PIN = "keep-"


class GcReport(BaseModel):
    """What `collect` kept and why, what it expired, and the bytes it freed (None on a dry run)."""

    kept: dict[str, str]
    expired: list[str]
    missing: dict[str, str] = {}
    snapshots_before: int
    snapshots_after: int
    bytes_freed: int | None = None
    objects_deleted: int | None = None
    dry_run: bool = False


def _pins(repo) -> dict[str, str]:
    """Snapshot id -> tag of each pin in the repository."""
    return {repo.lookup_tag(t): t for t in repo.list_tags() if t.startswith(PIN)}


def _pin(repo, snapshot_id: str) -> None:
    import icechunk

    # Icechunk never reuses a deleted tag's name: a snapshot pinned, released and named again gets a new suffix.
    for n in range(1000):
        name = f"{PIN}{snapshot_id}" + (f"-{n}" if n else "")
        try:
            repo.create_tag(name, snapshot_id)
            return
        except icechunk.IcechunkError:  # a name taken, or deleted before
            if name in repo.list_tags():
                return
    raise SnapshotUnavailable(f"cannot pin snapshot {snapshot_id}")


def collect(url: str, keep: dict[str, str], keep_days: float, dry_run: bool = False, grace_hours: float = 6.0, now: datetime | None = None) -> GcReport:
    """Expire snapshots of `url` older than `keep_days` except the latest and `keep` (snapshot -> why), then collect garbage."""
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=keep_days)
    with commit_lock(url):
        repo = open_repo(url)
        ancestry = list(repo.ancestry(branch="main"))
        ids = {info.id for info in ancestry}
        pinned = _pins(repo)
        kept = {ancestry[0].id: "the latest snapshot of main"}
        missing = {}
        for snap, why in keep.items():
            # A snapshot an earlier gc pinned has left main's history but is still there.
            if snap in ids or snap in pinned:
                kept.setdefault(snap, why)
            elif snap:
                missing[snap] = why
        # The first commit (the empty repository) is never expired by Icechunk: it is the root every history hangs from.
        old = [info.id for info in ancestry[1:-1] if info.written_at < cutoff and info.id not in kept and info.id not in pinned]
        if dry_run:
            return GcReport(kept=kept, expired=old, missing=missing, snapshots_before=len(ancestry), snapshots_after=len(ancestry) - len(old), dry_run=True)
        for snap in kept:
            if snap not in pinned:
                _pin(repo, snap)
        for snap, tag in pinned.items():
            if snap not in kept:
                repo.delete_tag(tag)
        repo.expire_snapshots(older_than=cutoff)
        before = min(cutoff, now - timedelta(hours=grace_hours))
        summary = repo.garbage_collect(before)
        replaced = _delete_replaced(url, before)
        after = [info.id for info in repo.ancestry(branch="main")]
        expired = [i for i in ids if i not in set(after) and i not in kept]
    return GcReport(
        kept=kept,
        expired=sorted(expired),
        missing=missing,
        snapshots_before=len(ancestry),
        snapshots_after=len(after),
        bytes_freed=int(summary.bytes_deleted) + replaced[1],
        objects_deleted=int(summary.chunks_deleted + summary.manifests_deleted + summary.snapshots_deleted + summary.transaction_logs_deleted + summary.attributes_deleted)
        + replaced[0],
    )


def _delete_replaced(url: str, before: datetime) -> tuple[int, int]:
    """Delete the replaced repository-info files a local store keeps in `overwritten/` last changed before `before`:
    (files, bytes). An object store replaces the object in place and keeps none."""
    import os

    root = local_folder(url)
    if root is None:
        return 0, 0
    folder = os.path.join(root, "overwritten")
    files = size = 0
    limit = before.timestamp()
    with os.scandir(folder) if os.path.isdir(folder) else contextlib.nullcontext([]) as entries:
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):  # another gc took it first
                stat = entry.stat(follow_symlinks=False)
                if entry.is_file(follow_symlinks=False) and entry.name.startswith("repo.") and stat.st_mtime < limit:
                    os.remove(entry.path)
                    files, size = files + 1, size + stat.st_size
    return files, size
