"""Profiles reveal no individual; synth reproduces them; the output leaks nothing; the CLI drives it.

Everything runs on the bundled demo "production" database (real SQLite, built by Faker), with a
rules file that marks its personal columns sensitive.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sanitize.cli import app
from sanitize.db import open_source, resolve
from sanitize.demo import DemoSize, build_demo_database
from sanitize.rules import RulesFile
from sanitize.synth import Profile, SynthReport, build_profile, synthesize
from sanitize.synth.fidelity import ks_from_quantiles, tvd
from sanitize.synth.profile import MIN_GROUP
from tests.test_synth_constraints import database_digest, violations

# column -> rule for the demo's personal columns; everything else is kept
SENSITIVE: dict[str, dict[str, Any]] = {
    "customers.email": {"strategy": "fake", "kind": "email", "unique": True},
    "customers.full_name": {"strategy": "fake", "kind": "name"},
    "customers.phone": {"strategy": "fake", "kind": "phone"},
    "customers.ssn": {"strategy": "fake", "kind": "ssn"},
    "customers.date_of_birth": {"strategy": "nullify"},
    "customers.city": {"strategy": "fake", "kind": "city"},
    "customers.postcode": {"strategy": "nullify"},
    "customers.notes": {"strategy": "scrub"},
    "employees.name": {"strategy": "fake", "kind": "name"},
    "employees.email": {"strategy": "fake", "kind": "email", "unique": True},
    "orders.shipping_address": {"strategy": "nullify"},
    "support_tickets.requester": {"strategy": "fake", "kind": "email"},
    "support_tickets.body": {"strategy": "scrub"},
    "events.payload": {"strategy": "nullify"},
    "page_views.ip_address": {"strategy": "nullify"},
}
SIZE = DemoSize(customers=400, employees=30, orders=1200, tickets=200, events=600, page_views=800)


def demo_rules(db: Path) -> RulesFile:
    with open_source(resolve(str(db))) as src:
        schema = src.schema
    tables: dict[str, Any] = {}
    for t in schema.tables.values():
        tables[t.key] = {"columns": {c.name: SENSITIVE.get(f"{t.key}.{c.name}", "keep") for c in t.columns}}
    return RulesFile.from_dict({"version": 1, "locale": "en_US", "unknown_columns": "fail", "tables": tables})


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_database(tmp_path_factory.mktemp("prod") / "prod.db", SIZE, seed=11)


@pytest.fixture(scope="module")
def rules(prod: Path) -> RulesFile:
    return demo_rules(prod)


@pytest.fixture(scope="module")
def profile(prod: Path, rules: RulesFile) -> Profile:
    return build_profile(str(prod), rules)


@pytest.fixture(scope="module")
def synthesised(
    prod: Path, rules: RulesFile, profile: Profile, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, SynthReport]:
    dev = tmp_path_factory.mktemp("dev") / "dev.db"
    report = synthesize(str(dev), schema_from=str(prod), rules=rules, profile=profile, seed=5)
    return dev, report


def _distinct(db: Path, table: str, column: str) -> set[str]:
    con = sqlite3.connect(db)
    try:
        return {
            str(v)
            for (v,) in con.execute(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL")
        }
    finally:
        con.close()


def _tokens(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {t for v in node.values() for t in _tokens(v)}
    if isinstance(node, list):
        return {t for v in node for t in _tokens(v)}
    return {str(node)}


# --- the profile ------------------------------------------------------------------------------------


def test_when_a_source_is_profiled_then_no_sensitive_source_value_is_in_the_json(
    prod: Path, profile: Profile, tmp_path: Path
) -> None:
    path = tmp_path / "profile.json"
    profile.save(path)
    text = path.read_text(encoding="utf-8")
    tokens = _tokens(json.loads(text))
    searched = 0
    for where in SENSITIVE:
        table, column = where.split(".")
        for value in _distinct(prod, table, column):
            if not value:
                continue
            searched += 1
            assert value not in tokens, f"{where} value {value!r} is in the profile"
            # long values must not appear even inside other text (digits-only ones could be inside a number)
            if len(value) >= 4 and not value.replace(".", "").isdigit():
                assert value not in text, f"{where} value {value!r} is inside the profile text"
    assert searched > 2000  # the search really looked at the data


def test_when_a_column_is_sensitive_then_it_records_only_null_fraction_and_length(profile: Profile) -> None:
    email = profile.tables["customers"].columns["email"]
    assert email.sensitive
    assert email.values is None and email.categories is None
    assert email.lengths is not None and email.null_fraction == 0.0
    dob = profile.tables["customers"].columns["date_of_birth"]
    assert dob.sensitive and dob.values is None  # dates of a sensitive column: no min/max/quantiles


def test_when_a_column_is_kept_then_it_has_ranges_quantiles_and_categories(profile: Profile) -> None:
    orders = profile.tables["orders"]
    total = orders.columns["total"]
    assert total.values is not None and total.values.min <= total.values.quantiles[10] <= total.values.max
    assert orders.columns["status"].categories  # low-cardinality, non-sensitive
    fan = orders.fanout(["customer_id"])
    assert fan is not None and fan.parents == SIZE.customers
    assert fan.mean == pytest.approx(SIZE.orders / SIZE.customers)


def test_when_sqlite_dates_are_text_then_kept_date_columns_still_get_their_range(
    prod: Path, profile: Profile
) -> None:
    """SQLite's date/time columns arrive as the text the file holds: the profile parses them (the
    ranges were lost, and synthetic dates with them)."""
    con = sqlite3.connect(prod)
    try:
        first, last = con.execute("SELECT min(hired_on), max(hired_on) FROM employees").fetchone()
        opened = con.execute("SELECT min(opened_at) FROM support_tickets").fetchone()[0]
    finally:
        con.close()
    hired = profile.tables["employees"].columns["hired_on"]
    assert hired.unit == "days" and hired.values is not None
    epoch = pd.Timestamp("1970-01-01")
    assert (hired.values.min, hired.values.max) == (
        (pd.Timestamp(first) - epoch).days,
        (pd.Timestamp(last) - epoch).days,
    )
    tickets = profile.tables["support_tickets"].columns["opened_at"]
    assert tickets.unit == "seconds" and tickets.values is not None
    assert tickets.values.min == (pd.Timestamp(opened) - epoch).total_seconds()


def test_when_categories_are_rare_then_they_are_suppressed(tmp_path: Path) -> None:
    db = tmp_path / "rare.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, tier TEXT NOT NULL)")
    con.executemany(
        "INSERT INTO t (tier) VALUES (?)", [("gold",)] * 50 + [("silver",)] * 30 + [("secret",)] * 3
    )
    con.commit()
    con.close()
    rules = RulesFile.from_dict({"version": 1, "tables": {"t": {"columns": {"id": "keep", "tier": "keep"}}}})
    tier = build_profile(str(db), rules).tables["t"].columns["tier"]
    assert tier.categories == pytest.approx({"gold": 50 / 83, "silver": 30 / 83})
    assert tier.suppressed_fraction == pytest.approx(3 / 83)
    assert "secret" not in build_profile(str(db), rules).to_json()
    assert MIN_GROUP == 10


# --- synth from the profile -------------------------------------------------------------------------


def test_when_synthesised_from_a_profile_then_every_constraint_holds(
    synthesised: tuple[Path, SynthReport],
) -> None:
    dev, report = synthesised
    with open_source(resolve(str(dev))) as src:
        schema = src.schema
    con = sqlite3.connect(dev)
    assert violations(con, schema) == []
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert report.rows["orders"] == SIZE.orders  # counts follow the profile


def test_when_synthesised_from_a_profile_then_distributions_stay_within_tolerance(
    synthesised: tuple[Path, SynthReport], profile: Profile
) -> None:
    dev, report = synthesised
    assert report.fidelity is not None
    off = [c for c in report.fidelity.columns if not c.ok]
    assert off == []
    con = sqlite3.connect(dev)
    orders = pd.read_sql("SELECT status, total, handled_by FROM orders", con)
    prof = profile.tables["orders"].columns
    # category frequencies: total variation distance <= 0.05
    freq = orders["status"].value_counts(normalize=True).to_dict()
    assert prof["status"].categories is not None
    assert tvd(prof["status"].categories, prof["status"].suppressed_fraction, freq, 0.0) <= 0.05
    # null fractions within 0.03
    assert abs(orders["handled_by"].isna().mean() - prof["handled_by"].null_fraction) <= 0.03
    # ranges kept and the distribution close (KS <= 0.1)
    assert prof["total"].values is not None
    assert orders["total"].min() >= prof["total"].values.min - 0.01
    assert orders["total"].max() <= prof["total"].values.max + 0.01
    q = np.quantile(orders["total"].to_numpy(dtype=float), np.linspace(0, 1, 21))
    assert ks_from_quantiles(prof["total"].values.quantiles, list(q)) <= 0.1
    # children per parent: same mean, similar shape
    fan = [f for f in report.fidelity.fanouts if f.table == "orders" and f.columns == ["customer_id"]]
    assert fan and fan[0].actual_mean == pytest.approx(fan[0].expected_mean) and fan[0].ok


def test_when_synthesised_with_a_source_then_no_real_row_or_sensitive_value_is_in_the_output(
    synthesised: tuple[Path, SynthReport], prod: Path
) -> None:
    dev, report = synthesised
    assert report.privacy is not None
    assert report.privacy.exact_matches == 0 and report.privacy.exact_match_rate == 0.0
    assert report.privacy.sensitive_values_found == 0
    # and independently of the report: identifying values never repeat a real one
    for where in (
        "customers.email",
        "customers.phone",
        "customers.ssn",
        "employees.email",
        "support_tickets.requester",
    ):
        table, column = where.split(".")
        assert _distinct(dev, table, column), where
        assert not (_distinct(dev, table, column) & _distinct(prod, table, column)), where


def test_when_the_same_seed_is_given_twice_then_the_databases_are_identical(
    prod: Path, rules: RulesFile, profile: Profile, synthesised: tuple[Path, SynthReport], tmp_path: Path
) -> None:
    again = tmp_path / "again.db"
    synthesize(str(again), schema_from=str(prod), rules=rules, profile=profile, seed=5)
    assert database_digest(again) == database_digest(synthesised[0])


def test_when_the_target_already_has_empty_tables_then_synth_reads_the_schema_from_it(
    prod: Path, tmp_path: Path
) -> None:
    target = tmp_path / "migrated.db"
    con = sqlite3.connect(target)
    con.executescript(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email VARCHAR(60) NOT NULL UNIQUE, "
        "created_at TIMESTAMP);"
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id), "
        "amount NUMERIC(8, 2) NOT NULL, status VARCHAR(10) NOT NULL);"
    )
    con.close()
    report = synthesize(str(target), rows={"accounts": 50, "invoices": 200}, seed=1)
    con = sqlite3.connect(target)
    assert (
        con.execute("SELECT count(*) FROM invoices i JOIN accounts a ON a.id = i.account_id").fetchone()[0]
        == 200
    )
    assert report.rows == {"accounts": 50, "invoices": 200}


# --- the command line -------------------------------------------------------------------------------


def test_when_profile_and_synth_run_from_the_cli_then_files_and_figures_appear(
    prod: Path, rules: RulesFile, tmp_path: Path
) -> None:
    rules_path = tmp_path / "rules.yaml"
    rules.to_yaml(rules_path)
    runner = CliRunner()
    prof = tmp_path / "p.json"
    res = runner.invoke(app, ["profile", str(prod), "--rules", str(rules_path), "--out", str(prof)])
    assert res.exit_code == 0, res.output
    assert Profile.load(prof).tables["orders"].rows == SIZE.orders
    report = tmp_path / "r.json"
    res = runner.invoke(
        app,
        [
            "synth",
            "--rules",
            str(rules_path),
            str(tmp_path / "dev.db"),
            "--schema-from",
            str(prod),
            "--rows",
            "orders=300",
            "--scale",
            "0.5",
            "--seed",
            "3",
            "--report",
            str(report),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(report.read_text())
    assert data["rows"]["orders"] == 300 and data["rows"]["customers"] == SIZE.customers // 2
    assert data["privacy"]["exact_match_rate"] == 0.0
    assert "exact-match rate" in res.output


@pytest.mark.parametrize(
    "args",
    [
        ["--rows", "orders=many"],  # not a number
        ["--rows", "10", "--scale", "0.5"],  # two ways to say the counts
        ["--rows", "nosuchtable=5"],  # unknown table
    ],
)
def test_when_row_arguments_are_wrong_then_synth_exits_2(prod: Path, tmp_path: Path, args: list[str]) -> None:
    import sys

    from sanitize.cli import main

    argv = ["sanitize", "synth", str(tmp_path / "x.db"), "--schema-from", str(prod), *args]
    old = sys.argv
    sys.argv = argv
    try:
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        sys.argv = old
    assert exc.value.code == 2
