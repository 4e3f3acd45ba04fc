"""The `json` strategy: rules per JSON path, applied inside each document.

    payload: {strategy: json, paths: {"$.user.email": {strategy: fake, kind: email, domain: email},
                                      "$.items[*].sku": keep, "$.card": nullify}}

Paths: `$.a.b`, `$.a[0]`, `$.items[*].email`, `$.a.*`, `$['odd key']`, nested arrays (`$.m[*][*]`).
Nested rules are validated through the registry when the rules load, so a bad nested rule fails
before any data moves. Each path is applied vectorised: every value at that path across the batch is
collected, run through the nested strategy once (via apply_strategy, so JSON null stays null) and put
back. Paths apply in the order written; a later path sees an earlier one's output.

A document that is not valid JSON fails closed: by default it becomes the JSON text `null` (its content
is never copied) and a warning counts them; with `invalid: error` the run stops instead.
Text in, JSON text out (compact); dict/list objects in, new objects out (inputs are never mutated).
"""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import json
import logging
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, PrivateAttr, ValidationError, model_validator

from sanitize.errors import BadInputError
from sanitize.strategies.apply import apply_strategy
from sanitize.strategies.registry import ColumnContext, Params, StrategySpec, closest, get, register
from sanitize.strategies.vector import is_text_kind, refuse, text_series, where

log = logging.getLogger("sanitize")

Step = tuple[str, Any]  # ("key", name) | ("index", i) | ("all", None)

_TOKEN = re.compile(
    r"""\.(?P<name>[^.\[\]*]+)|\.(?P<star>\*)|\[(?P<idx>-?\d+)\]|\[(?P<all>\*)\]|\[(?P<q>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\]"""
)


def parse_path(path: str) -> tuple[Step, ...]:
    """`$.a[0].b[*]` -> (("key", "a"), ("index", 0), ("key", "b"), ("all", None)); ValueError if bad."""
    if not path.startswith("$"):
        raise ValueError(f"JSON path {path!r} must start with '$' (e.g. $.user.email)")
    steps: list[Step] = []
    pos = 1
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None:
            raise ValueError(
                f"JSON path {path!r}: cannot read {path[pos:]!r} (use .name, [0], [*] or ['name'])"
            )
        if m.group("name") is not None:
            steps.append(("key", m.group("name")))
        elif m.group("star") is not None or m.group("all") is not None:
            steps.append(("all", None))
        elif m.group("idx") is not None:
            steps.append(("index", int(m.group("idx"))))
        else:
            steps.append(("key", json.loads('"' + m.group("q")[1:-1].replace('"', '\\"') + '"')))
        pos = m.end()
    if not steps:
        raise ValueError(f"JSON path {path!r} names the whole document; name a part of it (e.g. $.email)")
    return tuple(steps)


@dataclass(frozen=True)
class PathRule:
    """One compiled `path: rule` entry."""

    path: str
    steps: tuple[Step, ...]
    strategy: str
    params: Params
    domain: str | None
    unique: bool


