"""lepton-flow: sensor readings and logs to versioned Zarr stores.

The library holds the mechanics (fsspec, GX, Dask, Zarr/Icechunk) as plain
functions; `tasks/` and `flows/` wrap them for Prefect. Importing this package
is cheap: heavy libraries are imported by the modules that need them.
"""

__version__ = "0.1.0"


def _object_storage_endpoint() -> None:
    """Point fsspec's S3 at `LEPTON_S3_ENDPOINT_URL` (an S3-compatible server) in every process that imports lepton-flow.

    Dask workers import this package too, so sources, staging and quarantine
    URLs resolve the same way on every host. Credentials come the usual way
    (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an instance role);
    the store (Icechunk) reads the same variables.
    """
    import os

    endpoint = os.environ.get("LEPTON_S3_ENDPOINT_URL")
    if endpoint:
        import fsspec.config

        fsspec.config.conf.setdefault("s3", {}).setdefault("endpoint_url", endpoint)


def _object_storage_keys() -> None:
    """Object store keys from the Prefect Secret block `LEPTON_S3_SECRET_BLOCK`, when the AWS_* variables hold none.

    Read once per process, at import, into the process's environment: the
    Dask workers a run starts inherit them, and workers of an existing
    cluster read the block themselves. Never printed or logged.
    """
    import os

    name = os.environ.get("LEPTON_S3_SECRET_BLOCK")
    if name and not os.environ.get("AWS_ACCESS_KEY_ID"):
        from lepton_flow.credentials import keys_from_secret_block

        keys_from_secret_block(name)


_object_storage_endpoint()
_object_storage_keys()
