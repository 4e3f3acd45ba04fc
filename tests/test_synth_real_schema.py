"""Synth completes on a real application schema's `structure.sql` (developed against Lago's: 139 tables).

The schema file is not shipped (an application's own, under its own licence): point
SANITIZE_REAL_SCHEMA_SQL at a PostgreSQL `structure.sql` to run it. The always-on 100+-table test is
tests/test_real_schemas.py, on a schema the tests generate.

The schema is loaded into a fresh PostgreSQL database as the app's migrations would leave it, then
the documented flow runs: `sanitize scan` drafts the rules, `sanitize synth` fills a PostgreSQL and
a SQLite target. Every foreign key and unique index is enforced by the PostgreSQL target itself; every
CHECK of the source is run against the PostgreSQL target's rows as `WHERE NOT (check)`.

Stripped in the test, and why:
- the `pg_partman` extension (and its template table), which this server does not have;
- `SET transaction_timeout` (PostgreSQL 17; the server is older).
Partial indexes casting to enum types and GIN/GiST indexes with operator classes are kept: the target
recreates them as written.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from sanitize.cli import app
from sanitize.db import open_source, resolve

REAL_SCHEMA = os.environ.get("SANITIZE_REAL_SCHEMA_SQL", "")
LAGO = Path(REAL_SCHEMA)
pytestmark = pytest.mark.skipif(
    not REAL_SCHEMA, reason="set SANITIZE_REAL_SCHEMA_SQL to a PostgreSQL structure.sql to run this test"
)


def _load_lago(url: str) -> None:
    sql = "\n".join(
        line
        for line in LAGO.read_text(encoding="utf-8").splitlines()
        if "pg_partman" not in line and not line.startswith("SET transaction_timeout")
    )
    dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.encode())  # no parameters: the simple protocol runs the whole script
        conn.execute("DROP SCHEMA IF EXISTS partman CASCADE")


def _source_checks(url: str) -> dict[tuple[str, str], str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
                "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE k.contype = 'c' AND n.nspname = 'public'"
            )
        ).all()
    engine.dispose()
    return {(t, name): d.removeprefix("CHECK ") for t, name, d in rows}


def test_when_a_real_139_table_schema_is_synthesised_then_every_constraint_holds(
    pg_url: str, pg_url2: str, tmp_path: Path
) -> None:
    _load_lago(pg_url)
    checks = _source_checks(pg_url)
    assert len(checks) >= 25
    rules = tmp_path / "lago.yaml"
    runner = CliRunner()

    scanned = runner.invoke(app, ["scan", pg_url, "--sample", "10", "--out", str(rules)])
    assert scanned.exit_code == 0, scanned.output
    to_pg = runner.invoke(
        app, ["synth", "--rules", str(rules), "--schema-from", pg_url, "--rows", "15", pg_url2]
    )
    assert to_pg.exit_code == 0, to_pg.output
    lite = tmp_path / "lago.db"
    to_sqlite = runner.invoke(
        app,
        ["synth", "--rules", str(rules), "--schema-from", pg_url, "--rows", "15", "--seed", "4", str(lite)],
    )
    assert to_sqlite.exit_code == 0, to_sqlite.output

    engine = sa.create_engine(pg_url2)
    with engine.connect() as conn:
        tables = conn.execute(
            sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        ).scalar_one()
        fks = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace "
                "WHERE k.contype = 'f' AND n.nspname = 'public'"
            )
        ).scalar_one()
        filled = conn.execute(sa.text("SELECT count(*) FROM customers")).scalar_one()
        broken = {
            f"{t}.{name}": n
            for (t, name), sql in checks.items()
            if (
                n := conn.execute(
                    sa.text(f'SELECT count(*) FROM public."{t}" WHERE NOT ({sql})')
                ).scalar_one()
            )
        }
    engine.dispose()
    assert tables >= 130 and filled == 15
    assert fks > 100  # created after the data: a dangling key would have failed the load
    assert broken == {}

    with open_source(resolve(pg_url)) as src:
        schema = src.schema
    con = sqlite3.connect(lite)
    sqlite_tables = con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    dangling = con.execute("PRAGMA foreign_key_check").fetchall()
    duplicated = []
    for t in schema:
        keys = [
            t.primary_key,
            *t.unique_constraints,
            *(ix.columns for ix in t.indexes if ix.unique and not ix.where),
        ]
        for cols in filter(None, keys):
            listed = ", ".join(f'"{c}"' for c in cols)
            not_null = " AND ".join(f'"{c}" IS NOT NULL' for c in cols)
            grouped = f'SELECT 1 FROM "{t.name}" WHERE {not_null} GROUP BY {listed} HAVING count(*) > 1'
            sql = f"SELECT count(*) FROM ({grouped})"
            if con.execute(sql).fetchone()[0]:
                duplicated.append(f"{t.key} ({listed})")
    con.close()
    assert sqlite_tables >= 130
    assert dangling == [] and duplicated == []


@pytest.fixture(autouse=True)
def _quiet_sanitize_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("ERROR", logger="sanitize")
