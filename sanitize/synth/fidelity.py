"""How close synthetic output is to its profile, whether it meets every constraint, and what it reveals.

- `compare_profiles(expected, actual)`: per column, the KS statistic for numbers and dates (from the
  two quantile functions), total variation distance for categories, the NULL-fraction gap, and per
  foreign key the fan-out gap;
- `ConstraintCheck`: streams generated batches and counts NOT NULL, CHECK, length and precision
  violations (unique and foreign-key violations are counted by the database gate and the tests);
- `PrivacyCheck`: exact-match rate of synthetic rows against real rows on the sensitive and
  quasi-identifying columns, and how many sensitive source values appear in the output.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.core.util.hashing import hash_array
from pydantic import BaseModel, Field

from sanitize.keys import canonical_text
from sanitize.schema import Column, Schema, Table
from sanitize.synth.profile import (
    Distribution,
    Profile,
    is_quasi_identifier,
    is_sensitive,
    to_arrow_table,
)
from sanitize.synth.values import decimal_shape, integer_bounds, number_bounds

KS_TOLERANCE = 0.1
TVD_TOLERANCE = 0.1
NULL_TOLERANCE = 0.03
_HASH_KEY = "sanitize-synthpv"  # 16 chars; the hashes live only in memory during one run
# Meanings drawn from public word lists or small value spaces (names, dates, postcodes): a real value
# can turn up by coincidence, since generation never reads the source; the exact-match rate over whole
# rows is what measures re-identification.
COINCIDENCE_MEANINGS = frozenset(
    [
        "first_name",
        "last_name",
        "name",
        "city",
        "state",
        "country",
        "company",
        "job",
        "currency",
        "color",
        "category",
        "choice",
        "title",
        "text",
        "type",
        "boolean",
        "date",
        "date_of_birth",
        "timestamp",
        "postcode",
        "age",
        "quantity",
        "money",
    ]
)


class ColumnFidelity(BaseModel):
    table: str
    column: str
    null_fraction_gap: float
    ks: float | None = None  # numbers, dates, times
    tvd: float | None = None  # categories
    length_ks: float | None = None  # text lengths
    ok: bool = True


class FanoutFidelity(BaseModel):
    table: str
    columns: list[str]
    ref_table: str
    expected_mean: float
    actual_mean: float
    ks: float
    ok: bool


class FidelityReport(BaseModel):
    columns: list[ColumnFidelity] = Field(default_factory=list)
    fanouts: list[FanoutFidelity] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.columns) and all(f.ok for f in self.fanouts)


def ks_from_quantiles(a: list[float], b: list[float]) -> float:
    """KS statistic between two distributions known by evenly spaced quantiles (piecewise-linear CDFs)."""
    qa, qb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    grid = np.union1d(qa, qb)

    def cdf(q: np.ndarray, x: np.ndarray) -> np.ndarray:
        levels = np.linspace(0, 1, len(q))
        # a distribution with repeated quantiles (a point mass) jumps: take the right limit
        hi = np.searchsorted(q, x, side="right")
        lo = np.searchsorted(q, x, side="left")
        inside = np.interp(x, q, levels)
        jump = levels[np.clip(hi - 1, 0, len(q) - 1)]
        out = np.where(hi > lo, jump, inside)
        return np.where(x < q[0], 0.0, np.where(x >= q[-1], 1.0, out))

    return float(np.max(np.abs(cdf(qa, grid) - cdf(qb, grid)))) if len(grid) else 0.0


def tvd(a: dict[str, float], a_other: float, b: dict[str, float], b_other: float) -> float:
    """Total variation distance between two category distributions (suppressed share as one bucket)."""
    keys = set(a) | set(b)
    gap = sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys) + abs(a_other - b_other)
    return 0.5 * gap


def _ks(a: Distribution | None, b: Distribution | None) -> float | None:
    if a is None or b is None:
        return None
    return ks_from_quantiles(a.quantiles, b.quantiles)


def compare_profiles(expected: Profile, actual: Profile, schema: Schema | None = None) -> FidelityReport:
    """Column by column and key by key, how far `actual` (synthetic output) is from `expected`.

    With the schema, key columns (primary and foreign keys) are compared on NULLs only: their
    values are identifiers, and foreign keys are compared by fan-out instead.
    """
    report = FidelityReport()
    for key, te in expected.tables.items():
        ta = actual.tables.get(key)
        if ta is None:
            continue
        keys: set[str] = set()
        if schema is not None and key in schema.tables:
            t = schema[key]
            keys = set(t.primary_key) | {c for fk in t.foreign_keys for c in fk.columns}
        for name, ce in te.columns.items():
            ca = ta.columns.get(name)
            if ca is None:
                continue
            cf = ColumnFidelity(
                table=key, column=name, null_fraction_gap=abs(ce.null_fraction - ca.null_fraction)
            )
            if name in keys:
                pass
            elif ce.categories and ca.categories is not None:
                cf.tvd = tvd(ce.categories, ce.suppressed_fraction, ca.categories, ca.suppressed_fraction)
            elif ce.values is not None:
                cf.ks = _ks(ce.values, ca.values)
            cf.length_ks = _ks(ce.lengths, ca.lengths)
            n = max(1, min(te.rows, ta.rows))
            p = ce.null_fraction
            nonnull = max(1.0, n * (1 - max(p, ca.null_fraction)))
            # the tolerances widen for small tables, where one row is a big share (3 sigma / KS at 1%)
            cf.ok = (
                cf.null_fraction_gap <= max(NULL_TOLERANCE, 3 * math.sqrt(p * (1 - p) / n) + 1 / n)
                and (
                    cf.tvd is None
                    or cf.tvd <= max(TVD_TOLERANCE, 1.5 * math.sqrt(len(ce.categories or {}) / nonnull))
                )
                and (cf.ks is None or cf.ks <= max(KS_TOLERANCE, 1.63 * math.sqrt(2 / nonnull) + 0.05))
            )
            report.columns.append(cf)
        for fe in te.fanouts:
            fa = ta.fanout(fe.columns)
            if fa is None:
                continue
            ks = ks_from_quantiles(fe.quantiles, fa.quantiles)
            report.fanouts.append(
                FanoutFidelity(
                    table=key,
                    columns=fe.columns,
                    ref_table=fe.ref_table,
                    expected_mean=fe.mean,
                    actual_mean=fa.mean,
                    ks=ks,
                    ok=ks <= 2 * KS_TOLERANCE,
                )
            )
    return report


# --- constraints ----------------------------------------------------------------------------------------


class ConstraintCheck:
    """Counts, per column, generated values that break NOT NULL, CHECK, length or precision."""

    def __init__(self) -> None:
        self.violations: dict[str, int] = {}

    def _count(self, where: str, n: int) -> None:
        if n:
            self.violations[where] = self.violations.get(where, 0) + n

    def add(self, table: Table, batch: Any) -> None:
        data = to_arrow_table(batch)
        for col in table.columns:
            if col.name not in data.column_names:
                continue
            arr = data.column(col.name).combine_chunks()
            where = f"{table.key}.{col.name}"
            if not col.nullable:
                self._count(f"{where}: NULL in a NOT NULL column", arr.null_count)
            values = arr.drop_null()
            if len(values) == 0:
                continue
            self._check_values(where, col, values)

    def _check_values(self, where: str, col: Column, values: pa.Array) -> None:
        allowed = col.check_values or col.enum_values
        if allowed and (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            bad = pc.sum(pc.invert(pc.is_in(values, pa.array(list(allowed))))).as_py() or 0
            self._count(f"{where}: value outside CHECK/enum list", bad)
        if col.max_length and (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            bad = pc.sum(pc.greater(pc.utf8_length(values), col.max_length)).as_py() or 0
            self._count(f"{where}: longer than {col.max_length}", bad)
        numeric = (
            pa.types.is_integer(values.type)
            or pa.types.is_floating(values.type)
            or pa.types.is_decimal(values.type)
        )
        if numeric:
            x = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
            lo, hi = (
                tuple(float(b) for b in integer_bounds(col)) if col.kind == "integer" else number_bounds(col)
            )
            # Arrow's decimal -> float cast can land an ulp past the bound (99.99 -> 99.99000000000001)
            slack = 0.5 * 10.0 ** -decimal_shape(col)[1] if col.kind == "decimal" else 0.0
            outside = (x < lo - slack) | (x > hi + slack)
            self._count(f"{where}: outside the allowed range [{lo}, {hi}]", int(outside.sum()))
            if col.kind == "decimal":
                _p, s = decimal_shape(col)
                scaled = x * 10.0**s
                self._count(
                    f"{where}: more than {s} decimal places",
                    int((np.abs(scaled - np.rint(scaled)) > 1e-6 * np.maximum(1, np.abs(scaled))).sum()),
                )

    @property
    def problems(self) -> list[str]:
        return [f"{where} ({n} rows)" for where, n in sorted(self.violations.items())]


# --- privacy --------------------------------------------------------------------------------------------


def value_hashes(values: pd.Series | pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Unkeyed 64-bit hashes of canonical text (NULLs dropped); used in memory only."""
    series = values if isinstance(values, pd.Series) else pd.Series(values.to_pandas())
    series = series[series.notna()]
    if series.empty:
        return np.zeros(0, dtype=np.uint64)
    text = canonical_text(series)
    return hash_array(text, hash_key=_HASH_KEY, categorize=False)


