"""Where Dask work runs: the cluster the flow runs on, a configured scheduler, or in-process.

Flows run their tasks on a Dask cluster (`DaskTaskRunner`), or, for a small
input, in threads of their own process (`fit_to_input`, `LocalAPI.tasks_here`);
a task that fans out (cleaning per time window, writing the store) submits to
that same cluster from inside its worker, or to as many threads. Called
outside any cluster (a unit test calling `task.fn`), the same code runs
in-process.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from lepton_flow.settings import Settings, get_settings


def local_cluster(**kwargs):
    """A `distributed.LocalCluster` whose workers keep glibc's own heap trimming.

    Dask starts worker processes with MALLOC_TRIM_THRESHOLD_=65536, which
    hands freed memory back to the system at once: every large pandas or
    Arrow buffer then costs fresh page faults. Cleaning a window ran 1.5
    times slower under it (3.65 s -> 5.4 s for 13 windows in one process).
    The workers hand memory back after each file instead (`release_memory`).
    """
    import dask
    from distributed import LocalCluster

    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items() if k != "MALLOC_TRIM_THRESHOLD_"}
    if kwargs.get("dashboard_address") == DASHBOARD:
        kwargs["dashboard_address"] = dashboard_address()
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(**kwargs)


DASHBOARD = ":8787"


def dashboard_address() -> str:
    """Dask's usual dashboard port when it is free, else any free port. Asked for a taken port, Dask warns "Port 8787
    is already in use" into every run's log while another run (or a user's notebook) holds it."""
    import socket

    with socket.socket() as s:
        try:
            s.bind(("", 8787))
        except OSError:
            return ":0"
    return DASHBOARD


@contextlib.contextmanager
def _forked_workers(modules: list[str]):
    """Worker processes started in this block fork from one process that imported `modules` once (multiprocessing's forkserver).

    Spawned, each worker imports them itself (Great Expectations, Prefect,
    pandas: about 4 s of CPU a worker, on the cores the API's start needs).
    The forkserver is one per process and keeps the environment it started
    with, so only `LocalAPI` uses this, once per command, with
    PREFECT_API_URL already set. Dask's own preload list (a dozen packages,
    imported into this process first) is replaced by `modules`.
    """
    import multiprocessing

    import dask
    import distributed.utils

    multiprocessing.get_context("forkserver").set_forkserver_preload(["distributed", *modules])
    distributed.utils._forkserver_preload_set = True
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        yield


_PRELOADING: list = []


def preload_in_background() -> None:
    """Import what the tasks will (Great Expectations: 2-5 s) in a thread of this process, once, while it does other
    work (the CLI: the API's start; a deployed flow run: discovery); a task that needs it first waits for it."""
    if _PRELOADING:
        return
    import threading

    def preload() -> None:
        import gc
        import importlib

        for module in ("lepton_flow.validation", "great_expectations"):
            try:
                importlib.import_module(module)
            except ImportError:  # a task that needs it says so
                return
        gc.freeze()  # what the imports made lives as long as the process: `release_memory`'s collections skip it

    _PRELOADING.append(threading.Thread(target=preload, name="lepton-preload", daemon=True))
    _PRELOADING[0].start()


def task_runner(settings: Settings | None = None):
    """The Prefect task runner for flows: an existing scheduler, or a local cluster (or threads, for a small input:
    `fit_to_input`)."""
    from prefect_dask import DaskTaskRunner

    from lepton_flow.runners import LocalTaskRunner

    settings = settings or get_settings()
    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    return LocalTaskRunner(
        cluster_class="lepton_flow.parallel.local_cluster",
        cluster_kwargs={
            "n_workers": settings.dask_workers,
            "threads_per_worker": settings.dask_threads_per_worker,
            "processes": True,
            # The Dask dashboard shows progress; with another run on the machine holding the port, any free one.
            "dashboard_address": DASHBOARD,
            # The task runs' log lines on the workers as in the flow's process (`runtime.story_logs`).
            "preload": ["lepton_flow.worker_preload"],
        },
    )


class SchedulerUnreachable(ConnectionError):
    """The Dask scheduler named by LEPTON_DASK_ADDRESS does not answer."""


