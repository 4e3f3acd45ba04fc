"""A dump file or a directory of exports, seen as a database source; format detection.

Every source here offers what a database source offers the pipeline: `.schema`, `.read_batches`,
`.count`, `.sample`, `.close`, a `display` string, and use as a context manager. Reading never
holds more than a batch in memory.
"""

from __future__ import annotations

import gzip
import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import pandas as pd
import pyarrow as pa

from sanitize.defaults import DEFAULT_BATCH
from sanitize.errors import DumpError
from sanitize.schema import Schema, Table

log = logging.getLogger("sanitize")

DumpFormat = Literal["pg_plain", "pg_custom", "pg_directory", "mysql", "csv_dir", "parquet_dir"]

GZIP_MAGIC = b"\x1f\x8b"
PGDMP_MAGIC = b"PGDMP"
_PG_HINTS = (b"-- PostgreSQL database dump", b"pg_catalog.", b"COPY ", b"SET search_path", b"\\connect")
_MY_HINTS = (
    b"-- MySQL dump",
    b"-- MariaDB dump",
    b"/*!40101",
    b"LOCK TABLES `",
    b"ENGINE=",
    b"INSERT INTO `",
)


@dataclass(frozen=True)
class DumpRef:
    """Where a dump is, shaped like `sanitize.db.DatabaseRef` where the pipeline reads it.

    `identity` matches the identity a SQLite target at the same path would have, so a run that
    names the dump file itself as its target is refused by the same-database guard.
    """

    display: str
    path: Path
    dialect: str
    identity: tuple[object, ...]

    @classmethod
    def for_path(cls, path: Path, dialect: str) -> DumpRef:
        return cls(display=str(path), path=path, dialect=dialect, identity=("sqlite", os.path.realpath(path)))


class DumpSource:
    """Base of every dump/file source: the database-source interface over a file."""

    schema: Schema
    display: str

    @property
    def ref(self) -> DumpRef:
        """Where this source is (`ref.display` is what messages and reports call it)."""
        return DumpRef.for_path(Path(self.display), self.schema.dialect or "generic")

    def table(self, key: str) -> Table:
        return self.schema.table(key, f"{self.display}: this dump", DumpError)

    def columns_of(self, table: str, columns: list[str] | None) -> list[str]:
        """The columns to read (all when None); DumpError naming any the table lacks."""
        return self.table(table).selected(columns, DumpError)

    def read_batches(
        self, table: str, batch_size: int = DEFAULT_BATCH, columns: list[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        raise NotImplementedError

    def read_arrow(
        self, table: str, batch_size: int = DEFAULT_BATCH, columns: list[str] | None = None
    ) -> Iterator[pa.Table]:
        """The batches of read_batches as Arrow tables (their columns are Arrow-backed already)."""
        for frame in self.read_batches(table, batch_size, columns):
            yield pa.Table.from_pandas(frame, preserve_index=False)

    def count(self, table: str) -> int:
        return sum(len(b) for b in self.read_batches(table, columns=[]))

    def sample(self, table: str, n: int) -> pd.DataFrame:
        """The first `n` rows of a table (a dump has no cheap random access)."""
        frames: list[pd.DataFrame] = []
        got = 0
        for batch in self.read_batches(table, batch_size=max(1, min(n, 65_536))):
            frames.append(batch.iloc[: n - got])
            got += len(frames[-1])
            if got >= n:
                break
        if not frames:
            return self._empty_frame(table)
        return pd.concat(frames, ignore_index=True)

    def _empty_frame(self, table: str) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in self.table(table).column_names})

    def close(self) -> None:
        """Nothing stays open between calls; subclasses with resources override this."""

    def __enter__(self) -> DumpSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.display!r})"


def rebatch_frames(frames: Iterator[pd.DataFrame], batch_size: int) -> Iterator[pd.DataFrame]:
    """`frames` cut and joined into frames of exactly `batch_size` rows (the last may be shorter)."""
    pending: list[pd.DataFrame] = []
    have = 0
    for df in frames:
        start = 0
        while start < len(df):
            take = min(batch_size - have, len(df) - start)
            pending.append(df.iloc[start : start + take])
            have += take
            start += take
            if have == batch_size:
                out = (
                    pd.concat(pending, ignore_index=True)
                    if len(pending) > 1
                    else pending[0].reset_index(drop=True)
                )
                yield out
                pending, have = [], 0
    if pending:
        yield pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0].reset_index(drop=True)


