"""Great Expectations: load a suite, validate a frame, split good and bad rows.

Suites are data: `expectations/<dataset>.json`, loaded at run time, one
generic validation for every dataset. Each expectation's `meta.name` is the
reason a failing row carries into quarantine.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from lepton_flow.settings import get_settings

_LOCK = threading.Lock()


def _gx():
    """Great Expectations, imported with its analytics off (no calls home from a pipeline that may run offline)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations

    return great_expectations


class ValidationError(ValueError):
    """A batch failed its suite badly enough to be rejected whole."""


def expectations_dir() -> Path:
    return Path(get_settings().expectations_dir or Path(__file__).resolve().parents[1] / "expectations")


@lru_cache(maxsize=16)
def suite_spec(dataset: str) -> str:
    path = expectations_dir() / f"{dataset}.json"
    if not path.is_file():
        known = sorted(p.stem for p in expectations_dir().glob("*.json"))
        raise FileNotFoundError(f"no expectation suite {path} (known suites: {', '.join(known) or 'none'})")
    text = path.read_text()
    spec = json.loads(text)
    if spec.get("name") != dataset:
        raise ValueError(f"{path}: suite name {spec.get('name')!r} does not match the file name {dataset!r}")
    return text


def run_parameters() -> dict:
    """Suite parameters resolved at run time: the valid timestamp range."""
    now = datetime.now(timezone.utc)
    return {
        "min_timestamp": pd.Timestamp(get_settings().min_timestamp),
        "max_timestamp": pd.Timestamp(now + timedelta(days=1)),
    }


def _batch_definition():
    """A whole-frame batch definition in a new ephemeral context.

    New for every batch: GX's execution engine caches the metrics it resolved
    (Series of the batch's length among them) for the life of its context, so a
    long-lived context grows by about 12 MB per million readings validated.
    Making one takes milliseconds.
    """
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every pandas batch it loads (an MD5 of pandas' hash of
    # every cell, twice per validation: over half of validating a file of log
    # events) unless the frame passes this size; the fingerprint is only a
    # batch marker in the result, which identifies batches by run and file here.
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_pandas("lepton")
    return source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")


@dataclass
class ValidationOutcome:
    """Per-row reasons (None where the row passed) and the suite's results."""

    reasons: np.ndarray
    expectations: list[dict] = field(default_factory=list)
    result_json: dict = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return int(np.count_nonzero(self.reasons != None))  # noqa: E711 (elementwise)

    @property
    def success_rate(self) -> float:
        n = len(self.reasons)
        return 1.0 if n == 0 else (n - self.failed) / n


def _columns(spec: dict, columns) -> set[str]:
    """Columns an expectation reads: its column arguments and those its row condition names."""
    kwargs = spec.get("kwargs", {})
    named = {kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"), *(kwargs.get("column_list") or [])}
    condition = kwargs.get("row_condition") or ""
    text = " ".join(str(v) for v in condition.values()) if isinstance(condition, dict) else str(condition)
    return ({c for c in named if c} | set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))) & set(columns)


@lru_cache(maxsize=32)
def _split_suite(dataset: str, categorical: tuple[str, ...], columns: tuple[str, ...]):
    """The suite as (expectations over rows, expectations that read only dictionary columns).

    An expectation that reads only categorical columns gives the same answer
    for every row with the same values there, so it can be checked once per
    distinct combination: a file of a million readings holds a few hundred.
    """
    gx = _gx()

    spec = json.loads(suite_spec(dataset))
    order, by_row, by_value = [], [], []
    for item in spec["expectations"]:
        cols = _columns(item, columns)
        per_value = bool(cols) and cols <= set(categorical)
        (by_value if per_value else by_row).append(item)
        order.append((per_value, len(by_value if per_value else by_row) - 1))
    suites = [gx.ExpectationSuite(name=dataset, expectations=part) if part else None for part in (by_row, by_value)]
    return order, suites[0], suites[1], by_value


def _run(frame: pd.DataFrame, suite):
    with _LOCK:
        return _batch_definition().get_batch(batch_parameters={"dataframe": frame}).validate(
            suite, result_format={"result_format": "COMPLETE"}, expectation_parameters=run_parameters()
        )


_VALUE_RESULTS: OrderedDict = OrderedDict()  # (suite, distinct values) -> (GX result, its JSON): the last few, per process
_VALUE_RESULTS_KEPT = 8


