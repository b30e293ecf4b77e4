"""The data root's reports, read-only over HTTP, so that artifacts link to files instead of naming paths.

`lepton-flow up` serves them beside the Prefect UI (loopback by default).
Only the folders a person opens from an artifact are served: Data Docs,
reports (plots), quarantine, model cards and run logs; never the Prefect
database, staging or the store's objects. GET and HEAD only; a path that
leaves a served folder (`..`, a symlink) is not found. Only Data Docs are
served as HTML: a page anywhere else (a quarantined file named `x.html`)
comes as text.
"""

from __future__ import annotations

import html
import http.server
import os
import threading
from functools import partial
from urllib.parse import quote, unquote, urlsplit

from lepton_flow.settings import is_local

DATA_DOCS = "gx/gx/uncommitted/data_docs"
SERVED = (DATA_DOCS, "reports", "quarantine", "models", "run-logs")
AS_TEXT = {".html", ".htm", ".xhtml", ".svg", ".xml", ".js", ".mjs"}


def url_for(path: str | None, settings=None) -> str | None:
    """The URL at which `path` (under the data root, in a served folder) is served; None where it is not."""
    from lepton_flow.settings import get_settings

    settings = settings or get_settings()
    base = settings.files_base
    if not path or not base or not is_local(path) or not is_local(settings.data_root):
        return None
    root = os.path.realpath(settings.data_root)
    full = os.path.realpath(path.removeprefix("file://"))
    rel = os.path.relpath(full, root)
    if rel.startswith(os.pardir) or not _served(rel):
        return None
    tail = "/" if os.path.isdir(full) else ""
    return f"{base}/{quote(rel.replace(os.sep, '/'))}{tail}"


def _served(rel: str) -> bool:
    rel = rel.replace(os.sep, "/")
    return any(rel == top or rel.startswith(top + "/") for top in SERVED)


class Handler(http.server.SimpleHTTPRequestHandler):
    server_version = "lepton-flow-files"
    sys_version = ""

    def translate_path(self, path: str) -> str:
        """The file for a URL path; `self.refused` when it is not in a served folder (after `..` and symlinks)."""
        rel = os.path.normpath(unquote(urlsplit(path).path).lstrip("/"))
        root = os.path.realpath(self.directory)
        full = os.path.realpath(os.path.join(root, rel))
        inside = os.path.relpath(full, root)
        self.refused = rel in (".", "") or inside.startswith(os.pardir) or not _served(inside)
        return full

    def send_head(self):
        if urlsplit(self.path).path in ("", "/"):
            return self.list_served()
        self.refused = True
        self.translate_path(self.path)
        if self.refused:
            self.send_error(404, "Not served")
            return None
        return super().send_head()

    def list_served(self):
        root = os.path.realpath(self.directory)
        items = "".join(f'<li><a href="/{quote(top)}/">{html.escape(top)}/</a></li>' for top in SERVED if os.path.isdir(os.path.join(root, top)))
        body = f"<!doctype html><title>lepton-flow files</title><h1>lepton-flow files</h1><ul>{items}</ul>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        import io

        return io.BytesIO(body)

    def guess_type(self, path) -> str:
        kind = super().guess_type(path)
        rel = os.path.relpath(os.path.realpath(str(path)), os.path.realpath(self.directory)).replace(os.sep, "/")
        if os.path.splitext(str(path))[1].lower() in AS_TEXT and not rel.startswith(DATA_DOCS + "/"):
            return "text/plain; charset=utf-8"
        return kind

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format, *args) -> None:  # requests are not worth a line each
        pass


class FileServer:
    """The server in a daemon thread; `url` is where it answers; `stop()` ends it."""

    def __init__(self, root: str, host: str = "127.0.0.1", port: int = 0):
        self.httpd = http.server.ThreadingHTTPServer((host, port), partial(Handler, directory=os.path.realpath(root)))
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="lepton-files", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
