"""What a run leaves for people: Prefect artifacts and a printed summary."""

from __future__ import annotations

import re

from lepton_flow.ingest import IngestSummary

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>])")


def md_escape(text: object) -> str:
    """Text from inputs, safe inside a markdown table cell (no markup, no HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


_TAG_OR_LINK = re.compile(r"(<|\]\()")


def ui_text(value: object) -> object:
    """A value from inputs, shown as itself wherever the Prefect UI puts it; other types pass unchanged.

    Prefect's default UI renders the string cells and descriptions of table
    artifacts as markdown, HTML included (a file named `<img src=x
    onerror=...>.csv` became an image there); its newer UI shows them as
    text, where markdown escapes would show as backslashes. A zero-width
    space after each `<` (no tag can start) and inside each `](` (no link
    can form) reads the same in both and runs nothing.
    """
    if not isinstance(value, str):
        return value
    return _TAG_OR_LINK.sub(lambda m: m.group(1)[0] + "\u200b" + m.group(1)[1:], value)


def publish_table(key: str, table: list[dict], description: str) -> None:
    """A table artifact on the current run, every string in it (and the description) made `ui_text`."""
    from prefect.artifacts import create_table_artifact

    rows = [{k: ui_text(v) for k, v in row.items()} for row in table]
    create_table_artifact(key=key, table=rows, description=ui_text(description))


def file_link(label: str, path: str | None) -> str:
    """Markdown for a file or folder the run wrote: a link where the data root's files are served
    (`lepton_flow.fileserve`), else its path as text."""
    from lepton_flow.fileserve import url_for

    if not path:
        return ""
    url = url_for(path)
    return f"[{md_escape(label)}]({url}) ({md_escape(path)})" if url else md_escape(path)


def publish_image(key: str, path: str, description: str) -> bool:
    """An image artifact of a PNG the run saved, by the URL it is served at; nothing where it is not served
    (the summary names its path). A `data:` URL is not used: the UI shows the whole base64 text as a link."""
    from prefect.artifacts import create_image_artifact

    from lepton_flow.fileserve import url_for

    url = url_for(path)
    if url is None:
        return False
    create_image_artifact(image_url=url, key=key, description=ui_text(description))
    return True


def short_names(urls: list[str]) -> dict[str, str]:
    """Each URL as the fewest trailing path parts that tell it from the others (usually the file name); linear in the URLs."""
    from collections import Counter

    parts = {u: u.rstrip("/").split("/") for u in urls}
    out: dict[str, str] = {}
    left, k = list(parts), 1
    while left:  # names resolved at k parts cannot equal a longer tail: only those left are compared
        tails = {u: "/".join(parts[u][-k:]) for u in left}
        counts = Counter(tails.values())
        rest = []
        for u in left:
            if counts[tails[u]] == 1 or k >= len(parts[u]):
                out[u] = tails[u]
            else:
                rest.append(u)
        left, k = rest, k + 1
    return out


def accounting_rows(summary: IngestSummary) -> list[dict]:
    """Per file, its short name first: the accounting's columns fit on screen."""
    names = short_names([f.file for f in summary.files])
    rows = []
    for f in summary.files:
        rows.append(
            {
                "file": names[f.file],
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


def refused(problem: str, key: str):
    """End a run on an input mistake the form could not catch: `problem` (one line naming the input and what to do) as
    the run's Failed message, which the UI's header and the CLI show, and as a markdown artifact. No traceback: those
    are for bugs."""
    from prefect.artifacts import create_markdown_artifact

    from lepton_flow.runtime import ended_failed, run_logger

    run_logger().error("%s", problem)
    create_markdown_artifact(key=key, markdown=f"**Run refused.** {md_escape(problem)}", description="Why the run was refused")
    return ended_failed(problem)


def validation_by_file(rows: list[dict]) -> list[dict]:
    """One row per file (not per file and expectation): the readings that failed and the expectations they failed, most first;
    files with failures first."""
    names = short_names(list(dict.fromkeys(r["file"] for r in rows)))
    files: dict[str, dict] = {}
    for r in rows:
        f = files.setdefault(r["file"], {"file": names[r["file"]], "readings": r["readings"], "expectations": 0, "failed": []})
        f["expectations"] += 1
        if not r["success"] or r["failed_readings"]:
            f["failed"].append((r["failed_readings"], r["expectation"]))
    out = []
    for f in files.values():
        failed = sorted(f["failed"], reverse=True)
        out.append({
            "file": f["file"],
            "readings": f["readings"],
            "failed_readings": sum(n for n, _ in failed),
            "passed": f"{f['expectations'] - len(failed)} of {f['expectations']}",
            "failed_expectations": ", ".join(f"{name} ({n})" for n, name in failed),
        })
    return sorted(out, key=lambda r: (-r["failed_readings"], -len(r["failed_expectations"]), r["file"]))


def publish_ingest_artifacts(summary: IngestSummary, validation_rows: list[dict]) -> None:
    """Table artifacts (accounting, validation) and a markdown summary on the current run."""
    from prefect.artifacts import create_markdown_artifact

    publish_table(key="sensor-ingest-accounting", table=accounting_rows(summary), description="Per file: read = stored + quarantined + duplicates + outliers")
    if validation_rows:
        publish_table(
            key="sensor-ingest-validation",
            table=validation_by_file(validation_rows),
            description="GX expectations per file, files with failures first: readings that failed, and which expectations",
        )
    create_markdown_artifact(key="sensor-ingest-summary", markdown=summary_markdown(summary), description="sensor_ingest outcome")


def summary_line(summary: IngestSummary) -> str:
    """The run's last log line: what it did, in one line."""
    t = summary.totals()
    ok = sum(1 for f in summary.files if f.status in ("ok", "empty"))
    failed = len(summary.files) - ok
    return (
        f"sensor_ingest: {ok} file(s) ingested, {failed} failed, {len(summary.skipped)} already ingested; readings {t['records']} read, "
        f"{t['stored']} stored, {t['quarantined']} quarantined, {t['duplicates']} duplicates, {t['outliers']} flagged (outlier or stuck); "
        + (f"snapshot {summary.snapshot_id}" if summary.snapshot_id else "nothing committed")
    )


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
        f"- quarantine: {file_link('quarantined readings', summary.quarantine_url)}",
    ]
    if summary.docs_url:
        lines.append(f"- Data Docs: {file_link('validation results', summary.docs_url)}")
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
        out.append(f"  left out:            {len(summary.unsupported)} ({', '.join(summary.unsupported[:3])})")
    if bad:
        out.append(f"  failed:              {len(bad)}")
        out.extend(f"    {f.file}: {f.message}" for f in bad)
    out += [
        f"  readings read:       {totals['records']}",
        f"    stored:            {totals['stored']}",
        f"    quarantined:       {totals['quarantined']}",
        f"    duplicates:        {totals['duplicates']}",
        f"    flagged:           {totals['outliers']} (outlier or stuck; stored, value kept)",
        f"  snapshot:            {summary.snapshot_id}",
        f"  store:               {summary.store_url}",
        f"  quarantine:          {summary.quarantine_url}",
    ]
    if summary.docs_url:
        out.append(f"  Data Docs:           {summary.docs_url}")
    return "\n".join(out)


def png_bytes(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    return buf.getvalue()


def _figure(rows: int = 1, height: float = 3.2):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, 1, figsize=(9, height * rows), squeeze=False, sharex=True)
    return plt, fig, [a[0] for a in axes]


def training_curves_png(history: dict[str, list[float]], title: str) -> bytes:
    """Loss and validation loss per epoch."""
    plt, fig, (ax,) = _figure()
    for key, label in (("loss", "training"), ("val_loss", "validation")):
        if history.get(key):
            ax.plot(range(1, len(history[key]) + 1), history[key], marker="o", label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("masked MSE (normalised units)")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    data = png_bytes(fig)
    plt.close(fig)
    return data


def anomaly_png(context: dict, title: str) -> bytes:
    """A sensor's metrics, its score and the flag threshold around one anomaly."""
    plt, fig, axes = _figure(len(context["values"]) + 1, height=2.2)
    times, flag = context["times"], context["flag"]
    for ax, (metric, values) in zip(axes, context["values"].items()):
        ax.plot(times, values, lw=0.8)
        ax.scatter(times[flag], values[flag], color="red", s=8, zorder=3, label="flagged")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    ax = axes[-1]
    ax.plot(times, context["score"], color="black", lw=0.8)
    if context.get("threshold") is not None:
        ax.axhline(context["threshold"], color="red", ls="--", lw=0.8, label="flag line")
    ax.set_ylabel(context.get("score_label", "score"))
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    axes[0].set_title(title)
    fig.autofmt_xdate()
    data = png_bytes(fig)
    plt.close(fig)
    return data


def save_png(png: bytes, directory: str, name: str) -> str:
    """Write a report image under the data root; returns its path or URL."""
    from lepton_flow.settings import join
    from lepton_flow.sources import open_output

    url = join(directory, name)
    with open_output(url) as fh:
        fh.write(png)
    return url


def publish_training_artifacts(card, curves_url: str, card_url: str = "") -> None:
    """A metrics table and the training curves image on the current run."""
    from prefect.artifacts import create_markdown_artifact

    rows = [{"metric": k, "value": v} for k, v in card.scores.items()]
    rows += [{"metric": "flag_threshold", "value": card.threshold}, {"metric": "promoted", "value": card.promoted}]
    publish_table(key="train-metrics", table=rows, description=f"{card.name} version {card.version}: {card.promotion_reason}")
    publish_image(key="train-curves", path=curves_url, description=f"Training curves of {card.name} version {card.version}")
    create_markdown_artifact(key="train-summary", markdown=training_markdown(card, curves_url, card_url), description="train_sensor_model outcome")


def training_markdown(card, curves_url: str = "", card_url: str = "") -> str:
    lines = [
        f"# {md_escape(card.name)} version {md_escape(card.version)}",
        "",
        f"- promoted: {card.promoted} ({md_escape(card.promotion_reason)})",
        f"- snapshot: {md_escape(card.snapshot_id)}",
        f"- training: {md_escape(card.train_range[0])} to {md_escape(card.train_range[1])}",
        f"- validation: {md_escape(card.validation_range[0])} to {md_escape(card.validation_range[1])}",
        f"- sensors: {len(card.sensors)}; metrics: {md_escape(', '.join(card.metrics))}",
        f"- device: {md_escape(card.device)}",
    ]
    if curves_url:
        lines.append(f"- training curves: {file_link('image', curves_url)}")
    if card_url:
        lines.append(f"- model card: {file_link('card.json', card_url)}")
    return "\n".join(lines) + "\n"


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.5g}"


def training_text(card, curves_url: str) -> str:
    s = card.scores
    return "\n".join(
        [
            f"train_sensor_model: {card.name} version {card.version}",
            f"  epochs run:          {s.get('epochs_run')} (from epoch {s.get('initial_epoch')})",
            f"  validation loss:     {_number(s.get('validation_loss'))}",
            f"  flag threshold:      {_number(card.threshold)}",
            f"  promoted:            {'yes' if card.promoted else 'no'}: {card.promotion_reason}",
            f"  device:              {card.device}",
            f"  model card:          {card.extra.get('card_url', '')}",
            f"  training curves:     {curves_url}",
        ]
    )


def anomaly_rows(result) -> list[dict]:
    return [
        {
            "sensor": a.sensor,
            "sensors": ", ".join(a.sensors or [a.sensor]),
            "start": a.start,
            "end": a.end,
            "peak_score": round(a.peak_score, 5),
            **({"template": md_escape(a.detail)} if a.detail else {}),
        }
        for a in result.anomalies
    ]


def publish_scoring_artifacts(result, plot_url: str | None, triggered_by: str = "") -> None:
    from prefect.artifacts import create_markdown_artifact

    plan = result.plan
    publish_table(
        key="score-top-anomalies",
        table=anomaly_rows(result),
        description=(
            f"Top anomalies by peak {'surprise (-log10 of how often a score that high comes; 3 = one in a thousand)' if result.flag_rate is not None else 'score'}:"
            f" {plan.model_name} version {plan.version} on snapshot {plan.snapshot_id}"
        ),
    )
    if plot_url:
        publish_image(key="score-worst-anomaly", path=plot_url, description="The worst sensor around its worst anomaly")
    create_markdown_artifact(key="score-summary", markdown=scoring_markdown(result, triggered_by, plot_url), description="score_sensors outcome")


def trigger_markdown(flow_run_id: str) -> str:
    """'triggered by flow run ID', the ID a link to that run in Prefect's UI where the UI's address is known."""
    if not flow_run_id:
        return ""
    try:
        from prefect.utilities.urls import url_for

        url = url_for("flow-run", obj_id=flow_run_id)
    except (ValueError, TypeError):
        url = None
    shown = md_escape(flow_run_id)
    return f"- triggered by flow run [{shown}]({url})" if url else f"- triggered by flow run {shown}"


def _flag_rule(result) -> str:
    if result.flag_rate is not None:
        return f"calibrated per sensor: flag rate {result.flag_rate:g}"
    return f"threshold {result.threshold:.5g}" if result.threshold is not None else "no threshold"


def scoring_markdown(result, triggered_by: str = "", plot_url: str | None = None) -> str:
    plan = result.plan
    lines = [
        f"# scores of {md_escape(plan.model_name)} version {md_escape(plan.version)}",
        "",
        f"- input snapshot: {md_escape(plan.snapshot_id)}; scores snapshot: {md_escape(result.snapshot_id)}",
        f"- rows scored: {result.rows_scored}; values flagged: {result.values_flagged}; {_flag_rule(result)}",
    ]
    if plot_url:
        lines.append(f"- worst anomaly plot: {file_link('image', plot_url)}")
    if triggered_by:
        lines.append(trigger_markdown(triggered_by))
    return "\n".join(lines) + "\n"


def scoring_text(result, plot_url: str | None, triggered_by: str = "") -> str:
    plan = result.plan
    by = f"; triggered by flow run {triggered_by}" if triggered_by else ""
    if result.snapshot_id is None:
        return f"score_sensors: nothing new to score with {plan.model_name} version {plan.version} (store snapshot {plan.snapshot_id}){by}"
    out = [
        f"score_sensors: {plan.model_name} version {plan.version} on snapshot {plan.snapshot_id}",
        f"  rows scored:         {result.rows_scored} ({plan.time(plan.rows[0])} to {plan.time(plan.rows[1])})",
        f"  values flagged:      {result.values_flagged} ({_flag_rule(result)})",
        f"  snapshot:            {result.snapshot_id}",
        f"  scores:              {plan.store_url} group scores/{plan.model_name}",
    ]
    for a in result.anomalies[:3]:
        also = f" (with {', '.join(a.sensors[1:4])}{' ...' if len(a.sensors) > 4 else ''})" if len(a.sensors) > 1 else ""
        out.append(f"  anomaly:             {a.sensor}{also} {a.start} to {a.end}, peak {a.peak_score:.4g}" + (f" ({a.detail[:80]})" if a.detail else ""))
    if plot_url:
        out.append(f"  worst anomaly plot:  {plot_url}")
    if triggered_by:
        out.append(f"  triggered by:        flow run {triggered_by}")
    return "\n".join(out)


def confusion_png(confusion: list[list[int]], classes: list[str], title: str) -> bytes:
    """A confusion matrix: rows are the labels, columns the predictions."""
    import numpy as np

    plt, fig, (ax,) = _figure(height=max(3.2, 0.45 * len(classes) + 1.5))
    m = np.asarray(confusion)
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=90)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("label")
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m[i, j]:
                ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=7, color="white" if m[i, j] > m.max() / 2 else "black")
    ax.set_title(title)
    data = png_bytes(fig)
    plt.close(fig)
    return data


