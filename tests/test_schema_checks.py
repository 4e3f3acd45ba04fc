"""CHECK constraints travel: copied on the same engine, translated across engines where portable (a warning
names the others), enum values kept as CHECKs where the target has no enum, and enforced while the rows
load (a transformed value that breaks one names table, column, constraint and the fix)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import psycopg
import pymysql
import pytest
import sqlalchemy as sa
import yaml

from sanitize.db import open_source, resolve
from sanitize.errors import LoadError
from sanitize.pipeline import anonymize
from sanitize.rules import RulesFile

PG_JOBS = """
CREATE TYPE st AS ENUM ('draft', 'pending', 'done');
CREATE TABLE jobs (
    id int PRIMARY KEY,
    price numeric CHECK (price >= 0),
    email text,
    status st NOT NULL DEFAULT 'draft',
    a int,
    b int,
    code varchar(10),
    started date,
    ended date,
    CONSTRAINT email_dom CHECK (email LIKE '%@example.com'),
    CONSTRAINT one_of CHECK ((a IS NULL) <> (b IS NULL)),
    CONSTRAINT code_in CHECK (code IN ('x', 'y')),
    CONSTRAINT done_ended CHECK (status <> 'done'::st OR ended IS NOT NULL),
    CONSTRAINT code_len CHECK (length(code) <= 5 AND char_length(email) > 3),
    CONSTRAINT email_re CHECK (email ~ '^[a-z]'),
    CONSTRAINT after_start CHECK (ended >= started),
    CONSTRAINT a_range CHECK (a BETWEEN 1 AND 10),
    CONSTRAINT b_pos CHECK (b > 0)
);
INSERT INTO jobs VALUES
  (1, 5, 'ann@example.com', 'done', 1, NULL, 'x', '2024-01-01', '2024-02-01'),
  (2, 0, 'bob@example.com', 'draft', NULL, 7, 'y', '2024-01-01', NULL);
"""
PG_NAMES = {
    "jobs_price_check",
    "email_dom",
    "one_of",
    "code_in",
    "done_ended",
    "code_len",
    "email_re",
    "after_start",
    "a_range",
    "b_pos",
}
PORTABLE = PG_NAMES - {"email_re"}  # a regular expression has no portable form

MY_JOBS = [
    """CREATE TABLE jobs (id int PRIMARY KEY, price decimal(10,2) CHECK (price >= 0), email varchar(100),
       status ENUM('draft', 'done') NOT NULL DEFAULT 'draft', a int, b int,
       CONSTRAINT email_dom CHECK (email LIKE '%@example.com'),
       CONSTRAINT one_of CHECK ((a IS NULL) <> (b IS NULL)),
       CONSTRAINT code_len CHECK (char_length(email) > 3),
       CONSTRAINT email_re CHECK (email REGEXP '^[a-z]'))""",
    "INSERT INTO jobs VALUES (1, 5, 'ann@example.com', 'done', 1, NULL), "
    "(2, 0, 'bob@example.com', 'draft', NULL, 7)",
]

SQLITE_JOBS = """
CREATE TABLE jobs (id int PRIMARY KEY, price numeric CHECK (price >= 0), email text,
  a int, b int, code text CHECK (code IN ('x', 'y')),
  CONSTRAINT email_dom CHECK (email LIKE '%@example.com'), CHECK ((a IS NULL) <> (b IS NULL)));
