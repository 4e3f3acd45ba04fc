"""Profiles: aggregate facts about a source that reveal no individual, safe to commit.

`build_profile(source, rules)` streams every table once and records, per column, only:
- the NULL fraction (every column);
- min, max and 21 evenly spaced quantiles for numbers, dates and times (non-sensitive columns with
  at least `MIN_GROUP` non-NULL values);
- text length quantiles (every text column, sensitive ones included);
- category frequencies for low-cardinality, non-sensitive columns, categories seen fewer than
  `MIN_GROUP` times suppressed (their share is kept as one number, `suppressed_fraction`);
- per foreign key, the distribution of children per parent.

A sensitive column is one whose rule transforms it (anything but `keep`); a column without a rule is
sensitive unless the rules say `unknown_columns: keep`. Sensitive columns record nothing but their
NULL fraction and length distribution. Memory is bounded: quantiles come from a fixed-size uniform
sample, category counting stops past `MAX_CATEGORIES` distinct values.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from sanitize.db.types import parse_datetimes
from sanitize.errors import BadInputError
from sanitize.schema import Column, Schema, Table

log = logging.getLogger("sanitize")

PROFILE_VERSION = 1
MIN_GROUP = 10  # categories (and whole columns) seen fewer times than this reveal nothing
MAX_CATEGORIES = 50  # more distinct values than this: not a category column
SAMPLE_SIZE = 50_000  # values kept per column for quantiles
QUANTILE_POINTS = 21
READ_BATCH = 50_000
CATEGORY_KINDS = frozenset({"text", "integer", "boolean", "other"})
TEMPORAL_KINDS = frozenset({"date", "datetime", "time"})
NUMBER_KINDS = frozenset({"integer", "float", "decimal"})

Unit = Literal["value", "days", "seconds"]


class Distribution(BaseModel):
    """min, max and evenly spaced quantiles (0, 0.05, ..., 1) of a numeric quantity."""

    model_config = ConfigDict(frozen=True)

    min: float
    max: float
    mean: float
    quantiles: list[float]


class ColumnProfile(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    sensitive: bool
    null_fraction: float
    values: Distribution | None = None  # numbers, dates (days since 1970), times/datetimes (seconds)
    unit: Unit | None = None
    lengths: Distribution | None = None  # text length in characters
    categories: dict[str, float] | None = None  # value -> share of non-NULL rows (suppressed removed)
    suppressed_fraction: float = 0.0  # share of non-NULL rows in categories seen < MIN_GROUP times


class FanoutProfile(BaseModel):
    """How many children each parent row has through one foreign key (zeros included)."""

    model_config = ConfigDict(frozen=True)

    columns: list[str]
    ref_table: str
    parents: int
    mean: float
    zero_fraction: float
    quantiles: list[float]


class TableProfile(BaseModel):
    model_config = ConfigDict(frozen=True)

    rows: int
    columns: dict[str, ColumnProfile] = Field(default_factory=dict)
    fanouts: list[FanoutProfile] = Field(default_factory=list)

    def fanout(self, columns: Iterable[str]) -> FanoutProfile | None:
        cols = list(columns)
        return next((f for f in self.fanouts if f.columns == cols), None)


class Profile(BaseModel):
    """A whole source's profile. JSON-serialisable; contains no individual value of a sensitive column."""

    model_config = ConfigDict(frozen=True)

    version: Literal[1] = 1
    min_group: int = MIN_GROUP
    tables: dict[str, TableProfile] = Field(default_factory=dict)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Profile:
        p = Path(path)
        try:
            return cls.model_validate_json(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BadInputError(f"{p}: profile file not found; make one with `sanitize profile`") from None
        except ValueError as exc:
            first = str(exc).splitlines()[0]
            raise BadInputError(
                f"{p}: not a sanitize profile ({first}); "
                f"make one with `sanitize profile SOURCE --rules R --out {p}`"
            ) from None


# --- sensitivity ----------------------------------------------------------------------------------

_QUASI = re.compile(
    r"birth|(^|_)dob$|zip|post_?code|postal|gender|(^|_)sex$|(^|_)age$|(^|_)city$|country|nationality|race|ethnic"
)


def is_skipped(rules: Any, table: str) -> bool:
    return rules is not None and rules.tables.get(table) == "skip"


def column_rule(rules: Any, table: str, column: str) -> Any | None:
    """The rule object for a column, or None."""
    if rules is None:
        return None
    t = rules.tables.get(table)
    if t is None or t == "skip":
        return None
    return t.columns.get(column)


def is_sensitive(rules: Any, table: str, column: str) -> bool:
    """True when the rules transform the column (or do not cover it, unless unknown columns are kept)."""
    if rules is None:
        return True
    rule = column_rule(rules, table, column)
    if rule is None:
        return getattr(rules, "unknown_columns", "fail") != "keep"
    return str(rule.strategy) != "keep"


def fake_kind(rules: Any, table: str, column: str) -> str | None:
    rule = column_rule(rules, table, column)
    if rule is None or rule.strategy != "fake":
        return None
    kind = getattr(rule.params, "kind", None)
    return str(kind) if kind else None


def is_quasi_identifier(column: Column) -> bool:
    """Columns that single people out in combination (birth date, postcode, gender...)."""
    return _QUASI.search(column.name.lower()) is not None


# --- accumulators ---------------------------------------------------------------------------------


def to_arrow_table(batch: Any) -> pa.Table:
    """A batch from any reader (pyarrow Table/RecordBatch or DataFrame) as a pyarrow Table."""
    if isinstance(batch, pa.Table):
        return batch
    if isinstance(batch, pa.RecordBatch):
        return pa.Table.from_batches([batch])
    if isinstance(batch, pd.DataFrame):
        return pa.Table.from_pandas(batch, preserve_index=False)
    raise TypeError(f"cannot read a batch of type {type(batch).__name__}")


def numeric_view(arr: pa.Array | pa.ChunkedArray, kind: str) -> tuple[np.ndarray, Unit] | None:
    """Non-NULL values of a number/date/time column as float64 (dates: days, times: seconds)."""
    arr = arr.drop_null() if isinstance(arr, pa.Array) else arr.combine_chunks().drop_null()
    t = arr.type
    if kind in TEMPORAL_KINDS and (pa.types.is_string(t) or pa.types.is_large_string(t)):
        # SQLite's dates are text (see db.types.arrow_type): the ISO ones count, other text does not
        target = {"date": pa.date32(), "datetime": pa.timestamp("us"), "time": pa.time64("us")}[kind]
        return numeric_view(parse_datetimes(arr, target, coerce=True), kind)
    if pa.types.is_date(t):
        return arr.cast(pa.date32()).cast(pa.int32()).to_numpy().astype(float), "days"
    if pa.types.is_timestamp(t):
        micros = arr.cast(pa.timestamp("us", tz=t.tz)).cast(pa.int64()).to_numpy()
        return micros.astype(float) / 1e6, "seconds"
    if pa.types.is_time(t):
        micros = arr.cast(pa.time64("us")).cast(pa.int64()).to_numpy()
        return micros.astype(float) / 1e6, "seconds"
    if pa.types.is_boolean(t):
        return None
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), "value"
    if kind in NUMBER_KINDS and (pa.types.is_string(t) or pa.types.is_large_string(t)):
        try:
            return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), "value"
        except pa.ArrowInvalid:
            return None
    return None


