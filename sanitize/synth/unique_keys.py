"""Unique keys in the synth plan: how each unique set of a table is met before any row exists.

A set that holds the grouping foreign key (or a unique part of it) needs only be distinct per parent:
an integer counts 1, 2, 3 within each parent (`seq`), a column with few values takes a rotation of
them per parent (`per_parent`), another foreign key draws distinct parents (`distinct`). A set without
the grouping key makes one of its free columns unique, or a foreign key one-to-one (`injective`). A
partial unique index whose set cannot be met that way keeps rows outside its WHERE instead (the
planner turns `NOT (where)` into a check the rows must satisfy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sanitize.schema import Table
from sanitize.synth.values import integer_bounds, unique_capacity

if TYPE_CHECKING:
    from sanitize.synth.plan import TablePlan


def partial_sets(t: Table) -> dict[tuple[str, ...], tuple[str, str]]:
    """Unique sets that only a partial index declares: set -> (index name, its WHERE)."""
    full = {tuple(t.primary_key), *(tuple(u) for u in t.unique_constraints)}
    full |= {tuple(ix.columns) for ix in t.indexes if ix.unique and not ix.where}
    out: dict[tuple[str, ...], tuple[str, str]] = {}
    for ix in t.indexes:
        if ix.unique and ix.where and tuple(ix.columns) not in full:
            out[tuple(ix.columns)] = (ix.name or "unique index", ix.where)
    return out


def _group_inside(tp: TablePlan, tables: dict[str, TablePlan], cols: set[str]) -> bool:
    """True when the grouping parent decides part of `cols` (so the rest need only differ per parent)."""
    if tp.group is None:
        return False
    fk = tp.group.fk
    gcols = set(fk.columns)
    if gcols < cols:
        return True
    shared = tuple(r for c, r in zip(fk.columns, fk.ref_columns, strict=True) if c in cols)
    return bool(shared) and len(cols - gcols) > 0 and tables[fk.ref_table].table.is_unique(shared[0])


def keys_state(tp: TablePlan) -> tuple[Any, ...]:
    modes = [fp.mode for fp in tp.fks]
    return set(tp.unique), set(tp.sequential), dict(tp.seq), dict(tp.per_parent), tp.cap, modes


def restore_keys(tp: TablePlan, state: tuple[Any, ...]) -> None:
    tp.unique, tp.sequential, tp.seq, tp.per_parent, tp.cap, modes = state
    for fp, mode in zip(tp.fks, modes, strict=True):
        fp.mode = mode


def _one_to_one(
    tp: TablePlan, tables: dict[str, TablePlan], fp: Any, where: str, problems: list[str]
) -> None:
    """The foreign key draws each parent at most once; a problem when there are fewer parents than rows."""
    fp.mode = "injective"
    parents = tables[fp.fk.ref_table].rows
    if tp.rows > parents:
        problems.append(
            f"{where}: each {fp.fk.ref_table} row can have one {tp.key} row, so at most "
            f"{parents} rows fit, {tp.rows} were asked for; ask for fewer rows or more parents"
        )


def _limit(tp: TablePlan, most: int) -> None:
    tp.cap = most if tp.cap is None else min(tp.cap, most)


def plan_unique(
    tp: TablePlan, tables: dict[str, TablePlan], s: tuple[str, ...], where: str, problems: list[str]
) -> None:
    """Decide how one unique set is met; a problem when it cannot be."""
    t, n = tp.table, tp.rows
    cols = set(s)
    if cols & (tp.unique | tp.sequential):
        return
    if any(fp.mode == "injective" and set(fp.fk.columns) <= cols for fp in tp.fks):
        return
    inside = _group_inside(tp, tables, cols)
    if inside and (
        cols & (set(tp.seq) | set(tp.per_parent))
        or any(fp.mode == "distinct" and set(fp.fk.columns) <= cols for fp in tp.fks)
    ):
        return
    exact_fk = next(
        (fp for fp in tp.fks if set(fp.fk.columns) == cols and fp.mode in ("weighted", "group")), None
    )
    if exact_fk is not None and exact_fk is not tp.group:
        _one_to_one(tp, tables, exact_fk, where, problems)
        return
    if exact_fk is not None:  # the grouping key itself is unique: one child per parent
        _limit(tp, 1)
        return
    free = [c for c in s if c not in tp.fk_column]
    if inside:
        ints = [c for c in free if t.column(c).kind == "integer"]
        if ints:
            lo, hi = integer_bounds(tp.specs[ints[0]].column)
            start = 1 if lo <= 1 <= hi else lo
            tp.seq[ints[0]] = start
            _limit(tp, hi - start + 1)
            return
        if free:
            pick = max(free, key=lambda c: unique_capacity(tp.specs[c]) or 2**63)
            capacity = unique_capacity(tp.specs[pick])
            if capacity is not None and capacity < n:  # distinct within each parent is enough
                tp.per_parent[pick] = capacity
                _limit(tp, capacity)
            else:
                tp.unique.add(pick)
            return
        other = next((fp for fp in tp.fks if fp is not tp.group and set(fp.fk.columns) <= cols), None)
        if other is not None and other.mode == "weighted":
            other.mode = "distinct"
            _limit(tp, tables[other.fk.ref_table].rows)
            return
    elif free:
        pick = max(free, key=lambda c: unique_capacity(tp.specs[c]) or 2**63)
        tp.unique.add(pick)
        if s == t.primary_key and len(s) == 1 and t.column(pick).kind == "integer":
            tp.sequential.add(pick)
        capacity = unique_capacity(tp.specs[pick])
        if capacity is not None and capacity < n:
            problems.append(
                f"{t.key}.{pick}: must be unique but its type and constraints allow only "
                f"{capacity} distinct values, {n} rows were asked for; ask for at most {capacity}"
            )
        return
    else:
        other = next((fp for fp in tp.fks if fp.mode == "weighted" and set(fp.fk.columns) <= cols), None)
        if other is not None:
            _one_to_one(tp, tables, other, where, problems)
            return
    problems.append(
        f"{where}: cannot be made unique from its columns; declare a surrogate key or drop the constraint"
    )
