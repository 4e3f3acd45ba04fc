"""CHECK conditions evaluated over a batch of generated rows, and one-column checks folded into column facts.

`truth(node, arrays, n)` computes a condition (from `checks.py`) with SQL's three-valued logic;
`passes` says which rows a CHECK accepts (true or NULL). `fold_column` turns a check on one column
made of ranges, IN lists, lengths and a regular expression into facts of that column (its range,
allowed values, maximum length, pattern), so the column's generator draws only values that fit,
unique ones included.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.schema import Column
from sanitize.synth.checks import (
    And,
    AnyOf,
    Arith,
    Cast,
    Cmp,
    Col,
    Func,
    InList,
    IsNull,
    Lit,
    Match,
    Node,
    Or,
    Truth,
    UnreadableCheck,
    columns_of,
    flipped,
)
from sanitize.synth.pattern import Pattern, UnsupportedPattern

_TEXT_TYPES = ("text", "character varying", "varchar", "character", "char", "citext", "bpchar")
LENGTH_FUNCTIONS = ("length", "char_length", "character_length", "octet_length", "len")


# --- evaluation -------------------------------------------------------------------------------------


def _is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t)


def array_text(arr: pa.Array) -> pa.Array:
    """A list array as PostgreSQL writes arrays (`{a,b}`; items with special characters quoted)."""
    flat = pc.list_flatten(arr).cast(pa.string())
    special = pc.match_substring_regex(flat, r'[,{}"\\\s]|^$|^(?i:null)$')
    escaped = pc.replace_substring_regex(flat, r'(["\\])', r"\\\1")
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    items = pc.if_else(special, quoted, flat)
    offsets = arr.offsets if not arr.offset else pc.subtract(arr.offsets, arr.offsets[0])
    rebuilt = pa.ListArray.from_arrays(offsets, items, mask=pc.is_null(arr))
    joined = pc.binary_join(rebuilt, ",")
    return pc.binary_join_element_wise("{", joined, "}", "")


def value(node: Node, arrays: dict[str, pa.Array], n: int) -> pa.Array | pa.Scalar:
    """A scalar expression over a batch (columns as arrays, literals as scalars)."""
    if isinstance(node, Col):
        if node.name not in arrays:
            raise UnreadableCheck(f"it names {node.name!r}, which the table does not have")
        arr = arrays[node.name]
        return pc.cast(arr, pa.float64()) if pa.types.is_decimal(arr.type) else arr
    if isinstance(node, Lit):
        return pa.scalar(node.value)
    if isinstance(node, Cast):
        inner = value(node.expr, arrays, n)
        base = node.type.split(".")[-1]
        if isinstance(inner, pa.Array) and _is_list(inner.type) and base.endswith("[]"):
            return inner
        if isinstance(inner, pa.Array) and _is_list(inner.type) and base in _TEXT_TYPES:
            return array_text(inner)
        if base in ("date", "timestamp", "timestamp without time zone") and _is_text(inner):
            return pc.cast(inner, pa.timestamp("us"))
        numeric = base in ("numeric", "integer", "bigint", "smallint", "real", "double precision", "decimal")
        if numeric and isinstance(inner, pa.Scalar) and isinstance(inner.as_py(), str):
            return pa.scalar(float(inner.as_py()))
        return inner
    if isinstance(node, Func):
        return _func(node, arrays, n)
    if isinstance(node, Arith):
        a, b = value(node.left, arrays, n), value(node.right, arrays, n)
        if node.op == "||":
            return pc.binary_join_element_wise(pc.cast(a, pa.string()), pc.cast(b, pa.string()), "")
        fn = {"+": pc.add, "-": pc.subtract, "*": pc.multiply, "/": pc.divide}[node.op]
        return fn(_num(a), _num(b))
    raise UnreadableCheck(f"{type(node).__name__} used as a value")


def _is_text(v: pa.Array | pa.Scalar) -> bool:
    return pa.types.is_string(v.type) or pa.types.is_large_string(v.type)


def _num(v: pa.Array | pa.Scalar) -> pa.Array | pa.Scalar:
    if pa.types.is_integer(v.type) or pa.types.is_decimal(v.type):
        return pc.cast(v, pa.float64())
    return v


def _func(node: Func, arrays: dict[str, pa.Array], n: int) -> pa.Array | pa.Scalar:
    args = [value(a, arrays, n) for a in node.args]
    name = node.name.split(".")[-1]
    if name in LENGTH_FUNCTIONS and len(args) == 1:
        v = args[0]
        if isinstance(v, pa.Array) and _is_list(v.type):
            v = array_text(v)
        return pc.utf8_length(pc.cast(v, pa.string()))
    if name in ("cardinality", "array_length") and args and isinstance(args[0], pa.Array):
        lengths = pc.list_value_length(args[0])
        if name == "array_length":  # PostgreSQL: NULL for an empty array
            lengths = pc.if_else(pc.equal(lengths, 0), pa.scalar(None, lengths.type), lengths)
        return lengths
    if name in ("lower", "upper", "btrim", "trim") and len(args) == 1:
        fn = {"lower": pc.utf8_lower, "upper": pc.utf8_upper}.get(name, pc.utf8_trim_whitespace)
        return fn(pc.cast(args[0], pa.string()))
    if name in ("jsonb_typeof", "json_typeof", "json_type") and len(args) == 1:
        first = pc.utf8_slice_codeunits(pc.utf8_ltrim_whitespace(pc.cast(args[0], pa.string())), 0, 1)
        kinds = {"{": "object", "[": "array", '"': "string", "t": "boolean", "f": "boolean", "n": "null"}
        out = pc.if_else(pc.is_in(first, pa.array(list(kinds))), first, pa.scalar("0"))
        keys = pa.array([*kinds, "0"])
        names = pa.array([*kinds.values(), "number"])
        return names.take(pc.index_in(out, keys))
    raise UnreadableCheck(f"the function {node.name}() is not supported")


def _coerce(
    a: pa.Array | pa.Scalar, b: pa.Array | pa.Scalar
) -> tuple[pa.Array | pa.Scalar, pa.Array | pa.Scalar]:
    """Two sides of a comparison in one type (literals take the column's)."""
    if a.type == b.type:
        return a, b
    if isinstance(b, pa.Scalar) and isinstance(a, pa.Array):
        return a, as_type(b, a.type)
    if isinstance(a, pa.Scalar) and isinstance(b, pa.Array):
        return as_type(a, b.type), b
    if pa.types.is_temporal(a.type) and pa.types.is_temporal(b.type):
        if pa.types.is_date(a.type):
            a = pc.cast(a, pa.timestamp("us"))
        if pa.types.is_date(b.type):
            b = pc.cast(b, pa.timestamp("us"))
        if getattr(a.type, "tz", None) != getattr(b.type, "tz", None):
            a = pc.cast(a, pa.timestamp("us", tz="UTC")) if getattr(a.type, "tz", None) is None else a
            b = pc.cast(b, pa.timestamp("us", tz="UTC")) if getattr(b.type, "tz", None) is None else b
        return a, b
    return _num(a), _num(b)


def as_type(s: pa.Scalar, t: pa.DataType) -> pa.Scalar:
    v = s.as_py()
    if v is None:
        return pa.scalar(None, t)
    try:
        if pa.types.is_boolean(t) and isinstance(v, str):
            return pa.scalar(v.lower() in ("t", "true", "1", "yes", "y"))
        if pa.types.is_timestamp(t) and isinstance(v, str):
            return pc.cast(pc.cast(pa.scalar(v), pa.timestamp("us")), t)
        if pa.types.is_date(t) and isinstance(v, str):
            return pc.cast(pc.cast(pa.scalar(v), pa.timestamp("us")), t)
        if pa.types.is_integer(t) or pa.types.is_floating(t):
            return pa.scalar(float(v))
        return pc.cast(pa.scalar(v), t)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
        raise UnreadableCheck(f"cannot compare {v!r} with a {t} column ({exc})") from None


_CMP = {
    "=": pc.equal,
    "<>": pc.not_equal,
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
}


def truth(node: Node, arrays: dict[str, pa.Array], n: int) -> pa.Array:
    """A condition over a batch: true, false or NULL per row (SQL's three-valued logic)."""
    if isinstance(node, And | Or):
        parts = [truth(x, arrays, n) for x in node.items]
        fn = pc.and_kleene if isinstance(node, And) else pc.or_kleene
        out = parts[0]
        for p in parts[1:]:
            out = fn(out, p)
        return out
    if isinstance(node, Cmp):
        a, b = _coerce(value(node.left, arrays, n), value(node.right, arrays, n))
        return _full(_CMP[node.op](a, b), n)
    if isinstance(node, IsNull):
        v = value(node.expr, arrays, n)
        out = pc.is_valid(v) if node.negated else pc.is_null(v)
        return _full(out, n)
    if isinstance(node, InList):
        v = value(node.expr, arrays, n)
        items = [
            as_type(it, v.type) if isinstance(v, pa.Array) else it
            for it in (pa.scalar(x.value) for x in node.items)
        ]
        allowed = pa.array([x.as_py() for x in items], type=v.type)
        hit = pc.is_in(v, value_set=allowed)
        hit = pc.invert(hit) if node.negated else hit
        return _full(pc.if_else(pc.is_null(v), pa.scalar(None, pa.bool_()), hit), n)
    if isinstance(node, Truth):
        v = pc.cast(value(node.expr, arrays, n), pa.bool_())
        out = v if node.value else pc.invert(v)
        if node.on_null != "unknown":
            out = pc.fill_null(out, node.on_null == "true")
        return _full(out, n)
    if isinstance(node, Match):
        v = value(node.expr, arrays, n)
        if isinstance(v, pa.Array) and _is_list(v.type):
            v = array_text(v)
        try:
            hit = pc.match_substring_regex(
                pc.cast(v, pa.string()), node.pattern, ignore_case=node.ignore_case
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise UnreadableCheck(f"the regular expression {node.pattern!r} ({exc})") from None
        return _full(pc.invert(hit) if node.negated else hit, n)
    if isinstance(node, AnyOf):
        arr = value(node.array, arrays, n)
        if not isinstance(arr, pa.Array) or not _is_list(arr.type):
            raise UnreadableCheck("ANY/ALL over something that is not an array column")
        x = value(node.expr, arrays, n)
        flat = pc.list_flatten(arr)
        parents = pc.list_parent_indices(arr).to_numpy()
        xs = x if isinstance(x, pa.Scalar) else x.take(pa.array(parents))
        a, b = _coerce(flat, xs)
        eq = pc.fill_null(pc.equal(a, b), False).to_numpy(zero_copy_only=False)
        found = np.bincount(parents[eq], minlength=n) > 0
        out = pa.array(~found if node.negated else found)
        return pc.if_else(pc.is_null(arr), pa.scalar(None, pa.bool_()), out)
    raise UnreadableCheck(f"{type(node).__name__} used as a condition")


def _full(v: pa.Array | pa.Scalar, n: int) -> pa.Array:
    if isinstance(v, pa.Scalar):
        return pa.array([v.as_py()] * n, type=pa.bool_())
    return v


def passes(node: Node, arrays: dict[str, pa.Array], n: int) -> np.ndarray:
    """Rows the CHECK accepts (true or NULL)."""
    return np.asarray(pc.fill_null(truth(node, arrays, n), True).to_numpy(zero_copy_only=False), dtype=bool)


def _is_true(node: Node, arrays: dict[str, pa.Array], n: int) -> np.ndarray:
    return np.asarray(pc.fill_null(truth(node, arrays, n), False).to_numpy(zero_copy_only=False), dtype=bool)


# --- folding one-column checks into column facts ---------------------------------------------------


def plain_column(node: Node) -> str | None:
    """The column a leaf reads, when it reads exactly one column directly (casts aside)."""
    while isinstance(node, Cast):
        node = node.expr
    return node.name if isinstance(node, Col) else None


def fold_column(node: Node, columns: dict[str, Column]) -> tuple[str, Column, Pattern | None] | None:
    """A one-column conjunctive check as (column, narrowed column, pattern); None if it is not one."""
    items = node.items if isinstance(node, And) else (node,)
    cols = columns_of(node)
    if len(cols) != 1:
        return None
    name = next(iter(cols))
    if name not in columns:
        return None
    col = columns[name]
    pattern: Pattern | None = None
    lo, hi = col.check_range or (None, None)
    for item in items:
        if isinstance(item, Cmp) and plain_column(item.right) == name and isinstance(item.left, Lit | Cast):
            item = flipped(item)
        if (
            isinstance(item, Cmp)
            and plain_column(item.left) == name
            and col.kind in ("integer", "float", "decimal")
        ):
            bound = plain_literal(item.right)
            if not isinstance(bound, float) or item.op in ("=", "<>"):
                return None
            integer = col.kind == "integer"
            if item.op in (">", ">="):
                b = bound if item.op == ">=" else (math.floor(bound) + 1 if integer else _after(bound, col))
                lo = b if lo is None else max(lo, b)
            else:
                b = bound if item.op == "<=" else (math.ceil(bound) - 1 if integer else _before(bound, col))
                hi = b if hi is None else min(hi, b)
        elif isinstance(item, InList) and not item.negated and plain_column(item.expr) == name:
            values = tuple(
                str(x.value) if not isinstance(x.value, float) else _num_text(x.value) for x in item.items
            )
            col = replace(col, check_values=values)
        elif (
            isinstance(item, Match)
            and not item.negated
            and not item.ignore_case
            and plain_column(item.expr) == name
        ):
            if pattern is not None or col.kind not in ("text", "other"):
                return None
            try:
                pattern = Pattern.parse(item.pattern)
            except UnsupportedPattern:
                return None
        elif (
            isinstance(item, Cmp)
            and isinstance(item.left, Func)
            and item.left.name in LENGTH_FUNCTIONS
            and item.op in ("<", "<=")
            and isinstance(plain_literal(item.right), float)
        ):
            limit = int(float(plain_literal(item.right) or 0)) - (1 if item.op == "<" else 0)
            col = replace(col, max_length=min(col.max_length or limit, limit))
        elif isinstance(item, IsNull) and item.negated:
            continue  # NOT NULL: the generator's NULL fraction is dropped below
        else:
            return None
    if lo is not None or hi is not None:
        col = replace(col, check_range=(lo, hi))
    return name, col, pattern


def plain_literal(node: Node) -> str | float | bool | None:
    while isinstance(node, Cast):
        node = node.expr
    return node.value if isinstance(node, Lit) else None


def _num_text(x: float) -> str:
    return str(int(x)) if x == int(x) else str(x)


def _after(bound: float, col: Column) -> float:
    if col.kind == "decimal":
        return bound + 10.0 ** -(col.scale or 0)
    return math.nextafter(bound, math.inf)


def _before(bound: float, col: Column) -> float:
    if col.kind == "decimal":
        return bound - 10.0 ** -(col.scale or 0)
    return math.nextafter(bound, -math.inf)