class Sample:
    """A uniform sample of at most `size` floats from a stream (bottom-k of random priorities)."""

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self.size = size
        self.rng = rng
        self.values = np.zeros(0)
        self.priority = np.zeros(0)

    def add(self, x: np.ndarray) -> None:
        if len(x) == 0:
            return
        values = np.concatenate([self.values, x])
        priority = np.concatenate([self.priority, self.rng.random(len(x))])
        if len(values) > self.size:
            keep = np.argpartition(priority, self.size)[: self.size]
            values, priority = values[keep], priority[keep]
        self.values, self.priority = values, priority


def distribution(
    x: np.ndarray, lo: float | None = None, hi: float | None = None, mean: float | None = None
) -> Distribution:
    q = np.quantile(x, np.linspace(0, 1, QUANTILE_POINTS))
    return Distribution(
        min=float(x.min() if lo is None else lo),
        max=float(x.max() if hi is None else hi),
        mean=float(x.mean() if mean is None else mean),
        quantiles=[float(v) for v in q],
    )


class ColumnStats:
    """Streams one column's batches into the aggregates a profile may hold."""

    def __init__(self, column: Column, sensitive: bool, rng: np.random.Generator) -> None:
        self.column = column
        self.sensitive = sensitive
        self.rows = 0
        self.nulls = 0
        self.count = 0
        self.total = 0.0
        self.lo = np.inf
        self.hi = -np.inf
        self.unit: Unit | None = None
        self.values = Sample(SAMPLE_SIZE, rng)
        self.lengths = Sample(SAMPLE_SIZE, rng)
        self.categories: dict[str, int] | None = (
            {} if not sensitive and column.kind in CATEGORY_KINDS else None
        )

    def add(self, arr: pa.Array | pa.ChunkedArray) -> None:
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        self.rows += len(arr)
        self.nulls += arr.null_count
        nonnull = arr.drop_null()
        if len(nonnull) == 0:
            return
        t = nonnull.type
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            self.lengths.add(pc.utf8_length(nonnull).to_numpy(zero_copy_only=False).astype(float))
        if not self.sensitive:
            view = numeric_view(nonnull, self.column.kind)
            if view is not None:
                x, self.unit = view
                self.count += len(x)
                self.total += float(x.sum())
                self.lo = min(self.lo, float(x.min()))
                self.hi = max(self.hi, float(x.max()))
                self.values.add(x)
        if self.categories is not None:
            self._count_categories(nonnull)

    def _count_categories(self, nonnull: pa.Array) -> None:
        assert self.categories is not None
        t = nonnull.type
        if pa.types.is_boolean(t):
            text = pc.if_else(nonnull, "true", "false")
        elif pa.types.is_floating(t):
            return
        else:
            text = pc.cast(nonnull, pa.string())
        counts = pc.value_counts(text)
        for v, c in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True):
            self.categories[v] = self.categories.get(v, 0) + int(c)
        if len(self.categories) > MAX_CATEGORIES:
            self.categories = None

    def finish(self) -> ColumnProfile:
        nonnull = self.rows - self.nulls
        out: dict[str, Any] = {
            "kind": self.column.kind,
            "sensitive": self.sensitive,
            "null_fraction": self.nulls / self.rows if self.rows else 0.0,
        }
        if len(self.lengths.values) >= MIN_GROUP:
            out["lengths"] = distribution(self.lengths.values)
        if not self.sensitive and self.count >= MIN_GROUP:
            out["values"] = distribution(self.values.values, self.lo, self.hi, self.total / self.count)
            out["unit"] = self.unit
        if self.categories is not None and nonnull >= MIN_GROUP:
            kept = {v: c for v, c in self.categories.items() if c >= MIN_GROUP}
            if kept:
                out["categories"] = {v: c / nonnull for v, c in sorted(kept.items(), key=lambda kv: -kv[1])}
                out["suppressed_fraction"] = 1.0 - sum(kept.values()) / nonnull
        return ColumnProfile(**out)


