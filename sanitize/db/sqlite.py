"""SQLite: read-only Arrow reads, ADBC bulk loads into a shadow file, publish by `os.replace`.

Sources open with `mode=ro` inside one read transaction (one snapshot for the run). SQLite stores
any value in any column, so reads cast every column to one storage class and a typed first row
(dropped again) fixes the Arrow type ADBC infers. A load writes a hidden shadow file next to the
target (`.NAME.sanitize-shadow-*`), with foreign keys off while loading and `PRAGMA
foreign_key_check` in the gate; publishing fsyncs it and renames it over the target. An exclusive
`flock` on `.NAME.sanitize-lock` refuses a second concurrent run; shadows left by killed runs are
removed by the next run that holds the lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import adbc_driver_sqlite.dbapi as adbc_sqlite
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sa_sqlite
from sqlalchemy.schema import CreateTable

from sanitize.arrow import decimal_floats, temporal_text
from sanitize.db.base import BackgroundWriter, Load, Source, Target, ViewNotMade
from sanitize.db.check_sql import check_violation
from sanitize.db.ddl import build_tables, index_ddl, source_dialect_of, unique_constraints
from sanitize.db.reflect import META_TABLE, quote_ident, reflect_schema
from sanitize.db.refs import DatabaseRef, sqlite_ref
from sanitize.db.sqlite_owner import OwnershipPlan, check_unchanged, copy_for_load, plan_ownership
from sanitize.db.types import TEMPORAL, arrow_type, convert, read_error
from sanitize.errors import (
    CheckFailedError,
    ConcurrentRunError,
    LoadError,
    UrlError,
)
from sanitize.schema import Column, Schema, View

log = logging.getLogger("sanitize")

HEADER = b"SQLite format 3\x00"
SHADOW_TAG = ".sanitize-shadow-"
_DIALECT = sa_sqlite.dialect()


def _check_sqlite_file(path: Path, *, must_exist: bool) -> None:
    if not path.exists():
        if must_exist:
            raise UrlError(f"no SQLite file at {path}; check the path (relative paths start in {Path.cwd()})")
        if not path.parent.is_dir():
            raise UrlError(f"cannot create {path}: directory {path.parent} does not exist")
        return
    if path.is_dir():
        raise UrlError(f"{path} is a directory, not a SQLite file")
    with path.open("rb") as fh:
        head = fh.read(16)
    if head and head != HEADER:
        raise UrlError(
            f"{path} is not a SQLite database (it does not start with the SQLite header); check the path"
        )


def _ro_uri(path: Path) -> str:
    return "file:" + quote(str(path.resolve())) + "?mode=ro"


# declared types SQLAlchemy reflects as these have TEXT affinity: SQLite stores every non-NULL value of
# such a column as TEXT (numbers are converted on insert) or as a BLOB, which CAST would not make text
_TEXT_AFFINITY = (sa.CHAR, sa.VARCHAR, sa.TEXT, sa.NCHAR, sa.NVARCHAR)


def _select_expr(col: Column) -> tuple[str, str]:
    """(expression, sentinel) that reads `col` in one SQLite storage class."""
    q = quote_ident(col.name, "sqlite")
    if col.kind == "text" and isinstance(col.sql_type, _TEXT_AFFINITY):
        return q, "''"  # already text: a CAST per value costs about 5% of a read
    if col.kind in ("integer", "boolean"):
        return q, "0"
    if col.kind == "float":
        return f"CASE WHEN typeof({q}) = 'integer' THEN CAST({q} AS REAL) ELSE {q} END", "0.0"
    if col.kind == "binary":
        return f"CAST({q} AS BLOB)", "X''"
    return f"CAST({q} AS TEXT)", "''"


# a column declared without a type keeps any storage class; one it holds alone is its kind
_STORAGE_KINDS = {"integer": "integer", "real": "float", "blob": "binary", "text": "text"}


def _settle_untyped(conn: sa.Connection, schema: Schema) -> Schema:
    """Columns declared without a type (`CREATE TABLE t (a, b)`) read as text, which turned numbers
    into text and blobs into (broken) text: one whose values all have one storage class gets that
    kind, so SQLite -> SQLite keeps them as they are (mixed ones still travel as text)."""
    tables = {}
    for key, t in schema.tables.items():
        cols = []
        for c in t.columns:
            if isinstance(c.sql_type, sa.types.NullType) and c.kind == "other" and t.virtual is None:
                q, name = quote_ident(c.name, "sqlite"), quote_ident(t.name, "sqlite")
                found = {
                    str(r[0])
                    for r in conn.exec_driver_sql(
                        f"SELECT DISTINCT typeof({q}) FROM {name} WHERE {q} IS NOT NULL LIMIT 2"
                    )
                }
                if len(found) == 1 and found <= set(_STORAGE_KINDS):
                    c = replace(c, kind=_STORAGE_KINDS[found.pop()])  # type: ignore[arg-type]
            cols.append(c)
        tables[key] = replace(t, columns=tuple(cols))
    return replace(schema, tables=tables)


class SqliteSource(Source):
    """A SQLite file opened read-only, read in one transaction."""

    def __init__(self, ref: DatabaseRef) -> None:
        self.ref = ref
        path = ref.path
        _check_sqlite_file(path, must_exist=True)
        uri = _ro_uri(path)
        engine = sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
        try:
            with engine.connect() as conn:
                self.schema: Schema = _settle_untyped(conn, reflect_schema(conn))
        except sa.exc.DatabaseError as exc:
            raise UrlError(
                f"cannot read SQLite file {path}: {exc.orig}; check that it is a SQLite database"
            ) from None
        finally:
            engine.dispose()
        self._conn: Any = adbc_sqlite.connect(uri, autocommit=False)  # one read transaction = one snapshot
        self._lock = threading.Lock()  # one statement step at a time (reads run on a prefetch thread)

    def _query(self, sql: str, key: str, cols: list[Column], batch_rows: int) -> Iterator[pa.Table]:
        exprs = [_select_expr(c) for c in cols]
        sentinel = ", ".join(s for _, s in exprs) if exprs else "0"
        inner = sql.format(cols=", ".join(e for e, _ in exprs) or "0")
        sql = f"SELECT {sentinel} UNION ALL SELECT * FROM ({inner})"
        types = [arrow_type(c, "sqlite") for c in cols]
        with self._lock:
            cur = self._conn.cursor()
        try:
            with self._lock:
                cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})
                cur.execute(sql)
                reader = iter(cur.fetch_record_batch())
            first = True
            while True:
                with self._lock:
                    batch = next(reader, None)
                if batch is None:
                    break
                if first:
                    batch, first = batch.slice(1), False
                yield self._typed(batch, key, cols, types)
        except adbc_sqlite.Error as exc:
            m = re.search(r"column (\d+)", str(exc))
            name = cols[int(m.group(1))].name if m and int(m.group(1)) < len(cols) else "?"
            raise read_error(key, name, exc) from None
        finally:
            with self._lock:
                cur.close()

    @staticmethod
    def _typed(batch: pa.RecordBatch, key: str, cols: list[Column], types: list[pa.DataType]) -> pa.Table:
        arrays = []
        for i, (c, t) in enumerate(zip(cols, types, strict=True)):
            try:
                arrays.append(convert(batch.column(i), t))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                raise read_error(key, c.name, exc) from None
        return pa.Table.from_arrays(arrays, names=[c.name for c in cols])

    def count(self, table: str) -> int:
        name = quote_ident(self.table(table).name, "sqlite")
        with self._lock:
            cur = self._conn.cursor()
            try:
                cur.execute(f"SELECT count(*) FROM {name}")
                n = cur.fetchone()
            finally:
                cur.close()
        return int(n[0]) if n else 0

    def _select(self, table: str, cols: list[Column], batch_rows: int) -> Iterator[pa.Table]:
        sql = "SELECT {cols} FROM " + quote_ident(self.table(table).name, "sqlite")
        return self._query(sql, table, cols, batch_rows)

    def sample(self, table: str, n: int) -> pd.DataFrame:
        t = self.table(table)
        cols = [t.column(c) for c in t.column_names]
        total = self.count(table)
        step = max(1, total // max(n, 1))
        order = ", ".join(quote_ident(c, "sqlite") for c in t.primary_key) or "rowid"
        inner = ", ".join(quote_ident(c.name, "sqlite") for c in cols)
        sql = (
            f"SELECT {{cols}} FROM (SELECT {inner}, row_number() OVER (ORDER BY {order}) - 1 AS sanitize_rn "
            f"FROM {quote_ident(t.name, 'sqlite')}) WHERE sanitize_rn % {step} = 0 LIMIT {int(n)}"
        )
        return self._sample_frame(table, list(self._query(sql, table, cols, 65_536)))

    def close(self) -> None:
        self._close_connection()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    for p in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def sqlite_ready(data: pa.Table) -> pa.Table:
    """Arrow types ADBC's SQLite ingest cannot write (or writes oddly) -> SQLite's text forms."""
    cols = []
    for col in data.columns:
        t = col.type
        if pa.types.is_timestamp(t) or pa.types.is_time(t) or pa.types.is_date(t):
            col = temporal_text(col)
        elif pa.types.is_decimal(t):
            col = _decimal_for_sqlite(col)
        cols.append(col)
    return pa.Table.from_arrays(cols, names=data.column_names)


def _decimal_for_sqlite(col: pa.ChunkedArray | pa.Array) -> pa.Array | pa.ChunkedArray:
    """Decimals as SQLite's NUMERIC affinity stores them. Up to 15 digits that is the correctly
    rounded double (stored as INTEGER when whole): exactly what SQLite makes of the decimal's text,
    without printing and parsing it; longer decimals go as text, which SQLite keeps when a double
    would lose digits."""
    if col.type.precision > 15 or not pa.types.is_decimal128(col.type):
        return col.cast(pa.string())
    nulls = pc.is_null(col).to_numpy(zero_copy_only=False) if col.null_count else None
    return pa.array(decimal_floats(col), type=pa.float64(), mask=nulls)


class SqliteTarget(Target):
    """A SQLite file; loads build a shadow file beside it and rename it into place."""

    def __init__(self, ref: DatabaseRef, *, init_target: bool = False) -> None:
        self.ref = ref
        self.path = ref.path
        self.init_target = init_target  # adopt a file sanitize did not make (see sqlite_owner)
        _check_sqlite_file(self.path, must_exist=False)

    def _has_data(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def published_schema(self) -> Schema | None:
        if not self._has_data():
            return None
        with SqliteSource(self.ref) as src:
            return src.schema

    def is_owned(self) -> bool:
        if not self._has_data():
            return False
        with contextlib.closing(sqlite3.connect(_ro_uri(self.path), uri=True)) as c:
            row = c.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?", (META_TABLE,)
            ).fetchone()
        return bool(row and row[0])

    def begin_load(self, schema: Schema, *, tables: Sequence[str] | None = None) -> SqliteLoad:
        keys = list(tables) if tables is not None else list(schema.tables)
        # decided before anything is written (not even the lock file), so a refusal leaves no trace;
        # a SQLite table is named by its key (build_tables)
        owner = plan_ownership(self.path, keys, init_target=self.init_target)
        lock_path = self.path.with_name(f".{self.path.name}.sanitize-lock")
        lock = lock_path.open("a+")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise ConcurrentRunError(
                f"another sanitize run is loading {self.path} (it holds {lock_path}); wait for it to finish"
            ) from None
        try:
            for stale in self.path.parent.glob(f".{self.path.name}{SHADOW_TAG}*"):
                log.info("removing shadow %s left by an interrupted run", stale)
                _remove(stale)
            shadow = self.path.with_name(
                f".{self.path.name}{SHADOW_TAG}{os.getpid()}-{uuid.uuid4().hex[:8]}.db"
            )
            lock.seek(0)
            lock.truncate()
            lock.write(json.dumps({"pid": os.getpid(), "shadow": shadow.name}))
            lock.flush()
            if owner.copy:
                log.info("%s holds tables sanitize keeps (%s): loading into a copy", self.path, owner.kept)
                try:
                    copy_for_load(self.path, shadow, owner)
                except BaseException:
                    _remove(shadow)
                    raise
            return SqliteLoad(self, schema, keys, shadow, lock, owner)
        except BaseException:
            lock.close()
            raise


class SqliteLoad(Load):
    """A load into a shadow SQLite file."""

    def __init__(
        self,
        target: SqliteTarget,
        schema: Schema,
        keys: list[str],
        shadow: Path,
        lock: Any,
        owner: OwnershipPlan | None = None,
    ) -> None:
        source_dialect = source_dialect_of(schema)
        built = build_tables(
            schema,
            keys,
            "sqlite",
            source_dialect,
            physical_schema=lambda t: None,
            inline_constraints=True,
            inline_uniques=False,  # built after the data: see _build_indexes
        )
        super().__init__(target, built)
        self.sqlite_target = target
        self.shadow = shadow
        self.owner = owner or OwnershipPlan(copy=False)
        self._lock = lock
        self._writer = BackgroundWriter()
        self._current: str | None = None  # the table the last batch went to
        self._indexed: set[str] = set()  # tables whose unique constraints and indexes are built
        self._fk_checked: set[str] = set()  # tables whose foreign keys held after their last batch
        self._promote: list[_Promotion] = []
        self._conn: Any = adbc_sqlite.connect(str(shadow), autocommit=True)
        try:
            cur = self._conn.cursor()
            # a shadow file nobody else reads until it is fsynced and renamed: no journal, no syncs;
            # index builds sort on two threads (the one serial step after the last row is written)
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "foreign_keys=OFF", "threads=2"):
                cur.execute(f"PRAGMA {pragma}")
                cur.fetchall()
            for key in keys:
                virtual = schema[key].virtual if source_dialect == "sqlite" else None
                # a full-text table holding its text is made as one again (it indexes the loaded text)
                cur.execute(virtual or str(CreateTable(built.tables[key]).compile(dialect=_DIALECT)))
            cur.close()
        except BaseException:
            self.abort()
            raise

    def _arrow_type(self, col: Column, key: str) -> pa.DataType:
        if col.kind in TEMPORAL and self.built.source_dialect != "sqlite":
            # date/time columns hold text here (see arrow_type); values from a typed source stay typed
            # (text from a transform must parse) and sqlite_ready writes them in the canonical ISO form;
            # a SQLite source's own text is copied as it is
            return arrow_type(col, "generic")
        return super()._arrow_type(col, key)

    def _encode(self, table: str, data: pa.Table) -> pa.Table:
        return sqlite_ready(data)

    def _write_encoded(self, table: str, payload: Any) -> None:
        ready: pa.Table = payload
        previous, self._current = self._current, table
        if previous is not None and previous != table:
            # loads go table by table: the last one is complete, so index and check it on the writer
            # thread while the next table is read and transformed
            self._writer.submit(lambda: self._complete(previous))
        self._writer.submit(lambda: self._ingest(table, ready))

    def _ingest(self, table: str, data: pa.Table) -> None:
        self._fk_checked.discard(table)
        cur = self._conn.cursor()
        try:
            cur.adbc_ingest(self.built.tables[table].name, data, mode="append")
        except adbc_sqlite.Error as exc:
            msg = str(exc)
            if "UNIQUE constraint failed" in msg or "PRIMARY KEY" in msg:
                raise CheckFailedError(
                    f"{table}: duplicate values in the shadow copy ({_sqlite_detail(msg)}); "
                    "a unique column needs a "
                    "unique-safe rule (e.g. `hash` or `fake` with `unique: true`); nothing was published"
                ) from None
            violation = check_violation(self.built.source[table], msg, "the shadow copy")
            if violation is not None:
                raise violation from None
            raise LoadError(f"{table}: writing to the shadow copy failed ({_sqlite_detail(msg)})") from None
        finally:
            cur.close()

    def _complete(self, key: str) -> None:
        """A table has all its rows (so far): build its unique constraints and indexes, and check its
        foreign keys when its parents are complete too. Runs on the writer thread, or in finish().

        A passed check stays valid (rows are only ever added, so a parent row never disappears) until
        the table itself gets more rows; a failed one is only retried in finish(), when every table is
        complete, so a child written before its parent is never reported wrongly."""
        cur = self._conn.cursor()
        try:
            if key not in self._indexed:
                self._indexed.add(key)
                self._build_indexes(cur, key)
            parents = {fk.ref_table for fk in self.built.source[key].foreign_keys} & set(self.built.keys)
            if parents and parents <= self._indexed | {key} and not self._dangling(cur, key):
                self._fk_checked.add(key)
        finally:
            cur.close()

    def _dangling(self, cur: Any, key: str) -> list[tuple[Any, ...]]:
        """Rows of `key` whose foreign keys point at nothing (PRAGMA foreign_key_check)."""
        try:
            cur.execute(f"PRAGMA foreign_key_check({quote_ident(self.built.tables[key].name, 'sqlite')})")
            return list(cur.fetchall())
        except adbc_sqlite.Error as exc:
            raise LoadError(
                f"{key}: checking the foreign keys of the shadow copy failed ({_sqlite_detail(str(exc))})"
            ) from None

    def _finish(self) -> None:
        if self._current is not None:
            self._writer.submit(lambda: self._complete(str(self._current)))
        self._writer.drain()
        cur = self._conn.cursor()
        for key in self.built.keys:
            if key not in self._indexed:  # tables that got no rows
                self._indexed.add(key)
                self._build_indexes(cur, key)
        counted = {}
        for key in self.built.keys:
            cur.execute(f"SELECT count(*) FROM {quote_ident(self.built.tables[key].name, 'sqlite')}")
            counted[key] = int(cur.fetchone()[0])
        self.check_counts(counted)
        bad = []
        for key in self.built.keys:
            if self.built.source[key].foreign_keys and key not in self._fk_checked:
                bad += self._dangling(cur, key)
        if bad:
            problems = [
                f"{t} rowid {rowid} -> {parent} (foreign key #{fkid})" for t, rowid, parent, fkid in bad[:20]
            ]
            raise CheckFailedError(
                f"{len(bad)} row(s) in the shadow copy reference rows that do not exist; "
                "nothing was published",
                problems=problems,
            )
        made = self.make_views(lambda v: self._make_view(cur, v))
        cur.execute(f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        meta = {
            "tool": "sanitize",
            "loaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "tables": json.dumps(self.written),
            # with the tables, what the next load replaces (see sqlite_owner); triggers go with their table
            "views": json.dumps([v.name for v in made if v.kind != "trigger"]),
        }
        cur.adbc_ingest(
            META_TABLE, pa.table({"key": list(meta), "value": list(meta.values())}), mode="append"
        )
        cur.close()
        self._conn.close()
        self._conn = None
        _promote_uniques(self.shadow, self._promote)

    @staticmethod
    def _make_view(cur: Any, view: View) -> None:
        """The view's own CREATE VIEW; SQLite checks what it reads only when it is used, so it is
        compiled once here (a view reading a table left out is dropped again)."""
        name = quote_ident(view.name, "sqlite")
        virtual = view.kind == "full-text table"
        try:
            cur.execute(view.sql)
        except adbc_sqlite.Error as exc:
            raise ViewNotMade(_sqlite_detail(str(exc))) from None
        if view.kind == "trigger":  # SQLite checked its table; its statements run when it fires
            return
        try:
            if view.materialized:  # a full-text index over a loaded table: built from its rows
                cur.execute(f"INSERT INTO {name} ({name}) VALUES ('rebuild')")
            cur.execute(f"SELECT * FROM {name} LIMIT 0")
            cur.fetchall()
        except adbc_sqlite.Error as exc:
            cur.execute(f"DROP {'TABLE' if virtual else 'VIEW'} {name}")
            raise ViewNotMade(_sqlite_detail(str(exc))) from None
        if virtual and not view.materialized:
            log.warning(
                "full-text table %s keeps no text of its own (content=''); it is made empty", view.name
            )

    def _build_indexes(self, cur: Any, key: str) -> None:
        """The unique constraints and indexes of table `key`, built after its data (one sort instead of
        a B-tree grown row by row: several times faster); duplicates stop the load here.

        Unique constraints are built as unique indexes and recorded for `_promote_uniques`, which turns
        them into the UNIQUE constraints CREATE TABLE would have made."""
        table = self.built.tables[key]
        uniques = unique_constraints(self.built, key)
        if uniques:
            for uc in uniques:
                table.append_constraint(uc)
            create_sql, autos = _autoindexes(str(CreateTable(table).compile(dialect=_DIALECT)), table.name)
            renames: list[tuple[str, str]] = []
            for auto, columns in autos:
                made = f"sanitize_unique_{self.built.keys.index(key)}_{len(renames)}"
                on = f"{quote_ident(table.name, 'sqlite')} ({', '.join(columns)})"
                try:
                    cur.execute(f"CREATE UNIQUE INDEX {made} ON {on}")
                except adbc_sqlite.Error as exc:
                    raise CheckFailedError(
                        f"{key}: duplicate values in the shadow copy ({_sqlite_detail(str(exc))}); a unique "
                        "column needs a unique-safe rule (e.g. `hash` or `fake` with `unique: true`); "
                        "nothing was published"
                    ) from None
                renames.append((made, auto))
            self._promote.append(_Promotion(table.name, create_sql, renames))
        for stmt in index_ddl(self.built, key):
            try:
                cur.execute(str(stmt.compile(dialect=_DIALECT)))
            except adbc_sqlite.Error as exc:
                raise CheckFailedError(
                    f"{key}: creating an index failed ({_sqlite_detail(str(exc))}); nothing was published"
                ) from None

    def source(self) -> SqliteSource:
        self._check_state("finished", "read")
        src = SqliteSource(sqlite_ref(self.shadow))
        return src

    def _publish(self) -> None:
        check_unchanged(self.sqlite_target.path, self.owner)
        _fsync(self.shadow)
        os.replace(self.shadow, self.sqlite_target.path)
        _fsync(self.shadow.parent)
        log.info("published %s", self.sqlite_target.path)
        self._release()

    def _abort(self) -> None:
        with contextlib.suppress(BaseException):
            self._writer.drain()
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        _remove(self.shadow)
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None


@dataclass
class _Promotion:
    table: str
    create_sql: str  # CREATE TABLE with its UNIQUE constraints, as SQLite stores it
    renames: list[tuple[str, str]]  # (index built after the data, the automatic index it becomes)


def _autoindexes(create_sql: str, table: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """What SQLite makes of `create_sql`: the stored CREATE TABLE text and, per UNIQUE constraint, the
    automatic index's name and its key columns (with collation and order) as index terms."""
    with contextlib.closing(sqlite3.connect(":memory:")) as mem:
        mem.execute(create_sql)
        (stored,) = mem.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        autos = []
        for row in mem.execute(f"PRAGMA index_list({quote_ident(table, 'sqlite')})").fetchall():
            if row[3] != "u":
                continue
            info = mem.execute(f"PRAGMA index_xinfo({quote_ident(row[1], 'sqlite')})").fetchall()
            terms = [
                f"{quote_ident(r[2], 'sqlite')} COLLATE {quote_ident(r[4], 'sqlite')}"
                + (" DESC" if r[3] else "")
                for r in sorted(info)
                if r[5]  # key columns (the trailing rowid is not)
            ]
            autos.append((str(row[1]), terms))
    return str(stored), autos


