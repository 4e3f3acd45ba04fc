"""Planning: coverage fails closed, foreign keys inherit their parent's rule, key columns stay safe."""

from __future__ import annotations

from typing import Any

import pytest

from sanitize.errors import CoverageError, RulesError
from sanitize.plan import build_plan, check_coverage
from sanitize.rules import RulesFile
from sanitize.schema import Column, ForeignKey, Schema, Table


def table(
    key: str,
    cols: list[str],
    pk: tuple[str, ...] = ("id",),
    fks: tuple[ForeignKey, ...] = (),
    unique: tuple[tuple[str, ...], ...] = (),
) -> Table:
    return Table(
        key=key,
        name=key,
        columns=tuple(Column(c, "integer" if c.endswith("id") else "text") for c in cols),
        primary_key=pk,
        foreign_keys=fks,
        unique_constraints=unique,
    )


SHOP = Schema(
    {
        "customers": table("customers", ["id", "email", "name"], unique=(("email",),)),
        "orders": table(
            "orders",
            ["id", "customer_id", "buyer_email"],
            fks=(ForeignKey(("customer_id",), "customers", ("id",)),),
        ),
        "employees": table(
            "employees",
            ["id", "name", "manager_id"],
            fks=(ForeignKey(("manager_id",), "employees", ("id",)),),
        ),
        "shipments": table(
            "shipments",
            ["order_id", "line_no", "note"],
            pk=("order_id", "line_no"),
            fks=(ForeignKey(("order_id",), "orders", ("id",)),),
        ),
        "audit": table(
            "audit", ["id", "customer_id", "what"], fks=(ForeignKey(("customer_id",), "customers", ("id",)),)
        ),
    }
)


def rules(tables: dict[str, Any], **top: Any) -> RulesFile:
    return RulesFile.from_dict({"version": 1, "tables": tables, **top})


FULL = {
    "customers": {
        "columns": {
            "id": "hash",
            "email": {"strategy": "fake", "kind": "email", "domain": "email"},
            "name": {"strategy": "fake", "kind": "name"},
        }
    },
    "orders": {
        "columns": {"id": "keep", "buyer_email": {"strategy": "fake", "kind": "email", "domain": "email"}}
    },
    "employees": {"columns": {"id": "keep", "name": {"strategy": "fake", "kind": "name"}}},
    "shipments": {"columns": {"line_no": "keep", "note": "redact"}},
    "audit": "skip",
}


def test_when_every_column_is_covered_then_the_plan_resolves_all_of_them() -> None:
    plan = build_plan(rules(FULL), SHOP)
    assert list(plan.tables) == ["customers", "employees", "orders", "shipments"]  # parents first
    assert plan.skipped == ["audit"]
    assert "audit" not in plan.target_schema
    # FK column inherits the parent's rule and domain
    fk = plan.tables["orders"].columns["customer_id"]
    assert fk.spec.name == "hash" and fk.domain == "customers.id" and fk.origin == "inherited"
    assert fk.inherited_from == "customers.id"
    # transitively: shipments.order_id -> orders.id (keep)
    assert plan.tables["shipments"].columns["order_id"].spec.name == "keep"
    # self reference
    assert plan.tables["employees"].columns["manager_id"].inherited_from == "employees.id"
    # the shared domain is used as given; a unique column gets unique outputs automatically
    email = plan.tables["customers"].columns["email"]
    assert email.domain == "email" and email.unique is True
    assert plan.tables["customers"].columns["name"].domain == "customers.name"


def test_when_columns_are_uncovered_then_the_plan_fails_listing_every_one() -> None:
    partial = dict(FULL, customers={"columns": {"id": "keep"}}, orders={"columns": {"id": "keep"}})
    with pytest.raises(CoverageError) as info:
        build_plan(rules(partial), SHOP)
    text = str(info.value)
    for col in ("customers.email", "customers.name", "orders.buyer_email"):
        assert col in text
    assert "orders.customer_id" not in text  # FK columns are covered by inheritance
    assert info.value.exit_code == 1


def test_when_a_table_is_not_named_at_all_then_its_columns_are_uncovered() -> None:
    cov = check_coverage(rules({k: v for k, v in FULL.items() if k != "audit"}), SHOP)
    assert "audit.what" in cov.uncovered and "audit.id" in cov.uncovered
    assert "audit.customer_id" not in cov.uncovered