def check_scheduler(address: str, timeout: float = 10.0) -> int:
    """Connect to the scheduler once, before a run depends on it; returns its worker count.

    Without this a run would wait out Dask's connect timeout and fail deep
    inside Prefect's task runner.
    """
    import socket
    from urllib.parse import urlparse

    from distributed import Client

    where = urlparse(address if "://" in address else f"tcp://{address}")
    if where.scheme == "tcp" and where.hostname and where.port:
        try:  # a refused connection is an answer: no need to retry it for `timeout` seconds, as Dask's client does
            socket.create_connection((where.hostname, where.port), timeout=timeout).close()
        except ConnectionRefusedError as exc:
            raise SchedulerUnreachable(
                f"the Dask scheduler at {address} (LEPTON_DASK_ADDRESS) refuses connections ({exc.strerror}): "
                "start it, fix the address, or unset LEPTON_DASK_ADDRESS to use a local cluster"
            ) from exc
        except OSError:
            pass  # unreachable or slow: Dask's client says so below, after its timeout
    try:
        with Client(address, timeout=timeout) as client:
            return len(client.scheduler_info()["workers"])
    except (OSError, TimeoutError) as exc:
        raise SchedulerUnreachable(
            f"the Dask scheduler at {address} (LEPTON_DASK_ADDRESS) does not answer within {timeout:.0f} s: {exc}; "
            "start it, fix the address, or unset LEPTON_DASK_ADDRESS to use a local cluster"
        ) from exc


def _in_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
        return True
    except (ImportError, ValueError):
        return False


@contextlib.contextmanager
def dask_client() -> Iterator[Any | None]:
    """A distributed client to submit to: the worker's, Dask's default, or the flow's task runner's; None outside a cluster."""
    if _in_worker():
        from distributed import worker_client

        # Secedes from the worker's thread pool while waiting, so the work
        # submitted from here can use every worker, this one included.
        with worker_client() as client:
            yield client
        return
    from distributed import get_client

    try:
        client = get_client()
    except ValueError:
        client = _flow_client()
    yield client


def _flow_client():
    """The client of the flow run's Dask task runner, when a task runs in the flow's own process.

    A task called directly in a flow (not submitted) runs there, where
    prefect-dask's client is not Dask's default (`set_as_default=False`):
    without this, the cleaning windows ran one after another in the flow's
    process while the cluster's workers idled.
    """
    from prefect.context import FlowRunContext
    from prefect_dask import DaskTaskRunner

    runner = getattr(FlowRunContext.get(), "task_runner", None)
    if not isinstance(runner, DaskTaskRunner) or getattr(runner, "threads", 0):
        return None
    return runner.client


def _threads_here() -> int | None:
    """Threads a run gives its tasks in its own process (the command's choice, or the flow's: `fit_to_input`);
    None where a cluster runs them."""
    if _TASKS_HERE:
        return _TASKS_HERE[-1]
    from prefect.context import FlowRunContext

    return getattr(getattr(FlowRunContext.get(), "task_runner", None), "threads", 0) or None


TRIM_ABOVE = 768 << 20


def release_memory() -> None:
    """Hand memory freed by the last file back to the system.

    A worker reads file after file; Arrow's allocator and glibc keep freed
    blocks for reuse, so without this a worker's resident memory grows with
    the number of files it has seen rather than with the largest one.
    """
    import ctypes
    import gc

    import psutil
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    # Trimming costs page faults on the next file's allocations: only when
    # the process holds more than a file's worth. The collection holds the
    # GIL over every object it tracks (0.16 s with Prefect and Great
    # Expectations imported): the preloads freeze the modules' objects first.
    if psutil.Process().memory_info().rss > TRIM_ABOVE:
        gc.collect()
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass


def map_parallel(fn: Callable, items: Sequence, *args: Any) -> list:
    """`[fn(item, *args) for item in items]`, spread over the cluster when there is one, or over as many threads as
    the run gives its tasks when it runs them in its own process (a command's `LocalAPI.tasks_here`, a flow's
    `fit_to_input`)."""
    with dask_client() as client:
        threads = _threads_here() if client is None and len(items) > 1 else None
        if threads:
            from concurrent.futures import ThreadPoolExecutor

            # Cleaning's windows spend most of their time in NumPy, Arrow and Zarr, which let other threads run:
            # 13 windows of 10 M readings took 2.7 s on two threads against 4.1 s one after another.
            with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lepton-map") as pool:
                return list(pool.map(lambda item: fn(item, *args), items))
        if client is None or len(items) <= 1:
            return [fn(item, *args) for item in items]
        futures = client.map(fn, list(items), *[[a] * len(items) for a in args], pure=False)
        return client.gather(futures)


