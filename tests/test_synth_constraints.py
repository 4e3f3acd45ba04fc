"""Synthetic data meets every constraint kind, checked by querying SQLite for violations.

The schema below has each constraint the issue names: composite unique, composite foreign key,
self-reference, a foreign-key cycle through a nullable column, CHECK ranges and IN lists, varchar
lengths, numeric precision, NOT NULL, a one-to-one key and a join table. The rows are written to a
SQLite file whose DDL declares those constraints; the tests then query for violations themselves
rather than trusting the database's enforcement alone.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from sanitize.errors import BadInputError
from sanitize.schema import Column, ForeignKey, Schema, Table
from sanitize.synth import build_plan, generate_tables, resolve_rows

DDL = """
CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    name VARCHAR(20) NOT NULL UNIQUE,
    plan VARCHAR(10) NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise'))
);
CREATE TABLE users (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    id INTEGER PRIMARY KEY,
    username VARCHAR(16) NOT NULL,
    email VARCHAR(40) NOT NULL UNIQUE,
    manager_id INTEGER REFERENCES users(id),
    team_id INTEGER REFERENCES teams(id),
    score SMALLINT CHECK (score BETWEEN 0 AND 100),
    balance NUMERIC(7, 2) NOT NULL CHECK (balance >= 0),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, username)
);
CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    lead_user_id INTEGER NOT NULL REFERENCES users(id),
    name VARCHAR(12) NOT NULL
);
CREATE TABLE projects (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    code VARCHAR(8) NOT NULL,
    title VARCHAR(60),
    budget NUMERIC(9, 2),
    PRIMARY KEY (tenant_id, code)
);
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    project_code VARCHAR(8) NOT NULL,
    assignee_id INTEGER REFERENCES users(id),
    priority SMALLINT NOT NULL CHECK (priority IN (1, 2, 3)),
    due_on DATE,
    FOREIGN KEY (tenant_id, project_code) REFERENCES projects(tenant_id, code)
);
CREATE TABLE memberships (
    user_id INTEGER NOT NULL REFERENCES users(id),
    team_id INTEGER NOT NULL REFERENCES teams(id),
    role VARCHAR(8) NOT NULL,
    PRIMARY KEY (user_id, team_id)
);
CREATE TABLE user_profiles (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    bio TEXT
);
CREATE TABLE week_slots (
    year SMALLINT NOT NULL CHECK (year BETWEEN 2020 AND 2029),
    week SMALLINT NOT NULL CHECK (week BETWEEN 1 AND 53),
    label VARCHAR(6),
    UNIQUE (year, week)
);
"""

C = Column
SMALL = sa.SmallInteger()


def every_constraint_schema() -> Schema:
    """The Schema matching DDL (CHECKs given as reflection would give them)."""
    tables = [
        Table(
            "tenants",
            "tenants",
            columns=(
                C("id", "integer", False),
                C("name", "text", False, max_length=20),
                C("plan", "text", False, max_length=10, check_values=("free", "pro", "enterprise")),
            ),
            primary_key=("id",),
            unique_constraints=(("name",),),
        ),
        Table(
            "users",
            "users",
            columns=(
                C("tenant_id", "integer", False),
                C("id", "integer", False),
                C("username", "text", False, max_length=16),
                C("email", "text", False, max_length=40),
                C("manager_id", "integer"),
                C("team_id", "integer"),
                C("score", "integer", sql_type=SMALL, check_range=(0, 100)),
                C("balance", "decimal", False, precision=7, scale=2, check_range=(0, None)),
                C("created_at", "datetime", False),
            ),
            primary_key=("id",),
            unique_constraints=(("email",), ("tenant_id", "username")),
            foreign_keys=(
                ForeignKey(("tenant_id",), "tenants", ("id",)),
                ForeignKey(("manager_id",), "users", ("id",)),
                ForeignKey(("team_id",), "teams", ("id",)),
            ),
        ),
        Table(
            "teams",
            "teams",
            columns=(
                C("id", "integer", False),
                C("lead_user_id", "integer", False),
                C("name", "text", False, max_length=12),
            ),
            primary_key=("id",),
            foreign_keys=(ForeignKey(("lead_user_id",), "users", ("id",)),),
        ),
        Table(
            "projects",
            "projects",
            columns=(
                C("tenant_id", "integer", False),
                C("code", "text", False, max_length=8),
                C("title", "text", max_length=60),
                C("budget", "decimal", precision=9, scale=2),
            ),
            primary_key=("tenant_id", "code"),
            foreign_keys=(ForeignKey(("tenant_id",), "tenants", ("id",)),),
        ),
        Table(
            "tasks",
            "tasks",
            columns=(
                C("id", "integer", False),
                C("tenant_id", "integer", False),
                C("project_code", "text", False, max_length=8),
                C("assignee_id", "integer"),
                C("priority", "integer", False, sql_type=SMALL, check_values=("1", "2", "3")),
                C("due_on", "date"),
            ),
            primary_key=("id",),
            foreign_keys=(
                ForeignKey(("tenant_id",), "tenants", ("id",)),
                ForeignKey(("tenant_id", "project_code"), "projects", ("tenant_id", "code")),
                ForeignKey(("assignee_id",), "users", ("id",)),
            ),
        ),
        Table(
            "memberships",
            "memberships",
            columns=(
                C("user_id", "integer", False),
                C("team_id", "integer", False),
                C("role", "text", False, max_length=8),
            ),
            primary_key=("user_id", "team_id"),
            foreign_keys=(
                ForeignKey(("user_id",), "users", ("id",)),
                ForeignKey(("team_id",), "teams", ("id",)),
            ),
        ),
        Table(
            "user_profiles",
            "user_profiles",
            columns=(
                C("user_id", "integer", False),
                C("bio", "text"),
            ),
            primary_key=("user_id",),
            foreign_keys=(ForeignKey(("user_id",), "users", ("id",)),),
        ),
        Table(
            "week_slots",
            "week_slots",
            columns=(
                C("year", "integer", False, sql_type=SMALL, check_range=(2020, 2029)),
                C("week", "integer", False, sql_type=SMALL, check_range=(1, 53)),
                C("label", "text", max_length=6),
            ),
            unique_constraints=(("year", "week"),),
        ),
    ]
    return Schema({t.key: t for t in tables})


ROWS = {
    "tenants": 12,
    "users": 400,
    "teams": 30,
    "projects": 60,
    "tasks": 900,
    "memberships": 700,
    "user_profiles": 300,
    "week_slots": 45,
}


# --- a plain SQLite writer and violation queries (shared with the other synth tests) -----------


def _python(value: object) -> object:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def write_sqlite(path: Path, ddl: str, batches: Iterable[tuple[str, pd.DataFrame]]) -> dict[str, int]:
    """Write batches with plain sqlite3 (foreign keys checked afterwards, as a loader does)."""
    con = sqlite3.connect(path)
    con.executescript(ddl)
    written: dict[str, int] = {}
    for key, frame in batches:
        cols = list(frame.columns)
        rows = [
            tuple(_python(v) for v in row)
            for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
        ]
        con.executemany(f"INSERT INTO {key} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
        written[key] = written.get(key, 0) + len(rows)
    con.commit()
    con.close()
    return written


def violations(con: sqlite3.Connection, schema: Schema, tables: Iterable[str] | None = None) -> list[str]:
    """Every constraint of `schema`, checked by a query that counts the rows breaking it."""
    found: list[str] = []

    def count(sql: str, what: str) -> None:
        n = con.execute(sql).fetchone()[0]
        if n:
            found.append(f"{what}: {n} rows")

    for key in tables if tables is not None else schema.tables:
        t = schema[key]
        for c in t.columns:
            q = f'"{c.name}"'
            if not c.nullable or c.name in t.primary_key:
                count(f"SELECT count(*) FROM {key} WHERE {q} IS NULL", f"{key}.{c.name} NOT NULL")
            if c.max_length and c.kind == "text":
                count(
                    f"SELECT count(*) FROM {key} WHERE length({q}) > {c.max_length}", f"{key}.{c.name} length"
                )
            if c.check_values:
                values = ", ".join(v if c.kind == "integer" else f"'{v}'" for v in c.check_values)
                count(f"SELECT count(*) FROM {key} WHERE {q} NOT IN ({values})", f"{key}.{c.name} IN list")
            if c.check_range:
                lo, hi = c.check_range
                if lo is not None:
                    count(f"SELECT count(*) FROM {key} WHERE {q} < {lo}", f"{key}.{c.name} >= {lo}")
                if hi is not None:
                    count(f"SELECT count(*) FROM {key} WHERE {q} > {hi}", f"{key}.{c.name} <= {hi}")
            if c.kind == "decimal" and c.precision is not None and c.scale is not None:
                top, unit = 10 ** (c.precision - c.scale), 10**c.scale
                count(
                    f"SELECT count(*) FROM {key} WHERE abs({q}) >= {top} "
                    f"OR abs({q} * {unit} - round({q} * {unit})) > 1e-6",
                    f"{key}.{c.name} precision",
                )
        sets = [t.primary_key, *t.unique_constraints] if t.primary_key else list(t.unique_constraints)
        for s in sets:
            cols = ", ".join(f'"{c}"' for c in s)
            nonnull = " AND ".join(f'"{c}" IS NOT NULL' for c in s)
            count(
                f"SELECT count(*) FROM (SELECT {cols} FROM {key} WHERE {nonnull} GROUP BY {cols} "
                "HAVING count(*) > 1)",
                f"{key} unique ({cols})",
            )
        for fk in t.foreign_keys:
            on = " AND ".join(f'c."{a}" = p."{b}"' for a, b in zip(fk.columns, fk.ref_columns, strict=True))
            nonnull = " AND ".join(f'c."{a}" IS NOT NULL' for a in fk.columns)
            count(
                f"SELECT count(*) FROM {key} c LEFT JOIN {fk.ref_table} p ON {on} "
                f'WHERE {nonnull} AND p."{fk.ref_columns[0]}" IS NULL',
                f"{key} {fk.columns} -> {fk.ref_table}",
            )
    return found


def database_digest(path: Path) -> str:
    """A digest of every row of every data table, in rowid order (the loader's own metadata, which
    records when it loaded, is left out)."""
    con = sqlite3.connect(path)
    h = hashlib.sha256()
    for (name,) in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sanitize_meta' ORDER BY name"
    ):
        for row in con.execute(f"SELECT * FROM {name} ORDER BY rowid"):
            h.update(repr(row).encode())
    con.close()
    return h.hexdigest()


@pytest.fixture(scope="module")
def synthesised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "every.db"
    write_sqlite(path, DDL, generate_tables(every_constraint_schema(), ROWS, seed=42))
    return path


# --- tests --------------------------------------------------------------------------------------


def test_when_every_constraint_kind_is_declared_then_no_row_breaks_any(synthesised: Path) -> None:
    con = sqlite3.connect(synthesised)
    assert violations(con, every_constraint_schema()) == []
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_when_rows_are_asked_per_table_then_each_table_has_exactly_that_many(synthesised: Path) -> None:
    con = sqlite3.connect(synthesised)
    got = {k: con.execute(f"SELECT count(*) FROM {k}").fetchone()[0] for k in ROWS}
    assert got == ROWS


@pytest.mark.parametrize(
    ("sql", "what"),
    [
        # the nullable side of the users <-> teams cycle is filled, not left all NULL
        ("SELECT count(*) FROM users WHERE team_id IS NOT NULL", "users.team_id filled"),
        # self-reference: most users have a manager, and managers exist
        ("SELECT count(*) FROM users u JOIN users m ON u.manager_id = m.id", "managers joined"),
        # composite FK: tasks point at real (tenant, project) pairs
        (
            "SELECT count(*) FROM tasks t "
            "JOIN projects p ON p.tenant_id = t.tenant_id AND p.code = t.project_code",
            "tasks joined to projects",
        ),
        # a join table with real pairs on both sides
        (
            "SELECT count(*) FROM memberships m "
            "JOIN users u ON u.id = m.user_id JOIN teams t ON t.id = m.team_id",
            "memberships joined",
        ),
    ],
)
def test_when_keys_reference_other_rows_then_the_joins_find_them(
    synthesised: Path, sql: str, what: str
) -> None:
    con = sqlite3.connect(synthesised)
    assert con.execute(sql).fetchone()[0] > 0, what


def test_when_children_are_dealt_to_parents_then_the_counts_vary_realistically(synthesised: Path) -> None:
    con = sqlite3.connect(synthesised)
    per_user = pd.read_sql(
        "SELECT u.id, count(m.user_id) AS n FROM users u "
        "LEFT JOIN memberships m ON m.user_id = u.id GROUP BY u.id",
        con,
    )["n"].to_numpy()
    assert per_user.sum() == ROWS["memberships"]
    assert per_user.std() > 0.5  # not a constant
    assert (per_user == 0).any()  # some parents have no children
    assert per_user.max() >= 3 * per_user.mean()  # and a long tail


def test_when_the_same_seed_is_used_then_the_database_is_identical(tmp_path: Path, synthesised: Path) -> None:
    again = tmp_path / "again.db"
    write_sqlite(again, DDL, generate_tables(every_constraint_schema(), ROWS, seed=42))
    other = tmp_path / "other.db"
    write_sqlite(other, DDL, generate_tables(every_constraint_schema(), ROWS, seed=43))
    assert database_digest(again) == database_digest(synthesised)
    assert database_digest(other) != database_digest(synthesised)


def test_when_columns_have_meaningful_names_then_values_look_like_them(synthesised: Path) -> None:
    con = sqlite3.connect(synthesised)
    emails = [r[0] for r in con.execute("SELECT email FROM users")]
    assert all("@" in e and "." in e.split("@")[1] for e in emails)
    created = [r[0] for r in con.execute("SELECT created_at FROM users")]
    assert all(dt.datetime.fromisoformat(c).year >= 2020 for c in created)
    balances = np.array([r[0] for r in con.execute("SELECT balance FROM users")], dtype=float)
    assert (balances > 0).all() and balances.std() > 0
    roles = {r[0] for r in con.execute("SELECT role FROM memberships")}
    assert 2 <= len(roles) <= 8  # `role`: one of a small set


def test_when_a_unique_key_cannot_hold_the_rows_then_every_problem_is_reported_before_generating() -> None:
    schema = every_constraint_schema()
    rows = dict(ROWS, week_slots=60, user_profiles=500)  # 53 weeks; 400 users for 500 one-to-one profiles
    with pytest.raises(BadInputError) as err:
        build_plan(schema, rows, seed=1)
    text = str(err.value)
    assert "week_slots" in text and "53" in text
    assert "user_profiles" in text and "400" in text


def test_when_a_not_null_parent_gets_no_rows_then_the_error_names_both_tables() -> None:
    with pytest.raises(
        BadInputError, match=r"users: foreign key \(tenant_id\) is NOT NULL but tenants gets 0 rows"
    ):
        build_plan(every_constraint_schema(), dict(ROWS, tenants=0), seed=1)


@pytest.mark.parametrize(
    ("rows", "scale", "base", "expected"),
    [
        (100, None, None, {"a": 100, "b": 100}),  # one number for every table
        ({"a": 5}, None, None, {"a": 5, "b": 1000}),  # table=N pairs; the rest the default
        (None, 0.5, {"a": 10, "b": 400}, {"a": 5, "b": 200}),  # --scale of the source's counts
        ({"b": 7}, 2.0, {"a": 10, "b": 400}, {"a": 20, "b": 7}),  # pairs win over scale
    ],
)
def test_when_rows_are_given_then_counts_resolve_per_table(
    rows: int | dict[str, int] | None,
    scale: float | None,
    base: dict[str, int] | None,
    expected: dict[str, int],
) -> None:
    schema = Schema({k: Table(k, k, columns=(C("id", "integer", False),), primary_key=("id",)) for k in "ab"})
    assert resolve_rows(schema, rows, scale=scale, base=base) == expected


def test_when_rows_name_an_unknown_table_then_bad_input_names_it() -> None:
    schema = Schema({"a": Table("a", "a", columns=(C("id", "integer", False),))})
    with pytest.raises(BadInputError, match="zzz"):
        resolve_rows(schema, {"zzz": 3})


def test_when_a_table_is_big_then_it_arrives_in_bounded_batches() -> None:
    schema = Schema(
        {"a": Table("a", "a", columns=(C("id", "integer", False), C("note", "text")), primary_key=("id",))}
    )
    sizes = [len(df) for _k, df in generate_tables(schema, {"a": 120_001}, seed=3)]
    assert sum(sizes) == 120_001 and max(sizes) <= 50_000
