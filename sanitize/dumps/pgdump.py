"""pg_dump files: the schema from their DDL, rows from their COPY blocks, as a stream.

Plain format (`pg_dump -Fp`, optionally gzip) is read directly. Custom and directory formats
(`-Fc`, `-Fd`) are turned into the same plain text by `pg_restore --file=-` (PostgreSQL's client
tools must be installed).

The schema comes from `CREATE TABLE` (columns, types, NOT NULL, inline constraints) and from the
`ALTER TABLE ... ADD CONSTRAINT` statements pg_dump writes after the data (primary keys, unique
constraints, foreign keys), `CREATE [UNIQUE] INDEX`, `CREATE TYPE ... AS ENUM` and the
serial/identity statements. Because the keys come last, the whole file is read once to build the
schema; that pass also records where each table's COPY block starts, so reading a table later
jumps straight to it (on a gzip file the jump decompresses up to that point).

Table keys: `table` for the `public` schema, `schema.table` elsewhere. A dump's `\\connect` or
`CREATE DATABASE` never decides where rows go: as a source they are ignored (logged).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa

from sanitize.db.base import prefetch
from sanitize.db.types import NamedType, arrow_type, to_pandas
from sanitize.defaults import DEFAULT_BATCH
from sanitize.dumps import pgtext
from sanitize.dumps.source import DumpSource, detect_format, open_binary, rebatch_frames
from sanitize.errors import DumpError
from sanitize.schema import Check, Column, ForeignKey, Index, Kind, Schema, Table, View
from sanitize.sqlscan import (
    PG_IDENT,
    PG_QNAME,
    ByteReader,
    StatementSplitter,
    fk_actions,
    ident_list,
    parenthesized,
    split_qualified,
    split_top_level,
    unquote_ident,
)

log = logging.getLogger("sanitize")

DEFAULT_SCHEMA = "public"
CHUNK_BYTES = 8 << 20  # COPY data decoded per step when rewriting


def table_key(schema: str | None, name: str) -> str:
    """How rules name a PostgreSQL table: bare in `public`, `schema.table` elsewhere."""
    return name if schema in (None, DEFAULT_SCHEMA) else f"{schema}.{name}"


# --- types ----------------------------------------------------------------------------------

_INTS = {"smallint", "integer", "bigint", "int", "int2", "int4", "int8", "smallserial", "serial", "bigserial"}
_FLOATS = {"real", "double precision", "float4", "float8", "float"}
_TEXTS = {"text", "character varying", "varchar", "character", "char", "bpchar", '"char"', "name", "citext"}
# PostgreSQL's own types beyond those (every server has them): kept by name for a PostgreSQL target
_BUILTIN_OTHER = {
    *("interval", "inet", "cidr", "macaddr", "macaddr8", "tsvector", "tsquery", "xml", "money", "oid"),
    *("bit", "varbit", "bit varying", "point", "line", "lseg", "box", "path", "polygon", "circle"),
    *("int4range", "int8range", "numrange", "tsrange", "tstzrange", "daterange"),
    *("int4multirange", "int8multirange", "nummultirange", "datemultirange"),
}
_BUILTIN = (
    _INTS - {"smallserial", "serial", "bigserial"}
    | _FLOATS
    | (_TEXTS - {"citext"})
    | _BUILTIN_OTHER
    | {"numeric", "decimal", "boolean", "bool", "date", "timestamp", "timestamptz", "time", "timetz"}
    | {"timestamp with time zone", "timestamp without time zone", "time with time zone"}
    | {"time without time zone", "json", "jsonb", "bytea", "uuid"}
)


def _sa_type(
    base: str, kind: Kind, length: int | None, precision: int | None, scale: int | None, tz: bool
) -> Any:
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql as pg

    if kind == "integer":
        return {
            "smallint": sa.SmallInteger(),
            "int2": sa.SmallInteger(),
            "bigint": sa.BigInteger(),
            "int8": sa.BigInteger(),
            "bigserial": sa.BigInteger(),
        }.get(base, sa.Integer())
    if kind == "float":
        return sa.REAL() if base in ("real", "float4") else sa.Double()
    if kind == "decimal":
        return sa.Numeric(precision, scale)
    if kind == "boolean":
        return sa.Boolean()
    if kind == "date":
        return sa.Date()
    if kind == "datetime":
        return sa.DateTime(timezone=tz)
    if kind == "time":
        return sa.Time(timezone=tz)
    if kind == "json":
        return pg.JSONB() if base == "jsonb" else sa.JSON()
    if kind == "binary":
        return sa.LargeBinary()
    if kind == "uuid":
        return sa.Uuid()
    if kind == "text":
        if base in ("character", "char", "bpchar"):
            return sa.CHAR(length)
        return sa.String(length) if length else sa.Text()
    return None


def pg_column(
    name: str,
    type_text: str,
    *,
    nullable: bool = True,
    default: str | None = None,
    enums: dict[str, tuple[str, ...]] | None = None,
) -> Column:
    """A Column from pg_dump's `format_type` text (`character varying(100)`, `numeric(12,2)`, ...)."""
    t = " ".join(type_text.split())
    low = t.lower()
    args: list[int] = []
    m = re.search(r"\(([\d\s,]+)\)", low)
    if m:
        args = [int(a) for a in m.group(1).split(",") if a.strip()]
    base = re.sub(r"\([^)]*\)", "", low).strip()
    base = re.sub(r"^pg_catalog\.", "", base)
    tz = "with time zone" in base
    base_core = base.replace("with time zone", "").replace("without time zone", "").strip()
    kind: Kind = "other"
    length = precision = scale = None
    enum_values = None
    enum_type = None
    if base.endswith("]"):
        kind = "other"
    elif base_core in _INTS:
        kind = "integer"
    elif base_core in ("numeric", "decimal"):
        kind = "decimal"
        precision = args[0] if args else None
        scale = (args[1] if len(args) > 1 else 0) if args else None
    elif base_core in _FLOATS:
        kind = "float"
    elif base_core in ("boolean", "bool"):
        kind = "boolean"
    elif base_core in _TEXTS:
        kind = "text"
        length = args[0] if args else (1 if base_core in ("character", "char", "bpchar") else None)
    elif base_core == "date":
        kind = "date"
    elif base_core in ("timestamp", "timestamptz"):
        kind, tz = "datetime", tz or base_core == "timestamptz"
    elif base_core in ("time", "timetz"):
        kind, tz = "time", tz or base_core == "timetz"
    elif base_core in ("json", "jsonb"):
        kind = "json"
    elif base_core == "bytea":
        kind = "binary"
    elif base_core == "uuid":
        kind = "uuid"
    elif enums:
        s, n = split_qualified(t)
        enum_values = enums.get(table_key(s, n))
        if enum_values is not None:
            kind = "text"
            from sqlalchemy.dialects import postgresql as pg

            enum_type = pg.ENUM(*enum_values, name=n, create_type=False)
    autoinc = bool(default and "nextval(" in default)
    return Column(
        name=name,
        kind=kind,
        nullable=nullable,
        max_length=length,
        precision=precision,
        scale=scale,
        default=default,
        autoincrement=autoinc,
        timezone=tz,
        enum_values=enum_values,
        sql_type=enum_type
        or _sa_type(base_core, kind, length, precision, scale, tz)
        or _builtin_named(t, base),
    )


