"""What a run leaves for people: Prefect artifacts and a printed summary."""

from __future__ import annotations

import re

from lepton_flow.ingest import IngestSummary

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>])")


def md_escape(text: object) -> str:
    """Text from inputs, safe inside a markdown table cell (no markup, no HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def accounting_rows(summary: IngestSummary) -> list[dict]:
    rows = []
    for f in summary.files:
        rows.append(
            {
                "file": f.file,
                "status": f.status,
                "read": f.records,
                "stored": f.stored,
                "quarantined": f.quarantined,
                "duplicates": f.duplicates,
                "outliers": f.outliers,
                "balanced": f.balanced,
                "message": f.message[:300],
            }
        )
    return rows


def publish_ingest_artifacts(summary: IngestSummary, validation_rows: list[dict]) -> None:
    """Table artifacts (accounting, validation) and a markdown summary on the current run."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    create_table_artifact(
        key="sensor-ingest-accounting",
        table=accounting_rows(summary),
        description="Per file: read = stored + quarantined + duplicates + outliers",
    )
    if validation_rows:
        create_table_artifact(
            key="sensor-ingest-validation",
            table=validation_rows,
            description="GX expectations per file: readings that failed each",
        )
    create_markdown_artifact(key="sensor-ingest-summary", markdown=summary_markdown(summary), description="sensor_ingest outcome")


def summary_markdown(summary: IngestSummary) -> str:
    totals = summary.totals()
    lines = [
        "# sensor_ingest",
        "",
        f"- snapshot: {md_escape(summary.snapshot_id)}",
        f"- store: {md_escape(summary.store_url)}",
        f"- files ingested: {sum(1 for f in summary.files if f.status in ('ok', 'empty'))}; "
        f"failed: {sum(1 for f in summary.files if f.status not in ('ok', 'empty'))}; already ingested: {len(summary.skipped)}",
        f"- readings: read {totals['records']}, stored {totals['stored']}, quarantined {totals['quarantined']}, "
        f"duplicates {totals['duplicates']}, outliers {totals['outliers']}",
        f"- quarantine: {md_escape(summary.quarantine_url)}",
    ]
    if summary.docs_url:
        lines.append(f"- Data Docs: {md_escape(summary.docs_url)}")
    failed = [f for f in summary.files if f.status not in ("ok", "empty")]
    if failed:
        lines += ["", "## Files not ingested", ""]
        lines += [f"- {md_escape(f.file)}: {md_escape(f.message)}" for f in failed]
    return "\n".join(lines) + "\n"


def summary_text(summary: IngestSummary) -> str:
    """The summary `lepton-flow run` prints: counts per outcome and where everything is."""
    totals = summary.totals()
    ok = [f for f in summary.files if f.status in ("ok", "empty")]
    bad = [f for f in summary.files if f.status not in ("ok", "empty")]
    out = [
        f"sensor_ingest run {summary.run_id}",
        f"  files ingested:      {len(ok)}" + (f" ({sum(1 for f in ok if f.status == 'empty')} empty)" if any(f.status == "empty" for f in ok) else ""),
        f"  already ingested:    {len(summary.skipped)}",
    ]
    if summary.unsupported:
        out.append(f"  not a known format:  {len(summary.unsupported)} ({', '.join(summary.unsupported[:3])})")
    if bad:
        out.append(f"  failed:              {len(bad)}")
        out.extend(f"    {f.file}: {f.message}" for f in bad)
    out += [
        f"  readings read:       {totals['records']}",
        f"    stored:            {totals['stored']}",
        f"    quarantined:       {totals['quarantined']}",
        f"    duplicates:        {totals['duplicates']}",
        f"    outliers removed:  {totals['outliers']}",
        f"  snapshot:            {summary.snapshot_id}",
        f"  store:               {summary.store_url}",
        f"  quarantine:          {summary.quarantine_url}",
    ]
    if summary.docs_url:
        out.append(f"  Data Docs:           {summary.docs_url}")
    return "\n".join(out)
