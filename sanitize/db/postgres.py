"""PostgreSQL: snapshot reads through ADBC, COPY loads into shadow schemas, publish by schema swap.

A source reads every table inside one `REPEATABLE READ, READ ONLY` transaction (one snapshot for the
run; writes are refused by the server). A load takes a session advisory lock (a second run gets
ConcurrentRunError; a killed run's lock dies with its connection), drops the shadows a killed run
left (only schemas recorded in `sanitize_meta.objects`), builds `sanitize_shadow_<schema>` schemas,
COPYs CSV written by pyarrow into them, then adds unique constraints, indexes and foreign keys, sets
sequences past the data and runs the gate. Publishing renames schemas in one transaction with a
lock timeout; the old generation is dropped after the commit.
"""

from __future__ import annotations

import contextlib
import io
import logging
import zlib
from collections.abc import Iterator
from typing import Any

import adbc_driver_postgresql.dbapi as adbc_pg
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL

from sanitize.db.base import Source
from sanitize.db.reflect import quote_ident, reflect_schema
from sanitize.db.refs import DatabaseRef, connection_failed, scrub
from sanitize.db.types import arrow_type, convert, hex_encode, read_error
from sanitize.errors import BadInputError
from sanitize.schema import Column, Schema
from sanitize.special import finite_times

log = logging.getLogger("sanitize")

READ_ONLY_OPTIONS = "-c default_transaction_read_only=on"
NATIVE_KINDS = ("integer", "float", "boolean", "date", "datetime", "time", "binary")


def q(name: str) -> str:
    return quote_ident(name, "postgresql")


def qualified(schema: str | None, name: str) -> str:
    return f"{q(schema)}.{q(name)}" if schema else q(name)


def connect_kwargs(ref: DatabaseRef) -> dict[str, Any]:
    """psycopg keyword arguments for `ref` (no URL re-encoding, so any password works)."""
    u = ref.url
    kw: dict[str, Any] = {k: v for k, v in u.query.items() if isinstance(v, str)}
    kw.update(dbname=u.database or u.username or "postgres")
    if u.host:
        kw["host"] = u.host
    if u.port:
        kw["port"] = u.port
    if u.username:
        kw["user"] = u.username
    if u.password is not None:
        kw["password"] = str(u.password)
    kw.setdefault("connect_timeout", 10)
    return kw


def libpq_uri(ref: DatabaseRef) -> str:
    u = ref.url
    return URL.create(
        "postgresql",
        username=u.username,
        password=u.password,
        host=u.host,
        port=u.port,
        database=u.database or u.username or "postgres",
        query=dict(u.query),
    ).render_as_string(hide_password=False)


def pg_connect(ref: DatabaseRef, *, autocommit: bool = True, **extra: Any) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(autocommit=autocommit, **connect_kwargs(ref), **extra)
    except psycopg.Error as exc:
        raise connection_failed(ref, exc) from None


def pg_engine(ref: DatabaseRef, *, read_only: bool) -> sa.Engine:
    kwargs = {"options": READ_ONLY_OPTIONS} if read_only else {}
    return sa.create_engine(ref.url, connect_args=kwargs, poolclass=sa.pool.NullPool)


def _select_expr(col: Column) -> str:
    """How to read `col` so ADBC returns its arrow_type (or text to cast from)."""
    name = q(col.name)
    t = col.sql_type
    if col.kind in NATIVE_KINDS and not (col.kind == "time" and col.timezone):
        return name
    if col.kind == "text" and isinstance(t, sa.String) and not isinstance(t, sa.Enum):
        return name
    return f"{name}::text"


