"""Small helpers that flows use to wire tasks, kept out of the flows themselves."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence

from pydantic import BaseModel


class FileFailure(BaseModel):
    """A file whose task failed: which file, at which stage, and why."""

    file: str
    stage: str
    message: str
    error: str = ""

    @property
    def rejected(self) -> bool:
        """True when validation rejected the file (as opposed to an error reading it)."""
        return self.error == "FileRejected"


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
            message, error = state.message or state.name, ""
            try:
                future.result(raise_on_failure=True)
            except Exception as exc:  # the task's own error says what went wrong
                message, error = str(exc) or message, type(exc).__name__
            failed.append(FileFailure(file=file, stage=stage, message=message, error=error))
    return done, failed


def retry_transient(task, task_run, state) -> bool:
    """Retry condition for I/O tasks: retry what may pass (I/O, network), not bad input."""
    from lepton_flow.ingest import FileRejected
    from lepton_flow.sources import SourceError
    from lepton_flow.store import StoreError

    try:
        state.result()
    except (SourceError, FileRejected, StoreError, ValueError, KeyError, TypeError):
        return False
    except Exception:
        return True
    return False


def run_logger():
    """The Prefect run logger inside a flow or task run; a plain logger when a test calls `task.fn`."""
    import logging

    from prefect import get_run_logger
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("lepton_flow")


def emit_committed(group: str, store_url: str, snapshot: str, **payload) -> None:
    """Emit `lepton.<group>.committed` for the store resource `lepton.store.<group>`, naming the snapshot.

    Deployment triggers match on it: scoring runs after an ingest that
    committed new data. A failure to emit is logged, never fatal: the data is
    committed either way.
    """
    try:
        from prefect.events import emit_event

        emit_event(
            event=f"lepton.{group}.committed",
            resource={"prefect.resource.id": f"lepton.store.{group}", "prefect.resource.name": f"lepton {group} store", "lepton.store-url": store_url},
            payload={"snapshot": snapshot, **payload},
        )
    except Exception as exc:  # events are a convenience on top of the commit
        run_logger().warning("could not emit lepton.%s.committed: %s", group, exc)


GPU_LIMIT = "gpu"


def ensure_gpu_limit(slots: int | None = None) -> int:
    """Create the `gpu` global concurrency limit if the Prefect API lacks it; returns its slots.

    Its slots should equal the GPUs of one worker host; created here, it takes
    the GPUs this process sees (at least 1, so CPU-only hosts run one
    TensorFlow job at a time). `lepton-flow deploy` sets it explicitly.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            return client.read_global_concurrency_limit_by_name(GPU_LIMIT).limit
        except ObjectNotFound:
            if slots is None:
                from lepton_flow.gpu import gpu_count

                slots = max(1, gpu_count())
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=GPU_LIMIT, limit=slots))
            except Exception:  # another run created it meanwhile
                pass
            return client.read_global_concurrency_limit_by_name(GPU_LIMIT).limit


@contextlib.contextmanager
def gpu_slot():
    """Hold one GPU slot while TensorFlow trains or scores, so a host never runs more GPU jobs than it has GPUs.

    Against a Prefect server (workers, deployments) the slot is one of the
    `gpu` global concurrency limit, leased for 60 s and renewed while held:
    a killed holder's slot returns when the server's repossessor sees the
    lease expire (about a minute). On the embedded default (`lepton-flow run`
    starting its own local API) the API has no repossessor, so slots are
    per-host lock files instead, which the OS releases when a process dies.
    `LEPTON_GPU_LOCK=prefect|host` picks one explicitly.
    """
    import time

    mode = os.environ.get("LEPTON_GPU_LOCK", "auto")
    if mode == "auto":
        mode = "host" if os.environ.get(EMBEDDED_API_ENV) else "prefect"
    if mode == "host":
        slot = _host_gpu_slot()
    else:
        from prefect.concurrency.sync import concurrency

        ensure_gpu_limit()
        slot = concurrency(GPU_LIMIT, occupy=1, strict=True, lease_duration=60)
    log = run_logger()
    asked = time.monotonic()
    with slot:
        # These two lines are the record of who held a slot when (tests read them back).
        took = time.monotonic()
        log.info("gpu slot taken (%s lock) after waiting %.1f s", mode, took - asked)
        try:
            yield
        finally:
            log.info("gpu slot released after %.1f s", time.monotonic() - took)


EMBEDDED_API_ENV = "LEPTON_EMBEDDED_API"


@contextlib.contextmanager
def _host_gpu_slot():
    import fcntl
    import tempfile
    import time

    from lepton_flow.gpu import gpu_count

    slots = max(1, gpu_count())
    paths = [os.path.join(tempfile.gettempdir(), f"lepton-flow-gpu-{i}.lock") for i in range(slots)]
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
            run_logger().info("waiting for a GPU slot: %d job(s) hold all of this host's", slots)
            waited = True
        time.sleep(1.0)
