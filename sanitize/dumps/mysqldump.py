"""mysqldump / mariadb-dump files: the schema from `CREATE TABLE`, rows from multi-row `INSERT`s.

This module walks a dump (`walk_mysql`), reads one as a source (`MysqlDumpSource`, `read_schema`)
and streams one through a transform (`rewrite_stream`). The parts it builds on:
- `mysqlddl`: `CREATE TABLE` -> `Schema` (`mysql_column`, `SchemaBuilder`);
- `mysqlinsert`: where an INSERT ends, and its rows of literal tokens (`parse_insert`);
- `mysqltext`: literal tokens <-> typed columns (`decode_insert`, `encode_insert`).

A value the transform did not change is written back exactly as it was; an INSERT whose rows are
all unchanged is copied byte for byte.

Databases never redirect writes: a dump's `CREATE DATABASE`, `USE` (from `--databases` or
`--all-databases`) are ignored when the dump is a source (with a log line) and tables are keyed by
their bare name, so rows can only go to the target that was named. A dump holding two tables of
the same name in different databases is refused. In a rewritten dump those statements are kept
(see rewrite.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from sanitize.defaults import DEFAULT_BATCH
from sanitize.dumps.mysqlddl import META_TABLE, SchemaBuilder, mysql_column
from sanitize.dumps.mysqlinsert import (
    INSERT_START,
    InsertStatement,
    cut_off_error,
    insert_head,
    parse_insert,
    read_insert,
)
from sanitize.dumps.mysqltext import decode_column, decode_insert, encode_insert, literal
from sanitize.dumps.source import DumpSource, open_binary, rebatch_frames
from sanitize.errors import DumpError
from sanitize.schema import Schema, Table
from sanitize.sqlscan import ByteReader, StatementSplitter

__all__ = [
    "InsertStatement",
    "MysqlDumpSource",
    "MysqlHandler",
    "SchemaBuilder",
    "decode_column",
    "decode_insert",
    "encode_insert",
    "literal",
    "mysql_column",
    "parse_insert",
    "read_insert",
    "read_schema",
    "rewrite_stream",
    "scan",
    "walk_mysql",
]

# --- walking a dump -------------------------------------------------------------------------


class MysqlHandler:
    """Receives a mysqldump's parts in order."""

    def text(self, data: bytes) -> None:
        """Bytes that are not row data, exactly as in the file."""

    def statement(self, sql: str, line: int) -> None:
        """A complete non-INSERT statement (comments removed)."""

    def insert(self, stmt: InsertStatement, offset: int) -> None:
        """One INSERT statement (`offset`: where it starts in the stream)."""

    def insert_bytes(
        self, raw: bytes, line: int, offset: int, where: str, lookup: Callable[[str], tuple[str, ...] | None]
    ) -> None:
        """One INSERT statement as written; the default parses it and calls `insert`."""
        self.insert(parse_insert(raw, line, where, lookup), offset)


def walk_mysql(
    reader: ByteReader, handler: MysqlHandler, lookup: Callable[[str], tuple[str, ...] | None]
) -> None:
    """Feed a mysqldump file to `handler`; DumpError when it is truncated or corrupt."""
    splitter = StatementSplitter("mysql")
    header_seen = complete_seen = False
    first = 0
    while True:
        line_no, offset = reader.line, reader.offset
        raw = reader.readline()
        if not raw:
            break
        if first < 5 and (raw.startswith(b"-- MySQL dump") or raw.startswith(b"-- MariaDB dump")):
            header_seen = True
        first += 1
        if not splitter.pending and INSERT_START.match(raw):
            handler.insert_bytes(read_insert(reader, raw), line_no, offset, reader.where, lookup)
            continue
        handler.text(raw)
        if raw.startswith(b"-- Dump completed"):
            complete_seen = True
        for stmt in splitter.feed(raw.decode("utf-8", "surrogateescape"), line_no):
            handler.statement(stmt, splitter.start_line or line_no)
    if splitter.pending:
        raise DumpError(
            f"{reader.where}: the statement starting at line {splitter.start_line} is cut off "
            "at the end of the "
            f"file (byte {reader.offset}): the dump is truncated. Take a complete dump; nothing was written."
        )
    if header_seen and not complete_seen:
        raise DumpError(
            f"{reader.where}: ends at byte {reader.offset} (line {reader.line}) without mysqldump's closing "
            "'-- Dump completed' line: the dump is truncated. Take a complete dump; nothing was written."
        )


# --- a dump as a source -----------------------------------------------------------------------


