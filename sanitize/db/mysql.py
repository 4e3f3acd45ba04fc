"""MySQL/MariaDB source: one consistent read-only snapshot, streamed with an unbuffered cursor.

The source session runs `START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT` at REPEATABLE READ,
so every table is read as of one moment and any write is refused by the server. Rows are read off the
wire in bulk (`mywire`: no per-value Python work) and cast to each column's Arrow type in one
vectorised step per column.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pyarrow as pa
import pymysql
import pymysql.converters
import pymysql.cursors
import sqlalchemy as sa
from sqlalchemy.dialects import mysql as sa_mysql

from sanitize.db.base import Source
from sanitize.db.mywire import WireReader
from sanitize.db.reflect import quote_ident, reflect_schema
from sanitize.db.refs import DatabaseRef, connection_failed, scrub
from sanitize.db.types import arrow_type, convert, null_zero_dates, read_error
from sanitize.errors import BadInputError
from sanitize.schema import Column, Schema

log = logging.getLogger("sanitize")

# encoders only: rows come back as str/bytes, and Arrow does the type conversion in bulk
TEXT_CONV = {k: v for k, v in pymysql.converters.conversions.items() if not isinstance(k, int)}


def q(name: str) -> str:
    return quote_ident(name, "mysql")


def my_connect(ref: DatabaseRef, database: str | None = None, **extra: Any) -> pymysql.Connection[Any]:
    """A pymysql connection to `ref` (utf8mb4, text results); ConnectionFailed without the password."""
    u = ref.url
    try:
        return pymysql.connect(
            host=u.host or "localhost",
            port=u.port or 3306,
            user=u.username or "root",
            password=str(u.password) if u.password is not None else "",
            database=database if database is not None else u.database,
            charset="utf8mb4",
            conv=TEXT_CONV,
            connect_timeout=10,
            autocommit=True,
            **extra,
        )
    except pymysql.Error as exc:
        raise connection_failed(ref, exc) from None


def my_engine(ref: DatabaseRef, database: str | None = None) -> sa.Engine:
    url = ref.url if database is None else ref.url.set(database=database)
    return sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"charset": "utf8mb4"})


def _select_expr(cols: list[Column]) -> str:
    """The select list: each column as the server sends it in the text protocol, except values whose
    text form is not what the column's Arrow type reads (booleans as numbers, other types as utf8mb4
    text). Binary values arrive as raw bytes, text in the connection's utf8mb4."""
    parts = []
    for col in cols:
        name = q(col.name)
        if col.kind == "boolean" or isinstance(col.sql_type, sa_mysql.BIT):  # BIT arrives as bytes
            parts.append(f"{name} + 0")
        elif col.kind == "other":
            parts.append(f"CONVERT({name} USING utf8mb4)")
        else:
            parts.append(name)
    return ", ".join(parts) if parts else "''"


def arrays_to_table(
    arrays: list[pa.Array], cols: list[Column], types: list[pa.DataType], key: str
) -> pa.Table:
    """The wire reader's text (binary) views -> typed Arrow columns, cast in bulk."""
    out = []
    for arr, c, t in zip(arrays, cols, types, strict=True):
        try:
            if c.kind == "binary":
                value = arr.cast(pa.large_binary())
            else:
                value = arr.cast(pa.large_string())
                value.validate(full=True)  # UTF-8, as pymysql's decoding checked it
                if pa.types.is_boolean(t):
                    value = value.cast(pa.int64())
                elif c.kind in ("date", "datetime"):
                    value = null_zero_dates(value, f"{key}.{c.name}")
            out.append(convert(value, t))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError) as exc:
            raise read_error(key, c.name, exc) from None
    return pa.Table.from_arrays(out, names=[c.name for c in cols])


class MysqlSource(Source):
    """A MySQL/MariaDB database read in one consistent, read-only snapshot."""

    def __init__(self, ref: DatabaseRef, *, database: str | None = None) -> None:
        self.ref = ref
        self.database = str(database or ref.url.database)
        engine = my_engine(ref, self.database)
        try:
            with engine.connect() as conn:
                self.schema: Schema = reflect_schema(conn)
        except sa.exc.OperationalError as exc:
            raise connection_failed(ref, exc.orig or exc) from None
        finally:
            engine.dispose()
        self._conn = my_connect(ref, self.database, cursorclass=pymysql.cursors.SSCursor)
        try:
            with self._conn.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cur.execute("START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT")
        except pymysql.Error as exc:
            raise connection_failed(ref, exc, "start a read-only snapshot on") from None

    def _from(self, table: str) -> str:
        return f"{q(self.database)}.{q(self.table(table).name)}"

    def _run(self, sql: str, key: str, cols: list[Column], batch_rows: int) -> Iterator[pa.Table]:
        types = [arrow_type(c, "mysql") for c in cols]
        cur = self._conn.cursor()
        reader: WireReader | None = None
        try:
            cur.execute(sql)
            reader = WireReader(cur, [c.kind == "binary" for c in cols] if cols else [False])
            for arrays in reader.batches(batch_rows):
                yield arrays_to_table(arrays[: len(cols)], cols, types, key)
        except GeneratorExit:
            if reader is not None and not reader.done:
                self._stop_query()  # the caller stopped early: do not stream the rest of the table
                with contextlib.suppress(pymysql.Error):
                    reader.drain()
            raise
        except pymysql.OperationalError as exc:
            raise connection_failed(self.ref, exc, "read from") from None
        except pymysql.Error as exc:
            raise BadInputError(
                f"{key}: reading from {self.ref.display} failed: {scrub(str(exc), self.ref)}"
            ) from None
        finally:
            with contextlib.suppress(pymysql.Error):
                cur.close()

    def _stop_query(self) -> None:
        """End the running SELECT (KILL QUERY from a second session; the snapshot transaction stays)."""
        try:
            with contextlib.closing(my_connect(self.ref, self.database)) as admin, admin.cursor() as cur:
                cur.execute("KILL QUERY %s", (self._conn.thread_id(),))
        except Exception:  # noqa: BLE001 - if it fails, closing the cursor drains the rows instead
            log.debug("could not stop the running query on %s", self.ref)

    def count(self, table: str) -> int:
        with self._conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {self._from(table)}")
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def _select(self, table: str, cols: list[Column], batch_rows: int) -> Iterator[pa.Table]:
        return self._run(f"SELECT {_select_expr(cols)} FROM {self._from(table)}", table, cols, batch_rows)

    def sample(self, table: str, n: int) -> pd.DataFrame:
        t = self.table(table)
        cols = [t.column(c) for c in t.column_names]
        step = max(1, self.count(table) // max(n, 1))
        order = ", ".join(q(c) for c in (t.primary_key or t.column_names))
        sql = (
            f"SELECT {_select_expr(cols)} FROM (SELECT *, "
            f"ROW_NUMBER() OVER (ORDER BY {order}) - 1 AS sanitize_rn FROM {self._from(table)}) s "
            f"WHERE sanitize_rn % {step} = 0 ORDER BY sanitize_rn LIMIT {int(n)}"
        )
        return self._sample_frame(table, list(self._run(sql, table, cols, 65_536)))

    def close(self) -> None:
        self._close_connection()
