"""Where Dask work runs: the cluster the flow runs on, a configured scheduler, or in-process.

Flows run their tasks on a Dask cluster (`DaskTaskRunner`); a task that fans
out (cleaning per time window, writing the store) submits to that same
cluster from inside its worker. Called outside any cluster (a unit test
calling `task.fn`), the same code runs in-process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from lepton_flow.settings import Settings, get_settings


def task_runner(settings: Settings | None = None):
    """The Prefect task runner for flows: an existing scheduler, or a local cluster."""
    from prefect_dask import DaskTaskRunner

    settings = settings or get_settings()
    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={
            "n_workers": settings.dask_workers,
            "threads_per_worker": settings.dask_threads_per_worker,
            "processes": True,
            "dashboard_address": None,
        },
    )


def _in_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
        return True
    except (ImportError, ValueError):
        return False


@contextlib.contextmanager
def dask_client() -> Iterator[Any | None]:
    """A distributed client to submit to, set as Dask's default; None outside a cluster."""
    if _in_worker():
        from distributed import worker_client

        # Secedes from the worker's thread pool while waiting, so the work
        # submitted from here can use every worker, this one included.
        with worker_client() as client:
            yield client
        return
    try:
        from distributed import get_client

        yield get_client()
    except ValueError:
        yield None


def map_parallel(fn: Callable, items: Sequence, *args: Any) -> list:
    """`[fn(item, *args) for item in items]`, spread over the cluster when there is one."""
    with dask_client() as client:
        if client is None or len(items) <= 1:
            return [fn(item, *args) for item in items]
        futures = client.map(fn, list(items), *[[a] * len(items) for a in args], pure=False)
        return client.gather(futures)
