"""Security of the model registry: Keras safe mode, and no name or version that leads out of the registry."""

from __future__ import annotations

import pytest

from lepton_flow.registry import CURRENT, ModelCard, Registry, RegistryError


def _card(name: str) -> ModelCard:
    return ModelCard(name=name, version="", kind="test", store_url="", snapshot_id="")


def test_a_model_that_would_run_code_on_load_is_refused(tmp_path):
    """A Lambda layer carries Python bytecode; safe mode refuses to deserialize it, naming the model and version."""
    import keras

    inputs = keras.Input((3,))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    registry = Registry(str(tmp_path / "models"))
    card = registry.save(keras.Model(inputs, outputs), _card("tampered"))
    registry.set_current("tampered", card.version)
    with pytest.raises(RegistryError, match=r"model 'tampered' version 1: refused to load .*Lambda"):
        registry.load_model("tampered")


def test_a_model_file_naming_classes_from_other_modules_is_refused_naming_the_file(tmp_path):
    """A .keras file whose config asks for `subprocess.Popen` as a layer: Keras raises a TypeError, the registry names the file."""
    import json
    import zipfile

    import keras

    inputs = keras.Input((3,))
    registry = Registry(str(tmp_path / "models"))
    card = registry.save(keras.Model(inputs, keras.layers.Dense(2)(inputs)), _card("edited"))
    path = tmp_path / "models" / "edited" / card.version / "model.keras"
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    config = json.loads(files["config.json"])
    config["config"]["layers"][1].update(module="subprocess", class_name="Popen")
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    with pytest.raises(RegistryError, match=r"model 'edited' version 1: refused to load .*edited/1/model.keras"):
        registry.load_model("edited", card.version)


def test_names_and_versions_stay_inside_the_registry(tmp_path):
    root = tmp_path / "models"
    registry = Registry(str(root))
    (tmp_path / "outside" / "1").mkdir(parents=True)
    (tmp_path / "outside" / "1" / "card.json").write_text(_card("outside").model_dump_json())
    for name in ("../outside", "..", "a/b", "", "-x"):
        with pytest.raises(RegistryError, match="is not a model name or version"):
            registry.resolve(name)
    # A `current` file edited to point elsewhere is refused, not followed.
    (root / "m" / "1").mkdir(parents=True)
    (root / "m" / "1" / "card.json").write_text(_card("m").model_copy(update={"version": "1"}).model_dump_json())
    (root / "m" / CURRENT).write_text("../../outside/1\n")
    with pytest.raises(RegistryError, match="current version '../../outside/1' is not one of its versions"):
        registry.resolve("m")
    assert registry.resolve("m", "1") == "1"


