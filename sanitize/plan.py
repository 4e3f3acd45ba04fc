"""The plan stage: rules + source schema -> what to do with every column, or every reason not to.

`build_plan` resolves each column's strategy, propagates rules along foreign keys (a foreign-key
column inherits its parent column's rule and domain, transitively, composite and self-references
included), checks coverage (strict by default: a column no rule names stops the run before a row is
read) and the safety of key columns. It reads nothing but the schema and raises every problem at once.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pyarrow as pa

from sanitize.db.types import arrow_type, to_pandas
from sanitize.errors import CoverageError, RulesError, SanitizeError
from sanitize.keys import MIN_KEY_BYTES, SecretKey
from sanitize.rules import ColumnRule, RulesFile, TableRules
from sanitize.schema import Column, ForeignKey, Schema, Table
from sanitize.strategies import registry
from sanitize.strategies.apply import apply_strategy
from sanitize.strategies.registry import ColumnContext, Params, StrategySpec

log = logging.getLogger("sanitize")

Origin = Literal["rule", "inherited", "default"]


@dataclass(frozen=True)
class ColumnPlan:
    """The resolved treatment of one column."""

    table: str
    column: Column
    spec: StrategySpec
    params: Params
    domain: str
    unique: bool
    origin: Origin = "rule"
    inherited_from: str | None = None  # "table.column" of the parent, for FK columns

    @property
    def transforms(self) -> bool:
        return self.spec.transforms


@dataclass(frozen=True)
class TablePlan:
    table: Table
    columns: dict[str, ColumnPlan]
    unique_domains: frozenset[str] = frozenset()  # see ColumnContext.unique_domains
    known: Any = field(default=None, compare=False)  # the source's people for scrub (detect/known.py)

    @property
    def key(self) -> str:
        return self.table.key

    @property
    def transformed(self) -> list[str]:
        return [c for c, p in self.columns.items() if p.transforms]

    @property
    def thread_safe(self) -> bool:
        """Can batches of this table be transformed on several threads at once?"""
        return all(p.spec.threaded(p.params) for p in self.columns.values() if p.transforms)


def kept_word_vectors(tables: Iterable[TablePlan]) -> list[str]:
    """Kept full-text vectors (PostgreSQL tsvector) in tables whose other columns the rules transform:
    a vector holds the words of the text it indexes (kept up by a trigger, which is not copied)."""
    out = []
    for t in tables:
        if not t.transformed:
            continue
        for c in t.table.columns:
            plan = t.columns.get(c.name)
            name = str(getattr(c.sql_type, "name", "") or type(c.sql_type).__name__).lower()
            if plan is not None and not plan.transforms and name == "tsvector":
                out.append(f"{t.key}.{c.name}")
    return out


def kept_generated(tables: Iterable[TablePlan]) -> list[str]:
    """Generated columns a rule keeps although their expression reads columns the rules transform:
    where the target cannot compute them again, `keep` copies values made from the source's data."""
    out = []
    for t in tables:
        moved = set(t.transformed)
        for c in t.table.columns:
            plan = t.columns.get(c.name)
            if c.generated is None or plan is None or plan.transforms:
                continue
            read = sorted(set(re.findall(r"[A-Za-z_][\w$]*", re.sub(r"'[^']*'", "", c.generated))) & moved)
            if read:
                out.append(f"{t.key}.{c.name} (from {', '.join(read)})")
    return out


@dataclass(frozen=True)
class Coverage:
    """What `check` reports: columns no rule covers, and rules naming things that do not exist."""

    uncovered: list[str] = field(default_factory=list)  # "table.column"
    stale: list[str] = field(default_factory=list)  # "tables.x" / "tables.x.columns.y" locations
    defaulted: list[str] = field(default_factory=list)  # kept because unknown_columns: keep

    @property
    def ok(self) -> bool:
        return not self.uncovered and not self.stale

    def problems(self) -> list[str]:
        out = [
            f"{c}: no rule covers this column; add a rule for it (or `keep` it explicitly)"
            for c in self.uncovered
        ]
        out += [
            f"{s}: the rules name this but the source has no such table/column; remove or rename the rule"
            for s in self.stale
        ]
        return out


@dataclass(frozen=True)
class Plan:
    rules: RulesFile
    source_schema: Schema
    target_schema: Schema  # skipped tables (and FKs pointing at them) removed
    tables: dict[str, TablePlan]  # in load order
    skipped: list[str]
    coverage: Coverage

    def with_known(self, known: Any) -> Plan:
        """The plan with the source's people (detect/known.py) handed to every table's strategies."""
        return replace(self, tables={k: replace(t, known=known) for k, t in self.tables.items()})


