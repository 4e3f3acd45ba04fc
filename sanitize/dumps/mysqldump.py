"""mysqldump / mariadb-dump files: the schema from `CREATE TABLE`, rows from multi-row `INSERT`s.

Values are tokenised on bytes (a dump made without `--hex-blob` holds raw binary inside quotes):
quoted strings with backslash escapes (`\\0 \\' \\" \\b \\n \\r \\t \\Z \\\\`) and doubled quotes,
`_binary '...'`, `0x..` and `X'..'` hex literals (`--hex-blob`), `b'..'` bit literals, numbers and
`NULL`. Each value's literal text is kept next to its decoded value, so a value the transform did
not change is written back exactly as it was; an INSERT whose rows are all unchanged is copied
byte for byte.

Databases never redirect writes: a dump's `CREATE DATABASE`, `USE` (from `--databases` or
`--all-databases`) are ignored when the dump is a source (with a log line) and tables are keyed by
their bare name, so rows can only go to the target that was named. A dump holding two tables of
the same name in different databases is refused. In a rewritten dump those statements are kept
(see rewrite.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.db.types import to_pandas
from sanitize.dumps import pgtext
from sanitize.dumps.source import DumpSource, open_binary
from sanitize.dumps.sqlscan import (
    MY_IDENT,
    MY_QNAME,
    ByteReader,
    StatementSplitter,
    ident_list,
    split_qualified,
    split_top_level,
    unquote_ident,
)
from sanitize.errors import DumpError
from sanitize.schema import Column, ForeignKey, Index, Kind, Schema, Table

log = logging.getLogger("sanitize")

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
    default = None
    dm = re.search(r"\bDEFAULT\s+('(?:[^'\\]|\\.|'')*'|\S+)", rest, re.I | re.S)
    if dm:
        default = dm.group(1)
        if default.upper() == "NULL":
            default = None
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
        sql_type=_sa_type(base, args, unsigned, values),
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
_USE = re.compile(rf"^USE\s+(?P<db>{MY_IDENT})\s*$", re.I | re.S)
_CREATE_DB = re.compile(rf"^CREATE\s+(?:DATABASE|SCHEMA)\b.*?(?P<db>{MY_IDENT})\s*(?:/\*.*)?$", re.I | re.S)


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
    rows: int | None = None


class SchemaBuilder:
    """Collects mysqldump DDL into a Schema; tracks (and ignores for routing) the current database."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.tables: dict[str, _TableDraft] = {}
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

    def build(self) -> Schema:
        tables: dict[str, Table] = {}
        for key, d in self.tables.items():
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
            )
        return Schema(tables, dialect="mysql")


# --- INSERT statements ----------------------------------------------------------------------

_STR = rb"'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'"  # unrolled: runs of plain bytes are matched in one step
_VALUE = (
    rb"(?:" + _STR + rb"|_binary\s*" + _STR + rb"|[Xx]'[0-9A-Fa-f]*'|[Bb]'[01]*'|0x[0-9A-Fa-f]*"
    rb"|NULL|[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)"
)
_TOKEN = re.compile(rb"\s*(?:([(),;])|(" + _VALUE + rb")|(\S))", re.S)  # diagnosis of a bad INSERT only
_VALUES_OF = re.compile(rb"[(,]\s*(" + _VALUE + rb")", re.S)
_SHAPES: dict[int, re.Pattern[bytes]] = {}


def _shape(n: int) -> re.Pattern[bytes]:
    """The whole VALUES list of an INSERT with `n` columns: `(v,...,v),(v,...,v);`."""
    if n not in _SHAPES:
        row = rb"\(\s*" + _VALUE + (rb"\s*,\s*" + _VALUE) * (n - 1) + rb"\s*\)"
        _SHAPES[n] = re.compile(rb"\s*" + row + rb"(?:\s*,\s*" + row + rb")*\s*;[ \t]*\r?\n?", re.S)
    return _SHAPES[n]


