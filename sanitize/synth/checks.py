"""CHECK constraints as synth reads them: a small parser for the common grammar, in negation normal form.

Understood: comparisons between columns and literals (`=`, `<>`, `<`, `<=`, `>`, `>=`), `IN (...)`,
`= ANY (ARRAY[...])`, `IS [NOT] NULL`, `IS [NOT] TRUE/FALSE`, `AND`/`OR`/`NOT`, parentheses,
`BETWEEN`, `LIKE`/`ILIKE`, regular expressions (`~`, `~*`, `REGEXP`, `RLIKE`), `length`/`char_length`,
`cardinality`, `jsonb_typeof`, casts (`::text`, `CAST(x AS date)`), and a comparison of two
conditions (`(a IS NULL) <> (b IS NULL)`: exactly one of two set). What is outside it raises
`UnreadableCheck`, which the planner turns into a refusal naming the constraint.

`parse_check(sql)` gives a tree whose NOTs are pushed down to the leaves (`negation normal form`), so
a generator can make each leaf true (see `satisfy.py`); `evaluate` (in `satisfy.py`) computes it over
a batch with SQL's three-valued logic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class UnreadableCheck(ValueError):
    """A CHECK expression outside the grammar synth understands."""


@dataclass(frozen=True)
class Col:
    name: str


@dataclass(frozen=True)
class Lit:
    value: str | float | bool | None


@dataclass(frozen=True)
class Func:
    name: str  # lower case: length, char_length, cardinality, jsonb_typeof, lower, upper, ...
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Cast:
    expr: Node
    type: str  # lower case, e.g. "text", "date", "text[]", "public.quote_status"


@dataclass(frozen=True)
class Arith:
    op: str  # + - * / ||
    left: Node
    right: Node


@dataclass(frozen=True)
class Cmp:
    op: str  # = <> < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True)
class InList:
    expr: Node
    items: tuple[Lit, ...]
    negated: bool = False


@dataclass(frozen=True)
class AnyOf:
    """`expr = ANY (array column)` (or `<> ALL`, negated)."""

    expr: Node
    array: Node
    negated: bool = False


@dataclass(frozen=True)
class IsNull:
    expr: Node
    negated: bool = False  # IS NOT NULL


@dataclass(frozen=True)
class Truth:
    """A boolean value used as a condition: `admin`, `flag IS TRUE`, `NOT flag`."""

    expr: Node
    value: bool = True
    on_null: str = "unknown"  # `flag`: NULL stays unknown; `IS TRUE`: false; `IS NOT TRUE`: true


@dataclass(frozen=True)
class Match:
    expr: Node
    pattern: str  # a Python regular expression (LIKE patterns are translated)
    negated: bool = False
    ignore_case: bool = False


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Col | Lit | Func | Cast | Arith | Cmp | InList | AnyOf | IsNull | Truth | Match | And | Or | Not
CONDITIONS = (Cmp, InList, AnyOf, IsNull, Truth, Match, And, Or, Not)

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>[eE]?'(?:[^']|'')*')
    |(?P<qid>"(?:[^"]|"")*"|`[^`]*`|\[[A-Za-z_][^\]]*\])
    |(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)
    |(?P<op>::|<>|!=|<=|>=|!~~\*|!~~|~~\*|~~|!~\*|!~|~\*|\|\||[=<>~(),\[\]+\-*/.])
    |(?P<word>[A-Za-z_][\w$]*)
    )""",
    re.X,
)
_COMPARE = ("=", "<>", "!=")
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "<>": "<>"}
NEGATE = {"=": "<>", "<>": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def _tokens(sql: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    sql = sql.strip()
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if m is None or m.end() == pos:
            raise UnreadableCheck(f"cannot read {sql[pos : pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind is None:
            continue
        text = m.group(kind)
        if kind == "word":
            out.append(("kw" if text.upper() in _KEYWORDS else "id", text))
        elif kind == "qid":
            out.append(("id", text[1:-1].replace('""', '"')))
        else:
            out.append((kind, text))
    return out


_KEYWORDS = frozenset(
    re.findall(
        r"\w+",
        "AND OR NOT IS NULL TRUE FALSE IN BETWEEN LIKE ILIKE REGEXP "
        "RLIKE ANY ALL SOME ARRAY CAST AS ESCAPE DISTINCT FROM CASE COLLATE",
    )
)


class _Parser:
    def __init__(self, sql: str) -> None:
        self.toks = _tokens(sql)
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, str]:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("end", "")

    def kw(self, *words: str) -> bool:
        kind, text = self.peek()
        if kind == "kw" and text.upper() in words:
            self.i += 1
            return True
        return False

    def op(self, *ops: str) -> str | None:
        kind, text = self.peek()
        if kind == "op" and text in ops:
            self.i += 1
            return text
        return None

    def expect(self, text: str) -> None:
        if self.op(text) is None and not self.kw(text):
            raise UnreadableCheck(f"expected {text!r} at {self.peek()[1]!r}")

    def parse(self) -> Node:
        node = self.or_()
        if self.peek()[0] != "end":
            raise UnreadableCheck(f"unexpected {self.peek()[1]!r}")
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.kw("OR"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(_cond(x) for x in items))

    def and_(self) -> Node:
        items = [self.not_()]
        while self.kw("AND"):
            items.append(self.not_())
        return items[0] if len(items) == 1 else And(tuple(_cond(x) for x in items))

    def not_(self) -> Node:
        if self.kw("NOT"):
            return Not(_cond(self.not_()))
        return self.predicate()

    def predicate(self) -> Node:
        node = self._predicate()
        # MySQL writes `a is null <> (b is null)`: IS binds as tightly as a comparison, left to right
        while isinstance(node, IsNull | Truth) and self.peek()[0] == "op" and self.peek()[1] in _COMPARE:
            op = self.op(*_COMPARE) or "="
            node = Cmp("<>" if op == "!=" else op, node, self.additive())
        return node

    def _predicate(self) -> Node:
        left = self.additive()
        negated = self.kw("NOT")
        if self.kw("IS"):
            neg = self.kw("NOT")
            if self.kw("NULL"):
                return IsNull(left, neg)
            if self.kw("TRUE", "FALSE"):
                value = self.toks[self.i - 1][1].upper() == "TRUE"
                return Truth(left, value != neg, on_null="true" if neg else "false")
            if self.kw("DISTINCT"):
                self.expect("FROM")
                right = self.additive()
                return _distinct(left, right, not neg)
            raise UnreadableCheck("IS without NULL/TRUE/FALSE/DISTINCT FROM")
        if self.kw("IN"):
            self.expect("(")
            items = [self.additive()]
            while self.op(","):
                items.append(self.additive())
            self.expect(")")
            lits = tuple(_literal(x) for x in items)
            return InList(left, lits, negated)
        if self.kw("BETWEEN"):
            lo = self.additive()
            self.expect("AND")
            hi = self.additive()
            inside = And((Cmp(">=", left, lo), Cmp("<=", left, hi)))
            return Not(inside) if negated else inside
        if self.kw("LIKE", "ILIKE"):
            ci = self.toks[self.i - 1][1].upper() == "ILIKE"
            pattern = _literal(self.additive()).value
            escape = "\\"
            if self.kw("ESCAPE"):
                escape = str(_literal(self.additive()).value)
            return Match(left, like_regex(str(pattern), escape), negated, ci)
        if self.kw("REGEXP", "RLIKE"):
            return Match(left, str(_literal(self.additive()).value), negated)
        if negated:
            raise UnreadableCheck("NOT in an unexpected place")
        op = self.op(
            "=", "<>", "!=", "<", "<=", ">", ">=", "~", "~*", "!~", "!~*", "~~", "~~*", "!~~", "!~~*"
        )
        if op is None:
            return left
        if op in ("~~", "~~*", "!~~", "!~~*"):  # PostgreSQL prints LIKE / ILIKE / NOT LIKE this way
            pattern = _literal(self.additive()).value
            return Match(left, like_regex(str(pattern), "\\"), op.startswith("!"), op.endswith("*"))
        if op in ("~", "~*", "!~", "!~*"):
            return Match(left, str(_literal(self.additive()).value), op.startswith("!"), op.endswith("*"))
        op = "<>" if op == "!=" else op
        if self.kw("ANY", "SOME", "ALL"):
            quantifier = self.toks[self.i - 1][1].upper()
            self.expect("(")
            arr = self.or_()
            self.expect(")")
            arr = _strip_casts(arr)
            if isinstance(arr, Func) and arr.name == "array":
                lits = tuple(_literal(x) for x in arr.args)
                if (op, quantifier) in (("=", "ANY"), ("=", "SOME")):
                    return InList(left, lits)
                if (op, quantifier) == ("<>", "ALL"):
                    return InList(left, lits, negated=True)
            elif (op, quantifier) in (("=", "ANY"), ("=", "SOME")):
                return AnyOf(left, arr)
            elif (op, quantifier) == ("<>", "ALL"):
                return AnyOf(left, arr, negated=True)
            raise UnreadableCheck(f"{op} {quantifier} (...)")
        return Cmp(op, left, self.additive())

    def additive(self) -> Node:
        node = self.term()
        while True:
            op = self.op("+", "-", "||")
            if op is None:
                return node
            node = Arith(op, node, self.term())

    def term(self) -> Node:
        node = self.unary()
        while True:
            op = self.op("*", "/")
            if op is None:
                return node
            node = Arith(op, node, self.unary())

    def unary(self) -> Node:
        if self.op("-"):
            inner = self.unary()
            if isinstance(inner, Lit) and isinstance(inner.value, float):
                return Lit(-inner.value)
            return Arith("-", Lit(0.0), inner)
        if self.op("+"):
            return self.unary()
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            if self.op("::"):
                node = Cast(node, self.type_name())
            elif self.kw("COLLATE"):
                self.i += 1
            else:
                return node

    def type_name(self) -> str:
        parts: list[str] = []
        while True:
            kind, text = self.peek()
            if kind in ("id", "kw") and text.upper() not in ("AND", "OR", "IS", "IN", "NOT", "LIKE"):
                parts.append(text.lower())
                self.i += 1
            elif kind == "op" and text == "." and parts:
                parts.append(".")
                self.i += 1
            elif kind == "op" and text == "(" and parts:
                while self.peek()[1] != ")":
                    self.i += 1
                self.i += 1
            elif kind == "op" and text == "[" and self.peek(1)[1] == "]":
                parts.append("[]")
                self.i += 2
            else:
                break
        if not parts:
            raise UnreadableCheck("a cast without a type")
        return " ".join(parts).replace(" . ", ".").replace(" []", "[]")

    def primary(self) -> Node:
        kind, text = self.peek()
        self.i += 1
        if kind == "str":
            body = text[2:-1] if text[0] in "eE" else text[1:-1]
            body = body.replace("''", "'")
            if text[0] in "eE":
                body = body.encode("latin-1", "backslashreplace").decode("unicode_escape")
            return Lit(body)
        if kind == "num":
            return Lit(float(text))
        if kind == "op" and text == "(":
            node = self.or_()
            self.expect(")")
            return node
        if kind == "kw":
            word = text.upper()
            if word in ("TRUE", "FALSE"):
                return Lit(word == "TRUE")
            if word == "NULL":
                return Lit(None)
            if word == "ARRAY":
                self.expect("[")
                items: list[Node] = []
                if self.op("]") is None:
                    items.append(self.additive())
                    while self.op(","):
                        items.append(self.additive())
                    self.expect("]")
                return Func("array", tuple(items))
            if word == "CAST":
                self.expect("(")
                inner = self.or_()
                self.expect("AS")
                typ = self.type_name()
                self.expect(")")
                return Cast(inner, typ)
            raise UnreadableCheck(f"{word} is not supported")
        if kind == "id" and text.startswith("_") and self.peek()[0] == "str":  # MySQL's _utf8mb4'x'
            return self.primary()
        if kind == "id":
            name = text
            while self.peek() == ("op", ".") and self.peek(1)[0] == "id":  # table.column: keep the column
                self.i += 1
                name = self.peek()[1]
                self.i += 1
            if self.op("("):
                args: list[Node] = []
                if self.op(")") is None:
                    args.append(self.or_())
                    while self.op(","):
                        args.append(self.or_())
                    self.expect(")")
                return Func(name.lower(), tuple(args))
            return Col(name)
        raise UnreadableCheck(f"unexpected {text!r}")


def _cond(node: Node) -> Node:
    return node if isinstance(node, CONDITIONS) else Truth(node)


def _strip_casts(node: Node) -> Node:
    while isinstance(node, Cast):
        node = node.expr
    return node


def _literal(node: Node) -> Lit:
    node = _strip_casts(node)
    if isinstance(node, Lit):
        return node
    raise UnreadableCheck("a list item that is not a literal")


def _distinct(left: Node, right: Node, distinct: bool) -> Node:
    both_null = And((IsNull(left), IsNull(right)))
    one_null = Or((And((IsNull(left), IsNull(right, True))), And((IsNull(left, True), IsNull(right)))))
    differ = And((IsNull(left, True), IsNull(right, True), Cmp("<>", left, right)))
    if distinct:
        return Or((one_null, differ))
    same = And((IsNull(left, True), IsNull(right, True), Cmp("=", left, right)))
    return Or((both_null, same))


def like_regex(pattern: str, escape: str = "\\") -> str:
    """A LIKE pattern as an anchored Python regular expression."""
    out, i = ["^"], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return "".join(out) + "$"


def is_condition(node: Node) -> bool:
    return isinstance(node, CONDITIONS)


def nnf(node: Node, negate: bool = False) -> Node:
    """The condition with NOTs pushed to the leaves and `cond = cond` / `cond <> cond` spelled out."""
    if isinstance(node, Not):
        return nnf(node.item, not negate)
    if isinstance(node, And | Or):
        items = tuple(nnf(x, negate) for x in node.items)
        flip = isinstance(node, And) == negate
        return Or(items) if flip else And(items)
    if isinstance(node, Cmp) and is_condition(node.left) and is_condition(node.right):
        a, b = node.left, node.right
        same = (node.op == "=") != negate
        if node.op not in ("=", "<>"):
            raise UnreadableCheck(f"conditions compared with {node.op}")
        if same:  # both true or both false
            return Or((And((nnf(a), nnf(b))), And((nnf(a, True), nnf(b, True)))))
        return Or((And((nnf(a), nnf(b, True))), And((nnf(a, True), nnf(b)))))
    if not negate:
        return node
    if isinstance(node, Cmp):
        return Cmp(NEGATE[node.op], node.left, node.right)
    if isinstance(node, InList):
        return InList(node.expr, node.items, not node.negated)
    if isinstance(node, AnyOf):
        return AnyOf(node.expr, node.array, not node.negated)
    if isinstance(node, IsNull):
        return IsNull(node.expr, not node.negated)
    if isinstance(node, Truth):
        # NOT (x IS TRUE) is `x IS NOT TRUE` (true for NULL); NOT x stays unknown for NULL
        on_null = {"unknown": "unknown", "true": "false", "false": "true"}[node.on_null]
        return Truth(node.expr, not node.value, on_null)
    if isinstance(node, Match):
        return Match(node.expr, node.pattern, not node.negated, node.ignore_case)
    raise UnreadableCheck(f"cannot negate {type(node).__name__}")


def flipped(cmp: Cmp) -> Cmp:
    """`a < b` as `b > a`."""
    return Cmp(_FLIP[cmp.op], cmp.right, cmp.left)


def parse_check(sql: str) -> Node:
    """A CHECK condition as a tree in negation normal form; UnreadableCheck outside the grammar."""
    return nnf(_cond(_Parser(sql).parse()))


def columns_of(node: Node) -> set[str]:
    """Every column a condition or expression reads."""
    if isinstance(node, Col):
        return {node.name}
    out: set[str] = set()
    for value in vars(node).values():
        if isinstance(value, tuple):
            for x in value:
                if not isinstance(x, str | float | bool) and x is not None:
                    out |= columns_of(x)
        elif hasattr(value, "__dataclass_fields__"):
            out |= columns_of(value)
    return out
