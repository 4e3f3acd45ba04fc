"""CHECK constraints in the synth plan: read them, fold one-column ones into the value specs, decide
which columns the repairs of a batch may change, and refuse before any row exists what cannot be met.

A column may be *set* by a repair when its values are free (not a key made from row positions), or
when it is a single-column foreign key drawn by popularity (a new parent is drawn). A column may be
made *NULL* when it is nullable and no other table points at its values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sanitize.schema import Table
from sanitize.synth.checks import Node, UnreadableCheck, parse_check
from sanitize.synth.evaluate import fold_column, truth
from sanitize.synth.meaning import ValueSpec
from sanitize.synth.satisfy import Levers, feasible

if TYPE_CHECKING:
    from sanitize.synth.plan import SynthPlan, TablePlan

FIX = "skip the table in the rules (`{table}: skip`) or drop the constraint from the schema synth reads"


@dataclass
class TableChecks:
    checks: list[tuple[str, Node]] = field(default_factory=list)  # (name as shown, condition)
    folded: set[str] = field(default_factory=set)  # names met by the column generators
    sql: dict[str, str] = field(default_factory=dict)


def check_name(name: str | None, sql: str) -> str:
    return name or f"CHECK ({sql})"


def read_table_checks(t: Table, specs: dict[str, ValueSpec], problems: list[str]) -> TableChecks:
    """Parse a table's CHECKs; one-column ones narrow `specs` (replaced in the dict)."""
    out = TableChecks()
    columns = {c.name: specs[c.name].column for c in t.columns}
    for check in t.checks:
        name = check_name(check.name, check.sqltext)
        try:
            node = parse_check(check.sqltext)
            truth(node, _probe(t, specs), 2)  # names known columns and functions, on values like synth's
        except (UnreadableCheck, pa.ArrowException) as exc:
            problems.append(
                f"{t.key}: CHECK {name} ({check.sqltext}) cannot be read by synth ({exc}); "
                + FIX.format(table=t.key)
            )
            continue
        out.checks.append((name, node))
        out.sql[name] = check.sqltext
        folded = fold_column(node, columns)
        if folded is None:
            continue
        col_name, col, pattern = folded
        spec = specs[col_name]
        semantic = "choice" if col.check_values or col.enum_values else spec.semantic
        specs[col_name] = replace(spec, column=col, semantic=semantic, pattern=pattern or spec.pattern)
        columns[col_name] = col
        out.folded.add(name)
    return out


def _probe(t: Table, specs: dict[str, ValueSpec]) -> dict[str, pa.Array]:
    """Two generated values per column (NULL-typed where a generator cannot make them)."""
    from sanitize.synth.values import generate_values

    rng = np.random.Generator(np.random.PCG64(0))
    out: dict[str, pa.Array] = {}
    for c in t.columns:
        try:
            values = generate_values(specs[c.name], rng, 2)
            target = _probe_type(specs[c.name])
            out[c.name] = values if values.type == target or specs[c.name].item else values.cast(target)
        except (pa.ArrowException, ValueError, KeyError):
            out[c.name] = pa.nulls(2, _probe_type(specs[c.name]))
    return out


def _probe_type(spec: ValueSpec) -> pa.DataType:
    from sanitize.synth.fit import arrow_type

    if spec.item is not None:
        return pa.list_(arrow_type(spec.item.column))
    return arrow_type(spec.column)


def never_null(tp: TablePlan) -> set[str]:
    """Columns generation always fills (so `x IS NOT NULL` holds without a repair)."""
    out: set[str] = set()
    group_nulls = tp.group is not None and tp.grouped_rows < tp.rows
    for col in tp.table.columns:
        c = col.name
        in_fk = tp.fk_column.get(c)
        if not col.nullable:
            out.add(c)
        elif in_fk is not None:
            fp = in_fk[0]
            if (
                fp.mode == "injective"
                or (fp.mode in ("group", "distinct") and not group_nulls)
                or fp.mode == "weighted"
                and fp.null_fraction == 0
            ):
                out.add(c)
        elif c in tp.seq or c in tp.unique or c in tp.sequential or tp.specs[c].null_fraction == 0:
            out.add(c)
    return out


