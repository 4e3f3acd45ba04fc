"""The Python API behind `import sanitize`: the same engine as the CLI and the nightly job.

Every function here is a thin layer over the library stages (rules, plan, transform, pipeline,
detect, synth); none has its own logic for what a rule does. Results that a notebook displays are
small classes from `sanitize.display` with an HTML representation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import logging
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sanitize import display
from sanitize.display import CheckResult, FindingsFrame, PreviewFrame
from sanitize.errors import BadInputError, CoverageError, TargetRefusedError
from sanitize.keys import SecretKey, load_key
from sanitize.plan import build_plan
from sanitize.rules import ColumnRule, RulesFile, TableRules  # noqa: F401  (ColumnRule: public)
from sanitize.rules import load_rules as _load_rules
from sanitize.schema import Column, Kind, Schema, Table
from sanitize.transform import transform_batch

if TYPE_CHECKING:
    from sanitize.synth import Profile, SynthReport

log = logging.getLogger("sanitize")

Rules = RulesFile
"""A rules file (alias of `sanitize.rules.RulesFile`): `.from_dict`, `.with_rule`, `.to_yaml(path)`."""

RulesLike = RulesFile | str | Path


# --- rules --------------------------------------------------------------------------------------


def load_rules(path: str | Path) -> RulesFile:
    """Load and validate a rules file; every problem is reported at once as a `RulesError`.

    >>> rules = sanitize.load_rules("rules/shop.yaml")
    >>> rules.to_yaml("rules/shop.yaml")          # write it back (a file the CLI accepts unchanged)
    """
    return _load_rules(path)


def _as_rules(rules: RulesLike) -> RulesFile:
    if isinstance(rules, RulesFile):
        return rules
    if isinstance(rules, str | Path):
        return _load_rules(rules)
    raise BadInputError(
        f"expected rules (a sanitize.Rules or the path of a rules file), found {type(rules).__name__}; "
        "load them with sanitize.load_rules(path) or sanitize.Rules.from_dict({...})"
    )


# --- connections --------------------------------------------------------------------------------


class Connection:
    """An open, read-only source (database or dump), for notebooks.

    Use it as a context manager, or call `close()`. Every API function that takes a source accepts it.

    >>> with sanitize.connect("sqlite:///prod.db") as db:
    ...     db.tables
    ...     db.sample("customers", 5)
    """

    def __init__(self, source: Any, stack: contextlib.ExitStack | None = None, spec: str = "") -> None:
        self._source = source
        self._stack = stack
        self._spec = spec
        self.closed = False

    # -- what pipeline.open_source and the detector read ---------------------------------------
    @property
    def source(self) -> Any:
        """The underlying source object (sanitize.db or sanitize.dumps)."""
        self._require_open()
        return self._source

    @property
    def schema(self) -> Schema:
        """The reflected schema: tables, columns, keys."""
        return self.source.schema  # type: ignore[no-any-return]

    @property
    def ref(self) -> Any:
        return getattr(self._source, "ref", None)

    @property
    def display(self) -> str:
        """Where this is, with any password masked."""
        ref = self.ref
        return str(getattr(ref, "display", None) or self._spec or type(self._source).__name__)

    def read_batches(
        self, table: str, batch_size: int = 65_536, columns: Any = None
    ) -> Iterator[pd.DataFrame]:
        """Stream a table in batches (what the pipeline reads)."""
        self._require_table(table)
        if columns is None:
            return self.source.read_batches(table, batch_size=batch_size)  # type: ignore[no-any-return]
        return self.source.read_batches(table, batch_size=batch_size, columns=columns)  # type: ignore[no-any-return]

    def count(self, table: str) -> int:
        """Rows in a table."""
        self._require_table(table)
        return int(self.source.count(table))

    def sample(self, table: str, n: int = 1000) -> pd.DataFrame:
        """Up to `n` rows spread across the table (deterministic), as a DataFrame."""
        self._require_table(table)
        return self.source.sample(table, n)  # type: ignore[no-any-return]

    def head(self, table: str, n: int = 20) -> pd.DataFrame:
        """The first `n` rows of a table, in the order the pipeline reads them."""
        self._require_table(table)
        batch = next(iter(self.source.read_batches(table, batch_size=max(n, 1))), None)
        if batch is None:
            return pd.DataFrame({c: [] for c in self.schema[table].column_names})
        return batch.head(n)

    # -- for people ------------------------------------------------------------------------------
    @property
    def tables(self) -> list[str]:
        """Table keys (how rules name them), in the source's order."""
        return list(self.schema.tables)

    def describe(self, table: str | None = None) -> pd.DataFrame:
        """One row per column: table, column, kind, nullable, max_length, primary key, references."""
        tables = [self.schema[self._require_table(table)]] if table else list(self.schema.tables.values())
        rows = []
        for t in tables:
            refs = {
                c: f"{fk.ref_table}.{rc}"
                for fk in t.foreign_keys
                for c, rc in zip(fk.columns, fk.ref_columns, strict=True)
            }
            for c in t.columns:
                rows.append(
                    {
                        "table": t.key,
                        "column": c.name,
                        "kind": c.kind,
                        "nullable": c.nullable,
                        "max_length": c.max_length,
                        "primary_key": c.name in t.primary_key,
                        "unique": t.is_unique(c.name),
                        "references": refs.get(c.name),
                    }
                )
        return pd.DataFrame(rows)

    def close(self) -> None:
        """Close the source; safe to call twice."""
        if not self.closed and self._stack is not None:
            self._stack.close()
        self.closed = True

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return f"Connection({self.display}, closed)"
        return f"Connection({self.display}, {len(self.tables)} tables: {', '.join(self.tables)})"

    def _repr_html_(self) -> str:
        if self.closed:
            return display.caption_html(f"{self.display} (closed)")
        rows = [
            {
                "table": t.key,
                "columns": len(t.columns),
                "primary key": ", ".join(t.primary_key),
                "references": ", ".join(sorted({fk.ref_table for fk in t.foreign_keys})),
                "rows (estimate)": t.row_estimate,
            }
            for t in self.schema.tables.values()
        ]
        return display.table_html(pd.DataFrame(rows), caption=f"{self.display}: {len(rows)} table(s)")

    def _require_open(self) -> None:
        if self.closed:
            raise BadInputError(
                f"the connection to {self.display} is closed; open it again with sanitize.connect"
            )

    def _require_table(self, table: str) -> str:
        if table not in self.schema:
            raise BadInputError(
                f"table {table!r} is not in {self.display}; tables: {', '.join(self.tables) or 'none'}"
            )
        return table


