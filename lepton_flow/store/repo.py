"""The Icechunk repository: where it lives, how it is opened, locked and committed.

Every other module of the package builds on these few functions; nothing
outside `lepton_flow.store` opens a session.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
from collections.abc import Iterator
from urllib.parse import urlparse

from lepton_flow.settings import Settings, get_settings, is_local, resolve_location


class StoreError(RuntimeError):
    """The store cannot take this write; the message says why and what to do."""


class StoreConflict(StoreError):
    """The store moved on since this run read it; re-run to merge with the new data."""


class SnapshotUnavailable(StoreError):
    """A snapshot the caller named is gone (expired) or is not on the branch's history."""


ZARR_EXIT_WAIT_S = 10.0
"""How long a process's exit waits for zarr's I/O thread to finish what it is doing."""

_exit_hook = False


def _stop_zarr_io() -> None:
    """Stop zarr's I/O thread at exit and wait for it, so its loop is closed only once it has stopped.

    zarr's own exit handler waits 0.2 s and then closes the loop whatever it is doing; on a loaded
    machine the loop is often still running, and the exit prints "Cannot close a running event loop"
    into the log of every flow run and worker that touched a store.
    """
    from zarr.core import sync

    io_loop, thread = sync.loop[0], sync.iothread[0]
    if io_loop is None or thread is None or not thread.is_alive():
        return
    io_loop.call_soon_threadsafe(io_loop.stop)
    thread.join(timeout=ZARR_EXIT_WAIT_S)
    if not thread.is_alive():
        sync.cleanup_resources()  # closes the stopped loop; zarr's handler then finds nothing to do


def _quiet_icechunk() -> None:
    global _exit_hook
    import icechunk
    import zarr.core.sync  # noqa: F401  (registers zarr's exit handler before ours: atexit runs ours first)

    # Commits to local directories are serialised by `commit_lock`, which is
    # what the storage's concurrency warning asks for; keep real errors.
    icechunk.set_logs_filter("error")
    if not _exit_hook:
        atexit.register(_stop_zarr_io)
        _exit_hook = True


def local_folder(url: str) -> str | None:
    """The folder Icechunk keeps a local store in; None for a store in object storage."""
    return os.path.abspath(url.removeprefix("file://")) if is_local(url) else None


def _storage(url: str, settings: Settings | None = None):
    import icechunk

    if is_local(url):
        return icechunk.local_filesystem_storage(local_folder(url))
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        endpoint = (settings or get_settings()).s3_endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        return icechunk.s3_storage(
            bucket=parsed.netloc,
            prefix=parsed.path.strip("/") or None,
            endpoint_url=endpoint,
            allow_http=bool(endpoint and endpoint.startswith("http://")),
            force_path_style=bool(endpoint),
            from_env=True,
        )
    if parsed.scheme in ("gs", "gcs"):
        return icechunk.gcs_storage(bucket=parsed.netloc, prefix=parsed.path.strip("/") or None, from_env=True)
    if parsed.scheme == "memory":
        return icechunk.in_memory_storage()
    raise StoreError(f"unsupported store URL {url!r}: use a local path, s3:// or gs://")


MANIFEST_SPLIT = 32
"""Chunks per manifest along each axis. Arrays that grow every commit (time, the ledger) would otherwise rewrite one
manifest listing all their chunks on every commit; split, a commit rewrites the last piece only."""


REPO_INFO_UPDATES = 100
"""Operations Icechunk lists in its repository-info object (rewritten by every commit) before starting a new one: its
default, 1,000, makes each commit of a store's first thousand rewrite a growing list nothing here reads."""


def _config():
    import icechunk

    split = {icechunk.ManifestSplitCondition.AnyArray(): {icechunk.ManifestSplitDimCondition.Any(): MANIFEST_SPLIT}}
    return icechunk.RepositoryConfig(
        manifest=icechunk.ManifestConfig(splitting=icechunk.ManifestSplittingConfig.from_dict(split)),
        num_updates_per_repo_info_file=REPO_INFO_UPDATES,
    )


def open_repo(url: str, create: bool = False):
    """The Icechunk repository at `url`; with `create`, made if missing."""
    import icechunk

    _quiet_icechunk()
    storage = _storage(url)
    if icechunk.Repository.exists(storage):
        return icechunk.Repository.open(storage, config=_config())
    if not create:
        raise StoreError(f"no store at {url}: run an ingest first")
    if is_local(url):
        os.makedirs(url, exist_ok=True)
    return icechunk.Repository.create(storage, config=_config())


def exists(url: str) -> bool:
    import icechunk

    _quiet_icechunk()
    return icechunk.Repository.exists(_storage(url))


def lock_path(url: str) -> str:
    """The lock file of a local store, keyed by its resolved location: one store reached through a symlink takes the same lock."""
    return resolve_location(url).rstrip("/") + ".lock"