_INSERT_HEAD = re.compile(
    rb"^\s*(?P<verb>INSERT|REPLACE)\s+(?:IGNORE\s+)?INTO\s+(?P<name>(?:`(?:[^`]|``)+`|\w+)(?:\s*\.\s*(?:`(?:[^`]|``)+`|\w+))?)"
    rb"\s*(?P<cols>\([^)]*\))?\s*VALUES\s*",
    re.I | re.S,
)


@dataclass
class InsertStatement:
    """One INSERT: its table, its columns and each value's literal bytes, row-major."""

    key: str
    columns: tuple[str, ...]
    head: bytes  # `INSERT INTO ... VALUES` up to the first row, kept as written
    tokens: list[bytes]
    nrows: int
    row_sep: bytes  # what separates rows: b"," or b",\n"
    tail: bytes  # `;` and whatever follows it on its line
    raw: bytes
    line: int


def parse_insert(
    raw: bytes, line: int, where: str, lookup: Callable[[str], tuple[str, ...] | None]
) -> InsertStatement:
    """Tokenise one INSERT statement; DumpError naming the line when it is cut off or malformed."""
    m = _INSERT_HEAD.match(raw)
    if m is None:
        raise DumpError(f"{where}: line {line}: an INSERT this tool cannot read: {raw[:80]!r}")
    _db, name = split_qualified(m.group("name").decode("utf-8", "surrogateescape"), "mysql")
    if m.group("cols"):
        cols = ident_list(m.group("cols").decode("utf-8", "surrogateescape"), "mysql")
    else:
        known = lookup(name)
        if known is None:
            raise DumpError(
                f"{where}: line {line}: INSERT into table {name!r}, which the dump never creates; it "
                "cannot be checked against the rules, so nothing was written"
            )
        cols = known
    body = raw[m.end() :]
    n = len(cols)
    if _shape(n).fullmatch(body) is None:
        found = _TOKEN.findall(body)
        kinds = b"".join(p if p else (b"v" if v else b"x") for p, v, _x in found)
        raise _bad_insert(raw, m.end(), found, kinds, n, line, where, name)
    tokens = _VALUES_OF.findall(body)
    nrows = len(tokens) // n
    # the separator between rows as written (MariaDB puts each row on its own line)
    sep = b","
    close = body.find(b"),", 0)
    if close >= 0 and nrows > 1:
        after = body[close + 2 : close + 4]
        sep = b",\n" if after.startswith(b"\n") else b","
    end = body.rfind(b";")
    return InsertStatement(name, cols, raw[: m.end()], tokens, nrows, sep, body[end:], raw, line)


def _bad_insert(
    raw: bytes,
    start: int,
    found: list[tuple[bytes, bytes, bytes]],
    kinds: bytes,
    n: int,
    line: int,
    where: str,
    name: str,
) -> DumpError:
    if not kinds.endswith(b";"):
        return DumpError(
            f"{where}: line {line}: the INSERT into {name} is cut off (no closing ';'): "
            "the dump is truncated or "
            "corrupt. Take a complete dump; nothing was written."
        )
    if b"x" in kinds:
        bad = next(x for _p, _v, x in found if x)
        return DumpError(
            f"{where}: line {line}: INSERT into {name} has an unreadable value near {bad!r}: "
            f"{raw[start : start + 80]!r}; the dump is corrupt"
        )
    return DumpError(
        f"{where}: line {line}: INSERT into {name} has rows without exactly {n} values; the dump is "
        "corrupt or was written with a column list this tool did not see"
    )


# --- values ---------------------------------------------------------------------------------

_MY_UNESCAPE = np.arange(256, dtype=np.uint8)
for _k, _v in {b"0": 0, b"b": 8, b"n": 10, b"r": 13, b"t": 9, b"Z": 26}.items():
    _MY_UNESCAPE[_k[0]] = _v
_MY_SLOW = np.zeros(256, dtype=bool)
_MY_SLOW[list(b"%_")] = True  # \% and \_ keep their backslash


