"""Re-identification risk of a table's released rows, measured on its quasi-identifiers.

Quasi-identifiers (postcode, birth date, gender, city, ...) identify nobody alone but single people
out together (87% of Americans are unique on ZIP + birth date + sex). For the columns a rules file
marks as quasi-identifiers this measures, on any stream of batches:

- **k** (k-anonymity): the size of the smallest equivalence class — rows sharing all quasi-identifier
  values; every row hides among at least k-1 others;
- **unique share**: the share of rows alone in their class (k = 1 for them);
- **l** (distinct l-diversity) per sensitive column: the fewest distinct sensitive values in a class;
  l = 1 means someone who finds a person's class learns the sensitive value.

NULL is a value like any other. Counting is exact and streams: each batch's classes are reduced to
64-bit fingerprints (never the values) and merged, so memory grows with the number of classes, not of
rows. `suggest_generalizations` then searches, greedily, for `generalize` rules that reach a wanted k.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.core.util.hashing import hash_array

from sanitize.errors import RiskError, RulesError
from sanitize.keys import mix
from sanitize.rules import RiskGate, RulesFile, TableRules
from sanitize.schema import Schema

_NULL = "\x00<NULL>"
_MERGE_EVERY = 16  # batches between merges of the per-batch class counts


@dataclass(frozen=True)
class Risk:
    """Re-identification figures of one table on its quasi-identifiers."""

    table: str
    quasi_identifiers: tuple[str, ...]
    rows: int
    classes: int
    k: int  # smallest class; 0 for an empty table
    unique_share: float  # rows alone in their class / rows
    l_diversity: dict[str, int] = field(default_factory=dict)  # sensitive column -> smallest distinct count

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "quasi_identifiers": list(self.quasi_identifiers),
            "rows": self.rows,
            "classes": self.classes,
            "k": self.k,
            "unique_share": round(self.unique_share, 6),
            "l_diversity": dict(self.l_diversity),
        }


def _column_hash(values: pd.Series) -> np.ndarray:
    text = values.astype("string").fillna(_NULL).to_numpy(dtype=object)
    return hash_array(text, categorize=True)


def class_fingerprints(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One uint64 per row naming its combination of `columns` (the same in every batch)."""
    out = np.full(len(frame), np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64)
    for i, c in enumerate(columns):
        out = mix(out ^ _column_hash(frame[c]), 700 + i)
    return out


def _merge(hashes: list[np.ndarray], counts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    h = np.concatenate(hashes)
    c = np.concatenate(counts)
    order = np.argsort(h, kind="stable")
    h, c = h[order], c[order]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]]) if len(h) else np.array([], dtype=np.int64)
    return h[starts], np.add.reduceat(c, starts) if len(h) else c


@dataclass(frozen=True)
class Partial:
    """A batch's contribution: its class fingerprints with counts, and (class, sensitive) pairs."""

    rows: int
    classes: np.ndarray
    counts: np.ndarray
    pairs: dict[str, tuple[np.ndarray, np.ndarray]]