def _run_on_values(combos: pd.DataFrame, suite, specs: list[dict]):
    """The suite of expectations that read only dictionary columns run over their distinct `combos`: the GX result and
    its JSON (a copy the caller may change).

    The files of one run mostly hold the same sensors, metrics and units, and GX's fixed cost per validation (80 ms
    for such a suite) was a tenth of ingesting a file of a million readings: a combination of values GX judged for
    this suite in this process is not judged again (the same values, compared whole, under the same suite; not
    when the suite takes run-time parameters).
    """
    if any("$PARAMETER" in json.dumps(spec.get("kwargs", {}), default=str) for spec in specs):
        result = _run(combos, suite)
        return result, result.to_json_dict()
    key = (id(suite), tuple(combos.columns), tuple(combos.itertuples(index=False, name=None)))
    with _LOCK:
        hit = _VALUE_RESULTS.get(key)
        if hit is not None and hit[0] is suite:
            _VALUE_RESULTS.move_to_end(key)
            return hit[1], copy.deepcopy(hit[2])
    result = _run(combos, suite)
    result_json = result.to_json_dict()
    with _LOCK:
        _VALUE_RESULTS[key] = (suite, result, copy.deepcopy(result_json))
        while len(_VALUE_RESULTS) > _VALUE_RESULTS_KEPT:
            _VALUE_RESULTS.popitem(last=False)
    return result, result_json


def _per_row_result(item: dict, rows: np.ndarray, considered: int, missing: int, unexpected_values: pd.Series) -> dict:
    """A per-combination result restated in rows, so Data Docs count readings, not combinations."""
    result = item.setdefault("result", {})
    n_rows = int(rows.size)
    counts = unexpected_values.value_counts().head(20)
    present = max(considered - missing, 0)
    result.update(
        element_count=considered,
        missing_count=missing,
        missing_percent=100.0 * missing / considered if considered else None,
        unexpected_count=n_rows,
        unexpected_percent=100.0 * n_rows / present if present else None,
        unexpected_percent_total=100.0 * n_rows / considered if considered else None,
        unexpected_percent_nonmissing=100.0 * n_rows / present if present else None,
        partial_unexpected_counts=[{"value": str(v), "count": int(c)} for v, c in counts.items()],
    )
    return item