def rejected_rows(rejected, empty_classes: list[str] = ()) -> list[dict]:
    rows = [{"file": r.file, "reason": r.reason} for r in rejected]
    return rows + [{"file": c + "/", "reason": "class folder without a usable image: not a class"} for c in empty_classes]


def publish_image_training_artifacts(card, result, curves_url: str) -> None:
    from prefect.artifacts import create_markdown_artifact

    rows = [{"metric": k, "value": v} for k, v in card.scores.items()]
    rows += [{"metric": f"accuracy[{c}]", "value": v} for c, v in card.class_accuracy.items()]
    rows.append({"metric": "promoted", "value": card.promoted})
    publish_table(key="image-train-metrics", table=rows, description=f"{card.name} version {card.version}: {card.promotion_reason}")
    publish_image(key="image-train-curves", path=curves_url, description=f"Training curves of {card.name} version {card.version}")
    publish_table(key="image-train-rejected", table=rejected_rows(result.rejected, result.empty_classes) or [{"file": "", "reason": "none"}], description="Files and folders left out, with the reason")
    create_markdown_artifact(key="image-train-summary", markdown=image_training_markdown(card, result, curves_url), description="image_classifier outcome")


def image_training_markdown(card, result, curves_url: str = "") -> str:
    s = card.scores
    lines = [
        f"# {md_escape(card.name)} version {md_escape(card.version)}",
        "",
        f"- classes: {len(card.classes)} ({md_escape(', '.join(card.classes[:20]))}{' ...' if len(card.classes) > 20 else ''})",
        f"- images: {s.get('train_images')} training, {s.get('validation_images')} validation, {len(result.rejected)} rejected",
        f"- validation accuracy: {s.get('validation_accuracy'):.4f} (loss {s.get('validation_loss'):.4g}) after {s.get('epochs_run')} epochs",
        f"- promoted: {'yes' if card.promoted else 'no'}: {md_escape(card.promotion_reason)}",
        f"- model card: {file_link('card.json', result.card_url)}",
    ]
    if curves_url:
        lines.append(f"- training curves: {file_link('image', curves_url)}")
    return "\n".join(lines) + "\n"