class FanoutStats:
    """Children per parent through one foreign key, counted in bounded pieces."""

    def __init__(self, columns: tuple[str, ...], ref_table: str) -> None:
        self.columns = columns
        self.ref_table = ref_table
        self.parts: list[pd.Series] = []
        self.pending = 0

    def add(self, table: pa.Table) -> None:
        frame = table.select(list(self.columns)).to_pandas().dropna()
        if frame.empty:
            return
        keys = pd.util.hash_pandas_object(frame, index=False)
        self.parts.append(keys.value_counts())
        self.pending += len(self.parts[-1])
        if self.pending > 2_000_000:
            self._combine()

    def _combine(self) -> None:
        if len(self.parts) > 1:
            self.parts = [pd.concat(self.parts).groupby(level=0).sum()]
        self.pending = len(self.parts[0]) if self.parts else 0

    def finish(self, parent_rows: int) -> FanoutProfile | None:
        self._combine()
        counts = self.parts[0].to_numpy(dtype=float) if self.parts else np.zeros(0)
        zeros = max(0, parent_rows - len(counts))
        if parent_rows < MIN_GROUP:
            return None
        full = np.concatenate([counts, np.zeros(zeros)])
        return FanoutProfile(
            columns=list(self.columns),
            ref_table=self.ref_table,
            parents=parent_rows,
            mean=float(full.mean()),
            zero_fraction=zeros / parent_rows,
            quantiles=[float(v) for v in np.quantile(full, np.linspace(0, 1, QUANTILE_POINTS))],
        )


