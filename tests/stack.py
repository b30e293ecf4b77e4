"""Real services for the deployment tests: PostgreSQL, a Prefect server, workers, and reading runs back.

Everything listens on loopback, on free ports, under the test's own
directories, and is stopped by its own PID.
"""

from __future__ import annotations

import glob
import atexit
import os
import pwd
import shutil
import tempfile
import subprocess
import sys
from pathlib import Path

import httpx

from lepton_flow.services import QUIET, Service, client_env, free_port, prefect_bin, server_env, start_server, start_worker, wait_until

FINAL = {"Completed", "Failed", "Crashed", "Cancelled"}


def pg_bindir() -> Path:
    """Debian's PostgreSQL binaries (initdb and pg_ctl are not on PATH there)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL is not installed: `make test-setup` installs Debian's postgresql package")


class Postgres:
    """A throw-away PostgreSQL cluster on a free loopback port, trust auth, with a `prefect` database.

    PostgreSQL refuses to run as root; as root it runs as the `postgres` user.
    """

    def __init__(self, base: Path):
        self.bin = pg_bindir()
        self.dir = Path(base) / "pg"
        self.dir.mkdir(parents=True)
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            pw = pwd.getpwnam(self.user)
            for p in (self.dir, *self.dir.parents):
                if str(p) in ("/", "/tmp"):
                    break
                os.chmod(p, os.stat(p).st_mode | 0o755)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        data = self.dir / "data"
        self._run([str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"])
        self._run([
            str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "server.log"), "-w", "-t", "60",
            "-o", f"-p {self.port} -h 127.0.0.1 -k {self.dir} -c fsync=off -c max_connections=200", "start",
        ])
        self.data = data
        self._run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "prefect"])
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/prefect"

    def _run(self, argv: list[str]) -> None:
        if self.user:
            argv = ["runuser", "-u", self.user, "--", *argv]
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=self.dir)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {proc.stdout}{proc.stderr}")

    def stop(self) -> None:
        try:
            self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
        except RuntimeError:
            pass


def migrate_sqlite(home: Path) -> None:
    """A migrated SQLite database in `home`: set-up's template (made here if set-up did not), as a new data root's
    first run gets it; servers then start from copies (7-10 s instead of 25 s)."""
    from lepton_flow.services import make_database_template

    Path(home).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(make_database_template(), Path(home) / "prefect.db")


class Stack:
    """A Prefect server (SQLite or PostgreSQL), `lepton-flow deploy`, a worker per pool, and one data root."""

    def __init__(self, base: Path, template_home: Path | None = None, database_url: str | None = None, scheduler: bool = False, workers: bool = True):
        self.base = Path(base)
        self.home = self.base / "prefect"
        if template_home is not None and database_url is None:
            shutil.copytree(template_home, self.home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.data_root = self.base / "data"
        self.data_root.mkdir(parents=True, exist_ok=True)
        self.services: list[Service] = []
        self.server, self.api = start_server(self.home, env=server_env(self.home, database_url=database_url, scheduler=scheduler))
        self.services.append(self.server)
        self.env = client_env(self.api)
        self.env.update(QUIET)
        self.env.update({
            "PREFECT_HOME": str(self.home),
            "LEPTON_DATA_ROOT": str(self.data_root),
            "LEPTON_DASK_WORKERS": "1",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_WORKER_PREFETCH_SECONDS": "1",
            # A killed run is marked Crashed sooner than the default 90 s (a healthy run's heartbeats, every 30 s, still
            # have 20 s to spare).
            "LEPTON_HEARTBEAT_GRACE_SECONDS": "50",
        })
        for key in ("LEPTON_STORE_URL", "LEPTON_MODELS_URL", "LEPTON_DASK_ADDRESS", "LEPTON_LOCKS"):
            self.env.pop(key, None)
        # The data root's reports served as `lepton-flow up` serves them: the runs' artifacts link here.
        from lepton_flow.fileserve import FileServer

        self.files = FileServer(str(self.data_root))
        self.env["LEPTON_FILES_URL"] = self.files.url
        if workers:
            self.deploy()
            for pool in ("lepton-cpu", "lepton-gpu"):
                self.services.append(start_worker(pool, self.api, self.base / f"worker-{pool}.log", env=self.env))

    def cli(self, *args: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lepton_flow.cli", *args], env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=timeout)

    def deploy(self, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        proc = self.cli("deploy", *extra, env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    def prefect(self, *args: str, timeout: float = 300, cwd: str | os.PathLike | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([prefect_bin(), "--no-prompt", *args], env=self.env, capture_output=True, text=True, timeout=timeout, cwd=cwd)

    # --- reading the server back, over its REST API -------------------------------------------
    def post(self, path: str, body: dict | None = None):
        r = httpx.post(self.api + path, json=body or {}, timeout=30)
        r.raise_for_status()
        return r.json()

    def get(self, path: str):
        r = httpx.get(self.api + path, timeout=30)
        r.raise_for_status()
        return r.json()

    def deployment(self, flow: str, name: str) -> dict:
        return self.get(f"/deployments/name/{flow}/{name}")

    def runs_of(self, deployment_id: str) -> list[dict]:
        return self.post("/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [deployment_id]}}, "sort": "EXPECTED_START_TIME_ASC"})

    def run_deployment(self, flow: str, name: str, params: dict | None = None, job_variables: dict | None = None) -> str:
        """`prefect deployment run`, as a user types it; returns the new flow run's id."""
        import json

        args = ["deployment", "run", f"{flow}/{name}"]
        if params is not None:
            args += ["--params", json.dumps(params)]
        for key, value in (job_variables or {}).items():
            args += ["--job-variable", f"{key}={json.dumps(value)}"]
        proc = self.prefect(*args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        for line in (proc.stdout + proc.stderr).splitlines():
            if "UUID:" in line:
                return line.split("UUID:")[1].strip()
        raise AssertionError(f"no flow run id in: {proc.stdout}")

    def wait_final(self, run_id: str, timeout: float = 300) -> dict:
        run = wait_until(lambda: (r := self.get(f"/flow_runs/{run_id}"))["state_type"] and r["state_name"] in FINAL and r, timeout, f"flow run {run_id} to finish", every=1.0)
        return run

    def logs(self, run_id: str) -> list[dict]:
        return self.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}, "sort": "TIMESTAMP_ASC", "limit": 200})

    def artifacts(self, run_id: str) -> list[dict]:
        return self.post("/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}})

    def stop(self) -> None:
        from lepton_flow.services import stop_all

        self.files.stop()
        # The workers first, while the server still takes their last events: stopped together with it, a worker
        # retried a server that was gone until it was killed (15 s).
        stop_all([s for s in reversed(self.services) if s is not self.server])
        stop_all([self.server])

    def diagnose(self) -> str:
        return "\n".join(f"--- {s.name} ({s.log}):\n{s.tail(40)}" for s in self.services)


def wait_for(check, timeout: float, what: str):
    return wait_until(check, timeout, what, every=1.0)


def stamp(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


OUTPUT_DIR = Path(__file__).resolve().parents[1] / "test-output"


def chromium_launch(scratch: Path) -> dict:
    """Playwright launch options for Debian's Chromium: headless, offline, writing only under `scratch`."""
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(exe):
        raise RuntimeError("Debian's chromium is not installed: `make test-setup` installs it")
    env = dict(os.environ)
    for key in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        (scratch / key.lower()).mkdir(parents=True, exist_ok=True)
        env[key] = str(scratch / key.lower())
    # Chromium makes a Unix socket under TMPDIR, and a socket's path holds at most 107 bytes: a test's own
    # tmp_path (deeper under pytest-xdist's popen-gwN folders) can be too long, so a short folder of its own.
    short = tempfile.mkdtemp(prefix="chromium-")
    atexit.register(shutil.rmtree, short, ignore_errors=True)
    env["TMPDIR"] = short
    env["GSETTINGS_BACKEND"] = "memory"
    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    return {"executable_path": exe, "env": env, "args": args, "headless": True}
