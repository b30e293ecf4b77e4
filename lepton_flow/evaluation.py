"""How well a model's scores find labelled incidents: `lepton-flow evaluate --labels FILE`.

A labels file is a CSV with a header `sensor,start,end` (ISO 8601 times,
UTC when no offset is given; `end` inclusive): one incident window per line.
Or a corpus's JSON as NAB publishes its labels (`combined_windows.json`:
each data file's path to its windows, `[start, end]`; `combined_labels.json`:
to its anomalous times): each file's sensor is the id its name gives at
ingest, and the files whose sensors the scores do not hold are left out; a
file listed without any (NAB's `artificialNoAnomaly`) is evaluated as
normal throughout: its events are false, its flags counted.
For each model that has scored the store, on the same data:

- incidents hit by the top-k events (k: the number of incidents, unless
  given): an event hits an incident when it flags that incident's sensor at
  a time inside its window;
- event-level precision (events overlapping an incident of one of their
  sensors / events) and recall (incidents overlapped by an event /
  incidents) of all the flags;
- per-point ROC AUC of the stored score (a row's error, or where higher
  the mean error of the model windows that hold it or its stretch's average
  over 4 and 16 windows) against "inside an incident", per labelled sensor,
  and its median.

Reads only the store's `scores/<model>` groups and the registry's cards;
no model is run.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from lepton_flow import store
from lepton_flow.models.calibration import surprise
from lepton_flow.models.windows import anomaly_events, anomaly_runs
from lepton_flow.settings import Settings, get_settings


class LabelsError(ValueError):
    """The labels file cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Incident:
    sensor: str
    start: np.datetime64
    end: np.datetime64
    corpus: bool = False
    """From a corpus's labels (NAB's JSON), which name series a store need not hold."""

    @property
    def clean(self) -> bool:
        """A corpus's series listed without incidents (NAB's `artificialNoAnomaly`): start and end are NaT."""
        return bool(np.isnat(self.start))


def _utc(text, where: str) -> np.datetime64:
    import pandas as pd

    try:
        t = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise LabelsError(f"{where}: not a time: {exc}") from exc
    if t is pd.NaT:
        raise LabelsError(f"{where}: not a time: {text!r}")
    return np.datetime64(t.tz_convert("UTC").tz_localize(None) if t.tzinfo else t, "ns")


def _load_corpus(path: str) -> list[Incident]:
    """NAB's labels: `{"dir/file.csv": [[start, end], ...]}` (windows) or `{"dir/file.csv": [time, ...]}` (points)."""
    import json

    from lepton_flow.settings import file_stem

    try:
        with open(path, encoding="utf-8") as fh:
            corpus = json.load(fh)
    except json.JSONDecodeError as exc:
        raise LabelsError(f"{path}: line {exc.lineno}: not JSON ({exc.msg})") from exc
    if not isinstance(corpus, dict):
        raise LabelsError(f"{path}: expected an object of data files to their windows, as NAB's combined_windows.json")
    out = []
    for name, labels in corpus.items():
        if not isinstance(labels, list):
            raise LabelsError(f"{path}: {name}: expected a list of windows [start, end] or of times")
        if not labels:  # a series labelled as having none: its flags are all false, and counted
            out.append(Incident(file_stem(name), np.datetime64("NaT", "ns"), np.datetime64("NaT", "ns"), corpus=True))
        for i, label in enumerate(labels):
            where = f"{path}: {name}[{i}]"
            if isinstance(label, list) and len(label) == 2:
                start, end = _utc(label[0], where), _utc(label[1], where)
            elif isinstance(label, str):
                start = end = _utc(label, where)
            else:
                raise LabelsError(f"{where}: expected [start, end] or a time")
            if end < start:
                raise LabelsError(f"{where}: its end is before its start")
            out.append(Incident(file_stem(name), start, end, corpus=True))
    return out


def load_labels(path: str) -> list[Incident]:
    """Incident windows from a `sensor,start,end` CSV or a corpus's JSON; raises `LabelsError` naming the file and line."""
    import pandas as pd

    out = []
    if path.lower().endswith(".json"):
        try:
            out = _load_corpus(path)
        except OSError as exc:
            raise LabelsError(f"{path}: cannot read the labels file ({exc.strerror or exc})") from exc
        if not out:
            raise LabelsError(f"{path}: no incidents listed")
        return out
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = {"sensor", "start", "end"} - set(reader.fieldnames or [])
            if missing:
                raise LabelsError(f"{path}: line 1: the header needs sensor,start,end (missing {', '.join(sorted(missing))})")
            for line, row in enumerate(reader, start=2):
                try:
                    start, end = (pd.Timestamp(row[k]) for k in ("start", "end"))
                except (ValueError, TypeError) as exc:
                    raise LabelsError(f"{path}: line {line}: not a time: {exc}") from exc
                start, end = (t.tz_convert("UTC").tz_localize(None) if t.tzinfo else t for t in (start, end))
                if end < start or not row["sensor"]:
                    raise LabelsError(f"{path}: line {line}: an incident needs a sensor and an end not before its start")
                out.append(Incident(row["sensor"], np.datetime64(start, "ns"), np.datetime64(end, "ns")))
    except OSError as exc:
        raise LabelsError(f"{path}: cannot read the labels file ({exc.strerror or exc})") from exc
    if not out:
        raise LabelsError(f"{path}: no incidents listed")
    return out


