"""Generate synthetic tables batch by batch from a plan: bounded memory, same seed -> same rows.

`generate_tables(schema, rows, seed)` yields `(table, DataFrame)` batches in load order. Key
columns are functions of the row position (see plan.py); other columns draw from one
`numpy.random.Generator(PCG64)` per (seed, table, column), in batches of a fixed size, so the
output depends on nothing but the seed, the schema, the row counts, the rules and the profile.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.errors import BadInputError
from sanitize.schema import Schema
from sanitize.synth.checks import UnreadableCheck
from sanitize.synth.evaluate import array_text
from sanitize.synth.plan import SynthPlan, TablePlan, build_plan, column_rng
from sanitize.synth.profile import Profile
from sanitize.synth.rowchecks import batch_levers, unmet_message, unreadable_message
from sanitize.synth.satisfy import enforce
from sanitize.synth.values import generate_values

log = logging.getLogger("sanitize")

BATCH_ROWS = 50_000  # part of the determinism contract: the value streams are drawn in these steps
STR_DTYPE = pd.StringDtype(storage="pyarrow", na_value=np.nan)


def _with_nulls(values: pa.Array, present: np.ndarray) -> pa.Array:
    """Spread `values` over the rows where `present` is True; NULL elsewhere."""
    take = np.cumsum(present) - 1
    return values.take(pa.array(take, mask=~present))


def table_batches(plan: SynthPlan, key: str, batch_rows: int = BATCH_ROWS) -> Iterator[pa.Table]:
    """One table's rows as Arrow tables of `batch_rows` rows."""
    tp: TablePlan = plan.tables[key]
    t = tp.table
    rngs = {c.name: column_rng(plan.seed, key, c.name) for c in t.columns}
    for start in range(0, tp.rows, batch_rows):
        pos = np.arange(start, min(start + batch_rows, tp.rows), dtype=np.int64)
        n = len(pos)
        arrays: dict[str, pa.Array] = {}
        for fp in tp.fks:
            if fp.mode == "implied":
                continue
            parent = plan.parents(tp, fp, pos)
            for i, c in enumerate(fp.fk.columns):
                arrays[c] = plan.fk_values(tp, fp, i, parent, tp.types[c])
        for col in t.columns:
            name = col.name
            if name in arrays:
                continue
            if name in tp.seq or name in tp.unique or name in tp.per_parent:
                arrays[name] = plan.key_values(key, name, pos)
                continue
            spec = tp.specs[name]
            rng = rngs[name]
            if spec.null_fraction > 0:
                present = rng.random(n) >= spec.null_fraction
                values = generate_values(spec, rng, int(present.sum()))
                values = _with_nulls(values, present)
            else:
                values = generate_values(spec, rng, n)
            if spec.item is None and values.type != tp.types[name]:
                values = values.cast(tp.types[name])
            arrays[name] = _empty_as_null(values) if col.nullable else values
        _order_times(t.column_names, arrays)
        if tp.checks.checks:
            try:
                failed = enforce(tp.checks.checks, batch_levers(plan, tp, pos, start), arrays, n)
            except (UnreadableCheck, pa.ArrowException) as exc:
                raise BadInputError(unreadable_message(key, exc)) from None
            if failed:
                raise BadInputError(unmet_message(key, failed, tp.checks.sql))
        for name, values in arrays.items():
            if pa.types.is_list(values.type):
                arrays[name] = array_text(values)
        yield pa.Table.from_arrays([arrays[c] for c in t.column_names], names=list(t.column_names))


def _empty_as_null(values: pa.Array) -> pa.Array:
    """A nullable text column holds NULL, never an empty string, where a generator made nothing."""
    if not pa.types.is_string(values.type):
        return values
    empty = pc.equal(pc.utf8_length(values), 0)
    if not pc.any(empty).as_py():
        return values
    return pc.if_else(empty, pa.scalar(None, values.type), values)


def _order_times(names: tuple[str, ...], arrays: dict[str, pa.Array]) -> None:
    """`updated_at` never before `created_at` when both are generated timestamps."""
    import pyarrow.compute as pc

    if "created_at" in arrays and "updated_at" in arrays:
        a, b = arrays["created_at"], arrays["updated_at"]
        if a.type == b.type and pa.types.is_timestamp(a.type):
            arrays["updated_at"] = pc.if_else(pc.less(b, a), a, b)


def plan_batches(plan: SynthPlan, batch_rows: int = BATCH_ROWS) -> Iterator[tuple[str, pa.Table]]:
    """Every generated table's batches, parents first."""
    for key in plan.order:
        log.info("synthesising %s: %d rows", key, plan.tables[key].rows)
        for batch in table_batches(plan, key, batch_rows):
            yield key, batch


def to_frame(batch: pa.Table) -> pd.DataFrame:
    """Arrow -> pyarrow-backed pandas (text as pandas' default `str`)."""

    def mapper(t: pa.DataType) -> Any:
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return STR_DTYPE
        return pd.ArrowDtype(t)

    return batch.to_pandas(types_mapper=mapper)


def generate_tables(
    schema: Schema,
    rows: dict[str, int],
    seed: int,
    rules: Any = None,
    profile: Profile | None = None,
    *,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Synthetic batches `(table, DataFrame)` for every table the rules do not skip, parents first."""
    plan = build_plan(schema, rows, seed, rules, profile)
    for key, batch in plan_batches(plan, batch_rows):
        yield key, to_frame(batch)
