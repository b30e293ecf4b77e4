"""Where fanned-out work runs: on the flow's cluster, wherever the task that fans out runs."""

from __future__ import annotations

import os

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect_dask import DaskTaskRunner

from lepton_flow.parallel import fit_to_input, local_input_bytes, map_parallel, on_this_machine, task_runner


def _where(item: int) -> tuple[int, int]:
    import time

    time.sleep(0.2)  # long enough for both workers to take some
    return item, os.getpid()


@task(cache_policy=NO_CACHE)
def fan_out(n: int) -> list[tuple[int, int]]:
    return map_parallel(_where, list(range(n)))


@task(cache_policy=NO_CACHE)
def where_docs_are_built() -> int:
    return on_this_machine(os.getpid)


@flow
def called_and_submitted(n: int) -> dict:
    # Called: runs in this flow's process (as clean_readings does); submitted: on a worker.
    return {"called": fan_out(n), "submitted": fan_out.submit(n).result(), "flow": os.getpid(), "docs": where_docs_are_built()}


def test_a_task_fans_out_over_the_cluster_whether_called_in_the_flow_or_submitted(dask_cluster):
    from distributed import Client

    with Client(dask_cluster) as client:
        workers = set(client.run(os.getpid).values())
        # local_cluster's workers keep glibc's heap trimming (Dask's 65536 made pandas work 1.5x slower).
        assert set(client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values()) == {None}
    assert len(workers) == 2 and os.getpid() not in workers
    out = called_and_submitted.with_options(task_runner=DaskTaskRunner(address=dask_cluster.scheduler_address))(8)
    for how in ("called", "submitted"):
        items, pids = zip(*out[how])
        assert list(items) == list(range(8)), how
        assert set(pids) == workers, how  # on both workers, never in the flow's process
    assert out["flow"] == os.getpid()
    assert out["docs"] in workers  # the workers are on loopback: this machine, Great Expectations imported there


def test_outside_a_cluster_work_for_this_machine_runs_here():
    assert on_this_machine(os.getpid) == os.getpid()


def test_with_the_commands_tasks_in_threads_fanned_out_work_runs_on_as_many_threads(monkeypatch):
    """A command that runs its tasks in its own threads (`LocalAPI.tasks_here`) cleans its windows on that many
    threads at once, results in order; outside such a command, one after another here."""
    import threading

    from lepton_flow import parallel

    barrier = threading.Barrier(2, timeout=20)

    def meet(item, offset):
        barrier.wait()  # both items at once, or a BrokenBarrierError after 20 s
        return item + offset, threading.current_thread().name

    monkeypatch.setattr(parallel, "_TASKS_HERE", [2])
    out = parallel.map_parallel(meet, [1, 2, 3, 4], 10)
    assert [value for value, _ in out] == [11, 12, 13, 14]
    assert len({name for _, name in out}) == 2 and all(name.startswith("lepton-map") for _, name in out)
    monkeypatch.setattr(parallel, "_TASKS_HERE", [])
    assert parallel.map_parallel(lambda item, offset: (item + offset, threading.current_thread().name), [1, 2], 1) == [(2, threading.current_thread().name), (3, threading.current_thread().name)]


def test_outside_a_cluster_it_runs_here():
    assert map_parallel(_where, [1, 2]) == [(1, os.getpid()), (2, os.getpid())]


_LOCAL_API_SCRIPT = """
import json, os, sys
from distributed import Client
from lepton_flow.parallel import LocalAPI, local_api

def probe():
    import os, sys
    return {"api": os.environ.get("PREFECT_API_URL"), "root": os.environ.get("LEPTON_DATA_ROOT"), "gx": "great_expectations" in sys.modules,
            "parent": os.getppid(), "malloc": os.environ.get("MALLOC_TRIM_THRESHOLD_")}

if __name__ == "__main__":
    api = LocalAPI.begin()
    api.start_cluster()
    with local_api(begun=api):
        from prefect.settings import get_current_settings

        heartbeat = get_current_settings().flows.heartbeat_frequency
        with Client(api.started[0].scheduler_address) as client:
            workers = list(client.run(probe).values())
    print(json.dumps({"me": os.getpid(), "url": api.url, "workers": workers, "server_exit": api.process.poll(), "heartbeat": heartbeat}))
"""


