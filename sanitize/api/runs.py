"""`sanitize.anonymize`: the whole run (what `sanitize anonymize` runs) from a notebook or a script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sanitize.api.arguments import RulesLike, as_rules
from sanitize.api.connection import Connection
from sanitize.defaults import DEFAULT_BATCH
from sanitize.keys import SecretKey, load_key
from sanitize.pipeline import RunReport
from sanitize.pipeline import anonymize as run_anonymize


def anonymize(
    rules: RulesLike,
    source: Connection | str | Path | Any,
    target: str | Path | Any,
    *,
    key: SecretKey | None = None,
    batch_size: int = DEFAULT_BATCH,
    environments: dict[str, str] | None = None,
    init_target: bool = False,
    workers: int | None = None,
) -> RunReport:
    """Anonymise `source` into `target` atomically and return the run report (`.to_dict()`, `.write(path)`).

    `source` is a `Connection` (left open) or a spec (URL, SQLite file, environment name, dump file);
    `target` a database spec, `csv:DIR` / `parquet:DIR`, or a `.sql`/`.sql.gz` path for a sanitised dump
    of a dump source. Fails closed like the CLI: a `CoverageError`, `TargetRefusedError`, ... before a row
    is read; any later failure leaves the published target as it was.

    >>> report = sanitize.anonymize("rules/shop.yaml", "prod.db", "dev.db")
    >>> report.rows
    """
    src = source.source if isinstance(source, Connection) else source
    spec = str(src) if isinstance(src, Path) else src
    return run_anonymize(
        as_rules(rules),
        spec,
        str(target) if isinstance(target, Path) else target,
        key=key or load_key(),  # the API is an edge: it resolves the key and passes it down
        batch_size=batch_size,
        environments=environments,
        init_target=init_target,
        workers=workers,
    )
