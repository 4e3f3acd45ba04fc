"""MySQL/MariaDB source: one consistent read-only snapshot, streamed with an unbuffered cursor.

The source session runs `START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT` at REPEATABLE READ,
so every table is read as of one moment and any write is refused by the server. Rows arrive as text
(no per-value Python conversion) and are cast to each column's Arrow type in one vectorised step.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pymysql
import pymysql.converters
import pymysql.cursors
import sqlalchemy as sa

from sanitize.db.base import DEFAULT_BATCH, Source, rechunk
from sanitize.db.reflect import quote_ident, reflect_schema
from sanitize.db.refs import DatabaseRef, connection_failed, scrub
from sanitize.db.types import arrow_type, convert, hex_decode, read_error, to_pandas
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


HEXED = ("text", "json", "uuid", "other", "binary")


def _select_expr(cols: list[Column]) -> str:
    """One text field per row: every column as 'N' (NULL) or 'V' + value, joined by commas.

    Text and binary values are hex-encoded so no comma can occur inside one; pymysql then decodes one
    field per row instead of one per value (about 3x faster), and Arrow splits the rest in bulk.
    """
    parts = []
    for col in cols:
        name = q(col.name)
        if col.kind == "binary":
            value = f"HEX({name})"
        elif col.kind in HEXED:
            value = f"HEX(CONVERT({name} USING utf8mb4))"
        elif col.kind == "boolean":
            value = f"{name} + 0"
        else:
            value = name
        parts.append(f"IF({name} IS NULL, 'N', CONCAT('V', {value}))")
    return f"CONCAT_WS(',', {', '.join(parts)})" if parts else "''"


def rows_to_arrow(
    rows: list[tuple[Any, ...]], cols: list[Column], types: list[pa.DataType], key: str
) -> pa.Table:
    """Rows of `_select_expr` -> typed Arrow columns (a few vectorised steps per column)."""
    lines = pa.array([r[0] for r in rows], type=pa.large_string())
    if lines.null_count:
        raise BadInputError(
            f"{key}: a row is larger than the server's max_allowed_packet (it came back as NULL); raise "
            "max_allowed_packet on the source server and retry"
        )
    fields = pc.list_flatten(pc.split_pattern(lines, ","))
    n, width = len(rows), len(cols)
    if len(fields) != n * width:
        raise BadInputError(f"{key}: rows did not split into {width} columns; this is a bug in sanitize")
    arrays = []
    for i, (c, t) in enumerate(zip(cols, types, strict=True)):
        field = fields.take(pa.array(np.arange(n, dtype=np.int64) * width + i))
        none = pa.scalar(None, pa.large_string())
        value = pc.if_else(pc.equal(field, "N"), none, pc.utf8_slice_codeunits(field, 1))
        try:
            if c.kind in HEXED:
                value = hex_decode(value)
                if not pa.types.is_large_binary(t):
                    value = value.cast(pa.large_string())
            elif pa.types.is_boolean(t):
                value = value.cast(pa.int64())
            arrays.append(convert(value, t))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError) as exc:
            raise read_error(key, c.name, exc) from None
    return pa.Table.from_arrays(arrays, names=[c.name for c in cols])


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
        try:
            cur.execute(sql)
            while True:
                rows = cur.fetchmany(batch_rows)
                if not rows:
                    break
                yield rows_to_arrow(rows, cols, types, key)
        except GeneratorExit:
            self._stop_query()  # the caller stopped early: do not stream the rest of the table
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

    def read_arrow(
        self, table: str, batch_size: int = DEFAULT_BATCH, columns: Sequence[str] | None = None
    ) -> Iterator[pa.Table]:
        t = self.table(table)
        cols = [t.column(c) for c in self.columns_of(table, columns)]
        sql = f"SELECT {_select_expr(cols)} FROM {self._from(table)}"
        yield from rechunk(self._run(sql, table, cols, min(batch_size, 16_384)), batch_size)

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
        parts = list(self._run(sql, table, cols, 16_384))
        if not parts:
            return self._empty_frame(table, list(t.column_names))
        return to_pandas(pa.concat_tables(parts))

    def close(self) -> None:
        conn, self._conn = getattr(self, "_conn", None), None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.rollback()
            with contextlib.suppress(Exception):
                conn.close()