def _compile_rule(path: str, rule: str | dict[str, Any]) -> PathRule:
    raw: dict[str, Any] = {"strategy": rule} if isinstance(rule, str) else dict(rule)
    name = raw.pop("strategy", None)
    if not isinstance(name, str):
        raise ValueError(f"paths.{path}: a rule needs `strategy: <name>`")
    domain = raw.pop("domain", None)
    unique = raw.pop("unique", False)
    if domain is not None and not isinstance(domain, str):
        raise ValueError(f"paths.{path}.domain: expected text, found {domain!r}")
    if not isinstance(unique, bool):
        raise ValueError(f"paths.{path}.unique: expected true or false, found {unique!r}")
    if name == "json":
        raise ValueError(f"paths.{path}: json inside json is not supported; write the longer path instead")
    try:
        spec = get(name)
    except KeyError:
        near = closest(name)
        hint = f" (did you mean {near!r}?)" if near else ""
        raise ValueError(f"paths.{path}: unknown strategy {name!r}{hint}") from None
    try:
        params = spec.validate_params(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"paths.{path}.{'.'.join(str(p) for p in e['loc']) or name}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(problems) from None
    if spec.reads_columns(params):
        raise ValueError(f"paths.{path}: strategy {name!r} reads other columns, which a JSON path cannot")
    return PathRule(path, parse_path(path), name, params, domain, unique)


class JsonParams(Params):
    paths: dict[str, str | dict[str, Any]] = Field(
        description="JSON path -> rule (a strategy name, or {strategy: ..., domain: ..., <params>})."
    )
    invalid: Literal["null", "error"] = Field(
        default="null",
        description="A document that is not valid JSON becomes JSON null (default) or stops the run (error).",
    )
    _compiled: tuple[PathRule, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _compile(self) -> JsonParams:
        if not self.paths:
            raise ValueError("paths is empty: name at least one JSON path and its rule")
        compiled, problems = [], []
        for path, rule in self.paths.items():
            try:
                parse_path(path)
                compiled.append(_compile_rule(path, rule))
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise ValueError("; ".join(problems))
        self._compiled = tuple(compiled)
        return self

    @property
    def compiled(self) -> tuple[PathRule, ...]:
        return self._compiled


# --- walking documents --------------------------------------------------------------------------


def _collect(node: Any, steps: tuple[Step, ...], out: list[tuple[Any, Any]]) -> None:
    """Append (container, key) for every place `steps` reaches in `node`."""
    kind, arg = steps[0]
    last = len(steps) == 1
    if kind == "key":
        if isinstance(node, dict) and arg in node:
            targets = [arg]
        else:
            return
    elif kind == "index":
        if isinstance(node, list) and -len(node) <= arg < len(node):
            targets = [arg % len(node)]
        else:
            return
    elif isinstance(node, dict):
        targets = list(node)
    elif isinstance(node, list):
        targets = list(range(len(node)))
    else:
        return
    for t in targets:
        if last:
            out.append((node, t))
        else:
            _collect(node[t], steps[1:], out)


def _jsonable(v: Any) -> Any:
    """A strategy output as a JSON value."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float | np.floating):
        return None if math.isnan(v) or math.isinf(v) else float(v)
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, str):
        return v
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, pd.Timestamp | dt.date | dt.datetime | dt.time):
        return v.isoformat()
    return str(v)


def _parse(values: pd.Series, ctx: ColumnContext, invalid: str) -> tuple[list[Any], np.ndarray, bool]:
    """(documents, ok mask, were they objects?) — new objects, the input is never touched."""
    docs: list[Any] = []
    ok = np.ones(len(values), dtype=bool)
    objects = False
    for i, v in enumerate(values.to_numpy(dtype=object)):
        if isinstance(v, dict | list):
            objects = True
            docs.append(copy.deepcopy(v))
            continue
        try:
            text = v.decode("utf-8") if isinstance(v, bytes | bytearray) else v
            docs.append(json.loads(text) if isinstance(text, str) else None)
            if not isinstance(text, str):
                ok[i] = False
        except (ValueError, UnicodeDecodeError):
            docs.append(None)
            ok[i] = False
    bad = int((~ok).sum())
    if bad and invalid == "error":
        raise BadInputError(
            f"{where(ctx)}: {bad} values are not valid JSON (first at row index "
            f"{values.index[int(np.argmin(ok))]}); "
            "fix the data or use `invalid: null` to write JSON null for them"
        )
    if bad:
        log.warning("%s: %d values are not valid JSON; each was replaced by JSON null", where(ctx), bad)
    return docs, ok, objects


def _apply_path(docs: list[Any], rule: PathRule, ctx: ColumnContext) -> None:

    refs: list[tuple[Any, Any]] = []
    for doc in docs:
        if doc is not None:
            _collect(doc, rule.steps, refs)
    if not refs:
        return
    found = [c[k] for c, k in refs]
    found = [
        json.dumps(v, sort_keys=True, ensure_ascii=False) if isinstance(v, dict | list) else v for v in found
    ]
    series = pd.Series(found, dtype=object)
    if all(isinstance(v, str) or v is None for v in found):
        series = series.astype("str")
    nested = ctx.for_domain(rule.domain or f"{ctx.domain}{rule.path}", unique=rule.unique)
    spec = get(rule.strategy)
    out = apply_strategy(series, spec, rule.params, nested).astype(object)
    for (container, k), v in zip(refs, out.to_numpy(), strict=True):
        container[k] = _jsonable(v)


def _json(values: pd.Series, params: JsonParams, ctx: ColumnContext) -> pd.Series:
    if not (is_text_kind(ctx) or ctx.kind == "json"):
        raise refuse(
            ctx,
            "json",
            f"it rewrites JSON documents but the column is {ctx.kind}",
            "use it on a text or JSON column",
        )
    if ctx.unique:
        raise refuse(ctx, "json", "rewritten documents are not guaranteed unique", "drop unique")
    docs, ok, objects = _parse(values, ctx, params.invalid)
    for rule in params.compiled:
        _apply_path(docs, rule, ctx)
    if objects:
        return pd.Series(
            [d if k else None for d, k in zip(docs, ok, strict=True)], index=values.index, dtype=object
        )
    texts = [
        json.dumps(d, ensure_ascii=False, separators=(",", ":")) if k else "null"
        for d, k in zip(docs, ok, strict=True)
    ]
    import pyarrow as pa

    return text_series(pa.array(texts, type=pa.large_string()), values.index)


JSON = register(
    StrategySpec(
        name="json",
        partial=True,
        thread_safe=True,
        description="Apply rules per JSON path inside each document ($.user.email, $.items[*].sku); "
        "documents that are not JSON become JSON null.",
        fn=_json,
        params=JsonParams,
        nested=lambda p: tuple(r.strategy for r in p.compiled),
        example='payload: {strategy: json, paths: {"$.user.email": {strategy: fake, kind: email}}}',
    )
)

__all__ = ["JSON", "JsonParams", "PathRule", "parse_path"]
