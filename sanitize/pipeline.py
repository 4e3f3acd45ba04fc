"""The pipeline: plan -> extract -> transform -> load -> (verify) -> publish.

`anonymize` is what `sanitize anonymize` and the nightly refresh run. Coverage is checked before a
row is read; rows are streamed in batches from a read-only source, transformed in memory (never
written raw anywhere) and bulk-loaded into a shadow copy of the target, which is published atomically
only after the integrity gate (and the caller's `before_publish` check, e.g. the leak check) passed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from sanitize.defaults import DEFAULT_BATCH
from sanitize.errors import BadInputError, CheckViolation, SanitizeError, TargetRefusedError
from sanitize.keys import SecretKey, load_key
from sanitize.orphans import OrphanGuard
from sanitize.plan import (
    Coverage,
    Plan,
    TablePlan,
    build_plan,
    check_coverage,
    kept_generated,
    kept_word_vectors,
)
from sanitize.risk import RiskCounter, TableRisk, gate_failures, raise_if_over, risk_columns, suggest_for
from sanitize.rules import RulesFile, as_rules
from sanitize.schema import Schema
from sanitize.sources import is_dump_path, open_source, open_target, resolve_target
from sanitize.special import map_special
from sanitize.transform import default_workers, map_ordered, transform_batch

log = logging.getLogger("sanitize")

Progress = Callable[[str, int, int | None], None]  # (table, rows done, rows expected)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("sanitize", "pandas", "pyarrow", "sqlalchemy", "faker", "presidio-analyzer", "pydantic"):
        with contextlib.suppress(PackageNotFoundError):
            out[pkg] = version(pkg)
    return out


@dataclass
class TableRun:
    table: str
    rows: int = 0
    seconds: float = 0.0
    strategies: dict[str, str] = field(default_factory=dict)  # column -> strategy (inherited marked)


@dataclass
class RunReport:
    """One run, as JSON: never the key, never a password (sources and targets are display strings)."""

    command: str
    source: str
    target: str
    rules: str | None
    rules_sha256: str
    started_at: str
    seconds: float = 0.0
    status: str = "running"
    published: bool = False
    tables: list[TableRun] = field(default_factory=list)
    skipped_tables: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    risk: list[dict[str, Any]] = field(default_factory=list)  # re-identification figures per table
    environment: str | None = None
    key_fingerprint: str | None = None  # tells runs with different keys apart; never the key
    ner_models: list[str] = field(default_factory=list)  # spaCy models the scrub rules use
    versions: dict[str, str] = field(default_factory=versions)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rows"] = self.rows
        return d

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")

    @classmethod
    def start(cls, rules: RulesFile, source: str, target: str) -> RunReport:
        """The report of an anonymize run that starts now."""
        return cls(
            command="anonymize",
            source=source,
            target=target,
            rules=rules.path,
            rules_sha256=rules.digest,
            started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )

    @contextlib.contextmanager
    def recording(self, started: float) -> Iterator[None]:
        """A failure inside is written into the report (status and a failed check) before it goes on,
        and so is an interruption (Ctrl-C, or SIGTERM as the CLI turns it into KeyboardInterrupt:
        status `interrupted`); the run's seconds are set either way."""
        try:
            yield
        except SanitizeError as exc:
            self.status = f"failed: {type(exc).__name__}"
            failed: dict[str, Any] = {"name": "run", "ok": False, "detail": exc.message}
            if exc.problems:  # uncovered columns, stale rules, ...: the report's coverage section
                failed["problems"] = list(exc.problems)
            self.checks.append(failed)
            raise
        except KeyboardInterrupt as exc:
            self.status = "interrupted"
            what = interrupted_by(exc)
            self.checks.append({"name": "run", "ok": False, "detail": f"interrupted by {what}"})
            exc.published = self.published  # type: ignore[attr-defined]  # for the CLI's message
            raise
        finally:
            self.seconds = round(time.perf_counter() - started, 4)


def interrupted_by(exc: KeyboardInterrupt) -> str:
    """What stopped a run: the signal the CLI named in the KeyboardInterrupt it raised, else Ctrl-C."""
    return str(exc.args[0]) if exc.args and isinstance(exc.args[0], str) else "Ctrl-C (SIGINT)"


def check(rules: RulesFile | str | Path, source: str | Any) -> Coverage:
    """Coverage and drift of `rules` against `source`'s schema; reads no rows."""
    r = as_rules(rules)
    with open_source(source) as src:
        return check_coverage(r, src.schema)


