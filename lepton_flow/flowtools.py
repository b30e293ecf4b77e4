"""Small helpers that flows use to wire tasks, kept out of the flows themselves."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence

from pydantic import BaseModel

from lepton_flow.runtime import EMBEDDED_API_ENV, run_logger
from lepton_flow.settings import redact


class FileFailure(BaseModel):
    """A file not ingested: which file, at which stage, and why; `rejected` when turned away on purpose rather than failed."""

    file: str
    stage: str
    message: str
    records: int = 0
    quarantined: int = 0
    rejected: bool = False

    @property
    def described(self) -> str:
        """The message, with the file's name when the error did not say it (a filesystem's or a library's)."""
        return self.message if self.file in self.message else f"{self.file}: {self.message}"


def split_completed(futures: Sequence, files: Sequence[str], stage: str) -> tuple[list, list[FileFailure]]:
    """Results of the futures that completed, and a `FileFailure` for each that did not.

    One bad file must not sink the others: the flow carries on with the
    completed ones and reports the rest.
    """
    done, failed = [], []
    for future, file in zip(futures, files):
        future.wait()
        state = future.state
        if state.is_completed():
            done.append(future.result())
        else:
            message = state.message or state.name
            try:
                future.result(raise_on_failure=True)
            except Exception as exc:  # the task's own error says what went wrong
                message = str(exc) or message
            failed.append(FileFailure(file=redact(file), stage=stage, message=redact(message)))
    return done, failed


def rejections(rejected: dict[str, str], stage: str) -> list[FileFailure]:
    """`FileFailure`s of files a stage turned away itself (file key -> its message, which names the file)."""
    return [FileFailure(file=message.split(": ", 1)[0], stage=stage, message=message, rejected=True) for message in rejected.values()]


def outcomes(refs: Sequence, stage: str) -> tuple[list, list[FileFailure]]:
    """The accepted (or otherwise not failed) `FileOutcome`s, and a `FileFailure` for each rejected one."""
    kept = [r for r in refs if not r.rejected]
    turned = [
        FileFailure(file=redact(r.file.url), stage=stage, message=r.message, rejected=True, records=getattr(r, "records", 0), quarantined=getattr(r, "quarantined", 0))
        for r in refs if r.rejected
    ]
    return kept, turned


def retry_transient(task, task_run, state) -> bool:
    """Retry condition for I/O tasks: retry what may pass (I/O, network), not bad input."""
    from lepton_flow.sources import SourceError
    from lepton_flow.store import StoreError

    try:
        state.result()
    except (SourceError, StoreError, ValueError, KeyError, TypeError):
        return False
    except Exception:
        return True
    return False


def sweep_stale_staging(keep_url: str) -> None:
    """Remove staging folders killed runs left (untouched for a day; never `keep_url`, this run's), saying which in the run's log."""
    from lepton_flow.settings import get_settings
    from lepton_flow.sources import sweep_staging

    for gone in sweep_staging(get_settings().staging_dir, keep_url):
        run_logger().info("removed %s: staging left by a run that was stopped before it ended (untouched for a day)", gone)


def emit_committed(group: str, store_url: str, snapshot: str, **payload) -> None:
    """Emit `lepton.<group>.committed` for the store resource `lepton.store.<group>`, naming the snapshot.

    Deployment triggers match on it: scoring runs after an ingest that
    committed new data. A failure to emit is logged, never fatal: the data is
    committed either way.
    """
    try:
        from prefect.events import emit_event
        from prefect.runtime import flow_run

        emit_event(
            event=f"lepton.{group}.committed",
            resource={"prefect.resource.id": f"lepton.store.{group}", "prefect.resource.name": f"lepton {group} store", "lepton.store-url": store_url},
            # The committing run, so that a run the event triggers can say what triggered it.
            payload={"snapshot": snapshot, "flow_run_id": str(flow_run.get_id() or ""), **payload},
        )
    except Exception as exc:  # events are a convenience on top of the commit
        run_logger().warning("could not emit lepton.%s.committed: %s", group, exc)


