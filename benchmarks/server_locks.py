"""'database is locked' errors, and the API's write throughput, of a SQLite Prefect server: Prefect's own against lepton-flow's.

    python benchmarks/server_locks.py [--seconds 90] [--workers 3] [--writers 4]

Each case starts a fresh server on a fresh SQLite database (the same way
`lepton-flow up` does, `services.start_server`), starts process workers whose
heartbeats come every second (a worker's heartbeat reads its pool and then
upserts itself: the read-then-write transaction that fails), and runs writer
threads that create flow runs and move them through their states as fast as
the server answers. Reported per case: the tracebacks with "database is
locked" in the server's log, the flow-run state changes the writers got
through, and the second case's figures as a ratio of the first's. Run it by
hand; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lepton_flow.services import api_request, server_env, start_server, start_worker  # noqa: E402


def writer(api: str, flow_id: str, until: float, done: list[int], failed: list[int]) -> None:
    while time.monotonic() < until:
        try:
            r = api_request("POST", api, "/flow_runs/", {"flow_id": flow_id, "name": f"b-{uuid.uuid4().hex[:8]}", "state": {"type": "SCHEDULED"}}, tries=1)
            run = r.raise_for_status().json()["id"]
            for state in ("PENDING", "RUNNING", "COMPLETED"):
                r = api_request("POST", api, f"/flow_runs/{run}/set_state", {"state": {"type": state}, "force": True}, tries=1)
                r.raise_for_status()
                done[0] += 1
        except Exception:
            failed[0] += 1


def case(immediate: bool, seconds: float, workers: int, writers: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="server-locks-") as home:
        env = server_env(home)
        env["PREFECT_WORKER_HEARTBEAT_SECONDS"] = "1"
        server, api = start_server(home, env=env, immediate=immediate)
        started = []
        try:
            api_request("POST", api, "/work_pools/", {"name": "bench", "type": "process"}).raise_for_status()
            for i in range(workers):
                started.append(start_worker("bench", api, Path(home) / f"worker-{i}.log", env=dict(env)))
            flow_id = api_request("POST", api, "/flows/", {"name": "bench"}).raise_for_status().json()["id"]
            done, failed = [0], [0]
            until = time.monotonic() + seconds
            threads = [threading.Thread(target=writer, args=(api, flow_id, until, done, failed)) for _ in range(writers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            for w in started:
                w.stop()
            server.stop()
        log = (Path(home) / "server.log").read_text(errors="replace")
        return {
            "server": "lepton-flow (IMMEDIATE)" if immediate else "prefect (DEFERRED)",
            "locked_tracebacks": log.count("OperationalError: (sqlite3.OperationalError) database is locked"),
            "error_lines": sum(" | ERROR " in line for line in log.splitlines()),
            "state_changes": done[0],
            "failed_requests": failed[0],
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=90)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--writers", type=int, default=4)
    a = ap.parse_args()
    base = case(False, a.seconds, a.workers, a.writers)
    print(json.dumps(base), flush=True)
    ours = case(True, a.seconds, a.workers, a.writers)
    print(json.dumps(ours), flush=True)
    print(json.dumps({"state_changes_ratio": round(ours["state_changes"] / max(base["state_changes"], 1), 3)}))


if __name__ == "__main__":
    main()