def on_this_machine(fn: Callable, *args: Any) -> Any:
    """`fn(*args)` on a worker of the run's cluster when every worker runs on this machine, else here.

    For work that writes where the flow runs (Data Docs) and needs what the
    workers have imported already (Great Expectations: 2.4 s to import in
    the flow's process, at the end of every run). A cluster with workers on
    other hosts would write on theirs: then it runs here.
    """
    from urllib.parse import urlparse

    if _in_worker():
        return fn(*args)
    with dask_client() as client:
        if client is not None:
            workers = client.scheduler_info().get("workers", {})
            if workers and all(urlparse(address).hostname in ("127.0.0.1", "localhost", "::1") for address in workers):
                return client.submit(fn, *args, pure=False).result()
    return fn(*args)


_SHARED_CLUSTER: list[str] = []  # the address of the cluster `local_api` started, while it runs
_TASKS_HERE: list[int] = []  # thread count, while a command runs a small input's tasks in its own process


def on_shared_cluster(flow):
    """`flow`, on the local cluster `local_api` started if there is one and the flow runs its tasks on Dask (or in
    threads of this process, when the command chose that for a small input: `LocalAPI.tasks_here`)."""
    from prefect_dask import DaskTaskRunner

    if not isinstance(flow.task_runner, DaskTaskRunner):
        return flow
    if _TASKS_HERE:
        from prefect.task_runners import ThreadPoolTaskRunner

        return flow.with_options(task_runner=ThreadPoolTaskRunner(max_workers=_TASKS_HERE[-1]))
    if not _SHARED_CLUSTER:
        return flow
    return flow.with_options(task_runner=DaskTaskRunner(address=_SHARED_CLUSTER[-1]))


COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zip", ".parquet")


def counted_bytes(name: str, size: int) -> int:
    """A file's bytes as the threads-or-cluster choice counts them: a compressed one's eight times."""
    return size * (8 if name.lower().endswith(COMPRESSED) else 1)


def local_input_bytes(paths: list[str], limit: int) -> int | None:
    """Bytes of the files at or under local `paths`, compressed ones counted eight times; counting stops once past
    `limit` (a folder of years of logs is not walked whole to find it is large). None when a path is a URL."""
    total = 0
    for path in paths:
        if "://" in path and not path.startswith("file://"):
            return None
        path = path.removeprefix("file://")
        if any(c in path for c in "*?["):  # a glob: the files it names
            import glob

            walked = [("", [], glob.glob(path, recursive=True))]
        elif os.path.isfile(path):
            walked = [(os.path.dirname(path), [], [os.path.basename(path)])]
        else:
            walked = os.walk(path)
        for folder, _, names in walked:
            for name in names:
                try:
                    size = os.stat(os.path.join(folder, name)).st_size
                except OSError:
                    continue
                total += counted_bytes(name, size)
                if total > limit:
                    return total
    return total


def threads_instead(size: int | None, counted_to: int | None = None, where: str = "this process") -> str | None:
    """Why a run's tasks run in threads of `where`: `size` bytes of input on this machine, under the size from which a
    local Dask cluster starts (`Settings.cluster_from_mb`), as the run says it; None: a local cluster runs them (or an
    input elsewhere, `size` None). `counted_to`: where counting stopped (a size past it is told as "over")."""
    settings = get_settings()
    limit_mb = settings.cluster_from_mb
    if size is None or limit_mb == 0 or (limit_mb is not None and size >= limit_mb << 20):
        return None
    shown = f"over {counted_to >> 20} MiB" if counted_to is not None and size >= counted_to else f"{size / 2**20:.1f} MiB"
    when = "only with more than 2 workers; LEPTON_LOCAL_CLUSTER_ABOVE_MB sets a size" if limit_mb is None else f"from {limit_mb} MiB, LEPTON_LOCAL_CLUSTER_ABOVE_MB"
    return f"{shown} of input: the tasks run in {settings.dask_workers} thread(s) of {where} (a local Dask cluster {when})"


def small_input(source: str, where: str = "this process") -> str | None:
    """`threads_instead` for every file at or under a local `source` (counting stops past the size that matters:
    `Settings.cluster_from_mb`, or 1 GiB where no size starts a cluster, to say it); None for a cluster's input."""
    limit_mb = get_settings().cluster_from_mb
    if limit_mb == 0:
        return None
    limit = (limit_mb if limit_mb is not None else 1024) << 20
    return threads_instead(local_input_bytes([source], limit), counted_to=limit, where=where)


