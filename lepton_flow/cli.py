"""The `lepton-flow` command.

Start-up stays fast: only argparse is imported here; each command imports
what it needs (Prefect, Dask, GX) when it runs. TensorFlow is imported only
by the commands that train, score or inspect devices.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _quiet_defaults() -> None:
    from lepton_flow.services import QUIET

    # No calls home from a pipeline that may run offline.
    for key, value in QUIET.items():
        os.environ.setdefault(key, value)
    # A fresh Prefect database migrates on first start: about 25 s on 2 cores,
    # past Prefect's default wait for its local API.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    # Dask's scheduler and workers log every start, connection and close at
    # INFO (about 40 lines a run, and a CommClosedError traceback when the
    # cluster closes); warnings and errors still show. DASK_LOGGING__DISTRIBUTED=info brings them back.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    # The embedded API keeps its database under the data root, not in the
    # user's ~/.prefect: another Prefect install there (a newer version that
    # migrated that database) must not stop this one from starting.
    if not os.environ.get("PREFECT_API_URL") and not os.environ.get("PREFECT_HOME"):
        from lepton_flow.settings import get_settings, is_local, join

        root = get_settings().data_root
        if is_local(root):
            # Created here: Prefect does not make a missing PREFECT_HOME, and its local
            # API then cannot open its database and the run waits out the start-up timeout.
            os.makedirs(join(root, "prefect"), exist_ok=True)
            os.environ["PREFECT_HOME"] = join(root, "prefect")


def cmd_demo_data(args: argparse.Namespace) -> int:
    from lepton_flow.demo import DemoSpec, write_demo
    from lepton_flow.settings import get_settings

    out = get_settings().demo_dir
    if args.if_missing and os.path.isdir(out) and os.listdir(out):
        print(f"demo data already in {out}")
        return 0
    spec = DemoSpec(sensors=args.sensors, metrics=args.metrics, days=args.days, grid_seconds=args.grid_seconds, seed=args.seed)
    try:
        ledger = write_demo(out, spec)
    except (RuntimeError, ValueError) as exc:  # a demo too small for its faults
        print(f"lepton-flow demo-data: {exc}", file=sys.stderr)
        return 2
    files = sorted(os.listdir(out))
    print(f"wrote {len(files)} files, {ledger['readings_written']} readings, {len(ledger['faults'])} injected faults to {out}")
    return 0


def _params(args: argparse.Namespace) -> dict:
    """`--param KEY=VALUE` pairs; values are JSON where they parse as JSON, else text."""
    out = {}
    for item in args.param or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--param {item!r}: write KEY=VALUE")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def _source(args: argparse.Namespace) -> str:
    """`--source`, with an HTTP URL's password moved out of it into the HTTP client's settings: the run never sees it."""
    from lepton_flow.sources import take_credentials

    return take_credentials(args.source) if args.source else ""


def _ingest_params(args: argparse.Namespace, extra: dict):
    from flows.sensor_ingest import SensorIngestParams

    fields: dict = {"source": _source(args)}
    for key, value in extra.items():  # hampel.sigmas=6: a setting in a cleaning step's section
        section, dot, name = key.partition(".")
        if dot:
            fields.setdefault(section, {})[name] = value
        else:
            fields[key] = value
    if args.steps:
        fields["steps"] = [s.strip() for s in args.steps.split(",") if s.strip()]
    if args.grid_seconds:
        fields["grid_seconds"] = args.grid_seconds
    return SensorIngestParams(**fields)


def _shown_ingest(result) -> str | None:
    from lepton_flow.reporting import summary_text

    return summary_text(result) if hasattr(result, "files") else None


def _shown_logs(result) -> str | None:
    from lepton_flow.reporting import log_summary_text

    return log_summary_text(result) if hasattr(result, "files") else None


def _shown_pipeline(result) -> str | None:
    return result.text if getattr(result, "texts", None) else None


def _shown_result(result) -> str | None:
    return None if isinstance(result, BaseException) else str(result)


# `lepton-flow run FLOW`: the flow ("module:function"), how its result is
# printed, and whether its tasks run on Dask (a local cluster is started for
# the run and shared by its flows, unless LEPTON_DASK_ADDRESS names one).
FLOW_RUNS: dict[str, tuple[str, object, bool]] = {
    "sensor-ingest": ("flows.sensor_ingest:sensor_ingest", _shown_ingest, True),
    "pipeline": ("flows.pipeline:pipeline", _shown_pipeline, True),
    "train-sensor-model": ("flows.train_sensor_model:train_sensor_model", _shown_result, False),
    "score-sensors": ("flows.score_sensors:score_sensors", _shown_result, False),
    "log-ingest": ("flows.log_ingest:log_ingest", _shown_logs, True),
    "image-classifier": ("flows.image_classifier:image_classifier", _shown_result, False),
    "classify-images": ("flows.classify_images:classify_images", _shown_result, False),
}


def _run_flow(name: str, params, err) -> int:
    """Run one flow, print what it returned, and its failure (to `err`); returns the exit code."""
    import importlib

    from lepton_flow.parallel import on_shared_cluster

    target, shown, _ = FLOW_RUNS[name]
    module, _, function = target.partition(":")
    flow = getattr(importlib.import_module(module), function)
    state = on_shared_cluster(flow)(params, return_state=True)
    result = state.result(raise_on_failure=False)
    if (text := shown(result)) is not None:
        print(text)
    if state.is_completed():
        return 0
    print(f"lepton-flow: {flow.name} {state.name.lower()}: {state.message or result}", file=err)
    return 1


def cmd_run(args: argparse.Namespace) -> int:
    _quiet_defaults()
    if args.verbose:
        return _run(args, None)
    from lepton_flow.console import Quiet, run_log_path
    from lepton_flow.settings import get_settings

    log = run_log_path(get_settings())
    where = _where_runs_are()  # before the run: the local API it starts sets PREFECT_API_URL while it runs
    with Quiet(log) as quiet:
        try:
            code = _run(args, quiet)
        except BaseException as exc:
            import traceback

            traceback.print_exc()  # into the log
            if isinstance(exc, KeyboardInterrupt):
                print("lepton-flow: interrupted", file=quiet.term)
                code = 130
            else:
                print(f"lepton-flow: {type(exc).__name__}: {exc} (the traceback is in {log})", file=quiet.term)
                code = 1
    if code != 2:  # not for parameters refused before any run
        print(f"the whole log: {log}")
        print(where)
    return code


def _where_runs_are() -> str:
    api = os.environ.get("PREFECT_API_URL", "").rstrip("/")
    if api:
        return f"the runs: {api.removesuffix('/api')}/runs"
    return "the runs: `make ui` (or `lepton-flow up`) serves them at http://127.0.0.1:4200/runs"


def _run(args: argparse.Namespace, quiet) -> int:
    """Run the flow; `quiet` (a `console.Quiet`, or None with --verbose) holds the terminal while descriptor 2 goes to the run's log."""
    from lepton_flow.parallel import LocalAPI
    from lepton_flow.settings import get_settings

    # Prefect's local API starts first: the flows' imports and the
    # parameter checks below run while it comes up.
    if quiet and not os.environ.get("PREFECT_API_URL"):
        quiet.say("starting Prefect's local API ...")
    api = LocalAPI.begin()
    if quiet:
        quiet.attach()
    try:
        return _run_flows(args, api, quiet.term if quiet else sys.stderr)
    finally:
        api.stop()
        if api.process is not None:
            _NOTHING_LEFT_TO_SEND.append(True)


