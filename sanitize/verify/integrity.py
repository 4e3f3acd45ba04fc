"""Integrity of the target against the source's constraints: row counts, foreign keys, uniqueness.

Also the row keys both passes share: a uint64 per row from the columns that identify it, used to
align source and target rows and to compare key values across tables. Memory: 8 bytes per target row
for each unique constraint, each foreign key and each referenced key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.keys import SecretKey, canonical_text, mix
from sanitize.schema import ForeignKey, Schema, Table
from sanitize.verify.fingerprints import HashSet, hash_strings, sorted_unique
from sanitize.verify.reading import Batch, as_array
from sanitize.verify.results import Check, Treatment, VerifyResult

_ROWKEY = SecretKey(b"sanitize-verify-row-alignment-key!")  # not secret: alignment and integrity only
_SIGNED = (pa.int8(), pa.int16(), pa.int32(), pa.int64())


def integer_ids(batch: Batch, column: str) -> np.ndarray | None:
    """The batch's values of an integer column as int64; None unless they are plain (non-NULL) integers."""
    if not isinstance(batch.data, pa.Table):
        return None
    col = batch.data.column(column)
    if col.type not in _SIGNED or col.null_count:
        return None
    return np.asarray(col.to_numpy(), dtype=np.int64)


def row_keys(batch: Batch, cols: Sequence[str]) -> np.ndarray:
    """A uint64 per row from `cols`: whole numbers mixed directly, anything else via canonical text.

    Equal values give equal keys whatever their dtype (nullable ints read as floats included).
    """
    ids = integer_ids(batch, cols[0]) if len(cols) == 1 else None
    if ids is not None:
        return mix(ids.view(np.uint64), 0)
    if isinstance(batch.data, pa.Table):
        arrays = [batch.data.column(c) for c in cols]
        if all(pa.types.is_string(a.type) or pa.types.is_large_string(a.type) for a in arrays):
            text = [pc.fill_null(as_array(a).cast(pa.large_string()), "\x00") for a in arrays]
            return _text_keys(text)
    return _frame_keys(batch.frame(cols), list(cols))


def _text_keys(parts: list[pa.Array]) -> np.ndarray:
    sep = pa.scalar("\x1f", pa.large_string())
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, sep)
    return hash_strings(joined, _ROWKEY)


