"""A real application's size of schema: 105 PostgreSQL tables in families, with CHECKs, an enum, arrays,
partial (enum-casting), expression and GiST/GIN indexes and foreign keys, anonymised into PostgreSQL,
SQLite and MariaDB with every constraint holding there: checks present where the engine has them, rows
satisfying them (the target enforced them while loading), foreign keys intact, no row lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from sanitize.db import open_source, resolve
from sanitize.pipeline import anonymize
from sanitize.synth.run import synthesize
from tests.test_schema_checks import load_rules_text, pg_run

FAMILIES = 21  # five tables each: 105


def family(i: int) -> str:
    f = f"f{i:02d}"
    return f"""
CREATE TABLE {f}_orgs (
    id int PRIMARY KEY, name text NOT NULL, status state NOT NULL DEFAULT 'pending', tags text[], ip inet,
    CONSTRAINT {f}_orgs_name CHECK (length(name) > 0)
);
CREATE INDEX {f}_orgs_ip ON {f}_orgs USING gist (ip inet_ops);
CREATE INDEX {f}_orgs_tags ON {f}_orgs USING gin (tags);
CREATE TABLE {f}_users (
    id int PRIMARY KEY, org_id int NOT NULL REFERENCES {f}_orgs(id), email text NOT NULL,
    status state NOT NULL, age int CHECK (age BETWEEN 0 AND 150), started date NOT NULL, ended date,
    CONSTRAINT {f}_users_span CHECK (ended IS NULL OR ended >= started),
    CONSTRAINT {f}_users_mail CHECK (email LIKE '%@%')
);
CREATE UNIQUE INDEX {f}_users_email ON {f}_users (lower(email));
CREATE INDEX {f}_users_active ON {f}_users (org_id) WHERE status = 'active'::state;
CREATE TABLE {f}_projects (
    id int PRIMARY KEY, org_id int NOT NULL REFERENCES {f}_orgs(id), owner_id int REFERENCES {f}_users(id),
    budget numeric(12, 2) CHECK (budget >= 0), kind varchar(10) NOT NULL CHECK (kind IN ('app', 'ops'))
);
CREATE TABLE {f}_tasks (
    id int PRIMARY KEY, project_id int NOT NULL REFERENCES {f}_projects(id),
    assignee_id int REFERENCES {f}_users(id), team text, done boolean NOT NULL DEFAULT false,
    CONSTRAINT {f}_tasks_one_owner CHECK ((assignee_id IS NULL) <> (team IS NULL))
);
CREATE INDEX {f}_tasks_open ON {f}_tasks (project_id) WHERE NOT done;
CREATE TABLE {f}_comments (
    id int PRIMARY KEY, task_id int NOT NULL REFERENCES {f}_tasks(id), body text NOT NULL,
    CONSTRAINT {f}_comments_len CHECK (char_length(body) BETWEEN 1 AND 500)
);
INSERT INTO {f}_orgs VALUES (1, 'acme', 'active', '{{a,b}}', '10.0.0.1'),
  (2, 'globex', 'pending', NULL, NULL), (3, 'initech', 'archived', '{{}}', '10.1.0.0/16');
INSERT INTO {f}_users VALUES (1, 1, 'ann@acme.io', 'active', 34, '2020-01-01', NULL),
  (2, 1, 'bob@acme.io', 'archived', NULL, '2019-05-01', '2021-01-01'),
  (3, 2, 'cy@globex.io', 'pending', 61, '2022-03-03', '2022-03-03');