def image_training_text(card, result) -> str:
    s = card.scores
    out = [
        f"image_classifier: {card.name} version {card.version}",
        f"  classes:             {len(card.classes)} ({', '.join(card.classes[:10])}{' ...' if len(card.classes) > 10 else ''})",
        f"  images:              {s.get('train_images')} training, {s.get('validation_images')} validation, {len(result.rejected)} rejected",
        f"  validation accuracy: {s.get('validation_accuracy'):.4f} (loss {s.get('validation_loss'):.4g}, {s.get('epochs_run')} epochs)",
        f"  promoted:            {'yes' if card.promoted else 'no'}: {card.promotion_reason}",
        f"  model card:          {result.card_url}",
    ]
    out += [f"  rejected:            {r['file']}: {r['reason']}" for r in rejected_rows(result.rejected, result.empty_classes)[:20]]
    return "\n".join(out)


def publish_classification_artifacts(result, png_url: str | None) -> None:
    publish_table(
        key="classify-predictions",
        table=result.rows,
        description=f"{result.model_name} version {result.version}: file, class, confidence ({result.images} images; all in {result.predictions_url})",
    )
    if png_url:
        publish_image(key="classify-confusion", path=png_url, description=f"Confusion matrix over {result.labelled} labelled images, accuracy {result.accuracy:.4f}")
    if result.rejected:
        publish_table(key="classify-rejected", table=rejected_rows(result.rejected), description="Files that are not usable images, with the reason")


