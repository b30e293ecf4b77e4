"""The bad-input corpus (`tests/corpus/cases.toml`): every case gets the outcome the manifest promises.

Sensor cases run through the ingest's own per-file function (read, validate, stage);
log cases through the log reader; parameter cases through the flows'
parameter models; source-root cases through discovery. Then one
`sensor_ingest` run and one `log_ingest` run take every default-option case
at once: the bad files fail alone, the good ones are stored.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from corpus import generate
from lepton_flow import ingest
from lepton_flow.formats import is_supported
from lepton_flow.logs.reader import read_log
from lepton_flow.settings import get_settings
from lepton_flow.sources import ReadOptions, SourceError, SourceFile, discover, hash_file

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = tomllib.loads((CORPUS / "cases.toml").read_text())["case"]


def _cases(kind: str) -> list:
    return [pytest.param(c, id=c["id"]) for c in CASES if c["kind"] == kind]


def _materialise(case: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if "generate" in case:
        path = folder / case["name"]
        getattr(generate, case["generate"])(path)
    else:
        path = folder / Path(case["file"]).name
        shutil.copyfile(CORPUS / case["file"], path)
    return path


def _quarantined(*urls: str | None) -> list[tuple[int, str]]:
    rows: list[tuple[int, str]] = []
    for url in urls:
        if url:
            table = pq.read_table(url, columns=["line", "reason"]).to_pylist()
            rows += [(r["line"], r["reason"]) for r in table]
    return sorted(rows)


def _match(got: list[tuple[int, str]], expected: list[list]) -> None:
    """Each expected [line, reason substring] is one quarantined entry, and there are no others."""
    assert len(got) == len(expected), f"quarantined {got}, expected {expected}"
    for (line, reason), (want_line, want_reason) in zip(got, sorted(expected, key=lambda e: e[0])):
        assert line == want_line and want_reason in reason, f"quarantined {got}, expected {expected}"


def test_the_corpus_is_large_and_its_files_exist():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)) and len(CASES) >= 30
    for case in CASES:
        if "file" in case:
            assert (CORPUS / case["file"]).is_file(), case["file"]
        if "generate" in case:
            assert callable(getattr(generate, case["generate"], None)), case["generate"]
    shipped = {str(p.relative_to(CORPUS)) for p in (CORPUS / "sensors").iterdir()} | {str(p.relative_to(CORPUS)) for p in (CORPUS / "logs").iterdir()}
    assert shipped == {c["file"] for c in CASES if "file" in c}, "every shipped corpus file has its case"


@pytest.mark.parametrize("case", _cases("sensor"))
def test_sensor_case(case, data_root, tmp_path):
    path = _materialise(case, tmp_path / "src")
    run = ingest.new_run("corpus", 30)
    sha256, size = hash_file(str(path))
    file = SourceFile(url=str(path), name=path.name, sha256=sha256, size=size)
    options = ReadOptions(**case.get("options", {}))
    if case["expect"] == "rejected":
        try:
            got = ingest.ingest_file(file, run, options)  # turned away: a rejected outcome
            assert got.rejected, f"{case['name']}: accepted, expected rejected"
            message = got.message
        except SourceError as exc:  # cannot be read: a failure
            got, message = None, str(exc)
        for part in case["error"]:
            assert part in message, f"{message} lacks {part!r}"
        if "records" in case:
            assert got is not None and (got.records, got.quarantined) == (case["records"], case["quarantined_count"])
        return
    staged = ingest.ingest_file(file, run, options)
    stored = staged.readings - staged.failed
    got = _quarantined(*staged.quarantine_urls)
    assert staged.records == stored + len(got) and staged.staged == stored, "records read = stored + quarantined"
    assert stored == case["stored"]
    _match(got, case.get("quarantined", []))
    if case["expect"] == "stored":
        assert got == []


@pytest.mark.parametrize("case", _cases("log"))
def test_log_case(case, tmp_path):
    path = _materialise(case, tmp_path / "logs")
    if "error" in case:
        with pytest.raises(ValueError) as err:
            read_log(str(path), year=case.get("year"))
        for part in case["error"]:
            assert part in str(err.value), f"{err.value!s} lacks {part!r}"
        return
    got = read_log(str(path), year=case.get("year"))
    assert got.balanced, "lines read = event lines + quarantined + blank"
    assert len(got.events) == case["events"]
    _match(sorted((q["line"], q["reason"]) for q in got.quarantined), case.get("quarantined", []))
    if "message" in case:
        assert any(case["message"] in e["message"] for e in got.events), [e["message"] for e in got.events]
    for event in got.events:
        assert "\x1b" not in event["message"]
    if "year" in case:
        assert {e["timestamp"].year for e in got.events} == {case["year"]}


@pytest.mark.parametrize("case", _cases("param"))
def test_parameter_case(case):
    from flows.sensor_ingest import SensorIngestParams
    from lepton_flow.logs.ingest import LogIngestParams

    model = {"sensor_ingest": SensorIngestParams, "log_ingest": LogIngestParams}[case["flow"]]
    with pytest.raises(ValidationError) as err:
        model.model_validate(case["params"])
    for part in case["error"]:
        assert part in str(err.value), f"{err.value!s} lacks {part!r}"


@pytest.mark.parametrize("case", _cases("roots"))
def test_source_root_case(case, tmp_path, monkeypatch):
    root = tmp_path / "allowed"
    (root / "feed").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    outside = tmp_path / "secret" / "escape.csv"
    shutil.copyfile(CORPUS / "sensors" / "good.csv", outside)
    shutil.copyfile(CORPUS / "sensors" / "good.csv", root / "feed" / "inside.csv")
    monkeypatch.setenv("LEPTON_SOURCE_ROOTS", str(root))
    get_settings(fresh=True)
    try:
        if case["setup"] == "dotdot":
            with pytest.raises(SourceError) as err:
                discover(str(root / "feed" / ".." / ".." / "secret"), set(), is_supported)
            for part in case["error"]:
                assert part in str(err.value)
        else:
            os.symlink(outside, root / "feed" / case["left_out"])
            new, _, unsupported = discover(str(root / "feed"), set(), is_supported)
            assert [Path(f.url).name for f in new] == ["inside.csv"]
            assert any(case["left_out"] in u for u in unsupported)
    finally:
        monkeypatch.delenv("LEPTON_SOURCE_ROOTS")
        get_settings(fresh=True)


def _whole_corpus(kind: str, folder: Path) -> dict[str, dict]:
    """Every case of a kind that reads with default options, materialised in one folder: file name -> case."""
    by_name = {}
    for case in CASES:
        if case["kind"] == kind and "options" not in case:
            by_name[_materialise(case, folder).name] = case
    return by_name


@pytest.mark.slow
def test_one_sensor_ingest_run_over_the_whole_corpus(ingest_flow, data_root):
    """The corpus in one run: bad files fail alone and are named; every other file is stored and balances."""
    from flows.sensor_ingest import SensorIngestParams

    by_name = _whole_corpus("sensor", data_root / "corpus")
    state = ingest_flow(SensorIngestParams(source=str(data_root / "corpus")), return_state=True)
    summary = state.result(raise_on_failure=False)
    rejected = {n for n, c in by_name.items() if c["expect"] == "rejected"}
    assert state.is_failed() and f"{len(rejected)} file(s) not ingested" in state.message
    accounts = {Path(f.file).name: f for f in summary.files}
    assert set(accounts) == set(by_name), "every corpus file is accounted for"
    for name, case in by_name.items():
        account = accounts[name]
        if name in rejected:
            assert account.status.startswith(("failed", "rejected")) and all(part in account.message for part in case["error"]), account
            if "records" in case:  # what was read and quarantined is counted, though nothing is stored
                assert (account.records, account.quarantined, account.stored) == (case["records"], case["quarantined_count"], 0), account
            continue
        assert account.status == ("empty" if account.records == 0 else "ok") and account.balanced, account
        assert account.quarantined == len(case.get("quarantined", [])), account
        # Stored readings after cleaning: duplicates and outliers are counted apart, never lost.
        assert account.stored + account.duplicates + account.outliers == case["stored"], account
    assert summary.snapshot_id is not None
    from lepton_flow import store

    held = set(store.state(get_settings().store).sensors)
    assert {"good", "s7", "s8", "s19", "s20", "pump-a", "pump-b"} <= held, held  # good files beside the bad ones were stored; the same bytes under two names, two sensors
    assert "<script>alert(1)</script>" not in held


@pytest.mark.slow
def test_one_log_ingest_run_over_the_whole_corpus(log_flow, data_root):
    from lepton_flow.logs.ingest import LogIngestParams

    by_name = _whole_corpus("log", data_root / "corpus-logs")
    state = log_flow(LogIngestParams(source=str(data_root / "corpus-logs"), year=2026), return_state=True)
    summary = state.result(raise_on_failure=False)
    failing = {n for n, c in by_name.items() if "error" in c and not c.get("not_a_log")}
    assert state.is_failed() and f"{len(failing)} log file(s) not ingested" in state.message
    for part in ("bomb.log.gz", "cut.log.gz"):
        assert part in state.message or len(failing) > 3
    assert "binary_garbage.log" not in state.message
    refs = {Path(r.file.url).name: r for r in summary.files}
    assert set(refs) == set(by_name) - failing
    for name, ref in refs.items():
        case = by_name[name]
        if case.get("not_a_log"):
            assert ref.status == "not a log file" and ref.balanced and ref.events == 0 and ref.unparsed == ref.lines > 0, ref
            continue
        assert ref.balanced and ref.unparsed == len(case.get("quarantined", [])), ref
        assert ref.events == case["events"], ref
    assert summary.snapshot_id is not None


def test_markup_in_log_lines_reaches_the_anomalies_table_escaped():
    """Templates mined from lines holding HTML and markdown are table cells of the scoring artifact: escaped, never markup."""
    import re

    from lepton_flow.logs.drain import Drain
    from lepton_flow.reporting import anomaly_rows
    from lepton_flow.scoring import Anomaly

    events = read_log(str(CORPUS / "logs" / "markdown_html.log")).events
    drain = Drain()
    templates = [drain.template(drain.add(e["message"])) for e in events]
    assert any("<script>" in t for t in templates) and any("[link]" in t for t in templates)

    class Result:
        anomalies = [Anomaly(sensor=f"T{i}", detail=t, start="2026-03-02T00:00:00", end="2026-03-02T01:00:00", peak_score=1.0, first_row=0, last_row=1) for i, t in enumerate(templates)]

    for row in anomaly_rows(Result()):
        cell = row["template"]
        assert not re.search(r"(?<!\\)[<>|*\[\]`]", cell), cell  # no unescaped markup character
        assert "\n" not in cell
