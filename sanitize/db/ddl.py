"""Schema -> SQLAlchemy Table objects for a target engine, with cross-engine type mapping.

Within one engine the reflected SQL type is reused as it is. Across engines each column is rebuilt
from its logical kind (text, integer, decimal, datetime, ...) with the length, precision and time-zone
it had, so PostgreSQL `numeric(12,2)` becomes MySQL `DECIMAL(12,2)` and SQLite `NUMERIC(12,2)`.
Defaults are copied within one engine and translated across engines when they are plain literals or
the current time; anything else is dropped with a warning. Constraints that are created after the
data (unique constraints, foreign keys, indexes) come from `post_load_ddl`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.schema import DDL, AddConstraint, CreateIndex, DDLElement

from sanitize.db.check_sql import target_checks, unqualified_casts
from sanitize.db.types import int_width
from sanitize.schema import Column, Schema, Table

log = logging.getLogger("sanitize")

MAX_NAME = {"postgresql": 63, "mysql": 64, "sqlite": 1000}
MYSQL_KEY_BYTES = 3072  # InnoDB's longest index key
MYSQL_VARCHAR_MAX = 16_000  # utf8mb4 row-size limit; longer text becomes TEXT types


def type_family(t: sa.types.TypeEngine | None) -> str | None:  # type: ignore[type-arg]
    """The engine a reflected type belongs to, or None for a generic SQLAlchemy type."""
    if t is None:
        return None
    family = getattr(t, "family", None)  # types.NamedType
    if isinstance(family, str):
        return family
    mod = type(t).__module__
    for fam in ("postgresql", "mysql", "sqlite"):
        if f"dialects.{fam}" in mod:
            return fam
    return None


def source_dialect_of(schema: Schema) -> str:
    """The engine `schema` was reflected from; "generic" when unknown (types are then rebuilt from kinds)."""
    if schema.dialect:
        return schema.dialect
    for t in schema.tables.values():
        for c in t.columns:
            fam = type_family(c.sql_type)
            if fam is not None:
                return fam
    return "generic"


def target_type(col: Column, dialect: str, source_dialect: str) -> sa.types.TypeEngine:  # type: ignore[type-arg]
    """The SQL type for `col` on `dialect`; `source_dialect` is where it was reflected."""
    t = col.sql_type
    fam = type_family(t)
    if (
        t is not None
        and source_dialect == dialect
        and fam in (None, dialect)
        and not isinstance(t, sa.types.NullType)
    ):
        return t
    k = col.kind
    if k == "integer":
        return {2: sa.SmallInteger(), 4: sa.Integer(), 8: sa.BigInteger()}[int_width(col, source_dialect)]
    if k == "float":
        return sa.Double()
    if k == "decimal":
        if col.precision:
            return sa.Numeric(col.precision, col.scale or 0)
        return mysql.DECIMAL(65, 30) if dialect == "mysql" else sa.Numeric()
    if k == "boolean":
        return sa.Boolean()
    if k == "date":
        return sa.Date()
    if k == "datetime":
        if dialect == "mysql":
            return mysql.DATETIME(fsp=6)
        return sa.DateTime(timezone=col.timezone)
    if k == "time":
        return mysql.TIME(fsp=6) if dialect == "mysql" else sa.Time()
    if k == "json":
        return postgresql.JSON() if dialect == "postgresql" else sa.JSON()
    if k == "uuid":
        return postgresql.UUID() if dialect == "postgresql" else sa.CHAR(36)
    if k == "binary":
        if dialect == "postgresql":
            return postgresql.BYTEA()
        if dialect == "mysql":
            return (
                mysql.VARBINARY(col.max_length)
                if col.max_length and col.max_length <= 8000
                else mysql.LONGBLOB()
            )
        return sa.LargeBinary()
    return _text_type(col, dialect)


def _text_type(col: Column, dialect: str) -> sa.types.TypeEngine:  # type: ignore[type-arg]
    n = col.max_length
    if dialect == "mysql":
        if col.enum_values:
            return mysql.ENUM(*col.enum_values)
        if n and n <= MYSQL_VARCHAR_MAX:
            return mysql.VARCHAR(n)
        return mysql.LONGTEXT()
    if n:
        return sa.String(n)
    return sa.Text()


_NUMBER = re.compile(r"^\(?(-?\d+(\.\d+)?([eE][-+]?\d+)?)\)?$")
_QUOTED = re.compile(r"""^\(?'((?:[^']|'')*)'\)?(::[\w ."]+)*$""")
_ON_UPDATE = re.compile(r"\s+ON\s+UPDATE\s+(.*)$", re.I | re.S)
_NOW = re.compile(r"^(now\(\)|current_timestamp(\(\d*\))?|localtimestamp|transaction_timestamp\(\))$", re.I)