def combinations(keys: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """The distinct rows of the categorical columns `keys`: each row's combination (numbered in order of first
    appearance, a missing value a value of its own), one row per combination, and how many rows hold each.

    Computed on the columns' category codes (a 1-million-row file: 30 ms; pandas' grouping took 110 ms);
    categories too many to number densely fall back to pandas.
    """
    n = len(keys)
    radix = [len(keys[c].cat.categories) + 1 for c in keys.columns]
    if math.prod(radix) > 4 * n + (1 << 16):
        group = keys.groupby(list(keys.columns), observed=True, dropna=False, sort=False).ngroup().to_numpy()
        _, first_row = np.unique(group, return_index=True)
    else:
        flat = np.zeros(n, np.int64)
        for column, r in zip(keys.columns, radix):
            flat = flat * r + (keys[column].cat.codes.to_numpy().astype(np.int64) + 1)  # code -1 (missing) -> 0
        first = np.full(math.prod(radix), n, np.int64)
        np.minimum.at(first, flat, np.arange(n, dtype=np.int64))
        present = np.flatnonzero(first < n)
        by_appearance = present[np.argsort(first[present], kind="stable")]
        dense = np.empty(len(first), np.int64)
        dense[by_appearance] = np.arange(len(present))
        group = dense[flat]
        first_row = first[by_appearance]
    return group, keys.iloc[first_row].reset_index(drop=True), np.bincount(group)


def validate_frame(frame: pd.DataFrame, dataset: str) -> ValidationOutcome:
    """Run the dataset's suite over `frame` (index 0..n-1) and name each failing row's reason.

    Expectations that read only dictionary (categorical) columns run once
    per distinct combination of those columns and their verdicts are mapped
    back to the rows; the rest run over every row. Each failing row's
    reasons follow the suite's order.
    """
    n = len(frame)
    reasons = np.full(n, None, dtype=object)
    if n == 0:
        return ValidationOutcome(reasons=reasons)
    frame = frame.reset_index(drop=True)
    categorical = tuple(c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype))
    order, row_suite, value_suite, value_specs = _split_suite(dataset, categorical, tuple(frame.columns))
    row_result = _run(frame, row_suite) if row_suite else None
    value_result, value_json, group, combos, sizes = None, {"results": []}, None, None, None
    if value_suite:
        group, combos, sizes = combinations(frame[list(categorical)])
        value_result, value_json = _run_on_values(combos, value_suite, value_specs)

    summary, results_json = [], []
    row_json = row_result.to_json_dict() if row_result else {"results": []}
    for per_value, position in order:
        item = (value_result if per_value else row_result).results[position]
        config = item.expectation_config
        name = (config.meta or {}).get("name") or f"{config.type}({config.kwargs.get('column')})"
        if item.exception_info and item.exception_info.get("raised_exception"):
            raise ValidationError(f"expectation {name} could not run: {item.exception_info.get('exception_message')}")
        index = np.asarray(item.result.get("unexpected_index_list") or [], dtype=np.int64)
        item_json = (value_json if per_value else row_json)["results"][position]
        if per_value:
            spec = value_specs[position]
            hit = np.zeros(len(combos), bool)
            hit[index] = True
            index = np.flatnonzero(hit[group])
            condition = spec["kwargs"].get("row_condition")
            considered_combos = combos.query(condition, engine="python").index.to_numpy() if condition else np.arange(len(combos))
            column = spec["kwargs"].get("column")
            null_combos = considered_combos[combos.loc[considered_combos, column].isna().to_numpy()] if column else np.array([], int)
            item_json = _per_row_result(
                item_json, index, int(sizes[considered_combos].sum()), int(sizes[null_combos].sum()),
                frame[column].iloc[index] if column else pd.Series(dtype=object),
            )
        if index.size:
            current = reasons[index]
            reasons[index] = np.where(current == None, name, current.astype(str) + "; " + name)  # noqa: E711
        for key in ("unexpected_index_list", "unexpected_list", "partial_unexpected_index_list", "unexpected_index_query"):
            # Index lists can hold millions of entries; the docs need counts.
            item_json.get("result", {}).pop(key, None)
        results_json.append(item_json)
        summary.append(
            {
                "expectation": name,
                "type": config.type,
                "column": config.kwargs.get("column"),
                "success": bool(index.size == 0),
                "unexpected": int(index.size),
                "first_row": int(index[0]) if index.size else None,
            }
        )
    compact = _with_verdicts(dict(row_json if row_result else value_json), results_json, [e["success"] for e in summary])
    return ValidationOutcome(reasons=reasons, expectations=summary, result_json=compact)


def _with_verdicts(result: dict, items: list[dict], successes: list[bool]) -> dict:
    """`result` holding `items` as its results, with its overall verdict and statistics from their `successes`."""
    passed = sum(successes)
    result["results"] = items
    result["success"] = passed == len(successes)
    result["statistics"] = {
        "evaluated_expectations": len(successes),
        "successful_expectations": passed,
        "unsuccessful_expectations": len(successes) - passed,
        "success_percent": 100.0 * passed / len(successes) if successes else None,
    }
    return result


_COUNTS = ("element_count", "missing_count", "unexpected_count")
PARTIAL = 20


def _merged_result(a: dict, b: dict) -> dict:
    """One expectation's result over two pieces of a file: counts added, percentages recomputed, examples pooled (first `PARTIAL`)."""
    out = dict(a)
    for key in _COUNTS:
        if isinstance(a.get(key), int) and isinstance(b.get(key), int):
            out[key] = a[key] + b[key]
    if all(k in out for k in _COUNTS):
        n, missing, bad = out["element_count"], out["missing_count"], out["unexpected_count"]
        present = max(n - missing, 0)
        for key, value in (
            ("missing_percent", 100.0 * missing / n if n else None),
            ("unexpected_percent", 100.0 * bad / present if present else None),
            ("unexpected_percent_total", 100.0 * bad / n if n else None),
            ("unexpected_percent_nonmissing", 100.0 * bad / present if present else None),
        ):
            if key in out:
                out[key] = value
    if "partial_unexpected_list" in out:
        out["partial_unexpected_list"] = (list(a.get("partial_unexpected_list") or []) + list(b.get("partial_unexpected_list") or []))[:PARTIAL]
    if "partial_unexpected_counts" in out:
        counts: dict[str, int] = defaultdict(int)
        for entry in list(a.get("partial_unexpected_counts") or []) + list(b.get("partial_unexpected_counts") or []):
            counts[json.dumps(entry.get("value"), default=str)] += int(entry.get("count", 0))
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:PARTIAL]
        out["partial_unexpected_counts"] = [{"value": json.loads(v), "count": c} for v, c in top]
    return out


