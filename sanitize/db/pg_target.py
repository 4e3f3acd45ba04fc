"""PostgreSQL target: shadow schemas, COPY, the gate, and a schema swap in one transaction.

Ownership is recorded in the `sanitize_meta` schema: `objects` lists every shadow or old schema a
run created (so a later run drops exactly those after a kill) and `published` lists the schemas
sanitize published with their tables. A schema sanitize did not publish is replaced only when it is
empty; one it did publish is replaced only when it holds nothing but the tables sanitize put there.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import psycopg
import pyarrow as pa
import sqlalchemy as sa
from psycopg import errors as pgerr
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import AddConstraint, CreateTable

from sanitize.db.base import BackgroundWriter, Load, Target, ViewNotMade
from sanitize.db.check_sql import check_violation
from sanitize.db.ddl import build_tables, post_load_ddl, short_name, source_dialect_of
from sanitize.db.postgres import (
    PostgresSource,
    advisory_key,
    csv_for_copy,
    enum_copy,
    pg_connect,
    q,
    qualified,
)
from sanitize.db.reflect import reflect_schema
from sanitize.db.refs import DatabaseRef, connection_failed, scrub
from sanitize.db.types import NamedType
from sanitize.errors import (
    CheckFailedError,
    ConcurrentRunError,
    ConnectionFailed,
    LoadError,
    TargetRefusedError,
)
from sanitize.schema import Schema, Table, View

log = logging.getLogger("sanitize")

META = "sanitize_meta"
EXT_SCHEMA = "sanitize_ext"  # extensions sanitize installs for the types of the loaded columns
LOCK_TIMEOUT = "10s"
_DIALECT = postgresql.dialect()
META_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {META}",
    f"CREATE TABLE IF NOT EXISTS {META}.objects (name text PRIMARY KEY, kind text NOT NULL, "
    "created timestamptz NOT NULL DEFAULT now())",
    f"CREATE TABLE IF NOT EXISTS {META}.published (schema_name text PRIMARY KEY, tables text[] NOT NULL, "
    "published_at timestamptz NOT NULL DEFAULT now())",
)


def _rows(conn: psycopg.Connection[Any], sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return conn.execute(sql, args or None).fetchall()


def _schema_exists(conn: psycopg.Connection[Any], name: str) -> bool:
    return bool(_rows(conn, "SELECT 1 FROM pg_namespace WHERE nspname = %s", name))


def _meta_exists(conn: psycopg.Connection[Any]) -> bool:
    return bool(_rows(conn, "SELECT 1 FROM pg_class WHERE oid = to_regclass(%s)", f"{META}.published"))


# COPY streams into the shadow at once: the server parses and inserts each stream on its own core, and
# the one stream was the slowest stage of a load (measured with bench/bench_db.py)
WRITE_LANES = 2


class PostgresTarget(Target):
    """A PostgreSQL database; each published schema is swapped in whole."""

    def __init__(self, ref: DatabaseRef, *, lock_timeout: str = LOCK_TIMEOUT) -> None:
        self.ref = ref
        self.lock_timeout = lock_timeout  # how long publish waits for locks (PostgreSQL interval text)

    def published_schema(self) -> Schema | None:
        engine = sa.create_engine(self.ref.url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                schema = reflect_schema(conn)
        except sa.exc.OperationalError as exc:
            raise connection_failed(self.ref, exc.orig or exc) from None
        finally:
            engine.dispose()
        return schema if schema.tables else None

    def is_owned(self) -> bool:
        with pg_connect(self.ref) as conn:
            return _meta_exists(conn) and bool(_rows(conn, f"SELECT 1 FROM {META}.published LIMIT 1"))

    def begin_load(self, schema: Schema, *, tables: Sequence[str] | None = None) -> PostgresLoad:
        return PostgresLoad(self, schema, list(tables) if tables is not None else list(schema.tables))


class PostgresLoad(Load):
    """A load into `sanitize_shadow_*` schemas of the target database."""

    def __init__(self, target: PostgresTarget, schema: Schema, keys: list[str]) -> None:
        self.ref = target.ref
        self.lock_timeout = target.lock_timeout
        src_dialect = source_dialect_of(schema)
        self._writer = BackgroundWriter()
        self._lanes: list[tuple[BackgroundWriter, psycopg.Connection[Any]]] = []  # COPY streams 2..
        self._batches = 0
        self._lane_count = WRITE_LANES
        self._conn: psycopg.Connection[Any] | None = pg_connect(self.ref)
        conn = self._conn
        if not _rows(conn, "SELECT pg_try_advisory_lock(%s)", advisory_key(self.ref))[0][0]:
            conn.close()
            raise ConcurrentRunError(
                f"another sanitize run is loading {self.ref.display} (it holds the advisory lock); "
                "wait for it"
            )
        try:
            # ownership is decided before anything is written: a refused load leaves no trace
            has_meta = _meta_exists(conn)
            logical = {k: self._logical(schema[k], src_dialect) for k in keys}
            # a schema holding only views (`reporting`) is made and published like the others
            view_schemas = (
                {v.schema or "public" for v in schema.views} if src_dialect == "postgresql" else set()
            )
            self.shadows = {
                s: short_name("sanitize_shadow", s, dialect="postgresql")
                for s in set(logical.values()) | view_schemas
            }
            published = _rows(conn, f"SELECT schema_name FROM {META}.published") if has_meta else []
            self.swap = sorted(set(self.shadows) | {r[0] for r in published})
            self._check_ownership(conn, has_meta)
            for stmt in META_DDL:
                conn.execute(stmt)
            self._drop_stale(conn)
            built = build_tables(
                schema,
                keys,
                "postgresql",
                src_dialect,
                physical_schema=lambda t: self.shadows[logical[t.key]],
                inline_constraints=False,
            )
            super().__init__(target, built)
            self._create(conn)
        except BaseException:
            self._release()
            raise

    @staticmethod
    def _logical(t: Table, src_dialect: str) -> str:
        return t.schema if src_dialect == "postgresql" and t.schema else "public"

    def _drop_stale(self, conn: psycopg.Connection[Any]) -> None:
        for name, kind in _rows(conn, f"SELECT name, kind FROM {META}.objects ORDER BY name"):
            log.info("dropping %s schema %s left by an interrupted run", kind, name)
            with conn.transaction():
                conn.execute(f"DROP SCHEMA IF EXISTS {q(name)} CASCADE")
                conn.execute(f"DELETE FROM {META}.objects WHERE name = %s", (name,))

    def _check_ownership(self, conn: psycopg.Connection[Any], has_meta: bool) -> None:
        published = dict(_rows(conn, f"SELECT schema_name, tables FROM {META}.published")) if has_meta else {}
        problems = []
        for s in self.swap:
            if not _schema_exists(conn, s):
                continue
            rels = [
                r[0]
                for r in _rows(
                    conn,
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                    "c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r','p','v','m','f')",
                    s,
                )
            ]
            if s in published:
                foreign = sorted(set(rels) - set(published[s]))
            else:
                others = _rows(
                    conn,
                    "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                    "WHERE n.nspname = %s AND t.typtype IN ('e','d') UNION ALL SELECT p.proname FROM "
                    "pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s",
                    s,
                    s,
                )
                foreign = sorted(rels + [r[0] for r in others])
            if foreign:
                problems.append(f"schema {s}: {', '.join(foreign[:10])}{' ...' if len(foreign) > 10 else ''}")
                extensions = [
                    str(r[0])
                    for r in _rows(
                        conn,
                        "SELECT e.extname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                        "WHERE n.nspname = %s ORDER BY 1",
                        s,
                    )
                ]
                for ext in extensions:
                    problems.append(
                        f"schema {s}: extension {ext} lives here; move it out of the schemas sanitize "
                        f"replaces (ALTER EXTENSION {ext} SET SCHEMA {EXT_SCHEMA}), or drop it: sanitize "
                        f"installs the extensions the loaded columns need in schema {EXT_SCHEMA}"
                    )
        if problems:
            raise TargetRefusedError(
                f"{self.ref.display} holds objects sanitize did not create in the schemas it would replace; "
                "sanitize never drops what it did not create: load into an empty database, or move or drop "
                "these objects yourself",
                problems=problems,
            )

    def _create(self, conn: psycopg.Connection[Any]) -> None:
        enums: dict[tuple[str, str], Any] = {}
        for table in self.built.tables.values():
            for col in table.columns:
                col.type = enum_copy(col.type, str(table.schema), enums)
        with conn.transaction():
            path = self._path = ["public", *self._extensions(conn)]
            for shadow in self.shadows.values():
                conn.execute(f"INSERT INTO {META}.objects (name, kind) VALUES (%s, 'shadow')", (shadow,))
                conn.execute(f"CREATE SCHEMA {q(shadow)}")
            for (schema, name), enum in enums.items():
                labels = ", ".join("'" + v.replace("'", "''") + "'" for v in enum.enums)
                conn.execute(f"CREATE TYPE {qualified(schema, name)} AS ENUM ({labels})")
            for table in self.built.tables.values():
                # unqualified names in defaults ('G'::mpaa_rating) resolve to the enum types copied into
                # the table's shadow schema; PostgreSQL stores them by OID, so the swap keeps them right
                conn.execute(
                    f"SET LOCAL search_path TO {', '.join(q(p) for p in [str(table.schema), *path])}"
                )
                checks = [c for c in table.constraints if isinstance(c, sa.CheckConstraint)]
                for check in checks:
                    table.constraints.discard(check)
                try:
                    conn.execute(str(CreateTable(table).compile(dialect=_DIALECT)))
                except psycopg.Error as exc:
                    raise LoadError(
                        f"{table.name}: creating the shadow table in {self.ref.display} failed: "
                        f"{scrub(str(exc).splitlines()[0], self.ref)}"
                    ) from None
                self._add_checks(conn, table, checks)

    def _add_checks(
        self, conn: psycopg.Connection[Any], table: sa.Table, checks: list[sa.CheckConstraint]
    ) -> None:
        """The table's CHECKs, each in a savepoint before the rows load: one that cannot be made here
        (it calls a function of the source that is not copied) is left out with a warning."""
        for check in checks:
            try:
                with conn.transaction():
                    conn.execute(str(AddConstraint(check).compile(dialect=_DIALECT)))
            except psycopg.Error as exc:
                log.warning(
                    "%s: CHECK constraint %s (%s) is not recreated in %s: %s",
                    table.name,
                    check.name,
                    check.sqltext,
                    self.ref.display,
                    scrub(str(exc).splitlines()[0], self.ref),
                )
                continue
            table.append_constraint(check)

    def _extensions(self, conn: psycopg.Connection[Any]) -> list[str]:
        """The schemas of the extensions whose types the loaded columns use (citext, hstore, ...). One the
        target lacks is installed in schema `sanitize_ext`, which no publish replaces: in a swapped
        schema, dropping the old generation would take the extension, and the new columns, with it."""
        needed = sorted(
            {
                c.sql_type.extension
                for key in self.built.keys
                for c in self.built.source[key].columns
                if isinstance(c.sql_type, NamedType)
                and c.sql_type.family == "postgresql"
                and c.sql_type.extension
            }
            | (  # operator classes of extensions (btree_gin, btree_gist, pg_trgm) in indexes
                {
                    ext
                    for key in self.built.keys
                    for ix in self.built.source[key].indexes
                    for ext in ix.requires
                }
                if self.built.source_dialect == "postgresql"
                else set()
            )
        )
        schemas = []
        for ext in needed:
            found = _rows(
                conn,
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                "WHERE e.extname = %s",
                ext,
            )
            if not found:
                try:
                    with conn.transaction():
                        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {q(EXT_SCHEMA)}")
                        conn.execute(f"CREATE EXTENSION {q(ext)} SCHEMA {q(EXT_SCHEMA)}")
                except psycopg.Error as exc:
                    raise LoadError(
                        f"the source's columns or indexes use extension {ext}, which {self.ref.display} "
                        f"does not have and sanitize could not install "
                        f"({scrub(str(exc).splitlines()[0], self.ref)}); "
                        f"install it there yourself (CREATE EXTENSION {ext} SCHEMA {EXT_SCHEMA}) or load "
                        "into another engine, where these columns become text"
                    ) from None
                log.info("installed extension %s in schema %s of %s", ext, EXT_SCHEMA, self.ref.display)
                found = [(EXT_SCHEMA,)]
            schemas.append(str(found[0][0]))
        if EXT_SCHEMA in schemas:
            self._ext_on_search_path(conn)
        return list(dict.fromkeys(schemas))

    def _ext_on_search_path(self, conn: psycopg.Connection[Any]) -> None:
        """New sessions of the target database find the extensions' functions and operators (citext's
        case-insensitive `=`) by name: `sanitize_ext` joins the database's search_path."""
        db = conn.info.dbname
        current = _rows(
            conn,
            "SELECT s.cfg FROM pg_db_role_setting r JOIN pg_database d ON d.oid = r.setdatabase, "
            "unnest(r.setconfig) s(cfg) "
            "WHERE d.datname = %s AND r.setrole = 0 AND s.cfg LIKE 'search_path=%%'",
            db,
        )
        path = str(current[0][0]).split("=", 1)[1] if current else '"$user", public'
        if EXT_SCHEMA in path:
            return
        try:
            with conn.transaction():
                conn.execute(f"ALTER DATABASE {q(db)} SET search_path TO {path}, {q(EXT_SCHEMA)}")
        except psycopg.Error as exc:
            log.warning(
                "could not add %s to the search_path of %s (%s); run ALTER DATABASE %s SET search_path "
                "TO %s, %s so queries find the extensions' operators",
                EXT_SCHEMA,
                self.ref.display,
                scrub(str(exc).splitlines()[0], self.ref),
                db,
                path,
                EXT_SCHEMA,
            )

    def _live(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise LoadError(f"the load into {self.ref.display} has no connection any more")
        return self._conn

    def _fail(self, exc: psycopg.Error, table: str, doing: str) -> Exception:
        if isinstance(exc, psycopg.OperationalError) or self._conn is None or self._conn.closed:
            return connection_failed(self.ref, exc, f"{doing} (table {table}) in")
        detail = scrub(str(exc).strip().replace("\n", " "), self.ref)
        if table in self.built.source.tables and isinstance(exc, pgerr.CheckViolation):
            violation = check_violation(self.built.source[table], detail, self.ref.display)
            if violation is not None:
                return violation
        return LoadError(f"{table}: {doing} failed on {self.ref.display}: {detail[:400]}")

    def _encode(self, table: str, data: pa.Table) -> tuple[list[str], bytes]:
        return data.column_names, csv_for_copy(data)

    def _write_encoded(self, table: str, payload: Any) -> None:
        names, body = payload
        t = self.built.tables[table]
        sql = f"COPY {qualified(t.schema, t.name)} ({', '.join(q(c) for c in names)}) FROM STDIN (FORMAT csv)"
        self._batches += 1
        lane = self._batches % self._lane_count
        if lane == 0:
            self._writer.submit(lambda: self._copy(table, sql, body, self._live()))
            return
        while len(self._lanes) < lane:  # opened on first use: small loads keep one connection
            try:
                self._lanes.append((BackgroundWriter(), pg_connect(self.ref)))
            except ConnectionFailed as exc:  # e.g. max_connections reached: one stream still works
                log.warning("%s; loading on one connection", exc.message)
                self._lane_count = 1
                self._writer.submit(lambda: self._copy(table, sql, body, self._live()))
                return
        writer, conn = self._lanes[lane - 1]
        writer.submit(lambda: self._copy(table, sql, body, conn))

    def _copy(self, table: str, sql: str, payload: bytes, conn: psycopg.Connection[Any]) -> None:
        try:
            with conn.cursor().copy(sql) as cp:
                cp.write(payload)
        except psycopg.Error as exc:
            raise self._fail(exc, table, "COPY") from None

    def _drain(self) -> None:
        """Wait for every COPY on every lane (the first error is raised); the extra lanes close."""
        try:
            self._writer.drain()
            for writer, _ in self._lanes:
                writer.drain()
        finally:
            lanes, self._lanes = self._lanes, []
            for writer, conn in lanes:
                with contextlib.suppress(BaseException):
                    writer.drain()
                with contextlib.suppress(Exception):
                    conn.close()

    def _finish(self) -> None:
        self._drain()
        conn = self._live()
        # indexes made as the source wrote them name enum types (copied into the shadows) and operator
        # classes (in the extensions' schemas) unqualified
        shadows = [str(t.schema) for t in self.built.tables.values()]
        path = ", ".join(q(p) for p in dict.fromkeys([*shadows, *self._path]))
        conn.execute(f"SET search_path TO {path}")
        try:
            self._constraints(conn)
        finally:
            conn.execute("RESET search_path")
        self._finish_counts(conn)

    def _constraints(self, conn: psycopg.Connection[Any]) -> None:
        for stmt in post_load_ddl(self.built, constraints=True):
            try:
                conn.execute(str(stmt.compile(dialect=_DIALECT)))
            except (pgerr.UniqueViolation, pgerr.ForeignKeyViolation) as exc:
                what = (
                    "duplicate values"
                    if isinstance(exc, pgerr.UniqueViolation)
                    else "rows that reference nothing"
                )
                raise CheckFailedError(
                    f"the shadow copy has {what}: {scrub(str(exc).splitlines()[0], self.ref)} "
                    f"({str(stmt.compile(dialect=_DIALECT))[:200]}); nothing was published"
                ) from None
            except psycopg.Error as exc:
                raise self._fail(exc, "constraints", "creating constraints and indexes") from None

    def _finish_counts(self, conn: psycopg.Connection[Any]) -> None:
        counted, problems = {}, []
        for key, t in self.built.tables.items():
            name = qualified(t.schema, t.name)
            counted[key] = int(_rows(conn, f"SELECT count(*) FROM {name}")[0][0])
            for col in t.columns:
                if not (col.autoincrement is True or col.identity is not None):
                    continue
                seq = _rows(conn, "SELECT pg_get_serial_sequence(%s, %s)", name, col.name)[0][0]
                if seq is None:
                    continue
                top = _rows(conn, f"SELECT max({q(col.name)}) FROM {name}")[0][0]
                if top is not None:
                    conn.execute("SELECT setval(%s, %s, false)", (seq, int(top) + 1))
                    nxt = _rows(
                        conn, f"SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {seq}"
                    )
                    if nxt[0][0] <= top:
                        problems.append(
                            f"{key}.{col.name}: sequence {seq} would hand out {nxt[0][0]} <= {top}"
                        )
            conn.execute(f"ANALYZE {name}")
        self.check_counts(counted)
        if problems:
            raise CheckFailedError(
                "sequences are behind the loaded data; nothing was published", problems=problems
            )

    def _make_view(self, conn: psycopg.Connection[Any], view: View) -> None:
        """One view, in the publishing transaction once the shadows carry the published names, so the
        names in its SQL (as seen from `public`, schema-qualified otherwise) find the loaded tables; a
        materialized view is computed from them. A savepoint each: a view that fails is left out."""
        if (view.schema or "public") not in self.shadows:
            raise ViewNotMade(f"no table of schema {view.schema} is loaded")
        kind = "MATERIALIZED VIEW" if view.materialized else "VIEW"
        try:
            with conn.transaction():
                conn.execute(
                    f"SET LOCAL search_path TO public, {q(EXT_SCHEMA)}"
                )  # and extensions moved there
                conn.execute(f"CREATE {kind} {qualified(view.schema or 'public', view.name)} AS {view.sql}")
        except psycopg.Error as exc:
            if isinstance(exc, psycopg.OperationalError) or conn.closed:
                raise
            raise ViewNotMade(scrub(str(exc).splitlines()[0], self.ref)) from None

    def source(self) -> PostgresSource:
        self._check_state("finished", "read")
        return PostgresSource(self.ref, schemas={shadow: s for s, shadow in self.shadows.items()})

    def _publish(self) -> None:
        conn = self._live()
        olds = []
        try:
            with conn.transaction():
                conn.execute("SELECT set_config('lock_timeout', %s, true)", (self.lock_timeout,))
                for s in self.swap:
                    if _schema_exists(conn, s):
                        old = short_name("sanitize_old", s, dialect="postgresql")
                        conn.execute(f"INSERT INTO {META}.objects (name, kind) VALUES (%s, 'old')", (old,))
                        conn.execute(f"ALTER SCHEMA {q(s)} RENAME TO {q(old)}")
                        olds.append(old)
                    if s in self.shadows:
                        conn.execute(f"ALTER SCHEMA {q(self.shadows[s])} RENAME TO {q(s)}")
                        conn.execute(f"DELETE FROM {META}.objects WHERE name = %s", (self.shadows[s],))
                made = self.make_views(lambda v: self._make_view(conn, v))
                conn.execute(f"DELETE FROM {META}.published")
                for s in self.shadows:
                    names = sorted(t.name for t in self.built.tables.values() if t.schema == self.shadows[s])
                    names += [v.name for v in made if (v.schema or "public") == s]
                    conn.execute(
                        f"INSERT INTO {META}.published (schema_name, tables) VALUES (%s, %s)", (s, names)
                    )
        except pgerr.LockNotAvailable:
            raise LoadError(
                f"publishing into {self.ref.display} timed out after {self.lock_timeout} waiting for a lock; "
                "sessions are holding the schemas — retry when they are idle"
            ) from None
        except psycopg.Error as exc:
            raise self._fail(exc, "publish", "the schema swap") from None
        log.info("published %s into %s", ", ".join(self.shadows), self.ref.display)
        for old in olds:
            try:
                with conn.transaction():
                    conn.execute("SELECT set_config('lock_timeout', %s, true)", (self.lock_timeout,))
                    conn.execute(f"DROP SCHEMA IF EXISTS {q(old)} CASCADE")
                    conn.execute(f"DELETE FROM {META}.objects WHERE name = %s", (old,))
            except psycopg.Error as exc:
                log.warning(
                    "old generation %s is still in use (%s); the next run drops it", old, type(exc).__name__
                )
        self._release()

    def _abort(self) -> None:
        with contextlib.suppress(BaseException):
            self._drain()
        conn = self._conn
        if (
            conn is None
            or conn.closed
            or conn.info.transaction_status == psycopg.pq.TransactionStatus.UNKNOWN
        ):
            self._release()
            try:
                conn = self._conn = pg_connect(self.ref)
                if not _rows(conn, "SELECT pg_try_advisory_lock(%s)", advisory_key(self.ref))[0][0]:
                    self._release()  # another run owns the target now and drops our recorded shadow itself
                    return
            except Exception:  # noqa: BLE001 - the next run cleans up what is recorded in sanitize_meta
                log.warning(
                    "could not reconnect to drop the shadow copy in %s; the next run drops it", self.ref
                )
                self._release()
                return
        with contextlib.suppress(psycopg.Error):
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.rollback()
            for shadow in getattr(self, "shadows", {}).values():
                with conn.transaction():
                    conn.execute(f"DROP SCHEMA IF EXISTS {q(shadow)} CASCADE")
                    conn.execute(f"DELETE FROM {META}.objects WHERE name = %s", (shadow,))
        self._release()

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()  # ends the session: the advisory lock goes with it