def target_default(col: Column, dialect: str, source_dialect: str, table: str = "") -> sa.TextClause | None:
    """The server default for `col` (of `table`, named in warnings) on `dialect`, or None when it cannot
    be carried over."""
    where = f"{table}.{col.name}" if table else col.name
    d = col.default
    if d is None:
        return None
    d = d.strip()
    if d.lower().startswith("nextval("):
        return None  # serial: the target makes its own sequence
    if source_dialect == dialect:  # an enum's default names the type copied into the shadow schema
        return sa.text(unqualified_casts(d) if dialect == "postgresql" else d)
    if m := _ON_UPDATE.search(d):  # MySQL's `DEFAULT now() ON UPDATE now()`: the default part only
        log.warning("column %s: ON UPDATE %s has no %s equivalent; it is not recreated", where, m[1], dialect)
        d = d[: m.start()]
    if m := _NUMBER.match(d):
        if col.kind == "boolean":
            truth = float(m.group(1)) != 0
            return sa.text(("true" if truth else "false") if dialect == "postgresql" else str(int(truth)))
        return sa.text(m.group(1))
    if m := _QUOTED.match(d):
        literal = m.group(1)
        if col.kind == "boolean" and literal.lower() in ("t", "f", "true", "false", "1", "0"):
            return (
                sa.text("1" if literal.lower() in ("t", "true", "1") else "0")
                if dialect != "postgresql"
                else sa.text("true" if literal.lower() in ("t", "true", "1") else "false")
            )
        return sa.text("'" + literal + "'")
    if d.lower() in ("true", "false"):
        if dialect == "postgresql":
            return sa.text(d.lower())
        return sa.text("1" if d.lower() == "true" else "0")
    if _NOW.match(d) and col.kind == "datetime":
        return sa.text("CURRENT_TIMESTAMP")
    log.warning("column %s: default %s has no %s equivalent; it is not recreated", where, d, dialect)
    return None


def short_name(*parts: str, dialect: str) -> str:
    """A constraint/index name that fits the engine's identifier limit (hash suffix when cut)."""
    name = "_".join(parts)
    limit = MAX_NAME[dialect]
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return name[: limit - 9] + "_" + digest


@dataclass
class TargetTables:
    """The tables of one load on the target, and what is created only after the data."""

    metadata: sa.MetaData
    tables: dict[str, sa.Table]  # key -> table (in the physical/shadow schema)
    source: Schema
    keys: list[str]
    dialect: str
    source_dialect: str


MYSQL_ROW_BYTES = 65_535  # VARCHARs count whole toward it (TEXT types a few bytes)


def _fit_mysql_row(cols: list[sa.Column[Any]], keyed: set[str], where: str) -> None:
    """Turn the longest VARCHARs outside keys into TEXT until the row fits MySQL's 65,535 bytes (a wide
    table of varchar(1000) columns from PostgreSQL could not be created)."""

    def size(c: sa.Column[Any]) -> int:
        return 4 * int(getattr(c.type, "length", 0) or 0) + 2 if isinstance(c.type, mysql.VARCHAR) else 12

    total = sum(size(c) for c in cols)
    movable = sorted((c for c in cols if isinstance(c.type, mysql.VARCHAR) and c.name not in keyed), key=size)
    while total > MYSQL_ROW_BYTES - 1024 and movable:
        c = movable.pop()
        total -= size(c) - 12
        log.info("%s.%s: a varchar made TEXT to fit MySQL's row size", where, c.name)
        c.type = mysql.TEXT()