class RiskCounter:
    """Streams batches of one table and measures k, the unique share and l-diversity at the end."""

    def __init__(self, table: str, quasi_identifiers: Sequence[str], sensitive: Sequence[str] = ()) -> None:
        if not quasi_identifiers:
            raise ValueError("risk needs at least one quasi-identifier column")
        self.table = table
        self.quasi = tuple(quasi_identifiers)
        self.sensitive = tuple(sensitive)
        self.rows = 0
        self._h: list[np.ndarray] = []
        self._c: list[np.ndarray] = []
        self._pairs: dict[str, list[np.ndarray]] = {s: [] for s in self.sensitive}
        self._classes_of_pairs: dict[str, list[np.ndarray]] = {s: [] for s in self.sensitive}

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(self.quasi + self.sensitive))

    def add(self, frame: pd.DataFrame) -> None:
        self.merge(self.partial(frame))

    def partial(self, frame: pd.DataFrame) -> Partial:
        """One batch reduced to its class counts (pure: safe on worker threads; merge in order)."""
        classes = class_fingerprints(frame, self.quasi)
        h, c = np.unique(classes, return_counts=True)
        pairs = {}
        for s in self.sensitive:
            pair = mix(classes ^ mix(_column_hash(frame[s]), 731), 733)
            pair, first = np.unique(pair, return_index=True)
            pairs[s] = (pair, classes[first])
        return Partial(len(frame), h, c.astype(np.int64), pairs)

    def merge(self, part: Partial) -> None:
        if part.rows == 0:
            return
        self.rows += part.rows
        self._h.append(part.classes)
        self._c.append(part.counts)
        for s, (pair, cls) in part.pairs.items():
            self._pairs[s].append(pair)
            self._classes_of_pairs[s].append(cls)
        if len(self._h) >= _MERGE_EVERY:
            self._compact()

    def _compact(self) -> None:
        if len(self._h) > 1:
            h, c = _merge(self._h, self._c)
            self._h, self._c = [h], [c]
        for s in self.sensitive:
            if len(self._pairs[s]) > 1:
                pair = np.concatenate(self._pairs[s])
                cls = np.concatenate(self._classes_of_pairs[s])
                pair, first = np.unique(pair, return_index=True)
                self._pairs[s], self._classes_of_pairs[s] = [pair], [cls[first]]

    def result(self) -> Risk:
        self._compact()
        if self.rows == 0:
            return Risk(self.table, self.quasi, 0, 0, 0, 0.0, {s: 0 for s in self.sensitive})
        counts = self._c[0]
        diversity: dict[str, int] = {}
        for s in self.sensitive:
            _, per_class = np.unique(self._classes_of_pairs[s][0], return_counts=True)
            diversity[s] = int(per_class.min())
        return Risk(
            table=self.table,
            quasi_identifiers=self.quasi,
            rows=self.rows,
            classes=len(counts),
            k=int(counts.min()),
            unique_share=float((counts == 1).sum()) / self.rows,
            l_diversity=diversity,
        )


def measure(
    batches: Iterable[pd.DataFrame],
    table: str,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str] = (),
) -> Risk:
    """The risk figures of a table streamed as DataFrames holding (at least) the named columns."""
    counter = RiskCounter(table, quasi_identifiers, sensitive)
    for frame in batches:
        counter.add(frame)
    return counter.result()


def smallest_class(frame: pd.DataFrame, columns: Sequence[str]) -> int:
    """k of an in-memory frame."""
    return _progress(frame, columns)[0]


