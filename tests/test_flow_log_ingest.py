"""`log_ingest` end to end under the Prefect test server on a real Dask cluster: accounting, quarantine, counts, stable template ids."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lepton_flow import store
from lepton_flow.logs.ingest import LogIngestParams
from lepton_flow.settings import get_settings

pytestmark = pytest.mark.slow
LOGHUB = Path(__file__).resolve().parent / "data" / "loghub"


def test_log_ingest_counts_templates_and_accounts_for_every_line(log_flow, data_root):
    hdfs = (LOGHUB / "HDFS_2k.log").read_text().splitlines()
    src = data_root / "logs"
    src.mkdir()
    (src / "hdfs-a.log").write_text("\n".join(hdfs[:1200]) + "\n\n")
    (src / "bad.jsonl").write_text(
        json.dumps({"ts": "2008-11-09T20:40:00Z", "level": "info", "msg": "fine"}) + "\n"
        + json.dumps({"ts": "2099-01-01T00:00:00Z", "level": "info", "msg": "from the future"}) + "\n"
        + json.dumps({"ts": "2008-11-09T20:41:00Z", "level": "info", "msg": "fine again"}) + "\n"
        + "not json\n"
    )
    (src / "noise.bin").write_bytes(bytes(range(256)) * 8)
    (src / "LICENSE").write_text("Apache License\nVersion 2.0, January 2004\n\nTERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION\n")
    state = log_flow(LogIngestParams(source=str(src)), return_state=True)
    assert state.is_completed(), state.message  # files that are not logs do not turn the run red
    summary = state.result()
    files = {Path(f.file.url).name: f for f in summary.files}
    assert set(files) == {"hdfs-a.log", "bad.jsonl", "noise.bin", "LICENSE"}
    assert all(f.balanced for f in files.values())
    assert files["noise.bin"].status == "not a log file" and "binary content" in files["noise.bin"].message
    assert files["LICENSE"].status == "not a log file" and "no known log format parses any of its first 3 lines" in files["LICENSE"].message
    recorded = store.ledger.entries(get_settings().store, kind="logs")
    assert {r["file"].rsplit("/", 1)[-1]: r.get("status") for r in recorded.values()} == {"hdfs-a.log": None, "bad.jsonl": None, "noise.bin": "not a log file", "LICENSE": "not a log file"}
    assert (files["hdfs-a.log"].lines, files["hdfs-a.log"].blank, files["hdfs-a.log"].stored) == (1201, 1, 1200)
    bad = files["bad.jsonl"]
    assert (bad.events, bad.stored, bad.invalid, bad.unparsed) == (3, 2, 1, 1)
    quarantine = pd.concat([pd.read_parquet(p) for p in (data_root / "quarantine" / "log_events").rglob("*.parquet")])
    reasons = dict(zip(quarantine["line"], quarantine["reason"]))
    assert reasons[2] == "timestamp_in_range" and "no registered log format parses it" in reasons[4]

    assert not list((data_root / "staging").glob("logs-*")), "a committed run leaves no staged events behind"

    url = get_settings().store
    ds = store.open_logs(url).load()
    assert int(ds["count"].sum()) == 1202 and int(ds.level_count.sum()) == 1202
    first = store.logs_state(url)
    counts_before = ds["count"].sum("time").to_numpy()

    # A second run with the rest of the sample: known templates keep their ids, later windows extend time; the files that
    # are not logs are not read again.
    (src / "hdfs-b.log").write_text("\n".join(hdfs[1200:]) + "\n")
    again = log_flow(LogIngestParams(source=str(src)), return_state=True)
    assert again.is_completed(), again.message
    second = again.result()
    assert [Path(f.file.url).name for f in second.files] == ["hdfs-b.log"] and len(second.skipped) == 4
    after = store.logs_state(url)
    assert len(after.templates) >= len(first.templates)
    ds = store.open_logs(url).load()
    assert int(ds["count"].sum()) == 2002 and ds.sizes["template"] == len(after.templates)
    # Template ids kept: what the first run counted under an id is still counted there.
    counts_after = ds["count"].sum("time").to_numpy()
    assert (counts_after[: len(counts_before)] >= counts_before).all()

    # Counts per window match the events' own times.
    from lepton_flow.logs.formats import log_formats

    fmt = log_formats()["hdfs"]
    events = [fmt.parse(line, 2008) for line in hdfs]
    per_window = ds["count"].sum("template").to_series()
    truth = pd.Series(1, index=pd.to_datetime([e["timestamp"] for e in events]).floor("60s").tz_localize(None)).groupby(level=0).sum()
    truth = truth.add(pd.Series([1, 1], index=pd.to_datetime(["2008-11-09T20:40", "2008-11-09T20:41"])), fill_value=0)
    np.testing.assert_array_equal(per_window[per_window > 0].to_numpy(), truth.sort_index().to_numpy())


def test_bgl_log_model_ranks_alert_windows_above_normal_ones(log_flow, data_root):
    """The log anomaly model: hourly template counts of the BGL sample through the same training and
    scoring flows as sensors (dataset=logs); the hours holding alert lines (loghub's labels) score
    above the normal hours with events more often than not. Measured ROC AUC: 0.71 (by the hours' own errors: 0.64;
    the wider averages, taken over log1p of the errors, add nothing here: plain averages gave 0.72)."""
    from flows.score_sensors import score_sensors
    from flows.train_sensor_model import train_sensor_model
    from lepton_flow.logs.formats import log_formats
    from lepton_flow.logs.formats.bgl import alert_label
    from lepton_flow.registry import Registry
    from lepton_flow.scoring import ScoreParams
    from lepton_flow.training import TrainParams

    src = data_root / "bgl"
    src.mkdir()
    (src / "BGL_2k.log").write_bytes((LOGHUB / "BGL_2k.log").read_bytes())
    state = log_flow(LogIngestParams(source=str(src), window_seconds=3600), return_state=True)
    assert state.is_completed(), state.message

    params = TrainParams(model_name="log-anomaly", dataset="logs", window=8, stride=1, epochs=20, seed=1)
    trained = train_sensor_model(params, return_state=True)
    assert trained.is_completed(), trained.message
    card = Registry(get_settings().models).card("log-anomaly")
    templates = store.logs_state(get_settings().store).templates
    assert card.dataset == "logs" and card.metrics == ["count"] and card.sensors == [f"T{i}" for i in range(len(templates))]

    scored = score_sensors(ScoreParams(model_name="log-anomaly"), return_state=True)
    assert scored.is_completed(), scored.message
    assert "anomaly:" in scored.result()  # the report names templates by their text
    scores = store.open_scores(get_settings().store, "log-anomaly").load()
    per_hour = pd.Series(np.nanmax(scores["score"].values, axis=1), index=pd.to_datetime(scores["time"].values))

    fmt = log_formats()["bgl"]
    lines = (LOGHUB / "BGL_2k.log").read_text().splitlines()
    events = pd.DataFrame([(fmt.parse(line, 2005)["timestamp"], alert_label(line) != "-") for line in lines], columns=["t", "alert"])
    hours = events.assign(hour=pd.to_datetime(events["t"], utc=True).dt.floor("3600s").dt.tz_localize(None)).groupby("hour")["alert"].any()
    alert, normal = per_hour.reindex(hours.index[hours]).to_numpy(), per_hour.reindex(hours.index[~hours]).to_numpy()
    assert len(alert) > 20 and len(normal) > 200 and np.isfinite(alert).all() and np.isfinite(normal).all()
    auc = float(np.mean(alert[:, None] > normal[None, :]) + 0.5 * np.mean(alert[:, None] == normal[None, :]))
    print(f"BGL hourly windows: {len(alert)} with alerts, {len(normal)} normal; ROC AUC {auc:.3f}")
    assert auc > 0.6, auc


def test_a_source_that_does_not_exist_ends_the_run_failed_with_one_line_and_no_traceback(log_flow, ingest_flow, data_root):
    """An input mistake the form cannot catch: both ingest flows end Failed with a line that names the source and what to do,
    shown as the run's message and a markdown artifact, and log no traceback (tracebacks are for bugs)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId

    from flows.sensor_ingest import SensorIngestParams
    from tests.helpers import run_log_text

    missing = data_root / "no <b>such</b> folder"
    demo = get_settings().demo_dir
    assert not os.path.exists(demo)
    for flow_fn, params, key, message in [
        (log_flow, LogIngestParams(source=str(missing)), "log-ingest-refused",
         f"source {missing}: no such file or directory; give a directory, a glob or a file that exists (empty: the log drop folder)"),
        (ingest_flow, SensorIngestParams(source=str(missing)), "sensor-ingest-refused",
         f"source {missing}: no such file or directory; give a directory, a glob or a file that exists (empty: the demo data (`lepton-flow demo-data` makes it))"),
        (ingest_flow, SensorIngestParams(source=""), "sensor-ingest-refused",
         f"source: empty, which means the demo data (`lepton-flow demo-data` makes it), and there is none at {demo}; give a source"),
    ]:
        state = flow_fn(params, return_state=True)
        assert state.is_failed() and state.message == message, state.message
        logged = run_log_text(state.state_details.flow_run_id)
        assert message.split(": ", 1)[1] in logged and "Finished in state Failed" in logged and "Traceback" not in logged, logged[-3000:]
        with get_client(sync_client=True) as client:
            (artifact,) = client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
            )
        assert message.split(": ", 1)[1].split(" (")[0] in artifact.data and "<b>" not in artifact.data  # the name escaped