def expect_input(source: str) -> None:
    """Called by an ingest flow before it discovers its input: when every file at `source` together is small enough
    that its tasks will run in threads of this flow run's process (`fit_to_input` then decides on what is new), what
    they import is imported meanwhile (`preload_in_background`). Not under a command (it chose already), nor where a
    cluster will run them: its workers import it themselves."""
    from prefect.context import FlowRunContext

    runner = getattr(FlowRunContext.get(), "task_runner", None)
    if hasattr(runner, "in_threads") and small_input(source) is not None:
        preload_in_background()


def fit_to_input(files: Sequence) -> str | None:
    """Called by a flow before its first task: the tasks run in threads of the flow run's process when what it will
    read (discovery's `files`, each from its offset) is small (`threads_instead`), as `lepton-flow run` decides;
    else on the local cluster its task runner starts at the first task. Returns what it told the run's log; nothing
    changes on a given scheduler, under a command that chose already, or once a cluster runs."""
    from prefect.context import FlowRunContext

    runner = getattr(FlowRunContext.get(), "task_runner", None)
    if not files or not hasattr(runner, "in_threads"):
        return None
    size = sum(max(counted_bytes(f.name, f.size) - f.offset, 0) for f in files)
    said = threads_instead(size, where="this flow run's process")
    if said is None or not runner.in_threads(get_settings().dask_workers):
        return None
    from prefect import get_run_logger

    get_run_logger().info(said)
    return said


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def die_with_parent():
    """A `preexec_fn` for a child process: the kernel sends it SIGTERM when its parent dies, even by SIGKILL (Linux).

    The embedded API server outlived a killed CLI (254 MB, minutes later)
    otherwise. prctl is looked up here, in the parent: between fork and exec
    the child only calls it. None where there is no prctl (nothing changes).
    """
    import ctypes
    import signal

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


