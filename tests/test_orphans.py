"""Source rows whose foreign keys dangle: one message naming each foreign key and its count (fail), or the
`orphans:` rule applied the same on every path — drop (with dependent rows) or null — with the target's
foreign keys holding afterwards."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from sanitize.db import open_source, resolve
from sanitize.orphans import OrphanRowsError
from sanitize.pipeline import anonymize
from tests.test_schema_checks import load_rules_text, my_run, pg_run

TABLES = [
    "CREATE TABLE departments (id int PRIMARY KEY, name varchar(20))",
    "CREATE TABLE employees (id int PRIMARY KEY, dept_id int, manager_id int, name varchar(20))",
    "CREATE TABLE assignments (id int PRIMARY KEY, emp_id int NOT NULL, task varchar(20))",
]
ROWS = [
    "INSERT INTO departments VALUES (1, 'ops'), (2, 'dev')",
    # 3: a department that is gone; 4: a manager who is gone; 5 reports to 4
    "INSERT INTO employees VALUES (1, 1, NULL, 'a'), (2, 2, 1, 'b'), (3, 99, 1, 'c'), (4, 1, 42, 'd'),"
    " (5, 1, 4, 'e')",
    # 12 depends on employee 3; 13 points at nobody
    "INSERT INTO assignments VALUES (10, 1, 'x'), (11, 2, 'y'), (12, 3, 'z'), (13, 77, 'w')",
]
FKS = [
    ("employees", "dept_id", "departments"),
    ("employees", "manager_id", "employees"),
    ("assignments", "emp_id", "employees"),
]


def sqlite_source(tmp_path: Path) -> str:
    path = tmp_path / "hr.db"
    with sqlite3.connect(path) as c:
        c.executescript(
            """
            CREATE TABLE departments (id int PRIMARY KEY, name varchar(20));
            CREATE TABLE employees (id int PRIMARY KEY, dept_id int REFERENCES departments(id),
              manager_id int REFERENCES employees(id), name varchar(20));
            CREATE TABLE assignments (id int PRIMARY KEY, emp_id int NOT NULL REFERENCES employees(id),
              task varchar(20));
            """
            + ";".join(ROWS)
        )
    return str(path)


def pg_source(url: str) -> str:
    fks = [
        f"ALTER TABLE {t} ADD FOREIGN KEY ({c}) REFERENCES {p}(id) NOT VALID" for t, c, p in FKS
    ]  # NOT VALID: the dangling rows stay, as in a real database that got them before the key
    pg_run(url, ";".join(TABLES + ROWS + fks))
    return url


def my_source(url: str) -> str:
    fks = [f"ALTER TABLE {t} ADD FOREIGN KEY ({c}) REFERENCES {p}(id)" for t, c, p in FKS]
    my_run(url, "SET FOREIGN_KEY_CHECKS = 0", *TABLES, *ROWS, *fks)
    return url


def rules(orphans: str | None, assignments: str | None = None) -> str:
    text = "version: 1\nunknown_columns: keep\n"
    if orphans:
        text += f"orphans: {orphans}\n"
    text += "tables:\n"
    text += f"  assignments:\n    orphans: {assignments}\n" if assignments else "  departments: {}\n"
    return text


def ids(url: str, table: str, cols: str = "id") -> list[tuple[object, ...]]:
    with open_source(resolve(url)) as s:
        got = [tuple(r.values()) for b in s.read_arrow(table, columns=cols.split(",")) for r in b.to_pylist()]
    return sorted(got, key=repr)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    kind = request.param
    if kind == "sqlite":
        return sqlite_source(tmp_path)
    url = request.getfixturevalue("pg_url" if kind == "postgresql" else "mariadb_url")
    return pg_source(url) if kind == "postgresql" else my_source(url)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    kind = request.param
    if kind == "sqlite":
        return str(tmp_path / "dev.db")
    return str(request.getfixturevalue("pg_url2" if kind == "postgresql" else "mariadb_url2"))


def test_when_source_rows_dangle_then_every_target_refuses_with_one_message_naming_the_rule(
    source: str, target: str
) -> None:
    with pytest.raises(OrphanRowsError) as err:
        anonymize(load_rules_text(rules(None)), source, target)
    msg = str(err.value)
    assert "in the source" in msg and "orphans: drop" in msg and "orphans: null" in msg
    assert err.value.problems == [
        "employees(dept_id) -> departments(id): 1 row(s)",
        "employees(manager_id) -> employees(id): 1 row(s)",
    ]


def test_when_orphans_drop_then_they_and_their_dependents_are_left_out_and_the_keys_hold(
    source: str, target: str
) -> None:
    run = anonymize(load_rules_text(rules("drop")), source, target)
    assert ids(target, "employees") == [(1,), (2,)]  # 5's manager (4) was dropped
    assert ids(target, "assignments") == [(10,), (11,)]  # 12's employee was dropped, 13's never existed
    assert any(w.startswith("employees: source rows") and "orphans: drop" in w for w in run.warnings)


def test_when_orphans_null_then_the_dangling_keys_are_cleared_and_a_table_can_say_drop(
    source: str, target: str
) -> None:
    anonymize(load_rules_text(rules("null", assignments="drop")), source, target)
    assert ids(target, "employees", "id,dept_id,manager_id") == [
        (1, 1, None),
        (2, 2, 1),
        (3, None, 1),
        (4, 1, None),
        (5, 1, 4),
    ]
    assert ids(target, "assignments") == [(10,), (11,), (12,)]


def test_when_orphans_null_meets_a_not_null_key_then_the_error_says_to_drop(tmp_path: Path) -> None:
    with pytest.raises(OrphanRowsError, match=r"NOT NULL column\(s\) emp_id.*tables.assignments.orphans"):
        anonymize(load_rules_text(rules("null")), sqlite_source(tmp_path), str(tmp_path / "dev.db"))


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_when_a_dump_has_orphans_then_dump_to_db_and_dump_to_dump_apply_the_same_rule(
    pg_url: str, pg_url2: str, tmp_path: Path
) -> None:
    from tests.test_dumps_pg import pg_dump

    dump = pg_dump(pg_source(pg_url), tmp_path / "hr.sql")
    for target in (pg_url2, str(tmp_path / "out.sql")):
        with pytest.raises(OrphanRowsError, match="in the source"):
            anonymize(load_rules_text(rules(None)), str(dump), target)
    assert not (tmp_path / "out.sql").exists()
    anonymize(load_rules_text(rules("drop")), str(dump), pg_url2)
    assert ids(pg_url2, "assignments") == [(10,), (11,)]
    anonymize(load_rules_text(rules("drop")), str(dump), str(tmp_path / "out.sql"))
    text = (tmp_path / "out.sql").read_text()
    assert "\n12\t3\tz\n" not in text and "\n13\t77\tw\n" not in text and "\n10\t1\tx\n" in text


@pytest.mark.parametrize(
    ("text", "location"),
    [
        # an unknown policy at the top
        ("orphans: maybe\ntables: {}\n", "orphans: expected one of fail, drop, null"),
        # and per table
        ("tables:\n  t:\n    orphans: keep\n", "tables.t.orphans: expected one of fail, drop, null"),
        # special_values take only their own words
        ("special_values: {infinity: huge}\ntables: {}\n", "special_values.infinity"),
    ],
)
def test_when_orphans_or_special_values_are_misspelt_then_the_rules_error_names_the_place(
    text: str, location: str
) -> None:
    from sanitize.errors import RulesError

    with pytest.raises(RulesError) as err:
        load_rules_text("version: 1\n" + text)
    assert any(location in p for p in err.value.problems)


def test_when_rules_with_orphans_are_written_back_then_they_read_the_same() -> None:
    text = "version: 1\norphans: drop\nspecial_values: {infinity: max}\ntables:\n  t:\n    orphans: null\n"
    rules = load_rules_text(text)
    again = load_rules_text(rules.to_yaml())
    assert (again.orphans, again.orphans_for("t"), again.special_values.infinity) == ("drop", "null", "max")
