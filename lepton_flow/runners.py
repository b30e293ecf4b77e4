"""The ingest flows' task runner: a local Dask cluster, or threads of the flow run's process for a small input.

Imported only where a flow is defined (it imports prefect-dask and distributed).
"""

from __future__ import annotations

from typing import Any

from prefect.task_runners import ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner


class LocalTaskRunner(DaskTaskRunner):
    """prefect-dask's runner of a local cluster, which it starts at the first task; told before then
    (`in_threads`), it runs the flow's tasks in threads of the flow run's own process instead and starts no cluster.

    A deployed flow run decides as `lepton-flow run` does, by what it will read
    (`parallel.fit_to_input`): starting worker processes that each import
    Great Expectations and pandas costs seconds of every core, more than a
    scheduled run's few new files take to read.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threads = 0  # the threads running the tasks; 0: the cluster does
        self._pool: ThreadPoolTaskRunner | None = None

    def in_threads(self, workers: int) -> bool:
        """Run the tasks submitted from now on in `workers` threads; False (nothing changes) once the cluster runs."""
        if self._client is not None or not self._started:
            return False
        if self._pool is None:
            self._pool = self._exit_stack.enter_context(ThreadPoolTaskRunner(max_workers=workers))
            self.threads = workers
        return True

    def submit(self, task, parameters, wait_for=None, dependencies=None):
        if self._pool is not None:
            return self._pool.submit(task, parameters, wait_for, dependencies)
        return super().submit(task, parameters, wait_for, dependencies)