class LocalAPI:
    """Prefect's local API server and the local Dask cluster, started without waiting for either.

    `begin` launches the server and returns at once, so a command can import
    its flows and check its parameters while it starts; `start_cluster`
    then starts the cluster (a process per worker: not worth starting for
    parameters that fail), and `local_api(begun=...)` waits for both. The
    server is the uvicorn process Prefect's own `SubprocessASGIServer` runs,
    started here without importing `prefect.server` (FastAPI, SQLAlchemy:
    2 s) into this process. With PREFECT_API_URL set (a server, or a test
    harness) nothing starts.
    """

    def __init__(self) -> None:
        self.url: str | None = None
        self.process = None
        self.started: list = []  # the LocalCluster, or the exception it failed with
        self.starter = None
        self.stopped = False

    @classmethod
    def begin(cls, cluster: bool = False) -> LocalAPI:
        """Launch the server unless PREFECT_API_URL is set (in the environment, or in the Prefect profile: the server
        launched before Prefect is imported, 0.7 s, is stopped again when the profile names an API)."""
        import importlib.util
        import subprocess

        from lepton_flow.runtime import EMBEDDED_API_ENV

        api = cls()
        if os.environ.get("PREFECT_API_URL"):
            return api
        from lepton_flow.services import seed_database

        # Prefect makes its home, but not the folders above it: the server then
        # cannot open its database and the start times out after three minutes.
        home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
        home.mkdir(parents=True, exist_ok=True)
        seed_database(home, os.environ)  # a new data root: set-up's migrated database, not 8 s of migrations
        port = _free_port()
        # The server reads the same environment and profile as this process would.
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        site = Path(importlib.util.find_spec("prefect").submodule_search_locations[0]).parent
        api.process = subprocess.Popen([
            sys.executable, "-m", "uvicorn", "--app-dir", str(site), "--factory",
            "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on",
        ], env=env, preexec_fn=die_with_parent())
        from prefect.settings import PREFECT_API_URL

        if PREFECT_API_URL.value():  # from the profile
            api.process.terminate()
            api.process.wait()
            api.process = None
            return api
        api.url = f"http://127.0.0.1:{port}/api"
        # Set before the cluster's workers start: they inherit it.
        os.environ["PREFECT_API_URL"] = api.url
        os.environ[EMBEDDED_API_ENV] = "1"
        if cluster:
            api.start_cluster()
        return api

    def start_cluster(self) -> None:
        """Start the local Dask cluster in a thread (not with LEPTON_DASK_ADDRESS set, nor twice, nor without a server)."""
        settings = get_settings()
        if self.process is None or self.starter is not None or settings.dask_address:
            return
        import threading

        def start() -> None:
            try:
                with _forked_workers(["lepton_flow.worker_preload"]):
                    self.started.append(local_cluster(
                        n_workers=settings.dask_workers, threads_per_worker=settings.dask_threads_per_worker, processes=True,
                        dashboard_address=DASHBOARD, preload=["lepton_flow.worker_preload"],
                    ))
            except Exception as exc:  # noqa: BLE001 (the flows then start their own, as without `cluster`)
                print(f"lepton-flow: the local Dask cluster did not start beside the API ({exc}); the flows start their own", file=sys.stderr)
                self.started.append(exc)

        self.starter = threading.Thread(target=start, name="lepton-local-cluster", daemon=True)
        self.starter.start()

    def tasks_here(self) -> None:
        """Run the flows' Dask tasks in threads of this process instead of starting the cluster (a small input).

        What the cluster's workers would import while the server starts
        (`worker_preload`: Great Expectations, 2.4 s) is imported here
        meanwhile, in a thread; the first task waits for it if it must.
        """
        if self.process is None or self.starter is not None or _TASKS_HERE:
            return
        _TASKS_HERE.append(get_settings().dask_workers)
        preload_in_background()

    def wait(self) -> None:
        """Until the server answers (or fails: RuntimeError with its exit code) and the cluster is up."""
        import time

        import httpx
        from prefect.settings import get_current_settings

        if self.process is None:
            return
        timeout = get_current_settings().server.ephemeral.startup_timeout_seconds
        deadline = time.monotonic() + timeout
        with httpx.Client() as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"Prefect's local API server exited with code {self.process.returncode} while starting (its output is above)")
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Prefect's local API server did not answer at {self.url} within {timeout:.0f} s")
                time.sleep(0.1)
        if self.starter is not None:
            self.starter.join()
            if not isinstance(self.started[0], Exception):
                _SHARED_CLUSTER.append(self.started[0].scheduler_address)

    def stop(self) -> None:
        """Stop the cluster and the server (once; a no-op when nothing started)."""
        if self.stopped or self.process is None:
            return
        import subprocess

        from lepton_flow.runtime import EMBEDDED_API_ENV

        self.stopped = True
        _SHARED_CLUSTER.clear()
        _TASKS_HERE.clear()
        if self.starter is not None:
            self.starter.join(60)  # a server that failed to start leaves the cluster starting
        for item in self.started:
            if not isinstance(item, Exception):
                item.close()
        os.environ.pop("PREFECT_API_URL", None)
        os.environ.pop(EMBEDDED_API_ENV, None)
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def local_api(cluster: bool = False, begun: LocalAPI | None = None) -> Iterator[str | None]:
    """Prefect's local API, one for this process and every Dask worker it starts.

    With PREFECT_API_URL set (a server, or a test harness) there is nothing
    to do. Otherwise Prefect would start a temporary server in this process
    and another in each worker process, all on one SQLite file; starting one
    here and pointing every process at it saves their start-up and keeps
    every task run in the run's own database.

    With `cluster` (and no LEPTON_DASK_ADDRESS), the local Dask cluster the
    flows run on starts beside the server instead of after it, its workers
    importing what tasks need (`lepton_flow.worker_preload`) while the
    server starts: a run's fixed cost falls by seconds. Flows called through
    `on_shared_cluster` use it. `begun`: what `LocalAPI.begin` already
    started (the caller did other work meanwhile); this waits for it and
    stops it at the end.

    Flow runs here send no heartbeats: they exist for a server to notice a
    run whose host died, and this server dies with the run. (Prefect's
    heartbeat thread sleeps in whole seconds, and each flow run waits for
    it at its end: up to a second per flow.)
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, PREFECT_LOGGING_TO_API_ENABLED, temporary_settings

    api = begun or LocalAPI.begin(cluster)
    if api.process is None:
        yield PREFECT_API_URL.value()
        return
    try:
        api.wait()
        with temporary_settings(updates={PREFECT_API_URL: api.url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield api.url
            # Send the run's last logs while the server is still there: a log
            # left for the exit handler would retry a stopped server for a minute.
            from prefect.logging.handlers import APILogWorker

            APILogWorker.drain_all(timeout=10)
    finally:
        with temporary_settings(updates={PREFECT_LOGGING_TO_API_ENABLED: False}):
            api.stop()
