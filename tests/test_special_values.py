"""PostgreSQL infinity and NaN into MariaDB (which has neither): `special_values` maps just those values;
without it the error names table, column, the kind of value and the option."""

from __future__ import annotations

import datetime as dt
import decimal
import shutil
from pathlib import Path

import pytest

from sanitize.errors import BadInputError
from sanitize.pipeline import anonymize
from tests.test_schema_checks import load_rules_text, pg_run

SPECIAL = """
CREATE TABLE t (id int PRIMARY KEY, d date, ts timestamp, num numeric, f float8, r real);
INSERT INTO t VALUES
  (1, 'infinity', 'infinity', 'NaN', 'Infinity', 'NaN'),
  (2, '2020-01-01', '2020-01-01 10:00', 1.5, 2.5, 3.5),
  (3, '-infinity', '-infinity', 'Infinity', '-Infinity', '-Infinity');
"""


def rows(url: str) -> list[tuple[object, ...]]:
    import sqlalchemy as sa

    eng = sa.create_engine(url)
    with eng.connect() as c:
        got = [tuple(r) for r in c.exec_driver_sql("SELECT id, d, ts, num, f, r FROM t ORDER BY id")]
    eng.dispose()
    return got


def rules(special: str = "") -> str:
    return "version: 1\nunknown_columns: keep\n" + special + "tables: {}\n"


@pytest.fixture
def pg_special(pg_url: str) -> str:
    pg_run(pg_url, SPECIAL)
    return pg_url


@pytest.mark.postgres
@pytest.mark.mariadb
@pytest.mark.parametrize(
    ("ddl", "column", "kind"),
    [
        # an infinite date stops the read, naming the option
        ("d date", "t.d", "'infinity' or '-infinity'"),
        # an infinite float reaches MariaDB, which has none
        ("f float8", "t.f", "infinity"),
        # a NaN numeric
        ("num numeric", "t.num", "NaN"),
    ],
)
def test_when_no_rule_maps_special_values_then_the_error_names_table_column_kind_and_option(
    pg_url: str, mariadb_url: str, ddl: str, column: str, kind: str
) -> None:
    value = {"d date": "'infinity'", "f float8": "'Infinity'", "num numeric": "'NaN'"}[ddl]
    pg_run(pg_url, f"CREATE TABLE t (id int PRIMARY KEY, {ddl}); INSERT INTO t VALUES (1, {value})")
    with pytest.raises(BadInputError) as err:
        anonymize(load_rules_text(rules()), pg_url, mariadb_url)
    msg = str(err.value)
    assert msg.startswith(column) and kind in msg and "special_values" in msg


@pytest.mark.postgres
@pytest.mark.mariadb
def test_when_special_values_map_to_null_then_only_those_values_are_null(
    pg_special: str, mariadb_url: str
) -> None:
    anonymize(
        load_rules_text(rules("special_values: {infinity: null, nan: null}\n")), pg_special, mariadb_url
    )
    assert rows(mariadb_url) == [
        (1, None, None, None, None, None),
        (2, dt.date(2020, 1, 1), dt.datetime(2020, 1, 1, 10), decimal.Decimal("1.5"), 2.5, 3.5),
        (3, None, None, None, None, None),
    ]


@pytest.mark.postgres
@pytest.mark.mariadb
def test_when_infinity_maps_to_max_then_the_types_extremes_are_written(
    pg_special: str, mariadb_url: str
) -> None:
    anonymize(load_rules_text(rules("special_values: {infinity: max, nan: null}\n")), pg_special, mariadb_url)
    got = rows(mariadb_url)
    assert got[0][:4] == (1, dt.date(9999, 12, 31), dt.datetime(9999, 12, 31, 23, 59, 59, 999999), None)
    assert got[0][4] == 1.7976931348623157e308 and got[0][5] is None
    widest = decimal.Decimal("9" * 35 + "." + "9" * 30)  # an unbounded numeric is DECIMAL(65, 30) there
    assert got[2][:4] == (3, dt.date(1000, 1, 1), dt.datetime(1000, 1, 1), widest)
    assert got[2][4] == -1.7976931348623157e308
    assert got[1][0] == 2 and got[1][3] == decimal.Decimal("1.5")


@pytest.mark.postgres
@pytest.mark.mariadb
def test_when_a_pg_dump_holds_infinity_then_the_same_rule_maps_it(
    pg_special: str, mariadb_url: str, tmp_path: Path
) -> None:
    if shutil.which("pg_dump") is None:  # pragma: no cover
        pytest.skip("pg_dump is not installed")
    from tests.test_dumps_pg import pg_dump

    dump = str(pg_dump(pg_special, tmp_path / "prod.sql"))
    with pytest.raises(BadInputError, match=r"^t\.d: holds infinity.*special_values"):
        anonymize(load_rules_text(rules()), dump, mariadb_url)
    anonymize(load_rules_text(rules("special_values: {infinity: max, nan: null}\n")), dump, mariadb_url)
    got = rows(mariadb_url)
    assert [r[1] for r in got] == [dt.date(9999, 12, 31), dt.date(2020, 1, 1), dt.date(1000, 1, 1)]
    assert got[2][2] == dt.datetime(1000, 1, 1) and got[0][4] == 1.7976931348623157e308
