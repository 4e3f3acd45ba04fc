"""`sanitize.apply` and `sanitize.preview`: rules applied to a DataFrame or to a source's first rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from sanitize.api.arguments import RulesLike, as_rules, opened
from sanitize.api.connection import Connection
from sanitize.api.frames import table_from_frame
from sanitize.defaults import DEFAULT_BATCH
from sanitize.display import PreviewFrame
from sanitize.errors import BadInputError, CoverageError, TargetRefusedError
from sanitize.keys import SecretKey, load_key
from sanitize.plan import build_plan
from sanitize.rules import RulesFile, TableRules
from sanitize.schema import Schema
from sanitize.transform import transform_batch


def _rules_for_frame(rules: RulesFile, table: str, columns: list[str]) -> RulesFile:
    """The rules of one table, without rules for columns the DataFrame does not have (a column subset)."""
    t = rules.table(table)
    if not isinstance(t, TableRules):
        return rules.model_copy(update={"tables": {table: t} if t is not None else {}})
    kept = {c: r for c, r in t.columns.items() if c in columns}
    return rules.model_copy(update={"tables": {table: TableRules(columns=kept)}})


def apply(
    df: pd.DataFrame,
    rules: RulesLike,
    table: str,
    *,
    key: SecretKey | None = None,
    schema: Schema | Connection | None = None,
    arrow: bool = False,
) -> pd.DataFrame:
    """Anonymise a DataFrame with the rules of `table`: a new DataFrame, `df` is left untouched.

    Each column keeps the caller's dtype (float64, datetime64, int64, bool, object, or an Arrow-backed
    dtype in, the same out); a column a rule turned to NULL that a NumPy integer or bool cannot hold
    becomes pandas' nullable Int64 / boolean. `arrow=True` returns the pipeline's Arrow-backed dtypes.

    Pure and deterministic: for the same key (default `SANITIZE_KEY`) every value becomes what the
    pipeline writes for it. Without `schema`, the table is derived from the DataFrame's dtypes, so
    nothing needs a database; rules naming columns the DataFrame lacks are ignored (a column subset),
    and a DataFrame column no rule covers fails as in the pipeline (unless `unknown_columns: keep`).
    Pass `schema=` (a `Schema` or a `Connection`) to plan against the real source schema as the
    pipeline does: foreign-key columns then inherit their parent's rule and length limits apply.
    `scrub` finds the source's own people in free text (detect/known.py): with a `Connection`, those of
    every table, as the pipeline; otherwise those of this DataFrame only.

    >>> clean = sanitize.apply(customers_df, rules, table="customers")
    """
    if not isinstance(df, pd.DataFrame):
        raise BadInputError(f"apply expects a pandas DataFrame, found {type(df).__name__}")
    r = as_rules(rules)
    k = key or load_key()
    if r.is_skipped(table):
        raise TargetRefusedError(
            f"table {table!r} is skipped by the rules (`{table}: skip`), so the pipeline never copies it; "
            "give it column rules to anonymise it"
        )
    if schema is None:
        columns = [str(c) for c in df.columns]
        try:
            plan = build_plan(
                _rules_for_frame(r, table, columns), Schema({table: table_from_frame(df, table)}), k
            )
        except CoverageError as exc:
            raise CoverageError(
                f"{exc.message}. A bare DataFrame has no foreign keys, so no column inherits a parent's "
                "rule: name these columns in the rules, or pass schema= (a Connection or Schema) to plan "
                "against the source schema as the pipeline does",
                problems=exc.problems,
            ) from None
    else:
        full = schema.schema if isinstance(schema, Connection) else schema
        if table not in full:
            raise BadInputError(
                f"table {table!r} is not in the schema; tables: {', '.join(full.tables) or 'none'}"
            )
        extra = [str(c) for c in df.columns if c not in full[table].column_names]
        if extra:
            raise BadInputError(
                f"the DataFrame has column(s) {extra} that {table} does not have in the schema; "
                "drop them, or apply without schema= to derive the table from the DataFrame"
            )
        plan = build_plan(r, full, k)
    # scrub finds the source's own people in free text, as the pipeline does: those of the whole
    # source when a Connection is given, else those of this DataFrame
    from sanitize.pipeline import with_known_people

    people = schema.source if isinstance(schema, Connection) else _FrameSource(table, df)
    plan = with_known_people(plan, people, k)
    out = transform_batch(df, plan.tables[table], k, r.locale)
    return out if arrow else with_dtypes_of(out, df)


def with_dtypes_of(out: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """`out` with each column cast back to `like`'s dtype for it where the values allow (a NumPy integer
    or bool column holding NULLs becomes nullable Int64/boolean; a cast that fails leaves the column)."""
    cast: dict[str, pd.Series] = {}
    for c in out.columns:
        want = like[c].dtype if c in like.columns else None
        if want is None or out[c].dtype == want:
            continue
        values = out[c]
        if pd.api.types.is_object_dtype(want):
            cast[c] = values.astype(object).where(values.notna(), None)
            continue
        if values.hasnans and want.kind in "iub":
            want = pd.Int64Dtype() if want.kind in "iu" else pd.BooleanDtype()
        try:
            cast[c] = values.astype(want)
        except (TypeError, ValueError, OverflowError):
            continue  # the rule changed what the column holds (e.g. a date generalised to text)
    return out.assign(**cast) if cast else out


class _FrameSource:
    """One DataFrame as a source of one table, for collecting its people."""

    def __init__(self, table: str, df: pd.DataFrame) -> None:
        self.table, self.df = table, df

    def count(self, table: str) -> int:
        return len(self.df) if table == self.table else 0

    def read_batches(
        self, table: str, batch_size: int = DEFAULT_BATCH, columns: Any = None
    ) -> Iterator[pd.DataFrame]:
        if table != self.table:
            return
        cols = [c for c in (columns or self.df.columns) if c in self.df.columns]
        for start in range(0, len(self.df), batch_size):
            yield self.df.iloc[start : start + batch_size][cols]


def preview(
    source: Any,
    rules: RulesLike,
    table: str,
    rows: int = 20,
    *,
    key: SecretKey | None = None,
) -> PreviewFrame:
    """Before/after for the first `rows` rows of `table`; writes nothing.

    `source` is a `Connection`, a database URL / SQLite file / environment name, or a DataFrame
    (then the rows come from it and `apply` does the work). The result is a DataFrame with columns
    `(column, "before" | "after")`, `.before`, `.after` and `.changed`; a notebook highlights changed cells.

    >>> sanitize.preview(db, rules, "customers", rows=10)
    """
    if rows < 1:
        raise BadInputError(f"rows must be at least 1, found {rows}")
    if isinstance(source, pd.DataFrame):
        before = source.head(rows)
        return PreviewFrame.from_pair(before, apply(before, rules, table, key=key), table)
    from sanitize.pipeline import preview as run_preview

    with opened(source) as src:
        before, after = run_preview(as_rules(rules), src, table, rows, key or load_key())
    return PreviewFrame.from_pair(before, with_dtypes_of(after, before), table)  # as `apply` gives