def _frame_keys(frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
    if len(cols) == 1:
        s = frame[cols[0]]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            v = s.to_numpy(dtype=np.float64, na_value=np.nan) if s.hasnans else None
            if v is None or (np.isfinite(v).all() and (v == np.round(v)).all()):
                ints = s.to_numpy(dtype=np.int64) if v is None else v.astype(np.int64)
                return mix(ints.view(np.uint64), 0)
    parts = []
    for c in cols:
        s = frame[c]
        isna = s.isna().to_numpy()
        text = np.full(len(s), "\x00", dtype=object)
        if (~isna).any():
            text[~isna] = canonical_text(s[~isna])
        parts.append(pa.array(text, type=pa.large_string()))
    return _text_keys(parts)


def alignment_columns(table: Table, treatment: Mapping[str, Treatment]) -> list[str]:
    """Columns that identify a row in both source and target: the PK if kept, else all kept columns."""
    if table.primary_key and all(treatment.get(c, "keep") == "keep" for c in table.primary_key):
        return list(table.primary_key)
    return [
        c.name
        for c in table.columns
        if treatment.get(c.name, "keep") == "keep" and c.kind not in ("float", "binary")
    ]


def safe_row_key(table: Table) -> list[str] | None:
    """The integer primary key leaks can be reported by (`id=17`); None: report scan positions."""
    if table.primary_key and all(table.column(c).kind == "integer" for c in table.primary_key):
        return list(table.primary_key)
    return None


class IntegrityScan:
    """Uniqueness and foreign keys of the target, fed batch by batch, against the source's constraints."""

    def __init__(self, target: Schema, constraints: Schema) -> None:
        self.schema = target
        self.constraints = {k: t for k, t in constraints.tables.items() if k in target}
        self.parent_keys: dict[tuple[str, tuple[str, ...]], list[np.ndarray]] = {}
        self.child_keys: list[tuple[str, ForeignKey, list[np.ndarray]]] = []
        for t in target.tables.values():
            for fk in self.rules(t.key).foreign_keys:
                if fk.ref_table in target and all(
                    c in target[fk.ref_table].column_names for c in fk.ref_columns
                ):
                    self.parent_keys.setdefault((fk.ref_table, fk.ref_columns), [])
        self._unique: dict[tuple[str, ...], list[np.ndarray]] = {}
        self._fks: list[tuple[ForeignKey, list[np.ndarray]]] = []

    def rules(self, tkey: str) -> Table:
        """The constraints that must hold: the source's (a load that lost one must not pass)."""
        return self.constraints.get(tkey, self.schema[tkey])

    def begin_table(self, tkey: str) -> list[str]:
        """Start a table; returns the columns the checks read."""
        rules = self.rules(tkey)
        present = set(self.schema[tkey].column_names)

        def has(cols: tuple[str, ...]) -> bool:
            return all(c in present for c in cols)

        uniques = [rules.primary_key] if rules.primary_key else []
        uniques += [u for u in rules.unique_constraints if u not in uniques]
        uniques += [  # an index on expressions (no plain columns) is checked by the target itself, and
            # so is a partial one (unique only WHERE its predicate holds, in the engine's own SQL)
            ix.columns
            for ix in rules.indexes
            if ix.unique and ix.columns and ix.where is None and ix.columns not in uniques
        ]
        self._unique = {tuple(u): [] for u in uniques if has(u)}
        fks = [fk for fk in rules.foreign_keys if fk.ref_table in self.schema and has(fk.columns)]
        self._fks = [(fk, []) for fk in fks]
        self._parents = [(cols, acc) for (ptable, cols), acc in self.parent_keys.items() if ptable == tkey]
        needed = [c for cols in self._unique for c in cols]
        needed += [c for fk, _ in self._fks for c in fk.columns]
        needed += [c for cols, _ in self._parents for c in cols]
        return needed

    def add_batch(self, batch: Batch) -> None:
        for cols, acc in self._unique.items():
            self._append(acc, batch, cols, skip_empty=True)
        for fk, acc in self._fks:
            self._append(acc, batch, fk.columns, skip_empty=True)
        for cols, acc in self._parents:
            self._append(acc, batch, cols, skip_empty=False)

    @staticmethod
    def _append(acc: list[np.ndarray], batch: Batch, cols: Sequence[str], skip_empty: bool) -> None:
        full = batch.complete(cols)
        if full.all():
            acc.append(row_keys(batch, cols))
        elif full.any() or not skip_empty:
            acc.append(row_keys(batch.filter(full), cols))

    def finish_table(self, tkey: str, result: VerifyResult) -> None:
        for cols, acc in self._unique.items():
            h = np.concatenate(acc) if acc else np.zeros(0, dtype=np.uint64)
            dup = len(h) - len(sorted_unique(h))
            detail = "no duplicates" if dup == 0 else f"{dup} duplicate(s)"
            result.checks.append(Check("unique", dup == 0, f"({', '.join(cols)}): {detail}", tkey))
        for fk, acc in self._fks:
            self.child_keys.append((tkey, fk, acc))

    def finish(self, result: VerifyResult) -> None:
        """The foreign key checks, once every table (parents included) was scanned."""
        parents = {
            k: HashSet(sorted_unique(np.concatenate(v)) if v else np.zeros(0, dtype=np.uint64))
            for k, v in self.parent_keys.items()
        }
        for tkey, fk, acc in self.child_keys:
            h = np.concatenate(acc) if acc else np.zeros(0, dtype=np.uint64)
            ref = parents.get((fk.ref_table, fk.ref_columns))
            if ref is None:
                continue
            bad = int((~ref.contains(h)).sum())
            result.checks.append(
                Check(
                    "foreign key",
                    bad == 0,
                    f"({', '.join(fk.columns)}) -> {fk.ref_table}({', '.join(fk.ref_columns)}): "
                    + ("all rows join" if bad == 0 else f"{bad} row(s) point at no parent row"),
                    tkey,
                )
            )


def row_count_check(tkey: str, source_rows: int, target_rows: int) -> Check:
    return Check("row count", source_rows == target_rows, f"source {source_rows}, target {target_rows}", tkey)
