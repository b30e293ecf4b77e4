"""Helpers shared by test modules."""

from __future__ import annotations

import numpy as np

from lepton_flow import store

GRID = 30


def cleaned_block(path, start_bin, values: dict[str, np.ndarray], sensors, windows=None, units=None, chunk_len: int = 8, quality: dict[str, np.ndarray] | None = None):
    """A cleaned block as the clean step writes it (through `store.CleanedBlock`), quality OBSERVED where a value is given
    unless `quality` gives a metric's codes."""
    length = next(iter(values.values())).shape[0]
    block = store.CleanedBlock.create(
        str(path),
        grid_seconds=GRID,
        chunk_len=chunk_len,
        start_bin=start_bin,
        end_bin=start_bin + length - 1,
        windows=windows or sorted({(start_bin + i) // chunk_len for i in range(length)}),
        sensors=list(sensors),
        metrics=list(values),
        units=units or {m: "C" for m in values},
    )
    for metric, data in values.items():
        codes = (quality or {}).get(metric)
        block.write(metric, 0, data, np.where(np.isnan(data), 0, 1).astype("uint8") if codes is None else codes.astype("uint8"))
    return str(path)


def run_log_text(flow_run_id, until: str = "Finished in state", seconds: float = 20) -> str:
    """The log lines of a flow run as the Prefect API holds them (runs send them in batches): read until `until` shows."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    run_logs = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
    deadline = time.monotonic() + seconds
    with get_client(sync_client=True) as client:
        while True:
            text = "\n".join(entry.message for entry in client.read_logs(log_filter=run_logs))
            if until in text or time.monotonic() > deadline:
                return text
            time.sleep(0.5)


def fetched(url: str) -> bytes:
    """The body at `url`, which must answer 200."""
    import httpx

    r = httpx.get(url, timeout=30)
    assert r.status_code == 200, (url, r.status_code)
    return r.content