def _builtin_named(type_text: str, base: str) -> NamedType | None:
    """Arrays and PostgreSQL's other own types (`text[]`, `interval`, `tsvector`) by name, so a
    PostgreSQL target gets them back (they were text); types the dump defines itself are left out."""
    element = re.sub(r"(\[\d*\])+$", "", re.sub(r"^pg_catalog\.", "", base)).strip()
    if element not in _BUILTIN:
        return None
    return NamedType(re.sub(r"\bpg_catalog\.", "", type_text), "postgresql")


# --- DDL -> Schema --------------------------------------------------------------------------

_CREATE_VIEW = re.compile(
    rf"^CREATE\s+(?:OR\s+REPLACE\s+)?(?P<mat>MATERIALIZED\s+)?VIEW\s+(?P<name>{PG_QNAME})\s+AS\s+(?P<body>.*)$",
    re.I | re.S,
)
_CREATE_TABLE = re.compile(
    rf"^CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?(?:FOREIGN\s+)?TABLE\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{PG_QNAME})\s*(?P<rest>.*)$",
    re.I | re.S,
)
_ALTER_TABLE = re.compile(
    rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<name>{PG_QNAME})\s+(?P<act>.*)$", re.I | re.S
)
_CREATE_INDEX = re.compile(
    rf"^CREATE\s+(?P<unique>UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
    rf"(?P<ix>{PG_IDENT})?\s*ON\s+(?:ONLY\s+)?(?P<name>{PG_QNAME})\s*(?:USING\s+(?P<using>\w+)\s*)?\((?P<cols>.*)$",
    re.I | re.S,
)
_CREATE_ENUM = re.compile(
    rf"^CREATE\s+TYPE\s+(?P<name>{PG_QNAME})\s+AS\s+ENUM\s*\((?P<vals>.*)\)\s*$", re.I | re.S
)
_COPY = re.compile(
    rf"^COPY\s+(?P<name>{PG_QNAME})\s*(?:\((?P<cols>.*?)\))?\s+FROM\s+stdin\b(?P<opts>.*)$", re.I | re.S
)
_COL_CUT = re.compile(
    r"\s(?:COLLATE|DEFAULT|NOT\s+NULL|NULL|CONSTRAINT|CHECK|GENERATED|REFERENCES|PRIMARY\s+KEY|UNIQUE)\b",
    re.I,
)
_CONSTRAINT = re.compile(
    rf"^(?:CONSTRAINT\s+(?P<cname>{PG_IDENT})\s+)?(?P<what>PRIMARY\s+KEY|UNIQUE|FOREIGN\s+KEY|CHECK|EXCLUDE)\b"
    r"\s*(?:NULLS\s+(?:NOT\s+)?DISTINCT\s*)?(?P<rest>.*)$",
    re.I | re.S,
)
_REFERENCES = re.compile(rf"REFERENCES\s+(?P<name>{PG_QNAME})\s*(?P<cols>\([^)]*\))?", re.I | re.S)
_STRING = re.compile(r"'((?:[^']|'')*)'")


