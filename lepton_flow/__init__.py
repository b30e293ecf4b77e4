"""lepton-flow: sensor readings and logs to versioned Zarr stores.

The library holds the mechanics (fsspec, GX, Dask, Zarr/Icechunk) as plain
functions; `tasks/` and `flows/` wrap them for Prefect. Importing this package
is cheap and does nothing else: heavy libraries are imported by the modules
that need them, and the object storage set-up happens when the settings are
first read (`settings.get_settings`).
"""

__version__ = "0.1.0"