def _promote_uniques(path: Path, promote: list[_Promotion]) -> None:
    """Turn indexes built after the data into the tables' UNIQUE constraints.

    A UNIQUE constraint in SQLite is an automatic index (`sqlite_autoindex_<table>_<n>`, no SQL of its
    own) that CREATE TABLE declares; its b-tree is the same as a unique index's on the same terms. So
    the schema rows are rewritten (`writable_schema`, one transaction): the table gets the CREATE TABLE
    text with its constraints, each index the automatic name. A fresh connection then checks that
    SQLite reads them back as UNIQUE constraints; anything else stops the load.
    """
    if not promote:
        return
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as con:
        # the shadow is fsynced before it is published and dropped if anything fails before that
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("PRAGMA writable_schema = ON")
        con.execute("BEGIN IMMEDIATE")
        for p in promote:
            con.execute(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (p.create_sql, p.table)
            )
            for made, auto in p.renames:
                con.execute(
                    "UPDATE sqlite_master SET name = ?, sql = NULL WHERE type = 'index' AND name = ?",
                    (auto, made),
                )
        (version,) = con.execute("PRAGMA schema_version").fetchone()
        con.execute(f"PRAGMA schema_version = {int(version) + 1}")
        con.execute("COMMIT")
        con.execute("PRAGMA writable_schema = OFF")
    with contextlib.closing(sqlite3.connect(path)) as con:
        for p in promote:
            origins = {
                r[1]: r[3] for r in con.execute(f"PRAGMA index_list({quote_ident(p.table, 'sqlite')})")
            }
            wrong = [auto for _, auto in p.renames if origins.get(auto) != "u"]
            if wrong:
                raise LoadError(
                    f"{p.table}: the unique constraints could not be attached to the table "
                    f"({', '.join(wrong)}); nothing was published; please report this with the table's "
                    "CREATE TABLE statement"
                )


def _sqlite_detail(msg: str) -> str:
    """The useful part of an ADBC SQLite error (no driver prefix, no echoed query)."""
    msg = re.sub(
        r"^[A-Z_]+: (\[SQLite\] )?(failed to (?:execute|prepare query): )?",
        "",
        msg.replace("\n", " ").strip(),
        flags=re.I,
    )
    msg = re.split(r" query(?: was)?:", msg)[0]
    return msg[:300]
