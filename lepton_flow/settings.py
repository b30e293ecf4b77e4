"""Settings read from `LEPTON_*` environment variables.

The same flows run on a laptop and at scale; only these values change. Every
location is an fsspec URL or a local path; local paths are made absolute so
that Dask worker processes started elsewhere resolve them the same way.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def join(url: str, *parts: str) -> str:
    """Join path parts onto a local path or an fsspec URL."""
    out = url.rstrip("/")
    for part in parts:
        out = f"{out}/{part.strip('/')}"
    return out


_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/@:\s]*):(?P<password>[^/@\s]+)@")
_SECRET_QUERY = re.compile(r"(?P<key>[?&](?:token|access_token|password|passwd|secret|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|api_key|apikey)=)[^&\s#]+", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with the passwords of URLs in it (`https://user:pw@host`) and secret query values (`?token=`, signatures) as `***`.

    Applied to everything lepton-flow writes about a source: logs, artifacts, the ledger, commit metadata, error messages.
    """
    return _SECRET_QUERY.sub(r"\g<key>***", _USERINFO.sub(r"\g<scheme>\g<user>:***@", text))


COMPRESSED = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bzip2", ".xz": "xz", ".lzma": "xz", ".zst": "zstd", ".zstd": "zstd"}
"""File name endings of compressed files, by what undoes them: gzip, and the bzip2, xz and zstd that logrotate's
`compresscmd` (and apt's `eipp.log.xz`) write."""


def file_stem(url: str) -> str:
    """A file's name without its directory, a compression's ending and its last extension: `s3://b/pump-a.csv.gz` -> `pump-a`."""
    from pathlib import PurePosixPath

    name = PurePosixPath(url.split("?", 1)[0]).name
    for suffix in COMPRESSED:  # as written (a sensor's name from `PUMP.CSV.GZ` stays `PUMP.CSV`, as it always was)
        name = name.removesuffix(suffix)
    return name.rsplit(".", 1)[0]


def resolve_location(url: str) -> str:
    """A local path made absolute with `..` and symlinks resolved, or a URL with its path normalised."""
    import posixpath

    if is_local(url):
        return os.path.realpath(os.path.expanduser(url.removeprefix("file://")))
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{posixpath.normpath(rest)}"


# Where `lepton-flow up` serves the data root's reports and Data Docs unless told otherwise.
FILES_PORT = 4201
FILES_URL = f"http://127.0.0.1:{FILES_PORT}"