def test_when_unknown_columns_is_keep_then_they_are_kept_and_listed() -> None:
    cov = check_coverage(rules({"customers": {"columns": {"id": "keep"}}}, unknown_columns="keep"), SHOP)
    assert cov.ok and "customers.email" in cov.defaulted


def test_when_rules_name_missing_tables_or_columns_then_they_are_stale() -> None:
    stale = dict(FULL, ghosts={"columns": {"a": "keep"}})
    stale["customers"] = {"columns": {**FULL["customers"]["columns"], "fax": "nullify"}}  # type: ignore[index]
    cov = check_coverage(rules(stale), SHOP)
    assert sorted(cov.stale) == ["tables.customers.columns.fax", "tables.ghosts"]
    with pytest.raises(CoverageError, match="remove or rename the rule"):
        build_plan(rules(stale), SHOP)


def test_when_a_foreign_key_has_a_conflicting_rule_then_it_is_an_error() -> None:
    conflicting = dict(
        FULL, orders={"columns": {"id": "keep", "buyer_email": "redact", "customer_id": "keep"}}
    )
    with pytest.raises(RulesError, match="tables.orders.columns.customer_id: this foreign key inherits"):
        build_plan(rules(conflicting), SHOP)


def test_when_a_foreign_key_repeats_the_parent_rule_then_it_is_accepted() -> None:
    same = dict(FULL, orders={"columns": {"id": "keep", "buyer_email": "redact", "customer_id": "hash"}})
    assert build_plan(rules(same), SHOP).tables["orders"].columns["customer_id"].spec.name == "hash"


@pytest.mark.parametrize(
    ("column", "rule", "fragment"),
    [
        ("id", "nullify", "deterministic, join-preserving"),  # PK nulled would break every join
        (
            "id",
            {"strategy": "mask", "keep_last": 1},
            "deterministic, join-preserving",
        ),  # collides: not key-safe
        ("email", "redact", "cannot keep values distinct"),  # unique column, constant output
    ],
)
def test_when_key_or_unique_columns_get_unsafe_strategies_then_it_is_refused(
    column: str, rule: Any, fragment: str
) -> None:
    bad = dict(FULL, customers={"columns": {**FULL["customers"]["columns"], column: rule}})  # type: ignore[dict-item]
    with pytest.raises(RulesError, match=fragment):
        build_plan(rules(bad), SHOP)


def test_when_composite_foreign_keys_exist_then_each_column_inherits_its_own_parent() -> None:
    schema = Schema(
        {
            "a": table("a", ["x", "y", "v"], pk=("x", "y")),
            "b": table("b", ["id", "ax", "ay"], fks=(ForeignKey(("ax", "ay"), "a", ("x", "y")),)),
        }
    )
    plan = build_plan(
        rules({"a": {"columns": {"x": "hash", "y": "keep", "v": "keep"}}, "b": {"columns": {"id": "keep"}}}),
        schema,
    )
    assert plan.tables["b"].columns["ax"].spec.name == "hash"
    assert plan.tables["b"].columns["ax"].domain == "a.x"
    assert plan.tables["b"].columns["ay"].spec.name == "keep"


def test_when_tables_reference_each_other_in_a_cycle_then_all_are_planned() -> None:
    schema = Schema(
        {
            "p": table("p", ["id", "q_id"], fks=(ForeignKey(("q_id",), "q", ("id",)),)),
            "q": table("q", ["id", "p_id"], fks=(ForeignKey(("p_id",), "p", ("id",)),)),
        }
    )
    plan = build_plan(rules({"p": {"columns": {"id": "keep"}}, "q": {"columns": {"id": "hash"}}}), schema)
    assert sorted(plan.tables) == ["p", "q"]
    assert plan.tables["p"].columns["q_id"].spec.name == "hash"


def test_when_one_column_makes_a_domain_unique_then_every_column_of_that_domain_is_unique() -> None:
    plan = build_plan(rules(FULL), SHOP)
    # customers.email is unique in the schema; orders.buyer_email shares its domain, so it must make
    # pseudonyms the same (unique) way, or one address would get two different pseudonyms
    assert plan.tables["orders"].columns["buyer_email"].unique is True
    assert "email" in plan.tables["orders"].unique_domains
    assert plan.tables["customers"].columns["name"].unique is False
