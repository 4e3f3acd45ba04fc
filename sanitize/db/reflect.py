"""SQLAlchemy reflection -> `sanitize.schema.Schema`, the same shape for every engine.

PostgreSQL reflects every non-system schema (tables outside `public` are keyed `schema.table`);
MySQL/MariaDB and SQLite reflect the connected database. Objects sanitize itself owns (shadow
schemas/databases, the `sanitize_meta` table) are never part of a reflected schema. A physical
schema can be presented under another name (`schemas={"sanitize_shadow_public": "public"}`), which is
how a shadow copy reads back with the keys of the data it will replace.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from sanitize.db.checks import read_checks
from sanitize.db.types import MYSQL_SPATIAL, NamedType, kind_of
from sanitize.schema import Check, Column, ForeignKey, Index, Schema, Table, View, fk_action
from sanitize.sqlscan import parenthesized, split_top_level

log = logging.getLogger("sanitize")

OWNED_PREFIX = "sanitize_"  # every schema, database or table sanitize creates starts with this
META_TABLE = "sanitize_meta"
PG_SYSTEM = ("pg_catalog", "information_schema", "pg_toast")
DEFAULT_SCHEMA = {"postgresql": "public", "mysql": None, "sqlite": None}


def table_key(schema: str | None, name: str, dialect: str) -> str:
    """How rules name a table: bare in the default schema, `schema.table` elsewhere."""
    if schema is None or schema == DEFAULT_SCHEMA.get(dialect):
        return name
    return f"{schema}.{name}"


def user_schemas(inspector: sa.Inspector, dialect: str) -> list[str | None]:
    """The schemas whose tables are user data (PostgreSQL); [None] elsewhere."""
    if dialect != "postgresql":
        return [None]
    names = inspector.get_schema_names()
    return sorted(  # type: ignore[return-value]
        n
        for n in names
        if n not in PG_SYSTEM
        and not n.startswith(("pg_temp_", "pg_toast_temp_"))
        and not n.startswith(OWNED_PREFIX)
    )


def _column(info: Mapping[str, Any], single_int_pk: bool, dialect: str) -> Column:
    t = info["type"]
    kind = kind_of(t)
    default = info.get("default")
    identity = info.get("identity")
    autoinc = info.get("autoincrement") is True or bool(identity)
    if dialect == "postgresql" and isinstance(default, str) and default.startswith("nextval("):
        autoinc = True
    if dialect == "sqlite" and single_int_pk:
        autoinc = True
    precision = scale = None
    if kind == "decimal":
        precision, scale = getattr(t, "precision", None), getattr(t, "scale", None)
    max_length = getattr(t, "length", None) if kind in ("text", "binary", "other") else None
    if isinstance(t, mysql.SET) and t.values:  # a SET value joins any of its members with commas
        max_length = sum(len(v) for v in t.values) + len(t.values) - 1
    enums = tuple(t.enums) if isinstance(t, sa.Enum) and t.enums else None
    computed = info.get("computed") or {}
    return Column(
        generated=str(computed["sqltext"]) if computed.get("sqltext") else None,
        generated_stored=bool(computed.get("persisted", True)),
        name=info["name"],
        kind=kind,
        nullable=bool(info.get("nullable", True)),
        max_length=max_length if isinstance(max_length, int) else None,
        precision=precision,
        scale=scale,
        default=None if default is None else str(default),
        autoincrement=autoinc,
        timezone=bool(getattr(t, "timezone", False)),
        sql_type=t,
        enum_values=enums,
    )


def _index(
    ix: Mapping[str, Any], where: str, written: Mapping[str, tuple[str, tuple[str, ...]]] | None = None
) -> Index | None:
    """An Index from SQLAlchemy's reading; `written` is name -> (definition, extensions) as the engine
    writes it (PostgreSQL), so expressions and operator classes are made again on the same engine."""
    cols = ix.get("column_names") or []
    definition, requires = (written or {}).get(str(ix.get("name")), (None, ()))
    if any(c is None for c in cols) or not cols:
        if definition is None:
            log.warning("%s: index %s uses expressions; it is not recreated", where, ix.get("name"))
            return None
        cols = []  # on expressions: made again as written on the same engine only
    options = ix.get("dialect_options") or {}
    method = options.get("mysql_prefix") or options.get("postgresql_using")
    method = str(method).lower() if method and str(method).lower() != "btree" else None
    predicate = options.get("sqlite_where")
    if predicate is None:
        predicate = options.get("postgresql_where")
    return Index(
        name=ix.get("name"),
        columns=tuple(cols),
        unique=bool(ix.get("unique")),
        method=method,
        where=None if predicate is None else str(predicate),
        definition=definition,
        requires=requires,
    )


def _pg_index_definitions(insp: sa.Inspector, schema: str | None, table: str) -> dict[str, Any]:
    """Index name -> (its definition after the table name, the extensions of its operator classes)."""
    rows = _query(
        insp,
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), ARRAY(SELECT DISTINCT e.extname FROM pg_opclass oc "
        "JOIN pg_depend d ON d.classid = 'pg_opclass'::regclass AND d.objid = oc.oid AND d.deptype = 'e' "
        "JOIN pg_extension e ON e.oid = d.refobjid WHERE oc.oid = ANY (i.indclass::oid[])) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = COALESCE(:s, current_schema()) AND t.relname = :t",
        s=schema,
        t=table,
    )
    out = {}
    for name, text, exts in rows:
        at = str(text).find(" USING ")
        if at >= 0:
            out[str(name)] = (str(text)[at + 1 :], tuple(sorted(exts or ())))
    return out


def _sqlite_expression_indexes(insp: sa.Inspector, table: str, known: set[str]) -> list[Index]:
    """SQLite indexes on expressions (SQLAlchemy leaves them out), made again as written on SQLite."""
    out = []
    rows = _query(
        insp,
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL",
        t=table,
    )
    for name, sql in rows:
        if name in known:
            continue
        m = re.match(
            r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s.*?\bON\s+(?:\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|\w+)\s*(\(.*)$",
            str(sql),
            re.I | re.S,
        )
        if m:
            out.append(Index(str(name), (), unique=bool(m.group(1)), definition=m.group(2).strip()))
    return out


def reflect_schema(
    conn: sa.Connection,
    *,
    schemas: Mapping[str | None, str | None] | None = None,
) -> Schema:
    """Reflect the user tables visible on `conn`.

    `schemas` maps physical schema -> logical schema; by default every user schema maps to itself.
    """
    dialect = "mysql" if conn.dialect.name in ("mysql", "mariadb") else conn.dialect.name
    insp = sa.inspect(conn)
    mapping: dict[str | None, str | None] = (
        dict(schemas) if schemas is not None else {s: s for s in user_schemas(insp, dialect)}
    )
    tables: dict[str, Table] = {}
    virtual = sqlite_virtual_tables(conn) if dialect == "sqlite" else SqliteVirtual({}, set(), ())
    for physical, logical in mapping.items():
        names = insp.get_table_names(schema=physical)
        partitions = _pg_partitions(conn, physical) if dialect == "postgresql" else {}
        for name in sorted(names):
            if name == META_TABLE or (dialect == "sqlite" and name.startswith("sqlite_")):
                continue
            if name in partitions:  # its rows are read (and written) through the partitioned table
                continue
            if name in virtual.derived:  # an FTS index's own tables, or one built from another table
                continue
            key = table_key(logical, name, dialect)
            made = _table(insp, physical, logical, name, key, dialect, mapping)
            parts = sorted(p for p, parent in partitions.items() if parent == name)
            if parts:
                made = _with_partition_fks(insp, made, physical, logical, parts, mapping)
            tables[key] = replace(made, virtual=virtual.tables[name]) if name in virtual.tables else made
    views = _views(conn, dialect, mapping) + virtual.rebuilt
    views = tuple(sorted(views, key=lambda v: v.kind == "trigger"))  # triggers last: after what they use
    return Schema(tables=tables, dialect=dialect, views=views)


@dataclass(frozen=True)
class SqliteVirtual:
    tables: dict[str, str]  # virtual tables holding their own rows -> CREATE VIRTUAL TABLE
    derived: set[str]  # tables not copied: shadow tables, and virtual tables over another table
    rebuilt: tuple[View, ...]  # the latter, made again (and rebuilt) from the loaded tables


# the shadow tables SQLite's FTS3/4/5 and R*Tree modules keep for a virtual table V: V_<suffix>
_SHADOW_SUFFIXES = (
    "content",
    "docsize",
    "segments",
    "segdir",
    "stat",
    "data",
    "idx",
    "config",
    "node",
    "parent",
    "rowid",
)


def sqlite_virtual_tables(conn: sa.Connection) -> SqliteVirtual:
    """A SQLite file's virtual tables. Their shadow tables hold the index (an FTS index holds every
    word of the text it indexes: copied as they are, they would carry the source's text into the
    target) and are never copied. A full-text table over another table (`content='t'`) or with no
    text of its own (`content=''`) is rebuilt from the loaded rows instead of copied; one holding its
    own text is copied through its rules and made again as a virtual table on SQLite."""
    rows = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'"
    ).fetchall()
    listed: list[Any] = []
    with contextlib.suppress(sa.exc.DBAPIError):
        listed = list(conn.exec_driver_sql("PRAGMA table_list"))
    if listed:  # SQLite 3.37 and later say which tables are a virtual table's own
        derived = {str(r[1]) for r in listed if r[2] == "shadow"}
    else:  # older ones: the names FTS and R*Tree give them
        derived = {f"{name}_{suffix}" for name, _ in rows for suffix in _SHADOW_SUFFIXES}
    tables, rebuilt = {}, []
    for name, sql in rows:
        name, sql = str(name), str(sql)
        content = re.search(r"\bcontent\s*=\s*(?:'([^']*)'|\"([^\"]*)\"|([\w.]+))", sql, re.I)
        if content is not None:
            derived.add(name)
            own = bool(next(g for g in content.groups() if g is not None))
            rebuilt.append(View(name, None, sql, materialized=own, kind="full-text table"))
        else:
            tables[name] = sql
    return SqliteVirtual(tables, derived, tuple(rebuilt))


def _views(conn: sa.Connection, dialect: str, mapping: Mapping[str | None, str | None]) -> tuple[View, ...]:
    """The views of the reflected schemas, oldest first (a view is made after those it reads)."""
    if dialect == "sqlite":  # views, then triggers (made after the rows: they do not fire on the load)
        rows = conn.exec_driver_sql(
            "SELECT name, sql, type FROM sqlite_master WHERE type IN ('view', 'trigger') AND sql IS NOT NULL "
            "ORDER BY type = 'trigger', rowid"
        )
        return tuple(
            View(str(n), None, str(sql), kind="trigger" if t == "trigger" else "view") for n, sql, t in rows
        )
    if dialect == "mysql":
        # MySQL writes every name qualified with its database: unqualified, the view reads the tables
        # of whichever database it is made in
        db = str(conn.exec_driver_sql("SELECT DATABASE()").scalar())
        # a trigger's body is kept as written: `sak`.audit or sak.audit alike
        written = re.compile(
            rf"(?<![\w$`.])(?:`{re.escape(db.replace('`', '``'))}`|{re.escape(db)})\s*\.(?=\s*[`\w])"
        )
        rows = conn.exec_driver_sql(
            "SELECT table_name, view_definition FROM information_schema.views "
            "WHERE table_schema = DATABASE() ORDER BY 1"
        )
        views = [View(str(n), None, written.sub("", str(sql))) for n, sql in rows]
        triggers = conn.exec_driver_sql(
            "SELECT trigger_name, action_timing, event_manipulation, event_object_table, action_statement "
            "FROM information_schema.triggers WHERE trigger_schema = DATABASE() "
            "ORDER BY event_object_table, action_order"
        )
        return tuple(views) + tuple(
            View(
                str(name),
                None,
                f"CREATE TRIGGER {quote_ident(str(name), 'mysql')} {timing} {event} ON "
                f"{quote_ident(str(table), 'mysql')} FOR EACH ROW {written.sub('', str(body))}",
                kind="trigger",
            )
            for name, timing, event, table, body in triggers
        )
    if dialect != "postgresql":
        return ()
    # pg_get_viewdef names tables relative to the search_path: `public` only, for every view alike
    old = conn.exec_driver_sql("SELECT current_setting('search_path')").scalar()
    conn.exec_driver_sql("SELECT set_config('search_path', 'public', true)")
    views = []
    try:
        for physical, logical in mapping.items():
            rows = conn.execute(
                sa.text(
                    "SELECT c.relname, c.relkind, pg_get_viewdef(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :s AND c.relkind IN ('v', 'm') ORDER BY c.oid"
                ),
                {"s": physical or "public"},
            )
            views += [
                View(str(name), logical or "public", str(sql).strip().rstrip(";"), kind == "m")
                for name, kind, sql in rows
            ]
    finally:
        conn.execute(sa.text("SELECT set_config('search_path', :p, true)"), {"p": old})
    return tuple(views)


def _pg_partitions(conn: sa.Connection, schema: str | None) -> dict[str, str]:
    """Tables of `schema` that are partitions of another table (PostgreSQL 10+) -> that table's name.

    A partitioned table reads as the union of its partitions, so it is copied as one plain table and
    its partitions are left out: listing both would copy every row twice. (The target table is not
    partitioned; sanitize does not recreate PARTITION BY.)"""
    rows = conn.execute(
        sa.text(
            "SELECT c.relname, p.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_inherits i ON i.inhrelid = c.oid JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE c.relispartition AND n.nspname = :schema"
        ),
        {"schema": schema or "public"},
    )
    return {str(r[0]): str(r[1]) for r in rows}


def _with_partition_fks(
    insp: sa.Inspector,
    table: Table,
    physical: str | None,
    logical: str | None,
    partitions: list[str],
    mapping: Mapping[str | None, str | None],
) -> Table:
    """A partitioned table whose foreign keys are declared on each partition (older schemas do that:
    PostgreSQL 11 had no foreign keys on partitioned tables) gets those its every partition declares,
    so rules are inherited along them and the copy keeps them. One declared on some partitions only is
    left out: rows of the others need not satisfy it."""
    common: dict[tuple[tuple[str, ...], str, tuple[str, ...]], ForeignKey] | None = None
    for part in partitions:
        found = {}
        for fk in _partition_fks(insp, physical, logical, part, mapping):
            found[(fk.columns, fk.ref_table, fk.ref_columns)] = fk
        common = found if common is None else {k: v for k, v in common.items() if k in found}
    have = {(fk.columns, fk.ref_table, fk.ref_columns) for fk in table.foreign_keys}
    lifted = [
        replace(fk, name=None if fk.name is None else f"{table.name}_{'_'.join(fk.columns)}_fkey"[:63])
        for k, fk in (common or {}).items()
        if k not in have
    ]
    if not lifted:
        return table
    log.info("%s: foreign keys of its partitions read as its own: %s", table.key, [f.columns for f in lifted])
    return replace(table, foreign_keys=table.foreign_keys + tuple(lifted))


def _partition_fks(
    insp: sa.Inspector,
    physical: str | None,
    logical: str | None,
    name: str,
    mapping: Mapping[str | None, str | None],
) -> list[ForeignKey]:
    out = []
    for fk in insp.get_foreign_keys(name, schema=physical):
        ref_schema = fk.get("referred_schema")
        ref_logical = mapping.get(ref_schema, ref_schema) if ref_schema is not None else "public"
        out.append(
            ForeignKey(
                columns=tuple(fk["constrained_columns"]),
                ref_table=table_key(ref_logical, fk["referred_table"], "postgresql"),
                ref_columns=tuple(fk.get("referred_columns") or ()),
                name=fk.get("name"),
                on_delete=fk_action((fk.get("options") or {}).get("ondelete")),
                on_update=fk_action((fk.get("options") or {}).get("onupdate")),
            )
        )
    return out


def _table(
    insp: sa.Inspector,
    physical: str | None,
    logical: str | None,
    name: str,
    key: str,
    dialect: str,
    mapping: Mapping[str | None, str | None],
) -> Table:
    with warnings.catch_warnings():  # types SQLAlchemy does not know are handled below, not warned about
        warnings.filterwarnings("ignore", "Did not recognize type", sa.exc.SAWarning)
        cols_info = insp.get_columns(name, schema=physical)
    unknown = any(isinstance(c["type"], sa.types.NullType) for c in cols_info)
    if dialect == "postgresql" or (unknown and dialect == "mysql"):
        named = (_pg_type_names if dialect == "postgresql" else _mysql_type_names)(insp, physical, name)
        for c in cols_info:
            got = named.get(c["name"])
            if got is None:
                continue
            if isinstance(c["type"], sa.types.NullType):
                c["type"] = got
            elif got.extension:  # citext, hstore: SQLAlchemy knows them, the target must have them
                c["type"] = NamedType(got.name, got.family, kind_of(c["type"]), got.extension)
    domain_checks = _flatten_domains(insp, cols_info, key) if dialect == "postgresql" else []
    if dialect == "sqlite" and any(c.get("computed") for c in cols_info):
        # SQLAlchemy's reading of SQLite's generated columns can run into the next column: parsed here
        generated = sqlite_generated(insp, name)
        for c in cols_info:
            if c.get("computed"):
                c["computed"] = generated.get(c["name"], {})  # type: ignore[typeddict-item]
    pk = tuple(insp.get_pk_constraint(name, schema=physical).get("constrained_columns") or ())
    int_pk = {
        c["name"]
        for c in cols_info
        if len(pk) == 1 and c["name"] == pk[0] and kind_of(c["type"]) == "integer"
    }
    columns = tuple(_column(c, c["name"] in int_pk, dialect) for c in cols_info)
    if pk:
        columns = tuple(replace(c, nullable=False) if c.name in pk else c for c in columns)
    fks = []
    actions = _sqlite_fk_actions(insp, name) if dialect == "sqlite" else {}
    for fk in insp.get_foreign_keys(name, schema=physical):
        ref_schema = fk.get("referred_schema")
        ref_logical = mapping.get(ref_schema, ref_schema) if ref_schema is not None else logical
        if dialect == "postgresql" and ref_schema is None:
            ref_logical = "public"  # PostgreSQL omits the schema of a table on the search path
        ref_key = table_key(ref_logical, fk["referred_table"], dialect)
        ref_cols = tuple(fk.get("referred_columns") or ())
        if not ref_cols:
            ref_pk = insp.get_pk_constraint(fk["referred_table"], schema=ref_schema)
            ref_cols = tuple(ref_pk.get("constrained_columns") or ())
        fks.append(
            ForeignKey(
                columns=tuple(fk["constrained_columns"]),
                ref_table=ref_key,
                ref_columns=ref_cols,
                name=fk.get("name"),
                **actions.get(
                    (tuple(fk["constrained_columns"]), str(fk["referred_table"])),
                    {
                        "on_delete": fk_action((fk.get("options") or {}).get("ondelete")),
                        "on_update": fk_action((fk.get("options") or {}).get("onupdate")),
                    },
                ),
            )
        )
    uniques: list[tuple[str, ...]] = []
    found = (
        _sqlite_uniques(insp, name)
        if dialect == "sqlite"
        else [
            tuple(uc.get("column_names") or ()) for uc in insp.get_unique_constraints(name, schema=physical)
        ]
    )
    for cols in found:
        if cols and cols not in uniques:
            uniques.append(cols)
    indexes = []
    with warnings.catch_warnings(record=True) as skipped:
        warnings.simplefilter("always", sa.exc.SAWarning)
        found_indexes = insp.get_indexes(name, schema=physical)
    if dialect == "sqlite" and any("expression-based index" in str(w.message) for w in skipped):
        indexes += _sqlite_expression_indexes(insp, name, {str(ix.get("name")) for ix in found_indexes})
    written = _pg_index_definitions(insp, physical, name) if dialect == "postgresql" else {}
    for ix in found_indexes:
        if ix.get("duplicates_constraint") or (
            ix.get("unique") and tuple(ix.get("column_names") or ()) in uniques
        ):
            continue
        made = _index(ix, key, written)
        if made is not None:
            indexes.append(made)
    columns, checks = _with_checks(insp, name, physical, columns, key, domain_checks)
    return Table(
        key=key,
        name=name,
        schema=logical if dialect == "postgresql" else None,
        columns=columns,
        primary_key=pk,
        foreign_keys=tuple(fks),
        unique_constraints=tuple(uniques),
        indexes=tuple(indexes),
        checks=checks,
    )


_VALUE = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|\bVALUE\b""", re.IGNORECASE)