class PostgresSource(Source):
    """A PostgreSQL database read in one REPEATABLE READ, READ ONLY transaction."""

    def __init__(self, ref: DatabaseRef, *, schemas: dict[str | None, str | None] | None = None) -> None:
        self.ref = ref
        self.special_values: Any = None  # rules.SpecialValues: what infinite dates/timestamps become
        self._physical: dict[str | None, str | None] = {}
        engine = pg_engine(ref, read_only=True)
        try:
            with engine.connect() as conn:
                self.schema: Schema = reflect_schema(conn, schemas=schemas)
        except sa.exc.OperationalError as exc:
            raise connection_failed(ref, exc.orig or exc) from None
        finally:
            engine.dispose()
        if schemas:
            self._physical = {logical: physical for physical, logical in schemas.items()}
        try:
            self._conn = adbc_pg.connect(libpq_uri(ref))  # autocommit off: BEGIN is already sent
            cur = self._conn.cursor()
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute(
                "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'p'"
            )
            self._partitioned = {(str(s), str(n)) for s, n in cur.fetchall()}
            cur.close()
        except adbc_pg.Error as exc:
            raise connection_failed(ref, exc) from None

    def _from(self, table: str) -> str:
        """The table to read: ONLY its own rows, as inheritance children (`INHERITS`) are tables of
        their own here, copied once; a partitioned table is read whole (its partitions are not listed)."""
        t = self.table(table)
        physical = self._physical.get(t.schema, t.schema) or "public"
        name = qualified(physical, t.name)
        return name if (physical, t.name) in self._partitioned else f"ONLY {name}"

    def _run(self, sql: str, key: str, cols: list[Column]) -> Iterator[pa.Table]:
        types = [arrow_type(c, "postgresql") for c in cols]
        cur = self._conn.cursor()
        try:
            cur.execute(sql)
            for batch in cur.fetch_record_batch():
                arrays = []
                for i, (c, t) in enumerate(zip(cols, types, strict=True)):
                    try:
                        arrays.append(convert(batch.column(i), t))
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                        raise read_error(key, c.name, exc) from None
                arrays = [
                    finite_times(arr, f"{key}.{c.name}", self.special_values)
                    for c, arr in zip(cols, arrays, strict=True)
                ]
                yield pa.Table.from_arrays(arrays, names=[c.name for c in cols])
        except adbc_pg.OperationalError as exc:
            raise connection_failed(self.ref, exc, "read from") from None
        except adbc_pg.Error as exc:
            raise BadInputError(
                f"{key}: reading from {self.ref.display} failed: {scrub(str(exc), self.ref)}"
            ) from None
        finally:
            with contextlib.suppress(Exception):
                cur.close()

    def count(self, table: str) -> int:
        cur = self._conn.cursor()
        try:
            cur.execute(f"SELECT count(*) FROM {self._from(table)}")
            row = cur.fetchone()
        except adbc_pg.Error as exc:
            raise connection_failed(self.ref, exc, "read from") from None
        finally:
            cur.close()
        return int(row[0]) if row else 0

    def _select(self, table: str, cols: list[Column], batch_rows: int) -> Iterator[pa.Table]:
        sql = f"SELECT {', '.join(_select_expr(c) for c in cols)} FROM {self._from(table)}"
        return self._run(sql, table, cols)  # ADBC picks its own batch size

    def sample(self, table: str, n: int) -> pd.DataFrame:
        t = self.table(table)
        cols = [t.column(c) for c in t.column_names]
        step = max(1, self.count(table) // max(n, 1))
        order = ", ".join(q(c) for c in t.primary_key) or "ctid"
        sql = (
            f"SELECT {', '.join(_select_expr(c) for c in cols)} FROM (SELECT *, row_number() OVER (ORDER BY "
            f"{order}) - 1 AS sanitize_rn FROM {self._from(table)}) s WHERE sanitize_rn % {step} = 0 "
            f"ORDER BY sanitize_rn LIMIT {int(n)}"
        )
        return self._sample_frame(table, list(self._run(sql, table, cols)))

    def close(self) -> None:
        self._close_connection()


def csv_for_copy(data: pa.Table) -> bytes:
    """An Arrow table as CSV that `COPY ... (FORMAT csv)` reads back exactly (NULL unquoted, '' quoted)."""
    cols = []
    for col in data.columns:
        if pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type):
            col = hex_encode(col)
        cols.append(col)
    buf = io.BytesIO()
    pacsv.write_csv(
        pa.Table.from_arrays(cols, names=[str(i) for i in range(len(cols))]),
        buf,
        pacsv.WriteOptions(include_header=False, quoting_style="needed", batch_size=8192),
    )
    return buf.getvalue()


def advisory_key(ref: DatabaseRef) -> int:
    """The advisory-lock key of one target database (stable across processes)."""
    return zlib.crc32(f"sanitize:{ref.url.database}".encode()) - 2**31


def enum_copy(t: sa.types.TypeEngine, schema: str, cache: dict[tuple[str, str], Any]) -> Any:  # type: ignore[type-arg]
    """A PostgreSQL ENUM re-homed into `schema` (one object per name, so it is created once)."""
    if isinstance(t, postgresql.ENUM):
        key = (schema, t.name or "enum")
        if key not in cache:
            cache[key] = postgresql.ENUM(*t.enums, name=t.name, schema=schema, create_type=False)
        return cache[key]
    if isinstance(t, postgresql.DOMAIN):
        return t.data_type
    if isinstance(t, postgresql.ARRAY) and isinstance(t.item_type, postgresql.ENUM | postgresql.DOMAIN):
        return postgresql.ARRAY(enum_copy(t.item_type, schema, cache), dimensions=t.dimensions)
    return t
