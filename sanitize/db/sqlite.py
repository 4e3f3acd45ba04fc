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
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import adbc_driver_sqlite.dbapi as adbc_sqlite
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sa_sqlite
from sqlalchemy.schema import CreateTable

from sanitize.db.base import DEFAULT_BATCH, BackgroundWriter, Load, Source, Target, rechunk
from sanitize.db.ddl import build_tables, post_load_ddl, source_dialect_of
from sanitize.db.reflect import META_TABLE, quote_ident, reflect_schema
from sanitize.db.refs import DatabaseRef, _sqlite_ref
from sanitize.db.types import arrow_type, convert, read_error, to_pandas
from sanitize.errors import (
    CheckFailedError,
    ConcurrentRunError,
    LoadError,
    UrlError,
)
from sanitize.schema import Column, Schema

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


def _select_expr(col: Column) -> tuple[str, str]:
    """(expression, sentinel) that reads `col` in one SQLite storage class."""
    q = quote_ident(col.name, "sqlite")
    if col.kind in ("integer", "boolean"):
        return q, "0"
    if col.kind == "float":
        return f"CASE WHEN typeof({q}) = 'integer' THEN CAST({q} AS REAL) ELSE {q} END", "0.0"
    if col.kind == "binary":
        return f"CAST({q} AS BLOB)", "X''"
    return f"CAST({q} AS TEXT)", "''"


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
                self.schema: Schema = reflect_schema(conn)
        except sa.exc.DatabaseError as exc:
            raise UrlError(
                f"cannot read SQLite file {path}: {exc.orig}; check that it is a SQLite database"
            ) from None
        finally:
            engine.dispose()
        self._conn: Any = adbc_sqlite.connect(uri, autocommit=False)  # one read transaction = one snapshot

    def _query(self, sql: str, key: str, cols: list[Column], batch_rows: int) -> Iterator[pa.Table]:
        exprs = [_select_expr(c) for c in cols]
        sentinel = ", ".join(s for _, s in exprs) if exprs else "0"
        inner = sql.format(cols=", ".join(e for e, _ in exprs) or "0")
        sql = f"SELECT {sentinel} UNION ALL SELECT * FROM ({inner})"
        cur = self._conn.cursor()
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})
        types = [arrow_type(c, "sqlite") for c in cols]
        try:
            cur.execute(sql)
            first = True
            for batch in cur.fetch_record_batch():
                if first:
                    batch, first = batch.slice(1), False
                yield self._typed(batch, key, cols, types)
        except adbc_sqlite.Error as exc:
            m = re.search(r"column (\d+)", str(exc))
            name = cols[int(m.group(1))].name if m and int(m.group(1)) < len(cols) else "?"
            raise read_error(key, name, exc) from None
        finally:
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
        self.table(table)
        cur = self._conn.cursor()
        cur.execute(f"SELECT count(*) FROM {quote_ident(self.table(table).name, 'sqlite')}")
        n = cur.fetchone()
        cur.close()
        return int(n[0]) if n else 0

    def read_arrow(
        self, table: str, batch_size: int = DEFAULT_BATCH, columns: Sequence[str] | None = None
    ) -> Iterator[pa.Table]:
        t = self.table(table)
        cols = [t.column(c) for c in self.columns_of(table, columns)]
        sql = "SELECT {cols} FROM " + quote_ident(t.name, "sqlite")
        yield from rechunk(self._query(sql, table, cols, min(batch_size, 65_536)), batch_size)

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
        parts = list(self._query(sql, table, cols, 65_536))
        if not parts:
            return self._empty_frame(table, list(t.column_names))
        return to_pandas(pa.concat_tables(parts))

    def close(self) -> None:
        conn, self._conn = getattr(self, "_conn", None), None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.rollback()
            conn.close()


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


