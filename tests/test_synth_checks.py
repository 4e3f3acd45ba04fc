"""Synthetic rows satisfy the source's CHECK constraints, or synth refuses before writing, naming them.

The source is a real PostgreSQL database whose table declares the checks; after `synthesize` fills
another database, each check's own SQL (read back from the source's catalog) is run against the
target rows as `WHERE NOT (check)`: the database itself judges, not sanitize's evaluator.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sanitize.errors import BadInputError
from sanitize.schema import Check, Column, Schema, Table
from sanitize.synth import build_plan, synthesize

SOURCE_DDL = """
CREATE TABLE products (
    id serial PRIMARY KEY,
    code varchar(12) NOT NULL UNIQUE CONSTRAINT code_format CHECK (code ~ '^[A-Z]{3}-[0-9]{4}$'),
    price numeric(8, 2) NOT NULL CONSTRAINT price_positive CHECK (price > 0),
    discount numeric(8, 2) CONSTRAINT discount_at_most_price CHECK (discount <= price),
    status varchar(10) NOT NULL CONSTRAINT status_known CHECK (status IN ('draft', 'approved', 'retired')),
    approved_at timestamp,
    started_at timestamp NOT NULL,
    ended_at timestamp,
    owner_email varchar(80),
    team_name varchar(40),
    label text CONSTRAINT label_short CHECK (char_length(label) <= 12),
    CONSTRAINT ended_after_start CHECK (ended_at >= started_at),
    CONSTRAINT exactly_one_owner CHECK ((owner_email IS NULL) <> (team_name IS NULL)),
    CONSTRAINT draft_not_approved CHECK (status <> 'draft' OR approved_at IS NULL)
);
"""


def _checks(url: str, table: str) -> dict[str, str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'c' AND conrelid = CAST(:t AS regclass)"
            ),
            {"t": table},
        ).all()
    engine.dispose()
    return {name: definition.removeprefix("CHECK ") for name, definition in rows}


def _violations(url: str, table: str, checks: dict[str, str]) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        out = {
            name: conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE NOT ({sql})")).scalar_one()
            for name, sql in checks.items()
        }
    engine.dispose()
    return out


def test_when_checks_relate_columns_then_every_synthetic_row_satisfies_them(
    pg_url: str, pg_url2: str
) -> None:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(SOURCE_DDL)
    engine.dispose()
    checks = _checks(pg_url, "products")
    assert len(checks) == 8

    synthesize(pg_url2, schema_from=pg_url, rows=3000, seed=5)

    assert _violations(pg_url2, "products", checks) == dict.fromkeys(checks, 0)
    engine = sa.create_engine(pg_url2)
    with engine.connect() as conn:
        count = conn.execute(
            sa.text(
                "SELECT count(*) FILTER (WHERE owner_email IS NOT NULL), count(*) FILTER (WHERE team_name "
                "IS NOT NULL), count(*) FILTER (WHERE status = 'draft'), count(*) FILTER (WHERE ended_at > "
                "started_at), count(DISTINCT code), count(*) FILTER (WHERE discount < price) FROM products"
            )
        ).one()
    engine.dispose()
    owners, teams, drafts, ended, codes, discounted = count
    assert owners > 300 and teams > 300  # both branches of "exactly one" are used
    assert drafts > 0 and ended > 300 and discounted > 300
    assert codes == 3000  # the unique code matches its pattern and stays unique


def _table(*checks: Check, columns: tuple[Column, ...] | None = None, **kw: object) -> Table:
    cols = columns or (
        Column("id", "integer", False),
        Column("code", "text", False, max_length=20),
        Column("n", "integer"),
    )
    return Table("things", "things", columns=cols, primary_key=("id",), checks=checks, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("check", "said"),
    [
        # the unique code is a key synth makes from row positions: it cannot be changed to fit
        (Check("code_lower", "lower(code) = code"), "code cannot change"),
        # outside the grammar: named, not a database error at load time
        (Check("n_even", "n % 2 = 0"), "cannot be read"),
        (Check("recent", "extract(year from created) > 2000"), "cannot be read"),
    ],
)
def test_when_a_check_cannot_be_met_by_construction_then_synth_refuses_naming_it(
    check: Check, said: str
) -> None:
    schema = Schema({"things": _table(check, unique_constraints=(("code",),))})
    with pytest.raises(BadInputError) as err:
        build_plan(schema, {"things": 10}, seed=1)
    text = str(err.value) + " ".join(err.value.problems if hasattr(err.value, "problems") else [])
    assert f"things: CHECK {check.name}" in text
    assert said in text
    assert "things: skip" in text  # the fix


def test_when_a_table_is_skipped_then_its_unmeetable_checks_and_keys_are_not_checked() -> None:
    from types import SimpleNamespace

    cols = (Column("id", "integer", False), Column("flag", "boolean", False), Column("n", "integer"))
    table = _table(Check("n_even", "n % 2 = 0"), columns=cols, unique_constraints=(("flag",),))
    schema = Schema({"things": table})
    with pytest.raises(BadInputError):  # not skipped: both problems are reported
        build_plan(schema, {"things": 10}, seed=1)
    rules = SimpleNamespace(tables={"things": "skip"}, locale="en_US")
    plan = build_plan(schema, {"things": 10}, seed=1, rules=rules)
    assert plan.order == []