def connect(
    url_or_env: str | Path,
    *,
    environments: Mapping[str, str] | None = None,
    config: str | Path | None = None,
) -> Connection:
    """Open a source read-only: a SQLAlchemy URL, a SQLite file, a dump file, or an environment name.

    Environment names come from `environments` (name -> URL) or from a `sanitize.yaml`: the one given
    as `config`, else the one in the working directory when the name is not a URL or a file.

    >>> db = sanitize.connect("sqlite:///prod.db")      # or "postgresql://app@db/prod", or "prod"
    >>> db.tables
    ['customers', 'orders', ...]
    >>> db.close()
    """
    from sanitize.pipeline import open_source

    spec = str(url_or_env)
    envs = dict(environments) if environments is not None else _environments_from_config(spec, config)
    stack = contextlib.ExitStack()
    try:
        src = stack.enter_context(open_source(spec, envs))
    except BaseException:
        stack.close()
        raise
    return Connection(src, stack, spec)


def _environments_from_config(spec: str, config: str | Path | None) -> dict[str, str] | None:
    from sanitize.config import DEFAULT_CONFIG, load_config

    if config is not None:
        return load_config(config).environment_urls()
    default = Path(DEFAULT_CONFIG)
    looks_like_name = "://" not in spec and not Path(spec).exists() and not Path(spec).suffix
    if looks_like_name and default.is_file():
        return load_config(default).environment_urls()
    return None


