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
