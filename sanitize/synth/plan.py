"""Constraint solving for synthetic data: decide, before any row exists, how each column is made.

Every key column is a pure function of the row's position, so a child can compute its parent's key
from a parent position without the parent table being in memory (or even generated yet). That is
what makes foreign keys in any order work: composite keys, self references, and cycles through
nullable columns all hold once every table is loaded, and the loader creates foreign keys after
the data.

How each constraint is met:
- a single-column integer primary key counts 1, 2, 3... (`sequential`);
- another unique column (or a column another table references) gets values that are an injective
  function of the position (`unique`);
- one foreign key per table is its *grouping* key: a children-per-parent count is drawn for every
  parent (gamma-mixed multinomial, or the profile's fan-out distribution), and rows are dealt out
  by those counts. A composite unique key made of the grouping key and another column gets a
  per-parent sequence number (`seq`: order lines 1, 2, 3) or distinct parents of a second key
  (`distinct`: a join table never repeats a pair);
- other foreign keys draw parents by popularity weights (`weighted`), or one-to-one (`injective`)
  when the foreign key itself is unique; self references point at an earlier row (`self`);
- foreign keys whose columns are covered by a wider one (tenant_id inside (tenant_id, user_id)) are
  `implied`;
- a composite unique key with the grouping key and a column of few values rotates those values per
  parent (`per_parent`); a partial unique index binds only rows matching its WHERE (`unique_keys.py`);
- CHECK ranges and IN lists, varchar lengths and numeric precision are met by the value generators,
  and every other CHECK by repairing each batch by construction (`rowchecks.py`, `satisfy.py`).
Whatever cannot be met is reported, every problem at once, before any data moves.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.errors import BadInputError
from sanitize.schema import Column, ForeignKey, Schema, Table
from sanitize.synth.meaning import item_spec
from sanitize.synth.profile import Profile, fake_kind, is_skipped
from sanitize.synth.rowchecks import (
    TableChecks,
    keep_outside,
    plan_levers,
    read_table_checks,
    refuse_unmet,
)
from sanitize.synth.unique_keys import keys_state, partial_sets, plan_unique, restore_keys
from sanitize.synth.values import (
    ValueSpec,
    affine_permutation,
    arrow_type,
    counter_uniform,
    default_null_fraction,
    semantic_for,
    unique_capacity,
    unique_values,
)

log = logging.getLogger("sanitize")

DEFAULT_ROWS = 1000
FanMode = Literal["group", "weighted", "injective", "distinct", "self", "implied"]


def derive(seed: int, *parts: str) -> int:
    """A 63-bit number from the seed and names: the root of every random stream."""
    h = hashlib.blake2b(("\x1f".join([str(seed), *parts])).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(h, "little") & (2**63 - 1)


def column_rng(seed: int, table: str, column: str, purpose: str = "values") -> np.random.Generator:
    """The Generator of one (seed, table, column): never global state."""
    return np.random.Generator(np.random.PCG64(derive(seed, table, column, purpose)))


@dataclass
class FkPlan:
    fk: ForeignKey
    mode: FanMode
    nullable: bool
    null_fraction: float
    salt: int
    weights: np.ndarray | None = None  # cumulative popularity (weighted)


@dataclass
class TablePlan:
    key: str
    table: Table
    rows: int
    generate: bool = True  # False for skipped tables: their keys still exist for references
    fks: list[FkPlan] = field(default_factory=list)
    group: FkPlan | None = None
    starts: np.ndarray | None = None  # group: first logical row of each parent (len parents + 1)
    grouped_rows: int = 0  # logical rows that have a parent; the rest get NULL
    interleave: bool = False
    sequential: set[str] = field(default_factory=set)
    unique: set[str] = field(default_factory=set)
    seq: dict[str, int] = field(default_factory=dict)  # column -> first number
    fk_column: dict[str, tuple[FkPlan, int]] = field(default_factory=dict)
    specs: dict[str, ValueSpec] = field(default_factory=dict)
    types: dict[str, pa.DataType] = field(default_factory=dict)
    checks: TableChecks = field(default_factory=TableChecks)
    per_parent: dict[str, int] = field(default_factory=dict)  # column -> values, distinct per parent
    cap: int | None = None  # most rows per grouping parent the unique keys allow
    outside: list[tuple[str, str]] = field(default_factory=list)  # partial indexes rows stay out of
    can_set: set[str] = field(default_factory=set)  # columns a CHECK repair may change
    can_null: set[str] = field(default_factory=set)  # columns a CHECK repair may make NULL

    def mode_of(self, column: str) -> str:
        if column in self.fk_column:
            return "fk:" + self.fk_column[column][0].mode
        if column in self.seq:
            return "seq"
        if column in self.sequential:
            return "sequential"
        if column in self.unique:
            return "unique"
        return "value:" + self.specs[column].semantic


@dataclass
class SynthPlan:
    seed: int
    schema: Schema
    tables: dict[str, TablePlan]
    order: list[str]

    # --- positions -> parents and keys ---------------------------------------------------------

    def logical(self, tp: TablePlan, pos: np.ndarray) -> np.ndarray:
        if tp.interleave:
            return affine_permutation(pos, tp.rows, derive(self.seed, tp.key, "interleave"))
        return pos.astype(np.int64)

    def group_of(self, tp: TablePlan, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(parent position or -1, sequence number within the parent) of each row."""
        assert tp.starts is not None
        lg = self.logical(tp, pos)
        parent = np.searchsorted(tp.starts, lg, side="right") - 1
        parent = np.minimum(parent, len(tp.starts) - 2)
        seq = lg - tp.starts[np.maximum(parent, 0)]
        orphan = lg >= tp.grouped_rows
        return np.where(orphan, -1, parent), np.where(orphan, 0, seq)

    def parents(self, tp: TablePlan, fp: FkPlan, pos: np.ndarray) -> np.ndarray:
        """Parent position of each row through one foreign key; -1 means NULL."""
        n_parent = self.tables[fp.fk.ref_table].rows
        if fp.mode == "group":
            return self.group_of(tp, pos)[0]
        if fp.mode == "distinct":
            gparent, seq = self.group_of(tp, pos)
            offset = (counter_uniform(np.maximum(gparent, 0), fp.salt) * n_parent).astype(np.int64)
            out = (offset + seq) % max(n_parent, 1)
            return np.where(gparent < 0, -1, out)
        if fp.mode == "injective":
            return affine_permutation(pos, n_parent, fp.salt)
        if fp.mode == "self":
            u = counter_uniform(pos, fp.salt)
            out = np.floor(pos * u * u).astype(np.int64)  # earlier rows; low positions are popular
            first = pos == 0
            out = np.where(first, -1 if fp.nullable else 0, out)
        else:  # weighted
            assert fp.weights is not None
            u = counter_uniform(pos, fp.salt)
            out = np.searchsorted(fp.weights, u * fp.weights[-1], side="right")
            out = np.minimum(out, n_parent - 1)
        if fp.nullable and fp.null_fraction > 0:
            out = np.where(counter_uniform(pos, fp.salt ^ 0x5A5A) < fp.null_fraction, -1, out)
        return out

    def key_values(self, table: str, column: str, pos: np.ndarray, depth: int = 0) -> pa.Array:
        """The value of a key column at row positions (NULL where a parent is NULL)."""
        if depth > 32:
            raise BadInputError(f"{table}.{column}: key columns reference each other in a loop")
        tp = self.tables[table]
        target = tp.types[column]
        if column in tp.fk_column:
            fp, i = tp.fk_column[column]
            return self.fk_values(tp, fp, i, self.parents(tp, fp, pos), target, depth)
        if column in tp.seq:
            _parent, seq = self.group_of(tp, pos)
            return pa.array(seq + tp.seq[column], type=pa.int64()).cast(target)
        if column in tp.per_parent:  # distinct within each parent: a rotation of the column's values
            parent, seq = self.group_of(tp, pos)
            capacity = tp.per_parent[column]
            offset = counter_uniform(np.maximum(parent, 0), derive(self.seed, table, column)) * capacity
            idx = (offset.astype(np.int64) + seq) % capacity
            out = unique_values(tp.specs[column], idx, 0, capacity, sequential=True)
            return out if out.type == target else out.cast(target)
        spec = tp.specs[column]
        out = unique_values(
            spec,
            pos,
            derive(self.seed, table, column, "unique"),
            max(tp.rows, 1),
            sequential=column in tp.sequential,
        )
        return out if out.type == target else out.cast(target)

    def fk_values(
        self, tp: TablePlan, fp: FkPlan, i: int, parent: np.ndarray, target: pa.DataType, depth: int = 0
    ) -> pa.Array:
        ok = parent >= 0
        ref_col = fp.fk.ref_columns[i]
        if ok.all():
            values = self.key_values(fp.fk.ref_table, ref_col, parent, depth + 1)
        else:
            got = self.key_values(fp.fk.ref_table, ref_col, parent[ok], depth + 1)
            take = np.cumsum(ok) - 1
            values = got.take(pa.array(take, mask=~ok))
        return values if values.type == target else pc.cast(values, target)


