"""Apache Parquet (optionally gzipped): any columns, long or wide layout; line numbers are row numbers."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lepton_flow.formats import SensorFormat, register_format
from lepton_flow.sources import CORRUPT, ReadOptions, SourceError, is_compressed, open_source, open_stored


def read(url: str, options: ReadOptions | None = None) -> tuple[pa.Table, np.ndarray, list]:
    try:
        with open_source(url) as fh:
            data = fh.read()
    except CORRUPT as exc:
        raise SourceError(f"{url}: cannot be read (truncated or corrupt?): {exc}") from exc
    try:
        raw = pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as exc:  # OSError here is pyarrow's about the bytes, not the filesystem's
        raise SourceError(f"{url}: cannot be read as Parquet: {exc}") from exc
    return raw, np.arange(1, raw.num_rows + 1, dtype=np.int64), []


def pieces(url: str, options: ReadOptions | None, piece_bytes: int):
    """The file a bounded batch of rows at a time, read row group by row group (a gzipped file is read whole)."""
    if is_compressed(url):
        yield read(url, options)
        return
    with open_stored(url) as fh:
        try:
            parquet = pq.ParquetFile(fh)
        except (pa.ArrowInvalid, OSError) as exc:  # OSError here is pyarrow's about the bytes, not the filesystem's
            raise SourceError(f"{url}: cannot be read as Parquet: {exc}") from exc
        rows = max(1024, piece_bytes // (8 * max(1, len(parquet.schema_arrow))))
        start = 1
        try:
            for batch in parquet.iter_batches(batch_size=rows):
                yield pa.Table.from_batches([batch]), np.arange(start, start + batch.num_rows, dtype=np.int64), []
                start += batch.num_rows
        except pa.ArrowInvalid as exc:
            raise SourceError(f"{url}: cannot be read as Parquet: {exc}") from exc


def example(path: str) -> None:
    times = pd.date_range("2026-01-01", periods=3, freq="30s", tz="UTC")
    pq.write_table(pa.Table.from_pandas(pd.DataFrame({"timestamp": times, "temperature[C]": [20.0, 20.1, 20.2]}), preserve_index=False), path)


FORMAT = register_format(SensorFormat("parquet", (".parquet", ".pq"), read, example, __doc__.splitlines()[0], pieces=pieces))
