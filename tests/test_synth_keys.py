"""Synth on shapes real application schemas have: composite and partial unique indexes over foreign
keys, PostgreSQL arrays, row counts with per-table overrides, NULLs in nullable columns."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from sanitize.schema import Column, Schema, Table
from sanitize.synth import Profile, generate_tables, parse_rows, resolve_rows, synthesize
from sanitize.synth.profile import ColumnProfile, TableProfile

KEYS_DDL = """
CREATE TABLE invoices (id INTEGER PRIMARY KEY, number VARCHAR(20) NOT NULL);
CREATE TABLE invoice_links (
    id INTEGER PRIMARY KEY,
    invoice_id INTEGER NOT NULL REFERENCES invoices(id),
    category VARCHAR(10) NOT NULL CHECK (category IN ('erp', 'crm', 'tax', 'bank')),
    is_default BOOLEAN NOT NULL,
    UNIQUE (invoice_id, category)
);
CREATE UNIQUE INDEX one_default_per_category ON invoice_links (invoice_id, category) WHERE is_default;
CREATE TABLE roles (id INTEGER PRIMARY KEY, admin BOOLEAN NOT NULL, deleted_at TIMESTAMP);
CREATE UNIQUE INDEX one_live_admin ON roles (admin) WHERE admin AND deleted_at IS NULL;
"""


def _source(tmp_path: Path) -> Path:
    path = tmp_path / "keys.db"
    con = sqlite3.connect(path)
    con.executescript(KEYS_DDL)
    con.close()
    return path


def test_when_unique_keys_include_a_foreign_key_or_a_where_then_only_what_they_bind_is_unique(
    tmp_path: Path,
) -> None:
    target = tmp_path / "out.db"
    rows = {"invoices": 20, "invoice_links": 60, "roles": 40}
    synthesize(str(target), schema_from=str(_source(tmp_path)), rows=rows, seed=3)

    con = sqlite3.connect(target)
    dupes = con.execute(
        "SELECT count(*) FROM (SELECT invoice_id, category FROM invoice_links "
        "GROUP BY 1, 2 HAVING count(*) > 1)"
    ).fetchone()[0]
    counts = dict(
        con.execute(
            "SELECT 'links', count(*) FROM invoice_links UNION ALL SELECT 'roles', count(*) FROM roles"
        )
    )
    live_admins = con.execute("SELECT count(*) FROM roles WHERE admin AND deleted_at IS NULL").fetchone()[0]
    categories = con.execute("SELECT count(DISTINCT category) FROM invoice_links").fetchone()[0]
    con.close()
    assert counts == {"links": 60, "roles": 40}  # 60 links fit 4 categories x 20 invoices
    assert dupes == 0 and categories == 4
    assert live_admins <= 1  # the partial index binds only live admins


def test_when_rows_are_one_number_and_table_overrides_then_the_overrides_win() -> None:
    schema = Schema(
        {
            k: Table(k, k, columns=(Column("id", "integer", False),), primary_key=("id",))
            for k in ("a", "b", "c")
        }
    )
    counts = resolve_rows(schema, parse_rows(["100", "b=7", "c=0"]))
    assert counts == {"a": 100, "b": 7, "c": 0}


def test_when_a_nullable_text_column_is_generated_then_it_holds_null_not_empty_strings() -> None:
    table = Table(
        "notes",
        "notes",
        columns=(Column("id", "integer", False), Column("remark", "text", True, max_length=40)),
        primary_key=("id",),
    )
    # a profile whose categories include the empty string (a source that stored '' for "nothing")
    profile = Profile(
        tables={
            "notes": TableProfile(
                rows=2000,
                columns={
                    "remark": ColumnProfile(
                        kind="text", sensitive=False, null_fraction=0.2, categories={"": 0.5, "paid": 0.5}
                    )
                },
            )
        }
    )
    frames = [f for _k, f in generate_tables(Schema({"notes": table}), {"notes": 2000}, 1, profile=profile)]
    remark = pd.concat(frames)["remark"]
    assert not (remark == "").any()
    assert 0.4 < remark.isna().mean() < 0.8
    assert (remark == "paid").sum() > 500


ARRAY_DDL = """
CREATE TABLE roles (
    id serial PRIMARY KEY,
    name varchar(40) NOT NULL,
    permissions varchar[] DEFAULT '{}' NOT NULL,
    object_ids uuid[],
    scores integer[] NOT NULL,
    CONSTRAINT has_permissions CHECK (cardinality(permissions) > 0),
    CONSTRAINT no_empty_permission CHECK (NOT ('' = ANY (permissions)))
);
"""


def test_when_postgres_columns_are_arrays_then_synth_loads_arrays(pg_url: str, pg_url2: str) -> None:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(ARRAY_DDL)
    engine.dispose()

    synthesize(pg_url2, schema_from=pg_url, rows=500, seed=2)

    engine = sa.create_engine(pg_url2)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT count(*), min(cardinality(permissions)), count(*) FILTER (WHERE object_ids IS NULL), "
                "min(cardinality(scores)), max(cardinality(scores)), "
                "count(*) FILTER (WHERE '' = ANY (permissions)) FROM roles"
            )
        ).one()
        first = conn.execute(
            sa.text("SELECT object_ids[1] FROM roles WHERE object_ids IS NOT NULL LIMIT 1")
        ).scalar()
    engine.dispose()
    total, min_permissions, null_ids, min_scores, max_scores, empty_items = row
    assert total == 500
    assert min_permissions >= 1 and empty_items == 0
    assert 0 < null_ids < 500
    assert 1 <= min_scores <= max_scores <= 3
    assert len(str(first)) == 36  # a real uuid item


def test_when_the_cli_gets_rows_and_an_override_then_the_override_wins(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sanitize.cli import app

    target = tmp_path / "out.db"
    res = CliRunner().invoke(
        app,
        ["synth", str(target), "--schema-from", str(_source(tmp_path)), "--rows", "12", "--rows", "roles=3"],
    )
    assert res.exit_code == 0, res.output
    con = sqlite3.connect(target)
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("invoices", "roles")}
    con.close()
    assert counts == {"invoices": 12, "roles": 3}


def test_when_credential_columns_are_synthesised_then_they_hold_random_strings(tmp_path: Path) -> None:
    """Found on a real schema: tokens and API keys were dictionary words, equal to ordinary values of
    other columns (`owner_type`), which the leak check rightly flagged."""
    import re

    from sanitize.schema import Column, Schema, Table
    from sanitize.synth.run import synthesize

    cols = (
        Column("id", "integer", False),
        Column("token", "text", max_length=64),
        Column("api_key", "text"),
        Column("reset_password_token", "text", max_length=20),
        Column("password_changed_at", "datetime"),
        Column("token_count", "integer"),
    )
    schema = Schema({"sessions": Table("sessions", "sessions", columns=cols, primary_key=("id",))})
    out = tmp_path / "dev.db"
    synthesize(str(out), schema=schema, rows=200, seed=1)
    con = sqlite3.connect(out)
    rows = con.execute("SELECT token, api_key, reset_password_token, token_count FROM sessions").fetchall()
    con.close()
    tokens = [r[0] for r in rows if r[0] is not None]
    assert len(set(tokens)) == len(tokens) > 150
    assert all(re.fullmatch(r"[a-z0-9]{32}", t) for t in tokens)
    assert all(re.fullmatch(r"[a-z0-9]{20}", r[2]) for r in rows if r[2] is not None)
    assert all(isinstance(r[3], int) for r in rows if r[3] is not None)