INSERT INTO jobs VALUES (1, 5, 'ann@example.com', 1, NULL, 'x'), (2, 0, 'bob@example.com', NULL, 7, 'y');
"""

KEEP_ALL = "version: 1\nunknown_columns: keep\ntables: {}\n"


def load_rules_text(text: str) -> RulesFile:
    return RulesFile.from_dict(yaml.safe_load(text))


def pg_run(url: str, sql: str) -> None:
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as c:
        c.execute(sql)  # type: ignore[arg-type]


def my_run(url: str, *statements: str) -> None:
    u = sa.engine.make_url(url)
    with (
        pymysql.connect(host=u.host, user=u.username, database=u.database, autocommit=True) as c,
        c.cursor() as cur,
    ):
        for s in statements:
            cur.execute(s)


def check_names(url: str, table: str = "jobs") -> set[str | None]:
    with open_source(resolve(url)) as s:
        return {c.name for c in s.schema[table].checks}


@pytest.fixture
def pg_jobs(pg_url: str) -> str:
    pg_run(pg_url, PG_JOBS)
    return pg_url


@pytest.fixture
def my_jobs(mariadb_url: str) -> str:
    my_run(mariadb_url, *MY_JOBS)
    return mariadb_url


@pytest.mark.postgres
def test_when_postgres_is_copied_to_postgres_then_every_check_is_there_and_enforced(
    pg_jobs: str, pg_url2: str
) -> None:
    anonymize(load_rules_text(KEEP_ALL), pg_jobs, pg_url2)
    assert check_names(pg_url2) == PG_NAMES
    with pytest.raises(psycopg.errors.CheckViolation, match="one_of"):
        pg_run(pg_url2, "INSERT INTO jobs (id, email, a, b) VALUES (9, 'c@example.com', 1, 2)")


@pytest.mark.postgres
def test_when_postgres_is_copied_to_sqlite_then_portable_checks_and_the_enum_travel_and_others_are_named(
    pg_jobs: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dev = tmp_path / "dev.db"
    with caplog.at_level(logging.WARNING, logger="sanitize"):
        anonymize(load_rules_text(KEEP_ALL), pg_jobs, str(dev))
    assert check_names(str(dev)) == PORTABLE | {"jobs_status_check"}
    assert "jobs: CHECK constraint email_re" in caplog.text
    con = sqlite3.connect(dev)
    bad = [
        "INSERT INTO jobs (id, email, status, a) VALUES (9, 'c@example.com', 'bogus', 1)",  # enum value
        "INSERT INTO jobs (id, email, status, a, b) VALUES (9, 'c@example.com', 'draft', 1, 2)",  # one_of
        "INSERT INTO jobs (id, email, status, b, code) VALUES (9, 'c@example.com', 'draft', 1, 'xx')",
        "INSERT INTO jobs (id, email, status, b) VALUES (9, 'c@elsewhere.org', 'draft', 1)",  # email_dom
        "INSERT INTO jobs (id, email, status, b) VALUES (9, 'c@example.com', 'done', 1)",  # done_ended
    ]
    for sql in bad:
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
            con.execute(sql)
    con.execute("INSERT INTO jobs (id, email, status, b) VALUES (9, 'c@example.com', 'draft', 1)")
    con.close()


@pytest.mark.postgres
@pytest.mark.mariadb
def test_when_postgres_is_copied_to_mariadb_then_portable_checks_travel(
    pg_jobs: str, mariadb_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="sanitize"):
        anonymize(load_rules_text(KEEP_ALL), pg_jobs, mariadb_url)
    assert check_names(mariadb_url) == PORTABLE
    assert "jobs: CHECK constraint email_re" in caplog.text
    with pytest.raises(pymysql.err.OperationalError, match="one_of"):
        my_run(mariadb_url, "INSERT INTO jobs (id, email, a, b) VALUES (9, 'c@example.com', 1, 2)")


@pytest.mark.mariadb
def test_when_mariadb_is_copied_to_mariadb_then_table_and_column_checks_are_there(
    my_jobs: str, mariadb_url2: str
) -> None:
    anonymize(load_rules_text(KEEP_ALL), my_jobs, mariadb_url2)
    assert check_names(mariadb_url2) == {"price", "email_dom", "one_of", "code_len", "email_re"}


@pytest.mark.mariadb
@pytest.mark.postgres
def test_when_mariadb_is_copied_to_postgres_then_its_enum_becomes_a_check(my_jobs: str, pg_url: str) -> None:
    anonymize(load_rules_text(KEEP_ALL), my_jobs, pg_url)
    assert "jobs_status_check" in check_names(pg_url)
    with pytest.raises(psycopg.errors.CheckViolation, match="jobs_status_check"):
        pg_run(pg_url, "INSERT INTO jobs (id, email, status, a) VALUES (9, 'c@example.com', 'drft', 1)")


@pytest.mark.mariadb
def test_when_mariadb_is_copied_to_sqlite_then_its_enum_becomes_a_check(my_jobs: str, tmp_path: Path) -> None:
    dev = tmp_path / "dev.db"
    anonymize(load_rules_text(KEEP_ALL), my_jobs, str(dev))
    assert check_names(str(dev)) == {"price", "email_dom", "one_of", "code_len", "jobs_status_check"}
    con = sqlite3.connect(dev)
    with pytest.raises(sqlite3.IntegrityError, match="jobs_status_check"):
        con.execute("INSERT INTO jobs (id, email, status, a) VALUES (9, 'c@example.com', 'pending', 1)")


def test_when_sqlite_is_copied_to_sqlite_then_named_and_unnamed_checks_are_there(tmp_path: Path) -> None:
    prod, dev = tmp_path / "prod.db", tmp_path / "dev.db"
    with sqlite3.connect(prod) as c:
        c.executescript(SQLITE_JOBS)
    anonymize(load_rules_text(KEEP_ALL), str(prod), str(dev))
    with open_source(resolve(str(dev))) as s:
        got = sorted((c.name or "", c.sqltext) for c in s.schema["jobs"].checks)
    with open_source(resolve(str(prod))) as s:
        want = sorted((c.name or "", c.sqltext) for c in s.schema["jobs"].checks)
    assert got == want and len(got) == 4


@pytest.mark.postgres
@pytest.mark.parametrize("target", ["pg_url2", "sqlite", "mariadb_url"])
def test_when_a_transformed_value_breaks_a_check_then_the_error_names_table_column_constraint_and_fix(
    pg_jobs: str, target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    email = "tables:\n  jobs:\n    columns:\n      email: {strategy: fake, kind: email}"
    rules = KEEP_ALL.replace("tables: {}", email)
    dst = str(tmp_path / "dev.db") if target == "sqlite" else request.getfixturevalue(target)
    with pytest.raises(LoadError) as err:
        anonymize(load_rules_text(rules), pg_jobs, dst)
    msg = str(err.value)
    assert "jobs" in msg and "email_dom" in msg and "email" in msg
    assert "fake" in msg and "strategy" in msg  # says which rule made the values, and what to change


PG_INDEXES = """
CREATE EXTENSION btree_gin;
CREATE EXTENSION btree_gist;
CREATE EXTENSION pg_trgm;
CREATE TYPE my_enum AS ENUM ('pending', 'done');
CREATE TABLE hosts (id int PRIMARY KEY, ip inet, email text, status my_enum, n int, name text, tags text[]);
CREATE INDEX hosts_ip ON hosts USING gist (ip inet_ops);
CREATE INDEX hosts_name_trgm ON hosts USING gin (name gin_trgm_ops);
CREATE INDEX hosts_n_gin ON hosts USING gin (n);
CREATE INDEX hosts_n_ip_gist ON hosts USING gist (n, ip inet_ops);
CREATE INDEX hosts_pending ON hosts (id) WHERE status = 'pending'::my_enum;
CREATE UNIQUE INDEX hosts_lower_email ON hosts (lower(email));
CREATE INDEX hosts_tags ON hosts USING gin (tags);
INSERT INTO hosts VALUES (1, '10.0.0.1', 'A@x.io', 'pending', 5, 'alpha', '{a,b}'),
  (2, '10.0.0.2', 'b@x.io', 'done', 6, 'beta', NULL);
