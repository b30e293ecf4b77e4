"""What every file route (sensor readings, logs) shares: the run a file belongs to, and what its task returns.

One route shape for every file kind: a run (`IngestRun`, with what the
kind adds) plans where files stage and quarantine and which store snapshot
they build on; one task per file reads, validates and stages it and returns
a `FileOutcome`: accepted, rejected with its reason, or a kind's own status
that is no failure; a task that raises failed (`flowtools.split_completed`).
"""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, Field


class IngestRun(BaseModel):
    """One ingest run of any file kind: where it stages and quarantines, the store state it builds on, and the least
    share of a file's records that must pass validation."""

    model_config = {"validate_assignment": True}

    run_id: str
    staging_url: str
    quarantine_url: str
    store_url: str
    base_snapshot: str | None = None
    threshold: float = Field(0.5, ge=0, le=1)
    started: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def day(self) -> str:
        """The run's UTC date: quarantine files are kept by it."""
        return self.started[:10]


ACCEPTED, REJECTED = "ok", "rejected"


class FileOutcome(BaseModel):
    """What a file's ingest task returns, for sensors and logs alike: `status` ACCEPTED, REJECTED (turned away on
    purpose: under the validation threshold; `message` says why, naming the file) or a kind's own status that is no
    failure (a log drop folder's file that is not a log). A task that raised failed instead: `split_completed`."""

    status: str = ACCEPTED
    message: str = ""

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

    @property
    def rejected(self) -> bool:
        return self.status == REJECTED