def _described(exc: ValueError) -> str:
    """A parameter error as `field: value: what is wrong` (several joined by `; `), each value shown with any secret in it redacted."""
    from lepton_flow.settings import redact

    errors = getattr(exc, "errors", None)
    if errors is None:
        return str(exc)
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'parameters'}: {redact(repr(e['input']))}: {e['msg']}" if "input" in e else e["msg"] for e in errors()
    )


def flow_params(args: argparse.Namespace) -> dict:
    """Each flow's parameter model for `lepton-flow run`, checked (raises `ValueError` naming the field)."""
    extra = _params(args)
    if args.flow == "sensor-ingest":
        params = {"ingest": _ingest_params(args, extra)}
    elif args.flow == "pipeline":
        from flows.pipeline import PipelineParams

        # --param train.epochs=3, --param score.flag_rate=0.01: a step's parameter, named with its step.
        steps: dict[str, dict] = {"ingest": {}, "train": {}, "score": {}}
        for key, value in extra.items():
            step, _, name = key.partition(".")
            if step not in steps or not name:
                raise ValueError(f"pipeline parameter {key!r}: name it with its step, e.g. train.epochs=3 (steps: ingest, train, score)")
            steps[step][name] = value
        params = {"pipeline": PipelineParams(ingest=_ingest_params(args, steps["ingest"]), train=steps["train"], score=steps["score"])}
    else:
        params = {}
    if args.flow == "train-sensor-model":
        from lepton_flow.training import TrainParams

        params["train"] = TrainParams(**extra)
    if args.flow == "score-sensors":
        from lepton_flow.scoring import ScoreParams

        params["score"] = ScoreParams(**extra)
    if args.flow == "log-ingest":
        from lepton_flow.logs.ingest import LogIngestParams

        params["logs"] = LogIngestParams(**{"source": _source(args), **extra})
    if args.flow == "image-classifier":
        from lepton_flow.images import CLASS_FOLDERS, ImageParams

        params["images"] = ImageParams(**extra)
        _refuse_source(params["images"].source, CLASS_FOLDERS)
    if args.flow == "classify-images":
        from lepton_flow.images import IMAGES, ClassifyParams

        params["classify"] = ClassifyParams(**extra)
        _refuse_source(params["classify"].source, IMAGES)
    return params


