"""What `lepton-flow run` shows on the terminal: progress and the summary.

Everything else a run writes to stderr (Prefect's engine lines, Dask,
Great Expectations, TensorFlow's C++ start-up lines, and the same from the
Dask worker processes, which inherit the descriptor) goes to a log file
under the data root. On the terminal: the messages the flows and tasks log
themselves (lepton-flow's and a user's own tasks'), every warning and
error from anything, and the summaries on stdout. `--verbose` keeps the
whole stream on the terminal instead.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from pathlib import Path

RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")
# Prefect's first line of a flow run, shown as the start of a stage.
BEGINNING = re.compile(r"Beginning (?:sub)?flow run .* for flow '(?P<flow>[^']+)'")


def _library_dirs() -> tuple[str, ...]:
    """Folders whose INFO lines stay in the log file: Prefect's engine lines ("Beginning flow run", "View at" a
    server that is gone once the command ends, "Finished in state Completed()")."""
    import prefect

    return (os.path.dirname(os.path.realpath(prefect.__file__)) + os.sep,)


def progress_line(text: str, when: float | None = None) -> str:
    """One line of run progress as the terminal shows it: `HH:MM:SS  text` (local time, now unless `when`)."""
    return f"{time.strftime('%H:%M:%S', time.localtime(when))}  {text}"


class ProgressHandler(logging.Handler):
    """Run log records a person follows, one short line each: `HH:MM:SS  message`."""

    def __init__(self, stream):
        super().__init__(logging.INFO)
        self.stream = stream
        self.hidden: tuple[str, ...] | None = None  # found at the first record: Prefect is not imported yet

    def shown(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        if self.hidden is None:
            self.hidden = _library_dirs()
        return not os.path.realpath(record.pathname).startswith(self.hidden)

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if begun := BEGINNING.match(text):
            text = f"{begun['flow']} ..."
        elif not self.shown(record):
            return
        try:
            level = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
            self.stream.write(progress_line(f"{level}{text}", record.created) + "\n")
            self.stream.flush()
        except Exception:  # a terminal gone away must not fail the run
            self.handleError(record)


class Quiet:
    """Send this process's stderr (descriptor 2, so C libraries and child processes too) to `log`, and show
    run progress on the terminal's stderr; `term` writes there. Undone on exit."""

    def __init__(self, log: str | os.PathLike):
        self.log = Path(log)
        self.term = sys.stderr
        self._saved: int | None = None
        self._handler: ProgressHandler | None = None

    def __enter__(self) -> "Quiet":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = os.dup(2)
        self.term = os.fdopen(os.dup(self._saved), "w", buffering=1, encoding=getattr(sys.stderr, "encoding", None) or "utf-8", errors="replace")
        fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 2)
        os.close(fd)
        return self

    def attach(self) -> None:
        """Show run progress on the terminal. Imports Prefect, whose logging set-up would drop a handler added
        earlier: call it once the slow start-up work has been launched."""
        from prefect.logging.configuration import ensure_logging_setup

        ensure_logging_setup()  # once per process; a handler added before it would be dropped

        if self._handler is None:
            self._handler = ProgressHandler(self.term)
            for name in RUN_LOGGERS:
                logging.getLogger(name).addHandler(self._handler)

    def say(self, text: str) -> None:
        """A progress line of the command's own, in the same form as the run's."""
        self.term.write(progress_line(text) + "\n")
        self.term.flush()

    def __exit__(self, *exc) -> None:
        if self._handler is not None:
            for name in RUN_LOGGERS:
                logging.getLogger(name).removeHandler(self._handler)
        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self.term.flush()
        self.term.close()
        self.term = sys.stderr


def run_log_path(settings) -> Path:
    """Where a quiet run's whole log goes: `<data root>/run-logs/run-<local time>-<pid>.log` for a local data root,
    else the Prefect home's `run-logs/`."""
    from lepton_flow.settings import is_local

    base = Path(settings.run_logs_dir) if is_local(settings.data_root) else Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect") / "run-logs"
    return base / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
