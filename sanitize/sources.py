"""What a source and a target are, and where every command opens them.

A SOURCE is read-only: a database (SQLAlchemy URL, SQLite file path, environment name of
`sanitize.yaml`), a dump file (pg_dump plain / `-Fc` / `-Fd`, mysqldump, optionally gzip) or a
directory of CSV/Parquet exports. Every kind offers the one `Source` protocol below, so `anonymize`,
`check`, `preview`, `scan`, `verify`, `profile`, `diff`, `synth --schema-from` and `sanitize.connect`
accept every kind of source alike.

A TARGET is a database, a `csv:DIR` / `parquet:DIR` export directory, or a `.sql`/`.sql.gz` path
(a sanitised dump, which only a dump source can produce).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pandas as pd
import pyarrow as pa

from sanitize.db import DatabaseRef, resolve
from sanitize.schema import Schema

if TYPE_CHECKING:
    from sanitize.dumps.files import FileDirTarget

__all__ = [
    "Source",
    "SourceRef",
    "Target",
    "TargetSpec",
    "is_dump_path",
    "open_source",
    "open_target",
    "resolve_target",
]


class SourceRef(Protocol):
    """Where a source is: `display` for messages (no password), `dialect`, and `identity` (equal
    identities are the same database, so a target equal to its source is refused)."""

    @property
    def display(self) -> str: ...
    @property
    def dialect(self) -> str: ...
    @property
    def identity(self) -> tuple[object, ...]: ...


class Source(Protocol):
    """A source opened read-only: a database (`sanitize.db`) or a dump/export (`sanitize.dumps`)."""

    schema: Schema

    @property
    def ref(self) -> SourceRef: ...
    @property
    def display(self) -> str: ...
    def count(self, table: str) -> int: ...
    def read_arrow(
        self, table: str, batch_size: int = ..., columns: list[str] | None = ...
    ) -> Iterator[pa.Table]: ...
    def read_batches(
        self, table: str, batch_size: int = ..., columns: list[str] | None = ...
    ) -> Iterator[pd.DataFrame]: ...
    def sample(self, table: str, n: int) -> pd.DataFrame: ...
    def close(self) -> None: ...


class Target(Protocol):
    """What a load writes into: a database (`sanitize.db.Target`) or an export directory
    (`sanitize.dumps.FileDirTarget`). Nothing is written until `begin_load`; a load publishes atomically."""

    @property
    def display(self) -> str: ...
    def begin_load(self, schema: Schema, *, tables: Sequence[str] | None = None) -> Any: ...
    def published_schema(self) -> Schema | None: ...
    def close(self) -> None: ...


def is_dump_path(spec: str) -> bool:
    """True when `spec` names a dump file or export directory rather than a database."""
    from sanitize.dumps import is_dump_path as dump_path

    return dump_path(spec)


@contextlib.contextmanager
def open_source(spec: str | Path | Any, environments: Mapping[str, str] | None = None) -> Iterator[Source]:
    """Open a source read-only for the `with` block: a spec (URL, SQLite path, environment name, dump
    file or export directory), a `DatabaseRef`, or an already open source (handed back, left open)."""
    if isinstance(spec, DatabaseRef):
        from sanitize.db import open_source as open_db

        with open_db(spec) as db:
            yield db
        return
    if not isinstance(spec, str | Path):
        yield spec  # an open source: its owner closes it
        return
    text = str(spec)
    if is_dump_path(text):
        from sanitize.dumps import open_dump_source

        with open_dump_source(text) as dump:
            yield dump
        return
    from sanitize.db import open_source as open_db

    with open_db(resolve(text, environments=environments)) as db:
        yield db


@dataclass(frozen=True)
class TargetSpec:
    """What a TARGET names, before anything is opened or written.

    `kind` is "db" (a database: `ref`), "files" (a csv:/parquet: directory: `files`) or "dump" (a
    sanitised `.sql`/`.sql.gz` output: `path`)."""

    kind: Literal["db", "files", "dump"]
    display: str
    dialect: str | None = None
    ref: DatabaseRef | None = None
    files: FileDirTarget | None = None
    path: Path | None = None

    @property
    def identity(self) -> tuple[object, ...]:
        return self.ref.identity if self.ref is not None else ()


def resolve_target(target: str | Path | Any, environments: Mapping[str, str] | None = None) -> TargetSpec:
    """What a TARGET names: `csv:DIR` and `parquet:DIR` export one file per table; a `.sql`/`.sql.gz`
    path is a sanitised dump; anything else is a database URL, SQLite path or environment name (or an
    already made `DatabaseRef` / `FileDirTarget`)."""
    from sanitize.dumps.files import FileDirTarget

    if isinstance(target, DatabaseRef):
        return TargetSpec("db", target.display, target.dialect, ref=target)
    if isinstance(target, FileDirTarget):
        return TargetSpec("files", target.display, files=target)
    text = str(target)
    for fmt in ("csv", "parquet"):
        if text.startswith(f"{fmt}:") and not text.startswith(f"{fmt}://"):
            files = FileDirTarget(text[len(fmt) + 1 :], fmt)  # type: ignore[arg-type]
            return TargetSpec("files", files.display, files=files)
    if "://" not in text and text.lower().endswith((".sql", ".sql.gz")):
        return TargetSpec("dump", text, path=Path(text))
    ref = resolve(text, environments=environments)
    return TargetSpec("db", ref.display, ref.dialect, ref=ref)


@contextlib.contextmanager
def open_target(
    target: str | Path | TargetSpec | Any,
    environments: Mapping[str, str] | None = None,
    *,
    init_target: bool = False,
) -> Iterator[Target]:
    """A target to load into, for the `with` block; nothing is written until `begin_load`.

    A sanitised dump is no target to load into: `sanitize.pipeline.anonymize` writes it from a dump
    source (see resolve_target). `init_target` adopts a SQLite file sanitize did not make."""
    from sanitize.errors import BadInputError

    spec = target if isinstance(target, TargetSpec) else resolve_target(target, environments)
    if spec.files is not None:
        with spec.files as files:
            yield files
        return
    if spec.ref is None:
        raise BadInputError(
            f"{spec.display}: a .sql target is a sanitised dump, written by `sanitize anonymize` from a "
            "dump SOURCE; name a database or a csv:/parquet: directory to load into"
        )
    from sanitize.db import open_target as open_db_target

    with open_db_target(spec.ref, init_target=init_target) as tgt:
        yield tgt