# --- row counts -------------------------------------------------------------------------------------


def resolve_rows(
    schema: Schema,
    rows: int | dict[str, int] | None = None,
    *,
    scale: float | None = None,
    base: dict[str, int] | None = None,
    default: int = DEFAULT_ROWS,
) -> dict[str, int]:
    """Rows per table: explicit `table=N` pairs win, then one number for all (an int, or the pairs'
    `"*"`), then `scale` x base counts."""
    explicit = {k: v for k, v in rows.items() if k != "*"} if isinstance(rows, dict) else {}
    if isinstance(rows, dict) and "*" in rows:
        rows = rows["*"]
    unknown = sorted(set(explicit) - set(schema.tables))
    if unknown:
        raise BadInputError(
            f"--rows names table(s) {', '.join(unknown)} that the schema does not have "
            f"(tables: {', '.join(sorted(schema.tables))})"
        )
    out: dict[str, int] = {}
    for key in schema.tables:
        if key in explicit:
            n = explicit[key]
        elif isinstance(rows, int):
            n = rows
        elif base is not None and key in base:
            n = round(base[key] * (scale if scale is not None else 1.0))
        else:
            n = round(default * (scale if scale is not None else 1.0))
        if n < 0:
            raise BadInputError(f"--rows for {key} is {n}; expected a number of rows >= 0")
        out[key] = int(n)
    return out


