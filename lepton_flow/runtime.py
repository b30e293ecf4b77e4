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
    the user looks for the reason. A filter on the run loggers (added here,
    once per process, not at import) drops that one record when the failure
    carries no exception of its own; failures that raised keep their traceback.
    """
    import logging

    from prefect.states import Failed

    runs = logging.getLogger("prefect.flow_runs")
    if not any(isinstance(f, _EndedOnPurpose) for f in runs.filters):
        runs.addFilter(_EndedOnPurpose())
    return Failed(message=message, data=data)


class _EndedOnPurpose:
    def filter(self, record) -> bool:
        if not record.exc_info or not str(record.msg).startswith("Engine execution exited with unexpected exception"):
            return True
        from prefect.exceptions import FailedRun

        return not isinstance(record.exc_info[1], FailedRun)

