"""mysqldump DDL -> Schema: column definitions, `CREATE TABLE` keys, and the `USE` a dump is in.

Databases never redirect writes: a dump's `CREATE DATABASE`, `USE` (from `--databases` or
`--all-databases`) are ignored when the dump is a source (with a log line) and tables are keyed by
their bare name, so rows can only go to the target that was named. A dump holding two tables of
the same name in different databases is refused.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sanitize.db.types import MYSQL_SPATIAL, NamedType
from sanitize.errors import DumpError
from sanitize.schema import Check, Column, ForeignKey, Index, Kind, Schema, Table, View
from sanitize.sqlscan import (
    MY_IDENT,
    MY_QNAME,
    fk_actions,
    ident_list,
    parenthesized,
    split_qualified,
    split_top_level,
    unquote_ident,
)

log = logging.getLogger("sanitize")
META_TABLE = "sanitize_meta"  # the table sanitize keeps in a MariaDB/MySQL database it made (db/reflect.py)

# --- types ----------------------------------------------------------------------------------

_INTS = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year", "serial"}
_TEXTS = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "nchar", "nvarchar"}
_BINARIES = {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}


def _sa_type(base: str, args: list[int], unsigned: bool, values: tuple[str, ...] | None) -> Any:
    from sqlalchemy.dialects import mysql

    p = args[0] if args else None
    s = args[1] if len(args) > 1 else None
    table: dict[str, Callable[[], Any]] = {
        "tinyint": lambda: mysql.TINYINT(display_width=p, unsigned=unsigned),
        "smallint": lambda: mysql.SMALLINT(unsigned=unsigned),
        "mediumint": lambda: mysql.MEDIUMINT(unsigned=unsigned),
        "int": lambda: mysql.INTEGER(unsigned=unsigned),
        "integer": lambda: mysql.INTEGER(unsigned=unsigned),
        "bigint": lambda: mysql.BIGINT(unsigned=unsigned),
        "serial": lambda: mysql.BIGINT(unsigned=True),
        "year": lambda: mysql.YEAR(),
        "decimal": lambda: mysql.DECIMAL(precision=p, scale=s, unsigned=unsigned),
        "numeric": lambda: mysql.DECIMAL(precision=p, scale=s, unsigned=unsigned),
        "double": lambda: mysql.DOUBLE(),
        "float": lambda: mysql.FLOAT(),
        "real": lambda: mysql.DOUBLE(),
        "char": lambda: mysql.CHAR(length=p),
        "varchar": lambda: mysql.VARCHAR(length=p),
        "tinytext": lambda: mysql.TINYTEXT(),
        "text": lambda: mysql.TEXT(),
        "mediumtext": lambda: mysql.MEDIUMTEXT(),
        "longtext": lambda: mysql.LONGTEXT(),
        "binary": lambda: mysql.BINARY(length=p),
        "varbinary": lambda: mysql.VARBINARY(length=p),
        "tinyblob": lambda: mysql.TINYBLOB(),
        "blob": lambda: mysql.BLOB(),
        "mediumblob": lambda: mysql.MEDIUMBLOB(),
        "longblob": lambda: mysql.LONGBLOB(),
        "date": lambda: mysql.DATE(),
        "datetime": lambda: mysql.DATETIME(fsp=p),
        "timestamp": lambda: mysql.TIMESTAMP(fsp=p),
        "time": lambda: mysql.TIME(fsp=p),
        "json": lambda: mysql.JSON(),
        "bit": lambda: mysql.BIT(p),
        "enum": lambda: mysql.ENUM(*(values or ())),
        "set": lambda: mysql.SET(*(values or ())),
    }
    make = table.get(base)
    return make() if make else None


def mysql_column(name: str, definition: str) -> Column:
    """A Column from a mysqldump column definition (`varchar(200) NOT NULL DEFAULT ...`)."""
    m = re.match(r"\s*([A-Za-z]+)\s*(\(((?:[^()']|'(?:[^'\\]|\\.|'')*')*)\))?", definition, re.S)
    if not m:
        return Column(name, "other")
    base = m.group(1).lower()
    inner = m.group(3) or ""
    rest = definition[m.end() :]
    upper = " ".join(rest.upper().split())
    values: tuple[str, ...] | None = None
    args: list[int] = []
    if base in ("enum", "set"):
        values = tuple(
            v.replace("''", "'").replace("\\'", "'") for v in re.findall(r"'((?:[^'\\]|\\.|'')*)'", inner)
        )
    elif inner:
        args = [int(a) for a in re.findall(r"\d+", inner)]
    unsigned = "UNSIGNED" in upper
    gen = re.search(r"\bGENERATED\s+ALWAYS\s+AS\s*\(", rest, re.I)  # how mysqldump writes one
    kind: Kind = "other"
    length = precision = scale = None
    json_check = re.search(rf"CHECK\s*\(\s*JSON_VALID\s*\(\s*`?{re.escape(name.upper())}`?\s*\)", upper)
    if base == "json" or json_check:
        kind = "json"
    elif base in _INTS:
        kind = "integer"
    elif base in ("decimal", "numeric", "dec", "fixed"):
        kind, precision = "decimal", args[0] if args else 10
        scale = args[1] if len(args) > 1 else 0
    elif base in ("double", "float", "real"):
        kind = "float"
    elif base in ("bool", "boolean"):
        kind = "boolean"
    elif base in _TEXTS:
        kind = "text"
        length = args[0] if args and base in ("char", "varchar", "nchar", "nvarchar") else None
        if base in ("char", "nchar") and not args:
            length = 1
    elif base in _BINARIES:
        kind = "binary"
        length = args[0] if args else None
    elif base == "date":
        kind = "date"
    elif base in ("datetime", "timestamp"):
        kind = "datetime"
    elif base == "time":
        kind = "time"
    elif base == "uuid":
        kind = "uuid"
    elif base == "bit":
        kind = "boolean" if (args[0] if args else 1) == 1 else "integer"
    elif base in MYSQL_SPATIAL:
        kind = "binary"  # the internal form (SRID + WKB), as mysqldump writes it
    default = None
    dm = re.search(r"\bDEFAULT\s+('(?:[^'\\]|\\.|'')*'|\S+)", rest, re.I | re.S)
    if dm:
        default = dm.group(1)
        if default.upper() == "NULL":
            default = None
        on_update = re.match(r"\s+ON\s+UPDATE\s+(\S+)", rest[dm.end() :], re.I)
        if default is not None and on_update:  # as SQLAlchemy reflects it from a server
            default = f"{default} ON UPDATE {on_update.group(1)}"
    return Column(
        name=name,
        kind=kind,
        nullable="NOT NULL" not in upper,
        max_length=length,
        precision=precision,
        scale=scale,
        default=default,
        autoincrement="AUTO_INCREMENT" in upper,
        enum_values=values if base == "enum" else None,
        sql_type=_sa_type(base, args, unsigned, values) or NamedType(m.group(0).strip(), "mysql", kind),
        generated=parenthesized(rest[gen.end() - 1 :]) if gen else None,
        generated_stored=bool(re.search(r"\)\s*(?:STORED|PERSISTENT)\b", rest, re.I)),
    )


_VERSIONED = re.compile(r"/\*!\d*\s?|\s?\*/")
_CREATE_VIEW = re.compile(
    rf"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:ALGORITHM\s*=\s*\w+\s+)?(?:DEFINER\s*=\s*\S+\s+)?"
    rf"(?:SQL\s+SECURITY\s+\w+\s+)?VIEW\s+(?P<name>{MY_QNAME})\s+AS\s+(?P<body>.*)$",
    re.I | re.S,
)
_CREATE_TABLE = re.compile(
    rf"^CREATE\s+(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{MY_QNAME})"
    r"\s*\((?P<body>.*)\)(?P<opts>[^()]*)$",
    re.I | re.S,
)
_KEY = re.compile(
    rf"^(?:(?P<kind>PRIMARY|UNIQUE|FULLTEXT|SPATIAL)\s+)?(?:KEY|INDEX)\s*(?P<name>{MY_IDENT})?\s*"
    r"(?:USING\s+\w+\s*)?(?P<cols>\(.*\))",
    re.I | re.S,
)
_FK = re.compile(
    rf"^(?:CONSTRAINT\s*(?P<name>{MY_IDENT})?\s*)?FOREIGN\s+KEY\s*(?:{MY_IDENT}\s*)?(?P<cols>\([^)]*\))"
    rf"\s*REFERENCES\s+(?P<ref>{MY_QNAME})\s*(?P<rcols>\([^)]*\))",
    re.I | re.S,
)
_CHECK = re.compile(rf"^(?:CONSTRAINT\s*(?P<name>{MY_IDENT})?\s*)?CHECK\s*\(", re.I)
_USE = re.compile(rf"^USE\s+(?P<db>{MY_IDENT})\s*$", re.I | re.S)


def _key_columns(text: str) -> tuple[str, ...]:
    """`(`a`,`b`(10))` -> ('a', 'b') (prefix lengths and ASC/DESC dropped)."""
    inner = text.strip()[1:-1]
    cols = []
    for part in split_top_level(inner):
        m = re.match(MY_IDENT, part.strip())
        if m:
            cols.append(unquote_ident(m.group(), "mysql"))
    return tuple(cols)


@dataclass
class _TableDraft:
    name: str
    database: str | None
    columns: list[Column] = field(default_factory=list)
    generated: set[str] = field(default_factory=set)
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    uniques: list[tuple[str, ...]] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    rows: int | None = None


class SchemaBuilder:
    """Collects mysqldump DDL into a Schema; tracks (and ignores for routing) the current database."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.tables: dict[str, _TableDraft] = {}
        self.views: dict[str, View] = {}  # mysqldump writes a stand-in first, the real view at the end
        self.database: str | None = None

    def statement(self, sql: str, line: int) -> None:
        head = sql[:30].upper()
        if head.startswith("USE"):
            m = _USE.match(sql)
            if m:
                self.database = unquote_ident(m.group("db"), "mysql")
                log.info(
                    "%s line %d: %r ignored: rows go only to the target you name", self.where, line, sql[:80]
                )
        elif head.startswith(("CREATE DATABASE", "CREATE SCHEMA")):
            log.info(
                "%s line %d: %r ignored: rows go only to the target you name",
                self.where,
                line,
                " ".join(sql.split())[:80],
            )
        elif head.startswith("CREATE") and "TABLE" in head:
            self._create_table(sql)
        elif "VIEW" in sql[:300].upper():
            # `/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER=... */ /*!50001 VIEW v AS ... */`
            view = _CREATE_VIEW.match(_VERSIONED.sub("", sql).strip())
            if view:
                name = split_qualified(view.group("name"), "mysql")[1]
                self.views[name] = View(name, None, view.group("body").strip())

    def _create_table(self, sql: str) -> None:
        m = _CREATE_TABLE.match(sql)
        if not m:
            log.warning("%s: could not read %r", self.where, sql[:80])
            return
        _db, name = split_qualified(m.group("name"), "mysql")
        if name in self.tables and self.tables[name].database != self.database:
            raise DumpError(
                f"{self.where}: table {name!r} appears in databases {self.tables[name].database!r} and "
                f"{self.database!r}; tables are matched by name only "
                "(a dump's USE never picks the target), so "
                "dump one database at a time"
            )
        draft = _TableDraft(name, self.database)
        self.tables[name] = draft
        for element in split_top_level(m.group("body"), backslash_escapes=True):
            self._element(draft, element)

    def _element(self, draft: _TableDraft, element: str) -> None:
        if element.startswith("`"):
            nm = re.match(MY_IDENT, element)
            if not nm:
                return
            cname = unquote_ident(nm.group(), "mysql")
            definition = element[nm.end() :]
            if re.search(
                r"\b(?:GENERATED\s+ALWAYS\s+)?AS\s*\(.*\)\s*(?:VIRTUAL|STORED|PERSISTENT)",
                definition,
                re.I | re.S,
            ):
                draft.generated.add(cname)
            draft.columns.append(mysql_column(cname, definition))
            inline = re.search(r"\bCHECK\s*\(", definition, re.I)
            body = parenthesized(definition[inline.end() - 1 :]) if inline else None
            if body is not None:  # MariaDB writes a column's CHECK with it, named after the column
                draft.checks.append(Check(cname, body.strip(), "mysql"))
            return
        cm = _CHECK.match(element)
        if cm:
            body = parenthesized(element[cm.end() - 1 :])
            if body is not None:
                name = unquote_ident(cm.group("name"), "mysql") if cm.group("name") else None
                draft.checks.append(Check(name, body.strip(), "mysql"))
            return
        fk = _FK.match(element)
        if fk:
            _rdb, rname = split_qualified(fk.group("ref"), "mysql")
            draft.foreign_keys.append(
                ForeignKey(
                    ident_list(fk.group("cols"), "mysql"),
                    rname,
                    ident_list(fk.group("rcols"), "mysql"),
                    unquote_ident(fk.group("name"), "mysql") if fk.group("name") else None,
                    **fk_actions(element[fk.end() :]),
                )
            )
            return
        km = _KEY.match(element)
        if km:
            kind = (km.group("kind") or "").upper()
            cols = _key_columns(km.group("cols"))
            iname = unquote_ident(km.group("name"), "mysql") if km.group("name") else None
            if kind == "PRIMARY":
                draft.primary_key = cols
            elif kind == "UNIQUE":
                draft.uniques.append(cols)
                draft.indexes.append(Index(iname, cols, unique=True))
            elif kind == "":
                draft.indexes.append(Index(iname, cols))
            else:  # FULLTEXT / SPATIAL: rebuilt on MySQL only (see Index.method)
                draft.indexes.append(Index(iname, cols, method=kind.lower()))

    def build(self) -> Schema:
        tables: dict[str, Table] = {}
        for key, d in self.tables.items():
            if key == META_TABLE:
                continue  # sanitize's own bookkeeping (a dump of a database it made): no user data
            cols = tuple(
                c if c.name not in d.primary_key else Column(**{**c.__dict__, "nullable": False})
                for c in d.columns
            )
            tables[key] = Table(
                key=key,
                name=d.name,
                schema=None,
                columns=cols,
                primary_key=d.primary_key,
                foreign_keys=tuple(d.foreign_keys),
                unique_constraints=tuple(dict.fromkeys(d.uniques)),
                indexes=tuple(d.indexes),
                row_estimate=d.rows,
                checks=tuple(d.checks),
            )
        return Schema(tables, dialect="mysql", views=tuple(self.views.values()))
