"""The `lepton-flow` command.

Start-up stays fast: only argparse is imported here; each command imports
what it needs (Prefect, Dask, GX) when it runs, and nothing imports
TensorFlow on these paths.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _quiet_defaults() -> None:
    # No calls home from a pipeline that may run offline.
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # A fresh Prefect database migrates on first start: about 25 s on 2 cores,
    # past Prefect's default wait for its local API.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


def cmd_demo_data(args: argparse.Namespace) -> int:
    from lepton_flow.demo import DemoSpec, write_demo
    from lepton_flow.settings import get_settings

    out = get_settings().demo_dir
    if args.if_missing and os.path.isdir(out) and os.listdir(out):
        print(f"demo data already in {out}")
        return 0
    spec = DemoSpec(sensors=args.sensors, metrics=args.metrics, days=args.days, grid_seconds=args.grid_seconds, seed=args.seed)
    ledger = write_demo(out, spec)
    files = sorted(os.listdir(out))
    print(f"wrote {len(files)} files, {ledger['readings_written']} readings, {len(ledger['faults'])} injected faults to {out}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    _quiet_defaults()
    from lepton_flow.reporting import summary_text

    if args.flow == "sensor-ingest":
        from flows.sensor_ingest import SensorIngestParams, sensor_ingest

        fields = {"source": args.source or ""}
        if args.steps:
            fields["steps"] = [s.strip() for s in args.steps.split(",") if s.strip()]
        if args.grid_seconds:
            fields["grid_seconds"] = args.grid_seconds
        try:
            params = SensorIngestParams(**fields)
        except ValueError as exc:
            print(f"lepton-flow: invalid parameters: {exc}", file=sys.stderr)
            return 2
        from lepton_flow.parallel import local_api

        with local_api():
            state = sensor_ingest(params, return_state=True)
        result = state.result(raise_on_failure=False)
        if hasattr(result, "files"):
            print(summary_text(result))
        if not state.is_completed():
            print(f"lepton-flow: run {state.name.lower()}: {state.message or result}", file=sys.stderr)
            return 1
        return 0
    raise AssertionError(args.flow)


def cmd_status(args: argparse.Namespace) -> int:
    from lepton_flow import store
    from lepton_flow.settings import get_settings

    url = get_settings().store
    if not store.exists(url):
        print(f"no store at {url} yet: run `lepton-flow run sensor-ingest`")
        return 0
    current = store.state(url)
    commits = store.history(url, limit=args.limit)
    info = {
        "store": url,
        "snapshot": current.snapshot_id,
        "files_ingested": len(current.ingested),
        "sensors": current.sensors,
        "metrics": {m: current.units.get(m) for m in current.metrics},
        "grid_seconds": current.grid_seconds,
        "time_range": None,
        "snapshots": [{"id": c["id"], "at": c["written_at"].isoformat(timespec="seconds"), "message": c["message"]} for c in commits],
    }
    if current.exists and current.length:
        import pandas as pd

        step = current.grid_seconds * 1_000_000_000
        info["time_range"] = [
            pd.Timestamp(current.start_bin * step, tz="UTC").isoformat(),
            pd.Timestamp(current.end_bin * step, tz="UTC").isoformat(),
        ]
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    print(f"store:      {url}")
    print(f"snapshot:   {info['snapshot']}")
    print(f"files:      {info['files_ingested']} ingested")
    if current.exists:
        print(f"time:       {info['time_range'][0]} .. {info['time_range'][1]} every {current.grid_seconds} s ({current.length} steps)")
        print(f"sensors:    {len(current.sensors)} ({', '.join(current.sensors[:8])}{' ...' if len(current.sensors) > 8 else ''})")
        print("metrics:    " + ", ".join(f"{m} [{u or '-'}]" for m, u in info["metrics"].items()))
    print("snapshots (newest first):")
    for c in info["snapshots"]:
        print(f"  {c['id']}  {c['at']}  {c['message']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lepton-flow",
        description="Sensor readings and logs to versioned Zarr stores, on Prefect and Dask. "
        "Settings come from LEPTON_* variables (LEPTON_DATA_ROOT, LEPTON_STORE_URL, LEPTON_DASK_ADDRESS, ...).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo-data", help="write demo sensor files (with injected faults) under the data root")
    demo.add_argument("--if-missing", action="store_true", help="do nothing if demo data exists")
    demo.add_argument("--sensors", type=int, default=20)
    demo.add_argument("--metrics", type=int, default=3, choices=[1, 2, 3])
    demo.add_argument("--days", type=float, default=2.0)
    demo.add_argument("--grid-seconds", type=int, default=30)
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=cmd_demo_data)

    run = sub.add_parser("run", help="run a flow on the embedded default (or the configured Prefect API)")
    run.add_argument("flow", choices=["sensor-ingest"])
    run.add_argument("--source", help="directory, glob or file (path or fsspec URL); default: the demo data")
    run.add_argument("--steps", help="comma-separated cleaning steps, e.g. dedupe,sort,resample,hampel,interpolate")
    run.add_argument("--grid-seconds", type=int, help="time grid spacing in seconds (default 30; a store keeps its own)")
    run.set_defaults(func=cmd_run)

    status = sub.add_parser("status", help="what the store holds: snapshots, time range, sensors, metrics")
    status.add_argument("--json", action="store_true")
    status.add_argument("--limit", type=int, default=10, help="snapshots to list")
    status.set_defaults(func=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