def _refuse_source(source: str, give: str) -> None:
    """An image flow's empty source refused before any run starts, in the words the flow itself would use (where it is, the flow looks)."""
    from lepton_flow.sources import source_problem

    if not source.strip():
        raise ValueError(f"{source_problem(source, give)}; --param source=DIR")


def _tasks_here(flow: str, params: dict) -> str | None:
    """Why the run's tasks run in threads here (its input on this machine, under the size from which a local cluster
    starts: `Settings.cluster_from_mb`), as the command says it; None: a local Dask cluster runs them."""
    from lepton_flow.parallel import small_input
    from lepton_flow.settings import get_settings

    settings = get_settings()
    if flow == "log-ingest":
        source = params["logs"].source or settings.log_dir
    else:
        ingest = params["pipeline"].ingest if flow == "pipeline" else params["ingest"]
        source = ingest.source or settings.demo_dir
    return small_input(source)


def _run_flows(args: argparse.Namespace, api, err) -> int:
    try:
        params = flow_params(args)
    except ValueError as exc:
        print(f"lepton-flow: invalid parameters: {_described(exc)}", file=err)
        return 2
    from lepton_flow.parallel import SchedulerUnreachable, check_scheduler, local_api
    from lepton_flow.settings import get_settings

    on_dask = FLOW_RUNS[args.flow][2]
    address = get_settings().dask_address
    if address and on_dask:
        try:
            check_scheduler(address)
        except SchedulerUnreachable as exc:
            print(f"lepton-flow: {exc}", file=err)
            return 1
    if on_dask and api.process is not None and not address:
        from lepton_flow.console import progress_line

        said = _tasks_here(args.flow, params)
        if said is not None:
            api.tasks_here()
        else:
            api.start_cluster()
            said = f"a local Dask cluster of {get_settings().dask_workers} worker process(es) runs the tasks"
        print(progress_line(said), file=err, flush=True)
    with local_api(begun=api):
        return _run_flow(args.flow, next(iter(params.values())), err)


