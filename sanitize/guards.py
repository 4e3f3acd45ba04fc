"""Isolation guards: checked before any DDL, so production is never written and targets stay owned.

1. A `production` environment is never a target, and neither is any database whose identity (host,
   port, database, with `localhost`/`127.0.0.1` aliases folded; the real path of a SQLite file) equals
   a production environment's or the source's.
2. Every target carries a marker naming its environment: a small `sanitize_environment` table that
   sanitize writes after the first publish (`ensure_marker`; in schema `sanitize_env` on PostgreSQL,
   outside the schemas a load swaps). `check_marker` only reads, so a refused run writes nothing.
   Loading into a database whose marker names another environment, or into a non-empty database
   without a marker, is refused unless `init_target=True` (`--init-target`).
3. The same user and password for a production source and a non-production target give a warning
   for the run report (shared credentials).

Messages name databases by `DatabaseRef.display` (password masked), never by URL.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import sqlalchemy as sa

from sanitize.errors import TargetRefusedError

if TYPE_CHECKING:
    from sanitize.config import Config
    from sanitize.db.refs import DatabaseRef

log = logging.getLogger("sanitize")

MARKER_TABLE = "sanitize_environment"
_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys"}

PG_MARKER_SCHEMA = "sanitize_env"  # PostgreSQL: outside the schemas a load swaps, so it survives publish


def _marker_table(dialect: str) -> sa.Table:
    """The marker table: `sanitize_environment` (in schema `sanitize_env` on PostgreSQL)."""
    return sa.Table(
        MARKER_TABLE,
        sa.MetaData(),
        sa.Column("environment", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("tool_version", sa.String(40), nullable=True),
        schema=PG_MARKER_SCHEMA if dialect == "postgresql" else None,
    )


@dataclass(frozen=True)
class Marker:
    """Which environment a target database belongs to (the row of its marker table)."""

    environment: str
    role: str
    created_at: str
    tool_version: str | None = None


# --- identity guards (no connection needed) -----------------------------------------------------


def check_isolation(
    target: DatabaseRef,
    *,
    target_env: str | None = None,
    config: Config | None = None,
    source: DatabaseRef | None = None,
    source_is_production: bool | None = None,
) -> list[str]:
    """Refuse a target that is production or the source (TargetRefusedError); return warnings.

    Reads no data and opens no connection: run it before anything touches the target.
    `source_is_production` defaults to the source environment's role when the config knows the
    source, else True (a source given by URL is treated as production).
    """
    from sanitize.db.refs import resolve

    if config is not None and target_env is not None:
        env = config.environment(target_env)
        if env.is_production:
            raise TargetRefusedError(
                f"environment {target_env!r} has role production; production is never a target and is "
                "only ever read. Refresh a staging or dev environment instead"
            )
    production: dict[str, DatabaseRef] = {}
    if config is not None:
        for name in config.production_environments():
            production[name] = resolve(config.environments[name].url)
    for name, ref in production.items():
        if ref.identity == target.identity:
            what = f"environment {target_env!r}" if target_env else "the target"
            raise TargetRefusedError(
                f"{what} ({target.display}) is the same database as production environment {name!r} "
                f"({ref.display}); production is never written to. Point the target at a staging or dev "
                "database"
            )
    if source is not None and source.identity == target.identity:
        raise TargetRefusedError(
            f"the target ({target.display}) is the source database ({source.display}); refusing to write "
            "to it. Name a different target database"
        )
    warnings: list[str] = []
    if source is not None:
        if source_is_production is None:
            source_is_production = True
            if config is not None:
                for ref in production.values():
                    if ref.identity == source.identity:
                        break
                else:
                    known = {
                        resolve(e.url).identity for e in config.environments.values() if not e.is_production
                    }
                    source_is_production = source.identity not in known
        if source_is_production and shares_credentials(source, target):
            warnings.append(shared_credentials_warning(source, target, target_env))
    return warnings


def refuse_production_target(target: DatabaseRef, config: Config | None = None) -> None:
    """For a load outside `refresh` (anonymize, synth): refuse a target that is the database of a
    production environment of `config`, else of ./sanitize.yaml when there is one. Environments whose
    URL needs a variable that is not set are left out (they cannot be compared)."""
    from sanitize.config import default_config

    cfg = config if config is not None else default_config()
    if cfg is None:
        return
    known = {n: e for n, e in cfg.environments.items() if "${" not in e.url}
    check_isolation(target, config=cfg.model_copy(update={"environments": known}))


def shares_credentials(a: DatabaseRef, b: DatabaseRef) -> bool:
    """True when two server databases are reached with the same user and the same password."""
    if a.dialect == "sqlite" or b.dialect == "sqlite":
        return False
    return bool(a.url.username) and a.url.username == b.url.username and a.password == b.password


def shared_credentials_warning(source: DatabaseRef, target: DatabaseRef, target_env: str | None) -> str:
    what = f"environment {target_env!r}" if target_env else f"target {target.display}"
    return (
        f"shared credentials: {what} is reached with the same user ({target.url.username}) and "
        f"{'password' if target.password else 'no password'} as the production source {source.display}; "
        "give non-production databases their own credentials, "
        "so that a leaked staging or dev configuration cannot read production"
    )


# --- the environment marker ---------------------------------------------------------------------


@contextmanager
def _engine(ref: DatabaseRef) -> Iterator[sa.Engine]:
    from sanitize.db.refs import connection_failed

    if ref.dialect == "sqlite":
        ref.path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(ref.url, poolclass=sa.pool.NullPool)
    try:
        yield engine
    except sa.exc.OperationalError as exc:
        raise connection_failed(ref, exc, doing="check the environment marker of") from None
    finally:
        engine.dispose()


def read_marker(ref: DatabaseRef) -> Marker | None:
    """The target's marker, or None when it has none (a missing SQLite file has none)."""
    if ref.dialect == "sqlite" and not ref.path.exists():
        return None
    table = _marker_table(ref.dialect)
    with _engine(ref) as engine, engine.connect() as conn:
        if not sa.inspect(conn).has_table(MARKER_TABLE, schema=table.schema):
            return None
        row = conn.execute(sa.select(table).limit(1)).mappings().first()
    if row is None:
        return None
    return Marker(str(row["environment"]), str(row["role"]), str(row["created_at"]), row["tool_version"])