def _progress(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[int, int, int]:
    """(k, -rows alone in their class, -classes): larger is safer; compares generalisation steps."""
    if len(frame) == 0:
        return 0, 0, 0
    _, counts = np.unique(class_fingerprints(frame, columns), return_counts=True)
    return int(counts.min()), -int((counts == 1).sum()), -len(counts)


# --- generalisation suggestions -------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """A `generalize` rule for one column and the k the rules reach once it (and those before) apply."""

    column: str
    rule: dict[str, Any]
    k: int


def _ladder(values: pd.Series, kind: str | None) -> list[dict[str, Any]]:
    """Ever coarser `generalize` params that fit a column's kind."""
    if kind in ("date", "datetime"):
        return [{"unit": "month"}, {"unit": "year"}]
    if kind in ("integer", "float", "decimal"):
        x = pd.to_numeric(values, errors="coerce").dropna()
        if x.empty:
            return []
        spread = float(x.max() - x.min()) or 1.0
        steps = sorted(
            {10 ** math.floor(math.log10(spread / d)) for d in (200, 50, 10, 2) if spread / d >= 1}
        )
        return [{"step": s} for s in steps]
    if kind in (None, "text", "other"):
        longest = int(values.dropna().astype(str).str.len().max() or 0)
        if 1 < longest <= 12:  # codes and postcodes: keep fewer leading characters
            return [{"keep_first": n} for n in range(longest - 1, 0, -1)]
    return []


def suggest_generalizations(
    frame: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    want_k: int,
    kinds: dict[str, str | None] | None = None,
    key: Any = None,
) -> tuple[list[Suggestion], int]:
    """Greedy: coarsen, one step at a time, the quasi-identifier whose next step raises k the most, until
    k >= want_k or nothing is left to coarsen. Returns the steps (the last rule per column is the one to
    use) and the k reached. Each step runs the real `generalize` strategy, so the figures are exact for
    this frame."""
    from sanitize.keys import SecretKey
    from sanitize.schema import Column
    from sanitize.strategies.apply import apply_strategy
    from sanitize.strategies.registry import ColumnContext, get

    kinds = kinds or {}
    spec = get("generalize")
    k_key = key if key is not None else SecretKey(b"generalize-is-keyless-" + b"0" * 16)
    ladders = {c: _ladder(frame[c], kinds.get(c)) for c in quasi_identifiers}
    level = dict.fromkeys(quasi_identifiers, -1)
    current = frame[list(quasi_identifiers)].copy()
    k = smallest_class(current, quasi_identifiers)
    steps: list[Suggestion] = []

    def coarsened(col: str, params: dict[str, Any]) -> pd.Series:
        kind = kinds.get(col) or "text"
        ctx = ColumnContext(key=k_key, domain=col, column=Column(col, kind))  # type: ignore[arg-type]
        return apply_strategy(frame[col], spec, spec.validate_params(params), ctx)

    while k < want_k:
        best: tuple[tuple[int, int, int], str, pd.Series] | None = None
        for col in quasi_identifiers:
            nxt = level[col] + 1
            if nxt >= len(ladders[col]):
                continue
            trial = current.copy()
            trial[col] = coarsened(col, ladders[col][nxt])
            score = _progress(trial, quasi_identifiers)
            if best is None or score > best[0]:
                best = (score, col, trial[col])
        if best is None:
            break
        k, col, values = best[0][0], best[1], best[2]
        level[col] += 1
        current[col] = values
        steps.append(Suggestion(col, {"strategy": "generalize", **ladders[col][level[col]]}, k))
    return steps, k


# --- rules, gate and assessment ------------------------------------------------------------------


def risk_columns(rules: RulesFile, schema: Schema) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """table -> (quasi-identifiers, sensitive columns) named by the rules; RulesError (before any row is
    read) for a table or column the source does not have."""
    out: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    problems: list[str] = []
    where = rules.path or "rules"
    for key, t in rules.tables.items():
        if not isinstance(t, TableRules) or not t.quasi_identifiers:
            continue
        if key not in schema:
            problems.append(f"{where}: tables.{key}.quasi_identifiers: the source has no table {key!r}")
            continue
        have = schema[key].column_names
        for field_name, cols in (("quasi_identifiers", t.quasi_identifiers), ("sensitive", t.sensitive)):
            for c in cols:
                if c not in have:
                    problems.append(
                        f"{where}: tables.{key}.{field_name}: {key} has no column {c!r} "
                        f"(columns: {', '.join(have)})"
                    )
        out[key] = (t.quasi_identifiers, t.sensitive)
    if problems:
        raise RulesError("the rules' risk columns do not match the source", problems=problems)
    return out


def gate_failures(gate: RiskGate, figures: Risk) -> list[str]:
    """What a table's released figures break of the rules' risk limits (empty when they hold)."""
    out: list[str] = []
    if figures.rows == 0:
        return out
    q = ", ".join(figures.quasi_identifiers)
    if gate.min_k is not None and figures.k < gate.min_k:
        out.append(f"{figures.table}: k = {figures.k} on ({q}), the rules ask min_k {gate.min_k}")
    if gate.max_unique_share is not None and figures.unique_share > gate.max_unique_share:
        out.append(
            f"{figures.table}: {figures.unique_share:.1%} of rows are unique on ({q}), the rules allow "
            f"{gate.max_unique_share:.1%}"
        )
    for col, l_value in figures.l_diversity.items():
        if gate.min_l is not None and l_value < gate.min_l:
            out.append(f"{figures.table}: l = {l_value} for {col} on ({q}), the rules ask min_l {gate.min_l}")
    return out


@dataclass
class TableRisk:
    """A table's figures before (source) and after (target) anonymisation."""

    table: str
    source: Risk
    target: Risk | None = None
    suggestions: list[Suggestion] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "source": self.source.to_dict(),
            "target": self.target.to_dict() if self.target is not None else None,
            "suggestions": [{"column": s.column, "rule": s.rule, "k": s.k} for s in self.suggestions],
        }


