"""Dump in, sanitised dump out: a stream, with the schema checked before anything is written.

`rewrite_dump` reads the input's schema first (all of its DDL) and calls `schema_check(schema)`;
only when that returns does it open the output. It then streams the dump: every byte that is
not row data is copied unchanged, row data is decoded in batches, handed to
`transform(table_key, frame)` and encoded again in the input's own format. The output is written
under a temporary name in the target directory and renamed when complete, so a failure (a bad
transform, a truncated or corrupt input, a full disk) leaves no output file at all.

Formats: PostgreSQL plain SQL (optionally gzip) and archives (`-Fc`/`-Fd`, written out as plain
SQL), and mysqldump files (optionally gzip). The output is gzip-compressed when its name ends in
`.gz`.

Statements that choose a database (`\\connect` in PostgreSQL dumps; `USE` and `CREATE DATABASE` in
mysqldump files made with `--databases`/`--all-databases`) are kept in the rewritten dump, because
the output must stay a faithful dump: restoring such a file with `psql`/`mariadb` writes into the
database it names, not into the one given on the command line. Load a rewritten dump with
`sanitize anonymize DUMP TARGET` (which ignores them) or strip them before restoring elsewhere.
"""

from __future__ import annotations

import gzip
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from sanitize.db.base import prefetch
from sanitize.db.reflect import OWNED_PREFIX
from sanitize.dumps import mysqldump, pgdump, pgtext
from sanitize.dumps.source import DumpFormat, detect_format, open_binary
from sanitize.errors import DumpError
from sanitize.schema import Schema, Table
from sanitize.sqlscan import ByteReader

log = logging.getLogger("sanitize")

Transform = Callable[[str, pd.DataFrame], "pd.DataFrame | None"]
SchemaCheck = Callable[[Schema], None]


@dataclass
class RewriteResult:
    """What a rewrite did: rows per table (as written), sizes and time."""

    output: Path
    format: DumpFormat
    schema: Schema
    rows: dict[str, int] = field(default_factory=dict)
    bytes_in: int = 0
    bytes_out: int = 0
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