# --- planning -----------------------------------------------------------------------------------------


def _unique_sets(t: Table) -> list[tuple[str, ...]]:
    sets: list[tuple[str, ...]] = []
    candidates = [t.primary_key, *t.unique_constraints, *(ix.columns for ix in t.indexes if ix.unique)]
    for s in candidates:
        if s and tuple(s) not in sets:
            sets.append(tuple(s))
    return sorted(sets, key=len)


def _fanout_counts(
    rng: np.random.Generator, n_parent: int, n_rows: int, cap: int | None, quantiles: list[float] | None
) -> np.ndarray:
    """Children per parent summing to n_rows: realistic skew, or the profile's distribution."""
    if n_parent == 0:
        return np.zeros(0, dtype=np.int64)
    if quantiles:
        q = np.asarray(quantiles, dtype=float)
        c = np.rint(np.interp(rng.random(n_parent), np.linspace(0, 1, len(q)), q)).astype(np.int64)
        total = int(c.sum())
        if total > n_rows:
            c = c - rng.multivariate_hypergeometric(c, total - n_rows, method="marginals")
        elif total < n_rows:
            w = c + 0.25
            c = c + rng.multinomial(n_rows - total, w / w.sum())
    else:
        w = rng.gamma(1.3, 1.0, n_parent)
        c = rng.multinomial(n_rows, w / w.sum()).astype(np.int64)
    if cap is not None:
        c = np.minimum(c, cap)
        deficit = n_rows - int(c.sum())
        while deficit > 0:
            room = np.flatnonzero(c < cap)
            take = min(deficit, len(room))
            chosen = rng.choice(room, take, replace=False)
            c[chosen] += 1
            deficit -= take
    return c