@dataclass
class _TableDraft:
    schema: str | None
    name: str
    columns: list[Column] = field(default_factory=list)
    generated: set[str] = field(default_factory=set)
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    uniques: list[tuple[str, ...]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    autoincrement: set[str] = field(default_factory=set)
    defaults: dict[str, str] = field(default_factory=dict)
    not_null: set[str] = field(default_factory=set)
    rows: int | None = None


class SchemaBuilder:
    """Collects PostgreSQL DDL statements into a Schema."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.tables: dict[str, _TableDraft] = {}
        self.views: list[View] = []  # names schema-qualified, as pg_dump writes them
        self.enums: dict[str, tuple[str, ...]] = {}
        self.extensions: list[str] = []  # CREATE EXTENSION: what operator classes of indexes may need

    def statement(self, sql: str, line: int) -> None:
        head = sql[:40].upper().lstrip()
        try:
            if head.startswith("CREATE") and " TABLE " in sql[:120].upper().replace("\n", " ") + " ":
                self._create_table(sql)
            elif head.startswith("ALTER TABLE"):
                self._alter_table(sql)
            elif m := _CREATE_VIEW.match(sql):
                vs, vn = split_qualified(m.group("name"))
                body = re.sub(
                    r"\s+WITH\s+(?:NO\s+)?DATA\s*$", "", m.group("body").strip().rstrip(";"), flags=re.I
                )
                self.views.append(View(vn, vs or "public", body, bool(m.group("mat"))))
            elif head.startswith("CREATE") and "INDEX" in head:
                self._create_index(sql)
            elif head.startswith("CREATE TYPE"):
                m = _CREATE_ENUM.match(sql)
                if m:
                    s, n = split_qualified(m.group("name"))
                    self.enums[table_key(s, n)] = tuple(
                        v.replace("''", "'") for v in _STRING.findall(m["vals"])
                    )
            elif head.startswith("CREATE EXTENSION"):
                em = re.match(rf"^CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?({PG_IDENT})", sql, re.I)
                if em and unquote_ident(em.group(1)) != "plpgsql":
                    self.extensions.append(unquote_ident(em.group(1)))
            elif head.startswith("\\CONNECT") or head.startswith("CREATE DATABASE"):
                log.info(
                    "%s line %d: %r ignored: rows go only to the target you name",
                    self.where,
                    line,
                    sql.splitlines()[0][:80],
                )
        except (ValueError, IndexError) as exc:  # a statement we cannot read is not fatal for the schema
            log.warning("%s line %d: could not read %r: %s", self.where, line, sql[:60], exc)

    def _create_table(self, sql: str) -> None:
        m = _CREATE_TABLE.match(sql)
        if not m:
            return
        schema, name = split_qualified(m.group("name"))
        rest = m.group("rest").strip()
        draft = _TableDraft(schema, name)
        self.tables[table_key(schema, name)] = draft
        parent = re.match(rf"PARTITION\s+OF\s+(?P<p>{PG_QNAME})", rest, re.I)
        if parent and not rest.startswith("("):
            ps, pn = split_qualified(parent.group("p"))
            pdraft = self.tables.get(table_key(ps, pn))
            if pdraft is not None:
                draft.columns = list(pdraft.columns)
            return
        if not rest.startswith("("):
            return
        body = parenthesized(rest)
        after = "" if body is None else rest[len(body) + 2 :]
        for element in split_top_level(rest[1:] if body is None else body):
            self._table_element(draft, element)
        inherits = re.match(r"\s*INHERITS\s*\((?P<p>.*?)\)", after, re.I | re.S)
        if inherits:
            self._inherit(draft, split_top_level(inherits.group("p")))

    def _inherit(self, draft: _TableDraft, parents: list[str]) -> None:
        """`INHERITS (parent, ...)`: the parents' columns come first (PostgreSQL's order, and pg_dump's
        COPY column list), a column the table declares again merges into the parent's."""
        own = {c.name: c for c in draft.columns}
        merged: dict[str, Column] = {}
        for p in parents:
            pdraft = self.tables.get(table_key(*split_qualified(p.strip())))
            if pdraft is None:
                continue
            for c in pdraft.columns:
                merged.setdefault(c.name, c)
            draft.generated |= pdraft.generated
            draft.defaults = {**pdraft.defaults, **draft.defaults}
            draft.not_null |= pdraft.not_null
        for name, c in own.items():
            parent = merged.get(name)
            merged[name] = c if parent is None or parent.nullable else replace(c, nullable=False)
        draft.columns = list(merged.values())

    def _table_element(self, draft: _TableDraft, element: str) -> None:
        cm = _CONSTRAINT.match(element)
        if cm:
            self._constraint(draft, cm)
            return
        if re.match(r"^LIKE\s", element, re.I):
            return
        nm = re.match(PG_IDENT, element)
        if not nm:
            return
        cname = unquote_ident(nm.group())
        rest = element[nm.end() :]
        cut = _COL_CUT.search(" " + rest)
        type_text = (rest if cut is None else (" " + rest)[: cut.start()]).strip()
        tail = "" if cut is None else (" " + rest)[cut.start() :]
        upper = tail.upper()
        default = None
        dm = re.search(
            r"\bDEFAULT\s+(.*?)(?=\s+(?:NOT\s+NULL|NULL|CONSTRAINT|CHECK|GENERATED|REFERENCES|"
            r"PRIMARY\s+KEY|UNIQUE|COLLATE)\b|$)",
            tail,
            re.I | re.S,
        )
        if dm:
            default = dm.group(1).strip()
        col = pg_column(
            cname,
            type_text,
            nullable="NOT NULL" not in " ".join(upper.split()),
            default=default,
            enums=self.enums,
        )
        gen = re.search(r"\bGENERATED\s+ALWAYS\s+AS\s*\(", tail, re.I)
        if gen:
            draft.generated.add(cname)
            col = replace(col, generated=parenthesized(tail[gen.end() - 1 :]))
        if re.search(r"\bGENERATED\s+(?:ALWAYS|BY\s+DEFAULT)\s+AS\s+IDENTITY", upper):
            col = replace(col, autoincrement=True)
        if re.search(r"\bPRIMARY\s+KEY\b", upper):
            draft.primary_key = (cname,)
        elif re.search(r"\bUNIQUE\b", upper):
            draft.uniques.append((cname,))
        ref = _REFERENCES.search(tail)
        if ref:
            rs, rn = split_qualified(ref.group("name"))
            draft.foreign_keys.append(
                ForeignKey(
                    (cname,),
                    table_key(rs, rn),
                    ident_list(ref.group("cols")) if ref.group("cols") else (),
                    **fk_actions(tail[ref.end() :]),
                )
            )
        draft.columns.append(col)

    def _constraint(self, draft: _TableDraft, cm: re.Match[str]) -> None:
        what = " ".join(cm.group("what").upper().split())
        rest = cm.group("rest").strip()
        cname = unquote_ident(cm.group("cname")) if cm.group("cname") else None
        if what == "CHECK":
            body = parenthesized(rest)
            if body is not None:
                draft.checks.append(Check(cname, body.strip(), "postgresql"))
            return
        if what == "EXCLUDE":
            return
        lm = re.match(r"\(([^)]*)\)", rest)
        if not lm:
            return
        cols = ident_list(lm.group(1))
        if what == "PRIMARY KEY":
            draft.primary_key = cols
        elif what == "UNIQUE":
            draft.uniques.append(cols)
        else:
            ref = _REFERENCES.search(rest)
            if ref:
                rs, rn = split_qualified(ref.group("name"))
                draft.foreign_keys.append(
                    ForeignKey(
                        cols,
                        table_key(rs, rn),
                        ident_list(ref.group("cols")) if ref.group("cols") else (),
                        cname,
                        **fk_actions(rest[ref.end() :]),
                    )
                )

    def _alter_table(self, sql: str) -> None:
        m = _ALTER_TABLE.match(sql)
        if not m:
            return
        s, n = split_qualified(m.group("name"))
        draft = self.tables.get(table_key(s, n))
        if draft is None:
            return
        for act in split_top_level(m.group("act")):
            am = re.match(r"^ADD\s+(.*)$", act, re.I | re.S)
            if am and not re.match(r"^COLUMN\b", am.group(1), re.I):
                cm = _CONSTRAINT.match(am.group(1).strip())
                if cm:
                    self._constraint(draft, cm)
                continue
            cm2 = re.match(rf"^ALTER\s+(?:COLUMN\s+)?(?P<col>{PG_IDENT})\s+(?P<what>.*)$", act, re.I | re.S)
            if cm2:
                col = unquote_ident(cm2.group("col"))
                what = cm2.group("what")
                if re.match(r"ADD\s+GENERATED\s+.*AS\s+IDENTITY", what, re.I | re.S):
                    draft.autoincrement.add(col)
                elif (dm := re.match(r"SET\s+DEFAULT\s+(.*)$", what, re.I | re.S)) is not None:
                    draft.defaults[col] = dm.group(1).strip()
                    if "nextval(" in dm.group(1):
                        draft.autoincrement.add(col)
                elif re.match(r"SET\s+NOT\s+NULL", what, re.I):
                    draft.not_null.add(col)

    def _create_index(self, sql: str) -> None:
        m = _CREATE_INDEX.match(sql)
        if not m:
            return
        s, n = split_qualified(m.group("name"))
        draft = self.tables.get(table_key(s, n))
        if draft is None:
            return
        listed = parenthesized("(" + m.group("cols")) or ""
        tail = m.group("cols")[len(listed) + 1 :].strip().rstrip(";").strip()
        where = re.match(r"^WHERE\s+(?P<p>.*)$", tail, re.I | re.S)
        cols: list[str] = []
        for el in split_top_level(listed):
            em = re.match(
                rf"^({PG_IDENT})(?:\s+(?:ASC|DESC|NULLS\s+FIRST|NULLS\s+LAST|[\w.]+_ops))*\s*$", el, re.I
            )
            if not em:  # an expression: made again as written (`definition`), on PostgreSQL only
                cols = []
                break
            cols.append(unquote_ident(em.group(1)))
        ix = unquote_ident(m.group("ix")) if m.group("ix") else None
        method = (m.group("using") or "btree").lower()
        # as pg_dump writes it after the table name: operator classes, expressions, the predicate
        definition = f"USING {method} ({m.group('cols').strip().rstrip(';').strip()}"
        types = {c.name: c for c in draft.columns}
        scalar_ok = f"btree_{method}" in self.extensions  # btree_gin/btree_gist index plain columns
        if (
            method != "btree"
            and "_ops" not in listed
            and not scalar_ok
            and not all(
                c in types and (isinstance(types[c].sql_type, NamedType) or types[c].kind == "json")
                for c in cols
            )
        ):  # GIN/GiST need the column's own type (an array, tsvector, jsonb), which this one did not keep
            log.warning(
                "%s: %s index %s is not recreated from a dump", self.where, method.upper(), ix or cols
            )
            return
        draft.indexes.append(
            Index(
                ix,
                tuple(cols),
                unique=bool(m.group("unique")),
                method=None if method == "btree" else method,
                where=where.group("p").strip() if where else None,
                definition=definition,
                requires=self._index_extensions(method, listed),
            )
        )

    def _index_extensions(self, method: str, listed: str) -> tuple[str, ...]:
        """The dump's extensions an index may need: btree_gin/btree_gist for a GIN/GiST index, pg_trgm for
        trigram operator classes (pg_get_indexdef names no extension; the archive's objects are not read)."""
        wanted = {f"btree_{method}"} | ({"pg_trgm"} if "_trgm_ops" in listed else set())
        return tuple(e for e in self.extensions if e in wanted)

    def add_copy_only(self, schema: str | None, name: str, columns: tuple[str, ...]) -> None:
        """A COPY for a table the dump has no CREATE TABLE for (a data-only dump): columns as text."""
        key = table_key(schema, name)
        if key not in self.tables:
            log.warning(
                "%s: table %s has data but no CREATE TABLE; its columns are read as text", self.where, key
            )
            self.tables[key] = _TableDraft(schema, name, columns=[pg_column(c, "text") for c in columns])

    def build(self) -> Schema:
        from sanitize.db.reflect import OWNED_PREFIX

        tables: dict[str, Table] = {}
        for key, d in self.tables.items():
            if (d.schema or "").startswith(OWNED_PREFIX):
                continue  # sanitize's own bookkeeping (a dump of a database it made): no user data
            cols = []
            for c in d.columns:
                if c.name in d.autoincrement:
                    c = replace(c, autoincrement=True)
                if c.name in d.defaults:
                    c = replace(c, default=d.defaults[c.name])
                if c.name in d.not_null or c.name in d.primary_key:
                    c = replace(c, nullable=False)
                cols.append(c)
            tables[key] = Table(
                key=key,
                name=d.name,
                schema=d.schema,
                columns=tuple(cols),
                primary_key=d.primary_key,
                foreign_keys=tuple(d.foreign_keys),
                unique_constraints=tuple(dict.fromkeys(d.uniques)),
                indexes=tuple(d.indexes),
                row_estimate=d.rows,
                checks=tuple(d.checks),
            )
        return Schema(tables, dialect="postgresql", views=tuple(self.views))


