"""CHECK constraints read back from real databases, so synthetic data honours IN lists and ranges."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from sanitize.db import open_source, resolve
from sanitize.db.checks import ColumnCheck, read_checks

KINDS = {"status": "text", "qty": "integer", "price": "decimal", "ratio": "float"}


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # an IN list, with a doubled quote inside a value
        ("status IN ('new', 'paid', 'it''s')", {"status": ColumnCheck(values=("new", "paid", "it's"))}),
        # PostgreSQL's rendering of the same IN list
        (
            "((status)::text = ANY ((ARRAY['new'::character varying, 'paid'::character varying])::text[]))",
            {"status": ColumnCheck(values=("new", "paid"))},
        ),
        # strict bounds on an integer become inclusive ones
        ("qty > 0 AND qty <= 100", {"qty": ColumnCheck(low=1, high=100)}),
        ("(qty >= 1)", {"qty": ColumnCheck(low=1)}),
        ("10 > qty", {"qty": ColumnCheck(high=9)}),
        ("price BETWEEN 0 AND 999.99", {"price": ColumnCheck(low=0.0, high=999.99)}),
        # two columns in one constraint
        (
            "status in ('a','b') and qty between 1 and 5",
            {"status": ColumnCheck(values=("a", "b")), "qty": ColumnCheck(low=1, high=5)},
        ),
        # shapes not understood are left alone (the database still enforces them)
        ("qty > 0 OR qty IS NULL", {}),
        ("length(status) > 2", {}),
        ("nosuchcolumn > 3", {}),
    ],
)
def test_when_a_check_is_read_then_its_values_or_range_are_known(
    sql: str, expected: dict[str, ColumnCheck]
) -> None:
    assert read_checks([sql], KINDS) == expected


def test_when_a_float_bound_is_strict_then_the_bound_itself_is_excluded() -> None:
    (check,) = read_checks(["ratio > 0"], KINDS).values()
    assert check.low is not None and check.low > 0 and check.range == (check.low, None)


def test_when_sqlite_is_reflected_then_checks_reach_the_columns(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT CHECK (status IN ('new', 'paid')),"
        " qty INTEGER, CONSTRAINT qty_range CHECK (qty > 0 AND qty <= 10))"
    )
    con.close()
    with open_source(resolve(str(db))) as src:
        t = src.schema["orders"]
    assert t.column("status").check_values == ("new", "paid")
    assert t.column("qty").check_range == (1, 10)


def test_when_postgres_is_reflected_then_checks_reach_the_columns(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE orders (id int PRIMARY KEY,"
                " status varchar(10) CHECK (status IN ('new', 'paid')),"
                " qty int CHECK (qty BETWEEN 1 AND 10), price numeric(8,2) CHECK (price >= 0))"
            )
        )
    engine.dispose()
    with open_source(resolve(pg_url)) as src:
        t = src.schema["orders"]
    assert t.column("status").check_values == ("new", "paid")
    assert t.column("qty").check_range == (1, 10)
    assert t.column("price").check_range == (0, None)


def test_when_synthesising_from_a_reflected_schema_then_checks_hold(tmp_path: Path) -> None:
    from sanitize.synth import synthesize

    src = tmp_path / "src.db"
    con = sqlite3.connect(src)
    con.execute(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT NOT NULL CHECK (status IN ('new', 'paid')),"
        " qty INTEGER NOT NULL CHECK (qty > 0 AND qty <= 10))"
    )
    con.close()
    target = tmp_path / "dev.db"
    synthesize(str(target), schema_from=str(src), rows=500, seed=1)
    con = sqlite3.connect(target)
    try:
        bad = con.execute(
            "SELECT count(*) FROM orders WHERE status NOT IN ('new', 'paid') OR qty < 1 OR qty > 10"
        )
        assert bad.fetchone()[0] == 0
        assert con.execute("SELECT count(DISTINCT status), count(*) FROM orders").fetchone() == (2, 500)
    finally:
        con.close()