class ModelEvaluation(BaseModel):
    model: str
    version: str | None = None
    incidents: int
    top_k: int
    hits_in_top_k: int
    events: int
    event_precision: float | None
    event_recall: float | None
    auc_per_sensor: dict[str, float | None]
    median_auc: float | None
    flag_rate: float


def roc_auc(score: np.ndarray, positive: np.ndarray) -> float | None:
    """Area under the ROC curve of `score` for `positive` (ties counted half); None without both classes."""
    finite = np.isfinite(score)
    score, positive = score[finite], positive[finite]
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return None
    from scipy.stats import rankdata

    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def evaluate_model(url: str, model: str, incidents: list[Incident], top_k: int | None = None, gap: int = 0) -> ModelEvaluation:
    """Score a model's stored scores against the incidents (see the module's text)."""
    ds = store.open_scores(url, model).load()
    attrs = store.scored_attrs(url, model)
    sensors = [str(s) for s in ds.sensor.values]
    times = ds.time.values
    score, flag = ds.score.values.astype(np.float64), ds.flag.values.astype(bool)
    rank = surprise(ds.tail_p.values) if "tail_p" in ds and np.isfinite(ds.tail_p.values).any() else score
    column = {s: i for i, s in enumerate(sensors)}
    incidents = [i for i in incidents if not i.corpus or i.sensor in column]  # a corpus's other series
    if not incidents:
        raise LabelsError(f"the labels name none of the sensors {model}'s scores hold ({', '.join(sensors[:10])}{' ...' if len(sensors) > 10 else ''})")
    unknown = sorted({i.sensor for i in incidents} - set(column))
    if unknown:
        raise LabelsError(f"labels name sensor(s) {', '.join(unknown)} that {model}'s scores do not hold ({', '.join(sensors[:10])}{' ...' if len(sensors) > 10 else ''})")
    incidents = [i for i in incidents if not i.clean]  # the series a corpus lists without any: their flags count as false
    spans = [(column[i.sensor], int(np.searchsorted(times, i.start, "left")), int(np.searchsorted(times, i.end, "right")) - 1) for i in incidents]
    events = anomaly_events(anomaly_runs(flag, np.nan_to_num(rank, nan=-np.inf), 0), gap)

    def hits(event, span) -> bool:
        col, a, b = span
        return any(c == col for c, _ in event[3]) and event[0] <= b and event[1] >= a and bool(flag[max(a, event[0]) : min(b, event[1]) + 1, col].any())

    k = top_k or len(incidents)
    top = events[:k]
    hit_top = sum(1 for span in spans if any(hits(e, span) for e in top))
    overlapping = sum(1 for e in events if any(hits(e, span) for span in spans))
    found = sum(1 for span in spans if any(hits(e, span) for e in events))
    positive = np.zeros(score.shape, bool)
    for col, a, b in spans:
        positive[a : b + 1, col] = True
    auc = {sensors[col]: roc_auc(score[:, col], positive[:, col]) for col in sorted({c for c, _, _ in spans})}
    known = [v for v in auc.values() if v is not None]
    held = np.isfinite(score)
    return ModelEvaluation(
        model=model,
        version=None if attrs.get("version") is None else str(attrs.get("version")),
        incidents=len(incidents),
        top_k=k,
        hits_in_top_k=hit_top,
        events=len(events),
        event_precision=overlapping / len(events) if events else None,
        event_recall=found / len(spans) if spans else None,
        auc_per_sensor=auc,
        median_auc=float(np.median(known)) if known else None,
        flag_rate=float(flag[held].mean()) if held.any() else 0.0,
    )


def evaluate(labels_path: str, models: list[str] | None = None, top_k: int | None = None, settings: Settings | None = None) -> list[ModelEvaluation]:
    """Every scored model (or those named) against one labels file."""
    from lepton_flow.registry import Registry, RegistryError

    settings = settings or get_settings()
    incidents = load_labels(labels_path)
    if not store.exists(settings.store):
        raise store.StoreError(f"no store at {settings.store}: ingest and score first")
    scored = store.scored_models(settings.store)
    names = models or scored
    missing = [m for m in names if m not in scored]
    if missing or not names:
        raise store.StoreError(f"no scores of {', '.join(missing) or 'any model'} in {settings.store} (scored: {', '.join(scored) or 'none'}): run score-sensors first")
    out = []
    for name in names:
        try:
            card = Registry(settings.models).card(name, str(store.scored_attrs(settings.store, name).get("version")))
            gap = card.window
        except RegistryError:
            gap = 0
        out.append(evaluate_model(settings.store, name, incidents, top_k, gap))
    return out


def describe(results: list[ModelEvaluation]) -> str:
    """A table a person reads: one row per model."""
    def pct(v):
        return "-" if v is None else f"{v:.3f}"

    lines = ["| model | version | incidents hit by the top k events | event precision | event recall | median per-point AUC | points flagged |", "|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r.model} | {r.version or '-'} | {r.hits_in_top_k} of {r.incidents} (k={r.top_k}) | {pct(r.event_precision)} | {pct(r.event_recall)} | {pct(r.median_auc)} | {100 * r.flag_rate:.3f}% |")
    return "\n".join(lines)
