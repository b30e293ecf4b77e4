"""Snapshot retention: `lepton-flow gc` keeps what models and scores name, frees the rest, and loses nothing written meanwhile."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lepton_flow import store
from lepton_flow.registry import ModelCard, Registry
from lepton_flow.retention import GcParams, referenced_snapshots, run_gc
from lepton_flow.settings import get_settings
from tests.helpers import cleaned_block


def _card(snapshot_id: str) -> None:
    """A registry version of model `m` trained on `snapshot_id` (the card is all that gc reads)."""
    registry = Registry(get_settings().models)
    registry.fs.makedirs(f"{registry.root}/m/1", exist_ok=True)
    registry.write_card(ModelCard(name="m", version="1", kind="autoencoder", snapshot_id=snapshot_id))

REPO = Path(__file__).resolve().parents[1]


def _history(url, tmp_path, n=4, sensors=1):
    """`n` sensor commits, each a window of `sensors` sensors with the value i, and one ledger entry each; returns the snapshot ids."""
    snaps, snap = [], None
    for i in range(n):
        block = cleaned_block(tmp_path / f"b{i}.zarr", 8 * i, {"t": np.full((8, sensors), float(i))}, ["s1"] + [f"s{k}" for k in range(2, sensors + 1)])
        snap = store.commit_sensors(url, block, snap, f"commit {i}", {}, {f"file{i}": {"file": f"/src/f{i}.csv"}})
        snaps.append(snap)
    return snaps


def _opens(url, snap) -> bool:
    try:
        store.open_sensors(url, snap).load()
        return True
    except store.SnapshotUnavailable:
        return False


def test_gc_keeps_what_a_model_card_and_scores_name_and_frees_the_rest(data_root, tmp_path):
    url = get_settings().store
    snaps = _history(url, tmp_path)
    _card(snaps[1])
    writer = store.ScoreWriter(url, "m", snaps[2])
    writer.write(0, np.zeros((8, 1)), np.zeros((8, 1)), np.array([0]))
    writer.commit("scores of m", {}, {"scored_until_bin": 8})
    keep = referenced_snapshots()
    assert keep == {snaps[1]: "model m version 1 was trained on it", snaps[2]: "scores of m were computed from it"}

    dry = run_gc(GcParams(keep_days=0, dry_run=True, grace_hours=0))
    assert dry.dry_run and dry.bytes_freed is None and sorted(dry.expired) == sorted([snaps[0], snaps[3]])
    assert all(_opens(url, s) for s in snaps)  # a dry run changes nothing

    report = run_gc(GcParams(keep_days=0, grace_hours=0))
    assert set(report.kept) == {snaps[1], snaps[2], store.history(url, 1)[0]["id"]}
    assert sorted(report.expired) == sorted([snaps[0], snaps[3]]) and report.bytes_freed > 0
    assert _opens(url, snaps[1]) and _opens(url, snaps[2]) and not _opens(url, snaps[0]) and not _opens(url, snaps[3])
    # The model's snapshot still holds what it held when the model was trained.
    np.testing.assert_array_equal(store.open_sensors(url, snaps[1]).t.values[:, 0], [0.0] * 8 + [1.0] * 8)
    latest = store.open_sensors(url).t.values[:, 0]
    np.testing.assert_array_equal(latest, np.repeat(np.arange(4.0), 8))
    # Every file ingested before gc is still refused as already ingested.
    assert store.ledger.keys(url) == {f"file{i}" for i in range(4)}
    # Training from an expired snapshot is refused, never done on other data.
    from lepton_flow.training import TrainParams, plan

    with pytest.raises(store.SnapshotUnavailable, match=f"snapshot {snaps[0]} .*expired by `lepton-flow gc`"):
        plan(TrainParams(snapshot_id=snaps[0]))
    # A second gc finds nothing more to expire and keeps the same snapshots.
    again = run_gc(GcParams(keep_days=0, grace_hours=0))
    assert again.expired == [] and set(again.kept) == set(report.kept)
    assert _opens(url, snaps[1]) and _opens(url, snaps[2])  # pinned snapshots left main's history, not the store


def test_a_run_writing_during_gc_loses_nothing(data_root, tmp_path):
    """A scoring run writes its chunks before it commits; gc in between must not delete them (grace), and the commit lands whole."""
    url = get_settings().store
    snaps = _history(url, tmp_path, 3, sensors=64)
    writer = store.ScoreWriter(url, "m", snaps[-1])
    # Random scores over 64 sensors: chunks too large for Icechunk to keep inline, so the session writes them to storage before its commit.
    scores = np.random.default_rng(0).random((24, 64))
    writer.write(0, scores, np.ones((24, 64)), np.arange(64))
    report = run_gc(GcParams(keep_days=0, grace_hours=1))
    assert report.expired  # it did expire old snapshots meanwhile
    # An ingest commits during the same period too.
    store.commit_sensors(url, cleaned_block(tmp_path / "late.zarr", 24, {"t": np.full((8, 64), 9.0)}, store.state(url).sensors), store.state(url).snapshot_id, "late", {}, {"late": {}})
    snap = writer.commit("scores", {}, {"scored_until_bin": 24})
    np.testing.assert_array_equal(store.open_scores(url, "m", snap).load().score.values[:24], scores.astype("float32"))
    np.testing.assert_array_equal(store.open_sensors(url, snap).t.values[24:], 9.0)
    assert store.ledger.keys(url) == {"file0", "file1", "file2", "late"}


def test_gc_deletes_the_replaced_repository_objects_a_local_store_keeps(data_root, tmp_path):
    """Icechunk's local storage moves every repository-info object a commit replaces into `overwritten/` and never
    reads it again (7.8 GB after a simulated year of 15-minute commits): gc deletes those older than its grace."""
    import os

    url = get_settings().store
    _history(url, tmp_path, 6)
    folder = Path(url) / "overwritten"
    old = sorted(os.listdir(folder))
    assert len(old) >= 6
    young = folder / old[-1]
    os.utime(young, None)  # one replaced a moment ago: inside a grace period of an hour
    for name in old[:-1]:
        os.utime(folder / name, (1e9, 1e9))  # the rest long ago
    report = run_gc(GcParams(keep_days=0, grace_hours=1))
    left = set(os.listdir(folder))
    assert not left & set(old[:-1]) and young.name in left
    assert report.objects_deleted >= len(old) - 1 and report.bytes_freed >= sum(1 for _ in old[:-1])
    # The store reads, commits and keeps its history as before.
    snap = store.commit_sensors(url, cleaned_block(tmp_path / "after.zarr", 48, {"t": np.full((8, 1), 7.0)}, ["s1"]), store.state(url).snapshot_id, "after", {}, {"after": {}})
    np.testing.assert_array_equal(store.open_sensors(url, snap).t.values[48:, 0], 7.0)
    assert store.history(url, 2)[0]["id"] == snap and "after" in store.ledger.keys(url)


def test_the_gc_command_says_what_it_kept_and_why(data_root, tmp_path):
    url = get_settings().store
    snaps = _history(url, tmp_path, 3)
    _card(snaps[0])
    env = {**__import__("os").environ, "LEPTON_DATA_ROOT": str(data_root)}
    out = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "gc", "--keep-days", "0", "--grace-hours", "0"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"{snaps[0]}  model m version 1 was trained on it" in out.stdout and "the latest snapshot of main" in out.stdout
    assert "expired:   1 snapshot(s)" in out.stdout and "freed:" in out.stdout
    missing = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "gc"], cwd=REPO, env={**env, "LEPTON_DATA_ROOT": str(tmp_path / "empty")}, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 1 and "no store at" in missing.stderr and "Traceback" not in missing.stderr


def test_the_store_gc_flow_reports_what_it_kept_as_an_artifact(prefect_server, data_root, tmp_path):
    from flows.store_gc import store_gc
    from tests.test_models_flows import _artifacts

    snaps = _history(get_settings().store, tmp_path, 3)
    _card(snaps[0])
    state = store_gc(GcParams(keep_days=0, grace_hours=0), return_state=True)
    assert state.is_completed() and "expired:   1 snapshot(s)" in state.result()
    text = _artifacts(state, ["store-gc"])["store-gc"].data
    assert f"| {snaps[0]} | model m version 1 was trained on it |" in text and "- expired: 1" in text


def test_under_daily_retention_what_a_commit_rewrites_of_its_history_stays_as_it_was_in_the_first_days(tmp_path):
    """Icechunk rewrites one repository-info object on each commit: every snapshot kept (its message and metadata) and
    the latest operations. With gc keeping a "day" of commits, what the 200th-260th commits list there stays within
    what the 50th-100th did: neither the expired history nor the operations log grows it.

    (Not counted: Icechunk 2.3 also keeps the ids of expired ancestors on the oldest kept snapshot, 12 bytes per
    commit ever expired; `benchmarks/soak.py` measures the object's bytes whole.)"""
    import json

    url = str(tmp_path / "store")
    day, listed, snap = 48, {}, None
    for i in range(260):
        snap = store.record_ingested(url, snap, f"sensor_ingest run r{i}: 1 file(s)", {"flow_run_id": f"r{i}", "files": 1}, {f"k{i}": {"file": f"/f{i}.csv"}})
        if (i + 1) % day == 0:
            oldest_kept = store.history(url, limit=day + 1)[-1]["written_at"]
            store.collect(url, {}, 0, now=oldest_kept, grace_hours=0)
            snap = store.history(url, limit=1)[0]["id"]
        if 50 <= i + 1 <= 100 or i + 1 >= 200:
            info = store.open_repo(url).inspect_repo_info()
            listed[i + 1] = len(json.dumps([info["snapshots"], info["latest_updates"], info["tags"], info["deleted_tags"]], default=str))
    early, late = max(listed[n] for n in range(50, 101)), max(listed[n] for n in range(200, 261))
    assert late <= 1.2 * early, (early, late)
    assert len(store.history(url, limit=1000)) <= 2 * day + 1 and store.ledger.count(url) == 260