def test_a_secret_block_with_a_bad_value_names_the_block_and_the_field_never_the_value():
    from lepton_flow.credentials import CredentialsError, parse_keys

    assert parse_keys("keys", '{"aws_access_key_id": "id", "aws_secret_access_key": "s3cr3t"}') == {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s3cr3t"}
    for value, why in (("not json s3cr3t", "its value is not a JSON object"), (["s3cr3t"], "its value is not a JSON object"), ({"aws_access_key_id": "id", "secret": "s3cr3t"}, "missing aws_secret_access_key")):
        with pytest.raises(CredentialsError, match=f"Secret block 'keys': {why}") as err:
            parse_keys("keys", value)
        assert "s3cr3t" not in str(err.value)


def test_an_http_source_with_a_password_is_read_and_the_password_is_written_nowhere(tmp_path):
    """`--source http://user:pw@host/...` failed (http://http://...) and the password reached Prefect's database and the logs:
    the CLI hands it to the HTTP client and runs on the URL without it; a flow given such a URL refuses it."""
    import base64
    import functools
    import http.server
    import os
    import subprocess
    import sys
    import threading
    from pathlib import Path

    from flows.sensor_ingest import SensorIngestParams

    secret = "s3cr3t-Pa55"
    site = tmp_path / "site"
    site.mkdir()
    (site / "pump-1.csv").write_text("timestamp,temperature[C]\n2026-03-01T00:00:00Z,20.5\n2026-03-01T00:00:30Z,20.7\n")
    expected = "Basic " + base64.b64encode(f"reader:{secret}".encode()).decode()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.end_headers()
                return
            super().do_GET()

        def do_HEAD(self):
            self.do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://reader:{secret}@127.0.0.1:{server.server_address[1]}/pump-1.csv"
    try:
        with pytest.raises(ValueError, match=r"reader:\*\*\*@.* carries a password") as refused:
            SensorIngestParams(source=url)
        assert secret[:6] not in str(refused.value)  # pydantic's error does not echo the input either
        root = tmp_path / "data"
        env = {**os.environ, "LEPTON_DATA_ROOT": str(root), "LEPTON_DASK_WORKERS": "1", "PREFECT_HOME": str(root / "prefect-home"), "PREFECT_LOGGING_LEVEL": "DEBUG"}
        env.pop("PREFECT_API_URL", None)
        out = subprocess.run([sys.executable, "-m", "lepton_flow.cli", "run", "sensor-ingest", "--source", url], env=env, capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[1])
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
        assert "files ingested:      1" in out.stdout and "    stored:            2" in out.stdout
        assert "a local Dask cluster of 1 worker process(es) runs the tasks" in out.stderr  # a URL is not sized: a cluster
    finally:
        server.shutdown()
        server.server_close()
    from lepton_flow import store

    assert store.ledger.count(str(root / "store")) == 1
    assert secret not in out.stdout + out.stderr
    leaks = [str(p) for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert leaks == []  # the store, the ledger, Data Docs, quarantine, Prefect's database and its logs


def test_the_file_server_serves_only_the_report_folders_read_only(tmp_path):
    """What `lepton-flow up` serves beside the UI: reports, quarantine, model cards, run logs and Data Docs; not the
    Prefect database, staging or anything a `..`, an encoded `..` or a symlink reaches; a quarantined page comes as text."""
    from urllib.parse import quote

    import httpx

    from lepton_flow.fileserve import DATA_DOCS, FileServer

    HOSTILE = '<img src=x onerror="alert(1)">'

    root = tmp_path / "data"
    (root / "reports" / "train").mkdir(parents=True)
    (root / "reports" / "train" / "curves.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "prefect").mkdir()
    (root / "prefect" / "prefect.db").write_text("the server's database")
    (root / "staging").mkdir()
    (root / "quarantine").mkdir()
    (root / "quarantine" / f"{HOSTILE}.html").write_text(HOSTILE)
    (root / DATA_DOCS / "local_site").mkdir(parents=True)
    (root / DATA_DOCS / "local_site" / "index.html").write_text("<html><body>docs</body></html>")
    (root / "reports" / "db").symlink_to(root / "prefect")
    server = FileServer(str(root))
    try:
        get = lambda path: httpx.get(server.url + path, timeout=10)  # noqa: E731
        assert get("/reports/train/curves.png").headers["content-type"] == "image/png"
        assert get(f"/{DATA_DOCS}/local_site/index.html").headers["content-type"].startswith("text/html")
        page = get("/quarantine/" + quote(f"{HOSTILE}.html"))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain") and page.headers["x-content-type-options"] == "nosniff"
        listing = get("/quarantine/").text
        assert "<img" not in listing and "&lt;img" in listing  # the folder listing escapes names
        for path in ("/prefect/prefect.db", "/staging/", "/reports/../prefect/prefect.db", "/reports/%2e%2e/prefect/prefect.db", "/reports/db/prefect.db", "/%2fetc/passwd"):
            assert get(path).status_code == 404, path
        assert "prefect" not in get("/").text and "reports/" in get("/").text
        assert httpx.post(server.url + "/reports/train/curves.png", content=b"x").status_code == 501
        assert httpx.put(server.url + "/reports/train/new.png", content=b"x").status_code == 501
    finally:
        server.stop()
    assert not (root / "reports" / "train" / "new.png").exists()
