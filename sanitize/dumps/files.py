"""A directory of CSV or Parquet files, one per table, as a source or as a target.

File names are table keys: `customers.parquet`, `sales.orders.csv` (or `.csv.gz`).

- Parquet carries its own schema (column types from the Arrow schema).
- CSV carries only column names: pass the schema (from the database the files came from,
  `--schema-from`, or a schema file) to get typed columns; without one every column is text.
  CSV follows PostgreSQL's convention: an unquoted empty field is NULL, `""` is the empty string;
  binary values are written as `\\x` hex.

As a target (`FileDirTarget`), files are written into a hidden directory next to the destination
and moved into place by `publish()`, so a failed run leaves the previous export as it was. An
existing destination is replaced only when sanitize wrote it (it holds a `.sanitize-export`
marker); any other non-empty directory is refused.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from sanitize.arrow import kind_of_arrow
from sanitize.db.base import Prepared
from sanitize.db.types import arrow_type, batch_to_arrow, to_pandas
from sanitize.defaults import DEFAULT_BATCH
from sanitize.dumps import pgtext
from sanitize.dumps.source import DumpSource
from sanitize.errors import DumpError, LoadError, TargetRefusedError
from sanitize.schema import Column, Schema, Table

log = logging.getLogger("sanitize")

FileFormat = Literal["csv", "parquet"]
MARKER = ".sanitize-export"
_SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".csv.gz": "csv"}


def _table_files(path: Path) -> dict[str, tuple[Path, FileFormat]]:
    files: dict[str, tuple[Path, FileFormat]] = {}
    for p in sorted(path.iterdir()):
        if not p.is_file() or p.name.startswith("."):
            continue
        for suffix, fmt in _SUFFIXES.items():
            if p.name.lower().endswith(suffix):
                key = p.name[: -len(suffix)]
                if key in files:
                    raise DumpError(f"{path}: table {key!r} has two files ({files[key][0].name}, {p.name})")
                files[key] = (p, fmt)  # type: ignore[assignment]
    return files


def _split_key(key: str) -> tuple[str | None, str]:
    schema, _, name = key.rpartition(".")
    return (schema or None), name


class FileDirSource(DumpSource):
    """A directory of `<table>.csv` / `<table>.parquet` files as a read-only source."""

    def __init__(self, path: Path, *, schema: Schema | None = None) -> None:
        self.path = Path(path)
        self.display = str(self.path)
        self._files = _table_files(self.path)
        if not self._files:
            raise DumpError(f"{self.path}: no .csv or .parquet files (one per table) in this directory")
        tables: dict[str, Table] = {}
        for key, (file, fmt) in self._files.items():
            if schema is not None and key in schema:
                tables[key] = schema[key]
                continue
            if schema is not None:
                raise DumpError(f"{file}: table {key!r} is not in the schema given for these files")
            tables[key] = self._infer(key, file, fmt)
        self.schema = Schema(tables, dialect=schema.dialect if schema is not None else None)
        self._dialect = self.schema.dialect or "generic"

    def _infer(self, key: str, file: Path, fmt: FileFormat) -> Table:
        schema_name, name = _split_key(key)
        if fmt == "parquet":
            arrow_schema = pq.read_schema(file)
            cols = []
            for f in arrow_schema:
                kind, extra = kind_of_arrow(f.type)
                cols.append(Column(f.name, kind, nullable=f.nullable, **extra))
            rows = pq.ParquetFile(file).metadata.num_rows
            return Table(key, name, schema_name, tuple(cols), row_estimate=rows)
        with pcsv.open_csv(file, read_options=pcsv.ReadOptions(block_size=1 << 16)) as reader:
            names = reader.schema.names
        log.info("%s: no schema given for CSV files; the columns of %s are read as text", self.display, key)
        return Table(key, name, schema_name, tuple(Column(n, "text") for n in names))

    def count(self, table: str) -> int:
        self.table(table)
        file, fmt = self._files[table]
        if fmt == "parquet":
            return int(pq.ParquetFile(file).metadata.num_rows)
        return sum(len(b) for b in self._csv_batches(table, 1 << 16, []))

    def read_batches(
        self, table: str, batch_size: int = DEFAULT_BATCH, columns: list[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        t = self.table(table)
        cols = list(t.column_names) if columns is None else list(columns)
        unknown = [c for c in cols if c not in t.column_names]
        if unknown:
            raise DumpError(
                f"{table} has no column(s) {', '.join(unknown)} (columns: {', '.join(t.column_names)})"
            )
        file, fmt = self._files[table]
        if fmt == "parquet":
            pf = pq.ParquetFile(file)
            for batch in pf.iter_batches(batch_size=batch_size, columns=cols or None):
                yield to_pandas(pa.Table.from_batches([batch]).select(cols))
            return
        yield from self._csv_batches(table, batch_size, cols)

    def _csv_batches(self, table: str, batch_size: int, cols: list[str]) -> Iterator[pd.DataFrame]:
        from sanitize.db.base import rechunk

        t = self.table(table)
        file, _fmt = self._files[table]
        try:
            with pcsv.open_csv(
                file,
                read_options=pcsv.ReadOptions(block_size=1 << 22),
                parse_options=pcsv.ParseOptions(newlines_in_values=True),
                convert_options=pcsv.ConvertOptions(
                    column_types=dict.fromkeys(t.column_names, pa.large_string()),
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,
                    include_columns=cols or None,
                ),
            ) as reader:
                for chunk in rechunk(reader, batch_size):
                    if not cols:
                        yield pd.DataFrame(index=pd.RangeIndex(chunk.num_rows))
                        continue
                    arrays = [self._typed(chunk.column(c), t.column(c), file) for c in cols]
                    yield to_pandas(pa.Table.from_arrays(arrays, names=cols))
        except pa.ArrowInvalid as exc:
            raise DumpError(f"{file}: not a readable CSV file for table {table}: {exc}") from None

    def _typed(self, text: pa.ChunkedArray, column: Column, file: Path) -> pa.Array | pa.ChunkedArray:
        if column.kind == "boolean":
            lowered = pc.utf8_lower(text)
            mapped = pc.replace_substring_regex(
                pc.replace_substring_regex(lowered, "^(t|true|1|yes)$", "t"), "^(f|false|0|no)$", "f"
            )
            return pgtext.to_typed(mapped, column, "postgresql")
        typed = pgtext.to_typed(text, column, self._dialect)
        target = arrow_type(column, self._dialect)
        if typed.type != target and text.null_count < len(text):
            raise DumpError(
                f"{file}: column {column.name} holds values that are not {column.kind} "
                f"(expected {target}); fix "
                "the file or the schema given for it"
            )
        return typed


# --- target ---------------------------------------------------------------------------------


def _csv_ready(table: pa.Table) -> pa.Table:
    """Binary columns as `\\x` hex text (CSV has no bytes)."""
    cols = []
    for col in table.columns:
        if pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type):
            col = pgtext.bytea_to_text(col)
        cols.append(col)
    return pa.Table.from_arrays(cols, names=table.column_names)


class FileDirLoad:
    """One export into a hidden directory; `publish()` moves it to the destination."""

    def __init__(self, target: FileDirTarget, schema: Schema, tables: Sequence[str]) -> None:
        self.target = target
        self.schema = schema
        self.tables = list(tables)
        self.written: dict[str, int] = dict.fromkeys(self.tables, 0)
        self.state = "loading"
        dest = target.path
        self.shadow = dest.with_name(f".{dest.name}.sanitize-shadow-{uuid.uuid4().hex[:8]}")
        self.shadow.mkdir(parents=False)
        (self.shadow / MARKER).write_text("written by sanitize; replaced by the next export\n")
        self._writers: dict[str, Any] = {}
        self._types = {k: [arrow_type(c, "generic") for c in schema[k].columns] for k in self.tables}

    def _file(self, key: str) -> Path:
        return self.shadow / f"{key}.{self.target.format}"

    def write(self, table: str, batch: pd.DataFrame) -> None:
        self.write_prepared(self.prepare(table, batch))

    def prepare(self, table: str, batch: pd.DataFrame) -> Prepared:
        """Cast (and for CSV, hex-encode binary); no side effects, so it may run on worker threads."""
        if table not in self.written:
            raise LoadError(f"{table} is not part of this export (tables: {', '.join(self.tables)})")
        data = batch_to_arrow(batch, self.schema[table], self._types[table])
        if self.target.format != "parquet":
            data = _csv_ready(data)
        return Prepared(table, data.num_rows, data)

    def write_prepared(self, prepared: Prepared) -> None:
        if self.state != "loading":
            raise LoadError(f"cannot write to an export that is {self.state}")
        table, data = prepared.table, prepared.payload
        writer = self._writers.get(table)
        if writer is None:
            make = pq.ParquetWriter if self.target.format == "parquet" else pcsv.CSVWriter
            writer = self._writers[table] = make(self._file(table), data.schema)
        writer.write_table(data)
        self.written[table] += prepared.rows

    def finish(self) -> None:
        if self.state != "loading":
            raise LoadError(f"cannot finish an export that is {self.state}")
        try:
            for key in self.tables:
                if key not in self._writers:  # an empty table still gets its file
                    empty = pa.Table.from_arrays(
                        [pa.array([], type=t) for t in self._types[key]],
                        names=list(self.schema[key].column_names),
                    )
                    if self.target.format == "parquet":
                        pq.write_table(empty, self._file(key))
                    else:
                        pcsv.write_csv(_csv_ready(empty), self._file(key))
            for w in self._writers.values():
                w.close()
            self._writers.clear()
        except BaseException:
            self.abort()
            raise
        self.state = "finished"

    def source(self) -> FileDirSource:
        """The unpublished export, read back (after finish)."""
        return FileDirSource(self.shadow, schema=self.schema)

    def publish(self) -> None:
        if self.state != "finished":
            raise LoadError(f"cannot publish an export that is {self.state} (finish it first)")
        dest = self.target.path
        old = None
        try:
            self.target.check_replaceable()
            if dest.exists():
                old = dest.with_name(f".{dest.name}.sanitize-old-{uuid.uuid4().hex[:8]}")
                dest.rename(old)
            self.shadow.rename(dest)
        except BaseException:
            if old is not None and not dest.exists():
                old.rename(dest)
            self.abort()
            raise
        self.state = "published"
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        if self.state in ("published", "aborted"):
            return
        self.state = "aborted"
        for w in self._writers.values():
            with contextlib.suppress(Exception):  # closing a half-written file while giving up
                w.close()
        shutil.rmtree(self.shadow, ignore_errors=True)

    def __enter__(self) -> FileDirLoad:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.state != "published":
            self.abort()


class FileDirTarget:
    """A directory to export tables into, as CSV or Parquet files (one per table)."""

    def __init__(self, path: str | Path, format: FileFormat = "parquet") -> None:
        self.path = Path(path)
        if format not in ("csv", "parquet"):
            raise DumpError(f"{path}: unknown export format {format!r}; use csv or parquet")
        self.format: FileFormat = format
        self.display = str(self.path)
        if not self.path.parent.is_dir():
            raise DumpError(f"{self.path}: its parent directory does not exist")

    def check_replaceable(self) -> None:
        """Refuse to replace a directory sanitize did not write (or a file)."""
        p = self.path
        if not p.exists():
            return
        if not p.is_dir():
            raise TargetRefusedError(
                f"{p}: exists and is not a directory; choose a new directory for the export"
            )
        if any(p.iterdir()) and not (p / MARKER).exists():
            raise TargetRefusedError(
                f"{p}: a non-empty directory that sanitize did not write; it will not be replaced. "
                "Choose a new or "
                "empty directory"
            )

    def begin_load(self, schema: Schema, *, tables: Sequence[str] | None = None) -> FileDirLoad:
        self.check_replaceable()
        return FileDirLoad(self, schema, schema.load_order(tables))

    def published_schema(self) -> Schema | None:
        """None: a directory of exports is written, never read back as a schema."""
        return None

    def close(self) -> None:
        """Nothing is held open between loads."""

    def __enter__(self) -> FileDirTarget:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_table_dir(
    path: str | Path,
    source: DumpSource | Any,
    transform: Any = None,
    *,
    format: FileFormat = "parquet",
    tables: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> dict[str, int]:
    """Export tables of `source` (any source) into a CSV/Parquet directory, atomically; rows per table.

    `transform(table_key, frame) -> frame` is applied to every batch when given.
    """
    target = FileDirTarget(path, format)
    with target.begin_load(source.schema, tables=tables) as load:
        for key in load.tables:
            for batch in source.read_batches(key, batch_size=batch_size):
                load.write(key, transform(key, batch) if transform is not None else batch)
        load.finish()
        load.publish()
        return dict(load.written)