def _value_as(column: str, m: re.Match[str]) -> str:
    return column if m.group(0).upper() == "VALUE" else m.group(0)  # quoted text stays as it is


def _flatten_domains(insp: sa.Inspector, cols_info: list[Any], where: str) -> list[dict[str, Any]]:
    """PostgreSQL domain columns become their base type, and each domain CHECK a column CHECK (`VALUE`
    -> the column), so the constraint travels to every engine and binds synth; NOT NULL domains make
    the column NOT NULL. Returns the checks to add to the table's."""
    added: list[dict[str, Any]] = []
    domains: dict[tuple[str | None, str], Any] | None = None
    for c in cols_info:
        t = c["type"]
        if not isinstance(t, postgresql.DOMAIN):
            continue
        if domains is None:  # PostgreSQL's inspector reads domains; `*` is every schema
            found = insp.get_domains(schema="*")  # type: ignore[attr-defined]
            domains = {(d.get("schema"), d["name"]): d for d in found}
        info = domains.get((t.schema or "public", str(t.name))) or next(
            (d for (_, n), d in domains.items() if n == t.name), None
        )
        base = t.data_type
        while isinstance(base, postgresql.DOMAIN):  # a domain over a domain
            base = base.data_type
        c["type"] = base
        if t.not_null or (info is not None and info.get("nullable") is False):
            c["nullable"] = False
        column = '"' + str(c["name"]).replace('"', '""') + '"'
        for i, constraint in enumerate((info or {}).get("constraints") or ()):
            text = _VALUE.sub(partial(_value_as, column), str(constraint["check"]))
            label = constraint.get("name") or f"{t.name}_check{i}"
            added.append({"name": f"{c['name']}_{label}"[:63], "sqltext": text})
        log.info("%s.%s: domain %s read as %s", where, c["name"], t.name, base)
    return added


