"""The fixed cost of a command: `lepton-flow run log-ingest` on 20 lines, and `run sensor-ingest` on a small demo.

    python benchmarks/command_cost.py [--repeats 5] [--flow-runs]

Each case is timed as a user meets it (the console script, wall clock from
start to exit, the terminal's output discarded), alternating between:

- `threads`: the default; an input this small runs its tasks in the
  command's own process (LEPTON_LOCAL_CLUSTER_ABOVE_MB);
- `cluster`: LEPTON_LOCAL_CLUSTER_ABOVE_MB=0, the local Dask cluster every
  run started before (the baseline, measured in the same run);
- `python + prefect`: `python -c "import prefect"`, a floor no command that
  talks to Prefect goes under.

`--flow-runs` times, instead of the commands, the process a worker starts for
a deployed flow run: a Prefect server started here, and per run `python -c`
importing the flow and calling it with its source (a deployed run's pull step
and the worker's submission are left out), in the same two modes: what
`parallel.fit_to_input` decides (`threads`) against a local cluster for
every run (`cluster`).

A data root of its own per case; its Prefect database made by the first
(untimed) run, as on a second command of a day, and the store removed
before each timed run, so every run ingests the same files. Also timed
once: the first run on a new data root (the database copied from set-up's
template). Prints the median and the spread of each, and the ratios.
Run it by hand; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOG = REPO / "tests" / "data" / "loghub" / "OpenSSH_2k.log"


def _timed(argv: list[str], env: dict) -> float:
    t = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed: {done.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--flow-runs", action="store_true", help="time deployed flow runs' processes instead of commands")
    args = parser.parse_args()
    cli = str(Path(sys.executable).with_name("lepton-flow"))
    work = Path(tempfile.mkdtemp(prefix="command-cost-"))
    server = None
    try:
        lines = work / "ssh20.log"
        lines.write_text("".join(LOG.read_text().splitlines(keepends=True)[:20]))
        demo = work / "demo"
        subprocess.run([sys.executable, "-c", f"from lepton_flow.demo import DemoSpec, write_demo; write_demo({str(demo)!r}, DemoSpec(sensors=4, metrics=2, days=1.0, seed=3))"], check=True)
        commands = {
            "log-ingest, 20 lines": [cli, "run", "log-ingest", "--source", str(lines)],
            "sensor-ingest, 0.8 MiB demo": [cli, "run", "sensor-ingest", "--source", str(demo)],
        }
        base = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME", "LEPTON_DASK_ADDRESS", "LEPTON_LOCAL_CLUSTER_ABOVE_MB")}
        if args.flow_runs:
            from lepton_flow.services import client_env, server_env, start_server

            server, api = start_server(work / "prefect", env=server_env(work / "prefect", base))
            base = client_env(api, base)
            call = "from flows.{0} import {0} as f; from {1} import {2} as P; s = f(P(source={3!r}), return_state=True); assert s.is_completed(), s.message"
            commands = {
                "log-ingest flow run, 20 lines": [sys.executable, "-c", call.format("log_ingest", "lepton_flow.logs.ingest", "LogIngestParams", str(lines))],
                "sensor-ingest flow run, 0.8 MiB demo": [sys.executable, "-c", call.format("sensor_ingest", "flows.sensor_ingest", "SensorIngestParams", str(demo))],
            }
        modes = {"threads": {}, "cluster": {"LEPTON_LOCAL_CLUSTER_ABOVE_MB": "0"}}
        times: dict[tuple[str, str], list[float]] = {}
        first: dict[str, float] = {}
        for name, argv in commands.items():
            for mode, extra in modes.items():
                root = work / f"{mode}-{len(times)}"
                env = {**base, **extra, "LEPTON_DATA_ROOT": str(root)}
                took = _timed(argv, env)  # makes the data root's Prefect database
                if mode == "threads":
                    first[name] = took
                times[(name, mode)] = [root]  # type: ignore[list-item]
            for _ in range(args.repeats):
                for mode, extra in modes.items():
                    root = times[(name, mode)][0]
                    shutil.rmtree(Path(root) / "store", ignore_errors=True)
                    times[(name, mode)].append(_timed(argv, {**base, **extra, "LEPTON_DATA_ROOT": str(root)}))
        floor = [_timed([sys.executable, "-c", "import prefect"], base) for _ in range(args.repeats)]
        print(f"fixed cost of a {'flow run' if args.flow_runs else 'command'}, {args.repeats} runs each, alternated (median, min-max):")
        for name in commands:
            got = {mode: times[(name, mode)][1:] for mode in modes}
            med = {mode: statistics.median(v) for mode, v in got.items()}
            print(f"  {name}:")
            for mode, v in got.items():
                print(f"    {mode:<8} {med[mode]:6.2f} s  ({min(v):.2f}-{max(v):.2f})")
            print(f"    threads / cluster: {med['threads'] / med['cluster']:.2f}; first run on a new data root: {first[name]:.2f} s")
        print(f"  python + prefect (floor): {statistics.median(floor):.2f} s")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