# --- walking a plain-format stream ----------------------------------------------------------


@dataclass(frozen=True)
class CopyHeader:
    key: str
    schema: str | None
    name: str
    columns: tuple[str, ...]
    line: int  # line of the COPY statement
    data_offset: int  # stream offset of the first data byte
    data_line: int


def parse_copy(sql: str) -> tuple[str | None, str, tuple[str, ...]] | None:
    """`COPY s.t (a, b) FROM stdin` -> (schema, table, columns); None for any other statement."""
    m = _COPY.match(sql)
    if not m:
        return None
    opts = m.group("opts").upper()
    if "CSV" in opts or "BINARY" in opts:
        raise DumpError(
            f"COPY ... FROM stdin with options {m.group('opts').strip()!r} is not supported "
            "(pg_dump writes the text format)"
        )
    schema, name = split_qualified(m.group("name"))
    cols = ident_list(m.group("cols")) if m.group("cols") is not None else ()
    return schema, name, cols


class PlainHandler:
    """Receives a plain dump's parts in order; the base ignores everything."""

    def text(self, data: bytes) -> None:
        """Bytes that are not row data, exactly as in the file (one line at a time)."""

    def statement(self, sql: str, line: int) -> None:
        """A complete SQL statement (comments removed) or psql meta-command."""

    def copy(self, header: CopyHeader, chunks: Iterator[bytes]) -> None:
        """A COPY block: `chunks` yields its data lines in blocks; the end marker is not included."""