def check_coverage(rules: RulesFile, schema: Schema) -> Coverage:
    """Uncovered columns and stale rules, without raising."""
    uncovered: list[str] = []
    defaulted: list[str] = []
    stale: list[str] = []
    inherited = _fk_children(schema, rules)
    for tkey, table in schema.tables.items():
        trules = rules.table(tkey)
        if trules == "skip":
            continue
        cols = trules.columns if isinstance(trules, TableRules) else {}
        for col in table.columns:
            if col.name in cols or (tkey, col.name) in inherited:
                continue
            (defaulted if rules.unknown_columns == "keep" else uncovered).append(f"{tkey}.{col.name}")
    for tkey, trules in rules.tables.items():
        if tkey not in schema:
            stale.append(f"tables.{tkey}")
            continue
        if isinstance(trules, TableRules):
            names = set(schema[tkey].column_names)
            stale += [f"tables.{tkey}.columns.{c}" for c in trules.columns if c not in names]
    return Coverage(uncovered=uncovered, stale=stale, defaulted=defaulted)


def _fk_children(schema: Schema, rules: RulesFile) -> dict[tuple[str, str], tuple[str, str]]:
    """(child table, child column) -> (parent table, parent column), for FKs to non-skipped parents."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for tkey, table in schema.tables.items():
        for fk in table.foreign_keys:
            if fk.ref_table not in schema or rules.is_skipped(fk.ref_table):
                continue
            for c, rc in zip(fk.columns, fk.ref_columns, strict=True):
                if (tkey, c) != (fk.ref_table, rc):
                    out[(tkey, c)] = (fk.ref_table, rc)
    return out


def _root(col: tuple[str, str], parents: dict[tuple[str, str], tuple[str, str]]) -> tuple[str, str]:
    seen = {col}
    while col in parents:
        col = parents[col]
        if col in seen:  # a cycle of FK columns: any member may be the root; pick deterministically
            return min(seen)
        seen.add(col)
    return col


def _same(a: ColumnRule, b: ColumnRule) -> bool:
    return a.strategy == b.strategy and a.params == b.params


def build_plan(rules: RulesFile, schema: Schema, key: SecretKey | None = None) -> Plan:
    """Resolve every column of every copied table; raise CoverageError / RulesError listing all problems.

    Every transforming rule is also run once on an empty column of its type (see `dry_run`), so a
    rule its column cannot take (nullify on NOT NULL, a redact constant of the wrong type, a fake
    kind that does not fit) is reported here with the others, before a row is read. `key` is the
    run's key; without one (schema-only checks) a throwaway key serves, as no value is made."""
    coverage = check_coverage(rules, schema)
    if not coverage.ok:
        raise CoverageError(
            f"{rules.path or 'rules'}: {len(coverage.uncovered)} uncovered column(s), "
            f"{len(coverage.stale)} stale rule(s); nothing was read or written",
            problems=coverage.problems(),
        )
    problems: list[str] = []
    parents = _fk_children(schema, rules)
    keep = registry.get("keep")

    def explicit(tkey: str, cname: str) -> ColumnRule | None:
        t = rules.table(tkey)
        return t.columns.get(cname) if isinstance(t, TableRules) else None

    plans: dict[str, TablePlan] = {}
    skipped = [t for t in schema.tables if rules.is_skipped(t)]
    for tkey in schema.load_order([t for t in schema.tables if t not in skipped]):
        table = schema[tkey]
        cols: dict[str, ColumnPlan] = {}
        for col in table.columns:
            loc = f"tables.{tkey}.columns.{col.name}"
            own = explicit(tkey, col.name)
            root = _root((tkey, col.name), parents)
            if root != (tkey, col.name):
                parent_rule = explicit(*root)
                conflicts = own is not None and (
                    not _same(own, parent_rule) if parent_rule is not None else own.strategy != "keep"
                )
                if conflicts:
                    problems.append(
                        f"{loc}: this foreign key inherits the rule of {root[0]}.{root[1]}; a different "
                        "rule here would break the join — remove it"
                    )
                rule, origin, src = parent_rule, "inherited", f"{root[0]}.{root[1]}"
                owner_table = schema[root[0]]
                owner_col = root[1]
            else:
                rule, origin, src = own, "rule", None
                owner_table, owner_col = table, col.name
            if rule is None:
                spec, params, domain, unique = keep, keep.params(), f"{owner_table.key}.{owner_col}", False
                origin_v: Origin = "default" if origin == "rule" else "inherited"
            else:
                spec = registry.get(rule.strategy)
                params, unique = rule.params, rule.unique
                domain = rule.domain or f"{owner_table.key}.{owner_col}"
                origin_v = origin  # type: ignore[assignment]
            owner_is_key = _is_key(schema, owner_table, owner_col)
            if spec.transforms and owner_is_key and not spec.key_safe:
                problems.append(
                    f"{loc}: a primary/foreign key column needs a deterministic, join-preserving strategy; "
                    f"{spec.name!r} is not (use keep or hash)"
                )
            if spec.transforms and owner_table.is_unique(owner_col) and not unique:
                if spec.unique_safe:
                    unique = True
                else:
                    problems.append(
                        f"{loc}: the column is unique in the source, but {spec.name!r} cannot keep values "
                        "distinct; use hash or fake with `unique: true`"
                    )
            for other in spec.reads_columns(params):
                if other not in table.column_names:
                    problems.append(f"{loc}: reads column {other!r}, which {tkey} does not have")
            cols[col.name] = ColumnPlan(tkey, col, spec, params, domain, unique, origin_v, src)
        plans[tkey] = TablePlan(table, cols)
    plans = _share_unique_domains(plans)
    problems += dry_run(plans, schema.dialect or "", key, rules.locale)
    if problems:
        raise RulesError(
            f"{rules.path or 'rules'}: {len(problems)} problem(s) with the rules for this source",
            problems=problems,
        )
    return Plan(rules, schema, _target_schema(schema, skipped), plans, skipped, coverage)


