"""What people read: the printed summary, markdown that inputs cannot break, the run's summary object."""

from __future__ import annotations

import re

from lepton_flow.flowtools import FileFailure
from lepton_flow.ingest import CleanResult, FileAccount, IngestSummary, RunInfo, summarise
from lepton_flow.reporting import md_escape, summary_markdown, summary_text


def _summary(**kw) -> IngestSummary:
    files = [
        FileAccount(file="/d/a.csv", sha256="a", records=10, stored=7, quarantined=1, duplicates=1, outliers=1),
        FileAccount(file="/d/b|<img src=x onerror=alert(1)>.csv", sha256="", status="rejected", message="**only 10%** passed"),
    ]
    return IngestSummary(run_id="r1", snapshot_id="SNAP", store_url="/d/store", files=files, skipped=["/d/old.csv"], quarantine_url="/d/q", **kw)


def test_markdown_escapes_text_from_inputs():
    text = md_escape("a|b <script>alert(1)</script> **bold** [x](y)\nnext")
    assert "<" not in text.replace("\\<", "") and "|" not in text.replace("\\|", "")
    assert "\n" not in text and "\\*\\*bold\\*\\*" in text
    md = summary_markdown(_summary())
    assert not re.search(r"(?<!\\)[<>|*]", md.split("## Files not ingested")[1])  # every special character escaped
    assert "\\<img" in md and "\\*\\*only 10%\\*\\*" in md


def test_summary_text_counts_and_places():
    text = summary_text(_summary(docs_url="/d/docs/index.html"))
    assert "files ingested:      1" in text and "already ingested:    1" in text and "failed:              1" in text
    assert "readings read:       10" in text and "stored:            7" in text
    assert "snapshot:            SNAP" in text and "/d/docs/index.html" in text
    assert "only 10%" in text


def test_summarise_reports_rejections_and_clears_staging(tmp_path):
    run = RunInfo(run_id="r1", staging_url=str(tmp_path / "staging" / "r1"), quarantine_url=str(tmp_path / "q"), store_url=str(tmp_path / "s"), docs_dir=str(tmp_path / "gx"))
    (tmp_path / "staging" / "r1" / "valid").mkdir(parents=True)
    cleaned = CleanResult(cleaned_url=None, accounts={"k": FileAccount(file="/d/a.csv", sha256="a", records=3, stored=3)})
    failures = [
        FileFailure(file="/d/bad.csv", stage="validate", message="/d/bad.csv: only 0% passed", rejected=True),
        FileFailure(file="/d/broken.parquet", stage="read", message="/d/broken.parquet: cannot be read"),
    ]
    summary, rows = summarise(run, cleaned, "SNAP", [], failures, [], [])
    assert [(f.file, f.status) for f in summary.files] == [("/d/a.csv", "ok"), ("/d/bad.csv", "rejected"), ("/d/broken.parquet", "failed (read)")]
    assert all(f.balanced for f in summary.files) and rows == []
    assert not (tmp_path / "staging" / "r1").exists()


def test_text_from_inputs_cannot_become_markup_in_either_prefect_ui():
    """Prefect's default UI renders table artifacts' string cells and descriptions as markdown with HTML; its newer UI as text.
    `ui_text` leaves no tag or link to render in the first and shows the same characters in the second."""
    from lepton_flow.reporting import ui_text

    hostile = '<img src=x onerror="alert(1)"> [click](javascript:alert(2)) </td><script>x</script>'
    shown = ui_text(hostile)
    assert "<img" not in shown and "<script" not in shown and "](" not in shown and "</" not in shown
    assert shown.replace("\u200b", "") == hostile
    assert ui_text(3) == 3 and ui_text(None) is None and ui_text("plain_name.csv") == "plain_name.csv"


def test_files_are_named_by_the_fewest_path_parts_that_tell_them_apart():
    from lepton_flow.reporting import short_names

    urls = ["/d/a/x/f.csv", "/d/b/x/f.csv", "/d/c/g.csv", "s3://bucket/day/h.csv", "/d/e/f.csv"]
    assert short_names(urls) == {"/d/a/x/f.csv": "a/x/f.csv", "/d/b/x/f.csv": "b/x/f.csv", "/d/c/g.csv": "g.csv", "s3://bucket/day/h.csv": "h.csv", "/d/e/f.csv": "e/f.csv"}
    many = [f"/data/day{i // 100}/sensor-{i % 100}.csv" for i in range(20_000)]  # a backfill's accounting table
    names = short_names(many)
    assert len(set(names.values())) == len(many) and names[many[-1]] == "day199/sensor-99.csv"