def walk_plain(
    reader: ByteReader,
    handler: PlainHandler,
    *,
    chunk_bytes: int = CHUNK_BYTES,
    schema_lookup: Callable[[str], tuple[str, ...] | None] | None = None,
) -> None:
    """Feed a plain-format dump to `handler`; DumpError when it is truncated or corrupt."""
    splitter = StatementSplitter("postgresql")
    header_seen = complete_seen = False
    first_lines = 0
    while True:
        line_no = reader.line
        raw = reader.readline()
        if not raw:
            break
        handler.text(raw)
        if raw.startswith(b"-- PostgreSQL database dump"):
            if raw.startswith(b"-- PostgreSQL database dump complete"):
                complete_seen = True
            elif first_lines < 5:
                header_seen = True
        first_lines += 1
        text = raw.decode("utf-8", "surrogateescape")
        for stmt in splitter.feed(text, line_no):
            handler.statement(stmt, splitter.start_line or line_no)
            if stmt[:4].upper() != "COPY":
                continue
            parsed = parse_copy(stmt)
            if parsed is None:
                continue
            schema, name, cols = parsed
            if not cols and schema_lookup is not None:
                cols = schema_lookup(table_key(schema, name)) or ()
            header = CopyHeader(
                table_key(schema, name), schema, name, cols, line_no, reader.offset, reader.line
            )
            chunks = reader.copy_chunks(chunk_bytes, f"table {header.key}")
            handler.copy(header, chunks)
            for _ in chunks:  # whatever the handler did not read
                pass
    if splitter.pending:
        raise DumpError(
            f"{reader.where}: the statement starting at line {splitter.start_line} is cut off "
            "at the end of the "
            f"file (byte {reader.offset}): the dump is truncated. Take a complete dump; nothing was written."
        )
    if header_seen and not complete_seen:
        raise DumpError(
            f"{reader.where}: ends at byte {reader.offset} (line {reader.line}) without pg_dump's closing "
            "'-- PostgreSQL database dump complete' line: the dump is truncated. Take a complete dump; "
            "nothing was written."
        )