INSERT INTO {f}_projects VALUES (1, 1, 1, 1000.50, 'app'), (2, 1, NULL, 0, 'ops'), (3, 2, 3, NULL, 'app');
INSERT INTO {f}_tasks VALUES (1, 1, 1, NULL, false), (2, 1, NULL, 'core', true), (3, 3, 3, NULL, false);
INSERT INTO {f}_comments VALUES (1, 1, 'looks good'), (2, 1, 'ship it'), (3, 3, 'blocked by ops');
"""


SCHEMA = (
    "CREATE EXTENSION pg_trgm;\nCREATE TYPE state AS ENUM ('active', 'archived', 'pending');\n"
    + "".join(family(i) for i in range(FAMILIES))
)
# the e-mail addresses are transformed (a fake one still satisfies `email LIKE '%@%'` and the unique
# index on lower(email)); names are hashed; everything else is kept
RULES = "version: 1\nunknown_columns: keep\ntables:\n" + "".join(
    f"  f{i:02d}_users:\n    columns:\n      email: {{strategy: fake, kind: email, unique: true}}\n"
    f"  f{i:02d}_orgs:\n    columns:\n      name: {{strategy: fake, kind: company}}\n"
    for i in range(FAMILIES)
)


@pytest.fixture(scope="module")
def source() -> str:
    import uuid

    from tests.conftest import IN_CI, PG_ADMIN_URL

    name = f"sanitize_t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError as exc:  # pragma: no cover
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable ({exc}); CI requires it", pytrace=False)
        pytest.skip(f"PostgreSQL is not reachable ({exc}); start it to run this test")
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    pg_run(url, SCHEMA)
    yield url
    with admin.connect() as c:
        c.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def facts(url: str) -> dict[str, tuple[int, int, int]]:
    """Table -> (rows, CHECK constraints, foreign keys), read back through sanitize."""
    with open_source(resolve(url)) as s:
        return {
            k: (s.count(k), len(t.checks), len(t.foreign_keys))
            for k, t in s.schema.tables.items()
            if not k.startswith("sanitize")
        }


@pytest.mark.slow
@pytest.mark.postgres
def test_when_a_105_table_schema_goes_to_postgres_then_checks_indexes_and_keys_all_hold(
    source: str, pg_url2: str
) -> None:
    want = facts(source)
    assert len(want) == 105 and sum(c for _, c, _ in want.values()) == 8 * FAMILIES
    anonymize(load_rules_text(RULES), source, pg_url2)
    assert facts(pg_url2) == want
    q = "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'"
    with (
        psycopg.connect(source.replace("+psycopg", "")) as a,
        psycopg.connect(pg_url2.replace("+psycopg", "")) as b,
    ):
        assert b.execute(q).fetchone() == a.execute(q).fetchone()
        # every constraint is validated in the target (none NOT VALID), and rows satisfy them
        assert b.execute("SELECT count(*) FROM pg_constraint WHERE NOT convalidated").fetchone() == (0,)
        assert b.execute("SELECT count(*) FROM f03_users WHERE status = 'active'").fetchone() == (1,)


@pytest.mark.slow
@pytest.mark.postgres
def test_when_a_105_table_schema_goes_to_sqlite_then_checks_and_keys_hold(
    source: str, tmp_path: Path
) -> None:
    dev = tmp_path / "dev.db"
    anonymize(load_rules_text(RULES), source, str(dev))
    got, want = facts(str(dev)), facts(source)
    # every CHECK travels, and the enum columns (orgs.status, users.status) become CHECK (col IN ...)
    enum_checks = {"orgs": 1, "users": 1}
    assert got == {
        k: (n, checks + enum_checks.get(k.split("_", 1)[1], 0), fks) for k, (n, checks, fks) in want.items()
    }
    con = sqlite3.connect(dev)
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        con.execute("INSERT INTO f00_tasks VALUES (9, 1, 1, 'core', 0)")  # both owners set


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.mariadb
def test_when_a_105_table_schema_goes_to_mariadb_then_checks_and_keys_hold(
    source: str, mariadb_url: str
) -> None:
    anonymize(load_rules_text(RULES), source, mariadb_url)
    got, want = facts(mariadb_url), facts(source)
    assert got == want  # the enums are MariaDB ENUMs there
    eng = sa.create_engine(mariadb_url)
    with eng.connect() as c:
        for k in want:  # InnoDB checked every foreign key while the constraints were made; recheck a few
            if k.endswith("_comments"):
                orphans = c.exec_driver_sql(
                    f"SELECT count(*) FROM {k} x LEFT JOIN {k[:3]}_tasks t ON t.id = x.task_id "
                    "WHERE t.id IS NULL"
                ).scalar()
                assert orphans == 0
    eng.dispose()


# --- synth into each engine, shaped by the same schema ----------------------------------------------

SYNTH_ROWS = 12


def source_checks(url: str) -> dict[tuple[str, str], str]:
    """(table, constraint) -> the CHECK's condition, as PostgreSQL prints it."""
    with psycopg.connect(url.replace("+psycopg", "")) as c:
        rows = c.execute(
            "SELECT r.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
            "JOIN pg_class r ON r.oid = k.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace "
            "WHERE k.contype = 'c' AND n.nspname = 'public'"
        ).fetchall()
    return {(t, name): d.removeprefix("CHECK ") for t, name, d in rows}


@pytest.mark.slow
@pytest.mark.postgres
def test_when_a_105_table_schema_is_synthesised_into_postgres_then_every_check_and_key_holds(
    source: str, pg_url2: str
) -> None:
    synthesize(pg_url2, schema_from=source, rules=load_rules_text(RULES), rows=SYNTH_ROWS, seed=3)
    got, want = facts(pg_url2), facts(source)
    assert {k: (SYNTH_ROWS, c, f) for k, (_, c, f) in want.items()} == got
    checks = source_checks(source)
    assert len(checks) == 8 * FAMILIES
    with psycopg.connect(pg_url2.replace("+psycopg", "")) as c:
        broken = {
            f"{t}.{name}": n
            for (t, name), cond in checks.items()
            if (n := c.execute(f'SELECT count(*) FROM public."{t}" WHERE NOT ({cond})').fetchone()[0])
        }
        assert broken == {}
        assert c.execute("SELECT count(*) FROM pg_constraint WHERE NOT convalidated").fetchone() == (0,)


@pytest.mark.slow
@pytest.mark.postgres
def test_when_a_105_table_schema_is_synthesised_into_sqlite_then_checks_and_keys_hold(
    source: str, tmp_path: Path
) -> None:
    dev = tmp_path / "synth.db"
    synthesize(str(dev), schema_from=source, rules=load_rules_text(RULES), rows=SYNTH_ROWS, seed=3)
    got = facts(str(dev))
    assert len(got) == 105 and {n for n, _, _ in got.values()} == {SYNTH_ROWS}
    assert sum(c for _, c, _ in got.values()) >= 8 * FAMILIES  # the checks were there while loading
    con = sqlite3.connect(dev)
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.mariadb
def test_when_a_105_table_schema_is_synthesised_into_mariadb_then_checks_and_keys_hold(
    source: str, mariadb_url: str
) -> None:
    synthesize(mariadb_url, schema_from=source, rules=load_rules_text(RULES), rows=SYNTH_ROWS, seed=3)
    got, want = facts(mariadb_url), facts(source)
    assert {k: (SYNTH_ROWS, c, f) for k, (_, c, f) in want.items()} == got