@contextlib.contextmanager
def _opened(source: Any) -> Iterator[Any]:
    """An open source for `source`: a Connection, an open source object, or a spec to open (and close)."""
    if isinstance(source, Connection):
        yield source.source
        return
    from sanitize.pipeline import open_source

    with open_source(source if not isinstance(source, Path) else str(source)) as src:
        yield src


def _describe_source(source: Any) -> str:
    if isinstance(source, Connection):
        return source.display
    ref = getattr(source, "ref", None)
    return str(getattr(ref, "display", None) or source)


# --- apply ----------------------------------------------------------------------------------------


def _kind_of_arrow(t: pa.DataType) -> tuple[Kind, dict[str, Any]]:
    if pa.types.is_boolean(t):
        return "boolean", {}
    if pa.types.is_integer(t):
        return "integer", {}
    if pa.types.is_floating(t):
        return "float", {}
    if pa.types.is_decimal(t):
        return "decimal", {"precision": t.precision, "scale": t.scale}  # type: ignore[attr-defined]
    if pa.types.is_timestamp(t):
        return "datetime", {"timezone": t.tz is not None}  # type: ignore[attr-defined]
    if pa.types.is_date(t):
        return "date", {}
    if pa.types.is_time(t):
        return "time", {}
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "binary", {}
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "text", {}
    if pa.types.is_struct(t) or pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_map(t):
        return "json", {}
    return "other", {}


def _kind_of_objects(values: pd.Series) -> tuple[Kind, dict[str, Any]]:
    sample = values.dropna().head(100).tolist()
    if not sample:
        return "text", {}
    first = sample[0]
    checks: list[tuple[type | tuple[type, ...], Kind]] = [
        (bool, "boolean"),
        (str, "text"),
        ((dict, list), "json"),
        ((bytes, bytearray, memoryview), "binary"),
        (decimal.Decimal, "decimal"),
        (dt.datetime, "datetime"),
        (dt.date, "date"),
        (dt.time, "time"),
        (uuid.UUID, "uuid"),
        ((int, np.integer), "integer"),
        ((float, np.floating), "float"),
    ]
    for types, kind in checks:
        if isinstance(first, types) and all(isinstance(v, types) for v in sample):
            if kind == "datetime":
                return kind, {"timezone": getattr(first, "tzinfo", None) is not None}
            return kind, {}
    return "text" if all(isinstance(v, str) for v in sample) else "other", {}


def column_from_series(name: str, values: pd.Series) -> Column:
    """The `Column` a DataFrame column stands for, from its dtype (object columns: from their values)."""
    d = values.dtype
    extra: dict[str, Any] = {}
    kind: Kind
    if isinstance(d, pd.ArrowDtype):
        kind, extra = _kind_of_arrow(d.pyarrow_dtype)
    elif isinstance(d, pd.CategoricalDtype):
        kind = "text"
    elif pd.api.types.is_bool_dtype(d):
        kind = "boolean"
    elif pd.api.types.is_integer_dtype(d):
        kind = "integer"
    elif pd.api.types.is_float_dtype(d):
        kind = "float"
    elif pd.api.types.is_datetime64_any_dtype(d):
        kind, extra = "datetime", {"timezone": isinstance(d, pd.DatetimeTZDtype)}
    elif pd.api.types.is_timedelta64_dtype(d):
        kind = "other"
    elif pd.api.types.is_string_dtype(d) and not pd.api.types.is_object_dtype(d):
        kind = "text"
    else:
        kind, extra = _kind_of_objects(values)
    return Column(name=str(name), kind=kind, nullable=True, **extra)