def merge_results(a: dict, b: dict) -> dict:
    """The validation result of a file read in two pieces (each `validate_frame`'s `result_json`, same suite), as one result.

    Column-map expectations (every one the shipped suites hold) merge
    exactly: counts add up and verdicts are and-ed. An aggregate's observed
    value stays the first piece's.
    """
    results = []
    for x, y in zip(a.get("results", []), b.get("results", [])):
        item = dict(x)
        item["success"] = bool(x.get("success")) and bool(y.get("success"))
        item["result"] = _merged_result(x.get("result") or {}, y.get("result") or {})
        results.append(item)
    return _with_verdicts(dict(a), results, [r["success"] for r in results])


def escaped(result: dict) -> dict:
    """A validation result whose values from the data are HTML-escaped: GX's Data Docs write them into pages as they are.

    Unexpected values are sensor ids, metrics and units from source files: a
    sensor id `<img src=x onerror=...>` would run in whoever opens the page.
    Only the `result` and `exception_info` parts of each expectation's result
    carry such values; the suite's own configuration is left as written.
    """
    import html

    def walk(value):
        if isinstance(value, str):
            return html.escape(value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    out = dict(result)
    out["results"] = [
        {**item, **{part: walk(item[part]) for part in ("result", "exception_info") if part in item}} for item in result.get("results", [])
    ]
    return out


def _repair_working_copy(project_dir: str) -> None:
    """Remove unreadable JSON from the GX project's suite folder (a full disk left one empty); the suite is written anew from `expectations/`.

    The project under the data root is a working copy for Data Docs: the
    suites' source is `expectations/`, and `build_data_docs` adds the suite
    again on every call.
    """
    folder = Path(project_dir) / "gx" / "expectations"
    if not folder.is_dir():
        return
    for path in folder.glob("*.json"):
        try:
            json.loads(path.read_text())
        except (ValueError, OSError):
            path.unlink(missing_ok=True)


DATA_DOCS_LIMIT = 500
"""Validation results the Data Docs index lists (the latest); older pages stay on disk, unlisted."""


def build_data_docs(project_dir: str, results: list[tuple[str, str, dict]], dataset: str) -> str:
    """Add these validation results to the project's GX Data Docs site.

    `results` holds (run name, batch id, result JSON). Returns the index page.
    Renders the pages of these results and the suite, and the index over the
    latest `DATA_DOCS_LIMIT` results: GX's default rebuilds every page of
    every run so far, which on a 15-minute schedule grew by a second per
    hundred results, run after run.
    """
    gx = _gx()
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    with _LOCK:
        _repair_working_copy(project_dir)
        context = gx.get_context(mode="file", project_root_dir=project_dir)
        names = {s.name for s in context.suites.all()}
        suite = gx.ExpectationSuite(**json.loads(suite_spec(dataset)))
        if dataset in names:
            context.suites.delete(dataset)
        context.suites.add(suite)
        for name, site in context.list_data_docs_sites().items():
            index = dict(site.get("site_index_builder") or {"class_name": "DefaultSiteIndexBuilder"})
            if index.get("validation_results_limit") != DATA_DOCS_LIMIT:
                index["validation_results_limit"] = DATA_DOCS_LIMIT
                context.update_data_docs_site(name, {**site, "site_index_builder": index})
        schema = ExpectationSuiteValidationResultSchema()
        suite_key = ExpectationSuiteIdentifier(name=dataset)
        keys: list = [suite_key]
        for run_name, batch_id, result in results:
            key = ValidationResultIdentifier(expectation_suite_identifier=suite_key, run_id=RunIdentifier(run_name=run_name), batch_identifier=batch_id)
            context.validation_results_store.set(key, schema.load(escaped(result)))
            keys.append(key)
        sites = context.build_data_docs(resource_identifiers=keys)
    return next(iter(sites.values())).removeprefix("file://")
