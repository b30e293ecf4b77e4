"""Start and stop the real Prefect processes: a server, and workers for the pools.

`lepton-flow up` uses these to run the whole thing on one machine, and the
integration tests use them the same way. Each process runs in its own
session, logs to a file, and is stopped by its own PID (SIGTERM, a wait, then
SIGKILL), so nothing is left behind when a test or Ctrl-C ends it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

# No calls home from processes that may run offline (Prefect, its server, GX).
QUIET = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false"}


class ServiceError(RuntimeError):
    """A service did not start; the message names its log file."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prefect_bin() -> str:
    """The `prefect` command of this environment (beside this Python), else the one on PATH."""
    here = Path(sys.executable).with_name("prefect")
    return str(here) if here.exists() else (shutil.which("prefect") or "prefect")


class Service:
    """One background process, its log file and how to stop it."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path, cwd: str | None = None):
        self.name, self.argv, self.log = name, argv, Path(log)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.log, "ab")
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=self._fh, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the process group, wait, then SIGKILL what is left."""
        if self.running:
            for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        # Children the process left in its group (a worker's flow runs).
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._fh.close()


def stop_all(services: list[Service], timeout: float = 15.0) -> None:
    """Stop services together: SIGTERM every one, then wait for each in the order given, then SIGKILL what is left.

    One after another, each that is slow to stop (a Prefect worker finishing
    its heartbeat) added its whole wait; together, the slowest sets the time.
    """
    for svc in services:
        if svc.running:
            try:
                os.killpg(svc.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout
    for svc in services:
        svc.stop(max(0.1, deadline - time.monotonic()))


def wait_until(check, timeout: float, what: str, service: Service | None = None, every: float = 0.5):
    """Poll `check()` until it returns something truthy; raise ServiceError naming the log if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service is not None and not service.running:
            raise ServiceError(f"{service.name} exited ({service.proc.returncode}) before {what}; its log {service.log}:\n{service.tail()}")
        try:
            out = check()
        except Exception:
            out = None
        if out:
            return out
        time.sleep(every)
    where = f"; its log {service.log}:\n{service.tail()}" if service else ""
    raise ServiceError(f"timed out after {timeout:.0f} s waiting for {what}{where}")


def server_env(home: str | os.PathLike, base: dict[str, str] | None = None, database_url: str | None = None, scheduler: bool = True) -> dict[str, str]:
    """The environment of a Prefect server with its own PREFECT_HOME (and database, if given)."""
    env = dict(base if base is not None else os.environ)
    env.update(QUIET)
    env["PREFECT_HOME"] = str(home)
    env.pop("PREFECT_API_URL", None)
    if database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    if not scheduler:
        env["PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED"] = "false"
    return env


DATABASE_URL_SETTINGS = ("PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL")


def database_template() -> Path:
    """Where set-up keeps an empty Prefect SQLite database, migrated by this environment's Prefect version."""
    from importlib.metadata import version

    return Path(sys.prefix) / "share" / "lepton-flow" / f"prefect-{version('prefect')}.db"


def make_database_template() -> Path:
    """Migrate an empty database once, at set-up (`make run` and `make test` do): a new data root's first server then
    starts from a copy instead of migrating (about 8 s of a first run here)."""
    import tempfile

    target = database_template()
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory() as home:
        env = server_env(home)
        for key in DATABASE_URL_SETTINGS:
            env.pop(key, None)
        done = subprocess.run([prefect_bin(), "--no-prompt", "server", "database", "upgrade", "-y"], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise ServiceError(f"prefect server database upgrade failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(home) / "prefect.db", f"{target}.part")
        os.replace(f"{target}.part", target)
    return target


def seed_database(home: str | os.PathLike, env: dict[str, str] | os._Environ) -> bool:
    """Give a PREFECT_HOME without a database a copy of set-up's migrated one (SQLite at Prefect's default place only;
    a server on a newer Prefect migrates the copy the rest of the way). True when it copied."""
    if any(env.get(key) for key in DATABASE_URL_SETTINGS):
        return False
    db = Path(home) / "prefect.db"
    try:
        template = database_template()
    except Exception:  # noqa: BLE001 (no Prefect metadata: nothing to copy)
        return False
    if db.exists() or not template.is_file():
        return False
    db.parent.mkdir(parents=True, exist_ok=True)
    part = db.with_name(f"prefect.db.{os.getpid()}.part")
    shutil.copyfile(template, part)
    try:
        os.link(part, db)  # never over a database another process made meanwhile
    except FileExistsError:
        pass
    finally:
        part.unlink()
    return True


def start_server(home: str | os.PathLike, port: int | None = None, host: str = "127.0.0.1", env: dict[str, str] | None = None, timeout: float = 180.0, immediate: bool = True) -> tuple[Service, str]:
    """Start `prefect server start` and wait until its API answers; returns the service and the API URL.

    The server runs through `lepton_flow.prefect_server` (SQLite write
    transactions begun IMMEDIATE; `immediate=False` runs Prefect's own, for
    comparison). A fresh SQLite database migrates on first start (about 8 s here) unless set-up left a migrated copy
    (`seed_database`).
    """
    import httpx

    port = port or free_port()
    env = dict(env or server_env(home))
    seed_database(home, env)
    api = f"http://{host}:{port}/api"
    # The UI calls the API from the browser at this address (Prefect's default is port 4200).
    env.setdefault("PREFECT_UI_API_URL", api)
    log = Path(home) / "server.log"
    command = [sys.executable, "-m", "lepton_flow.prefect_server"] if immediate else [prefect_bin()]
    svc = Service("prefect server", [*command, "server", "start", "--host", host, "--port", str(port)], env, log)
    try:
        wait_until(lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, timeout, f"the Prefect API at {api}", svc)
    except BaseException:
        svc.stop()
        raise
    return svc, api


def client_env(api_url: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a process that talks to the server at `api_url`."""
    env = dict(base if base is not None else os.environ)
    env.update(QUIET)
    env["PREFECT_API_URL"] = api_url
    env.pop("LEPTON_EMBEDDED_API", None)
    # A server this process starts with authentication (`up` with
    # PREFECT_SERVER_API_AUTH_STRING set): its own clients carry the same credentials.
    if env.get("PREFECT_SERVER_API_AUTH_STRING") and not env.get("PREFECT_API_AUTH_STRING"):
        env["PREFECT_API_AUTH_STRING"] = env["PREFECT_SERVER_API_AUTH_STRING"]
    return env


RETRIED = (429, 502, 503)
"""Answers that mean "busy, ask again" (a SQLite-backed server answers 503 while its database is locked), as Prefect's own client retries them."""


def api_request(method: str, api_url: str, path: str, json: dict | None = None, tries: int = 6):
    """A call to the server's REST API, with PREFECT_API_AUTH_STRING's basic auth when the server wants it; a busy server is asked again."""
    import time

    import httpx
    from prefect.settings import PREFECT_API_AUTH_STRING

    auth = PREFECT_API_AUTH_STRING.value()
    if auth is not None and hasattr(auth, "get_secret_value"):
        auth = auth.get_secret_value()
    user, _, password = auth.partition(":") if auth else ("", "", "")
    for attempt in range(tries):
        r = httpx.request(method, api_url.rstrip("/") + path, json=json, timeout=10, auth=(user, password) if auth else None)
        if r.status_code not in RETRIED or attempt == tries - 1:
            break
        try:
            wait = float(r.headers.get("Retry-After", ""))
        except ValueError:
            wait = 0.5 * 2**attempt
        time.sleep(min(wait, 8.0))
    if r.status_code == 401:
        raise ServiceError(f"the Prefect server at {api_url} refused the request (401): set PREFECT_API_AUTH_STRING to its user:password")
    return r


def api_get(api_url: str, path: str):
    """The JSON of a GET on the server's REST API; None for 404."""
    r = api_request("GET", api_url, path)
    return None if r.status_code == 404 else r.raise_for_status().json()


def pool_status(pool: str, api_url: str) -> str | None:
    """The work pool's status (READY once a worker polls it), None if it does not exist."""
    body = api_get(api_url, f"/work_pools/{pool}")
    return body and body.get("status")


def start_worker(pool: str, api_url: str, log: Path, env: dict[str, str] | None = None, timeout: float = 120.0, cwd: str | None = None) -> Service:
    """Start `prefect worker start --pool POOL` (in `cwd`) and wait until the pool reports READY."""

    env = client_env(api_url, env)
    svc = Service(f"worker for {pool}", [prefect_bin(), "worker", "start", "--pool", pool], env, log, cwd=cwd)
    try:
        wait_until(lambda: pool_status(pool, api_url) == "READY", timeout, f"work pool {pool} to be READY", svc, every=1.0)
    except BaseException:
        svc.stop()
        raise
    return svc