def table_from_frame(df: pd.DataFrame, table: str) -> Table:
    """A `Table` named `table` ("name" or "schema.name") whose columns are `df`'s, typed from its dtypes.

    It has no primary key, foreign keys or length limits: a bare DataFrame does not say them.
    """
    schema, _, name = table.rpartition(".")
    dupes = sorted({str(c) for c in df.columns if list(df.columns).count(c) > 1})
    if dupes:
        raise BadInputError(
            f"the DataFrame has duplicate column names {dupes}; rename them before applying rules"
        )
    cols = tuple(column_from_series(str(c), df[c]) for c in df.columns)
    return Table(key=table, name=name, schema=schema or None, columns=cols)


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
) -> pd.DataFrame:
    """Anonymise a DataFrame with the rules of `table`: a new DataFrame, `df` is left untouched.

    Pure and deterministic: for the same key (default `SANITIZE_KEY`) every value becomes what the
    pipeline writes for it. Without `schema`, the table is derived from the DataFrame's dtypes, so
    nothing needs a database; rules naming columns the DataFrame lacks are ignored (a column subset),
    and a DataFrame column no rule covers fails as in the pipeline (unless `unknown_columns: keep`).
    Pass `schema=` (a `Schema` or a `Connection`) to plan against the real source schema as the
    pipeline does: foreign-key columns then inherit their parent's rule and length limits apply.

    >>> clean = sanitize.apply(customers_df, rules, table="customers")
    """
    if not isinstance(df, pd.DataFrame):
        raise BadInputError(f"apply expects a pandas DataFrame, found {type(df).__name__}")
    r = _as_rules(rules)
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
                _rules_for_frame(r, table, columns), Schema({table: table_from_frame(df, table)})
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
        plan = build_plan(r, full)
    return transform_batch(df, plan.tables[table], k, r.locale)


# --- preview ------------------------------------------------------------------------------------


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

    with _opened(source) as src:
        before, after = run_preview(_as_rules(rules), src, table, rows, key)
    return PreviewFrame.from_pair(before, after, table)


# --- check --------------------------------------------------------------------------------------

_FIXES = {
    "uncovered": "add a rule for it (or `keep` it explicitly)",
    "stale": "remove or rename the rule",
    "defaulted": "name it in the rules to decide explicitly",
}


def _split_location(loc: str) -> tuple[str, str]:
    """'customers.email' or 'tables.customers.columns.email' -> ('customers', 'email')."""
    if loc.startswith("tables."):
        rest = loc[len("tables.") :]
        table, sep, col = rest.partition(".columns.")
        return table, col if sep else ""
    table, _, col = loc.rpartition(".")
    return table, col


def check(rules: RulesLike, source: Any, *, pii: bool = True, sample: int = 1000) -> CheckResult:
    """Coverage and drift of `rules` against `source`, as `sanitize check` reports them.

    Coverage reads only the schema: columns no rule covers (`uncovered`) and rules naming what no
    longer exists (`stale`). With `pii` (the default), columns the rules `keep` are also sampled
    (`sample` rows) and flagged `looks_like_pii` when their values now look like PII, with the evidence
    and the rule line that would fix it. Returns a `CheckResult`: `.ok`, `.findings` (a DataFrame:
    table, column, problem, detail, fix) and `.problems()`.

    >>> result = sanitize.check(rules, db)
    >>> result.ok
    True
    """
    r = _as_rules(rules)
    from sanitize.plan import check_coverage

    rows: list[dict[str, str]] = []
    with _opened(source) as src:
        cov = check_coverage(r, src.schema)
        drift: list[Any] = []
        if pii:
            from sanitize.detect.drift import find_pii_in_kept_columns, suggest_rule

            drift = [(f, suggest_rule(f)) for f in find_pii_in_kept_columns(src, r, sample)]
    for problem, locs, detail in (
        ("uncovered", cov.uncovered, "no rule covers this column"),
        ("stale", cov.stale, "the rules name this but the source has no such table/column"),
        ("defaulted", cov.defaulted, "kept unchanged because no rule names it (unknown_columns: keep)"),
    ):
        for loc in locs:
            t, c = _split_location(loc)
            rows.append(
                {"table": t, "column": c, "problem": problem, "detail": detail, "fix": _FIXES[problem]}
            )
    for finding, suggestion in drift:
        rows.append(
            {
                "table": finding.table,
                "column": finding.column,
                "problem": "looks_like_pii",
                "detail": f"kept unchanged but looks like {finding.kind} ({finding.evidence})",
                "fix": f"use a rule such as `{suggestion.split('  #')[0]}`",
            }
        )
    findings = pd.DataFrame(rows, columns=["table", "column", "problem", "detail", "fix"])
    return CheckResult(findings, source=_describe_source(source), rules=r.path or "<in memory>")


