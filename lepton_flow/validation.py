"""Great Expectations: load a suite, validate a frame, split good and bad rows.

Suites are data: `expectations/<dataset>.json`, loaded at run time, one
generic validation for every dataset. Each expectation's `meta.name` is the
reason a failing row carries into quarantine.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

_LOCK = threading.Lock()


class ValidationError(ValueError):
    """A batch failed its suite badly enough to be rejected whole."""


def expectations_dir() -> Path:
    return Path(os.environ.get("LEPTON_EXPECTATIONS_DIR") or Path(__file__).resolve().parents[1] / "expectations")


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
        "min_timestamp": pd.Timestamp(os.environ.get("LEPTON_MIN_TIMESTAMP", "1970-01-01T00:00:00Z")),
        "max_timestamp": pd.Timestamp(now + timedelta(days=1)),
    }


def _batch_definition():
    """A whole-frame batch definition in a new ephemeral context.

    New for every batch: GX's execution engine caches the metrics it resolved
    (Series of the batch's length among them) for the life of its context, so a
    long-lived context grows by about 12 MB per million readings validated.
    Making one takes milliseconds.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_pandas("lepton")
    return source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")


@lru_cache(maxsize=16)
def load_suite(dataset: str):
    import great_expectations as gx

    return gx.ExpectationSuite(**json.loads(suite_spec(dataset)))


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


def validate_frame(frame: pd.DataFrame, dataset: str) -> ValidationOutcome:
    """Run the dataset's suite over `frame` (index 0..n-1) and name each failing row's reason."""
    suite = load_suite(dataset)
    n = len(frame)
    reasons = np.full(n, None, dtype=object)
    if n == 0:
        return ValidationOutcome(reasons=reasons)
    frame = frame.reset_index(drop=True)
    with _LOCK:
        result = _batch_definition().get_batch(batch_parameters={"dataframe": frame}).validate(
            suite, result_format={"result_format": "COMPLETE"}, expectation_parameters=run_parameters()
        )
    summary = []
    for item in result.results:
        config = item.expectation_config
        name = (config.meta or {}).get("name") or f"{config.type}({config.kwargs.get('column')})"
        if item.exception_info and item.exception_info.get("raised_exception"):
            raise ValidationError(f"expectation {name} could not run: {item.exception_info.get('exception_message')}")
        index = np.asarray(item.result.get("unexpected_index_list") or [], dtype=np.int64)
        if index.size:
            current = reasons[index]
            reasons[index] = np.where(current == None, name, current.astype(str) + "; " + name)  # noqa: E711
        summary.append(
            {
                "expectation": name,
                "type": config.type,
                "column": config.kwargs.get("column"),
                "success": bool(item.success),
                "unexpected": int(index.size),
                "first_row": int(index[0]) if index.size else None,
            }
        )
    compact = result.to_json_dict()
    for item in compact.get("results", []):
        # Index lists can hold millions of entries; the docs need counts.
        for key in ("unexpected_index_list", "unexpected_list", "partial_unexpected_index_list", "unexpected_index_query"):
            item.get("result", {}).pop(key, None)
    return ValidationOutcome(reasons=reasons, expectations=summary, result_json=compact)


def build_data_docs(project_dir: str, results: list[tuple[str, str, dict]], dataset: str) -> str:
    """Write a GX Data Docs site for these validation results.

    `results` holds (run name, batch id, result JSON). Returns the index page.
    """
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    with _LOCK:
        context = gx.get_context(mode="file", project_root_dir=project_dir)
        names = {s.name for s in context.suites.all()}
        suite = gx.ExpectationSuite(**json.loads(suite_spec(dataset)))
        if dataset in names:
            context.suites.delete(dataset)
        context.suites.add(suite)
        schema = ExpectationSuiteValidationResultSchema()
        for run_name, batch_id, result in results:
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=dataset),
                run_id=RunIdentifier(run_name=run_name),
                batch_identifier=batch_id,
            )
            context.validation_results_store.set(key, schema.load(result))
        sites = context.build_data_docs()
    return next(iter(sites.values())).removeprefix("file://")
