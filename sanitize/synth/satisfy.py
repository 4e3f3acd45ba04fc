"""Make generated rows satisfy their table's CHECK constraints, and verify that they do.

Each CHECK (parsed by `checks.py` into negation normal form) is met in one of two ways:
- *folded*: a check on one column made of ranges, IN lists, lengths and regular expressions becomes
  facts of that column (`fold_column`), so its generator draws only values that fit (unique ones too);
- *repaired*: other checks are evaluated over each batch (SQL's three-valued logic: NULL passes), and
  the failing rows are changed by construction: a leaf `x IS NULL` sets NULL, `a >= b` sets `a` from
  `b`, `x IN (...)` draws from the list, an `OR` takes per row the branch that needs fewest changes
  (`(a IS NULL) <> (b IS NULL)`: exactly one of two set), an `AND` meets every part.

Only columns whose values are free may change: keys made from row positions (primary keys, unique
columns, referenced columns, grouping foreign keys) do not, except a nullable foreign key may become
NULL. `feasible` says before any row exists whether a check can be met that way; the planner refuses
the ones that cannot, naming table and constraint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.schema import Column
from sanitize.synth.checks import (
    And,
    AnyOf,
    Cmp,
    Func,
    InList,
    IsNull,
    Match,
    Node,
    Or,
    Truth,
    UnreadableCheck,
    columns_of,
    flipped,
)
from sanitize.synth.evaluate import LENGTH_FUNCTIONS, as_type, passes, plain_column, plain_literal, value
from sanitize.synth.pattern import Pattern, UnsupportedPattern

_ROUNDS = 4  # passes over a batch's checks; later repairs can undo earlier ones only in odd schemas


@dataclass
class Levers:
    """What a batch's repairs may change, and where fresh values come from."""

    columns: dict[str, Column]
    can_null: set[str]
    can_set: set[str]
    fresh: Callable[[str, int], pa.Array]  # (column, attempt) -> a full batch of non-NULL values
    pick: Callable[[int, int], np.ndarray]  # (rows, choices) -> a choice per row
    patterns: dict[str, Pattern] = field(default_factory=dict)
    never_null: set[str] = field(default_factory=set)  # columns generation always fills


# --- repairing rows ----------------------------------------------------------------------------------


def _target(node: Node) -> str | None:
    return plain_column(node)


def feasible(node: Node, levers: Levers) -> str | None:
    """None when the condition can be made true by construction, else why not (naming a column)."""
    if isinstance(node, And):
        for item in node.items:
            why = feasible(item, levers)
            if why is not None:
                return why
        return None
    if isinstance(node, Or):
        whys = [feasible(x, levers) for x in node.items]
        return None if any(w is None for w in whys) else whys[0]
    if isinstance(node, IsNull):
        c = _target(node.expr)
        if c is None:
            return _resample_why(node, levers)
        ok = c in (levers.can_set | levers.never_null if node.negated else levers.can_null)
        return None if ok else f"{c} cannot be {'set' if node.negated else 'NULL'} (a key or NOT NULL)"
    if isinstance(node, Cmp):
        for cmp in (node, flipped(node)):
            c = _target(cmp.left)
            if c is not None and c in levers.can_set:
                return None
            if isinstance(cmp.left, Func) and cmp.left.args and _target(cmp.left.args[0]) in levers.can_set:
                return None
        return _resample_why(node, levers)
    if isinstance(node, Match) and not node.negated and _target(node.expr) not in levers.patterns:
        try:
            Pattern.parse(node.pattern)
        except UnsupportedPattern as exc:
            return f"the regular expression {node.pattern!r} is outside what synth generates ({exc})"
    if isinstance(node, Truth | InList | Match | AnyOf):
        c = _target(node.expr)
        if c is not None and c in levers.can_set:
            return None
        return _resample_why(node, levers)
    return f"{type(node).__name__} cannot be met"


def _resample_why(node: Node, levers: Levers) -> str | None:
    cols = columns_of(node)
    if cols & levers.can_set:
        return None
    return f"{', '.join(sorted(cols)) or 'it'} cannot change (keys synth makes from row positions)"