# --- scan ---------------------------------------------------------------------------------------

FINDING_COLUMNS = [
    "table",
    "column",
    "type",
    "pii",
    "confidence",
    "evidence",
    "json_paths",
    "unique",
    "foreign_key",
    "suggested_rule",
]


def _findings(report: Any) -> FindingsFrame:
    from sanitize.detect.draft import _flow, rule_for, unique_domains

    udomains = unique_domains(report)
    rows = []
    for c in report.columns():
        paths = [f"{p}: {s.kind}" for p, s in c.json_paths.items() if s.kind]
        rows.append(
            {
                "table": c.table,
                "column": c.column,
                "type": c.type,
                "pii": c.kind or "",
                "confidence": round(float(c.confidence), 3),
                "evidence": c.evidence.describe(),
                "json_paths": "; ".join(paths),
                "unique": bool(c.unique),
                "foreign_key": c.foreign_key or "",
                "suggested_rule": (
                    f"inherits {c.foreign_key}" if c.foreign_key else _flow(rule_for(c, udomains))
                ),
            }
        )
    frame = FindingsFrame(pd.DataFrame(rows, columns=FINDING_COLUMNS))
    frame.report = report
    return frame


def scan(
    source_or_dataframe: Any,
    *,
    table: str | None = None,
    tables: list[str] | None = None,
    sample: int = 1000,
) -> FindingsFrame:
    """Detect PII: one row per column with the kind found (`pii`), a confidence and the evidence.

    Give a `Connection` / database spec (each table is sampled, `sample` rows spread across it), or a
    DataFrame (its rows are the sample; `table` names it, which helps the column-name heuristics).
    Runs offline: presidio's pattern recognizers plus sanitize's own; no model is downloaded.

    >>> findings = sanitize.scan(db)
    >>> findings.pii                       # only the columns where PII was found
    >>> sanitize.scan(df, table="customers")
    """
    from sanitize.detect.scan import ScanReport, scan_frame, scan_source

    if isinstance(source_or_dataframe, pd.DataFrame):
        report = ScanReport([scan_frame(source_or_dataframe, table or "")], sample=len(source_or_dataframe))
        return _findings(report)
    if sample < 1:
        raise BadInputError(f"sample must be at least 1 row, found {sample}")
    with _opened(source_or_dataframe) as src:
        wanted = tables if tables is not None else ([table] if table else None)
        for t in wanted or []:
            if t not in src.schema:
                raise BadInputError(
                    f"table {t!r} is not in {_describe_source(source_or_dataframe)}; "
                    f"tables: {', '.join(src.schema.tables) or 'none'}"
                )
        report = scan_source(src, sample, tables=wanted)
    return _findings(report)


def draft_rules(findings_or_source: Any, *, sample: int = 1000, out: str | Path | None = None) -> RulesFile:
    """A draft rules file from a scan: every column covered, detected PII with a sensible strategy.

    Give the result of `scan` (no rescan) or a source to scan. With `out`, the draft is also written
    there with a comment per column giving the evidence, as `sanitize scan --out` writes it. Review the
    draft before use: it is a starting point, not a decision.

    >>> rules = sanitize.draft_rules(findings)
    """
    import yaml

    from sanitize.detect.draft import draft_rules as draft_text

    report = getattr(findings_or_source, "report", None)
    if report is None:
        if isinstance(findings_or_source, pd.DataFrame) and not isinstance(findings_or_source, FindingsFrame):
            raise BadInputError(
                "draft_rules needs the result of sanitize.scan (or a source to scan); a plain DataFrame "
                "holds no scan — pass sanitize.scan(df, table=...) instead"
            )
        if isinstance(findings_or_source, FindingsFrame):
            raise BadInputError(
                "these findings lost their scan report (an operation dropped it); pass the DataFrame "
                "sanitize.scan returned, or the source itself"
            )
        report = scan(findings_or_source, sample=sample).report
    text = draft_text(report, source=getattr(report, "source", None) or None)
    rules = RulesFile.from_dict(yaml.safe_load(text), source="<draft rules>")
    if out is not None:
        Path(out).write_text(text, encoding="utf-8")
        rules = rules.model_copy(update={"path": str(out)})
    return rules