def plan_levers(
    tp: TablePlan, tables: dict[str, TablePlan], referenced: set[str]
) -> tuple[set[str], set[str]]:
    """(columns a repair may set, columns it may make NULL) once keys are decided."""
    t = tp.table
    keys = set(tp.seq) | tp.sequential | tp.unique
    can_set: set[str] = set()
    can_null: set[str] = set()
    for col in t.columns:
        c = col.name
        if col.generated:
            continue
        in_fk = tp.fk_column.get(c)
        if in_fk is not None:
            fp = in_fk[0]
            if (
                fp.mode in ("weighted", "self")
                and len(fp.fk.columns) == 1
                and tables[fp.fk.ref_table].rows > 0
            ):
                can_set.add(c)
        elif c not in keys and c not in referenced:
            can_set.add(c)
        if col.nullable and c not in referenced and c not in tp.seq and c not in tp.sequential:
            can_null.add(c)
    return can_set, can_null


def keep_outside(tp: TablePlan, problems: list[str]) -> None:
    """Rows stay outside the partial unique indexes whose keys cannot be unique: NOT (its WHERE) holds."""
    for name, where in tp.outside:
        shown = f"{name} (rows kept outside the partial unique index)"
        try:
            node = parse_check(f"NOT ({where})")
        except UnreadableCheck as exc:
            problems.append(
                f"{tp.key}: partial unique index {name} (WHERE {where}) cannot be met: its keys cannot be "
                f"unique for the rows asked for and its WHERE cannot be read ({exc}); ask for fewer rows or "
                + FIX.format(table=tp.key)
            )
            continue
        tp.checks.checks.append((shown, node))
        tp.checks.sql[shown] = f"NOT ({where})"


def refuse_unmet(tp: TablePlan, problems: list[str]) -> None:
    """Every check that is neither folded nor repairable, as a problem naming it."""
    probe = Levers(
        columns={c.name: tp.specs[c.name].column for c in tp.table.columns},
        can_null=tp.can_null,
        can_set=tp.can_set,
        fresh=lambda c, k: pa.nulls(0),
        pick=lambda n, k: np.zeros(n, dtype=np.int64),
        patterns={c: s.pattern for c, s in tp.specs.items() if s.pattern is not None},
        never_null=never_null(tp),
    )
    for name, node in tp.checks.checks:
        if name in tp.checks.folded:
            continue
        why = feasible(node, probe)
        if why is not None:
            problems.append(
                f"{tp.key}: CHECK {name} ({tp.checks.sql[name]}) cannot be met by construction: {why}; "
                + FIX.format(table=tp.key)
            )


def batch_levers(plan: SynthPlan, tp: TablePlan, pos: np.ndarray, start: int) -> Levers:
    """The levers of one batch: fresh values are a pure function of (seed, table, column, batch start)."""
    from sanitize.synth.plan import derive
    from sanitize.synth.values import generate_values

    n = len(pos)
    cache: dict[tuple[str, int], pa.Array] = {}
    picker = np.random.Generator(np.random.PCG64(derive(plan.seed, tp.key, "checks", str(start))))

    def fresh(column: str, attempt: int) -> pa.Array:
        hit = cache.get((column, attempt))
        if hit is not None:
            return hit
        in_fk = tp.fk_column.get(column)
        if in_fk is not None:
            fp, i = in_fk
            always = replace(fp, nullable=False, null_fraction=0.0)
            if attempt:
                always = replace(always, salt=always.salt + attempt)
            out = plan.fk_values(tp, always, i, plan.parents(tp, always, pos), tp.types[column])
        else:
            rng = np.random.Generator(
                np.random.PCG64(derive(plan.seed, tp.key, column, "check", str(attempt), str(start)))
            )
            out = generate_values(tp.specs[column], rng, n)
            target = tp.types[column]
            if tp.specs[column].item is None and out.type != target:
                out = out.cast(target)
        cache[(column, attempt)] = out
        return out

    def pick(rows: int, choices: int) -> np.ndarray:
        return picker.integers(0, max(choices, 1), rows)

    return Levers(
        columns={c.name: tp.specs[c.name].column for c in tp.table.columns},
        can_null=tp.can_null,
        can_set=tp.can_set,
        fresh=fresh,
        pick=pick,
        patterns={c: s.pattern for c, s in tp.specs.items() if s.pattern is not None},
        never_null=never_null(tp),
    )


def unmet_message(table: str, failed: list[tuple[str, int]], sql: dict[str, str]) -> str:
    parts = "; ".join(f"CHECK {name} ({sql.get(name, '')}): {rows} rows" for name, rows in failed)
    return (
        f"{table}: synthetic rows could not be made to satisfy {parts}; nothing was published; "
        + FIX.format(table=table)
    )


def unreadable_message(table: str, exc: Exception) -> str:
    return (
        f"{table}: a CHECK could not be evaluated on synthetic rows ({exc}); nothing was published; "
        + FIX.format(table=table)
    )
