"""MySQL/MariaDB target: a shadow database, LOAD DATA LOCAL, and one multi-table RENAME TABLE.

The shadow is a database on the same server (`sanitize_shadow_<db>`). Batches are written as CSV by
pyarrow (every value quoted, NULL as the bare word NULL, binary as hex through UNHEX) and loaded with
`LOAD DATA LOCAL INFILE`; because LOCAL turns data errors into warnings, any warning stops the load.
`GET_LOCK` refuses a second concurrent run. Publishing moves every published table to
`sanitize_old_<db>` and every shadow table into place in one RENAME TABLE (atomic), then drops the
old database. The table `sanitize_meta` in the target records the databases a run created and the
tables sanitize published, so only those are ever dropped or replaced.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pymysql
import sqlalchemy as sa
from sqlalchemy.dialects import mysql as sa_mysql
from sqlalchemy.schema import CreateTable

from sanitize.db.base import BackgroundWriter, Load, Target, ViewNotMade
from sanitize.db.check_sql import check_violation
from sanitize.db.ddl import build_tables, post_load_ddl, short_name, source_dialect_of
from sanitize.db.mysql import MysqlSource, my_connect, my_engine, q
from sanitize.db.reflect import reflect_schema
from sanitize.db.refs import DatabaseRef, connection_failed, scrub
from sanitize.db.types import hex_encode
from sanitize.errors import CheckFailedError, ConcurrentRunError, LoadError, TargetRefusedError
from sanitize.schema import Schema, View

log = logging.getLogger("sanitize")

META = "sanitize_meta"
LOCK_WAIT_SECONDS = 10
LOCAL_INFILE_OFF = (1148, 3948, 4166)


def _dialect(ref: DatabaseRef) -> sa.Dialect:
    return (
        sa_mysql.dialect()
        if ref.url.drivername.startswith("mysql")
        else sa.engine.make_url("mariadb+pymysql://").get_dialect()()
    )


def _rows(conn: pymysql.Connection[Any], sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, args or None)
        return list(cur.fetchall())


def csv_for_load(data: pa.Table) -> tuple[bytes, list[int]]:
    """CSV for LOAD DATA (all values quoted, NULL bare) and the indexes of hex-encoded columns."""
    cols, hexed = [], []
    for i, col in enumerate(data.columns):
        t = col.type
        if pa.types.is_binary(t) or pa.types.is_large_binary(t):
            col = hex_encode(col, b"")
            hexed.append(i)
        elif pa.types.is_boolean(t):
            col = col.cast(pa.int8())
        elif pa.types.is_timestamp(t):
            col = col.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us")) if t.tz else col
        elif pa.types.is_floating(t):
            bad = pc.sum(pc.or_(pc.is_nan(col), pc.is_inf(col))).as_py()
            if bad:
                raise ValueError(data.column_names[i])
        cols.append(col)
    buf = pa.BufferOutputStream()
    pacsv.write_csv(
        pa.Table.from_arrays(cols, names=[str(i) for i in range(len(cols))]),
        buf,
        pacsv.WriteOptions(include_header=False, quoting_style="all_valid", null_string="NULL"),
    )
    return buf.getvalue().to_pybytes(), hexed


def _server_gone(exc: pymysql.Error) -> bool:
    """The connection failed or the server went away (not a statement the server refused)."""
    return isinstance(exc, pymysql.OperationalError) and bool(exc.args) and exc.args[0] in (2003, 2006, 2013)


class MysqlTarget(Target):
    """A MySQL/MariaDB database; published tables are swapped in with one RENAME TABLE."""

    def __init__(self, ref: DatabaseRef, *, lock_wait_seconds: int = LOCK_WAIT_SECONDS) -> None:
        self.ref = ref
        self.database = str(ref.url.database)
        self.lock_wait_seconds = lock_wait_seconds

    def published_schema(self) -> Schema | None:
        engine = my_engine(self.ref)
        try:
            with engine.connect() as conn:
                schema = reflect_schema(conn)
        except sa.exc.OperationalError as exc:
            raise connection_failed(self.ref, exc.orig or exc) from None
        finally:
            engine.dispose()
        return schema if schema.tables else None

    def is_owned(self) -> bool:
        with contextlib.closing(my_connect(self.ref)) as conn:
            if not _rows(conn, "SHOW TABLES LIKE %s", META):
                return False
            return bool(_rows(conn, f"SELECT 1 FROM {q(META)} WHERE kind = 'published' LIMIT 1"))

    def begin_load(self, schema: Schema, *, tables: Sequence[str] | None = None) -> MysqlLoad:
        return MysqlLoad(self, schema, list(tables) if tables is not None else list(schema.tables))


class MysqlLoad(Load):
    """A load into the shadow database `sanitize_shadow_<db>`."""

    def __init__(self, target: MysqlTarget, schema: Schema, keys: list[str]) -> None:
        self.ref, self.db = target.ref, target.database
        self.lock_wait = target.lock_wait_seconds
        self.shadow = short_name("sanitize_shadow", self.db, dialect="mysql")
        self.old = short_name("sanitize_old", self.db, dialect="mysql")
        self._tmp = Path(tempfile.mkdtemp(prefix="sanitize-load-"))
        self._files = 0
        self._writer = BackgroundWriter()
        self._conn: pymysql.Connection[Any] | None = my_connect(self.ref, local_infile=True)
        conn = self._conn
        if str(_rows(conn, "SELECT GET_LOCK(%s, 0)", f"sanitize:{self.db}")[0][0]) != "1":
            self._release()
            raise ConcurrentRunError(
                f"another sanitize run is loading {self.ref.display} (it holds the lock); wait"
            )
        try:
            # ownership is decided before anything is written: a refused load leaves no trace
            has_meta = bool(_rows(conn, "SHOW TABLES LIKE %s", META))
            leftover = f"SELECT name FROM {q(META)} WHERE kind IN ('shadow', 'old')"
            stale = _rows(conn, leftover) if has_meta else []
            src_dialect = source_dialect_of(schema)
            built = build_tables(
                schema,
                keys,
                "mysql",
                src_dialect,
                physical_schema=lambda t: self.shadow,
                inline_constraints=False,
            )
            super().__init__(target, built)
            self._check_ownership(conn, has_meta)
            _rows(
                conn,
                f"CREATE TABLE IF NOT EXISTS {q(META)} (name VARCHAR(255) NOT NULL, "
                "kind VARCHAR(16) NOT NULL, "
                "PRIMARY KEY (name, kind)) DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_bin",
            )
            for (name,) in stale:
                log.info("dropping database %s left by an interrupted run", name)
                _rows(conn, f"DROP DATABASE IF EXISTS {q(name)}")
                _rows(conn, f"DELETE FROM {q(META)} WHERE name = %s AND kind IN ('shadow', 'old')", name)
            charset, collation = _rows(
                conn,
                "SELECT default_character_set_name, default_collation_name FROM "
                "information_schema.schemata WHERE schema_name = %s",
                self.db,
            )[0]
            if src_dialect != "mysql":
                charset, collation = "utf8mb4", "utf8mb4_bin"  # case-sensitive, like the source's uniques
            _rows(conn, f"INSERT INTO {q(META)} (name, kind) VALUES (%s, 'shadow')", self.shadow)
            _rows(conn, f"CREATE DATABASE {q(self.shadow)} CHARACTER SET {charset} COLLATE {collation}")
            dialect = _dialect(self.ref)
            for table in self.built.tables.values():
                try:
                    _rows(conn, str(CreateTable(table).compile(dialect=dialect)))
                except pymysql.err.MySQLError as exc:
                    if _server_gone(exc):
                        raise self._fail(exc, table.name, "creating the shadow table") from None
                    raise LoadError(
                        f"{table.name}: creating the shadow table in {self.ref.display} failed: "
                        f"{scrub(str(exc.args[-1]), self.ref)}"
                    ) from None
        except BaseException:
            self._abort()
            raise

    def _check_ownership(self, conn: pymysql.Connection[Any], has_meta: bool) -> None:
        ours = (
            {r[0] for r in _rows(conn, f"SELECT name FROM {q(META)} WHERE kind = 'published'")}
            if has_meta
            else set()
        )
        present = {
            r[0]
            for r in _rows(
                conn, "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", self.db
            )
        }
        clash = sorted((present & {t.name for t in self.built.tables.values()}) - ours)
        if clash:
            raise TargetRefusedError(
                f"{self.ref.display} already has tables sanitize did not create: {', '.join(clash[:10])}; "
                "sanitize "
                "never replaces what it did not create: load into an empty database, or drop them yourself"
            )
        self.replace = sorted(ours & present)

    def _live(self) -> pymysql.Connection[Any]:
        if self._conn is None:
            raise LoadError(f"the load into {self.ref.display} has no connection any more")
        return self._conn

    def _fail(self, exc: pymysql.Error, table: str, doing: str) -> Exception:
        if _server_gone(exc):
            return connection_failed(self.ref, exc, f"{doing} (table {table}) in")
        if table in self.built.source.tables:
            violation = check_violation(self.built.source[table], str(exc), self.ref.display)
            if violation is not None:
                return violation
        return LoadError(f"{table}: {doing} failed on {self.ref.display}: {scrub(str(exc), self.ref)[:400]}")

    def _encode(self, table: str, data: pa.Table) -> tuple[list[str], bytes, list[int]]:
        try:
            payload, hexed = csv_for_load(data)
        except ValueError as exc:
            raise LoadError(
                f"{table}.{exc}: MySQL/MariaDB cannot store NaN or infinity; map them to NULL or a number "
                "with a rule for this column"
            ) from None
        return data.column_names, payload, hexed

    def _write_encoded(self, table: str, payload: Any) -> None:
        names, body, hexed = payload
        t = self.built.tables[table]
        # LOAD DATA reads text into a BIT column as its bytes: numbers go through a variable instead
        bits = {i for i, n in enumerate(names) if isinstance(t.c[n].type, sa_mysql.BIT)}
        targets = [f"@v{i}" if i in hexed or i in bits else q(n) for i, n in enumerate(names)]
        sets = ", ".join(
            [f"{q(names[i])} = UNHEX(@v{i})" for i in sorted(hexed)]
            + [f"{q(names[i])} = CAST(@v{i} AS UNSIGNED)" for i in sorted(bits)]
        )
        self._files += 1
        path = self._tmp / f"{self._files}.csv"
        sql = (
            f"LOAD DATA LOCAL INFILE %s INTO TABLE {q(self.shadow)}.{q(t.name)} CHARACTER SET utf8mb4 "
            "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' LINES TERMINATED BY '\\n' "
            f"({', '.join(targets)})" + (f" SET {sets}" if sets else "")
        )
        self._writer.submit(lambda: self._load_file(table, sql, path, body))

    def _load_file(self, table: str, sql: str, path: Path, body: bytes) -> None:
        conn = self._live()
        try:
            path.write_bytes(body)  # on the writer thread: the main thread goes on with the next batch
            try:
                warnings = self._execute_load(conn, sql, path)
            except pymysql.Error as exc:
                if exc.args and exc.args[0] in LOCAL_INFILE_OFF:
                    raise LoadError(
                        f"{self.ref.display} refuses LOAD DATA LOCAL INFILE; enable it on the server "
                        "(SET GLOBAL local_infile = 1, or local_infile=1 in my.cnf) and retry"
                    ) from None
                raise self._fail(exc, table, "LOAD DATA") from None
            if warnings:
                shown = "; ".join(f"{r[2]}" for r in _rows(conn, "SHOW WARNINGS LIMIT 5"))
                violation = check_violation(self.built.source[table], shown, self.ref.display)
                if violation is not None:  # LOAD DATA skips a row that breaks a CHECK, with a warning
                    raise violation
                cls = CheckFailedError if "Duplicate entry" in shown else LoadError
                raise cls(
                    f"{table}: the server changed or dropped values while loading ({shown}); nothing was "
                    "published — make the rules for these columns produce values that fit"
                )
        finally:
            path.unlink(missing_ok=True)

    def _execute_load(self, conn: pymysql.Connection[Any], sql: str, path: Path) -> int:
        """Run LOAD DATA LOCAL; if the server has it switched off, switch it on once when permitted."""
        try:
            with conn.cursor() as cur:
                cur.execute(sql, (str(path),))
                return int(cur.warning_count)
        except pymysql.Error as exc:
            if not (exc.args and exc.args[0] in LOCAL_INFILE_OFF):
                raise
            try:
                _rows(conn, "SET GLOBAL local_infile = 1")
            except pymysql.Error:
                raise exc from None
            log.warning(
                "%s had local_infile off; sanitize switched it on (SET GLOBAL local_infile = 1)", self.ref
            )
            with conn.cursor() as cur:
                cur.execute(sql, (str(path),))
                return int(cur.warning_count)

    def _finish(self) -> None:
        self._writer.drain()
        conn = self._live()
        dialect = _dialect(self.ref)
        for fk_table, fk in [
            (k, fk)
            for k in self.built.keys
            for fk in self.built.source[k].foreign_keys
            if fk.ref_table in self.built.tables
        ]:
            child, parent = self.built.tables[fk_table], self.built.tables[fk.ref_table]
            on = " AND ".join(
                f"p.{q(rc)} = c.{q(cc)}" for cc, rc in zip(fk.columns, fk.ref_columns, strict=True)
            )
            notnull = " AND ".join(f"c.{q(cc)} IS NOT NULL" for cc in fk.columns)
            bad = _rows(
                conn,
                f"SELECT COUNT(*) FROM {q(self.shadow)}.{q(child.name)} c WHERE {notnull} AND NOT EXISTS "
                f"(SELECT 1 FROM {q(self.shadow)}.{q(parent.name)} p WHERE {on})",
            )[0][0]
            if int(bad):
                raise CheckFailedError(
                    f"{fk_table}: {bad} row(s) reference {fk.ref_table} rows that do not exist "
                    f"(foreign key {', '.join(fk.columns)}); nothing was published"
                )
        for stmt in post_load_ddl(self.built, constraints=True):
            try:
                _rows(conn, str(stmt.compile(dialect=dialect)))
            except pymysql.IntegrityError as exc:
                raise CheckFailedError(
                    f"the shadow copy breaks a constraint: {scrub(str(exc), self.ref)}; nothing was published"
                ) from None
            except pymysql.Error as exc:
                raise self._fail(exc, "constraints", "creating constraints and indexes") from None
        counted = {}
        for key, t in self.built.tables.items():
            name = f"{q(self.shadow)}.{q(t.name)}"
            counted[key] = int(_rows(conn, f"SELECT COUNT(*) FROM {name}")[0][0])
            auto = [c.name for c in t.columns if c.autoincrement is True]
            if auto:
                top = _rows(conn, f"SELECT MAX({q(auto[0])}) FROM {name}")[0][0]
                if top is not None:
                    _rows(conn, f"ALTER TABLE {name} AUTO_INCREMENT = {int(top) + 1}")
        self.check_counts(counted)

    def source(self) -> MysqlSource:
        self._check_state("finished", "read")
        return MysqlSource(self.ref, database=self.shadow)

    def _publish(self) -> None:
        conn = self._live()
        new = sorted(t.name for t in self.built.tables.values())
        pairs = []
        try:
            _rows(conn, f"INSERT INTO {q(META)} (name, kind) VALUES (%s, 'old')", self.old)
            _rows(conn, f"CREATE DATABASE {q(self.old)}")
            pairs += [f"{q(self.db)}.{q(n)} TO {q(self.old)}.{q(n)}" for n in self.replace]
            pairs += [f"{q(self.shadow)}.{q(n)} TO {q(self.db)}.{q(n)}" for n in new]
            for n in new:  # record first: a kill after the RENAME must not orphan these tables
                _rows(conn, f"INSERT IGNORE INTO {q(META)} (name, kind) VALUES (%s, 'published')", n)
            _rows(conn, f"SET SESSION lock_wait_timeout = {int(self.lock_wait)}")
            for (name,) in _rows(conn, f"SELECT name FROM {q(META)} WHERE kind = 'trigger'"):
                # the last run's triggers: RENAME TABLE cannot move a table with triggers elsewhere
                _rows(conn, f"DROP TRIGGER IF EXISTS {q(self.db)}.{q(name)}")
                _rows(conn, f"DELETE FROM {q(META)} WHERE name = %s AND kind = 'trigger'", name)
            _rows(conn, "RENAME TABLE " + ", ".join(pairs))
        except pymysql.Error as exc:
            if exc.args and exc.args[0] == 1205:
                raise LoadError(
                    f"publishing into {self.ref.display} timed out after {self.lock_wait}s waiting for "
                    "sessions that use the tables; retry when they are idle"
                ) from None
            raise self._fail(exc, "publish", "RENAME TABLE") from None
        stale = sorted(set(self.replace) - set(new))
        if stale:
            marks = ", ".join(["%s"] * len(stale))
            _rows(conn, f"DELETE FROM {q(META)} WHERE kind = 'published' AND name IN ({marks})", *stale)
        log.info("published %d tables into %s", len(new), self.ref.display)
        # RENAME TABLE cannot move a view between databases: views are made in place once the tables
        # are (a view names its tables, so one made by an earlier run reads the new ones already)
        self.make_views(lambda v: self._make_view(conn, v))
        for db in (self.old, self.shadow):
            with contextlib.suppress(pymysql.Error):
                _rows(conn, f"DROP DATABASE IF EXISTS {q(db)}")
                _rows(conn, f"DELETE FROM {q(META)} WHERE name = %s AND kind IN ('shadow', 'old')", db)
        self._release()

    def _make_view(self, conn: pymysql.Connection[Any], view: View) -> None:
        if view.kind == "trigger":
            self._make_trigger(conn, view)
            return
        there = _rows(
            conn,
            "SELECT table_type FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
            self.db,
            view.name,
        )
        ours = bool(_rows(conn, f"SELECT 1 FROM {q(META)} WHERE name = %s AND kind = 'view'", view.name))
        if there and not ours:
            raise ViewNotMade(
                f"{self.ref.display} has a {str(there[0][0]).lower()} of that name sanitize did not make"
            )
        self._make_recorded(conn, view, f"CREATE OR REPLACE VIEW {q(view.name)} AS {view.sql}", ours=ours)

    def _make_trigger(self, conn: pymysql.Connection[Any], trigger: View) -> None:
        """A trigger on a published table (made after the rows; the next publish drops it before its
        RENAME, which cannot move a table with triggers to another database)."""
        there = _rows(
            conn,
            "SELECT 1 FROM information_schema.triggers WHERE trigger_schema = %s AND trigger_name = %s",
            self.db,
            trigger.name,
        )
        if there:
            raise ViewNotMade(f"{self.ref.display} has a trigger of that name sanitize did not make")
        self._make_recorded(conn, trigger, trigger.sql, ours=False)

    def _make_recorded(self, conn: pymysql.Connection[Any], what: View, sql: str, *, ours: bool) -> None:
        """Run `sql`, recorded first in sanitize_meta as sanitize's (the record goes again if it fails
        and was not there before)."""
        kind = "trigger" if what.kind == "trigger" else "view"
        try:
            _rows(conn, f"INSERT IGNORE INTO {q(META)} (name, kind) VALUES (%s, %s)", what.name, kind)
            _rows(conn, sql)
        except pymysql.err.MySQLError as exc:
            if _server_gone(exc):
                raise self._fail(exc, what.name, "creating a view or trigger") from None
            if not ours:
                _rows(conn, f"DELETE FROM {q(META)} WHERE name = %s AND kind = %s", what.name, kind)
            raise ViewNotMade(scrub(str(exc.args[-1]), self.ref)) from None

    def _abort(self) -> None:
        with contextlib.suppress(BaseException):
            self._writer.drain()
        conn = self._conn
        if conn is not None:
            try:
                conn.ping(reconnect=False)
            except pymysql.Error:
                self._release()
                conn = None
        if conn is None:
            try:
                conn = self._conn = my_connect(self.ref)
                if str(_rows(conn, "SELECT GET_LOCK(%s, 0)", f"sanitize:{self.db}")[0][0]) != "1":
                    self._release()
                    return
            except Exception:  # noqa: BLE001 - the next run drops what sanitize_meta records
                log.warning(
                    "could not reconnect to drop the shadow database in %s; the next run drops it", self.ref
                )
                self._release()
                return
        with contextlib.suppress(pymysql.Error):
            _rows(conn, f"DROP DATABASE IF EXISTS {q(self.shadow)}")
            _rows(conn, f"DELETE FROM {q(META)} WHERE name = %s AND kind = 'shadow'", self.shadow)
        self._release()

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()  # ends the session: GET_LOCK goes with it
        with contextlib.suppress(OSError):
            for p in self._tmp.glob("*"):
                p.unlink()
            self._tmp.rmdir()