class TableStats:
    """Streams a table's batches into a `TableProfile`."""

    def __init__(self, table: Table, rules: Any, seed: int = 0, *, public: bool = False) -> None:
        self.table = table
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, len(table.key)])))
        self.columns = {
            c.name: ColumnStats(c, not public and is_sensitive(rules, table.key, c.name), rng)
            for c in table.columns
        }
        self.fanouts = [FanoutStats(fk.columns, fk.ref_table) for fk in table.foreign_keys]
        self.rows = 0

    def add(self, batch: Any) -> None:
        t = to_arrow_table(batch)
        self.rows += t.num_rows
        for name, stats in self.columns.items():
            if name in t.column_names:
                stats.add(t.column(name))
        for f in self.fanouts:
            if all(c in t.column_names for c in f.columns):
                f.add(t)

    def finish(self, parent_rows: dict[str, int]) -> TableProfile:
        fanouts = []
        for f in self.fanouts:
            if f.ref_table in parent_rows:
                done = f.finish(parent_rows[f.ref_table])
                if done is not None:
                    fanouts.append(done)
        return TableProfile(
            rows=self.rows, columns={n: s.finish() for n, s in self.columns.items()}, fanouts=fanouts
        )


class ProfileBuilder:
    """Accumulates (table key, batch) pairs in any order into a Profile (sources and synthetic output)."""

    def __init__(self, schema: Schema, rules: Any = None, *, public: bool = False) -> None:
        self.schema = schema
        self.rules = rules
        self.public = public
        self.stats: dict[str, TableStats] = {}

    def add(self, key: str, batch: Any) -> None:
        if key not in self.stats:
            self.stats[key] = TableStats(self.schema[key], self.rules, public=self.public)
        self.stats[key].add(batch)

    def finish(self) -> Profile:
        rows = {k: s.rows for k, s in self.stats.items()}
        return Profile(tables={k: s.finish(rows) for k, s in self.stats.items()})


def profile_batches(schema: Schema, batches: Iterator[tuple[str, Any]], rules: Any = None) -> Profile:
    """A profile from (table key, batch) pairs in any order."""
    builder = ProfileBuilder(schema, rules)
    for key, batch in batches:
        builder.add(key, batch)
    return builder.finish()


def build_profile(source: Any, rules: Any, *, batch_size: int = READ_BATCH) -> Profile:
    """Profile every table the rules do not skip. `source` is an open source or a spec.

    A spec (URL, SQLite path, environment name, dump file) is opened read-only (sanitize.sources).
    """
    if isinstance(source, str | Path):
        from sanitize.sources import open_source

        with open_source(source) as opened:
            return build_profile(opened, rules, batch_size=batch_size)
    schema: Schema = source.schema
    keys = [k for k in schema.load_order() if not is_skipped(rules, k)]

    def batches() -> Iterator[tuple[str, Any]]:
        for key in keys:
            log.info("profiling %s", key)
            for batch in source.read_arrow(key, batch_size, None):
                yield key, batch

    profile = profile_batches(schema, batches(), rules)
    # tables with no rows still belong in the profile
    empty = {k: TableStats(schema[k], rules).finish({}) for k in keys if k not in profile.tables}
    return Profile(tables={k: profile.tables.get(k) or empty[k] for k in keys})


def profile_json_values(profile: Profile) -> str:
    """The profile as compact JSON text (what a leak search looks through)."""
    return json.dumps(profile.model_dump(mode="json"), ensure_ascii=False)