def dry_run(plans: dict[str, TablePlan], dialect: str, key: SecretKey | None, locale: str) -> list[str]:
    """Each transforming column's strategy on an empty column of its type, with the context the load
    gives it: the checks strategies make of their column (type, NULLs, length, uniqueness), as problems."""
    k = key if key is not None else SecretKey(os.urandom(MIN_KEY_BYTES))
    problems: list[str] = []
    for tkey, tp in plans.items():
        moved = [cp for cp in tp.columns.values() if cp.transforms]
        if not moved:
            continue
        frame = to_pandas(pa.table({c.name: pa.array([], arrow_type(c, dialect)) for c in tp.table.columns}))
        for cp in moved:
            ctx = ColumnContext(
                key=k,
                domain=cp.domain,
                table=tkey,
                column=cp.column,
                locale=locale,
                unique=cp.unique,
                unique_domains=tp.unique_domains,
                frame=frame if cp.spec.reads_columns(cp.params) else None,
            )
            try:
                apply_strategy(frame[cp.column.name], cp.spec, cp.params, ctx)
            except SanitizeError as exc:
                problems.append("; ".join([exc.message, *exc.problems]))
                log.debug("plan: %s.%s refused on an empty column: %s", tkey, cp.column.name, exc)
    return problems


def _share_unique_domains(plans: dict[str, TablePlan]) -> dict[str, TablePlan]:
    """A domain made unique by one column is made unique everywhere, so equal inputs stay equal."""
    domains = frozenset(
        cp.domain for tp in plans.values() for cp in tp.columns.values() if cp.unique and cp.transforms
    )
    out: dict[str, TablePlan] = {}
    for k, tp in plans.items():
        cols = {
            c: replace(cp, unique=True)
            if cp.domain in domains and cp.spec.unique_safe and not cp.unique
            else cp
            for c, cp in tp.columns.items()
        }
        out[k] = TablePlan(tp.table, cols, domains)
    return out


def _is_key(schema: Schema, table: Table, column: str) -> bool:
    if column in table.primary_key:
        return True
    return any(
        fk.ref_table == table.key and column in fk.ref_columns
        for t in schema.tables.values()
        for fk in t.foreign_keys
    )


def _target_schema(schema: Schema, skipped: list[str]) -> Schema:
    gone = set(skipped)
    tables: dict[str, Table] = {}
    for k, t in schema.tables.items():
        if k in gone:
            continue
        fks: tuple[ForeignKey, ...] = tuple(fk for fk in t.foreign_keys if fk.ref_table not in gone)
        tables[k] = replace(t, foreign_keys=fks) if fks != t.foreign_keys else t
    return replace(schema, tables=tables)
