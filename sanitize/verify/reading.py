"""What verify reads, and how: batches of only the needed columns, as Arrow when the reader offers it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from sanitize.db.types import to_pandas
from sanitize.sources import Source

Readable = Source
"""What verify reads: `sanitize.db` sources, a load's shadow (`Load.source()`), dumps (one protocol)."""


class Batch:
    """One batch of rows: an Arrow table (or a DataFrame, from readers that only give those)."""

    def __init__(self, data: pa.Table | pd.DataFrame) -> None:
        self.data = data

    def __len__(self) -> int:
        return self.data.num_rows if isinstance(self.data, pa.Table) else len(self.data)

    def column(self, name: str) -> pa.ChunkedArray | pd.Series:
        return self.data.column(name) if isinstance(self.data, pa.Table) else self.data[name]

    def frame(self, columns: Sequence[str]) -> pd.DataFrame:
        """The columns as pandas, with the dtypes `read_batches` gives."""
        if isinstance(self.data, pa.Table):
            return to_pandas(self.data.select(list(columns)))
        return self.data[list(columns)]

    def complete(self, columns: Sequence[str]) -> np.ndarray:
        """Rows where none of `columns` is NULL."""
        if isinstance(self.data, pa.Table):
            ok = np.ones(self.data.num_rows, dtype=bool)
            for c in columns:
                col = self.data.column(c)
                if col.null_count:
                    ok &= np.asarray(col.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            return ok
        return np.asarray(self.data[list(columns)].notna().all(axis=1).to_numpy(), dtype=bool)

    def filter(self, mask: np.ndarray) -> Batch:
        if isinstance(self.data, pa.Table):
            return Batch(self.data.filter(pa.array(mask)))
        return Batch(self.data[mask].reset_index(drop=True))

    def value(self, column: str, row: int) -> object:
        if isinstance(self.data, pa.Table):
            return self.data.column(column)[row].as_py()
        return self.data[column].iloc[row]


def as_array(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One contiguous array (a single chunk as it is, without a copy)."""
    if isinstance(values, pa.ChunkedArray):
        return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    return values


def read_batches(
    source: Readable,
    table: str,
    batch_size: int,
    columns: Sequence[str],
    progress: Callable[[str, int, int | None], None] | None = None,
    label: str = "",
) -> Iterator[Batch]:
    """Batches of `columns` (in table order) from any readable: Arrow from every sanitize source; a
    reader of its own that offers only `read_batches` (DataFrames) is read that way.
    `progress(label, rows read, rows in the table)` is called before the first batch and after each."""
    read_arrow = getattr(source, "read_arrow", None)
    if callable(read_arrow):
        batches: Iterator[Batch] = (Batch(t) for t in read_arrow(table, batch_size, list(columns)))
    else:
        frames = source.read_batches(table, batch_size=batch_size, columns=list(columns))
        batches = (Batch(f.reset_index(drop=True)) for f in frames)
    if progress is None:
        yield from batches
        return
    expected, done = source.count(table), 0
    progress(label or table, 0, expected)
    for batch in batches:
        yield batch
        done += len(batch)
        progress(label or table, done, expected)
