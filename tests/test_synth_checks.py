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


@pytest.mark.parametrize(
    ("sql", "rows", "accepted"),
    [
        # PostgreSQL's own rendering of "exactly one of two set"
        ("((a IS NULL) <> (b IS NULL))", [(1, None), (None, 2), (None, None), (1, 2)], [1, 1, 0, 0]),
        # an implication written as OR; NULL in a comparison passes a CHECK
        ("((a <> 1) OR (b IS NULL))", [(1, None), (1, 5), (2, 5), (None, 5)], [1, 0, 1, 1]),
        ("a BETWEEN 1 AND 3 AND NOT b IN (7, 8)", [(2, 1), (4, 1), (2, 7), (2, None)], [1, 0, 0, 1]),
        ("(a)::numeric >= (b)::numeric", [(2, 1), (1, 2), (1, 1), (None, 1)], [1, 0, 1, 1]),
        ("a IS NOT DISTINCT FROM b", [(1, 1), (None, None), (1, None), (1, 2)], [1, 1, 0, 0]),
        # MariaDB's rendering of "exactly one of two set" (IS binds like a comparison)
        ("`a` is null <> (`b` is null)", [(1, None), (None, 2), (None, None), (1, 2)], [1, 1, 0, 0]),
        # MySQL writes string literals with a character set
        ("`a` in (_utf8mb4'1', _utf8mb4'2') or b = 0", [(1, 5), (3, 0), (3, 5)], [1, 1, 0]),
    ],
)
def test_when_a_check_is_read_then_it_accepts_the_rows_sql_accepts(
    sql: str, rows: list[tuple[object, object]], accepted: list[int]
) -> None:
    import pyarrow as pa

    from sanitize.synth.checks import parse_check
    from sanitize.synth.evaluate import passes

    arrays = {
        "a": pa.array([r[0] for r in rows], type=pa.int64()),
        "b": pa.array([r[1] for r in rows], type=pa.int64()),
    }
    assert passes(parse_check(sql), arrays, len(rows)).astype(int).tolist() == accepted


@pytest.mark.parametrize(
    ("sql", "accepted"),
    [
        ("(email ~~ '%@%'::text)", [1, 0, 1]),  # PostgreSQL prints LIKE as ~~
        ("(email !~~ '%@%'::text)", [0, 1, 1]),  # NOT LIKE
        ("(email ~~* '%@EXAMPLE.%'::text)", [1, 0, 1]),  # ILIKE
    ],
)
def test_when_postgres_prints_like_as_tildes_then_synth_reads_it(sql: str, accepted: list[int]) -> None:
    import pyarrow as pa

    from sanitize.synth.checks import parse_check
    from sanitize.synth.evaluate import passes

    arrays = {"email": pa.array(["a@example.com", "nobody", None], type=pa.large_string())}
    assert passes(parse_check(sql), arrays, 3).astype(int).tolist() == accepted


@pytest.mark.parametrize(
    ("regex", "unique"),
    [
        (r"^[A-Z]{3}-[0-9]{4}$", True),
        (r"^INV-\d{2,5}(-[A-Z])?$", True),  # an optional group
        (r"^[a-z0-9_]{1,100}$", True),
        (r"^[[:alpha:]]{3}$", True),  # a POSIX class
        (r"^[^,:]{2}$", True),  # a negated class
        (r"ab+c", False),  # unanchored; one string only, so not unique
    ],
)
def test_when_a_regex_check_is_met_then_random_and_unique_values_match_it(regex: str, unique: bool) -> None:
    import re

    import numpy as np

    from sanitize.synth.pattern import Pattern

    pattern = Pattern.parse(regex)
    python = re.compile(regex.replace("[[:alpha:]]", "[A-Za-z]"))
    drawn = pattern.random(np.random.default_rng(1), 500, 30).to_pylist()
    assert all(python.search(v) for v in drawn)
    assert (pattern.capacity(30) >= 500) == unique
    if unique:
        made = pattern.unique(np.arange(500), 500, 30).to_pylist()
        assert len(set(made)) == 500 and all(python.search(v) for v in made)


def test_when_the_same_seed_is_used_with_checks_then_the_rows_are_identical() -> None:
    from sanitize.synth import generate_tables

    cols = (
        Column("id", "integer", False),
        Column("started", "datetime", False),
        Column("ended", "datetime"),
        Column("a", "text", max_length=10),
        Column("b", "text", max_length=10),
    )
    checks = (Check("order", "ended >= started"), Check("one", "(a IS NULL) <> (b IS NULL)"))
    schema = Schema({"t": Table("t", "t", columns=cols, primary_key=("id",), checks=checks)})

    def run() -> list[object]:
        return [f.to_dict("list") for _k, f in generate_tables(schema, {"t": 3000}, 9, batch_rows=1000)]

    first = run()
    assert first == run()
    frame = first[0]
    assert all(e is None or e != e or e >= s for s, e in zip(frame["started"], frame["ended"], strict=True))


MARIADB_DDL = """
CREATE TABLE products (
    id INT AUTO_INCREMENT PRIMARY KEY,
    code VARCHAR(8) NOT NULL UNIQUE,
    price DECIMAL(8, 2) NOT NULL,
    discount DECIMAL(8, 2),
    status VARCHAR(10) NOT NULL,
    approved_at DATETIME,
    started_at DATETIME NOT NULL,
    ended_at DATETIME,
    owner_email VARCHAR(80),
    team_name VARCHAR(40),
    CONSTRAINT code_format CHECK (code REGEXP '^[A-Z]{3}[0-9]{4}$'),
    CONSTRAINT price_positive CHECK (price > 0),
    CONSTRAINT discount_at_most_price CHECK (discount <= price),
    CONSTRAINT status_known CHECK (status IN ('draft', 'approved', 'retired')),
    CONSTRAINT ended_after_start CHECK (ended_at >= started_at),
    CONSTRAINT exactly_one_owner CHECK ((owner_email IS NULL) <> (team_name IS NULL)),
    CONSTRAINT draft_not_approved CHECK (status <> 'draft' OR approved_at IS NULL)
)
"""


def test_when_the_source_is_mariadb_then_its_checks_accept_every_synthetic_row(
    mariadb_url: str, mariadb_url2: str
) -> None:
    engine = sa.create_engine(mariadb_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(MARIADB_DDL)
    engine.dispose()

    synthesize(mariadb_url2, schema_from=mariadb_url, rows=2000, seed=8)

    # MariaDB enforces CHECK constraints: copying the rows into the source table is the judge
    source_db, target_db = sa.make_url(mariadb_url).database, sa.make_url(mariadb_url2).database
    engine = sa.create_engine(mariadb_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO `{source_db}`.products SELECT * FROM `{target_db}`.products")
        copied = conn.exec_driver_sql(
            "SELECT count(*), count(owner_email), count(team_name) FROM products"
        ).one()
    engine.dispose()
    assert copied[0] == 2000 and copied[1] > 200 and copied[2] > 200
