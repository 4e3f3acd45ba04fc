"""The database layer: resolve a database, read it as Arrow, load a shadow copy, publish it atomically.

    ref = resolve("postgresql://app@db/prod")            # or "dev.db", or an environment name
    with open_source(ref) as src:                          # read-only, one snapshot
        with open_target(resolve("dev.db")).begin_load(src.schema) as load:
            for key in src.schema.load_order():
                for batch in src.read_batches(key):
                    load.write(key, transform(batch))
            load.finish()                                  # constraints, indexes, sequences, the gate
            load.publish()                                 # atomic; any failure before leaves the old data

SQLite, PostgreSQL and MySQL/MariaDB are sources and targets in every combination.
"""

from __future__ import annotations

from sanitize.db.base import Load, Source, Target
from sanitize.db.refs import DatabaseRef, resolve
from sanitize.errors import UrlError

__all__ = ["DatabaseRef", "Load", "Source", "Target", "open_source", "open_target", "resolve"]


def open_source(ref: DatabaseRef) -> Source:
    """Open `ref` read-only (a context manager); its schema is reflected once, here."""
    if ref.dialect == "sqlite":
        from sanitize.db.sqlite import SqliteSource

        return SqliteSource(ref)
    if ref.dialect == "postgresql":
        from sanitize.db.postgres import PostgresSource

        return PostgresSource(ref)
    if ref.dialect == "mysql":
        from sanitize.db.mysql import MysqlSource

        return MysqlSource(ref)
    raise UrlError(f"{ref.display}: unsupported database kind {ref.dialect!r}")


def open_target(ref: DatabaseRef, *, init_target: bool = False) -> Target:
    """A target to load into; nothing is written until `begin_load`.

    Every engine replaces only what sanitize made. `init_target` adopts a SQLite file sanitize did not
    make: the tables a load writes are replaced, every other table is kept (see db/sqlite_owner.py);
    a server target refuses objects it did not create in what it replaces either way.
    """
    if ref.dialect == "sqlite":
        from sanitize.db.sqlite import SqliteTarget

        return SqliteTarget(ref, init_target=init_target)
    if ref.dialect == "postgresql":
        from sanitize.db.pg_target import PostgresTarget

        return PostgresTarget(ref)
    if ref.dialect == "mysql":
        from sanitize.db.my_target import MysqlTarget

        return MysqlTarget(ref)
    raise UrlError(f"{ref.display}: unsupported database kind {ref.dialect!r}")
