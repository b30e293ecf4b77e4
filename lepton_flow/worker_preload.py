"""Imported by each worker of the local cluster `parallel.local_api` starts, while Prefect's local API starts.

A task's first run on a worker would otherwise import these (seconds, most
of it Great Expectations) after the API is up; here the imports overlap
the API's start. Besides the imports, only `story_logs` (logging filters)
runs: a preload that fails would stop the worker, so the imports that can
fail are left to the tasks.
"""

import gc

import pandas  # noqa: F401
import prefect  # noqa: F401
import pyarrow.parquet  # noqa: F401

import lepton_flow.validation  # noqa: F401
from lepton_flow.runtime import story_logs

story_logs()  # the task runs' logs on this worker, as in the flow's process

try:
    import great_expectations  # noqa: F401
except ImportError:  # a task that needs it says so
    pass

gc.freeze()  # what the imports made lives as long as the worker: `parallel.release_memory`'s collections skip it
