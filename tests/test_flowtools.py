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


def test_a_busy_prefect_server_is_asked_again_and_other_errors_are_not():
    """A SQLite-backed server answers 503 while its database is locked (seen under load during `lepton-flow deploy`):
    api_request asks again, as Prefect's own client does; a 404 or a 500 comes back at once."""
    import http.server
    import threading

    from lepton_flow.services import api_request

    answers = {"/busy": [503, 503, 200], "/missing": [404, 200], "/broken": [500, 200]}
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_PATCH(self):
            seen.append(self.path)
            code = answers[self.path].pop(0)
            self.send_response(code)
            if code == 503:
                self.send_header("Retry-After", "0.05")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert api_request("PATCH", api, "/busy", {}).status_code == 200 and seen.count("/busy") == 3
        assert api_request("PATCH", api, "/missing", {}).status_code == 404 and seen.count("/missing") == 1
        assert api_request("PATCH", api, "/broken", {}).status_code == 500 and seen.count("/broken") == 1
    finally:
        server.shutdown()
        server.server_close()