def raise_if_over(gate: RiskGate, results: Sequence[TableRisk], *, publishing: bool = True) -> None:
    """RiskError naming every table whose target figures break the gate (a run publishes nothing then)."""
    failures = [f for r in results if r.target is not None for f in gate_failures(gate, r.target)]
    if failures:
        hints = [
            f"{r.table}.{col}: {rule_text(rule)}"
            for r in results
            for col, rule in final_rules(r.suggestions).items()
        ]
        what = (
            "the anonymised rows are easier to re-identify than the rules allow; nothing was published"
            if publishing
            else "the target's rows are easier to re-identify than the rules allow"
        )
        raise RiskError(
            f"{what}. Generalise the quasi-identifiers (rules that reach the limit on the source are "
            "suggested below), or relax `risk:` in the rules",
            problems=failures + [f"suggested: {h}" for h in hints],
        )


def rule_text(rule: dict[str, Any]) -> str:
    """A rule as the YAML flow mapping a rules file takes: {strategy: generalize, unit: year}."""
    return "{" + ", ".join(f"{k}: {v}" for k, v in rule.items()) + "}"


def final_rules(steps: Sequence[Suggestion]) -> dict[str, dict[str, Any]]:
    """The rule to use per column: the last step taken for it."""
    return {s.column: s.rule for s in steps}


SUGGEST_ROWS = 1_000_000  # quasi-identifier rows read to search for generalisations


def suggest_for(source: Any, table: str, quasi_identifiers: Sequence[str], want_k: int) -> list[Suggestion]:
    """Generalisation steps for a table of an open source (its first SUGGEST_ROWS rows, QI columns only)."""
    frames = []
    read = 0
    for frame in source.read_batches(table, columns=list(quasi_identifiers)):
        frames.append(frame)
        read += len(frame)
        if read >= SUGGEST_ROWS:
            break
    if not frames:
        return []
    kinds: dict[str, str | None] = {c.name: c.kind for c in source.schema[table].columns}
    steps, _ = suggest_generalizations(pd.concat(frames, ignore_index=True), quasi_identifiers, want_k, kinds)
    return steps


def assess(
    rules: RulesFile, source: Any, target: Any = None, environments: dict[str, str] | None = None
) -> list[TableRisk]:
    """Figures for every table the rules give quasi-identifiers, on the source and (when given) the
    target, read column-wise in batches; generalisations are suggested where the target (or, without
    one, the source) falls short of `risk: min_k`."""
    from sanitize.sources import open_source

    out: list[TableRisk] = []
    with open_source(source, environments) as src:
        quasi = risk_columns(rules, src.schema)
        for table, (q, s) in quasi.items():
            out.append(TableRisk(table, measure(src.read_batches(table, columns=[*q, *s]), table, q, s)))
        if target is not None:
            with open_source(target, environments) as tgt:
                for r in out:
                    if r.table in tgt.schema:
                        q, s = quasi[r.table]
                        r.target = measure(tgt.read_batches(r.table, columns=[*q, *s]), r.table, q, s)
        want = rules.risk.min_k
        for r in out:
            released = r.target if r.target is not None else r.source
            if want is not None and released.rows and released.k < want:
                r.suggestions = suggest_for(src, r.table, released.quasi_identifiers, want)
    return out