@dataclass
class CopyBlock:
    header: CopyHeader
    rows: int
    nbytes: int


class _Scan(PlainHandler):
    """Pass 1: the schema, and where each COPY block is and how many rows it holds."""

    def __init__(self, where: str, count_rows: bool = True) -> None:
        self.builder = SchemaBuilder(where)
        self.blocks: list[CopyBlock] = []
        self.count_rows = count_rows

    def statement(self, sql: str, line: int) -> None:
        self.builder.statement(sql, line)

    def copy_columns(self, key: str) -> tuple[str, ...] | None:
        """The columns a COPY without a column list fills: every column but generated ones."""
        d = self.builder.tables.get(key)
        return None if d is None else tuple(c.name for c in d.columns if c.name not in d.generated)

    def copy(self, header: CopyHeader, chunks: Iterator[bytes]) -> None:
        rows = nbytes = 0
        for chunk in chunks:
            rows += chunk.count(b"\n")
            nbytes += len(chunk)
        self.blocks.append(CopyBlock(header, rows, nbytes))
        self.builder.add_copy_only(header.schema, header.name, header.columns)

    def schema(self) -> Schema:
        counts: dict[str, int] = {}
        for b in self.blocks:
            counts[b.header.key] = counts.get(b.header.key, 0) + b.rows
        for key, n in counts.items():
            if key in self.builder.tables:
                self.builder.tables[key].rows = n
        return self.builder.build()