def row_hashes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One hash per row over `columns` (NULL is a value of its own); rows all NULL get 0."""
    h = np.zeros(len(frame), dtype=np.uint64)
    any_value = np.zeros(len(frame), dtype=bool)
    for c in columns:
        s = frame[c]
        present = s.notna().to_numpy(dtype=bool)
        any_value |= present
        hc = np.full(len(frame), np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64)
        hc[present] = value_hashes(s)
        with np.errstate(over="ignore"):
            h = h * np.uint64(1_000_003) + hc
    return np.where(any_value, h, np.uint64(0))


class PrivacyTable(BaseModel):
    table: str
    columns: list[str]  # sensitive and quasi-identifying columns compared
    rows: int = 0
    exact_matches: int = 0

    @property
    def exact_match_rate(self) -> float:
        return self.exact_matches / self.rows if self.rows else 0.0


class PrivacyReport(BaseModel):
    tables: list[PrivacyTable] = Field(default_factory=list)
    values_found: dict[str, int] = Field(default_factory=dict)  # table.column -> distinct source values seen
    coincidence_columns: list[str] = Field(default_factory=list)  # public lists, small spaces

    @property
    def exact_matches(self) -> int:
        return sum(t.exact_matches for t in self.tables)

    @property
    def exact_match_rate(self) -> float:
        rows = sum(t.rows for t in self.tables)
        return self.exact_matches / rows if rows else 0.0

    @property
    def sensitive_values_found(self) -> int:
        """Sensitive source values in the output, coincidences from public word lists excluded."""
        return sum(n for k, n in self.values_found.items() if k not in self.coincidence_columns)


class PrivacyCheck:
    """Remembers hashes of the source's sensitive values and rows, then tests synthetic batches."""

    def __init__(self, rules: Any, meanings: dict[str, dict[str, str]] | None = None) -> None:
        self.rules = rules
        self.meanings = meanings or {}
        self.columns: dict[str, list[str]] = {}
        self.sensitive: dict[str, list[str]] = {}
        self.source_rows: dict[str, np.ndarray] = {}
        self.source_values: dict[str, np.ndarray] = {}
        self.found: dict[str, set[int]] = {}
        self.report = PrivacyReport()
        self._tables: dict[str, PrivacyTable] = {}

    def compared_columns(self, table: Table, structural: set[str]) -> tuple[list[str], list[str]]:
        sens = [
            c.name
            for c in table.columns
            if c.name not in structural and is_sensitive(self.rules, table.key, c.name)
        ]
        quasi = [
            c.name
            for c in table.columns
            if c.name not in structural and c.name not in sens and is_quasi_identifier(c)
        ]
        return sens, sens + quasi

    def learn(self, source: Any, table: Table, structural: set[str], batch_size: int = 50_000) -> None:
        """Read the source table's compared columns once (hashes only are kept)."""
        sens, cols = self.compared_columns(table, structural)
        if not cols:
            return
        self.columns[table.key] = cols
        self.sensitive[table.key] = sens
        rows: list[np.ndarray] = []
        values: dict[str, list[np.ndarray]] = {c: [] for c in sens}
        for batch in source.read_batches(table.key, batch_size, cols):
            frame = batch if isinstance(batch, pd.DataFrame) else to_arrow_table(batch).to_pandas()
            rows.append(row_hashes(frame, cols))
            for c in sens:
                values[c].append(value_hashes(frame[c]))
        self.source_rows[table.key] = np.unique(np.concatenate(rows)) if rows else np.zeros(0, np.uint64)
        for c in sens:
            where = f"{table.key}.{c}"
            self.source_values[where] = np.unique(np.concatenate(values[c])) if values[c] else np.zeros(0)
            self.found[where] = set()
            if self.meanings.get(table.key, {}).get(c) in COINCIDENCE_MEANINGS:
                self.report.coincidence_columns.append(where)
        self._tables[table.key] = PrivacyTable(table=table.key, columns=cols)
        self.report.tables.append(self._tables[table.key])

    def add(self, key: str, batch: Any) -> None:
        cols = self.columns.get(key)
        if not cols:
            return
        frame = batch if isinstance(batch, pd.DataFrame) else to_arrow_table(batch).to_pandas()
        h = row_hashes(frame, cols)
        pt = self._tables[key]
        pt.rows += len(frame)
        pt.exact_matches += int((np.isin(h, self.source_rows[key]) & (h != 0)).sum())
        for c in self.sensitive[key]:
            where = f"{key}.{c}"
            vh = value_hashes(frame[c])
            hits = vh[np.isin(vh, self.source_values[where])]
            self.found[where].update(int(v) for v in np.unique(hits)[:10_000])

    def finish(self) -> PrivacyReport:
        self.report.values_found = {k: len(v) for k, v in self.found.items()}
        return self.report


def fraction_text(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.4f}"