def classification_text(result, png_url: str | None) -> str:
    out = [
        f"classify_images: {result.model_name} version {result.version}",
        f"  images classified:   {result.images} ({len(result.rejected)} rejected)",
        f"  predictions:         {result.predictions_url}",
    ]
    if result.accuracy is not None:
        out.append(f"  accuracy:            {result.accuracy:.4f} over {result.labelled} labelled images")
    if png_url:
        out.append(f"  confusion matrix:    {png_url}")
    out += [f"  rejected:            {r.file}: {r.reason}" for r in result.rejected[:20]]
    return "\n".join(out)


def log_accounting_rows(summary) -> list[dict]:
    return [
        {
            "file": f.file.shown, "format": f.format, "status": f.status, "from_line": f.line_base + 1, "lines": f.lines, "event_lines": f.event_lines,
            "unparsed": f.unparsed, "blank": f.blank, "events": f.events, "stored": f.stored, "invalid": f.invalid, "pending_bytes": f.pending,
            "balanced": f.balanced, "message": md_escape(f.message)[:300],
        }
        for f in summary.files
    ]


def publish_log_artifacts(summary) -> None:
    from prefect.artifacts import create_markdown_artifact

    publish_table(key="log-ingest-accounting", table=log_accounting_rows(summary) or [{"file": "", "status": "no new files"}], description="Per file: lines = event lines + unparsed + blank; events = stored + invalid")
    create_markdown_artifact(key="log-ingest-summary", markdown=log_summary_markdown(summary), description="log_ingest outcome")


