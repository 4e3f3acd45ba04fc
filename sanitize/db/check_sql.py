"""CHECK constraints for a target: copied as written on the same engine, translated across engines.

A CHECK travels to another engine when it is made only of the portable pieces: the table's columns,
literals, comparisons, `IN` lists (PostgreSQL's `= ANY (ARRAY[...])`), `BETWEEN`, `LIKE`,
`IS [NOT] NULL`, `AND`/`OR`/`NOT`, arithmetic and a few functions (`length`/`char_length`, `lower`,
`upper`, `abs`, `coalesce`). PostgreSQL casts (`::text`, `::my_enum`) are removed. Anything else (a
regular expression, a function of one engine) is left out with a warning naming table and constraint.
An enum column that becomes text on the target keeps its values as `CHECK (col IN (...))`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sanitize.errors import CheckViolation
from sanitize.schema import Check, Table

log = logging.getLogger("sanitize")

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>[eE]?'(?:[^']|'')*')
    |(?P<qid>"(?:[^"]|"")+"|`(?:[^`]|``)+`)
    |(?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    |(?P<word>[A-Za-z_][\w$]*)
    |(?P<op>::|<>|!=|>=|<=|!~~\*?|~~\*?|!~\*?|~\*?|\|\||[=<>+\-*/%(),.\[\]])
    )""",
    re.X,
)
_KEYWORDS = {"AND", "OR", "NOT", "IS", "NULL", "IN", "BETWEEN", "LIKE", "TRUE", "FALSE"}
_FUNCTIONS = {"LENGTH", "CHAR_LENGTH", "CHARACTER_LENGTH", "LOWER", "UPPER", "ABS", "COALESCE"}
_LENGTH = {"postgresql": "char_length", "mysql": "CHAR_LENGTH", "sqlite": "length"}
# words that may follow `::` as part of one type name (`character varying`, `double precision`, ...)
_TYPE_WORDS = {"VARYING", "PRECISION", "WITH", "WITHOUT", "TIME", "ZONE"}


class Untranslatable(ValueError):
    """A CHECK uses SQL that sanitize does not carry to another engine; the message says which part."""


@dataclass(frozen=True)
class Tok:
    kind: str  # str | id | num | word | op
    text: str


