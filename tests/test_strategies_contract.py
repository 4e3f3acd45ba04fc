"""The strategy contract, checked over every registered strategy (hypothesis).

For each strategy (and each fake kind) with a sample params dict and a value generator fitting its
input: determinism, key sensitivity (keyed strategies), NULL passthrough through apply_strategy,
batch-split invariance, no input mutation, outputs fit the column; plus unique-safety on 200k values
and odd values (empty, emoji, 1 MB, malformed emails) that must never crash.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanitize.keys import SecretKey
from sanitize.schema import Column
from sanitize.strategies import ColumnContext, StrategySpec, all_strategies, get
from sanitize.strategies.apply import apply_strategy
from sanitize.strategies.fake import BUILTIN_KINDS

OTHER_KEY = SecretKey(b"another-key-0123456789-abcdefghijklmnop")

texts = st.text(max_size=40)
emails = st.from_regex(r"[a-z0-9._%+-]{1,20}@[a-z0-9-]{1,12}\.(com|org|de)", fullmatch=True)
phones = st.from_regex(r"\+?[0-9 ()\-.]{4,20}", fullmatch=True)
ints = st.integers(min_value=-(2**40), max_value=2**40)
floats = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1))
json_docs = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | texts,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "email", "x"]), inner, max_size=3)
    ),
    max_leaves=8,
).map(lambda d: json.dumps({"user": {"email": "a@b.com", "extra": d}, "items": [{"email": d}]}))


@dataclass(frozen=True)
class Case:
    """One strategy configuration to check."""

    strategy: str
    params: dict[str, Any]
    values: st.SearchStrategy[Any]
    column: Column | None = None
    keyed: bool = True  # output depends on the key (key sensitivity applies)
    dtype: str | None = None  # dtype of the input Series
    extra: dict[str, Any] = field(default_factory=dict)  # ColumnContext fields

    @property
    def id(self) -> str:
        kind = self.params.get("kind") or ",".join(f"{k}={v}" for k, v in self.params.items() if k != "paths")
        return f"{self.strategy}[{kind}]" + (f"->{self.column.kind}" if self.column else "")


TEXT = Column("c", "text", max_length=60)

CASES: list[Case] = [
    Case("keep", {}, texts, keyed=False),
    Case("nullify", {}, texts, keyed=False),
    Case("redact", {}, texts, TEXT, keyed=False),
    Case("redact", {"value": 0}, ints, Column("c", "integer"), keyed=False),
    Case("mask", {}, texts, TEXT, keyed=False),
    Case("mask", {"keep_first": 2, "keep_last": 2, "keep_separators": True}, emails, TEXT, keyed=False),
    Case("hash", {}, texts, TEXT),
    Case("hash", {"encoding": "base32", "prefix": "u_"}, texts, Column("c", "text", max_length=12)),
    Case("hash", {}, ints, Column("c", "integer")),
    Case("hash", {}, texts, Column("c", "uuid")),
    *[
        Case("fake", {"kind": k}, phones if k == "phone" else emails if k == "email" else texts, TEXT)
        for k in BUILTIN_KINDS
    ],
    Case("fake", {"kind": "date_of_birth"}, dates, Column("c", "date")),
    Case("fake", {"kind": "phone"}, st.integers(10**9, 10**12), Column("c", "integer")),
    Case("fake", {"kind": "job"}, texts, TEXT),
    Case("fake", {"kind": "name"}, texts, TEXT, extra={"locale": "de_DE"}),
    Case(
        "fake",
        {"kind": "credit_card"},
        st.from_regex(r"4[0-9]{15}", fullmatch=True),
        TEXT,
        extra={"unique": True},
    ),
    Case("fpe", {}, phones, TEXT),
    Case("fpe", {"format": "credit_card"}, st.from_regex(r"4[0-9]{3}( ?[0-9]{4}){3}", fullmatch=True), TEXT),
    Case("fpe", {"format": "iban"}, st.from_regex(r"DE[0-9]{20}", fullmatch=True), TEXT),
    Case("fpe", {}, st.integers(10**3, 10**15), Column("c", "integer")),
]


def _register_later_cases() -> None:
    """Cases for strategies of later families; added here so every registered strategy is covered."""
    names = set(all_strategies())
    if "date_shift" in names:
        CASES.extend(
            [
                Case("date_shift", {"max_days": 30}, dates, Column("c", "date"), dtype="object"),
                Case("date_shift", {}, dates.map(lambda d: d.isoformat()), TEXT),
                Case(
                    "date_shift",
                    {},
                    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
                    Column("c", "datetime"),
                    dtype="datetime64[us]",
                ),
            ]
        )
    if "noise" in names:
        CASES.extend(
            [
                Case("noise", {"relative": 0.1}, floats, Column("c", "float"), dtype="float64"),
                Case("noise", {"absolute": 5}, ints, Column("c", "integer"), dtype="int64"),
            ]
        )
    if "generalize" in names:
        CASES.extend(
            [
                Case("generalize", {"step": 10}, ints, Column("c", "integer"), keyed=False, dtype="int64"),
                Case(
                    "generalize", {"unit": "month"}, dates, Column("c", "date"), keyed=False, dtype="object"
                ),
                Case("generalize", {"keep_first": 3}, texts, TEXT, keyed=False),
            ]
        )
    if "json" in names:
        CASES.append(
            Case(
                "json",
                {
                    "paths": {
                        "$.user.email": {"strategy": "fake", "kind": "email"},
                        "$.items[*].email": "hash",
                    }
                },
                json_docs,
                Column("c", "json"),
            )
        )


_register_later_cases()

# Strategies registered by other modules get a generic text case unless they need extra setup.
NEEDS_SETUP: dict[str, str] = {}
for _name in all_strategies():
    if _name not in {c.strategy for c in CASES} and _name not in NEEDS_SETUP:
        CASES.append(Case(_name, {}, texts, TEXT, keyed=False))


def ctx_for(case: Case, key: SecretKey, **over: Any) -> ColumnContext:
    base = ColumnContext(key=key, domain="t.c", table="t", column=case.column, **case.extra)
    return replace(base, **over) if over else base


def run(case: Case, values: pd.Series, key: SecretKey, **over: Any) -> pd.Series:
    spec = get(case.strategy)
    return apply_strategy(values, spec, spec.validate_params(case.params), ctx_for(case, key, **over))


def series(case: Case, raw: list[Any]) -> pd.Series:
    if case.dtype == "object":
        return pd.Series(raw, dtype=object)
    if case.dtype is not None:
        dtype: Any = case.dtype
        return pd.Series(raw).astype(dtype) if raw else pd.Series(raw, dtype=dtype)
    return pd.Series(raw) if raw else pd.Series(raw, dtype="str")


def same(a: pd.Series, b: pd.Series) -> bool:
    return list(a.astype(object).where(a.notna(), None)) == list(b.astype(object).where(b.notna(), None))


def test_when_a_strategy_is_registered_then_it_has_a_contract_case() -> None:
    covered = {c.strategy for c in CASES} | set(NEEDS_SETUP)
    assert set(all_strategies()) <= covered


def test_when_a_strategy_is_registered_then_its_declaration_is_complete() -> None:
    for name, spec in all_strategies().items():
        assert spec.description and "\n" not in spec.description, name
        assert spec.example, name
        for fname, finfo in spec.params.model_fields.items():
            assert finfo.description, f"{name}.{fname} has no description"
        assert spec.params.model_config.get("extra") == "forbid", name
        assert spec.params.model_config.get("frozen") is True, name


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_when_a_strategy_runs_then_it_keeps_the_contract(case: Case, key: SecretKey) -> None:
    spec = get(case.strategy)

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        raw=st.lists(case.values, min_size=0, max_size=12),
        nulls=st.lists(st.booleans(), max_size=12),
        cut=st.integers(0, 12),
    )
    def check(raw: list[Any], nulls: list[bool], cut: int) -> None:
        values = series(case, raw)
        before = values.copy(deep=True)
        out = run(case, values, key)
        # input not mutated; same length and index
        pd.testing.assert_series_equal(values, before)
        assert len(out) == len(values) and list(out.index) == list(values.index)
        # deterministic: twice the same, and equal inputs give equal outputs
        if spec.deterministic:
            assert same(out, run(case, values, key))
            firsts: dict[Any, Any] = {}
            for v, o in zip(values.astype(str), out.astype(object), strict=True):
                assert firsts.setdefault(v, o) == o or (pd.isna(firsts[v]) and pd.isna(o))
        # batch-split invariance
        k = min(cut, len(values))
        parts = pd.concat([run(case, values.iloc[:k], key), run(case, values.iloc[k:], key)])
        assert same(out, parts)
        # NULL passthrough
        if raw:
            holes = [(nulls[i] if i < len(nulls) else False) for i in range(len(raw))]
            with_nulls = values.astype(object).where(~pd.Series(holes, index=values.index), None)
            if case.dtype == "datetime64[us]":
                with_nulls = with_nulls.astype("datetime64[us]")
            out_n = run(case, with_nulls, key)
            assert list(out_n.isna()) == [
                h or pd.isna(o) for h, o in zip(holes, out.astype(object), strict=True)
            ]
        # fits the column
        if case.column is not None and case.column.max_length and len(out):
            lengths = out.dropna().astype(str).str.len()
            assert (lengths <= case.column.max_length).all()

    check()


@pytest.mark.parametrize("case", [c for c in CASES if c.keyed], ids=lambda c: c.id)
def test_when_the_key_changes_then_a_keyed_strategy_gives_other_outputs(case: Case, key: SecretKey) -> None:
    @settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(raw=st.lists(case.values, min_size=30, max_size=30, unique_by=str))
    def check(raw: list[Any]) -> None:
        values = series(case, raw)
        a, b = run(case, values, key), run(case, values, OTHER_KEY)
        differ = int((a.astype(str) != b.astype(str)).sum())
        assert differ >= len(values) // 4, f"only {differ} of {len(values)} outputs changed with the key"

    check()


ODD_TEXT = [
    "",
    " ",
    "😀👩‍👩‍👧",
    "é" * 10,
    "x" * 1_000_000,
    "not-an-email@",
    "@@",
    "a@b",
    "\x00\n\t",
    "' OR 1=1 --",
    "١٢٣٤٥",
    "+",
    "(((",
    "0000",
]


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.values in (texts, emails, phones)], ids=lambda c: c.id
)
def test_when_values_are_odd_then_no_strategy_crashes(case: Case, key: SecretKey) -> None:
    values = pd.Series(ODD_TEXT)
    out = run(case, values, key)
    assert len(out) == len(values)
    assert same(out, run(case, values, key))


UNIQUE_CASES = [
    ("hash", {}, None),
    ("hash", {"encoding": "base32"}, Column("c", "text", max_length=20)),
    ("hash", {}, Column("c", "integer")),
    ("hash", {}, Column("c", "uuid")),
    *[
        ("fake", {"kind": k}, Column("c", "text", max_length=80))
        for k in (
            "name",
            "first_name",
            "last_name",
            "email",
            "username",
            "url",
            "uuid",
            "ipv6",
            "city",
            "company",
        )
    ],
]


@pytest.mark.parametrize("name,params,column", UNIQUE_CASES, ids=lambda x: str(x))
def test_when_unique_then_distinct_inputs_give_distinct_outputs(
    name: str, params: dict[str, Any], column: Column | None, key: SecretKey
) -> None:
    n = 200_000
    values = (
        pd.Series(np.arange(n))
        if column is not None and column.kind == "integer"
        else (pd.Series([f"user{i}@example.com" for i in range(n)], dtype="str"))
    )
    spec = get(name)
    ctx = ColumnContext(key=key, domain="t.c", table="t", column=column, unique=True)
    out = apply_strategy(values, spec, spec.validate_params(params), ctx)
    assert out.notna().all()
    assert out.nunique() == n


def _fakes(values: list[str], kind: str, domain: str, key: SecretKey) -> list[Any]:
    spec = get("fake")
    ctx = ColumnContext(key, domain)
    return apply_strategy(
        pd.Series(values, dtype="str"), spec, spec.validate_params({"kind": kind}), ctx
    ).tolist()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(domain=st.text(min_size=1, max_size=12), kind=st.sampled_from(BUILTIN_KINDS))
def test_when_a_fake_is_made_then_it_never_equals_its_input(key: SecretKey, domain: str, kind: str) -> None:
    # inputs from the fake's own output space (another domain's fakes, and every pool entry for the
    # pool kinds), so that a fake equal to its input would show up
    from sanitize.strategies import fake_data as fd

    seeds = [f"value {i}" for i in range(300)]
    values = [str(v) for v in _fakes(seeds, kind, "seed-domain", key)]
    if kind in ("first_name", "last_name"):
        pool = fd.first_names("en_US") if kind == "first_name" else fd.last_names("en_US")
        values += [str(v) for v in pool.values.to_pylist()]
    out = _fakes(values, kind, domain, key)
    same = [v for v, o in zip(values, out, strict=True) if str(o).lower() == v.lower()]
    assert same == []
    assert out == _fakes(values[::-1], kind, domain, key)[::-1]  # still one fake per value, any order


@pytest.mark.parametrize(
    ("name", "treatment"),
    [
        ("keep", "keep"),
        ("hash", "transform"),
        ("fake", "transform"),
        ("scrub", "partial"),
        ("json", "partial"),
    ],
)
def test_when_verify_reads_a_plan_then_the_spec_partial_flag_decides(name: str, treatment: str) -> None:
    from types import SimpleNamespace

    from sanitize.verify import treatments_from_plan

    spec = get(name)
    assert spec.partial is (treatment == "partial")
    column = SimpleNamespace(spec=spec, transforms=spec.transforms)
    plan = SimpleNamespace(tables={"t": SimpleNamespace(columns={"c": column})})
    assert treatments_from_plan(plan) == {"t": {"c": treatment}}


def test_when_a_plugin_strategy_declares_partial_then_verify_treats_its_column_as_partial() -> None:
    from types import SimpleNamespace

    from sanitize.verify import treatments_from_plan

    spec = StrategySpec(name="my_scrubber", description="keeps most text", fn=lambda v, p, c: v, partial=True)
    column = SimpleNamespace(spec=spec, transforms=True)
    plan = SimpleNamespace(tables={"t": SimpleNamespace(columns={"c": column})})
    assert treatments_from_plan(plan) == {"t": {"c": "partial"}}
