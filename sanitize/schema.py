"""The schema model every stage shares: tables, columns, keys, as plain frozen dataclasses.

Reflection (db.py), dump parsing (dumps) and synthesis all produce or consume these. A table's
`key` is how rules name it: `table` in the default schema, `schema.table` elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

# Logical column kinds: what a strategy needs to know to produce a value that fits.
Kind = Literal[
    "text",
    "integer",
    "float",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "time",
    "json",
    "binary",
    "uuid",
    "other",
]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    nullable: bool = True
    max_length: int | None = None  # characters for text, bytes for binary
    precision: int | None = None
    scale: int | None = None
    default: str | None = None  # SQL text of the server default, if any
    autoincrement: bool = False
    timezone: bool = False  # datetime/time with time zone
    sql_type: Any = field(default=None, compare=False, hash=False)  # a SQLAlchemy TypeEngine, if known
    enum_values: tuple[str, ...] | None = None
    check_values: tuple[str, ...] | None = None  # from CHECK (col IN (...)) where readable
    check_range: tuple[float | None, float | None] | None = None  # from CHECK (col >= a AND col <= b)
    generated: str | None = None  # a generated column's expression, in its engine's SQL
    generated_stored: bool = True  # STORED (else VIRTUAL: SQLite and MySQL)


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    ref_table: str  # table key
    ref_columns: tuple[str, ...]
    name: str | None = None
    on_delete: str | None = None  # "CASCADE", "SET NULL", "SET DEFAULT" or "RESTRICT"; None: NO ACTION
    on_update: str | None = None


FK_ACTIONS = ("CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT")


def fk_action(text: object) -> str | None:
    """A referential action as sanitize keeps it: upper case, single spaces; None for NO ACTION."""
    if not isinstance(text, str):
        return None
    action = " ".join(text.upper().split())
    return action if action in FK_ACTIONS else None


@dataclass(frozen=True)
class Index:
    name: str | None
    columns: tuple[str, ...]
    unique: bool = False
    method: str | None = (
        None  # not a plain b-tree: "fulltext"/"spatial" (MySQL), "gin"/"gist"/... (PostgreSQL)
    )
    where: str | None = None  # a partial index's predicate, as its engine writes it (SQLite, PostgreSQL)
    # the index after its table name, as its engine writes it (PostgreSQL `USING gist (ip inet_ops) WHERE
    # ...`, a SQLite expression index `(lower(email))`): made again as written on the same engine
    definition: str | None = None
    requires: tuple[str, ...] = ()  # PostgreSQL extensions its operator classes come from (btree_gin, ...)


@dataclass(frozen=True)
class Check:
    """A table's CHECK constraint, as its source engine writes it."""

    name: str | None
    sqltext: str  # the condition without the CHECK keyword, in the source engine's SQL
    dialect: str | None = None  # the engine the SQL is written for: "postgresql", "mysql", "sqlite"


@dataclass(frozen=True)
class Table:
    key: str  # name used in rules: "table" or "schema.table"
    name: str  # bare table name
    schema: str | None = None
    columns: tuple[Column, ...] = ()
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    unique_constraints: tuple[tuple[str, ...], ...] = ()
    indexes: tuple[Index, ...] = ()
    row_estimate: int | None = None
    virtual: str | None = None  # SQLite: the CREATE VIRTUAL TABLE of a virtual table (FTS with its text)
    checks: tuple[Check, ...] = ()  # table CHECK constraints (column ones included), as the source has them

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.key} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def selected(self, columns: Iterable[str] | None, error: type[Exception] = KeyError) -> list[str]:
        """`columns` (all when None), or `error` naming those this table lacks and the ones it has."""
        if columns is None:
            return list(self.column_names)
        wanted = list(columns)
        unknown = [c for c in wanted if c not in self.column_names]
        if unknown:
            raise error(
                f"{self.key} has no column(s) {', '.join(unknown)} (columns: {', '.join(self.column_names)})"
            )
        return wanted

    def is_unique(self, column: str) -> bool:
        """True when the column alone is the primary key or a unique constraint/index."""
        single = (column,)
        return (
            self.primary_key == single
            or single in self.unique_constraints
            or any(ix.unique and ix.columns == single for ix in self.indexes)
        )


@dataclass(frozen=True)
class View:
    """A view of the source (no data of its own, or a PostgreSQL materialized view, which a load
    computes again from the loaded tables); recreated on a target of the same engine."""

    name: str
    schema: str | None = None  # PostgreSQL's (logical) schema
    sql: str = ""  # SQLite: its CREATE VIEW statement; PostgreSQL: its SELECT, names as seen from `public`
    materialized: bool = False  # computed from the loaded tables (SQLite: an FTS index of a content table)
    kind: Literal["view", "full-text table", "trigger"] = "view"  # SQLite keeps all three as SQL to rerun

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema and self.schema != "public" else self.name


@dataclass(frozen=True)
class Schema:
    tables: dict[str, Table]
    dialect: str | None = None  # engine it was reflected from ("sqlite" | "postgresql" | "mysql"), if any
    views: tuple[View, ...] = ()  # in an order that creates each after the views it reads

    def __iter__(self) -> Iterable[Table]:  # type: ignore[override]
        return iter(self.tables.values())

    def __contains__(self, key: object) -> bool:
        return key in self.tables

    def __getitem__(self, key: str) -> Table:
        return self.tables[key]

    def table(self, key: str, where: str, error: type[Exception] = KeyError) -> Table:
        """The table `key`, or `error` saying `where` has no such table and which tables it has."""
        if key not in self.tables:
            known = ", ".join(sorted(self.tables)) or "none"
            raise error(f"{where} has no table {key!r} (tables: {known})")
        return self.tables[key]

    def load_order(self, keys: Iterable[str] | None = None) -> list[str]:
        """Tables in foreign-key order (parents first). Cycles are broken deterministically.

        Self-references never constrain order. When a cycle remains, the alphabetically first table
        of it goes first; the loader creates foreign keys after the data, so any order loads.
        """
        wanted = sorted(self.tables if keys is None else keys)
        wanted_set = set(wanted)
        deps = {
            k: {
                fk.ref_table
                for fk in self.tables[k].foreign_keys
                if fk.ref_table != k and fk.ref_table in wanted_set
            }
            for k in wanted
        }
        order: list[str] = []
        done: set[str] = set()
        while len(order) < len(wanted):
            ready = [k for k in wanted if k not in done and deps[k] <= done]
            if not ready:
                ready = [next(k for k in wanted if k not in done)]
            for k in ready:
                order.append(k)
                done.add(k)
        return order