def _tokens(sql: str) -> list[Tok]:
    out, pos, sql = [], 0, sql.strip()
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if m is None or m.end() == pos:
            raise Untranslatable(f"cannot read {sql[pos : pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup or "op"
        text = m.group(kind)
        if kind == "str" and text[0] in "eE":
            raise Untranslatable("an escaped string literal")
        if kind == "qid":
            kind, text = "id", text[1:-1].replace('""', '"').replace("``", "`")
        out.append(Tok(kind, text))
    return out


def _drop_casts(toks: list[Tok]) -> list[Tok]:
    """`x::text`, `'a'::my_enum`, `ARRAY[...]::text[]` without the cast."""
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        if toks[i].text != "::":
            out.append(toks[i])
            i += 1
            continue
        i += 1  # the type name: words (schema-qualified, several words), (n[, m]), []
        while i < len(toks) and toks[i].kind in ("word", "id"):
            i += 1
            if i < len(toks) and toks[i].text == ".":
                i += 1
            elif not (i < len(toks) and toks[i].kind == "word" and toks[i].text.upper() in _TYPE_WORDS):
                break
        if i < len(toks) and toks[i].text == "(":
            while i < len(toks) and toks[i].text != ")":
                i += 1
            i += 1
        while i + 1 < len(toks) and toks[i].text == "[" and toks[i + 1].text == "]":
            i += 2
    return out


def _any_to_in(toks: list[Tok]) -> list[Tok]:
    """`= ANY (ARRAY[a, b])` -> `IN (a, b)`; `<> ALL (ARRAY[...])` -> `NOT IN (...)`."""
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        nxt = [x.text.upper() for x in toks[i + 1 : i + 5]]
        if t.text in ("=", "<>", "!=") and nxt[:1] in (["ANY"], ["ALL"]) and nxt[1:4] == ["(", "ARRAY", "["]:
            if (t.text == "=") != (nxt[0] == "ANY"):
                raise Untranslatable(f"{t.text} {nxt[0]} over an array")
            j = i + 5
            items: list[Tok] = []
            while j < len(toks) and toks[j].text != "]":
                items.append(toks[j])
                j += 1
            if j + 1 >= len(toks) or toks[j + 1].text != ")":
                raise Untranslatable("an array that is not a plain list")
            out += ([Tok("word", "NOT")] if nxt[0] == "ALL" else []) + [Tok("word", "IN"), Tok("op", "(")]
            out += [*items, Tok("op", ")")]
            i = j + 2
            continue
        out.append(t)
        i += 1
    return out


def _primary_start(out: list[Tok]) -> int:
    """Where the operand ending `out` starts: one token, or a parenthesised group (with its function)."""
    i = len(out) - 1
    if i < 0 or out[i].text != ")":
        return max(i, 0)
    depth = 0
    while i >= 0:
        depth += out[i].text == ")"
        depth -= out[i].text == "("
        if depth == 0:
            break
        i -= 1
    return i - 1 if i > 0 and out[i - 1].kind == "fn" else i


def _preparer(dialect: str) -> Any:
    from sqlalchemy.dialects import mysql, postgresql, sqlite

    engine = {"postgresql": postgresql, "mysql": mysql, "sqlite": sqlite}[dialect]
    return engine.dialect().identifier_preparer  # type: ignore[attr-defined]


def translate(check: Check, table: Table, dialect: str) -> str:
    """`check` (written for `check.dialect`) as `dialect` SQL; Untranslatable when it cannot travel."""
    prep = _preparer(dialect)
    columns = {c.lower(): c for c in table.column_names}
    toks = _any_to_in(_drop_casts(_tokens(check.sqltext)))
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        up = t.text.upper()
        nxt = toks[i + 1].text if i + 1 < len(toks) else ""
        if t.kind == "word" and nxt == "(" and up not in _KEYWORDS:
            if up not in _FUNCTIONS:
                raise Untranslatable(f"function {t.text}()")
            name = _LENGTH[dialect] if up in ("LENGTH", "CHAR_LENGTH", "CHARACTER_LENGTH") else up
            out.append(Tok("fn", name))
        elif t.kind == "word" and up in _KEYWORDS:
            if up == "NULL" and out and out[-1].text.upper() in ("IS", "NOT"):
                # `x IS NULL` in parentheses: MySQL binds IS as tightly as `<>`, PostgreSQL more loosely
                k = len(out) - (2 if out[-1].text.upper() == "NOT" else 1)
                start = _primary_start(out[:k])
                enclosed = start > 0 and out[start - 1].text == "(" and nxt == ")"
                if not enclosed:
                    out = [*out[:start], Tok("op", "("), *out[start:], Tok("word", "NULL"), Tok("op", ")")]
                    i += 1
                    continue
            out.append(Tok("word", up))
        elif t.kind in ("word", "id"):
            if t.text.lower() not in columns:
                raise Untranslatable(f"{t.text!r}, which is not a column of {table.key}")
            out.append(Tok("id", prep.quote(columns[t.text.lower()])))
        elif t.kind == "op" and t.text in ("~~", "!~~"):
            out += [Tok("word", "NOT")] if t.text == "!~~" else []
            out.append(Tok("word", "LIKE"))
        elif t.kind == "op" and (t.text.startswith(("~", "!~")) or t.text in ("||", "[", "]", ".")):
            raise Untranslatable(f"operator {t.text}")
        elif t.kind == "str":
            lit = t.text
            out.append(Tok("str", lit.replace("\\", "\\\\") if dialect == "mysql" else lit))
        else:
            out.append(t)
        i += 1
    return _join(out)


def _join(toks: list[Tok]) -> str:
    text, prev = "", Tok("op", "(")
    for t in toks:
        if not prev.text.endswith("(") and prev.kind != "fn" and t.text not in (")", ","):
            text += " "
        text += t.text
        prev = t
    return text


_QUALIFIED_CAST = re.compile(r"""::(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)\.(?=["A-Za-z_])""")


def unqualified_casts(sql: str) -> str:
    """PostgreSQL SQL with casts to schema-qualified types (`'a'::public.my_enum`, as pg_dump writes them)
    made unqualified: the shadow schema that holds the copied enum types is first on the search_path."""
    return _QUALIFIED_CAST.sub("::", sql)


def target_checks(table: Table, dialect: str, source_dialect: str, sql_name: str) -> list[sa.CheckConstraint]:
    """The CHECK constraints of `table` for a target of `dialect` (unnamed ones stay unnamed)."""
    from sanitize.db.ddl import short_name

    out: list[sa.CheckConstraint] = []
    for n, check in enumerate(table.checks):
        same = dialect == (check.dialect or source_dialect)
        name = check.name if same or check.name is None else short_name(check.name, dialect=dialect)
        if _json_valid(check, table) and (not same or _is_json(table, check)):
            continue  # MariaDB's own check on a JSON column: the target's JSON type (or text) takes over
        if same:
            sql = unqualified_casts(check.sqltext) if dialect == "postgresql" else check.sqltext
            out.append(sa.CheckConstraint(sql, name=name))
            continue
        try:
            sql = translate(check, table, dialect)
            if dialect == "mysql" and (auto := _autoincrement_in(check, table)):
                raise Untranslatable(f"AUTO_INCREMENT column {auto}, which MariaDB/MySQL refuse in a CHECK")
        except Untranslatable as exc:
            log.warning(
                "%s: CHECK constraint %s (%s) is not recreated on %s: it uses %s, which sanitize does not "
                "translate from %s",
                table.key,
                check.name or f"#{n + 1}",
                check.sqltext,
                dialect,
                exc,
                check.dialect or source_dialect,
            )
            continue
        out.append(sa.CheckConstraint(sql, name=name))
    if dialect != source_dialect:
        out += _enum_checks(table, dialect, sql_name)
    return out


def _autoincrement_in(check: Check, table: Table) -> str | None:
    """An AUTO_INCREMENT column (on MySQL: the single integer key) the CHECK reads, if any."""
    words = {t.text.lower() for t in _tokens(check.sqltext) if t.kind in ("word", "id")}
    if len(table.primary_key) != 1:
        return None
    key = table.primary_key[0]
    col = table.column(key)
    return key if col.autoincrement and col.kind == "integer" and key.lower() in words else None


_JSON_VALID = re.compile(r"^\(?\s*json_valid\s*\(\s*`?(?P<col>[^`)]+)`?\s*\)\s*\)?$", re.I)


def _json_valid(check: Check, table: Table) -> bool:
    return _JSON_VALID.match(check.sqltext.strip()) is not None


def _is_json(table: Table, check: Check) -> bool:
    """True when the column of a `json_valid(col)` CHECK is made as JSON, which MariaDB checks itself
    (under a constraint of the same name: copying it too would clash)."""
    m = _JSON_VALID.match(check.sqltext.strip())
    col = next((c for c in table.columns if m and c.name == m.group("col")), None)
    return col is not None and isinstance(col.sql_type, sa.JSON)


def _enum_checks(table: Table, dialect: str, sql_name: str) -> list[sa.CheckConstraint]:
    """An enum column on an engine where it becomes text keeps its values: `CHECK (col IN (...))`."""
    if dialect == "mysql":
        return []  # the column is a MySQL ENUM (ddl._text_type)
    prep = _preparer(dialect)
    from sanitize.db.ddl import short_name

    out = []
    for c in table.columns:
        if c.enum_values:
            values = ", ".join("'" + v.replace("'", "''") + "'" for v in c.enum_values)
            out.append(
                sa.CheckConstraint(
                    f"{prep.quote(c.name)} IN ({values})",
                    name=short_name(sql_name, c.name, "check", dialect=dialect),
                )
            )
    return out


_VIOLATED = (
    re.compile(r'violates check constraint "(?P<name>[^"]+)"'),  # PostgreSQL
    re.compile(r"CONSTRAINT `(?P<name>[^`]+)` failed"),  # MariaDB
    re.compile(r"Check constraint '(?P<name>[^']+)' is violated"),  # MySQL
    re.compile(r"CHECK constraint failed: (?P<name>[^)\n]+?)\s*(?:\(|$)", re.M),  # SQLite
)


def check_violation(table: Table, detail: str, where: str) -> CheckViolation | None:
    """The error for rows of `table` that broke a CHECK (found in the engine's `detail`), or None."""
    m = next((found for p in _VIOLATED if (found := p.search(detail))), None)
    if m is None:
        return None
    name = m.group("name").strip()
    check = next((c for c in table.checks if c.name == name or c.sqltext == name), None)
    text = check.sqltext if check else name
    try:
        words = {t.text.lower() for t in _tokens(text) if t.kind in ("word", "id")}
    except Untranslatable:
        words = set()
    columns = tuple(
        c for c in table.column_names if c.lower() in words or (check is None and f"_{c}_check" in name)
    )
    return CheckViolation(
        f"{table.key}: rows break CHECK constraint {name}"
        + (f" ({check.sqltext})" if check else "")
        + (f" on column(s) {', '.join(columns)}" if columns else "")
        + f" while loading into {where}; nothing was published. If a rule transforms these columns, "
        "give them a strategy whose values satisfy the constraint; otherwise the source's rows break it",
        table=table.key,
        constraint=name,
        columns=columns,
    )