def _unescape_slow(value: bytes) -> bytes:
    def one(m: re.Match[bytes]) -> bytes:
        c = m.group(1)
        if c in (b"%", b"_"):
            return b"\\" + c
        return bytes([_MY_UNESCAPE[c[0]]])

    return re.sub(rb"\\(.)", one, value, flags=re.S)


def _string_body(tokens: pa.Array) -> pa.Array:
    """Quoted literals -> their bytes (quotes off, escapes undone); other literals pass unchanged."""
    body = pc.replace_substring_regex(tokens, rb"^(?:_binary\s*)?'(.*)'$", rb"\1")
    doubled = pc.fill_null(pc.match_substring(body, b"''"), False)
    out = pgtext.unescape(body, table=_MY_UNESCAPE, slow_after=_MY_SLOW, slow_value=_unescape_slow)
    if pc.any(doubled).as_py():
        out = pc.if_else(doubled, pc.replace_substring(out, b"''", b"'"), out)
    return out


def _hex_body(tokens: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(is hex literal, hex digits) for `0x..` and `X'..'` literals."""
    is_hex = pc.fill_null(pc.match_substring_regex(tokens, rb"^(?:0x|[Xx]')"), False)
    digits = pc.replace_substring_regex(tokens, rb"^(?:0x|[Xx]')([0-9A-Fa-f]*)'?$", rb"\1")
    return is_hex, digits


def _unhex(digits: pa.Array) -> pa.Array:
    arr, offsets, data = pgtext.str_parts(digits.cast(pa.large_binary()))
    if (np.diff(offsets) % 2).any():
        raise ValueError("odd number of hex digits")
    nib = pgtext._HEX_VALUE[data]
    raw = (nib[0::2] << 4) | nib[1::2]
    return pgtext.from_parts(arr, offsets // 2, raw, pa.large_binary())


_NUMBER_START = np.zeros(256, dtype=bool)
_NUMBER_START[list(b"0123456789+-.")] = True


def _fast_body(raw: pa.Array) -> pa.Array | None:
    """The common columns, vectorised: all plain 'quoted' strings, or all numbers (NULLs allowed).

    None when the column mixes other literal forms (hex, _binary, bit), which take the general path.
    """
    _arr, offsets, data = pgtext.str_parts(raw)
    starts, ends = offsets[:-1], offsets[1:]
    lengths = ends - starts
    if not len(starts) or (lengths == 0).any():
        return None
    first = data[starts]
    null = first == ord("N")  # only NULL starts with N
    quoted = first == ord("'")
    second = data[np.minimum(starts + 1, len(data) - 1)]
    number = _NUMBER_START[first] & ~((first == ord("0")) & (second == ord("x")) & (lengths > 1))
    if (quoted | null).all():
        strip = quoted.astype(np.int64) * 2
    elif (number | null).all():
        strip = np.zeros(len(starts), dtype=np.int64)
        quoted = np.zeros(len(starts), dtype=bool)
    else:
        return None
    keep = np.ones(len(data), dtype=bool)
    keep[starts[quoted]] = False
    keep[ends[quoted] - 1] = False
    if null.any():
        keep[(starts[null][:, None] + np.arange(4)).ravel()] = False
    body = data[keep]
    new_lengths = lengths - strip - null.astype(np.int64) * 4
    new_offsets = np.concatenate([[0], np.cumsum(new_lengths)]).astype(np.int64)
    valid = ~null
    validity = pa.py_buffer(np.packbits(valid, bitorder="little")) if null.any() else None
    out = pa.Array.from_buffers(
        pa.large_binary(),
        len(starts),
        [validity, pa.py_buffer(new_offsets), pa.py_buffer(body)],
        null_count=int(null.sum()),
    )
    if not quoted.any():
        return out
    unescaped = pgtext.unescape(out, table=_MY_UNESCAPE, slow_after=_MY_SLOW, slow_value=_unescape_slow)
    if len(body) > 1 and ((body[:-1] == ord("'")) & (body[1:] == ord("'"))).any():  # '' inside a string
        doubled = pc.fill_null(pc.match_substring(out, b"''"), False)
        unescaped = pc.if_else(doubled, pc.replace_substring(unescaped, b"''", b"'"), unescaped)
    return unescaped


def decode_column(tokens: list[bytes], column: Column, where: str) -> tuple[pa.Array, pa.Array]:
    """A column's literal tokens -> (typed values as a database read gives them, raw literal tokens)."""
    raw = pa.array(tokens, type=pa.large_binary())
    fast = _fast_body(raw)
    if fast is not None:
        body, lit = fast, fast
    else:
        is_null = pc.equal(raw, pa.scalar(b"NULL", pa.large_binary()))
        lit = pc.if_else(is_null, pa.scalar(None, pa.large_binary()), raw)
        is_hex, digits = _hex_body(lit)
        body = _string_body(lit)
        if pc.any(is_hex).as_py():
            hexed = _unhex(pc.if_else(is_hex, digits, pa.scalar(b"", pa.large_binary())))
            body = pc.if_else(is_hex, hexed, body)
    if column.kind == "binary":
        return body, raw
    if (
        column.kind == "other"
        and pc.any(pc.fill_null(pc.match_substring_regex(lit, rb"^[Bb]'"), False)).as_py()
    ):
        return pc.if_else(
            pc.is_null(lit), pa.scalar(None, pa.large_string()), raw.cast(pa.large_string())
        ), raw
    try:
        text = body.cast(pa.large_string())
    except pa.ArrowInvalid:
        raise DumpError(
            f"{where}: column {column.name} holds bytes that are not UTF-8; "
            "dump with --default-character-set="
            "utf8mb4 (or declare the column binary)"
        ) from None
    if column.kind == "boolean":
        text = pc.if_else(pc.equal(text, "0"), "f", pc.if_else(pc.is_null(text), None, "t"))
    return pgtext.to_typed(text, column, "mysql"), raw


_MY_ESCAPE = np.zeros(256, dtype=np.uint8)
for _ch, _letter in (
    (b"\\", b"\\"),
    (b"'", b"'"),
    (b'"', b'"'),
    (b"\x00", b"0"),
    (b"\n", b"n"),
    (b"\r", b"r"),
    (b"\x1a", b"Z"),
):
    _MY_ESCAPE[_ch[0]] = _letter[0]


def _quote(text: pa.Array) -> pa.Array:
    """Text or bytes as a mysqldump string literal (`'it\\'s'`)."""
    arr, offsets, data = pgtext.str_parts(text.cast(pa.large_binary()))
    letters = _MY_ESCAPE[data]
    pos = np.flatnonzero(letters)
    if len(pos):
        data = np.insert(data, pos, pgtext.BACKSLASH)
        data[pos + np.arange(1, len(pos) + 1)] = letters[pos]
        offsets = offsets + np.searchsorted(pos, offsets, side="left")
    body = pgtext.from_parts(arr, offsets, data, pa.large_binary())
    q = pa.scalar(b"'", pa.large_binary())
    return pc.binary_join_element_wise(q, body, q, pa.scalar(b"", pa.large_binary()))


def literal(arr: pa.Array, column: Column) -> pa.Array:
    """Values (from `pgtext.to_arrow`) as MySQL literals (large_binary); NULL as `NULL`."""
    t = arr.type
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        if column.kind != "binary":
            out = _quote(arr)
        else:
            hexed = pgtext.bytea_to_text(arr)  # \x0aff
            out = pc.if_else(
                pc.equal(pc.binary_length(arr), 0),
                pa.scalar("''", pa.large_string()),
                pc.replace_substring_regex(hexed, r"^\\x", "0x"),
            ).cast(pa.large_binary())
    elif pa.types.is_boolean(t):
        out = pc.if_else(arr, "1", "0").cast(pa.large_binary())
    elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        if pa.types.is_floating(t) and pc.any(pc.or_(pc.is_nan(arr), pc.is_inf(arr))).as_py():
            raise DumpError(f"column {column.name}: NaN/Infinity cannot be written to a MySQL dump")
        out = pc.cast(arr, pa.large_string()).cast(pa.large_binary())
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        out = _quote(arr)
    else:
        out = _quote(pgtext.value_text(arr))
    return pc.fill_null(out, pa.scalar(b"NULL", pa.large_binary()))


def encode_insert(
    stmt: InsertStatement, out: pd.DataFrame, before: list[pa.Array], raws: list[pa.Array], table: Table
) -> bytes:
    """An INSERT statement with the transformed rows (unchanged values keep their literal bytes)."""
    missing = [c for c in stmt.columns if c not in out.columns]
    if missing:
        raise ValueError(f"table {stmt.key}: the transform returned no column(s) {missing}")
    if len(out) != stmt.nrows:
        positions = pa.array(np.asarray(out.index, dtype=np.int64))
        before = [b.take(positions) for b in before]
        raws = [r.take(positions) for r in raws]
        same_rows = False
    else:
        same_rows = True
    if len(out) == 0:
        return b""  # every row dropped: no statement (INSERT with no rows is not valid SQL)
    fields = []
    all_same = True
    for i, name in enumerate(stmt.columns):
        after = pgtext.to_arrow(out[name], before[i].type)
        same = pgtext.unchanged_mask(before[i], after)
        if same is not None and same.false_count == 0:
            fields.append(raws[i])
            continue
        all_same = False
        enc = literal(after, table.column(name))
        fields.append(enc if same is None or same.true_count == 0 else pc.if_else(same, raws[i], enc))
    if all_same and same_rows:
        return stmt.raw
    b = pa.large_binary()
    rows = (
        pc.binary_join_element_wise(pa.scalar(b"(", b), *fields[:1], pa.scalar(b"", b))
        if len(fields) == 1
        else pc.binary_join_element_wise(*fields, pa.scalar(b",", b))
    )
    if len(fields) > 1:
        rows = pc.binary_join_element_wise(pa.scalar(b"(", b), rows, pa.scalar(b"", b))
    rows = pc.binary_join_element_wise(rows, pa.scalar(b")", b), pa.scalar(b"", b))
    joined = stmt.row_sep.join(rows.to_pylist())
    return stmt.head + joined + stmt.tail


# --- walking a dump -------------------------------------------------------------------------


class MysqlHandler:
    """Receives a mysqldump's parts in order."""

    def text(self, data: bytes) -> None:
        """Bytes that are not row data, exactly as in the file."""

    def statement(self, sql: str, line: int) -> None:
        """A complete non-INSERT statement (comments removed)."""

    def insert(self, stmt: InsertStatement, offset: int) -> None:
        """One INSERT statement (`offset`: where it starts in the stream)."""

    def insert_bytes(
        self, raw: bytes, line: int, offset: int, where: str, lookup: Callable[[str], tuple[str, ...] | None]
    ) -> None:
        """One INSERT statement as written; the default parses it and calls `insert`."""
        self.insert(parse_insert(raw, line, where, lookup), offset)


def read_insert(reader: ByteReader, first_line: bytes) -> bytes:
    """An INSERT statement that starts with `first_line`: through the `;` that ends a line."""
    if first_line.rstrip().endswith(b";"):
        return first_line
    parts = [first_line]
    while True:
        more = reader.read_through(b";\n")
        if not more:
            break
        parts.append(more)
        stmt = b"".join(parts)
        if _INSERT_HEAD.match(stmt) is None or _ends_insert(stmt):
            return stmt
    return b"".join(parts)


def _ends_insert(stmt: bytes) -> bool:
    """True unless the `;` at the end sits inside an open string (a raw newline in a value)."""
    m = _INSERT_HEAD.match(stmt)
    assert m is not None
    body = stmt[m.end() :]
    # quotes outside escapes balance when the statement is complete
    stripped = re.sub(rb"\\.", b"", body, flags=re.S)
    return stripped.count(b"'") % 2 == 0


_INSERT_START = re.compile(rb"^\s*(?:INSERT|REPLACE)\s", re.I)


def walk_mysql(
    reader: ByteReader, handler: MysqlHandler, lookup: Callable[[str], tuple[str, ...] | None]
) -> None:
    """Feed a mysqldump file to `handler`; DumpError when it is truncated or corrupt."""
    splitter = StatementSplitter("mysql")
    header_seen = complete_seen = False
    first = 0
    while True:
        line_no, offset = reader.line, reader.offset
        raw = reader.readline()
        if not raw:
            break
        if first < 5 and (raw.startswith(b"-- MySQL dump") or raw.startswith(b"-- MariaDB dump")):
            header_seen = True
        first += 1
        if not splitter.pending and _INSERT_START.match(raw):
            handler.insert_bytes(read_insert(reader, raw), line_no, offset, reader.where, lookup)
            continue
        handler.text(raw)
        if raw.startswith(b"-- Dump completed"):
            complete_seen = True
        for stmt in splitter.feed(raw.decode("utf-8", "surrogateescape"), line_no):
            handler.statement(stmt, splitter.start_line or line_no)
    if splitter.pending:
        raise DumpError(
            f"{reader.where}: the statement starting at line {splitter.start_line} is cut off "
            "at the end of the "
            f"file (byte {reader.offset}): the dump is truncated. Take a complete dump; nothing was written."
        )
    if header_seen and not complete_seen:
        raise DumpError(
            f"{reader.where}: ends at byte {reader.offset} (line {reader.line}) without mysqldump's closing "
            "'-- Dump completed' line: the dump is truncated. Take a complete dump; nothing was written."
        )


def decode_insert(
    stmt: InsertStatement, table: Table, where: str
) -> tuple[pd.DataFrame, list[pa.Array], list[pa.Array]]:
    """An INSERT's rows as a typed DataFrame (plus typed and raw columns for re-encoding)."""
    n = len(stmt.columns)
    typed: list[pa.Array] = []
    raws: list[pa.Array] = []
    for i, name in enumerate(stmt.columns):
        try:
            col = table.column(name)
        except KeyError:
            raise DumpError(
                f"{where}: line {stmt.line}: INSERT into {table.key} names column {name!r}, which its "
                "CREATE TABLE lacks"
            ) from None
        t, r = decode_column(stmt.tokens[i::n], col, f"{where}: line {stmt.line}: table {table.key}")
        typed.append(pgtext._compact(t))
        raws.append(r)
    frame = to_pandas(pa.Table.from_arrays(typed, names=list(stmt.columns)))
    return frame, typed, raws


class _Scan(MysqlHandler):
    def __init__(self, where: str) -> None:
        self.builder = SchemaBuilder(where)
        self.inserts: dict[str, list[tuple[int, int]]] = {}  # table -> (offset, line) of each INSERT

    def statement(self, sql: str, line: int) -> None:
        self.builder.statement(sql, line)

    def insert_bytes(
        self, raw: bytes, line: int, offset: int, where: str, lookup: Callable[[str], tuple[str, ...] | None]
    ) -> None:
        """Where each INSERT is, by table; rows are parsed only when they are read."""
        m = _INSERT_HEAD.match(raw)
        if m is None:
            raise DumpError(f"{where}: line {line}: an INSERT this tool cannot read: {raw[:80]!r}")
        _db, name = split_qualified(m.group("name").decode("utf-8", "surrogateescape"), "mysql")
        if not raw.rstrip().endswith(b";"):
            raise DumpError(
                f"{where}: line {line}: the INSERT into {name} is cut off (no closing ';'): the dump is "
                "truncated or corrupt. Take a complete dump; nothing was written."
            )
        self.inserts.setdefault(name, []).append((offset, line))

    def lookup(self, name: str) -> tuple[str, ...] | None:
        d = self.builder.tables.get(name)
        return None if d is None else tuple(c.name for c in d.columns if c.name not in d.generated)


def scan(path: Path) -> _Scan:
    s = _Scan(str(path))
    with open_binary(path) as f:
        walk_mysql(ByteReader(f, str(path)), s, s.lookup)
    return s


def read_schema(path: Path) -> Schema:
    """The schema of a mysqldump file (reads the whole file: it also checks it is complete)."""
    return scan(path).builder.build()


class MysqlDumpSource(DumpSource):
    """A mysqldump / mariadb-dump file (optionally gzip) as a read-only source."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.display = str(self.path)
        s = scan(self.path)
        self.schema = s.builder.build()
        self._inserts = s.inserts
        self._counts: dict[str, int] = {}

    def count(self, table: str) -> int:
        """Rows of a table (its INSERTs are parsed once to count them)."""
        t = self.table(table)
        if table not in self._counts:
            self._counts[table] = sum(stmt.nrows for stmt in self._statements(t))
        return self._counts[table]

    def _statements(self, t: Table) -> Iterator[InsertStatement]:
        spots = self._inserts.get(t.key, [])
        if not spots:
            return
        cols = tuple(c.name for c in t.columns)
        with open_binary(self.path) as f:
            f.seek(spots[0][0])
            reader = ByteReader(f, self.display, offset=spots[0][0], line=spots[0][1])
            for offset, line in spots:
                reader.skip_to(offset, line)
                raw = read_insert(reader, reader.readline())
                yield parse_insert(raw, line, self.display, lambda _n: cols)

    def read_batches(
        self, table: str, batch_size: int = 65_536, columns: list[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        from sanitize.dumps.pgdump import _rebatch

        t = self.table(table)
        if columns is not None:
            self.columns_of(table, columns)
        spots = self._inserts.get(table, [])
        if not spots:
            return

        def frames() -> Iterator[pd.DataFrame]:
            for stmt in self._statements(t):
                df, _typed, _raws = decode_insert(stmt, t, self.display)
                yield df if columns is None else df[list(columns)]

        yield from _rebatch(frames(), batch_size)


class _Rewrite(MysqlHandler):
    def __init__(
        self,
        out: BinaryIO,
        schema: Schema,
        transform: Callable[[str, pd.DataFrame], pd.DataFrame | None],
        where: str,
    ) -> None:
        self.out = out
        self.schema = schema
        self.transform = transform
        self.where = where
        self.rows: dict[str, int] = {}

    def text(self, data: bytes) -> None:
        self.out.write(data)

    def insert(self, stmt: InsertStatement, offset: int) -> None:
        if stmt.key not in self.schema:
            raise DumpError(
                f"{self.where}: line {stmt.line}: rows for table {stmt.key}, which the dump's schema "
                "does not define; nothing was written"
            )
        table = self.schema[stmt.key]
        df, typed, raws = decode_insert(stmt, table, self.where)
        out_df = self.transform(stmt.key, df)
        if out_df is None:  # the table's rows are not copied
            return
        self.out.write(encode_insert(stmt, out_df, typed, raws, table))
        self.rows[stmt.key] = self.rows.get(stmt.key, 0) + len(out_df)


def rewrite_stream(
    reader: ByteReader,
    out: BinaryIO,
    schema: Schema,
    transform: Callable[[str, pd.DataFrame], pd.DataFrame | None],
) -> dict[str, int]:
    """Stream a mysqldump through `transform` into `out`; rows written per table."""
    handler = _Rewrite(out, schema, transform, reader.where)

    def lookup(name: str) -> tuple[str, ...] | None:
        return schema[name].column_names if name in schema else None

    walk_mysql(reader, handler, lookup)
    for key in schema.tables:
        handler.rows.setdefault(key, 0)
    return handler.rows