def cmd_doctor(args: argparse.Namespace) -> int:
    """What this machine would run on; exit 1 when something the settings ask for is missing."""
    _quiet_defaults()
    from lepton_flow import store
    from lepton_flow.settings import get_settings

    settings = get_settings()
    problems: list[str] = []

    def line(label: str, value: object) -> None:
        print(f"{label + ':':<14}{value}")

    try:
        from lepton_flow.gpu import configure

        info = configure()
        line("tensorflow", f"{info.tensorflow} (keras {info.keras}, CUDA {info.cuda or '-'}, cuDNN {info.cudnn or '-'})")
        line("devices", info.label)
        if args.require_gpu and info.kind != "gpu":
            problems.append("no GPU visible, and --require-gpu was given")
    except ImportError as exc:
        line("tensorflow", f"missing ({exc}): install lepton-flow[ml]")
        problems.append("TensorFlow is not installed")
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    if api:
        import httpx

        try:
            ok = httpx.get(api.rstrip("/") + "/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            ok = False
        line("prefect api", f"{api} ({'reachable' if ok else 'NOT reachable'})")
        if not ok:
            problems.append(f"the Prefect API at {api} does not answer")
    else:
        line("prefect api", "none set: each run starts Prefect's local API (SQLite under PREFECT_HOME)")
    if settings.dask_address:
        from lepton_flow.parallel import SchedulerUnreachable, check_scheduler

        try:
            line("dask", f"{settings.dask_address} ({check_scheduler(settings.dask_address, timeout=5)} workers)")
        except SchedulerUnreachable:
            line("dask", f"{settings.dask_address} NOT reachable")
            problems.append(f"the Dask scheduler at {settings.dask_address} does not answer")
    else:
        limit = settings.cluster_from_mb
        if limit is None:
            line("dask", f"a run's tasks in {settings.dask_workers} thread(s) of the command, its input on this machine (a local cluster for an input elsewhere)")
        else:
            small = f"; an input under {limit} MiB: threads of the command" if limit else ""
            line("dask", f"a local cluster of {settings.dask_workers} worker process(es) per run{small}")
    url = settings.store
    if store.exists(url):
        st = store.state(url)
        line("store", f"{url} (snapshot {st.snapshot_id}, {len(st.sensors)} sensors, {st.length} steps)")
    else:
        line("store", f"{url} (empty: run `lepton-flow run sensor-ingest`)")
    line("models", settings.models)
    for p in problems:
        print(f"problem:      {p}", file=sys.stderr)
    return 1 if problems else 0


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
        "files_ingested": store.ledger.count(url, current.snapshot_id, "sensors"),
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
    logs = store.logs_state(url, current.snapshot_id)
    if logs.exists:
        info["logs"] = _logs_status(url, logs)
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
    if "logs" in info:
        lg = info["logs"]
        print(f"logs:       {lg['files']} files, {lg['events']} events, {lg['templates']} templates")
        if lg["time_range"]:
            print(f"            {lg['time_range'][0]} .. {lg['time_range'][1]} every {lg['window_seconds']} s")
        for t in lg["top_templates"]:
            print(f"            {t['events']:>10}  T{t['id']}  {t['template'][:100]}")
    print("snapshots (newest first):")
    for c in info["snapshots"]:
        print(f"  {c['id']}  {c['at']}  {c['message']}")
    return 0


def _logs_status(url: str, logs) -> dict:
    """The logs group at a glance: files, events, the windows that hold any, the most frequent templates."""
    import numpy as np
    import pandas as pd

    from lepton_flow import store

    per_template, held, _ = store.log_totals(url, logs.snapshot_id)
    step = logs.window_seconds * 1_000_000_000
    top = np.argsort(-per_template, kind="stable")[:5]
    return {
        "files": store.ledger.count(url, logs.snapshot_id, "logs"),
        "events": int(per_template.sum()),
        "templates": len(logs.templates),
        "window_seconds": logs.window_seconds,
        "time_range": [pd.Timestamp((logs.start_bin + int(i)) * step, tz="UTC").isoformat() for i in (held[0], held[-1])] if held.size else None,
        "top_templates": [{"id": int(i), "template": logs.templates[i], "events": int(per_template[i])} for i in top if per_template[i] > 0],
    }


def cmd_evaluate(args: argparse.Namespace) -> int:
    from lepton_flow import store
    from lepton_flow.evaluation import describe, evaluate

    try:
        results = evaluate(args.labels, args.model, args.top)
    except (store.StoreError, ValueError) as exc:
        print(f"lepton-flow evaluate: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([r.model_dump() for r in results], indent=1))
    else:
        print(describe(results))
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    from lepton_flow import store
    from lepton_flow.retention import GcParams, describe, run_gc
    from lepton_flow.settings import get_settings

    try:
        keep = {} if args.keep_days is None else {"keep_days": args.keep_days}
        report = run_gc(GcParams(**keep, dry_run=args.dry_run, grace_hours=args.grace_hours))
    except (store.StoreError, ValueError) as exc:
        print(f"lepton-flow gc: {exc}", file=sys.stderr)
        return 1
    print(describe(report, get_settings().store))
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lepton_flow.scaffold import new

    try:
        _, steps = new(args.name, args.kind, Path(args.root) if args.root else None)
    except (ValueError, FileExistsError) as exc:
        print(f"lepton-flow new: {exc}", file=sys.stderr)
        return 2
    print(steps)
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    """Work pools, the `gpu` limit and the deployments, against PREFECT_API_URL; safe to run again."""
    _quiet_defaults()
    from lepton_flow.deploy import deploy
    from lepton_flow.services import ServiceError

    try:
        out = deploy(gpu_slots=args.gpu_slots, checkout=args.checkout, pool_type=args.pool_type)
    except ServiceError as exc:  # DeployError, or the server refusing the request
        print(f"lepton-flow deploy: {exc}", file=sys.stderr)
        return 1
    print(f"prefect api:  {out['api']}")
    print("work pools:   " + ", ".join(f"{p} ({how})" for p, how in out["pools"].items()))
    print(f"gpu limit:    {out['gpu_slots']} slot(s)")
    print(f"code from:    {out['checkout']}")
    print("deployments:  " + "\n              ".join(out["deployments"]))
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    _quiet_defaults()
    from lepton_flow.deploy import up

    return up(port=args.port, host=args.host, gpu_slots=args.gpu_slots, files_port=args.files_port, paused=args.paused)


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
    run.add_argument(
        "flow",
        choices=["sensor-ingest", "train-sensor-model", "score-sensors", "pipeline", "log-ingest", "image-classifier", "classify-images"],
        help="pipeline: ingest, train when there is new data (or no model yet), then score",
    )
    run.add_argument("--source", help="directory, glob or file (path or fsspec URL); default: the demo data")
    run.add_argument("--steps", help="comma-separated cleaning steps, e.g. dedupe,sort,resample,hampel,interpolate")
    run.add_argument("--grid-seconds", type=int, help="time grid spacing in seconds (default: the store's; for a new store, the readings' own spacing rounded to 30 s, 1, 5, 15, 30 min, 1 h, ..., at least 30 s; asking a store for another fails)")
    run.add_argument("--param", action="append", metavar="KEY=VALUE", help="a flow parameter (repeatable), e.g. --param epochs=5")
    run.add_argument("--verbose", action="store_true", help="every log line on the terminal (default: progress and the summary; the rest goes to a log file under the data root)")
    run.set_defaults(func=cmd_run)

    new = sub.add_parser("new", help="write a working cleaning step, sensor format, log format, model kind or task, with its test")
    new.add_argument("name", help="its name, e.g. fahrenheit_to_celsius")
    new.add_argument("--kind", required=True, choices=["clean-step", "sensor-format", "log-format", "model", "task"])
    new.add_argument("--root", help="the checkout to write into (default: the one the working directory is in)")
    new.set_defaults(func=cmd_new)

    doctor = sub.add_parser("doctor", help="TensorFlow, CUDA and devices, the Prefect API, the Dask scheduler, the store")
    doctor.add_argument("--require-gpu", action="store_true", help="exit 1 when no GPU is visible")
    doctor.set_defaults(func=cmd_doctor)

    dep = sub.add_parser("deploy", help="create the work pools, the gpu limit and every deployment on the server at PREFECT_API_URL")
    dep.add_argument("--gpu-slots", type=int, help="GPUs per worker host (default: LEPTON_GPUS_PER_HOST, else nvidia-smi's count, at least 1)")
    dep.add_argument("--checkout", help="where workers find this code (default: this checkout)")
    dep.add_argument("--pool-type", default="process", choices=["process", "kubernetes"], help="type of pools to create when missing")
    dep.set_defaults(func=cmd_deploy)

    upp = sub.add_parser("up", help="run a Prefect server, the deployments and a worker per pool on this machine; print the UI address")
    upp.add_argument("--port", type=int, default=4200)
    upp.add_argument("--host", default="127.0.0.1")
    upp.add_argument("--gpu-slots", type=int)
    upp.add_argument("--files-port", type=int, default=None, help="serve the data root's reports, quarantine, model cards and Data Docs read-only on this port (default 4201; 0: not served)")
    upp.add_argument("--paused", action="store_true", help="start with every deployment's schedule paused (runs started by hand still run)")
    upp.set_defaults(func=cmd_up)

    status = sub.add_parser("status", help="what the store holds: snapshots, time range, sensors, metrics")
    status.add_argument("--json", action="store_true")
    status.add_argument("--limit", type=int, default=10, help="snapshots to list")
    status.set_defaults(func=cmd_status)

    gc = sub.add_parser("gc", help="expire old store snapshots (keeping the latest and those models and scores name) and free what nothing references")
    gc.add_argument("--keep-days", type=float, default=None, help="expire snapshots older than this many days (default 1; models' and scores' snapshots are always kept)")
    gc.add_argument("--dry-run", action="store_true", help="only say what would be expired")
    gc.add_argument("--grace-hours", type=float, default=6.0, help="never delete objects younger than this (a run still writing is safe; default 6)")
    gc.set_defaults(func=cmd_gc)

    ev = sub.add_parser("evaluate", help="how well each scored model finds labelled incidents: top-k hits, event precision and recall, per-point AUC")
    ev.add_argument("--labels", required=True, help="CSV with a header sensor,start,end: one incident window per line (ISO 8601 times); or NAB's combined_windows.json")
    ev.add_argument("--model", action="append", help="a model to evaluate (repeatable; default: every model that has scored the store)")
    ev.add_argument("--top", type=int, help="events counted as the top k (default: the number of incidents)")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


_NOTHING_LEFT_TO_SEND: list[bool] = []  # a `run` whose own local API has stopped: its logs were sent before


def run() -> None:
    """The console script. `status` only reads, and ends without the interpreter's teardown: once (1 in ~400 CI
    commands), after printing everything, it died in that teardown with a segmentation fault (native threads of the
    store's libraries still running). A `run` on its own local API ends the same way once that API has stopped (its
    logs sent, its cluster closed): the teardown of what the run imported took 0.9 s of a 6 s command."""
    code = main()
    if (len(sys.argv) > 1 and sys.argv[1] == "status") or _NOTHING_LEFT_TO_SEND:
        import logging

        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
