"""Schema drift: every kind of difference is found, rendered, and makes `sanitize diff` exit 1."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from sanitize.diff import diff_databases, diff_schemas, render_diff
from sanitize.schema import Column, ForeignKey, Index, Schema, Table


def base() -> Schema:
    customers = Table(
        key="customers",
        name="customers",
        columns=(
            Column("id", "integer", nullable=False, sql_type=sa.Integer()),
            Column("email", "text", nullable=False, max_length=100, sql_type=sa.String(100)),
            Column("name", "text", sql_type=sa.Text()),
        ),
        primary_key=("id",),
        unique_constraints=(("email",),),
        indexes=(Index("ix_name", ("name",)),),
    )
    orders = Table(
        key="orders",
        name="orders",
        columns=(
            Column("id", "integer", nullable=False, sql_type=sa.Integer()),
            Column("customer_id", "integer", sql_type=sa.Integer()),
        ),
        primary_key=("id",),
        foreign_keys=(ForeignKey(("customer_id",), "customers", ("id",)),),
    )
    return Schema({"customers": customers, "orders": orders})


def with_table(s: Schema, key: str, **changes: object) -> Schema:
    return Schema({**s.tables, key: replace(s.tables[key], **changes)})  # type: ignore[arg-type]


def with_column(s: Schema, key: str, name: str, **changes: object) -> Schema:
    t = s.tables[key]
    cols = tuple(replace(c, **changes) if c.name == name else c for c in t.columns)  # type: ignore[arg-type]
    return with_table(s, key, columns=cols)


A = base()
CASES = [
    # a table only in b
    (
        Schema({**A.tables, "audit": Table("audit", "audit", (Column("id", "integer"),))}),
        [("table", "audit", None, "only in b")],
    ),
    # a table only in a
    (Schema({"customers": A.tables["customers"]}), [("table", "orders", None, "only in a")]),
    # a column only in a
    (
        with_table(A, "customers", columns=A.tables["customers"].columns[:2]),
        [("column", "customers", "name", "only in a")],
    ),
    # a column's type: VARCHAR(100) -> VARCHAR(200)
    (
        with_column(A, "customers", "email", max_length=200, sql_type=sa.String(200)),
        [("type", "customers", "email", "differs")],
    ),
    # INTEGER -> BIGINT (same kind, different SQL type)
    (
        with_column(A, "orders", "customer_id", sql_type=sa.BigInteger()),
        [("type", "orders", "customer_id", "differs")],
    ),
    # nullability
    (with_column(A, "customers", "name", nullable=False), [("nullable", "customers", "name", "differs")]),
    # an index dropped
    (with_table(A, "customers", indexes=()), [("index", "customers", "(name)", "only in a")]),
    # an index made unique
    (
        with_table(A, "customers", indexes=(Index("ix_name", ("name",), unique=True),)),
        [("index", "customers", "(name)", "only in a"), ("index", "customers", "unique (name)", "only in b")],
    ),
    # a unique constraint dropped
    (with_table(A, "customers", unique_constraints=()), [("unique", "customers", "(email)", "only in a")]),
    # the primary key changed
    (
        with_table(A, "orders", primary_key=("id", "customer_id")),
        [("primary key", "orders", None, "differs")],
    ),
    # a foreign key dropped
    (
        with_table(A, "orders", foreign_keys=()),
        [("foreign key", "orders", "(customer_id) -> customers(id)", "only in a")],
    ),
]


@pytest.mark.parametrize(("b", "expected"), CASES)
def test_when_schemas_differ_then_each_difference_is_reported(
    b: Schema, expected: list[tuple[object, ...]]
) -> None:
    d = diff_schemas(A, b, a_name="prod", b_name="staging")
    assert [(x.what, x.table, x.item, x.change) for x in d.differences] == expected
    assert not d.same
    doc = json.loads(json.dumps(d.to_dict()))
    assert doc["same"] is False and len(doc["differences"]) == len(expected)
    for x in d.differences:
        assert x.describe("prod", "staging")


def test_when_schemas_are_equal_then_no_differences_and_index_names_do_not_matter() -> None:
    renamed = with_table(A, "customers", indexes=(Index("other_name", ("name",)),))
    d = diff_schemas(A, renamed)
    assert d.same and d.differences == []
    from rich.console import Console

    console = Console(record=True, width=120)
    console.print(render_diff(d))
    assert "no schema drift" in console.export_text()


def test_when_engines_differ_then_types_compare_by_kind_and_size() -> None:
    b = with_column(A, "customers", "name", sql_type=sa.String())  # TEXT vs VARCHAR: both text
    assert not diff_schemas(A, b).same
    assert diff_schemas(A, b, exact_types=False).same


def make(path: Path, ddl: str) -> Path:
    con = sqlite3.connect(path)
    con.executescript(ddl)
    con.close()
    return path


DDL = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL UNIQUE, name TEXT);
CREATE INDEX ix_name ON customers(name);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id));
"""


def test_when_two_databases_drift_then_diff_databases_reads_them_and_the_cli_exits_1(tmp_path: Path) -> None:
    a = make(tmp_path / "prod.db", DDL)
    make(
        tmp_path / "staging.db",
        DDL.replace("name TEXT", "name TEXT, phone TEXT").replace(
            "CREATE INDEX ix_name ON customers(name);", ""
        ),
    )
    (tmp_path / "sanitize.yaml").write_text(
        "environments:\n  prod: {url: prod.db, role: production}\n"
        "  staging: {url: staging.db, role: staging}\n"
    )
    from sanitize.config import load_config

    d = diff_databases("prod", "staging", config=load_config(tmp_path / "sanitize.yaml"))
    assert (d.a_name, d.b_name) == ("prod", "staging")
    assert {(x.what, x.item, x.change) for x in d.differences} == {
        ("column", "phone", "only in b"),
        ("index", "(name)", "only in a"),
    }
    cli = [sys.executable, "-m", "sanitize.cli"]
    same = subprocess.run(
        [*cli, "diff", str(a), str(a), "--json"], capture_output=True, text=True, cwd=tmp_path
    )
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["same"] is True
    drift = subprocess.run([*cli, "diff", "prod", "staging"], capture_output=True, text=True, cwd=tmp_path)
    assert drift.returncode == 1, drift.stderr
    assert "phone" in drift.stdout and "schema drift" in drift.stdout
    bad = subprocess.run([*cli, "diff", "prod", "nowhere"], capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "nowhere" in bad.stderr
