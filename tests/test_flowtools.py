"""Retry policy: transient errors are retried, bad input is not."""

from __future__ import annotations

import pytest
from prefect.states import Completed, Failed

from lepton_flow.flowtools import FileFailure, retry_transient
from lepton_flow.sources import SourceError
from lepton_flow.store import StoreConflict


@pytest.mark.parametrize(
    "error, retried",
    [
        (OSError("connection reset by peer"), True),
        (TimeoutError("read timed out"), True),
        (SourceError("a.csv: no timestamp column"), False),
        (StoreConflict("the store moved"), False),
        (ValueError("unknown cleaning step"), False),
    ],
)
def test_retry_only_what_may_pass_next_time(error, retried):
    assert retry_transient(None, None, Failed(data=error)) is retried


def test_a_completed_state_is_not_retried():
    assert retry_transient(None, None, Completed(data=1)) is False


def test_sensor_and_log_rejections_are_one_outcome_and_become_one_kind_of_failure():
    """Both ingest tasks return a FileOutcome; a rejected one is a FileFailure marked rejected, the rest pass on."""
    from lepton_flow.flowtools import outcomes
    from lepton_flow.ingest import StagedRef
    from lepton_flow.logs.ingest import NOT_A_LOG, LogFileRef
    from lepton_flow.sources import SourceFile

    def file(name):
        return SourceFile(url=f"/d/{name}", name=name, sha256="0" * 64, size=1)

    sensor = dict(staged=0, windows=[], sensors=[], metrics=[], units={})
    refs = [
        StagedRef(file=file("a.csv"), records=3, quarantined=0, **sensor),
        StagedRef(file=file("b.csv"), records=4, quarantined=4, status="rejected", message="/d/b.csv: only 0.0% passed", **sensor),
    ]
    kept, rejected = outcomes(refs, "ingest")
    assert [r.file.name for r in kept] == ["a.csv"] and kept[0].accepted
    assert [(f.file, f.rejected, f.records, f.quarantined, f.described) for f in rejected] == [("/d/b.csv", True, 4, 4, "/d/b.csv: only 0.0% passed")]
    log = dict(format=None, lines=1, blank=0, event_lines=0, events=0, unparsed=1)
    refs = [LogFileRef(file=file("LICENSE"), status=NOT_A_LOG, message="not a log", **log), LogFileRef(file=file("x.log"), status="rejected", message="x.log: only 10%", **log)]
    kept, rejected = outcomes(refs, "read")
    assert [r.file.name for r in kept] == ["LICENSE"] and not kept[0].accepted  # recorded, not a failure
    assert [(f.file, f.rejected) for f in rejected] == [("/d/x.log", True)]
    assert not FileFailure(file="a", stage="read", message="m").rejected  # a failure unless said rejected


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
