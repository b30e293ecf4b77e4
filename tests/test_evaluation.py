"""`lepton-flow evaluate`: labelled incidents against the scores a model left in the store, on answers known by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lepton_flow import store
from lepton_flow.cli import main
from lepton_flow.evaluation import LabelsError, evaluate, load_labels, roc_auc
from lepton_flow.settings import get_settings
from tests.helpers import GRID, cleaned_block

START = 6400


def _time(row: int) -> str:
    return str(np.datetime64((START + row) * GRID, "s")) + "Z"


@pytest.fixture
def scored(data_root, tmp_path):
    """Two sensors, 200 rows: s1's incident (rows 50-59) scores 10 and is flagged at 52-55; s1 also flags a false
    event at 150-151 (score 5); s2's incident (rows 100-109) scores below its normal rows and is never flagged."""
    url = get_settings().store
    values = {"temperature": np.ones((200, 2))}
    snap = store.commit_sensors(url, cleaned_block(tmp_path / "b.zarr", START, values, ["s1", "s2"], chunk_len=64), None, "seed", {}, {})
    score = np.ones((200, 2))
    score[50:60, 0], score[150:152, 0], score[100:110, 1] = 10.0, 5.0, 0.5
    flag = np.zeros((200, 2), bool)
    flag[52:56, 0] = flag[150:152, 0] = True
    tail = np.full((200, 2), 0.5)
    tail[52:56, 0], tail[150:152, 0] = 1e-6, 1e-4
    writer = store.ScoreWriter(url, "m", snap)
    writer.write(0, score, flag, np.array([0, 1]), tail)
    writer.commit("scores", {}, {"version": "1", "scored_until_bin": START + 200})
    labels = tmp_path / "labels.csv"
    labels.write_text(f"sensor,start,end\ns1,{_time(50)},{_time(59)}\ns2,{_time(100)},{_time(109)}\n")
    return labels


def test_evaluate_gives_the_answers_worked_out_by_hand(scored, capsys):
    (r,) = evaluate(str(scored))
    assert (r.model, r.version, r.incidents, r.top_k, r.events) == ("m", "1", 2, 2, 2)
    assert r.hits_in_top_k == 1  # s1's incident; s2's was never flagged
    assert r.event_precision == 0.5 and r.event_recall == 0.5  # one of two events is an incident, one of two incidents found
    assert r.auc_per_sensor == {"s1": 1.0, "s2": 0.0} and r.median_auc == 0.5
    assert r.flag_rate == pytest.approx(6 / 400)
    assert evaluate(str(scored), top_k=1)[0].hits_in_top_k == 1  # the top event (surprise 6) is the true one
    assert main(["evaluate", "--labels", str(scored), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["hits_in_top_k"] == 1
    assert main(["evaluate", "--labels", str(scored)]) == 0
    assert "| m | 1 | 1 of 2 (k=2) | 0.500 | 0.500 | 0.500 | 1.500% |" in capsys.readouterr().out


def test_nab_s_labels_file_is_read_as_it_is_published(scored, tmp_path):
    """NAB's combined_windows.json (paths to windows, its time layout) gives the same answers as the CSV; the corpus's
    other series are left out; its point labels (combined_labels.json) are one-row windows."""
    def nab_time(row: int) -> str:  # as NAB writes its times: "2014-04-11 00:00:00.000000"
        return str(np.datetime64((START + row) * GRID, "s").astype("datetime64[us]")).replace("T", " ")

    windows = tmp_path / "combined_windows.json"
    windows.write_text(json.dumps({
        "realKnownCause/s1.csv": [[nab_time(50), nab_time(59)]],
        "realKnownCause/s2.csv": [[nab_time(100), nab_time(109)]],
        "realTraffic/speed_t4013.csv": [[nab_time(10), nab_time(20)]],
    }))
    (by_csv,), (by_json,) = evaluate(str(scored)), evaluate(str(windows))
    assert by_json.model_dump() == by_csv.model_dump()
    points = tmp_path / "combined_labels.json"
    points.write_text(json.dumps({"artificialWithAnomaly/s1.csv": [nab_time(53)], "realAWSCloudwatch/other.csv": []}))
    (r,) = evaluate(str(points))
    assert (r.incidents, r.hits_in_top_k, r.auc_per_sensor) == (1, 1, {"s1": pytest.approx(194.5 / 199)})  # 9 neighbours tie at 10
    # A series the corpus lists without incidents (NAB's artificialNoAnomaly) is evaluated, not refused: all its
    # events are false and its flags are counted.
    points.write_text(json.dumps({"artificialNoAnomaly/s1.csv": [], "realTraffic/speed_t4013.csv": [nab_time(1)]}))
    (r,) = evaluate(str(points))
    assert (r.incidents, r.top_k, r.hits_in_top_k, r.events, r.event_precision, r.event_recall) == (0, 0, 0, 2, 0.0, None)
    assert (r.auc_per_sensor, r.median_auc, r.flag_rate) == ({}, None, pytest.approx(6 / 400))
    points.write_text(json.dumps({"realTraffic/speed_t4013.csv": [nab_time(1)]}))
    with pytest.raises(LabelsError, match="name none of the sensors m's scores hold"):
        evaluate(str(points))
    points.write_text(json.dumps({"s1.csv": [["2014-04-11", "a while later"]]}))
    with pytest.raises(LabelsError, match=r"combined_labels.json: s1.csv\[0\]: not a time"):
        load_labels(str(points))


def test_labels_errors_name_the_file_and_line(scored, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("sensor,start,end\ns1,2026-01-01T00:00:00Z,2026-01-01T01:00:00Z\ns1,yesterday-ish,2026-01-02\n")
    with pytest.raises(LabelsError, match=r"bad.csv: line 3: not a time"):
        load_labels(str(bad))
    bad.write_text("sensor,begin\n")
    with pytest.raises(LabelsError, match=r"line 1: the header needs sensor,start,end \(missing end, start\)"):
        load_labels(str(bad))
    bad.write_text(f"sensor,start,end\nnope,{_time(1)},{_time(2)}\n")
    assert main(["evaluate", "--labels", str(bad)]) == 1
    assert "labels name sensor(s) nope that m's scores do not hold (s1, s2)" in capsys.readouterr().err
    assert main(["evaluate", "--labels", str(tmp_path / "missing.csv")]) == 1
    assert "missing.csv: cannot read the labels file" in capsys.readouterr().err


def test_roc_auc_counts_ties_half_and_needs_both_classes():
    assert roc_auc(np.array([1.0, 1.0, 2.0, np.nan]), np.array([True, False, True, True])) == 0.75
    assert roc_auc(np.array([1.0, 2.0]), np.array([True, True])) is None