def _copy_columns(table: Table, names: tuple[str, ...], where: str) -> list[Column]:
    cols = []
    for n in names:
        try:
            cols.append(table.column(n))
        except KeyError:
            raise DumpError(
                f"{where}: COPY for {table.key} names column {n!r}, which its CREATE TABLE lacks"
            ) from None
    return cols


def iter_frames(
    chunks: Iterator[bytes], table: Table, header: CopyHeader, where: str
) -> Iterator[tuple[bytes, pa.Table, pd.DataFrame, list[pa.ChunkedArray]]]:
    """Decode a COPY block: (lines, raw text table, typed DataFrame, typed columns) per chunk."""
    columns = _copy_columns(table, header.columns, where)
    if not columns:
        raise ValueError("iter_frames needs a COPY with columns")
    line = header.data_line
    for chunk in chunks:
        raw = pgtext.split_rows(chunk, header.columns, first_line=line, where=f"{where}: ")
        line += raw.num_rows
        df, typed = pgtext.decode_frame(raw, columns, chunk)
        yield chunk, raw, df, typed


# --- sources ------------------------------------------------------------------------------


def _select(df: pd.DataFrame, t: Table, columns: list[str] | None) -> pd.DataFrame:
    """The frame with `columns` (default: every column of `t`), in order; a column the COPY does not
    list is NULL (see _warn_unlisted)."""
    wanted = list(columns) if columns is not None else list(t.column_names)
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        empty = pa.table({c: pa.nulls(len(df), arrow_type(t.column(c), "postgresql")) for c in missing})
        nulls = to_pandas(empty)
        nulls.index = df.index
        df = pd.concat([df, nulls], axis=1)
    return df[wanted]


def _warn_unlisted(header: CopyHeader, t: Table, where: str) -> None:
    """Say once per COPY block which columns it has no data for: pg_dump leaves out generated columns."""
    unlisted = [c for c in t.column_names if header.columns and c not in header.columns]
    if unlisted:
        log.warning(
            "%s: line %d: table %s: column(s) %s have no data in the dump (pg_dump leaves out generated "
            "columns): a PostgreSQL target computes them, other targets get NULL",
            where,
            header.line,
            t.key,
            ", ".join(unlisted),
        )


class PlainDumpSource(DumpSource):
    """A plain-format pg_dump file (optionally gzip) as a read-only source."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.display = str(self.path)
        scan = _Scan(self.display)
        with open_binary(self.path) as f:
            walk_plain(ByteReader(f, self.display), scan, schema_lookup=scan.copy_columns)
        self.blocks = scan.blocks
        self.schema = scan.schema()

    def count(self, table: str) -> int:
        self.table(table)
        return sum(b.rows for b in self.blocks if b.header.key == table)

    def read_batches(
        self, table: str, batch_size: int = DEFAULT_BATCH, columns: list[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        t = self.table(table)
        if columns is not None:
            self.columns_of(table, columns)
        blocks = [b for b in self.blocks if b.header.key == table]
        if not blocks or all(b.rows == 0 for b in blocks):
            return
        per_row = max(1, sum(b.nbytes for b in blocks) // max(1, sum(b.rows for b in blocks)))
        chunk = max(1 << 16, min(64 << 20, batch_size * per_row))

        def frames() -> Iterator[pd.DataFrame]:
            for b in blocks:
                _warn_unlisted(b.header, t, self.display)
                with open_binary(self.path) as f:
                    f.seek(b.header.data_offset)
                    reader = ByteReader(f, self.display, offset=b.header.data_offset, line=b.header.data_line)
                    for _chunk, _raw, df, _typed in iter_frames(
                        reader.copy_chunks(chunk, f"table {table}"), t, b.header, self.display
                    ):
                        yield _select(df, t, columns)

        if columns == [] or not any(b.header.columns for b in blocks):
            for b in blocks:
                for start in range(0, b.rows, batch_size):
                    yield pd.DataFrame(index=pd.RangeIndex(min(batch_size, b.rows - start)))
            return
        yield from rebatch_frames(prefetch(frames, depth=1), batch_size)  # decode ahead while a batch loads


# --- pg_restore for custom and directory formats ------------------------------------------


def _pg_restore() -> str:
    exe = shutil.which("pg_restore")
    if exe is None:
        raise DumpError(
            "pg_restore is not installed; custom (-Fc) and directory (-Fd) dumps are read through it. "
            "Install the PostgreSQL client tools (e.g. apt-get install postgresql-client)."
        )
    return exe


@contextmanager
def pg_restore_stream(path: Path, *args: str) -> Iterator[BinaryIO]:
    """The plain SQL `pg_restore --file=-` makes of an archive; DumpError if pg_restore fails."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [_pg_restore(), "--file=-", *args, str(path)], stdout=subprocess.PIPE, stderr=err
        )
        assert proc.stdout is not None
        ok = False
        try:
            yield proc.stdout  # type: ignore[misc]
            ok = True
        finally:
            if not ok:
                proc.kill()
            proc.stdout.close()
            rc = proc.wait()
        if rc != 0:
            err.seek(0)
            msg = err.read().decode("utf-8", "replace").strip()[-800:]
            raise DumpError(
                f"{path}: pg_restore could not read the archive (exit {rc}): {msg}. The dump is "
                "truncated, corrupt or from a newer PostgreSQL; take a fresh one."
            )


