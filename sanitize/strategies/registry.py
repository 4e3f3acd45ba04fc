"""The strategy registry: one declaration per strategy drives validation, listing and docs.

A strategy is a pure, vectorised function `fn(values, params, ctx) -> Series`:
- `values` holds only the non-NULL values of one column of one batch (`apply.apply_strategy` removes
  NULLs and puts them back, so NULL stays NULL); its index is the batch's index;
- `params` is the strategy's frozen pydantic model, validated once when the rules are loaded;
- `ctx` says who is asking (key, domain, the target column's type and length, the locale, the whole
  batch for strategies that read another column).
It must return a Series of the same length and index, never mutate its input, and depend only on
(key, domain, value) — never on row order, batch boundaries, time or global state. A strategy that is
also safe to run on several batches at once (no shared mutable state) says `thread_safe=True`, and the
pipeline then transforms its tables on worker threads; without it, its tables run one batch at a time.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from sanitize.keys import SecretKey
from sanitize.schema import Column

log = logging.getLogger("sanitize")

ENTRY_POINT_GROUP = "sanitize.strategies"


class Params(BaseModel):
    """Base of every strategy's parameters: frozen, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    """A strategy that takes no parameters."""


@dataclass(frozen=True)
class ColumnContext:
    """What a strategy knows about the column it transforms."""

    key: SecretKey
    domain: str  # pseudonym space: equal inputs in one domain give equal outputs
    table: str = ""
    column: Column | None = None  # target column: kind, max_length, precision (None on a bare DataFrame)
    locale: str = "en_US"
    unique: bool = False  # distinct inputs must give distinct outputs
    # Domains whose pseudonyms are made unique somewhere in the rules: every use of such a domain (a
    # column, a JSON path, a span found by scrub) must make them the same way, or equal inputs would
    # get different pseudonyms. Strategies that call others (json, scrub) pass this on.
    unique_domains: frozenset[str] = frozenset()
    frame: pd.DataFrame | None = field(default=None, compare=False)  # the batch rows of `values`
    # the source's own people (keyed fingerprints of name words) for scrub; see detect/known.py
    known: Any = field(default=None, compare=False)
    # the run's progress callback (table, done, expected), for work that is long within one batch
    progress: Any = field(default=None, compare=False)

    def for_domain(self, domain: str, *, unique: bool = False, column: Column | None = None) -> ColumnContext:
        """The context a nested rule runs in: its own domain, unique when the domain is unique anywhere."""
        return ColumnContext(
            key=self.key,
            domain=domain,
            table=self.table,
            column=column,
            locale=self.locale,
            unique=unique or domain in self.unique_domains,
            unique_domains=self.unique_domains,
            known=self.known,
            progress=self.progress,
        )

    @property
    def max_length(self) -> int | None:
        return self.column.max_length if self.column is not None else None

    @property
    def kind(self) -> str | None:
        return self.column.kind if self.column is not None else None


StrategyFn = Callable[[pd.Series, Any, ColumnContext], pd.Series]


@dataclass(frozen=True)
class StrategySpec:
    """Everything sanitize knows about one strategy."""

    name: str
    description: str
    fn: StrategyFn
    params: type[Params] = NoParams
    deterministic: bool = True  # same (key, domain, value) -> same output
    key_safe: bool = False  # may run on primary/foreign key columns (deterministic and join-preserving)
    unique_safe: bool = False  # with unique=True, distinct inputs give distinct outputs
    transforms: bool = True  # False only for `keep`: the value reaches the target unchanged
    # the value is partly kept (scrub, json: the text or document around what is replaced stays); verify
    # checks such columns for what was left rather than for values copied whole
    partial: bool = False
    # may run on several batches at once on worker threads; plug-ins are run one batch at a time
    # unless they say so (every built-in is: numpy/pyarrow work releases the GIL)
    thread_safe: bool = False
    nested: Callable[[Any], tuple[str, ...]] = field(default=lambda _p: ())  # strategies the params run
    reads_columns: Callable[[Any], tuple[str, ...]] = field(default=lambda _p: ())  # other columns used
    example: str = ""  # a YAML snippet for the docs

    def validate_params(self, raw: dict[str, Any]) -> Params:
        return self.params.model_validate(raw)

    def threaded(self, params: Any) -> bool:
        """May this rule transform several batches at once on worker threads?"""
        return self.thread_safe and all(get(name).thread_safe for name in self.nested(params))


_REGISTRY: dict[str, StrategySpec] = {}
_entry_points_loaded = False


def register(spec: StrategySpec) -> StrategySpec:
    """Add a strategy; a name can be registered once."""
    if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
        raise ValueError(f"strategy {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def _load_builtins_and_plugins() -> None:
    global _entry_points_loaded
    import sanitize.strategies.builtin  # noqa: F401  (registers the built-in families)

    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            specs = obj() if callable(obj) and not isinstance(obj, StrategySpec) else obj
            for spec in specs if isinstance(specs, list | tuple) else [specs]:
                register(spec)
        except Exception as exc:  # a broken plugin must not break the tool; say so
            log.warning("strategy plugin %s could not be loaded: %s", ep.name, exc)


def all_strategies() -> dict[str, StrategySpec]:
    _load_builtins_and_plugins()
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> StrategySpec:
    """The spec for a name; KeyError with the closest names in its message."""
    specs = all_strategies()
    try:
        return specs[name]
    except KeyError:
        raise KeyError(name) from None


def closest(name: str) -> str | None:
    """The registered name closest to a misspelt one, if any is close."""
    matches = difflib.get_close_matches(name, list(all_strategies()), n=1, cutoff=0.5)
    if not matches:
        # prefix/substring hints, e.g. mask_phone -> mask
        hits = [n for n in all_strategies() if name.startswith(n) or n in name]
        matches = sorted(hits, key=len, reverse=True)[:1]
    return matches[0] if matches else None


def builtin_strategies() -> dict[str, StrategySpec]:
    """The strategies sanitize ships (not plug-ins), by name."""
    return {n: s for n, s in all_strategies().items() if s.fn.__module__.startswith("sanitize.strategies.")}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown_table(specs: Iterable[StrategySpec]) -> str:
    """The strategy table of the README and `sanitize strategies --markdown`: name, what it does, example."""
    rows = ["| strategy | does | example |", "|---|---|---|"]
    rows += [f"| `{s.name}` | {_cell(s.description)} | `{_cell(s.example)}` |" for s in specs]
    return "\n".join(rows) + "\n"
