"""lepton-flow: sensor readings and logs to versioned Zarr stores.

The library holds the mechanics (fsspec, GX, Dask, Zarr/Icechunk) as plain
functions; `tasks/` and `flows/` wrap them for Prefect. Importing this package
is cheap: heavy libraries are imported by the modules that need them.
"""

__version__ = "0.1.0"