def _with_checks(
    insp: sa.Inspector,
    name: str,
    physical: str | None,
    columns: tuple[Column, ...],
    where: str,
    extra: list[dict[str, Any]] | None = None,
) -> tuple[tuple[Column, ...], tuple[Check, ...]]:
    """Columns with what their CHECK constraints allow (IN lists, ranges, where the shape is simple), and
    the table's CHECK constraints as written (plus `extra`: a domain's checks on its columns)."""
    try:
        found = _mariadb_checks(insp, name, physical) or insp.get_check_constraints(name, schema=physical)
    except NotImplementedError:
        return columns, ()
    except sa.exc.SQLAlchemyError as exc:  # reading CHECKs is a nicety: never fail reflection over it
        log.info("%s: CHECK constraints not read (%s)", where, type(exc).__name__)
        found = []
    found = [*found, *(extra or ())]
    dialect = insp.bind.dialect.name
    table_checks = tuple(
        Check(c.get("name"), str(c.get("sqltext")), dialect) for c in found if c.get("sqltext")
    )
    checks = read_checks((c.get("sqltext") or "" for c in found), {c.name: c.kind for c in columns})
    if not checks:
        return columns, table_checks
    return tuple(
        replace(c, check_values=checks[c.name].values, check_range=checks[c.name].range)
        if c.name in checks
        else c
        for c in columns
    ), table_checks


