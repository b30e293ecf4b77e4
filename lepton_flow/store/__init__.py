"""The versioned store: the only package that opens, writes or commits it, and the only code that imports Zarr or Icechunk.

Cleaned data lives in an Icechunk repository holding Zarr v3 groups. A run
writes in one session and commits once; a run that fails or is killed
commits nothing, so readers only ever see whole runs. The ledger of ingested
files lives in the same repository and changes in the same commit.

- `repo`: where the repository is, sessions, the local commit lock, history
- `layout`: the time grid, chunking and encoding every group shares
- `ledger`: the append-only list of ingested files
- `sensors`: the `sensors` group and the run's cleaned block
- `logs`: the `logs` group (counts per window, template and level)
- `grid`: any `(time, column)` group read as model input
- `scores`: the `scores/<model>` groups
- `retention`: snapshot expiry and garbage collection

Heavy libraries (zarr, icechunk, xarray) are imported inside the functions
that need them, so importing this package is cheap.
"""

from lepton_flow.store import ledger
from lepton_flow.store.grid import DATASETS, GridReader, grid_state
from lepton_flow.store.layout import NS, SENSOR_CHUNK, grid_row, grid_time, time_coord
from lepton_flow.store.logs import GROUP as LOGS_GROUP
from lepton_flow.store.logs import LOG_LEVELS, TEMPLATE_CHUNK, LogStoreState, commit_logs, log_totals, logs_state, open_logs, template_label
from lepton_flow.store.repo import MESSAGE_LIMIT, METADATA_LIMIT, SnapshotUnavailable, StoreConflict, StoreError, bounded_message, commit_lock, exists, history, open_repo
from lepton_flow.store.retention import GcReport, collect
from lepton_flow.store.scores import ScoreWriter, first_changed_row, open_scores, scored_attrs, scored_models, scored_until, scores_group
from lepton_flow.store.sensors import GROUP, CleanedBlock, GridState, commit_sensors, open_sensors, read_block, record_ingested, state


__all__ = [
    "DATASETS", "GROUP", "MESSAGE_LIMIT", "METADATA_LIMIT", "LOGS_GROUP", "LOG_LEVELS", "NS", "SENSOR_CHUNK", "TEMPLATE_CHUNK",
    "CleanedBlock", "GcReport", "GridReader", "GridState", "LogStoreState", "ScoreWriter",
    "SnapshotUnavailable", "StoreConflict", "StoreError",
    "bounded_message", "collect", "commit_lock", "commit_logs", "commit_sensors", "exists", "first_changed_row",
    "grid_row", "grid_state", "grid_time", "history", "ledger", "log_totals", "logs_state", "open_logs", "open_repo", "open_scores",
    "open_sensors", "read_block", "record_ingested", "scored_attrs", "scored_models", "scored_until", "scores_group", "state",
    "template_label", "time_coord",
]