class ArchiveDumpSource(DumpSource):
    """A custom (-Fc) or directory (-Fd) pg_dump archive, read through pg_restore."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.display = str(self.path)
        self.format = detect_format(self.path)
        scan = _Scan(self.display)
        with pg_restore_stream(self.path, "--schema-only") as out:
            walk_plain(ByteReader(out, self.display), scan)
        self.schema = scan.builder.build()
        self._counts: dict[str, int] = {}

    def _table_args(self, t: Table) -> list[str]:
        return ["--data-only", f"--table={t.name}", f"--schema={t.schema or DEFAULT_SCHEMA}"]

    def read_batches(
        self, table: str, batch_size: int = DEFAULT_BATCH, columns: list[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        t = self.table(table)
        if columns is not None:
            self.columns_of(table, columns)
        with pg_restore_stream(self.path, *self._table_args(t)) as out:
            reader = ByteReader(out, self.display)
            yield from rebatch_frames(prefetch(lambda: self._frames(reader, t, columns), depth=1), batch_size)

    def _frames(self, reader: ByteReader, t: Table, columns: list[str] | None) -> Iterator[pd.DataFrame]:
        splitter = StatementSplitter("postgresql")
        while True:
            line_no = reader.line
            raw = reader.readline()
            if not raw:
                return
            for stmt in splitter.feed(raw.decode("utf-8", "surrogateescape"), line_no):
                parsed = parse_copy(stmt) if stmt[:4].upper() == "COPY" else None
                if parsed is None or table_key(parsed[0], parsed[1]) != t.key:
                    continue
                header = CopyHeader(
                    t.key, parsed[0], parsed[1], parsed[2], line_no, reader.offset, reader.line
                )
                _warn_unlisted(header, t, self.display)
                for _chunk, _raw, df, _typed in iter_frames(
                    reader.copy_chunks(CHUNK_BYTES, f"table {t.key}"), t, header, self.display
                ):
                    yield _select(df, t, columns)

    def count(self, table: str) -> int:
        t = self.table(table)
        if table not in self._counts:
            n = 0
            with pg_restore_stream(self.path, *self._table_args(t)) as out:
                reader = ByteReader(out, self.display)
                splitter = StatementSplitter("postgresql")
                while raw := reader.readline():
                    for stmt in splitter.feed(raw.decode("utf-8", "surrogateescape"), reader.line):
                        if stmt[:4].upper() == "COPY" and parse_copy(stmt):
                            n += sum(
                                c.count(b"\n") for c in reader.copy_chunks(CHUNK_BYTES, f"table {table}")
                            )
            self._counts[table] = n
        return self._counts[table]


def read_schema(path: Path) -> tuple[Schema, list[CopyBlock]]:
    """The schema of a pg_dump file or archive (and, for plain files, its COPY blocks)."""
    fmt = detect_format(path)
    scan = _Scan(str(path))
    if fmt == "pg_plain":
        with open_binary(path) as f:
            walk_plain(ByteReader(f, str(path)), scan, schema_lookup=scan.copy_columns)
        return scan.schema(), scan.blocks
    with pg_restore_stream(path, "--schema-only") as out:
        walk_plain(ByteReader(out, str(path)), scan)
    return scan.builder.build(), []
