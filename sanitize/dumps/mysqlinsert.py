"""mysqldump `INSERT` statements: finding where one ends, and tokenising its rows of literals.

Values are tokenised on bytes (a dump made without `--hex-blob` holds raw binary inside quotes):
quoted strings with backslash escapes and doubled quotes, `_binary '...'`, `0x..` and `X'..'` hex
literals (`--hex-blob`), `b'..'` bit literals, numbers and `NULL`. Each value's literal bytes are
kept as written; `mysqltext` decodes them and writes changed values back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sanitize.errors import DumpError
from sanitize.sqlscan import ByteReader, ident_list, split_qualified

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


INSERT_HEAD = re.compile(
    rb"^\s*(?P<verb>INSERT|REPLACE)\s+(?:IGNORE\s+)?INTO\s+(?P<name>(?:`(?:[^`]|``)+`|\w+)(?:\s*\.\s*(?:`(?:[^`]|``)+`|\w+))?)"
    rb"\s*(?P<cols>\([^)]*\))?\s*VALUES\s*",
    re.I | re.S,
)
INSERT_START = re.compile(rb"^\s*(?:INSERT|REPLACE)\s", re.I)
"""A line that starts an INSERT (or REPLACE) statement."""


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


def insert_head(raw: bytes, line: int, where: str) -> tuple[re.Match[bytes], str]:
    """The `INSERT INTO name (cols) VALUES` part of a statement and its table's bare name."""
    m = INSERT_HEAD.match(raw)
    if m is None:
        raise DumpError(f"{where}: line {line}: an INSERT this tool cannot read: {raw[:80]!r}")
    _db, name = split_qualified(m.group("name").decode("utf-8", "surrogateescape"), "mysql")
    return m, name


def cut_off_error(where: str, line: int, name: str) -> DumpError:
    """The error for an INSERT without its closing `;` (a truncated or corrupt dump)."""
    return DumpError(
        f"{where}: line {line}: the INSERT into {name} is cut off (no closing ';'): "
        "the dump is truncated or "
        "corrupt. Take a complete dump; nothing was written."
    )


def parse_insert(
    raw: bytes, line: int, where: str, lookup: Callable[[str], tuple[str, ...] | None]
) -> InsertStatement:
    """Tokenise one INSERT statement; DumpError naming the line when it is cut off or malformed."""
    m, name = insert_head(raw, line, where)
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
        return cut_off_error(where, line, name)
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
        if INSERT_HEAD.match(stmt) is None or _ends_insert(stmt):
            return stmt
    return b"".join(parts)


def _ends_insert(stmt: bytes) -> bool:
    """True unless the `;` at the end sits inside an open string (a raw newline in a value)."""
    m = INSERT_HEAD.match(stmt)
    assert m is not None
    body = stmt[m.end() :]
    # quotes outside escapes balance when the statement is complete
    stripped = re.sub(rb"\\.", b"", body, flags=re.S)
    return stripped.count(b"'") % 2 == 0
