"""`sanitize.connect` and `Connection`: an open, read-only source for notebooks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from sanitize import display
from sanitize.defaults import DEFAULT_BATCH
from sanitize.errors import BadInputError
from sanitize.schema import Schema
from sanitize.sources import Source, SourceRef, open_source


class Connection:
    """An open, read-only source (database or dump), for notebooks.

    Use it as a context manager, or call `close()`. Every API function that takes a source accepts it.

    >>> with sanitize.connect("sqlite:///prod.db") as db:
    ...     db.tables
    ...     db.sample("customers", 5)
    """

    def __init__(self, source: Source, stack: contextlib.ExitStack | None = None, spec: str = "") -> None:
        self._source = source
        self._stack = stack
        self._spec = spec
        self.closed = False

    # -- what sanitize.sources.open_source and the detector read --------------------------------
    @property
    def source(self) -> Source:
        """The underlying source object (sanitize.db or sanitize.dumps)."""
        self._require_open()
        return self._source

    @property
    def schema(self) -> Schema:
        """The reflected schema: tables, columns, keys."""
        return self.source.schema

    @property
    def ref(self) -> SourceRef:
        return self._source.ref

    @property
    def display(self) -> str:
        """Where this is, with any password masked."""
        return self._source.display

    def read_batches(
        self, table: str, batch_size: int = DEFAULT_BATCH, columns: Any = None
    ) -> Iterator[pd.DataFrame]:
        """Stream a table in batches (what the pipeline reads)."""
        self._require_table(table)
        return self.source.read_batches(table, batch_size=batch_size, columns=columns)

    def count(self, table: str) -> int:
        """Rows in a table."""
        self._require_table(table)
        return int(self.source.count(table))

    def sample(self, table: str, n: int = 1000) -> pd.DataFrame:
        """Up to `n` rows spread across the table (deterministic), as a DataFrame."""
        self._require_table(table)
        return self.source.sample(table, n)

    def head(self, table: str, n: int = 20) -> pd.DataFrame:
        """The first `n` rows of a table, in the order the pipeline reads them."""
        self._require_table(table)
        batch = next(iter(self.source.read_batches(table, batch_size=max(n, 1))), None)
        if batch is None:
            return pd.DataFrame({c: [] for c in self.schema[table].column_names})
        return batch.head(n)

    # -- for people ------------------------------------------------------------------------------
    @property
    def tables(self) -> list[str]:
        """Table keys (how rules name them), in the source's order."""
        return list(self.schema.tables)

    def describe(self, table: str | None = None) -> pd.DataFrame:
        """One row per column: table, column, kind, nullable, max_length, primary key, references."""
        tables = [self.schema[self._require_table(table)]] if table else list(self.schema.tables.values())
        rows = []
        for t in tables:
            refs = {
                c: f"{fk.ref_table}.{rc}"
                for fk in t.foreign_keys
                for c, rc in zip(fk.columns, fk.ref_columns, strict=True)
            }
            for c in t.columns:
                rows.append(
                    {
                        "table": t.key,
                        "column": c.name,
                        "kind": c.kind,
                        "nullable": c.nullable,
                        "max_length": c.max_length,
                        "primary_key": c.name in t.primary_key,
                        "unique": t.is_unique(c.name),
                        "references": refs.get(c.name),
                    }
                )
        return pd.DataFrame(rows)

    def close(self) -> None:
        """Close the source; safe to call twice."""
        if not self.closed and self._stack is not None:
            self._stack.close()
        self.closed = True

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return f"Connection({self.display}, closed)"
        return f"Connection({self.display}, {len(self.tables)} tables: {', '.join(self.tables)})"

    def _repr_html_(self) -> str:
        if self.closed:
            return display.caption_html(f"{self.display} (closed)")
        rows = [
            {
                "table": t.key,
                "columns": len(t.columns),
                "primary key": ", ".join(t.primary_key),
                "references": ", ".join(sorted({fk.ref_table for fk in t.foreign_keys})),
                "rows (estimate)": t.row_estimate,
            }
            for t in self.schema.tables.values()
        ]
        return display.table_html(pd.DataFrame(rows), caption=f"{self.display}: {len(rows)} table(s)")

    def _require_open(self) -> None:
        if self.closed:
            raise BadInputError(
                f"the connection to {self.display} is closed; open it again with sanitize.connect"
            )

    def _require_table(self, table: str) -> str:
        if table not in self.schema:
            raise BadInputError(
                f"table {table!r} is not in {self.display}; tables: {', '.join(self.tables) or 'none'}"
            )
        return table


def connect(
    url_or_env: str | Path,
    *,
    environments: Mapping[str, str] | None = None,
    config: str | Path | None = None,
) -> Connection:
    """Open a source read-only: a SQLAlchemy URL, a SQLite file, a dump file, or an environment name.

    Environment names come from `environments` (name -> URL) or from a `sanitize.yaml`: the one given
    as `config`, else the one in the working directory when the name is not a URL or a file.

    >>> db = sanitize.connect("sqlite:///prod.db")      # or "postgresql://app@db/prod", or "prod"
    >>> db.tables
    ['customers', 'orders', ...]
    >>> db.close()
    """
    spec = str(url_or_env)
    envs = dict(environments) if environments is not None else _environments_from_config(config)
    stack = contextlib.ExitStack()
    try:
        src = stack.enter_context(open_source(spec, envs))
    except BaseException:
        stack.close()
        raise
    return Connection(src, stack, spec)


def _environments_from_config(config: str | Path | None) -> dict[str, str] | None:
    """The environments of `config`; None lets `sanitize.db.resolve` use ./sanitize.yaml's."""
    from sanitize.config import load_config

    return load_config(config).environment_urls() if config is not None else None