GPU_LIMIT = "gpu"
def _gpu_slots() -> int:
    from lepton_flow.gpu import gpu_count

    return max(1, gpu_count())


def ensure_limit(name: str, slots: Callable[[], int]) -> int:
    """Create the global concurrency limit `name` if the Prefect API lacks it (with `slots()`); returns its slots."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            return client.read_global_concurrency_limit_by_name(name).limit
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=slots()))
            except Exception:  # another run created it meanwhile
                pass
            return client.read_global_concurrency_limit_by_name(name).limit


@contextlib.contextmanager
def held_slot(limit: str, slots: Callable[[], int], what: str):
    """Hold one slot of `limit` for the block; waits while all its slots are held.

    Against a Prefect server (workers, deployments) the slot is one of the
    global concurrency limit `limit` (created with `slots()` if missing),
    leased for 60 s and renewed while held: a killed holder's slot returns
    when the server's repossessor sees the lease expire (about a minute). On
    the embedded default (`lepton-flow run` starting its own local API) the
    API has no repossessor, so slots are per-host lock files instead, which
    the OS releases when a process dies. `LEPTON_LOCKS=prefect|host` picks
    one explicitly.
    """
    import time

    mode = os.environ.get("LEPTON_LOCKS", "auto")
    if mode == "auto":
        mode = "host" if os.environ.get(EMBEDDED_API_ENV) else "prefect"
    if mode == "host":
        slot = _host_slot(limit, slots(), what)
    else:
        from prefect.concurrency.sync import concurrency

        ensure_limit(limit, slots)
        slot = concurrency(limit, occupy=1, strict=True, lease_duration=60)
    log = run_logger()
    asked = time.monotonic()
    with slot:
        # These two lines are the record of who held a slot when (tests read them back).
        took = time.monotonic()
        log.info("%s slot taken (%s lock) after waiting %.1f s", what, mode, took - asked)
        try:
            yield
        finally:
            log.info("%s slot released after %.1f s", what, time.monotonic() - took)


def gpu_slot():
    """One GPU slot while TensorFlow trains or scores, so a host never runs more GPU jobs than it has GPUs.

    The `gpu` limit's slots should be the GPUs of one worker host
    (`lepton-flow deploy` sets them); created here, it takes the GPUs this
    process sees, at least 1, so CPU-only hosts run one TensorFlow job at a time.
    """
    return held_slot(GPU_LIMIT, _gpu_slots, "gpu")


def store_lock(store_url: str):
    """The one ingest of a store at a time, from planning to commit.

    Two ingests started together would both build on the same snapshot and
    the second commit would be refused; holding this, the second waits, then
    plans against the first one's commit and skips the files it ingested.
    """
    return held_slot(store_lock_name(store_url), lambda: 1, "store ingest")


def store_lock_name(store_url: str) -> str:
    """The concurrency limit's name as the UI lists it: what it is and which store, e.g. `one ingest at a time: store
    data-store (72ee4a93)` for `.../data/store`; the short hash tells apart stores whose last path parts are the same.
    (Prefect refuses `/` in names.)"""
    import hashlib
    import re

    parts = [p for p in re.split(r"[/\\:]+", store_url.rstrip("/")) if p][-2:]
    shown = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(parts))[:60]
    return f"one ingest at a time: store {shown} ({hashlib.sha256(store_url.encode()).hexdigest()[:8]})"


@contextlib.contextmanager
def _host_slot(limit: str, slots: int, what: str):
    import fcntl
    import tempfile
    import time

    import re

    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", limit)
    paths = [os.path.join(tempfile.gettempdir(), f"lepton-flow-{safe}-{i}.lock") for i in range(slots)]
    waited = False
    while True:
        for path in paths:
            fh = open(path, "a")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
                fh.close()
            return
        if not waited:
            run_logger().info("waiting for a %s slot: %d job(s) on this host hold all of them", what, slots)
            waited = True
        time.sleep(1.0)