def _mariadb_checks(insp: sa.Inspector, name: str, physical: str | None) -> list[dict[str, Any]]:
    """MariaDB's CHECKs, column ones included (SQLAlchemy reads only the table ones from SHOW CREATE
    TABLE); [] elsewhere (MySQL's catalog has no TABLE_NAME column: SQLAlchemy's reading serves)."""
    if insp.bind.dialect.name != "mysql" or not getattr(insp.bind.dialect, "is_mariadb", False):
        return []
    rows = _query(
        insp,
        "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA = COALESCE(:s, DATABASE()) AND TABLE_NAME = :t ORDER BY CONSTRAINT_NAME",
        s=physical,
        t=name,
    )
    return [{"name": r[0], "sqltext": r[1]} for r in rows]


def _query(insp: sa.Inspector, sql: str, **params: object) -> list[Any]:
    """Rows of a catalog query on the inspector's connection."""
    conn = insp.bind
    assert isinstance(conn, sa.Connection)
    return list(conn.execute(sa.text(sql), params))


def _pg_type_names(insp: sa.Inspector, schema: str | None, table: str) -> dict[str, NamedType]:
    """Column -> its type as PostgreSQL writes it (format_type: 'point', 'xml', 'public.ltree')."""
    rows = _query(
        insp,
        (
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory, "
            "(SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid "
            " WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e' LIMIT 1) "
            "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relname = :table AND a.attnum > 0 AND NOT a.attisdropped"
        ),
        schema=schema or "public",
        table=table,
    )
    # a string-like type (citext) is text to the rules and to other engines
    return {
        str(r[0]): NamedType(
            str(r[1]), "postgresql", "text" if r[2] == "S" else "other", str(r[3]) if r[3] else None
        )
        for r in rows
    }