class Repair:
    """Changes the failing rows of one batch until its checks pass (by construction, never by retry)."""

    def __init__(self, levers: Levers, arrays: dict[str, pa.Array], n: int) -> None:
        self.levers = levers
        self.arrays = arrays
        self.n = n
        self.attempt = 0
        self.shared: set[str] = set()  # columns more than one check reads: changing them is dearer

    def put(self, column: str, mask: np.ndarray, values: pa.Array | pa.Scalar) -> None:
        if not mask.any():
            return
        cur = self.arrays[column]
        if isinstance(values, pa.Scalar):
            values = (
                pa.array([values.as_py()] * self.n, type=cur.type)
                if values.is_valid
                else pa.nulls(self.n, cur.type)
            )
        if values.type != cur.type:
            values = pc.cast(values, cur.type)
        self.arrays[column] = pc.if_else(pa.array(mask), values, cur)

    def fresh(self, column: str) -> pa.Array:
        arr = self.levers.fresh(column, self.attempt)
        cur = self.arrays[column]
        return arr if arr.type == cur.type else pc.cast(arr, cur.type)

    def make_true(self, node: Node, mask: np.ndarray) -> None:
        """Change rows in `mask` so that `node` is true (or NULL) there."""
        failing = mask & ~passes(node, self.arrays, self.n)
        if not failing.any():
            return
        if isinstance(node, And):
            for item in node.items:
                self.make_true(item, failing)
            return
        if isinstance(node, Or):
            self._choose(node, failing)
            return
        self._leaf(node, failing)

    def _choose(self, node: Or, mask: np.ndarray) -> None:
        options = [x for x in node.items if feasible(x, self.levers) is None]
        if not options:
            return
        # cost of each branch per row: how many of its parts are false now; ties broken at random
        costs = np.stack([self._cost(x) for x in options], axis=1).astype(float)
        jitter = self.levers.pick(self.n * len(options), 1000).reshape(self.n, len(options)) / 2000.0
        choice = np.argmin(costs + jitter, axis=1)
        for k, option in enumerate(options):
            self.make_true(option, mask & (choice == k))

    def _cost(self, node: Node) -> np.ndarray:
        """Per row: parts of the branch false now, plus half for each that changes a shared column."""
        items = node.items if isinstance(node, And) else (node,)
        cost = np.zeros(self.n)
        for x in items:
            weight = 1.5 if columns_of(x) & self.shared else 1.0
            cost += (~passes(x, self.arrays, self.n)) * weight
        return cost

    def _leaf(self, node: Node, mask: np.ndarray) -> None:
        lv = self.levers
        if isinstance(node, IsNull) and _target(node.expr) is not None:
            c = str(_target(node.expr))
            if node.negated and c in lv.can_set:
                self.put(c, mask, self.fresh(c))
            elif not node.negated and c in lv.can_null:
                self.put(c, mask, pa.scalar(None))
            return
        if isinstance(node, Truth) and _target(node.expr) in lv.can_set:
            self.put(str(_target(node.expr)), mask, pa.scalar(node.value))
            return
        if isinstance(node, InList) and not node.negated and _target(node.expr) in lv.can_set:
            c = str(_target(node.expr))
            items = pa.array(
                [as_type(pa.scalar(x.value), self.arrays[c].type).as_py() for x in node.items],
                type=self.arrays[c].type,
            )
            self.put(c, mask, items.take(pa.array(lv.pick(self.n, len(items)))))
            return
        if isinstance(node, Match) and not node.negated and _target(node.expr) in lv.can_set:
            c = str(_target(node.expr))
            pattern = lv.patterns.get(c)
            if pattern is None:
                try:
                    pattern = Pattern.parse(node.pattern)
                except UnsupportedPattern:
                    pattern = None
            if pattern is not None:
                rng = np.random.Generator(np.random.PCG64(int(lv.pick(1, 2**31)[0])))
                self.put(c, mask, pattern.random(rng, self.n, lv.columns[c].max_length))
                return
        if isinstance(node, Cmp) and self._compare(node, mask):
            return
        self._resample(node, mask)

    def _compare(self, node: Cmp, mask: np.ndarray) -> bool:
        lv = self.levers
        for cmp in (node, flipped(node)):
            c = _target(cmp.left)
            if c is not None and c in lv.can_set:
                other = value(cmp.right, self.arrays, self.n)
                self.put(c, mask, self._relative(c, cmp.op, other))
                return True
            f = cmp.left
            if (
                isinstance(f, Func)
                and f.args
                and _target(f.args[0]) in lv.can_set
                and isinstance(plain_literal(cmp.right), float)
            ):
                c = str(_target(f.args[0]))
                bound = int(float(plain_literal(cmp.right) or 0))
                if f.name in ("cardinality", "array_length") and bound <= 0 and cmp.op in ("=", "<=", "<"):
                    self.put(c, mask, pa.array([[]] * self.n, type=self.arrays[c].type))
                    return True
                if f.name in LENGTH_FUNCTIONS and cmp.op in ("<", "<="):
                    cut = bound - (1 if cmp.op == "<" else 0)
                    self.put(c, mask, pc.utf8_slice_codeunits(self.arrays[c], 0, max(cut, 0)))
                    return True
                if f.name in LENGTH_FUNCTIONS and cmp.op in (">", ">="):
                    need = bound + (1 if cmp.op == ">" else 0)
                    self.put(c, mask, pc.utf8_rpad(pc.fill_null(self.arrays[c], ""), need, "x"))
                    return True
        return False

    def _relative(self, column: str, op: str, other: pa.Array | pa.Scalar) -> pa.Array:
        """Values of `column` that stand in relation `op` to `other` (where `other` is not NULL)."""
        cur = self.arrays[column]
        col = self.levers.columns[column]
        if isinstance(other, pa.Scalar):
            other = pa.array([other.as_py()] * self.n) if other.is_valid else pa.nulls(self.n, cur.type)
        t = cur.type
        if op == "=":
            return pc.cast(other, t) if other.type != t else other
        fresh = self.fresh(column)
        if pa.types.is_temporal(t):
            base = pc.cast(other, t) if other.type != t else other
            step: float = 86_400_000_000 if pa.types.is_date(t) else 1_000_000
            span = 30 * 86_400_000_000
            as_int = pa.int32() if pa.types.is_date32(t) else pa.int64()
            b = pc.cast(base, as_int).to_numpy(zero_copy_only=False).astype(np.float64)
            if pa.types.is_date(t):
                span, step = 30, 1
            u = self.levers.pick(self.n, 1000) / 1000.0
            delta = np.floor(u * span) + (step if op in (">", "<", "<>") else 0)
            new = b + delta if op in (">", ">=", "<>") else b - delta
            new = np.nan_to_num(new).astype(np.int64)
            out = pa.array(new.astype(np.int32) if pa.types.is_date32(t) else new, type=as_int).cast(t)
            return out
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
            b = pc.cast(other, pa.float64()).to_numpy(zero_copy_only=False)
            b = np.nan_to_num(b)
            u = self.levers.pick(self.n, 1000) / 1000.0
            step = (
                1.0
                if col.kind == "integer"
                else (10.0 ** -(col.scale or 2) if col.kind == "decimal" else 1e-6)
            )
            size = np.maximum(np.abs(b), 1.0)
            if op in (">", ">=", "<>"):
                new = b + u * size + (step if op != ">=" else 0.0)
                new = np.ceil(new / step) * step
            else:
                new = b - u * np.abs(b) - (step if op == "<" else 0.0)
                new = np.floor(new / step) * step
            if col.kind == "integer":
                return pa.array(np.rint(new).astype(np.int64)).cast(t)
            from sanitize.synth.fit import to_decimal

            return to_decimal(new, col) if col.kind == "decimal" else pa.array(new).cast(t)
        allowed = col.check_values or col.enum_values
        if op == "<>" and allowed and len(allowed) > 1:  # another of the allowed values
            values = pa.array(list(allowed), type=pa.string())
            j = pc.fill_null(pc.index_in(pc.cast(other, pa.string()), values), -1).to_numpy(
                zero_copy_only=False
            )
            r = self.levers.pick(self.n, len(allowed) - 1)
            r = np.where((j >= 0) & (r >= j), r + 1, r)
            return values.take(pa.array(r)).cast(t)
        if op == "<>":
            return fresh
        raise UnreadableCheck(f"{column} {op} ... on {t} values")

    def _resample(self, node: Node, mask: np.ndarray) -> None:
        for c in sorted(columns_of(node) & self.levers.can_set):
            self.put(c, mask, self.fresh(c))


def enforce(
    checks: list[tuple[str, Node]], levers: Levers, arrays: dict[str, pa.Array], n: int
) -> list[tuple[str, int]]:
    """Repair a batch in place; (check name, rows still failing) for any the repairs could not meet."""
    fix = Repair(levers, arrays, n)
    seen: set[str] = set()
    for _name, node in checks:
        cols = columns_of(node)
        fix.shared |= cols & seen
        seen |= cols
    everyone = np.ones(n, dtype=bool)
    for attempt in range(_ROUNDS):
        fix.attempt = attempt
        for _name, node in checks:
            fix.make_true(node, everyone)
        if all(passes(node, arrays, n).all() for _name, node in checks):
            return []
    return [
        (name, int((~passes(node, arrays, n)).sum()))
        for name, node in checks
        if not passes(node, arrays, n).all()
    ]