def _drop_zero_micros(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """'2024-01-02 03:04:05.000000' -> '2024-01-02 03:04:05' (Python's isoformat(' ') does the same)."""
    return pc.if_else(pc.ends_with(text, ".000000"), pc.utf8_slice_codeunits(text, 0, -7), text)


_US_PER_DAY = 86_400_000_000


def _digits(out: np.ndarray, at: int, values: np.ndarray, width: int) -> None:
    """Write `values` as zero-padded decimal digits into columns at..at+width-1 of `out`."""
    for i in range(width - 1, -1, -1):
        values, digit = np.divmod(values, 10)
        out[:, at + i] = digit + 48


def datetime_text(arr: pa.Array | pa.ChunkedArray, *, date: bool = True) -> pa.Array:
    """timestamp[us] (or time64[us] with `date=False`) -> 'YYYY-MM-DD HH:MM:SS' text, with '.ffffff'
    only when the fraction is not zero; the text Python's isoformat(' ') and SQLAlchemy's SQLite
    types read back. Vectorised in numpy (Arrow's own formatting is several times slower); years
    outside 1..9999 go through Arrow's cast."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    us = np.asarray(arr.cast(pa.int64()).fill_null(0), dtype=np.int64)
    days, rem = np.divmod(us, _US_PER_DAY)
    secs, micros = np.divmod(rem, 1_000_000)
    if date:
        z = days + 719_468  # days since 0000-03-01 (H. Hinnant's civil_from_days)
        era = z // 146_097
        doe = z - era * 146_097
        yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        day = doy - (153 * mp + 2) // 5 + 1
        month = np.where(mp < 10, mp + 3, mp - 9)
        year = yoe + era * 400 + (month <= 2)
        if n and (year.min() < 1 or year.max() > 9999):
            text = arr.cast(pa.timestamp("us")).cast(pa.large_string())
            return _drop_zero_micros(text).cast(pa.large_string())  # type: ignore[no-any-return]
    head = 11 if date else 0
    buf = np.empty((n, head + 15), dtype=np.uint8)
    if date:
        _digits(buf, 0, year, 4)
        _digits(buf, 5, month, 2)
        _digits(buf, 8, day, 2)
        buf[:, 4] = buf[:, 7] = ord("-")
        buf[:, 10] = ord(" ")
    _digits(buf, head, secs // 3600, 2)
    _digits(buf, head + 3, secs // 60 % 60, 2)
    _digits(buf, head + 6, secs % 60, 2)
    buf[:, head + 2] = buf[:, head + 5] = ord(":")
    buf[:, head + 8] = ord(".")
    _digits(buf, head + 9, micros, 6)
    fraction = micros != 0
    if fraction.all():
        lengths, data = np.full(n, head + 15, np.int64), buf.reshape(-1)
    elif not fraction.any():
        lengths, data = np.full(n, head + 8, np.int64), np.ascontiguousarray(buf[:, : head + 8]).reshape(-1)
    else:
        keep = np.ones(buf.shape, dtype=bool)
        keep[~fraction, head + 8 :] = False
        lengths, data = np.where(fraction, head + 15, head + 8), buf[keep]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    validity = None
    if arr.null_count:
        validity = pa.py_buffer(np.packbits(np.asarray(arr.is_valid()), bitorder="little"))
    return pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(data), validity, arr.null_count
    )


def sqlite_ready(data: pa.Table) -> pa.Table:
    """Arrow types ADBC's SQLite ingest cannot write (or writes oddly) -> SQLite's text forms."""
    cols = []
    for col in data.columns:
        t = col.type
        if pa.types.is_timestamp(t):
            text = datetime_text(col.cast(pa.timestamp("us", tz=t.tz)).cast(pa.timestamp("us")))
            if t.tz is not None:
                ls = pa.large_string()
                text = pc.binary_join_element_wise(text, pa.scalar("+00:00", ls), pa.scalar("", ls))
            col = text
        elif pa.types.is_time(t):
            col = datetime_text(col.cast(pa.time64("us")).cast(pa.int64()), date=False)
        elif pa.types.is_decimal(t):
            col = col.cast(pa.string())
        cols.append(col)
    return pa.Table.from_arrays(cols, names=data.column_names)


class SqliteTarget(Target):
    """A SQLite file; loads build a shadow file beside it and rename it into place."""

    def __init__(self, ref: DatabaseRef) -> None:
        self.ref = ref
        self.path = ref.path
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
            return SqliteLoad(
                self, schema, list(tables) if tables is not None else list(schema.tables), shadow, lock
            )
        except BaseException:
            lock.close()
            raise


class SqliteLoad(Load):
    """A load into a shadow SQLite file."""

    def __init__(
        self, target: SqliteTarget, schema: Schema, keys: list[str], shadow: Path, lock: Any
    ) -> None:
        source_dialect = source_dialect_of(schema)
        built = build_tables(
            schema, keys, "sqlite", source_dialect, physical_schema=lambda t: None, inline_constraints=True
        )
        super().__init__(target, built)
        self.sqlite_target = target
        self.shadow = shadow
        self._lock = lock
        self._writer = BackgroundWriter()
        self._conn: Any = adbc_sqlite.connect(str(shadow), autocommit=True)
        try:
            cur = self._conn.cursor()
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "foreign_keys=OFF"):
                cur.execute(f"PRAGMA {pragma}")
                cur.fetchall()
            for key in keys:
                cur.execute(str(CreateTable(built.tables[key]).compile(dialect=_DIALECT)))
            cur.close()
        except BaseException:
            self.abort()
            raise

    def _write_arrow(self, table: str, data: pa.Table) -> None:
        ready = sqlite_ready(data)
        self._writer.submit(lambda: self._ingest(table, ready))

    def _ingest(self, table: str, data: pa.Table) -> None:
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
            raise LoadError(f"{table}: writing to the shadow copy failed ({_sqlite_detail(msg)})") from None
        finally:
            cur.close()

    def _finish(self) -> None:
        self._writer.drain()
        cur = self._conn.cursor()
        for stmt in post_load_ddl(self.built, constraints=False):
            try:
                cur.execute(str(stmt.compile(dialect=_DIALECT)))
            except adbc_sqlite.Error as exc:
                raise CheckFailedError(
                    f"creating an index failed ({_sqlite_detail(str(exc))}); nothing was published"
                ) from None
        counted = {}
        for key in self.built.keys:
            cur.execute(f"SELECT count(*) FROM {quote_ident(self.built.tables[key].name, 'sqlite')}")
            counted[key] = int(cur.fetchone()[0])
        self.check_counts(counted)
        cur.execute("PRAGMA foreign_key_check")
        bad = cur.fetchall()
        if bad:
            problems = [
                f"{t} rowid {rowid} -> {parent} (foreign key #{fkid})" for t, rowid, parent, fkid in bad[:20]
            ]
            raise CheckFailedError(
                f"{len(bad)} row(s) in the shadow copy reference rows that do not exist; "
                "nothing was published",
                problems=problems,
            )
        cur.execute(f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        meta = {
            "tool": "sanitize",
            "loaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "tables": json.dumps(self.written),
        }
        cur.adbc_ingest(
            META_TABLE, pa.table({"key": list(meta), "value": list(meta.values())}), mode="append"
        )
        cur.close()
        self._conn.close()
        self._conn = None

    def source(self) -> SqliteSource:
        self._check_state("finished", "read")
        src = SqliteSource(_sqlite_ref(self.shadow))
        return src

    def _publish(self) -> None:
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


def _sqlite_detail(msg: str) -> str:
    """The useful part of an ADBC SQLite error (no driver prefix, no echoed query)."""
    msg = msg.replace("\n", " ").split(" query was:")[0]
    msg = re.sub(r"^[A-Z_]+: (\[SQLite\] )?(failed to execute: )?", "", msg.strip(), flags=re.I)
    return msg[:300]