def log_summary_line(summary) -> str:
    """The run's last log line: what it did, in one line."""
    return (
        f"log_ingest: {len(summary.files)} file(s) read, {len(summary.skipped)} with nothing new, {len(summary.failed)} failed; "
        f"{sum(f.events for f in summary.files)} events, {sum(f.unparsed + f.invalid for f in summary.files)} lines quarantined, "
        f"{summary.templates} templates ({summary.new_templates} new); "
        + (f"snapshot {summary.snapshot_id}" if summary.snapshot_id else "nothing committed")
    )


def log_summary_markdown(summary) -> str:
    events = sum(f.events for f in summary.files)
    return "\n".join(
        [
            "# log_ingest",
            "",
            f"- snapshot: {md_escape(summary.snapshot_id)}",
            f"- files: {len(summary.files)} read, {len(summary.skipped)} with nothing new, {len(summary.failed)} failed",
            *[f"  - failed: {md_escape(why)}" for why in summary.failed],
            f"- events: {events}, stored {sum(f.stored for f in summary.files)}, invalid {sum(f.invalid for f in summary.files)}; unparsed lines {sum(f.unparsed for f in summary.files)}",
            f"- templates: {summary.templates} ({summary.new_templates} new)",
            f"- quarantine: {file_link('quarantined lines', summary.quarantine_url)}",
        ]
    ) + "\n"