@contextlib.contextmanager
def commit_lock(url: str) -> Iterator[None]:
    """Serialise commits to a local store (object stores need no lock)."""
    if not is_local(url):
        yield
        return
    path = lock_path(url)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _first_line(exc: Exception) -> str:
    """Icechunk's message without the trace of its internals that follows it."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def readonly(url: str, snapshot_id: str | None = None):
    """A read-only session at a snapshot (default: the latest of main)."""
    import icechunk

    repo = open_repo(url)
    try:
        if snapshot_id:
            return repo.readonly_session(snapshot_id=snapshot_id)
        return repo.readonly_session(branch="main")
    except icechunk.IcechunkError as exc:
        raise SnapshotUnavailable(f"snapshot {snapshot_id} of {url} cannot be opened ({_first_line(exc)}); it may have been expired by `lepton-flow gc`") from exc


def open_root(url: str, snapshot_id: str | None = None):
    """(snapshot id, root group read-only) of a snapshot; (None, None) without a repository, (id, None) before any group."""
    import zarr

    if not exists(url):
        return None, None
    session = readonly(url, snapshot_id)
    try:
        return session.snapshot_id, zarr.open_group(session.store, mode="r")
    except zarr.errors.GroupNotFoundError:
        return session.snapshot_id, None


def group_at(url: str, snapshot_id: str | None, path: str):
    """(snapshot id, the group at `path` read-only, or None where the store or the group does not exist yet)."""
    snapshot, root = open_root(url, snapshot_id)
    return snapshot, (root[path] if root is not None and path in root else None)


def open_group(url: str, snapshot_id: str | None, path: str):
    """One group of a snapshot, read-only (zarr), for readers that take arrays a block at a time."""
    import zarr

    return zarr.open_group(readonly(url, snapshot_id).store, path=path, mode="r")


def open_dataset(url: str, snapshot_id: str | None, group: str, missing: str, chunks: dict | str | None = "auto", drop_variables: list[str] | None = None):
    """A group as a lazy xarray Dataset; `missing` is the error's text when the group is not there."""
    import xarray as xr

    try:
        return xr.open_zarr(readonly(url, snapshot_id).store, group=group, consolidated=False, chunks=chunks, drop_variables=drop_variables)
    except (FileNotFoundError, KeyError) as exc:
        raise StoreError(missing) from exc


def history(url: str, limit: int = 20) -> list[dict]:
    """Newest-first commits of branch main: id, time, message, metadata."""
    repo = open_repo(url)
    out = []
    for info in repo.ancestry(branch="main"):
        out.append({"id": info.id, "written_at": info.written_at, "message": info.message, "metadata": dict(info.metadata or {})})
        if len(out) >= limit:
            break
    return out


MESSAGE_LIMIT = 240
METADATA_LIMIT = 512
"""Bytes a commit's message and metadata may take. Icechunk keeps both for every snapshot in the repository-info object
it rewrites on each commit, so what a commit records there is paid again by every later commit until the snapshot
expires: counts and ids go there, lists of files go to the ledger."""


def bounded_message(head: str, names: list[str] = ()) -> str:
    """`head: a, b and N more`: as many of `names` as fit in MESSAGE_LIMIT characters."""
    shown: list[str] = []
    for name in names:
        rest = len(names) - len(shown) - 1
        if len(f"{head}: {', '.join([*shown, name])}{f' and {rest} more' if rest else ''}") > MESSAGE_LIMIT:
            break
        shown.append(name)
    rest = len(names) - len(shown)
    text = ", ".join(shown) + (f" and {rest} more" if shown and rest else f"{rest} more" if rest else "")
    return f"{head}: {text}"[:MESSAGE_LIMIT] if names else head[:MESSAGE_LIMIT]


def commit(session, message: str, metadata: dict, **kwargs) -> str:
    """Commit a session with a message cut to MESSAGE_LIMIT and metadata of at most METADATA_LIMIT bytes of JSON."""
    import json

    size = len(json.dumps(metadata, default=str))
    if size > METADATA_LIMIT:
        raise ValueError(f"commit metadata of {size} bytes (limit {METADATA_LIMIT}): keys {sorted(metadata)}; record lists in the ledger, not in the commit")
    if len(message) > MESSAGE_LIMIT:
        message = message[: MESSAGE_LIMIT - 3] + "..."
    return session.commit(message, metadata=metadata, **kwargs)


def writable(url: str):
    """(repository, writable session on main), the repository made if missing. Call under `commit_lock`."""
    repo = open_repo(url, create=True)
    return repo, repo.writable_session("main")


def moved_elsewhere(repo, base_snapshot: str | None, group: str, shared: tuple[str, ...] = ()) -> bool:
    """True when the commits since `base_snapshot` left `group` (and the `shared` groups) alone.

    Scoring runs commit their scores while an ingest cleans: the ingest then
    commits over them, its group being as it read it. Anything else that
    moved is a conflict.
    """
    if base_snapshot is None:
        return False
    diff = repo.diff(from_snapshot_id=base_snapshot, to_branch="main")
    touched = set(diff.updated_chunks)
    for name in ("new_groups", "new_arrays", "deleted_groups", "deleted_arrays", "updated_groups", "updated_arrays"):
        touched |= set(getattr(diff, name))
    for move in diff.moved_nodes:
        touched |= {str(p) for p in move}
    mine = (group, *shared)
    return not any(p == "/" or any(p == f"/{g}" or p.startswith(f"/{g}/") for g in mine) for p in touched)


def changed_chunks(url: str, since: str, snapshot_id: str) -> dict[str, list[tuple]]:
    """Array path -> chunk indices written between two snapshots (from Icechunk's diff: no data read)."""
    import icechunk

    try:
        diff = open_repo(url).diff(from_snapshot_id=since, to_snapshot_id=snapshot_id)
    except icechunk.IcechunkError as exc:
        raise SnapshotUnavailable(f"cannot compare snapshots {since} and {snapshot_id} of {url}: {_first_line(exc)}") from exc
    return {path: [tuple(i) for i in chunks] for path, chunks in diff.updated_chunks.items()}