def user_tables(ref: DatabaseRef) -> list[str]:
    """Tables in the target that sanitize did not put there as its marker (schema-qualified off default)."""
    if ref.dialect == "sqlite" and not ref.path.exists():
        return []
    with _engine(ref) as engine, engine.connect() as conn:
        insp = sa.inspect(conn)
        default = insp.default_schema_name
        schemas = (
            [default]
            if ref.dialect != "postgresql"
            else [
                s
                for s in insp.get_schema_names()
                if s not in _SYSTEM_SCHEMAS and not s.startswith(("pg_", "sanitize"))
            ]
        )
        out: list[str] = []
        for schema in schemas:
            for t in insp.get_table_names(schema=schema):
                if t.startswith(("sanitize_", "sqlite_")):  # the marker and sanitize's own bookkeeping
                    continue
                out.append(t if schema in (None, default) else f"{schema}.{t}")
    return sorted(out)


def write_marker(ref: DatabaseRef, environment: str, role: str) -> Marker:
    """Create (or replace) the marker naming `environment`; idempotent."""
    try:
        tool = version("sanitize")
    except PackageNotFoundError:  # pragma: no cover - the package is installed
        tool = None
    marker = Marker(environment, role, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), tool)
    table = _marker_table(ref.dialect)
    with _engine(ref) as engine, engine.begin() as conn:
        if table.schema is not None:
            conn.execute(sa.schema.CreateSchema(table.schema, if_not_exists=True))
        table.create(conn, checkfirst=True)
        conn.execute(table.delete())
        conn.execute(
            table.insert().values(
                environment=marker.environment,
                role=marker.role,
                created_at=marker.created_at,
                tool_version=marker.tool_version,
            )
        )
    log.info("marked %s as environment %s", ref.display, environment)
    return marker


def check_marker(
    ref: DatabaseRef,
    environment: str,
    *,
    init_target: bool = False,
    is_empty: Callable[[], bool] | None = None,
) -> Marker | None:
    """Refuse a target owned by another environment, or non-empty and unmarked; writes nothing.

    Returns the existing marker (None when the target has none yet and may be used).
    """
    marker = read_marker(ref)
    if marker is not None:
        if marker.environment != environment and not init_target:
            raise TargetRefusedError(
                f"target {ref.display} belongs to environment {marker.environment!r} (its {MARKER_TABLE} "
                f"marker, written {marker.created_at}), not {environment!r}; nothing was written. Check the "
                f"URL of {environment!r}; if this database really should become {environment!r}, run again "
                "with --init-target"
            )
        return marker
    if init_target:
        return None
    empty = is_empty() if is_empty is not None else None
    tables = [] if empty else user_tables(ref)
    if empty is False and not tables:
        tables = ["(tables outside the default schema)"]
    if tables:
        shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
        raise TargetRefusedError(
            f"target {ref.display} is not empty ({len(tables)} table(s): {shown}) and has no sanitize "
            "marker, so it may be a database sanitize does not own; nothing was written. Point "
            f"{environment!r} at an empty database, or pass --init-target to adopt this one (the tables "
            "sanitize loads are replaced)"
        )
    return None


def prepare_target(
    ref: DatabaseRef,
    environment: str,
    role: str,
    *,
    init_target: bool = False,
    is_empty: Callable[[], bool] | None = None,
) -> Marker:
    """Check the marker, then write it on first use (or on --init-target); the marker in place."""
    existing = check_marker(ref, environment, init_target=init_target, is_empty=is_empty)
    if existing is not None and existing.environment == environment and existing.role == role:
        return existing
    return write_marker(ref, environment, role)


def ensure_marker(ref: DatabaseRef, environment: str, role: str) -> Marker:
    """After a publish: write the marker naming `environment` unless it is there already (a SQLite
    publish that replaced the file took it away; a first or adopting load had none yet)."""
    marker = read_marker(ref)
    if marker is not None and marker.environment == environment and marker.role == role:
        return marker
    return write_marker(ref, environment, role)
