"""The cells of one column in one batch, as normalised text: what the leak check compares.

Cells are trimmed (Unicode whitespace) and lower-cased once per batch, NULLs dropped (with their
positions kept). When a sample of the batch shows few distinct values the column is
dictionary-encoded: each distinct value is then classified and hashed once and the results mapped
back to its cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.arrow import string_bytes
from sanitize.db.types import to_pandas
from sanitize.keys import canonical_text
from sanitize.verify.fingerprints import sorted_unique
from sanitize.verify.reading import as_array

Dictionary = Literal["auto", "always", "never"]


@dataclass
class CellText:
    """The non-NULL cells of one column in one batch, normalised (trimmed, lower-cased).

    `items` holds one text per cell, or (dictionary-encoded) one per distinct raw value with `index`
    giving each cell's item. Everything downstream works on items and maps results to cells.
    """

    rows: np.ndarray  # position of each cell in the batch
    items: pa.Array  # large_string
    index: np.ndarray | None = None
    _groups: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.rows)

    def per_cell(self, values: np.ndarray) -> np.ndarray:
        """An array over items, as one value per cell."""
        return values if self.index is None else values[self.index]

    def texts(self, cells: np.ndarray) -> pa.Array:
        """The normalised text of the given cells."""
        return self.items.take(pa.array(cells if self.index is None else self.index[cells]))

    def cell_counts(self) -> np.ndarray | None:
        """How many cells hold each item (None: one each)."""
        if self.index is None:
            return None
        return np.bincount(self.index, minlength=len(self.items))

    def cells_of(self, items: np.ndarray) -> np.ndarray:
        """Sorted distinct cells that hold any of the given items."""
        if self.index is None:
            return sorted_unique(items)
        mark = np.zeros(len(self.items), dtype=bool)
        mark[items] = True
        return np.flatnonzero(mark[self.index])

    def expand(self, items: np.ndarray, distinct: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(entry, cell) for every cell holding each entry's item; `distinct`: no item repeats."""
        if self.index is None:
            return np.arange(len(items)), items
        if distinct:
            entry_of = np.full(len(self.items), -1, dtype=np.int64)
            entry_of[items] = np.arange(len(items))
            e = entry_of[self.index]
            cells = np.flatnonzero(e >= 0)
            return e[cells], cells
        if self._groups is None:
            order = np.argsort(self.index, kind="stable")
            starts = np.zeros(len(self.items) + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.index, minlength=len(self.items)), out=starts[1:])
            self._groups = order, starts
        order, starts = self._groups
        count = starts[items + 1] - starts[items]
        entry = np.repeat(np.arange(len(items)), count)
        first = np.repeat(starts[items] - (np.cumsum(count) - count), count)
        return entry, order[first + np.arange(len(entry))]

    @classmethod
    def of(cls, items: pa.Array) -> CellText:
        """Cells given as already normalised text, one item each."""
        return cls(np.arange(len(items)), items.cast(pa.large_string()))


def _normalise(arr: pa.Array) -> pa.Array:
    """Trimmed (Unicode whitespace) and lower-cased; ASCII arrays take the ASCII kernel (same result)."""
    offsets, data = string_bytes(arr)
    if len(data) == 0:
        return arr
    ends = offsets[1:][offsets[1:] > offsets[:-1]]
    edges = np.concatenate([data[offsets[:-1][offsets[1:] > offsets[:-1]]], data[ends - 1]])
    if ((edges <= 0x20) | (edges >= 0x80)).any():  # whitespace is <= 0x20 or starts a multi-byte char
        arr = pc.utf8_trim_whitespace(arr)
    return pc.ascii_lower(arr) if int(data.max()) < 0x80 else pc.utf8_lower(arr)


_SAMPLE = 2048
_MIN_SAMPLED = 4 * _SAMPLE  # smaller batches are not worth encoding


def _few_distinct(arr: pa.Array, share: float, sample: int = _SAMPLE) -> bool:
    """Whether a sample suggests at most `share` of the values are distinct."""
    n = len(arr)
    if n < _MIN_SAMPLED:
        return False
    rows = np.random.default_rng(n).integers(0, n, sample)  # random rows: strided ones alias with patterns
    seen = pc.count_distinct(arr.take(pa.array(rows))).as_py()
    m = n * share  # distinct values expected in the sample if the batch held that many, drawn evenly
    return bool(seen <= m * (1 - math.exp(-sample / m)))


def _is_text(values: pa.ChunkedArray | pa.Array | pd.Series) -> bool:
    if isinstance(values, pd.Series):
        dtype = values.dtype
        return isinstance(dtype, pd.StringDtype) or (
            isinstance(dtype, pd.ArrowDtype) and pa.types.is_string(dtype.pyarrow_dtype)
        )
    return pa.types.is_string(values.type) or pa.types.is_large_string(values.type)


def raw_text(values: pa.ChunkedArray | pa.Array | pd.Series) -> tuple[np.ndarray, pa.Array]:
    """(positions, text) of a column's non-NULL cells, as written (non-text via `keys.canonical_text`)."""
    if not isinstance(values, pd.Series) and not _is_text(values):  # as `read_batches` would give it
        values = to_pandas(pa.table({"v": values}))["v"]
    if isinstance(values, pd.Series) and not _is_text(values):
        valid = values.notna().to_numpy()
        return np.flatnonzero(valid), pa.array(canonical_text(values[valid]), type=pa.large_string())
    if isinstance(values, pd.Series):
        values = pa.array(values, type=pa.large_string(), from_pandas=True)
    arr = as_array(values).cast(pa.large_string())
    if not arr.null_count:
        return np.arange(len(arr)), arr
    valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return np.flatnonzero(valid), arr.filter(pa.array(valid))


def column_text(
    values: pa.ChunkedArray | pa.Array | pd.Series, dictionary: Dictionary = "auto", share: float = 1 / 3
) -> CellText:
    """The non-NULL cells of a column as normalised text (non-text values via `keys.canonical_text`)."""
    rows, arr = raw_text(values)
    if dictionary == "always" or (dictionary == "auto" and _few_distinct(arr, share)):
        enc = pc.dictionary_encode(arr)
        return CellText(rows, _normalise(enc.dictionary), np.asarray(enc.indices, dtype=np.int64))
    return CellText(rows, _normalise(arr))


class ColumnReader:
    """`column_text` for a scan: whether to dictionary-encode is sampled once per column, then kept."""

    def __init__(self, mode: Dictionary) -> None:
        self.mode = mode
        self._chosen: dict[str, Dictionary] = {}

    def cells(
        self, name: str, values: pa.ChunkedArray | pa.Array | pd.Series, share: float = 1 / 3
    ) -> CellText:
        """`share`: encode when about this share of the values or fewer are distinct."""
        mode = self._chosen.get(name, self.mode)
        cells = column_text(values, mode, share)
        if mode == "auto" and len(cells) >= _MIN_SAMPLED:
            self._chosen[name] = "always" if cells.index is not None else "never"
        return cells