# --- synthetic data -------------------------------------------------------------------------------


def profile(source: Any, rules: RulesLike) -> Profile:
    """A PII-free profile of `source` (a `sanitize.synth.Profile`): aggregates only, safe to commit.

    Per column: NULL fraction, ranges and quantiles, text lengths, and category frequencies only for
    low-cardinality columns the rules do not treat as sensitive (small groups suppressed).

    >>> prof = sanitize.profile(db, rules)
    >>> prof.save("profile.json")
    """
    from sanitize.synth import build_profile

    r = _as_rules(rules)
    with _opened(source) as src:
        return build_profile(src, r)


def synthesize(
    target: str | Path,
    *,
    rules: RulesLike | None = None,
    schema_from: Any = None,
    rows: int | dict[str, int] | None = None,
    scale: float | None = None,
    seed: int = 0,
    profile: Profile | None = None,
    environments: Mapping[str, str] | None = None,
) -> SynthReport:
    """Fill `target` with synthetic, constraint-correct rows and publish it atomically.

    The schema comes from `schema_from` (a `Connection`, URL, file or environment name) or from the
    target's existing tables. `profile` (from `sanitize.profile`) shapes the distributions; row counts
    come from `rows` (one number or per table), `scale` of the source's counts, or the profile. The
    same `seed` gives the same data. Returns a `sanitize.synth.SynthReport` (rows, fidelity, privacy).

    >>> report = sanitize.synthesize("dev.db", schema_from=db, rules=rules, profile=prof, seed=7)
    """
    from sanitize.synth import synthesize as run_synthesize

    source: Any = schema_from
    if isinstance(schema_from, Connection):
        source = schema_from.ref
        if source is None:
            raise BadInputError(
                f"{schema_from.display} is not a database; synthesize needs a database schema"
            )
    elif isinstance(schema_from, Path):
        source = str(schema_from)
    return run_synthesize(
        str(target),
        schema_from=source,
        rules=_as_rules(rules) if rules is not None else None,
        rows=rows,
        scale=scale,
        seed=seed,
        profile=profile,
        environments=dict(environments) if environments else None,
    )


# --- display helpers --------------------------------------------------------------------------------


def show_rules(rules: RulesLike) -> display.RulesView:
    """A rules file as YAML for a notebook (rules also display this way on their own inside Jupyter)."""
    return display.RulesView(_as_rules(rules))


def compare(
    a: pd.Series | pd.DataFrame,
    b: pd.Series | pd.DataFrame,
    column: str | None = None,
    *,
    labels: tuple[str, str] = ("real", "synthetic"),
    bins: int = 20,
) -> display.Comparison:
    """Compare one column's distribution in two datasets; displays as a bar chart with a statistic.

    >>> sanitize.compare(real["total"], synthetic["total"])          # KS statistic, histogram
    >>> sanitize.compare(real, synthetic, "status")                  # total variation distance
    """
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        if column is None:
            raise BadInputError("compare needs `column` when given DataFrames")
        sa_ = a[column] if isinstance(a, pd.DataFrame) else a
        sb_ = b[column] if isinstance(b, pd.DataFrame) else b
    else:
        sa_, sb_ = a, b
    return display.compare_series(sa_, sb_, column=column, labels=labels, bins=bins)


display.register_formatters()
