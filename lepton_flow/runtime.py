"""What the code needs to know about the run it is part of: its logger, and whether it runs on the CLI's own embedded API.

Kept apart from `flowtools` (which wires flows and imports the ingest
mechanics) so that the low floors (sources, parallel) can log to the run
without importing what sits above them.
"""

from __future__ import annotations

EMBEDDED_API_ENV = "LEPTON_EMBEDDED_API"
"""Set (to 1) by the CLI in its process and the workers it starts when the Prefect API is the CLI's own, started for one command."""


def run_logger():
    """The Prefect run logger inside a flow or task run; a plain logger when a test calls `task.fn`."""
    import logging

    from prefect import get_run_logger
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("lepton_flow")


def ended_failed(message: str, data=None):
    """The Failed state a flow returns when it ends on purpose, its reason in `message` (shown in the run's header).

    Prefect's engine then re-raises the failure at the end of a deployed run and
    logs "Engine execution exited with unexpected exception" with a traceback
    into its own code: for a run that said why it failed, that is noise where
    the user looks for the reason. `story_logs` drops that record; it runs here
    (once per process, not at import); deployed runs have it from the start
    through `lepton_flow/logging.yml`.
    """
    from prefect.states import Failed

    story_logs()
    return Failed(message=message, data=data)


def story_logs() -> None:
    """Make a run's log read as a story, in this process: no "Finished in state Completed()" line per task run (the UI
    shows each task's state; a task that did not complete keeps its line), and no engine traceback for a run that
    failed on purpose (`ended_failed`) or on parameters its form could not check (a time zone typed in an old
    deployment): the reason is in the run's header and in the log once. Idempotent; the Dask workers' preload calls it.
    A deployed run's process has the same filters from its start: `lepton_flow/logging.yml`, which the deployments
    name in PREFECT_LOGGING_SETTINGS_PATH (before any flow code runs, so parameter errors are covered too)."""
    import logging

    for name, kind in {**STORY_FILTERS, **WORKER_FILTERS}.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())


class EndedOnPurpose:
    def filter(self, record) -> bool:
        if not record.exc_info or not record.getMessage().startswith("Engine execution exited with unexpected exception"):
            return True
        from prefect.exceptions import FailedRun, ParameterTypeError

        return not isinstance(record.exc_info[1], (FailedRun, ParameterTypeError))


class CompletedQuietly:
    def filter(self, record) -> bool:
        return not record.getMessage().startswith("Finished in state Completed(")


class HeartbeatInOneLine:
    """A Dask worker whose heartbeat does not reach its scheduler (the scheduler closing first as a run's cluster
    shuts down, or a machine too loaded to answer in time) logs a traceback though nothing failed: the worker tries
    again, or closes with its cluster. One warning line says it, with the error."""

    def filter(self, record) -> bool:
        if record.exc_info and record.exc_info[1] is not None and record.getMessage().startswith("Failed to communicate with scheduler during heartbeat"):
            import logging

            error = record.exc_info[1]
            record.msg, record.args = "%s (%s: %s)", (record.getMessage().rstrip("."), type(error).__name__, error)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


STORY_FILTERS = {"prefect.flow_runs": EndedOnPurpose, "prefect.task_runs": CompletedQuietly}
"""The filters a run's loggers get, here by `story_logs` and in a deployed run's process by `lepton_flow/logging.yml` (a test holds the two equal)."""


WORKER_FILTERS = {"distributed.worker": HeartbeatInOneLine}
"""The filters the Dask workers' loggers get (`story_logs`, which their preload calls; a deployed run's own process
starts its workers with the same preload)."""
