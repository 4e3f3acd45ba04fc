"""Shapes met in a public sample database (a DVD-rental schema) that broke a run: PostgreSQL domains
(`year` = integer with a CHECK), a NUMERIC(4,2) filled up to its bound, and a staff picture stored as
bytes next to first and last names."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pytest
import yaml

from sanitize.db import open_source, resolve
from sanitize.detect.draft import rule_for
from sanitize.detect.scan import scan_database
from sanitize.pipeline import anonymize
from sanitize.rules import RulesFile
from sanitize.schema import Column, Table
from sanitize.synth.fidelity import ConstraintCheck
from sanitize.synth.fit import decimal_from_units
from sanitize.synth.run import synthesize

DOMAINS = """
CREATE DOMAIN year AS integer CONSTRAINT year_check CHECK (VALUE >= 1901 AND VALUE <= 2155);
CREATE DOMAIN "bıgınt" AS bigint;
CREATE DOMAIN code AS text NOT NULL CHECK (VALUE ~ '^[A-Z]{3}$') CHECK (length(VALUE) = 3);
CREATE TABLE film (
    id int PRIMARY KEY,
    release_year year,
    views "bıgınt",
    lang code,
    title text CHECK (title <> 'VALUE')
);
INSERT INTO film VALUES (1, 2006, 10, 'ENG', 'Academy Dinosaur'), (2, NULL, NULL, 'DEU', 'Ace Goldfinger');
"""
KEEP_ALL = RulesFile.from_dict(yaml.safe_load("version: 1\nunknown_columns: keep\ntables: {}\n"))


@pytest.fixture
def pg_domains(pg_url: str) -> str:
    with psycopg.connect(pg_url.replace("+psycopg", ""), autocommit=True) as c:
        c.execute(DOMAINS)  # type: ignore[arg-type]
    return pg_url


@pytest.mark.postgres
def test_when_a_column_has_a_domain_type_then_it_reads_as_the_base_type_with_the_domains_checks(
    pg_domains: str,
) -> None:
    with open_source(resolve(pg_domains)) as src:
        film = src.schema["public.film"] if "public.film" in src.schema.tables else src.schema["film"]
    cols = {c.name: c for c in film.columns}
    assert (cols["release_year"].kind, cols["views"].kind, cols["lang"].kind) == (
        "integer",
        "integer",
        "text",
    )
    assert cols["release_year"].check_range == (1901.0, 2155.0)  # synth draws inside it
    assert not cols["lang"].nullable  # the domain's NOT NULL
    checks = {c.name: c.sqltext for c in film.checks}
    assert checks["release_year_year_check"] == '"release_year" >= 1901 AND "release_year" <= 2155'
    assert any(t.startswith('"lang" ~') for t in checks.values())
    assert any('length("lang") = 3' in t for t in checks.values())
    # a literal 'VALUE' in the table's own check is the table's, untouched
    assert any("'VALUE'" in t for t in checks.values())


@pytest.mark.postgres
def test_when_a_domain_column_is_copied_or_synthesised_then_its_check_holds_on_sqlite(
    pg_domains: str, tmp_path: Path
) -> None:
    copy, fake = tmp_path / "copy.db", tmp_path / "fake.db"
    anonymize(KEEP_ALL, pg_domains, str(copy))
    with sqlite3.connect(copy) as con:
        assert con.execute("SELECT release_year, lang FROM film ORDER BY id").fetchall() == [
            (2006, "ENG"),
            (None, "DEU"),
        ]
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            con.execute("INSERT INTO film (id, release_year, lang, title) VALUES (3, 1800, 'ENG', 'x')")
    synthesize(str(fake), schema_from=pg_domains, rows=300)
    with sqlite3.connect(fake) as con:
        lo, hi, n = con.execute(
            "SELECT min(release_year), max(release_year), count(*) FROM film WHERE release_year IS NOT NULL"
        ).fetchone()
    assert n > 0 and 1901 <= lo <= hi <= 2155


def test_when_decimals_sit_on_their_precision_bound_then_the_constraint_check_accepts_them() -> None:
    # Arrow casts decimal 99.99 to the float 99.99000000000001: the bound check must not call that outside
    col = Column(name="rate", kind="decimal", nullable=False, precision=4, scale=2)
    table = Table(key="film", name="film", columns=(col,))
    ok, bad = ConstraintCheck(), ConstraintCheck()
    ok.add(table, pa.table({"rate": decimal_from_units(np.array([9999, -9999, 17]), 4, 2)}))
    bad.add(table, pa.table({"rate": pa.array([1.0e4], pa.float64())}))  # 10000 is beyond NUMERIC(4,2)
    assert ok.problems == []
    assert bad.problems == ["film.rate: outside the allowed range [-99.99, 99.99] (1 rows)"]


def test_when_a_table_has_a_picture_blob_next_to_names_then_scan_drafts_it_removed(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as con:
        con.execute(
            "CREATE TABLE staff (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, picture BLOB)"
        )
        con.executemany(
            "INSERT INTO staff VALUES (?, ?, ?, ?)",
            [(i, f"Mike{i % 7}", f"Hillyer{i % 5}", bytes([0x89, 0xB3, i % 256, 0])) for i in range(50)],
        )
    report = scan_database(str(db), 50)  # bytes next to names crashed the name-built-id check
    cols = {c.column: c for c in report.columns()}
    assert cols["picture"].kind == "photo"
    assert rule_for(cols["picture"]) == "nullify"


PARTITIONED = """
CREATE TABLE customer (id int PRIMARY KEY, email text);
CREATE TABLE staff (id int PRIMARY KEY);
CREATE TABLE payment (id int, customer_id int, staff_id int, paid date NOT NULL, PRIMARY KEY (paid, id))
    PARTITION BY RANGE (paid);