def _mysql_keys(schema: Schema, key: str) -> tuple[set[str], dict[str, int]]:
    """The columns MySQL keys of table `key` hold, and of those the text columns -> the longest VARCHAR
    that fits InnoDB's 3072-byte key (utf8mb4: 4 bytes a character): their own length up to 255 for
    an unbounded one, less where one key holds several long ones."""
    t = schema[key]
    text = {
        c.name: c.max_length for c in t.columns if c.kind in ("text", "json", "other") and not c.enum_values
    }
    held = [t.primary_key, *t.unique_constraints, *(fk.columns for fk in t.foreign_keys)]
    held += [ix.columns for ix in t.indexes if ix.method is None]
    held += [
        fk.ref_columns for other in schema.tables.values() for fk in other.foreign_keys if fk.ref_table == key
    ]
    chars: dict[str, int] = {}
    for cols in held:
        in_key = [c for c in cols if c in text]
        for c in in_key:
            chars[c] = min(chars.get(c, text[c] or 255), MYSQL_KEY_BYTES // 4 // len(in_key))
    return {c for cols in held for c in cols}, chars


def computed_here(col: Column, dialect: str, source_dialect: str) -> bool:
    """True when `col` is a generated column that a target of `dialect` computes itself (the same
    engine as the source: its expression is that engine's SQL)."""
    return col.generated is not None and dialect == source_dialect


def build_tables(
    schema: Schema,
    keys: Iterable[str],
    dialect: str,
    source_dialect: str,
    *,
    physical_schema: Callable[[Table], str | None],
    inline_constraints: bool,
    inline_uniques: bool = True,
) -> TargetTables:
    """sa.Table objects (columns, types, PK, NOT NULL, defaults) for `keys` of `schema` on `dialect`.

    With `inline_constraints` (SQLite) foreign keys, and unique constraints unless `inline_uniques`
    is False, are part of CREATE TABLE (SQLite then adds the unique constraints with `unique_constraints`
    after the data: an index sorted once is much faster than one grown row by row).
    """
    md = sa.MetaData()
    keys = list(keys)
    out: dict[str, sa.Table] = {}
    for key in keys:
        t = schema[key]
        cols = []
        keyed, key_chars = (
            _mysql_keys(schema, key) if dialect == "mysql" and source_dialect != "mysql" else (set(), {})
        )
        for c in t.columns:
            extra: list[sa.Identity | sa.Computed] = []
            autoinc = c.autoincrement and t.primary_key == (c.name,) and c.kind == "integer"
            default = target_default(c, dialect, source_dialect, key)
            if computed_here(c, dialect, source_dialect):
                # the engine computes it again from the loaded (sanitised) columns; no value is written
                stored = c.generated_stored or dialect == "postgresql"
                extra.append(sa.Computed(str(c.generated), persisted=stored))
                default = None
            if dialect == "postgresql" and autoinc and c.default is None and source_dialect == "postgresql":
                extra.append(sa.Identity())  # reflected identity column (serials keep nextval)
            elif dialect == "postgresql" and c.autoincrement and c.kind == "integer" and not autoinc:
                # a serial/identity that is not the single-column primary key (part of a composite key,
                # or no key at all): an identity column keeps inserts without it working
                extra.append(sa.Identity())
            sql_type = target_type(c, dialect, source_dialect)
            if c.name in key_chars and (
                isinstance(sql_type, mysql.LONGTEXT)
                or (isinstance(sql_type, mysql.VARCHAR) and (sql_type.length or 0) > key_chars[c.name])
            ):
                # MySQL indexes no TEXT column whole (a SQLite `TEXT PRIMARY KEY` failed), nor a key
                # past 3072 bytes: a VARCHAR that fits; a longer value stops the load naming the column
                sql_type = mysql.VARCHAR(key_chars[c.name])
            if (
                dialect == "sqlite"
                and source_dialect != "sqlite"
                and t.primary_key == (c.name,)
                and c.kind == "integer"
            ):
                # INTEGER PRIMARY KEY is the rowid itself: no second index to maintain, and SQLite's
                # integers are 64-bit whatever the declared width
                sql_type = sa.Integer()
            cols.append(
                sa.Column(
                    c.name,
                    sql_type,
                    *extra,
                    nullable=c.nullable and c.name not in t.primary_key,
                    server_default=default,
                    autoincrement=bool(autoinc) or ("auto" if extra else False),
                    primary_key=False,
                )
            )
        if dialect == "mysql" and source_dialect != "mysql":
            _fit_mysql_row(cols, keyed, key)
        args: list[sa.schema.SchemaItem] = list(cols)
        if t.primary_key:
            args.append(sa.PrimaryKeyConstraint(*t.primary_key))
        # engines without schemas keep the key (`sales.returns`) so tables of two schemas cannot collide
        name = t.name if dialect == "postgresql" or t.key == t.name else t.key
        # CHECKs are part of CREATE TABLE: a row that breaks one fails the load, naming the constraint
        args += target_checks(t, dialect, source_dialect, name)
        out[key] = sa.Table(name, md, *args, schema=physical_schema(t))
    built = TargetTables(md, out, schema, keys, dialect, source_dialect)
    if inline_constraints:
        for key in keys:
            for uc in _uniques(built, key) if inline_uniques else []:
                out[key].append_constraint(uc)
            for fk in _foreign_keys(built, key):
                out[key].append_constraint(fk)
    return built


def unique_constraints(built: TargetTables, key: str) -> list[sa.UniqueConstraint]:
    """The unique constraints of table `key`, named for the target (not attached to the table)."""
    return _uniques(built, key)


def _uniques(built: TargetTables, key: str) -> list[sa.UniqueConstraint]:
    t = built.source[key]
    name = built.tables[key].name
    return [
        sa.UniqueConstraint(*cols, name=short_name(name, *cols, "key", dialect=built.dialect))
        for cols in t.unique_constraints
    ]


def _foreign_keys(built: TargetTables, key: str) -> list[sa.ForeignKeyConstraint]:
    t = built.source[key]
    fks = []
    for fk in t.foreign_keys:
        parent = built.tables.get(fk.ref_table)
        if parent is None:
            log.warning(
                "%s: foreign key to %s is not recreated (that table is not copied)", key, fk.ref_table
            )
            continue
        name = (
            fk.name
            if fk.name and built.dialect == built.source_dialect
            else short_name(built.tables[key].name, *fk.columns, "fkey", dialect=built.dialect)
        )
        on_delete, on_update = fk.on_delete, fk.on_update
        if built.dialect == "mysql" and "SET DEFAULT" in (on_delete, on_update):
            log.warning("%s: InnoDB has no ON ... SET DEFAULT; the foreign key %s keeps NO ACTION", key, name)
            on_delete = None if on_delete == "SET DEFAULT" else on_delete
            on_update = None if on_update == "SET DEFAULT" else on_update
        fks.append(
            sa.ForeignKeyConstraint(
                list(fk.columns),
                [parent.c[c] for c in fk.ref_columns],
                name=name,
                ondelete=on_delete,
                onupdate=on_update,
            )
        )
    return fks


def index_ddl(built: TargetTables, key: str) -> list[DDLElement]:
    """CREATE INDEX statements for the (non-constraint) indexes of table `key` (call once per load)."""
    table, t = built.tables[key], built.source[key]
    stmts: list[DDLElement] = []
    same = built.dialect == built.source_dialect
    for ix in t.indexes:
        name = (
            ix.name if ix.name and same else short_name("ix", table.name, *ix.columns, dialect=built.dialect)
        )
        if ix.definition is not None and same and built.dialect in ("postgresql", "sqlite"):
            # as the source wrote it: expressions, operator classes, a predicate casting to an enum
            stmts.append(_written_index(built, table, name, ix.unique, ix.definition))
            continue
        if ix.definition is not None and not ix.columns:
            log.warning(
                "%s: index %s is on expressions in %s SQL (%s); it is not recreated on %s",
                key,
                ix.name,
                built.source_dialect,
                ix.definition,
                built.dialect,
            )
            continue
        options: dict[str, Any] = {}
        if ix.method is not None:
            if not same:  # FULLTEXT, GIN, GiST, ...: nothing equivalent to build on another engine
                log.warning(
                    "%s: %s index %s has no %s equivalent; it is not recreated",
                    key,
                    ix.method.upper(),
                    ix.name or ", ".join(ix.columns),
                    built.dialect,
                )
                continue
            option = "mysql_prefix" if built.dialect == "mysql" else "postgresql_using"
            options[option] = ix.method.upper() if built.dialect == "mysql" else ix.method
        if ix.where is not None:
            if not same or built.dialect not in ("sqlite", "postgresql"):
                # the predicate is SQL of its own engine (a soft-delete `WHERE deleted_at IS NULL` on a
                # unique index): built without it, a unique index would refuse valid rows
                log.warning(
                    "%s: partial index %s (WHERE %s) is %s SQL; it is not recreated",
                    key,
                    ix.name or ", ".join(ix.columns),
                    ix.where,
                    built.source_dialect,
                )
                continue
            options[f"{built.dialect}_where"] = sa.text(ix.where)
        cols = [table.c[c] for c in ix.columns]
        stmts.append(CreateIndex(sa.Index(name, *cols, unique=ix.unique, **options)))
    return stmts


_QUALIFIED_OPCLASS = re.compile(r"""(?<=[\s(,])(?:"(?:[^"]|"")+"|[A-Za-z_]\w*)\.(?=\w+_ops\b)""")


def _written_index(
    built: TargetTables, table: sa.Table, name: str, unique: bool, definition: str
) -> DDLElement:
    """CREATE INDEX from the source's own definition, on the shadow table; on PostgreSQL the types and
    operator classes it names are looked up on the search path (the shadow's enums, sanitize_ext)."""
    prep = sa.dialects.registry.load(built.dialect)().identifier_preparer
    if built.dialect == "postgresql":
        definition = _QUALIFIED_OPCLASS.sub("", unqualified_casts(definition))
    on = prep.format_table(table)
    return DDL(f"CREATE {'UNIQUE ' if unique else ''}INDEX {prep.quote(name)} ON {on} {definition}")


def post_load_ddl(built: TargetTables, *, constraints: bool) -> list[DDLElement]:
    """Indexes (and, unless created inline, unique constraints then foreign keys) to run after the data."""
    stmts: list[DDLElement] = []
    for key in built.keys:
        table = built.tables[key]
        if constraints:
            for uc in _uniques(built, key):
                table.append_constraint(uc)
                stmts.append(AddConstraint(uc))
        stmts += index_ddl(built, key)
    if constraints:
        for key in built.keys:
            for fk in _foreign_keys(built, key):
                built.tables[key].append_constraint(fk)
                stmts.append(AddConstraint(fk))
    return stmts
