"""Retry policy: transient errors are retried, bad input is not."""

from __future__ import annotations

import pytest
from prefect.states import Completed, Failed

from lepton_flow.flowtools import FileFailure, retry_transient
from lepton_flow.ingest import FileRejected
from lepton_flow.sources import SourceError
from lepton_flow.store import StoreConflict


@pytest.mark.parametrize(
    "error, retried",
    [
        (OSError("connection reset by peer"), True),
        (TimeoutError("read timed out"), True),
        (SourceError("a.csv: no timestamp column"), False),
        (FileRejected("a.csv: only 10% passed"), False),
        (StoreConflict("the store moved"), False),
        (ValueError("unknown cleaning step"), False),
    ],
)
def test_retry_only_what_may_pass_next_time(error, retried):
    assert retry_transient(None, None, Failed(data=error)) is retried


def test_a_completed_state_is_not_retried():
    assert retry_transient(None, None, Completed(data=1)) is False


def test_file_failure_knows_a_rejection():
    assert FileFailure(file="a", stage="validate", message="m", error="FileRejected").rejected
    assert not FileFailure(file="a", stage="read", message="m", error="SourceError").rejected