def open_binary(path: Path) -> BinaryIO:
    """The file's bytes, gunzipped when it is gzip (by magic number, not by name)."""
    f = open(path, "rb")  # noqa: SIM115 - handed to the caller
    head = f.read(2)
    f.seek(0)
    if head == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=f, mode="rb")  # type: ignore[return-value]
    return f


def _head(path: Path, n: int = 1 << 16) -> bytes:
    """Up to `n` bytes from the start (what could be read, for a damaged gzip file)."""
    got = b""
    with open_binary(path) as f:
        try:
            while len(got) < n:
                piece = f.read(min(4096, n - len(got)))
                if not piece:
                    break
                got += piece
        except (OSError, EOFError, zlib.error) as exc:
            if not got:
                raise DumpError(
                    f"{path}: cannot read the start of the file ({exc}); it is truncated or corrupt"
                ) from None
    return got


def detect_format(path: str | Path) -> DumpFormat:
    """Which kind of dump or export `path` is; DumpError when it is none of them."""
    p = Path(path)
    if p.is_dir():
        if (p / "toc.dat").is_file():
            return "pg_directory"
        names = [q.name.lower() for q in p.iterdir() if q.is_file()]
        if any(n.endswith(".parquet") for n in names):
            return "parquet_dir"
        if any(n.endswith((".csv", ".csv.gz")) for n in names):
            return "csv_dir"
        raise DumpError(
            f"{p}: a directory, but neither a pg_dump -Fd directory (toc.dat) nor a directory of .csv or "
            ".parquet files (one per table)"
        )
    if not p.is_file():
        raise DumpError(f"{p}: no such file or directory")
    with open(p, "rb") as f:
        magic = f.read(5)
    if magic == PGDMP_MAGIC:
        return "pg_custom"
    head = _head(p)
    if head.startswith(PGDMP_MAGIC):
        raise DumpError(f"{p}: a gzip-compressed pg_dump custom-format file; gunzip it first")
    pg = sum(head.count(h) for h in _PG_HINTS)
    my = sum(head.count(h) for h in _MY_HINTS)
    if b"-- PostgreSQL database dump" in head or (pg and pg >= my):
        return "pg_plain"
    if my:
        return "mysql"
    raise DumpError(
        f"{p}: not a recognised dump: expected a pg_dump file (plain SQL, -Fc custom or -Fd directory), a "
        "mysqldump file (optionally gzip-compressed), or a directory of CSV/Parquet files"
    )


_DUMP_SUFFIXES = (".sql", ".sql.gz", ".dump", ".pgdump", ".dump.gz")


def is_dump_path(spec: str) -> bool:
    """True when `spec` names a dump file or export directory rather than a database.

    By name (`.sql`, `.sql.gz`, `.dump`) or by content (`PGDMP` magic, a `toc.dat` directory, a
    directory of `.csv`/`.parquet` files). A URL (`scheme://`) or a SQLite file is never a dump.
    """
    if "://" in spec:
        return False
    p = Path(spec)
    if p.is_dir():
        try:
            detect_format(p)
        except DumpError:
            return False
        return True
    if p.name.lower().endswith(_DUMP_SUFFIXES):
        return True
    if p.is_file():
        with open(p, "rb") as f:
            head = f.read(16)
        if head.startswith(PGDMP_MAGIC) or head.startswith(GZIP_MAGIC):
            return True
    return False


def open_dump_source(path: str | Path, *, schema: Schema | None = None) -> DumpSource:
    """Open a dump or export directory as a read-only source.

    `schema` is needed for a directory of CSV files (column types do not live in CSV); take it
    from a database (`--schema-from`) or a schema file. Dumps carry their own schema.
    """
    from sanitize.dumps import files, mysqldump, pgdump

    fmt = detect_format(path)
    p = Path(path)
    if fmt == "pg_plain":
        return pgdump.PlainDumpSource(p)
    if fmt in ("pg_custom", "pg_directory"):
        return pgdump.ArchiveDumpSource(p)
    if fmt == "mysql":
        return mysqldump.MysqlDumpSource(p)
    return files.FileDirSource(p, schema=schema)
