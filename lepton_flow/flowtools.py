"""Small helpers that flows use to wire tasks, kept out of the flows themselves."""

from __future__ import annotations

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