"""


def pg_index_defs(url: str) -> dict[str, str]:
    with psycopg.connect(url.replace("+psycopg", "")) as c:
        rows = c.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'hosts'"
        ).fetchall()
    return {name: " ".join(d.split(" USING ", 1)[1].replace("public.", "").split()) for name, d in rows}


@pytest.mark.postgres
def test_when_postgres_indexes_use_opclasses_extensions_enum_predicates_and_expressions_then_all_are_made(
    pg_url: str, pg_url2: str
) -> None:
    pg_run(pg_url, PG_INDEXES)
    want = pg_index_defs(pg_url)
    assert len(want) == 8
    for _ in range(2):  # the second load replaces the first: indexes follow the new generation's types
        anonymize(load_rules_text(KEEP_ALL), pg_url, pg_url2)
        assert pg_index_defs(pg_url2) == want
    with pytest.raises(psycopg.errors.UniqueViolation):
        pg_run(pg_url2, "INSERT INTO hosts (id, email) VALUES (3, 'a@X.io')")


def test_when_sqlite_has_an_expression_index_then_a_sqlite_target_has_it(tmp_path: Path) -> None:
    prod, dev = tmp_path / "prod.db", tmp_path / "dev.db"
    with sqlite3.connect(prod) as c:
        c.executescript(
            "CREATE TABLE people (id integer PRIMARY KEY, email text);"
            "CREATE UNIQUE INDEX people_lower_email ON people (lower(email)) WHERE email IS NOT NULL;"
            "INSERT INTO people VALUES (1, 'A@x.io'), (2, NULL)"
        )
    anonymize(load_rules_text(KEEP_ALL), str(prod), str(dev))
    con = sqlite3.connect(dev)
    sql = con.execute("SELECT sql FROM sqlite_master WHERE name = 'people_lower_email'").fetchone()
    assert sql is not None and "lower(email)" in sql[0]
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO people VALUES (3, 'a@X.IO')")


def test_when_checks_or_expression_indexes_differ_then_diff_reports_them(tmp_path: Path) -> None:
    from sanitize.diff import diff_databases

    base = "CREATE TABLE people (id integer PRIMARY KEY, email text, age int"
    with sqlite3.connect(tmp_path / "a.db") as c:
        c.executescript(
            base + ", CONSTRAINT adult CHECK (age >= 18));CREATE INDEX people_lower ON people (lower(email));"
        )
    with sqlite3.connect(tmp_path / "b.db") as c:
        c.executescript(
            base + ", CONSTRAINT adult CHECK (age >= 21));CREATE INDEX people_upper ON people (upper(email));"
        )
    d = diff_databases(str(tmp_path / "a.db"), str(tmp_path / "b.db"))
    got = sorted((x.what, x.item, x.change) for x in d.differences)
    assert got == [
        ("check", "age >= 18", "only in a"),
        ("check", "age >= 21", "only in b"),
        ("index", "() (lower(email))", "only in a"),
        ("index", "() (upper(email))", "only in b"),
    ]


@pytest.mark.postgres
def test_when_postgres_is_copied_to_sqlite_then_diff_sees_only_the_checks_that_could_not_travel(
    pg_jobs: str, tmp_path: Path
) -> None:
    from sanitize.diff import diff_databases

    anonymize(load_rules_text(KEEP_ALL), pg_jobs, str(tmp_path / "dev.db"))
    d = diff_databases(pg_jobs, str(tmp_path / "dev.db"))
    checks = sorted((x.item, x.change) for x in d.differences if x.what == "check")
    assert checks == [
        ("email ~ '^[a-z]'::text", "only in a"),
        ("status IN ('draft', 'pending', 'done')", "only in b"),
    ]


@pytest.mark.postgres
@pytest.mark.mariadb
def test_when_a_check_reads_a_serial_key_then_mariadb_gets_the_table_without_it_and_a_warning(
    pg_url: str, mariadb_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    pg_run(
        pg_url,
        "CREATE TABLE t (id serial PRIMARY KEY CHECK (id > 0), v int CHECK (v > 0));"
        "INSERT INTO t (v) VALUES (1)",
    )
    with caplog.at_level(logging.WARNING, logger="sanitize"):
        anonymize(load_rules_text(KEEP_ALL), pg_url, mariadb_url)
    assert check_names(mariadb_url, "t") == {"t_v_check"}
    assert "t: CHECK constraint t_id_check" in caplog.text and "AUTO_INCREMENT" in caplog.text


@pytest.mark.postgres
def test_when_a_postgres_check_calls_a_function_that_is_not_copied_then_the_table_loads_without_it(
    pg_url: str, pg_url2: str, caplog: pytest.LogCaptureFixture
) -> None:
    pg_run(
        pg_url,
        "CREATE FUNCTION is_mail(t text) RETURNS boolean IMMUTABLE LANGUAGE sql AS $$ SELECT t LIKE '%@%' $$;"
        "CREATE TABLE people (id int PRIMARY KEY, email text CONSTRAINT mail CHECK (is_mail(email)),"
        " age int CONSTRAINT adult CHECK (age >= 18)); INSERT INTO people VALUES (1, 'a@x.io', 30)",
    )
    with caplog.at_level(logging.WARNING, logger="sanitize"):
        anonymize(load_rules_text(KEEP_ALL), pg_url, pg_url2)
    assert check_names(pg_url2, "people") == {"adult"}
    assert "people: CHECK constraint mail" in caplog.text