def test_a_cli_runs_workers_fork_from_one_process_that_imported_their_modules_with_the_runs_settings(tmp_path):
    """`LocalAPI`'s workers fork from a forkserver that imported Great Expectations and Prefect once, after the
    API's URL was set: each sees that URL and the run's settings, and none re-imports on its own. Flow runs on
    this API send no heartbeats (nothing outlives it to watch them)."""
    import json
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "MALLOC_TRIM_THRESHOLD_")}
    env.update(LEPTON_DATA_ROOT=str(tmp_path / "data"), PREFECT_HOME=str(tmp_path / "prefect"), LEPTON_DASK_WORKERS="2")
    env.pop("LEPTON_DASK_ADDRESS", None)
    script = tmp_path / "probe.py"
    script.write_text(_LOCAL_API_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(out["workers"]) == 2 and out["server_exit"] is not None and out["heartbeat"] is None
    for worker in out["workers"]:
        assert worker["api"] == out["url"] and worker["root"] == str(tmp_path / "data") and worker["gx"] and worker["malloc"] is None
    parents = {w["parent"] for w in out["workers"]}
    assert len(parents) == 1 and out["me"] not in parents  # one forkserver, not this process spawning each


def test_a_commands_input_is_sized_on_this_machine_only_and_not_walked_past_the_limit(tmp_path):
    """What decides between threads and a local cluster: files at or under the source (a folder, one file, a glob),
    compressed ones eight times their size; a URL is not sized; a large folder is not walked whole."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.csv").write_bytes(b"1" * 1000)
    (tmp_path / "a" / "deeper").mkdir()
    (tmp_path / "a" / "deeper" / "y.log.gz").write_bytes(b"1" * 100)
    assert local_input_bytes([str(tmp_path / "a")], 10**6) == 1000 + 800
    assert local_input_bytes([str(tmp_path / "a" / "x.csv")], 10**6) == 1000
    assert local_input_bytes([f"file://{tmp_path}/a/*.csv"], 10**6) == 1000
    assert local_input_bytes([str(tmp_path / "missing")], 10**6) == 0
    assert local_input_bytes(["s3://bucket/logs"], 10**6) is None and local_input_bytes(["http://h/x.csv"], 10**6) is None
    for i in range(50):
        (tmp_path / "a" / f"more-{i}.csv").write_bytes(b"1" * 1000)
    assert 1500 < local_input_bytes([str(tmp_path / "a")], 1500) <= 1500 + 1000  # stopped at the first file past it


def test_where_a_commands_tasks_run_follows_the_local_workers_unless_a_size_is_set():
    """Up to 2 local workers, threads of the command at any size (measured as fast or faster, with half the memory);
    with more, a local cluster from 64 MiB; LEPTON_LOCAL_CLUSTER_ABOVE_MB decides when set (0: always a cluster)."""
    from lepton_flow.settings import Settings

    assert Settings(dask_workers=1).cluster_from_mb is None and Settings(dask_workers=2).cluster_from_mb is None
    assert Settings(dask_workers=3).cluster_from_mb == 64
    assert Settings(dask_workers=2, local_cluster_above_mb=0).cluster_from_mb == 0
    assert Settings(dask_workers=8, local_cluster_above_mb=500).cluster_from_mb == 500


def test_a_new_prefect_home_starts_from_set_ups_migrated_database_and_nothing_else_is_overwritten(tmp_path):
    """`make` set-up leaves a migrated database for this Prefect version; a home without a database gets a copy (the
    first run of a new data root does not migrate), a home with one keeps it, and a database URL setting is left alone."""
    import sqlite3

    from lepton_flow.services import database_template, make_database_template, seed_database

    template = make_database_template()
    assert template == database_template() and template.is_file()
    with sqlite3.connect(template) as db:
        assert db.execute("select version_num from alembic_version").fetchone()  # migrated
    assert seed_database(tmp_path / "new", {}) and (tmp_path / "new" / "prefect.db").read_bytes() == template.read_bytes()
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "prefect.db").write_bytes(b"mine")
    assert not seed_database(tmp_path / "kept", {}) and (tmp_path / "kept" / "prefect.db").read_bytes() == b"mine"
    assert not seed_database(tmp_path / "pg", {"PREFECT_API_DATABASE_CONNECTION_URL": "postgresql+asyncpg://x/y"})
    assert not (tmp_path / "pg").exists() and not list(tmp_path.rglob("*.part"))


@task(cache_policy=NO_CACHE)
def _pid_and_thread(item: int) -> tuple[int, int, str]:
    import threading

    return item, os.getpid(), threading.current_thread().name


@flow(task_runner=task_runner())
def _sized_run(size: int, offset: int = 0) -> dict:
    """A flow on the ingest flows' own runner, told by discovery's files what it will read."""
    from prefect.context import FlowRunContext

    from lepton_flow.sources import SourceFile

    said = fit_to_input([SourceFile(url="file:///x/a.log.gz", name="a.log.gz", sha256="0" * 64, size=size, offset=offset)])
    threads = FlowRunContext.get().task_runner.threads
    if not threads:  # a cluster would start at the first task: the decision is what this run checks
        return {"said": said, "threads": threads}
    tasks = [f.result() for f in _pid_and_thread.map(range(4))]
    return {"said": said, "threads": threads, "tasks": tasks, "fanned": fan_out(3), "docs": where_docs_are_built(), "flow": os.getpid()}


def test_a_flow_runs_a_small_inputs_tasks_in_its_own_threads_and_starts_a_cluster_only_for_a_large_one(prefect_server, data_root, monkeypatch):
    """A deployed ingest decides as `lepton-flow run` does, by the bytes its new files hold past their offsets
    (compressed ones eight times): under the size from which a local cluster starts, the tasks, fanned-out work and
    Data Docs run in threads of the flow run's process and no cluster starts; from that size, or always with 0, its
    runner starts the local cluster at the first task."""
    import threading

    from lepton_flow.settings import get_settings

    monkeypatch.setenv("LEPTON_DASK_WORKERS", "2")
    monkeypatch.setenv("LEPTON_LOCAL_CLUSTER_ABOVE_MB", "1")
    get_settings(fresh=True)
    small = _sized_run(100_000)  # 0.8 MiB once gunzipped
    assert small["threads"] == 2 and "0.8 MiB of input: the tasks run in 2 thread(s) of this flow run's process" in small["said"]
    assert [t[0] for t in small["tasks"]] == [0, 1, 2, 3] and {t[1] for t in small["tasks"]} == {small["flow"]} == {os.getpid()}
    assert threading.main_thread().name not in {t[2] for t in small["tasks"]}  # in the runner's threads, not the flow's
    assert [item for item, _ in small["fanned"]] == [0, 1, 2] and {pid for _, pid in small["fanned"]} == {os.getpid()}
    assert small["docs"] == os.getpid()
    assert _sized_run(200_000)["threads"] == 0  # 1.5 MiB: the cluster
    assert _sized_run(200_000, offset=1_000_000)["threads"] == 2  # the part read before does not count
    monkeypatch.setenv("LEPTON_LOCAL_CLUSTER_ABOVE_MB", "0")
    get_settings(fresh=True)
    assert _sized_run(10) == {"said": None, "threads": 0}
    get_settings(fresh=True)


_EXPECTS = """
import sys
from prefect import flow
from lepton_flow import parallel

@flow(task_runner=parallel.task_runner())
def probe(source: str) -> bool:
    parallel.expect_input(source)
    return bool(parallel._PRELOADING)

started = probe(sys.argv[1])
if started:
    parallel._PRELOADING[0].join(120)
print(started, "great_expectations" in sys.modules)
"""


def test_a_deployed_ingest_imports_what_its_tasks_need_while_it_finds_a_small_input(prefect_server, tmp_path):
    """Before discovery, a flow on the ingest runner whose source is small enough for threads of its own process
    imports Great Expectations in a thread; where the tasks will run on a cluster (LEPTON_LOCAL_CLUSTER_ABOVE_MB=0, or
    an input past the size), it does not (the workers import it themselves)."""
    import subprocess
    import sys

    source = tmp_path / "logs"
    source.mkdir()
    (source / "app.log").write_text("2026-01-01 00:00:00 INFO started\n" * 20)
    (tmp_path / "big.log").write_bytes(b"x" * (2 << 20))
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "LEPTON_DATA_ROOT": str(tmp_path / "data"), "LEPTON_DASK_WORKERS": "2"}

    def probe(path, above_mb):
        done = subprocess.run([sys.executable, "-c", _EXPECTS, str(path)], env={**env, "LEPTON_LOCAL_CLUSTER_ABOVE_MB": above_mb},
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout.split()[-2:]

    assert probe(source, "1") == ["True", "True"]
    assert probe(source, "0") == ["False", "False"]
    assert probe(tmp_path / "big.log", "1") == ["False", "False"]