CREATE TABLE payment_2022 PARTITION OF payment FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
CREATE TABLE payment_2023 PARTITION OF payment FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
ALTER TABLE payment_2022 ADD FOREIGN KEY (customer_id) REFERENCES customer (id);
ALTER TABLE payment_2023 ADD FOREIGN KEY (customer_id) REFERENCES customer (id);
ALTER TABLE payment_2022 ADD FOREIGN KEY (staff_id) REFERENCES staff (id);
INSERT INTO customer VALUES (1, 'ann@example.com'), (2, 'bob@example.com');
INSERT INTO staff VALUES (7);
INSERT INTO payment VALUES (1, 1, 7, '2022-05-01'), (2, 2, NULL, '2023-05-01');
"""


@pytest.mark.postgres
def test_when_every_partition_declares_a_foreign_key_then_the_partitioned_table_has_it(
    pg_url: str, tmp_path: Path
) -> None:
    # the sample database declares its payment foreign keys on (some of) the partitions only
    with psycopg.connect(pg_url.replace("+psycopg", ""), autocommit=True) as c:
        c.execute(PARTITIONED)  # type: ignore[arg-type]
    with open_source(resolve(pg_url)) as src:
        payment = src.schema["payment"]
        assert "payment_2022" not in src.schema.tables
    refs = {(fk.columns, fk.ref_table) for fk in payment.foreign_keys}
    assert refs == {(("customer_id",), "customer")}  # staff_id is declared on one partition only
    rules = RulesFile.from_dict(
        {"version": 1, "unknown_columns": "keep", "tables": {"customer": {"columns": {"id": "hash"}}}}
    )
    out = tmp_path / "dev.db"
    anonymize(rules, pg_url, str(out))
    with sqlite3.connect(out) as con:  # the customer key's pseudonym follows it into payment
        joined = con.execute(
            "SELECT count(*) FROM payment p JOIN customer c ON c.id = p.customer_id"
        ).fetchone()
        assert joined == (2,)
        assert con.execute("SELECT count(*) FROM customer WHERE id IN (1, 2)").fetchone() == (0,)
