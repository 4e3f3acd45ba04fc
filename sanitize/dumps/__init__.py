"""Production dumps and file exports as sources, and dump -> sanitised dump as a stream.

- `open_dump_source(path)` opens a pg_dump file (plain, gzip, `-Fc`, `-Fd`), a mysqldump file or a
  directory of CSV/Parquet files as a read-only source with the same interface as a database
  source (`schema`, `read_batches`, `count`, `sample`, `close`, `display`).
- `is_dump_path(spec)` tells a dump path from a database URL.
- `rewrite_dump(in, out, transform, schema_check=...)` writes a sanitised dump in the input's format.
- `FileDirTarget(path, "csv" | "parquet")` is a target with the same load cycle as a database
  target (`begin_load` -> `write` -> `finish` -> `publish`); `write_table_dir(...)` drives it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sanitize.dumps.files import FileDirSource, FileDirTarget, write_table_dir
    from sanitize.dumps.rewrite import RewriteResult, read_dump_schema, rewrite_dump
    from sanitize.dumps.source import DumpRef, DumpSource, detect_format, is_dump_path, open_dump_source

# imported on first use: telling a dump path from a database URL must not load the dump parsers
_HOME = {
    "DumpRef": "source",
    "DumpSource": "source",
    "detect_format": "source",
    "is_dump_path": "source",
    "open_dump_source": "source",
    "FileDirSource": "files",
    "FileDirTarget": "files",
    "write_table_dir": "files",
    "RewriteResult": "rewrite",
    "read_dump_schema": "rewrite",
    "rewrite_dump": "rewrite",
}

__all__ = [
    "DumpRef",
    "DumpSource",
    "FileDirSource",
    "FileDirTarget",
    "RewriteResult",
    "detect_format",
    "is_dump_path",
    "open_dump_source",
    "read_dump_schema",
    "rewrite_dump",
    "write_table_dir",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"sanitize.dumps.{_HOME[name]}"), name)
    globals()[name] = value
    return value
