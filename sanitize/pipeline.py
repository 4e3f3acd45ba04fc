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
from typing import Any, Protocol

import pandas as pd

from sanitize.errors import SanitizeError, TargetRefusedError
from sanitize.keys import SecretKey, load_key
from sanitize.plan import Coverage, Plan, build_plan, check_coverage
from sanitize.rules import RulesFile, load_rules
from sanitize.schema import Schema
from sanitize.transform import transform_batch

log = logging.getLogger("sanitize")

DEFAULT_BATCH = 65_536
Progress = Callable[[str, int, int | None], None]  # (table, rows done, rows expected)


class SourceLike(Protocol):
    """What the pipeline reads from: a database (sanitize.db) or a dump (sanitize.dumps)."""

    schema: Schema

    def count(self, table: str) -> int: ...
    def read_batches(
        self, table: str, batch_size: int = ..., columns: Any = ...
    ) -> Iterator[pd.DataFrame]: ...
    def sample(self, table: str, n: int) -> pd.DataFrame: ...
    def close(self) -> None: ...


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
    environment: str | None = None
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


def _as_rules(rules: RulesFile | str | Path) -> RulesFile:
    return rules if isinstance(rules, RulesFile) else load_rules(rules)


@contextlib.contextmanager
def open_source(spec: str | Any, environments: dict[str, str] | None = None) -> Iterator[Any]:
    """Open a source: a database (URL, SQLite path, environment name) or a dump file / export dir."""
    if not isinstance(spec, str):  # already a DatabaseRef or an open source
        if hasattr(spec, "read_batches"):
            yield spec
            return
        from sanitize.db import open_source as open_db

        with open_db(spec) as src:
            yield src
        return
    try:
        from sanitize.dumps import is_dump_path, open_dump_source
    except ImportError:  # dump support not installed in this build
        is_dump_path = None  # type: ignore[assignment]
    if is_dump_path is not None and is_dump_path(spec):
        with open_dump_source(spec) as src:
            yield src
        return
    from sanitize.db import open_source as open_db
    from sanitize.db import resolve

    with open_db(resolve(spec, environments=environments)) as src:
        yield src


def check(rules: RulesFile | str | Path, source: str | Any) -> Coverage:
    """Coverage and drift of `rules` against `source`'s schema; reads no rows."""
    r = _as_rules(rules)
    with open_source(source) as src:
        return check_coverage(r, src.schema)


def preview(
    rules: RulesFile | str | Path, source: str | Any, table: str, rows: int = 10, key: SecretKey | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(before, after) for the first `rows` rows of `table`; writes nothing."""
    r = _as_rules(rules)
    k = key or load_key()
    with open_source(source) as src:
        plan = build_plan(r, src.schema)
        if table not in plan.tables:
            known = ", ".join(plan.tables) or "none"
            what = "is skipped by the rules" if table in plan.skipped else "is not in the source"
            raise (
                TargetRefusedError(f"table {table!r} {what}; tables that are copied: {known}")
                if table in plan.skipped
                else _unknown_table(table, known)
            )
        before = next(iter(src.read_batches(table, batch_size=max(rows, 1))), None)
    if before is None:
        before = pd.DataFrame({c: [] for c in plan.tables[table].columns})
    before = before.head(rows)
    return before, transform_batch(before, plan.tables[table], k, r.locale)


def _unknown_table(table: str, known: str) -> SanitizeError:
    from sanitize.errors import BadInputError

    return BadInputError(f"table {table!r} is not in the source; tables that are copied: {known}")


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
) -> RunReport:
    """Anonymise `source` into `target` atomically; returns the run report.

    Fails closed: key, rules, coverage and target guards are checked before a row is read; any
    failure after that aborts the shadow copy and leaves the published target as it was.
    """
    from sanitize.db import open_target, resolve

    started = time.perf_counter()
    k = key or load_key()
    r = _as_rules(rules)
    tref = target if not isinstance(target, str) else resolve(target, environments=environments)
    run = report or RunReport(
        command="anonymize",
        source=str(getattr(getattr(source, "ref", None), "display", source)),
        target=tref.display,
        rules=r.path,
        rules_sha256=r.digest,
        started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    try:
        with open_source(source, environments) as src:
            sref = getattr(src, "ref", None)
            if sref is not None:
                run.source = sref.display
                if getattr(sref, "identity", None) == tref.identity:
                    raise TargetRefusedError(
                        f"target {tref.display} is the source database; refusing to write to it. "
                        "Name a different target database."
                    )
            plan = build_plan(r, src.schema)  # coverage fails closed here, before any row is read
            run.skipped_tables = plan.skipped
            if r.unknown_columns == "keep" and plan.coverage.defaulted:
                run.warnings.append(
                    f"{len(plan.coverage.defaulted)} column(s) copied unchanged because no rule names them "
                    f"(unknown_columns: keep): {', '.join(plan.coverage.defaulted[:20])}"
                )
            with open_target(tref) as tgt, tgt.begin_load(plan.target_schema) as load:
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
                    for batch in src.read_batches(tkey, batch_size=batch_size):
                        load.write(tkey, transform_batch(batch, tplan, k, r.locale))
                        tr.rows += len(batch)
                        if progress is not None:
                            progress(tkey, tr.rows, expected)
                    tr.seconds = round(time.perf_counter() - t0, 4)
                    run.tables.append(tr)
                    log.info("%s: %d rows in %.2fs", tkey, tr.rows, tr.seconds)
                load.finish()
                run.checks.append(
                    {
                        "name": "integrity gate",
                        "ok": True,
                        "detail": "row counts, foreign keys, unique constraints",
                    }
                )
                if before_publish is not None:
                    before_publish(load, plan)
                if publish:
                    load.publish()
                    run.published = True
        run.status = "ok"
        return run
    except SanitizeError as exc:
        run.status = f"failed: {type(exc).__name__}"
        run.checks.append({"name": "run", "ok": False, "detail": exc.message})
        raise
    finally:
        run.seconds = round(time.perf_counter() - started, 4)
