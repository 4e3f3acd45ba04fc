"""CHECK constraints read back into column facts synthesis can honour: IN lists and numeric ranges.

Only the simple, common shapes are understood — `col IN ('a', 'b')` (PostgreSQL shows it as
`col = ANY (ARRAY['a'::text, ...])`), `col >= 0`, `col > 0 AND col <= 100`, `col BETWEEN 1 AND 5` —
each on one column. Anything else is left alone (the database still enforces it at load time).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_IDENT = r'[`"\[]?(?P<col>[A-Za-z_][\w$]*)[`"\]]?'
_CAST = r"(?:::[\w ]+(?:\[\])?)?"
_NUM = r"\(?(?P<num>[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\)?" + _CAST
_IN = re.compile(rf"^\(*\s*{_IDENT}\s*\)*{_CAST}\s+IN\s*\((?P<items>.*)\)\s*\)*$", re.I | re.S)
_ANY = re.compile(
    rf"^\(*\s*{_IDENT}\s*\)*{_CAST}\s*=\s*ANY\s*\(\s*\(?ARRAY\[(?P<items>.*)\]\)?{_CAST}\s*\)\s*\)*$",
    re.I | re.S,
)
_CMP = re.compile(rf"^\(*\s*{_IDENT}\s*\)*{_CAST}\s*(?P<op><=|>=|<|>)\s*{_NUM}\s*\)*$", re.I)
_CMP_REV = re.compile(rf"^\(*\s*{_NUM}\s*(?P<op><=|>=|<|>)\s*{_IDENT}\s*\)*{_CAST}\s*\)*$", re.I)
_BETWEEN = re.compile(
    rf"^\(*\s*{_IDENT}\s*\)*{_CAST}\s+BETWEEN\s+(?P<lo>[-+]?\d+(?:\.\d+)?){_CAST}\s+AND\s+"
    rf"(?P<hi>[-+]?\d+(?:\.\d+)?){_CAST}\s*\)*$",
    re.I,
)
_STRING = re.compile(r"'((?:[^']|'')*)'")
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


@dataclass(frozen=True)
class ColumnCheck:
    values: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None

    @property
    def range(self) -> tuple[float | None, float | None] | None:
        return None if self.low is None and self.high is None else (self.low, self.high)


def _split_and(text: str) -> list[str]:
    """Top-level AND terms (not inside parentheses or quotes; BETWEEN's AND kept)."""
    terms, depth, start, quoted, i = [], 0, 0, False, 0
    upper = text.upper()
    while i < len(text):
        ch = text[i]
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth <= 1 and upper.startswith(" AND ", i):
            before = upper[start:i]
            if "BETWEEN" in before and before.count(" AND ") == 0 and not before.rstrip().endswith(")"):
                i += 5
                continue  # the AND of a BETWEEN
            terms.append(text[start:i])
            start = i + 5
            i += 5
            continue
        i += 1
    terms.append(text[start:])
    return [t.strip() for t in terms if t.strip()]


def _strict(bound: float, op: str, integer: bool) -> float:
    if op in ("<=", ">="):
        return bound
    if integer:
        return math.floor(bound) + 1 if op == ">" else math.ceil(bound) - 1
    return math.nextafter(bound, math.inf if op == ">" else -math.inf)


def read_checks(sqltexts: Iterable[str], kinds: Mapping[str, str]) -> dict[str, ColumnCheck]:
    """Column -> what its CHECK constraints allow, for the shapes understood; `kinds` is column -> kind."""
    out: dict[str, ColumnCheck] = {}
    for sql in sqltexts:
        for term in _split_and(sql.strip()):
            _read_term(term, kinds, out)
    return out


def _read_term(term: str, kinds: Mapping[str, str], out: dict[str, ColumnCheck]) -> None:
    m = _IN.match(term) or _ANY.match(term)
    if m and m.group("col") in kinds:
        values = tuple(v.replace("''", "'") for v in _STRING.findall(m.group("items")))
        if values:
            out[m.group("col")] = ColumnCheck(values=values, low=None, high=None)
        return
    m = _BETWEEN.match(term)
    if m and m.group("col") in kinds:
        _narrow(out, m.group("col"), float(m.group("lo")), float(m.group("hi")))
        return
    m = _CMP.match(term)
    op = m.group("op") if m else None
    if m is None:
        m = _CMP_REV.match(term)
        op = _FLIP[m.group("op")] if m else None
    if m is None or op is None or m.group("col") not in kinds:
        return
    col = m.group("col")
    bound = _strict(float(m.group("num")), op, kinds[col] == "integer")
    if op in (">", ">="):
        _narrow(out, col, bound, None)
    else:
        _narrow(out, col, None, bound)


def _narrow(out: dict[str, ColumnCheck], col: str, low: float | None, high: float | None) -> None:
    cur = out.get(col, ColumnCheck())
    lo = low if cur.low is None else (cur.low if low is None else max(cur.low, low))
    hi = high if cur.high is None else (cur.high if high is None else min(cur.high, high))
    out[col] = ColumnCheck(values=cur.values, low=lo, high=hi)