def _value_spec(table: Table, col: Column, rules: Any, profile: Profile | None, locale: str) -> ValueSpec:
    semantic = semantic_for(table.key, col, fake_kind(rules, table.key, col.name))
    null_fraction = default_null_fraction(col)
    categories: tuple[tuple[str, float], ...] = ()
    quantiles: tuple[float, ...] = ()
    lengths: tuple[float, ...] = ()
    tprof = profile.tables.get(table.key) if profile is not None else None
    cprof = tprof.columns.get(col.name) if tprof is not None else None
    if cprof is not None:
        null_fraction = cprof.null_fraction if col.nullable else 0.0
        if cprof.lengths is not None:
            lengths = tuple(cprof.lengths.quantiles)
        if not cprof.sensitive and semantic != "choice":
            if cprof.categories:
                categories = tuple(cprof.categories.items())
            elif cprof.values is not None:
                quantiles = tuple(cprof.values.quantiles)
    return ValueSpec(
        table=table.key,
        column=col,
        semantic=semantic,
        locale=locale,
        categories=categories,
        quantiles=quantiles,
        length_quantiles=lengths,
        null_fraction=null_fraction,
        item=item_spec(table.key, col, locale),
    )


def build_plan(
    schema: Schema,
    rows: dict[str, int],
    seed: int,
    rules: Any = None,
    profile: Profile | None = None,
) -> SynthPlan:
    """Decide how every column of every table is made; BadInputError lists every unmet constraint."""
    locale = getattr(rules, "locale", None) or "en_US"
    problems: list[str] = []
    referenced: dict[str, set[str]] = {k: set() for k in schema.tables}
    for t in schema.tables.values():
        for fk in t.foreign_keys:
            if fk.ref_table not in schema.tables:
                problems.append(
                    f"{t.key}: foreign key {fk.columns} references {fk.ref_table}, which the schema "
                    "does not have; add the table or drop the foreign key"
                )
                continue
            referenced[fk.ref_table].update(fk.ref_columns)
    tables: dict[str, TablePlan] = {}
    for t in schema.tables.values():
        tp = TablePlan(key=t.key, table=t, rows=rows.get(t.key, 0), generate=not is_skipped(rules, t.key))
        for col in t.columns:
            tp.specs[col.name] = _value_spec(t, col, rules, profile, locale)
            tp.types[col.name] = arrow_type(col)
        if tp.generate:
            tp.checks = read_table_checks(t, tp.specs, problems)
        tables[t.key] = tp
    if problems:
        raise BadInputError("the schema cannot be synthesised", problems=problems)
    for t in schema.tables.values():
        tp = tables[t.key]
        mine: list[str] = []
        _plan_table(tp, tables, referenced[t.key], seed, profile, mine)
        tp.can_set, tp.can_null = plan_levers(tp, tables, referenced[t.key])
        if tp.generate:  # a skipped table is not generated, so nothing of it is checked
            keep_outside(tp, mine)
            refuse_unmet(tp, mine)
            problems.extend(mine)
    if problems:
        raise BadInputError(
            "these constraints cannot be met with the requested row counts", problems=problems
        )
    order = [k for k in schema.load_order() if tables[k].generate]
    return SynthPlan(seed=seed, schema=schema, tables=tables, order=order)