def preview(
    rules: RulesFile | str | Path, source: str | Any, table: str, rows: int = 10, key: SecretKey | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(before, after) for the first `rows` rows of `table`; writes nothing."""
    r = as_rules(rules)
    k = key or load_key()
    with open_source(source) as src:
        plan = build_plan(r, src.schema, k)
        if table not in plan.tables:
            known = ", ".join(plan.tables) or "none"
            what = "is skipped by the rules" if table in plan.skipped else "is not in the source"
            raise BadInputError(f"table {table!r} {what}; tables that are copied: {known}")
        plan = with_known_people(plan, src, k)
        before = next(iter(src.read_batches(table, batch_size=max(rows, 1))), None)
    if before is None:
        before = pd.DataFrame({c: [] for c in plan.tables[table].columns})
    before = before.head(rows)
    return before, transform_batch(before, plan.tables[table], k, r.locale)


def anonymize(
    rules: RulesFile | str | Path,
    source: str | Any,
    target: str | Any,
    *,
    key: SecretKey | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
    before_publish: Callable[[Any, Plan], None] | None = None,
    publish: bool = True,
    environments: dict[str, str] | None = None,
    report: RunReport | None = None,
    workers: int | None = None,
    init_target: bool = False,
) -> RunReport:
    """Anonymise `source` into `target` atomically; returns the run report.

    Fails closed: key, rules, coverage and target guards are checked before a row is read; any
    failure after that aborts the shadow copy and leaves the published target as it was. Batches are
    transformed on `workers` threads (default: transform.default_workers()), and written in
    source order. A SQLite file sanitize did not make is refused unless `init_target` (then only the
    tables loaded are replaced; see sanitize.db.open_target).
    """
    started = time.perf_counter()
    n_workers = workers if workers is not None else default_workers()
    if n_workers < 1:
        raise BadInputError(f"workers must be at least 1 (got {n_workers})")
    k = key or load_key()
    r = as_rules(rules)
    tspec = resolve_target(target, environments)
    if tspec.ref is not None and environments is None:  # refresh checked its own target (guards)
        from sanitize.guards import refuse_production_target

        refuse_production_target(tspec.ref)
    if tspec.path is not None:
        from sanitize.report import prepare_output

        prepare_output(tspec.path, "sanitised dump")  # its directory is made (or refused) before any work
        return _rewrite_dump(r, source, tspec.path, k, report, started)
    shown = str(source) if isinstance(source, str | Path) else source.display
    run = report or RunReport.start(r, shown, tspec.display)
    run.target = tspec.display
    run.key_fingerprint = k.fingerprint
    with run.recording(started), open_source(source, environments) as src:
        run.source = src.display
        if src.ref.identity == tspec.identity:
            raise TargetRefusedError(
                f"target {tspec.display} is the source database; refusing to write to it. "
                "Name a different target database."
            )
        plan = build_plan(r, src.schema, k)  # rules fail closed here, before any row is read
        quasi = {t: q for t, q in risk_columns(r, src.schema).items() if t in plan.tables}
        run.skipped_tables, run.ner_models = plan.skipped, ner_models(plan)
        plan = with_known_people(plan, src, k, batch_size=batch_size, progress=progress)
        tgt_dialect = tspec.dialect
        same_engine = tspec.kind == "db" and tgt_dialect == src.schema.dialect
        run.warnings += plan_warnings(r, plan, recomputes_generated=same_engine)
        risks: list[TableRisk] = []
        orphans = OrphanGuard(plan.target_schema, list(plan.tables), r.orphans_for)
        target_name = {"mysql": "MySQL/MariaDB"}.get(str(tgt_dialect), "sanitize (through Arrow)")
        if hasattr(src, "special_values"):  # PostgreSQL's infinite dates cannot travel through Arrow
            src.special_values = r.special_values

        def read_keys(table: str, columns: list[str]) -> Iterator[pd.DataFrame]:
            return iter(src.read_batches(table, batch_size=batch_size, columns=columns))

        with (
            explained_checks(plan),
            open_target(tspec, init_target=init_target) as tgt,
            tgt.begin_load(plan.target_schema) as load,
        ):
            for tkey, tplan in plan.tables.items():
                t0 = time.perf_counter()
                expected = src.count(tkey) if progress is not None else None
                tr = TableRun(
                    tkey,
                    strategies={
                        c: (
                            p.spec.name
                            if p.origin != "inherited"
                            else f"{p.spec.name} (from {p.inherited_from})"
                        )
                        for c, p in tplan.columns.items()
                    },
                )
                if progress is not None:
                    progress(tkey, 0, expected)
                counters = (
                    (RiskCounter(tkey, *quasi[tkey]), RiskCounter(tkey, *quasi[tkey]))
                    if tkey in quasi
                    else None
                )

                def work(
                    batch: pd.DataFrame, tkey: str = tkey, tplan: TablePlan = tplan, counters: Any = counters
                ) -> tuple[Any, Any]:
                    kept = orphans.filter(tkey, batch)
                    out = transform_batch(kept, tplan, k, r.locale, progress)
                    # MariaDB/MySQL have no NaN or infinity; Arrow has no infinite date (a dump's text)
                    out = map_special(
                        out,
                        tplan.table,
                        r.special_values,
                        target_name,
                        numbers=tgt_dialect == "mysql",
                        dates=src.schema.dialect == "postgresql",
                    )
                    parts = (counters[0].partial(kept), counters[1].partial(out)) if counters else None
                    return load.prepare(tkey, out), parts

                orphans.begin(tkey, read_keys)

                threads = n_workers if tplan.thread_safe else 1
                reading: Any = iter(src.read_batches(tkey, batch_size=batch_size))  # a generator
                with contextlib.closing(reading) as batches:
                    for prepared, parts in map_ordered(work, batches, threads):
                        load.write_prepared(prepared)
                        tr.rows += prepared.rows
                        if parts is not None and counters is not None:
                            counters[0].merge(parts[0])
                            counters[1].merge(parts[1])
                        if progress is not None:
                            progress(tkey, tr.rows, expected)
                orphans.end(tkey)
                if counters is not None:
                    risks.append(TableRisk(tkey, counters[0].result(), counters[1].result()))
                tr.seconds = round(time.perf_counter() - t0, 4)
                run.tables.append(tr)
                log.info("%s: %d rows in %.2fs", tkey, tr.rows, tr.seconds)
            run.warnings += orphans.warnings()
            load.finish()
            run.checks.append(
                {
                    "name": "integrity gate",
                    "ok": True,
                    "detail": "row counts, foreign keys, unique constraints",
                }
            )
            if risks:
                _risk_gate(r, risks, src, run)
            if before_publish is not None:
                before_publish(load, plan)
            if publish:
                load.publish()
                run.published = True
        run.status = "ok"
    return run


def _risk_gate(rules: RulesFile, risks: list[TableRisk], src: Any, run: RunReport) -> None:
    """Record the re-identification figures; below the rules' `risk:` limits, suggest generalisations
    (computed on the source's quasi-identifiers) and fail before publishing."""
    gate = rules.risk
    failing = [t for t in risks if t.target is not None and gate_failures(gate, t.target)]
    for t in failing:
        if gate.min_k is not None:
            t.suggestions = suggest_for(src, t.table, t.source.quasi_identifiers, gate.min_k)
    run.risk = [t.to_dict() for t in risks]
    if gate.active:
        detail = "; ".join(
            f"{t.table}: k={t.target.k}, unique {t.target.unique_share:.1%}" for t in risks if t.target
        )
        run.checks.append({"name": "re-identification risk", "ok": not failing, "detail": detail})
    raise_if_over(gate, risks)


def plan_scrubs(plan: Plan) -> bool:
    """Does any rule of the plan scrub free text (directly or inside JSON)?"""
    return any(
        cp.spec.name == "scrub" or "scrub" in cp.spec.nested(cp.params)
        for tp in plan.tables.values()
        for cp in tp.columns.values()
    )


def with_known_people(
    plan: Plan,
    source: Any,
    key: SecretKey,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> Plan:
    """The plan with the source's own people (names, e-mails, usernames of the columns the rules treat
    as people) for scrub to find in free text; unchanged when no rule scrubs. Reads those columns only."""
    if not plan_scrubs(plan):  # checked before importing the detector (~2 s of imports)
        return plan
    from sanitize.detect.known import collect_known_names

    known = collect_known_names(source, plan, key, batch_size=batch_size, progress=progress)
    return plan.with_known(known)


@contextlib.contextmanager
def explained_checks(plan: Plan) -> Iterator[None]:
    """A CHECK the loaded rows break names the rules that made the values of its columns."""
    try:
        yield
    except CheckViolation as exc:
        tplan = plan.tables.get(exc.table)
        made = [
            f"column {c} is made by strategy {p.spec.name}"
            for c in exc.columns
            if tplan is not None and (p := tplan.columns.get(c)) is not None and p.transforms
        ]
        if not made:
            raise
        raise CheckViolation(
            f"{exc.message}. Here {'; '.join(made)}, and its values do not satisfy the constraint: give "
            "the column a strategy (or params) whose values do — e.g. `keep` if it holds no personal "
            "data, or a `redact`/`fake` whose values fit",
            table=exc.table,
            constraint=exc.constraint,
            columns=exc.columns,
        ) from None


def ner_models(plan: Plan) -> list[str]:
    """The spaCy models the plan's scrub columns load (`spacy_model`, else SANITIZE_SPACY_MODEL), for
    the report; "none" where only the pattern recognisers run."""
    models = {
        getattr(cp.params, "spacy_model", None)
        for tp in plan.tables.values()
        for cp in tp.columns.values()
        if "scrub" in (cp.spec.name, *cp.spec.nested(cp.params))
    }
    if not models:
        return []
    from sanitize.detect.engine import spacy_model_from_env

    return sorted({m or spacy_model_from_env() or "none" for m in models})


def plan_warnings(rules: RulesFile, plan: Plan, *, recomputes_generated: bool) -> list[str]:
    """What a run says about kept columns that may carry the source's data (it still runs)."""
    out = []
    kept = [] if recomputes_generated else kept_generated(plan.tables.values())
    if kept:  # a target of the same engine (or a rewritten dump) computes them again
        out.append(
            f"{len(kept)} generated column(s) kept although they are made from columns the rules "
            f"transform; this target cannot compute them, so it gets the source's values: "
            f"{', '.join(kept[:20])} — give them a rule"
        )
    vectors = kept_word_vectors(plan.tables.values())
    if vectors:
        out.append(
            f"{len(vectors)} full-text vector column(s) kept in tables whose other columns are "
            f"transformed; a vector holds the words of the text it indexes: {', '.join(vectors[:20])} — "
            "nullify them (or keep them only if that text is kept too)"
        )
    if rules.unknown_columns == "keep" and plan.coverage.defaulted:
        out.append(
            f"{len(plan.coverage.defaulted)} column(s) copied unchanged because no rule names them "
            f"(unknown_columns: keep): {', '.join(plan.coverage.defaulted[:20])}"
        )
    return out


def _rewrite_dump(
    rules: RulesFile, source: str | Any, out: Path, key: SecretKey, report: RunReport | None, started: float
) -> RunReport:
    """Dump -> sanitised dump, streamed; coverage is checked on the dump's schema before any output."""
    from sanitize.dumps import rewrite_dump

    if not isinstance(source, str) or not is_dump_path(source):
        raise BadInputError(
            f"{out}: a .sql target is a sanitised dump, and needs a dump file as SOURCE (got {source!r}); "
            "to anonymise a live database, name a database as TARGET, or pg_dump/mysqldump it first"
        )
    run = report or RunReport.start(rules, source, str(out))
    plans: dict[str, Plan] = {}

    guards: dict[str, OrphanGuard] = {}

    def schema_check(schema: Schema) -> None:
        plan = plans["plan"] = build_plan(rules, schema, key)  # fails closed before the output exists
        guard = guards["orphans"] = OrphanGuard(plan.target_schema, list(plan.tables), rules.orphans_for)
        if any(guard.involves(t) for t in plan.tables):  # a dump's tables come in its order, not FK order
            with open_source(source) as dump:
                guard.prescan(lambda t, cols: dump.read_batches(t, columns=cols))

    def transform(table: str, df: pd.DataFrame) -> pd.DataFrame | None:
        tplan = plans["plan"].tables.get(table)
        if tplan is None:
            return None
        return transform_batch(guards["orphans"].filter(table, df), tplan, key, rules.locale)

    with run.recording(started):
        result = rewrite_dump(source, out, transform, schema_check=schema_check)
    plan = plans["plan"]
    run.warnings += plan_warnings(rules, plan, recomputes_generated=True)  # see rewrite_dump
    run.warnings += guards["orphans"].warnings()
    run.skipped_tables, run.ner_models = plan.skipped, ner_models(plan)
    run.key_fingerprint = key.fingerprint
    run.tables = [
        TableRun(t, rows=result.rows.get(t, 0), strategies={c: p.spec.name for c, p in tp.columns.items()})
        for t, tp in plan.tables.items()
    ]
    run.status, run.published = "ok", True
    return run
