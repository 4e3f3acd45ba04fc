"""`sanitize.anonymize` and the errors a notebook catches, at the top level of the package."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import sanitize
import sanitize.errors
from tests.test_api import RULES


@pytest.mark.parametrize(
    "name",
    [
        "SanitizeError",  # the base of every expected failure
        "RulesError",  # a rule file or Rules object that does not validate
        "CoverageError",  # a column no rule covers
        "TargetRefusedError",  # a production (or the source) database named as target
        "LeakError",  # verify found a source value in the target
        "RiskError",  # re-identification figures below the rules' risk: limits
        "CheckFailedError",  # the integrity gate (counts, keys, unique) said no
        "ConnectionFailed",  # the database could not be reached
        "DumpError",  # a dump file that cannot be read
    ],
)
def test_when_a_notebook_catches_an_error_then_it_is_named_at_the_top_level(name: str) -> None:
    assert getattr(sanitize, name) is getattr(sanitize.errors, name)
    assert name in sanitize.__all__


def test_when_sanitize_anonymize_runs_on_a_connection_then_the_target_is_loaded_and_it_stays_open(
    tmp_path: Path,
) -> None:
    prod = sanitize.build_demo_database(tmp_path / "prod.db")
    dev = tmp_path / "dev.db"
    with sanitize.connect(prod) as db:
        report = sanitize.anonymize(sanitize.Rules.from_dict(RULES), db, dev)
        assert len(db.sample("customers", 3)) == 3  # the caller's connection is still open
    assert report.status == "ok" and report.published
    con = sqlite3.connect(dev)
    con.execute("ATTACH ? AS prod", (str(prod),))
    copied, in_prod = con.execute(
        "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM prod.customers)"
    ).fetchone()
    (same_email,) = con.execute(
        "SELECT count(*) FROM customers c JOIN prod.customers p ON c.email = p.email"
    ).fetchone()
    con.close()
    assert copied == in_prod == {t.table: t.rows for t in report.tables}["customers"] > 0
    assert same_email == 0  # e-mails were faked, as the rules say


def test_when_sanitize_anonymize_meets_an_uncovered_column_then_a_notebook_catches_coverage_error(
    tmp_path: Path,
) -> None:
    prod = sanitize.build_demo_database(tmp_path / "prod.db")
    rules = dict(RULES, tables={k: v for k, v in RULES["tables"].items() if k != "orders"})
    with pytest.raises(sanitize.CoverageError, match="orders"):
        sanitize.anonymize(sanitize.Rules.from_dict(rules), str(prod), tmp_path / "dev.db")
    assert not (tmp_path / "dev.db").exists()