SMALL_INPUT_MB = 64
"""With more than 2 local workers, an input under this many MiB runs in threads of the command (the measured size where
a command's tasks in threads still beat starting the cluster, on 2 cores; not measured with more)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEPTON_", extra="ignore")

    data_root: str = Field(
        "./data",
        description="Root for demo data, staging, quarantine, Data Docs and, by default, the store.",
    )
    store_url: str | None = Field(
        None, description="Icechunk repository location; default `<data_root>/store`."
    )
    s3_endpoint_url: str | None = Field(
        None, description="An S3-compatible server for s3:// sources and stores (unset: AWS); credentials from the AWS_* variables."
    )
    s3_secret_block: str | None = Field(
        None,
        description="Name of a Prefect Secret block holding the object store keys "
        '({"aws_access_key_id": ..., "aws_secret_access_key": ...}), read when AWS_ACCESS_KEY_ID is not set.',
    )
    dask_address: str | None = Field(
        None, description="Existing Dask scheduler (tcp://host:port); unset starts a local cluster."
    )
    dask_workers: int = Field(
        default_factory=lambda: max(1, min(4, os.cpu_count() or 1)),
        ge=1,
        le=256,
        description="Worker processes of the local cluster.",
    )
    dask_threads_per_worker: int = Field(1, ge=1, le=64)
    local_cluster_above_mb: int | None = Field(
        None,
        ge=0,
        description="A `lepton-flow run` whose input files on this machine total less (compressed files counted eight times), "
        "or a deployed ingest run whose new files do, runs its tasks in threads of its own process instead of starting a "
        "local Dask cluster (seconds of start-up, and a process per worker importing what the tasks need); 0: always start "
        "the cluster. Unset: no limit where the local "
        "cluster would have at most 2 workers (threads were as fast or faster at every size measured there, with half the "
        "memory), 64 MiB with more. Not used with LEPTON_DASK_ADDRESS.",
    )
    models_url: str | None = Field(
        None, description="Model registry location; default `<data_root>/models`."
    )
    source_roots: str = Field(
        "",
        description="Comma-separated directories or URL prefixes that sources must lie under, after `..` and symlinks are resolved; empty: any source. Set it where people other than the operator start runs (the UI).",
    )
    max_expansion: int = Field(
        200,
        ge=1,
        description="A compressed source (gzip, bzip2, xz, zstd) may decompress to this many times its size (past 64 MiB) before it is refused as a decompression bomb.",
    )
    log_settle_seconds: int = Field(
        300,
        ge=0,
        description="A log or line-oriented sensor file's partial last line (no line end yet) waits for a later run while the file was written to within this many seconds; after that it is read as a line.",
    )
    heartbeat_grace_seconds: int = Field(
        90,
        ge=45,
        description="A deployed flow run that sent a heartbeat (every 30 s) and then none for this many seconds (its worker or host died) is marked Crashed, releasing its store lock; `lepton-flow deploy` sets it.",
    )
    gpus_per_host: int | None = Field(None, ge=1, description="GPUs each worker host has (the `gpu` concurrency limit `lepton-flow deploy` sets); default: nvidia-smi's count, at least 1.")
    min_timestamp: str = Field(
        "2000-01-01T00:00:00Z",
        description="Earliest valid reading or log event (the latest is now plus one day): a clock reset to 1970 is quarantined, not stored.",
    )
    files_url: str | None = Field(
        None,
        description="Base URL at which the data root's reports, quarantine, model cards, run logs and Data Docs are served "
        "(`lepton-flow up` serves them; a shared server names its own); artifacts link there. "
        f"Default for a local data root: {FILES_URL}, where `lepton-flow up` serves them by default.",
    )
    expectations_dir: str | None = Field(None, description="Where GX suites are read from; default: the checkout's `expectations/`.")
    validation_threshold: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Least share of a file's readings that must pass validation; below it the file is rejected whole.",
    )

    @field_validator("data_root", "store_url", "models_url")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is None or not is_local(value):
            return value
        return os.path.abspath(os.path.expanduser(value.removeprefix("file://")))

    @property
    def store(self) -> str:
        return self.store_url or join(self.data_root, "store")

    @property
    def demo_dir(self) -> str:
        return join(self.data_root, "demo")

    @property
    def staging_dir(self) -> str:
        return join(self.data_root, "staging")

    @property
    def quarantine_dir(self) -> str:
        return join(self.data_root, "quarantine")

    @property
    def docs_dir(self) -> str:
        return join(self.data_root, "data_docs")

    @property
    def models(self) -> str:
        return self.models_url or join(self.data_root, "models")

    @property
    def checkpoints_dir(self) -> str:
        return join(self.data_root, "checkpoints")

    @property
    def allowed_roots(self) -> list[str]:
        """`source_roots` as absolute, symlink-resolved paths (local) or normalised URL prefixes."""
        return [resolve_location(r.strip()) for r in self.source_roots.split(",") if r.strip()]

    @property
    def log_dir(self) -> str:
        """Where log files are dropped when `log_ingest` is given no source (its scheduled runs)."""
        return join(self.data_root, "logs")

    @property
    def log_formats_dir(self) -> str:
        """Log formats defined without code: one `NAME.toml` each (a layout and an optional timestamp pattern)."""
        return join(self.data_root, "log-formats")

    @property
    def reports_dir(self) -> str:
        return join(self.data_root, "reports")

    @property
    def run_logs_dir(self) -> str:
        """Where `lepton-flow run` keeps each run's whole log (not `log_dir`: the log drop folder would ingest them)."""
        return join(self.data_root, "run-logs")

    @property
    def files_base(self) -> str | None:
        """`files_url`, else the default for a local data root; None where nothing serves the data root's files."""
        if self.files_url:
            return self.files_url.rstrip("/")
        return FILES_URL if is_local(self.data_root) else None

    @property
    def tensorboard_dir(self) -> str:
        return join(self.data_root, "tensorboard")

    @property
    def cluster_from_mb(self) -> int | None:
        """Input size (MiB, on this machine) from which `lepton-flow run` starts a local Dask cluster; 0: always,
        None: never (threads of the command at any size). `local_cluster_above_mb`, or by the worker count."""
        if self.local_cluster_above_mb is not None:
            return self.local_cluster_above_mb
        return None if self.dask_workers <= 2 else SMALL_INPUT_MB


@lru_cache(maxsize=1)
def _cached() -> Settings:
    settings = Settings()
    _object_storage(settings)
    return settings


def _object_storage(settings: Settings) -> None:
    """Once per process, with the settings: fsspec's S3 pointed at `s3_endpoint_url`, and the object store keys read
    from the Prefect Secret block `s3_secret_block` when the AWS_* variables hold none.

    Every process that touches a source, staging, quarantine or the store reads
    the settings first (Dask workers too), so URLs resolve the same way on
    every host. The keys go into the process's environment, where the Dask
    workers a run starts inherit them and the store (Icechunk) reads them;
    they are never printed or logged.
    """
    if settings.s3_endpoint_url:
        import fsspec.config

        fsspec.config.conf.setdefault("s3", {}).setdefault("endpoint_url", settings.s3_endpoint_url)
    if settings.s3_secret_block and not os.environ.get("AWS_ACCESS_KEY_ID"):
        from lepton_flow.credentials import keys_from_secret_block

        keys_from_secret_block(settings.s3_secret_block)


def get_settings(fresh: bool = False) -> Settings:
    """The process's settings; `fresh=True` re-reads the environment (tests change it)."""
    if fresh:
        _cached.cache_clear()
    return _cached()