def _mysql_type_names(insp: sa.Inspector, schema: str | None, table: str) -> dict[str, NamedType]:
    """Column -> its COLUMN_TYPE ('geometry', 'point', MariaDB's 'inet6'): spatial ones as binary."""
    rows = _query(
        insp,
        "SELECT column_name, data_type, column_type FROM information_schema.columns "
        "WHERE table_schema = COALESCE(:schema, DATABASE()) AND table_name = :table",
        schema=schema,
        table=table,
    )
    return {
        str(r[0]): NamedType(str(r[2]), "mysql", "binary" if str(r[1]).lower() in MYSQL_SPATIAL else "other")
        for r in rows
    }


def sqlite_generated(insp: sa.Inspector, table: str) -> dict[str, dict[str, Any]]:
    """Generated columns of a SQLite table from its CREATE TABLE: name -> {sqltext, persisted}."""
    rows = _query(insp, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t", t=table)
    sql = str(rows[0][0]) if rows else ""
    start = sql.find("(")
    out: dict[str, dict[str, Any]] = {}
    for element in split_top_level(parenthesized(sql[start:]) or "") if start >= 0 else []:
        m = re.match(r'\s*("(?:[^"]|"")+"|`(?:[^`]|``)+`|\[[^\]]+\]|[\w$]+)', element)
        gen = re.search(r"\b(?:GENERATED\s+ALWAYS\s+)?AS\s*\(", element, re.I)
        if not m or not gen or m.group(1).upper() in ("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"):
            continue
        body = parenthesized(element[gen.end() - 1 :])
        name = m.group(1)
        if name[0] in '"`[':
            name = name[1:-1].replace(name[0] * 2, name[0]) if name[0] != "[" else name[1:-1]
        stored = re.search(r"\)\s*STORED\b", element[gen.end() - 1 :], re.I) is not None
        if body:
            out[name] = {"sqltext": body, "persisted": stored}
    return out


def _sqlite_fk_actions(insp: sa.Inspector, name: str) -> dict[tuple[tuple[str, ...], str], dict[str, Any]]:
    """(columns, referenced table) -> ON DELETE / ON UPDATE of each foreign key of a SQLite table
    (SQLAlchemy's SQLite reflection leaves them out; PRAGMA foreign_key_list has them)."""
    conn = insp.bind
    assert isinstance(conn, sa.Connection)
    by_id: dict[int, list[Any]] = {}
    for row in conn.exec_driver_sql(f"PRAGMA foreign_key_list({quote_ident(name, 'sqlite')})").fetchall():
        by_id.setdefault(int(row[0]), []).append(row)
    out = {}
    for rows in by_id.values():
        rows.sort(key=lambda r: r[1])
        cols = tuple(str(r[3]) for r in rows)
        first = rows[0]  # id, seq, table, from, to, on_update, on_delete, match
        out[(cols, str(first[2]))] = {"on_delete": fk_action(first[6]), "on_update": fk_action(first[5])}
    return out


def _sqlite_uniques(insp: sa.Inspector, name: str) -> list[tuple[str, ...]]:
    """UNIQUE constraints of a SQLite table, from its automatic indexes (SQLAlchemy's parser misses some)."""
    conn = insp.bind
    assert isinstance(conn, sa.Connection)
    q = quote_ident(name, "sqlite")
    out = []
    for row in conn.exec_driver_sql(f"PRAGMA index_list({q})").fetchall():
        if row[3] == "u":  # origin: u = UNIQUE constraint, c = CREATE INDEX, pk = primary key
            info = conn.exec_driver_sql(f"PRAGMA index_info({quote_ident(row[1], 'sqlite')})").fetchall()
            out.append(tuple(r[2] for r in sorted(info)))
    return sorted(out)


def quote_ident(name: str, dialect: str) -> str:
    """An identifier quoted for raw SQL on `dialect`."""
    if dialect == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def safe_name(text: str) -> str:
    """`text` reduced to [a-z0-9_] (for names sanitize makes up)."""
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "x"