class _Scan(MysqlHandler):
    def __init__(self, where: str) -> None:
        self.builder = SchemaBuilder(where)
        self.inserts: dict[str, list[tuple[int, int]]] = {}  # table -> (offset, line) of each INSERT

    def statement(self, sql: str, line: int) -> None:
        self.builder.statement(sql, line)

    def insert_bytes(
        self, raw: bytes, line: int, offset: int, where: str, lookup: Callable[[str], tuple[str, ...] | None]
    ) -> None:
        """Where each INSERT is, by table; rows are parsed only when they are read."""
        _m, name = insert_head(raw, line, where)
        if not raw.rstrip().endswith(b";"):
            raise cut_off_error(where, line, name)
        self.inserts.setdefault(name, []).append((offset, line))

    def lookup(self, name: str) -> tuple[str, ...] | None:
        d = self.builder.tables.get(name)
        return None if d is None else tuple(c.name for c in d.columns if c.name not in d.generated)


def scan(path: Path) -> _Scan:
    s = _Scan(str(path))
    with open_binary(path) as f:
        walk_mysql(ByteReader(f, str(path)), s, s.lookup)
    return s


def read_schema(path: Path) -> Schema:
    """The schema of a mysqldump file (reads the whole file: it also checks it is complete)."""
    return scan(path).builder.build()


class MysqlDumpSource(DumpSource):
    """A mysqldump / mariadb-dump file (optionally gzip) as a read-only source."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.display = str(self.path)
        s = scan(self.path)
        self.schema = s.builder.build()
        self._inserts = s.inserts
        self._counts: dict[str, int] = {}

    def count(self, table: str) -> int:
        """Rows of a table (its INSERTs are parsed once to count them)."""
        t = self.table(table)
        if table not in self._counts:
            self._counts[table] = sum(stmt.nrows for stmt in self._statements(t))
        return self._counts[table]

    def _statements(self, t: Table) -> Iterator[InsertStatement]:
        spots = self._inserts.get(t.key, [])
        if not spots:
            return
        cols = tuple(c.name for c in t.columns)
        with open_binary(self.path) as f:
            f.seek(spots[0][0])
            reader = ByteReader(f, self.display, offset=spots[0][0], line=spots[0][1])
            for offset, line in spots:
                reader.skip_to(offset, line)
                raw = read_insert(reader, reader.readline())
                yield parse_insert(raw, line, self.display, lambda _n: cols)

    def read_batches(
        self, table: str, batch_size: int = DEFAULT_BATCH, columns: list[str] | None = None
    ) -> Iterator[pd.DataFrame]:

        t = self.table(table)
        if columns is not None:
            self.columns_of(table, columns)
        spots = self._inserts.get(table, [])
        if not spots:
            return

        def frames() -> Iterator[pd.DataFrame]:
            for stmt in self._statements(t):
                df, _typed, _raws = decode_insert(stmt, t, self.display)
                yield df if columns is None else df[list(columns)]

        yield from rebatch_frames(frames(), batch_size)


# --- a dump through a transform ---------------------------------------------------------------


class _Rewrite(MysqlHandler):
    def __init__(
        self,
        out: BinaryIO,
        schema: Schema,
        transform: Callable[[str, pd.DataFrame], pd.DataFrame | None],
        where: str,
    ) -> None:
        self.out = out
        self.schema = schema
        self.transform = transform
        self.where = where
        self.rows: dict[str, int] = {}

    def text(self, data: bytes) -> None:
        self.out.write(data)

    def insert_bytes(
        self, raw: bytes, line: int, offset: int, where: str, lookup: Callable[[str], tuple[str, ...] | None]
    ) -> None:
        if insert_head(raw, line, where)[1] == META_TABLE:  # sanitize's own bookkeeping: as it was
            self.out.write(raw)
            return
        super().insert_bytes(raw, line, offset, where, lookup)

    def insert(self, stmt: InsertStatement, offset: int) -> None:
        if stmt.key not in self.schema:
            raise DumpError(
                f"{self.where}: line {stmt.line}: rows for table {stmt.key}, which the dump's schema "
                "does not define; nothing was written"
            )
        table = self.schema[stmt.key]
        df, typed, raws = decode_insert(stmt, table, self.where)
        out_df = self.transform(stmt.key, df)
        if out_df is None:  # the table's rows are not copied
            return
        self.out.write(encode_insert(stmt, out_df, typed, raws, table))
        self.rows[stmt.key] = self.rows.get(stmt.key, 0) + len(out_df)


def rewrite_stream(
    reader: ByteReader,
    out: BinaryIO,
    schema: Schema,
    transform: Callable[[str, pd.DataFrame], pd.DataFrame | None],
) -> dict[str, int]:
    """Stream a mysqldump through `transform` into `out`; rows written per table."""
    handler = _Rewrite(out, schema, transform, reader.where)

    def lookup(name: str) -> tuple[str, ...] | None:
        return schema[name].column_names if name in schema else None

    walk_mysql(reader, handler, lookup)
    for key in schema.tables:
        handler.rows.setdefault(key, 0)
    return handler.rows