def _plan_table(
    tp: TablePlan,
    tables: dict[str, TablePlan],
    referenced: set[str],
    seed: int,
    profile: Profile | None,
    problems: list[str],
) -> None:
    t = tp.table
    n = tp.rows
    tprof = profile.tables.get(t.key) if profile is not None else None
    # 1. foreign keys: widest first; narrower ones inside them are implied
    assigned: set[str] = set()
    for fk in sorted(t.foreign_keys, key=lambda f: -len(f.columns)):
        nullable = all(t.column(c).nullable for c in fk.columns)
        null_fraction = 0.0
        if nullable:
            cp = tprof.columns.get(fk.columns[0]) if tprof is not None else None
            null_fraction = cp.null_fraction if cp is not None else (0.1 if fk.ref_table != t.key else 0.05)
        fp = FkPlan(
            fk=fk,
            mode="weighted",
            nullable=nullable,
            null_fraction=null_fraction,
            salt=derive(seed, t.key, ",".join(fk.columns), "fk"),
        )
        if set(fk.columns) & assigned:
            fp.mode = "implied"
        elif fk.ref_table == t.key:
            fp.mode = "self"
        tp.fks.append(fp)
        if fp.mode != "implied":
            assigned.update(fk.columns)
            for i, c in enumerate(fk.columns):
                tp.fk_column[c] = (fp, i)
    sets = _unique_sets(t)
    # 2. the grouping key: inside a composite unique key if possible, else NOT NULL, else the first
    candidates = [fp for fp in tp.fks if fp.mode == "weighted" and tables[fp.fk.ref_table].rows > 0]

    def preference(fp: FkPlan) -> tuple[int, int]:
        cols = set(fp.fk.columns)
        inside = any(cols < set(s) for s in sets)
        equal = any(cols == set(s) for s in sets)
        return (0 if inside else (2 if equal else 1), 1 if fp.nullable else 0)

    candidates.sort(key=preference)
    if candidates and preference(candidates[0])[0] < 2:
        tp.group = candidates[0]
        tp.group.mode = "group"
    # 3. unique sets (a partial index's set binds only rows matching its WHERE)
    partial = partial_sets(t)
    for s in sets:
        where = f"{t.key} unique ({', '.join(s)})"
        before = len(problems)
        saved = keys_state(tp)
        plan_unique(tp, tables, s, where, problems)
        if len(problems) > before and tuple(s) in partial:
            del problems[before:]  # keep rows out of the index instead
            restore_keys(tp, saved)
            tp.outside.append(partial[tuple(s)])
    cap = tp.cap
    # 4. columns other tables reference must be addressable by position
    added = set()
    for c in sorted(referenced):
        if c not in tp.fk_column and c not in tp.seq and c not in tp.unique and c not in tp.per_parent:
            tp.unique.add(c)
            added.add(c)
    # 5. capacity of unique columns
    for c in sorted(added):
        capacity = unique_capacity(tp.specs[c])
        if capacity is not None and capacity < n:
            problems.append(
                f"{t.key}.{c}: must be unique but its type and constraints allow only "
                f"{capacity} distinct values, {n} rows were asked for; ask for at most {capacity}"
            )
    # 6. NOT NULL foreign keys need parents
    for fp in tp.fks:
        if fp.mode == "implied" or fp.mode == "self":
            continue
        parents = tables[fp.fk.ref_table].rows
        if parents == 0 and n > 0:
            if fp.nullable:
                fp.null_fraction = 1.0
                fp.mode = "weighted"
                fp.weights = np.array([1.0])
            else:
                problems.append(
                    f"{t.key}: foreign key ({', '.join(fp.fk.columns)}) is NOT NULL but "
                    f"{fp.fk.ref_table} gets 0 rows; ask for rows in {fp.fk.ref_table}"
                )
        elif fp.mode == "weighted" and fp.weights is None:
            rng = column_rng(seed, t.key, ",".join(fp.fk.columns), "popularity")
            fan = tprof.fanout(fp.fk.columns) if tprof is not None else None
            if fan is not None:  # popularity shaped like the profile's children-per-parent
                q = np.asarray(fan.quantiles, dtype=float)
                w = np.interp(rng.random(parents), np.linspace(0, 1, len(q)), q) + 1e-3
            else:
                w = rng.gamma(0.8, 1.0, parents)
            fp.weights = np.cumsum(w)
    # 7. deal rows out to parents
    if tp.group is not None and n > 0:
        gp = tp.group
        n_parent = tables[gp.fk.ref_table].rows
        nulls = round(n * gp.null_fraction) if gp.nullable else 0
        if cap is not None and n - nulls > cap * n_parent:
            problems.append(
                f"{t.key}: at most {cap} rows per {gp.fk.ref_table} row fit the unique keys, so at "
                f"most {cap * n_parent} rows, {n} were asked for; ask for fewer rows"
            )
            return
        fan = tprof.fanout(gp.fk.columns) if tprof is not None else None
        rng = column_rng(seed, t.key, ",".join(gp.fk.columns), "fanout")
        counts = _fanout_counts(rng, n_parent, n - nulls, cap, fan.quantiles if fan is not None else None)
        tp.starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        tp.grouped_rows = n - nulls
        tp.interleave = not tp.seq and not any(fp.mode == "distinct" for fp in tp.fks)