class _CountingWriter:
    """Counts the bytes written through it."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.count = 0

    def write(self, b: bytes | memoryview) -> int:
        self._f.write(b)
        n = memoryview(b).nbytes
        self.count += n
        return n


@contextmanager
def atomic_output(out_path: Path, *, compress: bool | None = None) -> Iterator[BinaryIO]:
    """A binary file that appears at `out_path` only when the block ends without an exception."""
    out_path = Path(out_path)
    if compress is None:
        compress = out_path.name.endswith(".gz")
    tmp = out_path.with_name(f".{out_path.name}.{uuid.uuid4().hex[:8]}.tmp")
    f = open(tmp, "wb", buffering=1 << 20)  # noqa: SIM115 - closed below
    committed = False
    try:
        if compress:
            with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=6, mtime=0) as gz:
                yield gz  # type: ignore[misc]
        else:
            yield f
        f.flush()
        os.fsync(f.fileno())
        f.close()
        os.replace(tmp, out_path)
        committed = True
    finally:
        if not committed:
            f.close()
            tmp.unlink(missing_ok=True)


class _PgRewrite(pgdump.PlainHandler):
    def __init__(self, out: BinaryIO, schema: Schema, transform: Transform, where: str) -> None:
        self.out = out
        self.schema = schema
        self.transform = transform
        self.where = where
        self.rows: dict[str, int] = {}

    def text(self, data: bytes) -> None:
        self.out.write(data)

    def copy(self, header: pgdump.CopyHeader, chunks: Iterator[bytes]) -> None:
        if header.key not in self.schema and (header.schema or "").startswith(OWNED_PREFIX):
            for chunk in chunks:  # sanitize's own bookkeeping (a dump of a database it made): as it was
                self.out.write(chunk)
            self.out.write(b"\\.\n")
            return
        if header.key not in self.schema:
            raise DumpError(
                f"{self.where}: line {header.line}: data for table {header.key}, "
                "which the dump's schema does "
                "not define; it cannot be checked against the rules, so nothing was written"
            )
        table = self.schema[header.key]
        n = self.rows.setdefault(header.key, 0)
        if not header.columns:  # a table without columns: rows carry no values
            for chunk in chunks:
                n += chunk.count(b"\n")
                self.out.write(chunk)
        else:
            n += self._rewrite_rows(header, table, chunks)
        self.rows[header.key] = n
        self.out.write(b"\\.\n")

    def _rewrite_rows(self, header: pgdump.CopyHeader, table: Table, chunks: Iterator[bytes]) -> int:
        """Transform and re-encode a COPY block's rows; the number of rows written.

        A background thread reads and decodes the next batch while this one is transformed and
        encoded (pyarrow and numpy release the GIL for most of the decoding).
        """
        where = f"{self.where}: table {header.key}: "
        written = 0
        frames = pgdump.iter_frames(chunks, table, header, self.where)
        for chunk, raw, df, typed in prefetch(lambda: frames, depth=1):
            out_df = self.transform(header.key, df)
            if out_df is None:  # the table's rows are not copied
                continue
            self.out.write(
                pgtext.encode_frame(out_df, header.columns, typed, raw, where=where, original=chunk)
            )
            written += len(out_df)
        return written


def _same_file(a: Path, b: Path) -> bool:
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def read_dump_schema(in_path: str | Path) -> Schema:
    """The schema a dump declares (what `schema_check` will be given)."""
    p = Path(in_path)
    fmt = detect_format(p)
    if fmt.startswith("pg_"):
        return pgdump.read_schema(p)[0]
    if fmt == "mysql":
        return mysqldump.read_schema(p)
    raise DumpError(f"{p}: CSV/Parquet directories are not dumps; open them with open_dump_source")


def rewrite_dump(
    in_path: str | Path,
    out_path: str | Path,
    transform: Transform,
    *,
    schema_check: SchemaCheck | None = None,
    chunk_bytes: int = pgdump.CHUNK_BYTES,
) -> RewriteResult:
    """Write a sanitised copy of a dump: `transform(table_key, frame) -> frame` on every batch of rows.

    - `schema_check(schema)` runs after the whole schema is read and before the output is created;
      raise from it (e.g. CoverageError) to stop with nothing written.
    - `transform` gets a pyarrow-backed DataFrame of one batch (columns in the dump's order, typed
      like a database read of the same column) and returns a frame with the same columns; values it
      leaves unchanged are written back byte for byte. Returning fewer rows (an index subset) drops
      those rows; returning None drops the whole batch (a skipped table keeps its DDL, no rows).
    - Raises DumpError for a truncated or corrupt input, naming the line and byte offset.
    """
    src, dst = Path(in_path), Path(out_path)
    if _same_file(src, dst) or src.resolve() == dst.resolve():
        raise DumpError(f"{dst}: the output would overwrite the input dump; choose another output path")
    if dst.is_dir():
        raise DumpError(f"{dst}: is a directory; give the path of the sanitised dump file to write")
    fmt = detect_format(src)
    started = time.perf_counter()
    if fmt in ("csv_dir", "parquet_dir"):
        raise DumpError(
            f"{src}: a directory of {fmt[:-4]} files; rewrite_dump takes a dump file "
            "(use the files module's write_table_dir to write exports)"
        )
    if fmt.startswith("pg_"):
        schema, _blocks = pgdump.read_schema(src)
    else:
        schema = mysqldump.read_schema(src)
    if schema_check is not None:
        schema_check(schema)
    result = RewriteResult(output=dst, format=fmt, schema=schema)
    with atomic_output(dst) as out:
        counter = _CountingWriter(out)
        sink: BinaryIO = counter  # type: ignore[assignment]
        if fmt == "pg_plain":
            handler = _PgRewrite(sink, schema, transform, str(src))
            with open_binary(src) as f:
                reader = ByteReader(f, str(src))
                pgdump.walk_plain(reader, handler, chunk_bytes=chunk_bytes, schema_lookup=_lookup(schema))
            result.rows, result.bytes_in = handler.rows, reader.offset
        elif fmt in ("pg_custom", "pg_directory"):
            handler = _PgRewrite(sink, schema, transform, str(src))
            with pgdump.pg_restore_stream(src) as stream:
                reader = ByteReader(stream, str(src))
                pgdump.walk_plain(reader, handler, chunk_bytes=chunk_bytes, schema_lookup=_lookup(schema))
            result.rows, result.bytes_in = handler.rows, reader.offset
        else:
            with open_binary(src) as f:
                reader = ByteReader(f, str(src))
                result.rows = mysqldump.rewrite_stream(reader, sink, schema, transform)
            result.bytes_in = reader.offset
        result.bytes_out = counter.count
    result.seconds = time.perf_counter() - started
    log.info(
        "%s -> %s: %d rows in %d tables rewritten in %.1fs",
        src,
        dst,
        result.total_rows,
        len(result.rows),
        result.seconds,
    )
    return result


def _lookup(schema: Schema) -> Callable[[str], tuple[str, ...] | None]:
    def columns(key: str) -> tuple[str, ...] | None:
        return schema[key].column_names if key in schema else None

    return columns