def log_summary_text(summary) -> str:
    out = [
        f"log_ingest run {summary.run_id}",
        f"  files read:          {len(summary.files)} (already ingested: {len(summary.skipped)})",
        f"  lines:               {sum(f.lines for f in summary.files)} ({sum(f.unparsed for f in summary.files)} unparsed, quarantined)",
        f"  events:              {sum(f.events for f in summary.files)} ({sum(f.stored for f in summary.files)} counted, {sum(f.invalid for f in summary.files)} invalid)",
        f"  templates:           {summary.templates} ({summary.new_templates} new)",
        f"  snapshot:            {summary.snapshot_id}",
        f"  store:               {summary.store_url} group logs",
        f"  quarantine:          {summary.quarantine_url}",
    ]
    if summary.files:
        out.append("  per file (format, lines read from line, events, quarantined lines; a partial last line waits for the next run):")
    for f in summary.files[:50]:
        where = f" from line {f.line_base + 1}" if f.line_base else ""
        waits = f", {f.pending} bytes of a partial line wait" if f.pending else ""
        status = "" if f.status == "ok" else f" [{f.status}: {f.message}]"
        out.append(f"    {f.file.name}: {f.format or '-'}, {f.lines} lines{where}, {f.events} events, {f.unparsed + f.invalid} quarantined{waits}{status}")
    if len(summary.files) > 50:
        out.append(f"    ... and {len(summary.files) - 50} more (the log-ingest-accounting artifact lists them all)")
    out += [f"  failed:              {why}" for why in summary.failed]
    return "\n".join(out)


def gc_markdown(report) -> str:
    """The `store_gc` artifact: snapshots kept and why, expired, bytes freed."""
    lines = [
        "# Store snapshots collected" + (" (dry run)" if report.dry_run else ""),
        f"- snapshots: {report.snapshots_before} before, {report.snapshots_after} after",
        f"- expired: {len(report.expired)}",
    ]
    if report.bytes_freed is not None:
        lines.append(f"- freed: {report.bytes_freed:,} bytes in {report.objects_deleted:,} object(s)")
    lines += ["", "| kept snapshot | why |", "|---|---|"]
    lines += [f"| {md_escape(snap)} | {md_escape(why)} |" for snap, why in report.kept.items()]
    return "\n".join(lines)


def publish_gc(report) -> None:
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(key="store-gc", markdown=gc_markdown(report), description="store_gc outcome")
