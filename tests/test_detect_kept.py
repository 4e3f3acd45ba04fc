"""`check` and the pre-publish gate on kept columns: kept direct identifiers are "kept PII" (blocking);
a name alone, or values that merely collide with name lists, is a warning; a `keep` with a recorded
`reason` is reported as reviewed, unless its values hold exact identifiers (emails, phones, ...)."""

from __future__ import annotations

import random
import sqlite3
import string
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from faker import Faker
from typer.testing import CliRunner

from sanitize.api import check
from sanitize.cli import app
from sanitize.db import open_source, resolve
from sanitize.detect.drift import find_pii_in_kept_columns
from sanitize.errors import RulesError
from sanitize.rules import RulesFile, parse_rules
from sanitize.verify.detector import run_detector
from sanitize.verify.results import VerifyOptions, VerifyResult
from sanitize.verify.roles import Roles

ROWS = 60
# US towns that are also surnames: a `city` column of them is a city column
TOWNS = (
    "Washington",
    "Lincoln",
    "Jackson",
    "Franklin",
    "Madison",
    "Clinton",
    "Houston",
    "Austin",
    "Dallas",
    "Jefferson",
    "Hamilton",
    "Chester",
    "Lancaster",
    "Marion",
    "Milton",
    "Newton",
    "Warren",
    "Tyler",
    "Camden",
    "Clayton",
    "Dayton",
    "Lawrence",
    "Mitchell",
    "Preston",
    "Carson",
    "Kent",
    "Irving",
    "Monroe",
    "Harrison",
    "Wilson",
)


COLUMNS = {
    "people": ("playerID", "birthYear", "nameLast", "weight"),
    "users": (
        "id",
        "encrypted_password",
        "home_lat",
        "stripe_customer_id",
        "vat_id",
        "user_agent",
        "city",
        "contact",
        "email_copy",
        "date_of_birth",
        "hired_on",
    ),
}


def _rules(kept: dict[str, object]) -> RulesFile:
    """Rules covering every column: `kept` ("table.column" -> keep rule), the rest redacted."""
    tables = {
        t: {"columns": {c: kept.get(f"{t}.{c}", "redact") for c in cols}} for t, cols in COLUMNS.items()
    }
    return parse_rules({"version": 1, "tables": tables})


@pytest.fixture
def app_db(tmp_path: Path) -> Path:
    f = Faker("en_US")
    f.seed_instance(4)
    rng = random.Random(4)
    path = tmp_path / "app.db"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE people (playerID TEXT PRIMARY KEY, birthYear INTEGER, nameLast TEXT, weight INTEGER);
        CREATE TABLE users (id INTEGER PRIMARY KEY, encrypted_password TEXT, home_lat REAL,
            stripe_customer_id TEXT, vat_id TEXT, user_agent TEXT, city TEXT, contact TEXT, email_copy TEXT,
            date_of_birth DATE, hired_on DATE);
        """
    )
    for i in range(ROWS):
        first, last = f.first_name(), f.last_name()
        letters = "".join(c for c in last.lower() if c.isalpha())[:5] + first.lower()[:2]
        con.execute(
            "INSERT INTO people VALUES (?,?,?,?)",
            (f"{letters}{i % 3 + 1:02d}", rng.randint(1900, 2000), last, rng.randint(150, 250)),
        )
        con.execute(
            "INSERT INTO users VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                i,
                "$2b$12$" + "".join(rng.choice(string.ascii_letters + "./") for _ in range(53)),
                float(f.latitude()),
                "cus_" + "".join(rng.choice(string.ascii_letters) for _ in range(14)),
                f"DE{rng.randint(10**8, 10**9 - 1)}",
                f.user_agent(),
                rng.choice(TOWNS),
                f"call {rng.randint(200, 999)}-555-{rng.randint(1000, 9999)}",
                f.email(),
                f.date_of_birth(minimum_age=18, maximum_age=90).isoformat(),
                f.date_between("-40y", "-1y").isoformat(),
            ),
        )
    con.commit()
    con.close()
    return path


KEPT_PII = [
    ("people", "playerID"),
    ("people", "birthYear"),
    ("people", "nameLast"),
    ("users", "encrypted_password"),
    ("users", "home_lat"),
    ("users", "stripe_customer_id"),
    ("users", "vat_id"),
    ("users", "user_agent"),
    ("users", "contact"),  # phone numbers in two-word texts
    ("users", "date_of_birth"),  # the values are spread like birth dates
]


def test_when_direct_identifiers_are_kept_then_check_fails_and_calls_each_kept_pii(app_db: Path) -> None:
    rules = _rules({f"{t}.{c}": "keep" for t, c in [*KEPT_PII, ("people", "weight"), ("users", "hired_on")]})
    result = check(rules, str(app_db), sample=ROWS)
    flagged = result.findings[result.findings["problem"] == "looks_like_pii"]
    found = set(zip(flagged["table"], flagged["column"], strict=True))
    assert set(KEPT_PII) <= found, set(KEPT_PII) - found
    assert ("people", "weight") not in found and ("users", "hired_on") not in found
    assert not result.ok
    assert all(": kept PII (" in d for d in flagged["detail"])
    res = CliRunner().invoke(app, ["check", str(app_db), "--rules", _write(app_db.parent, rules)])
    assert res.exit_code == 1
    assert "users.encrypted_password: kept unchanged but looks like secret: kept PII" in res.output


def _write(folder: Path, rules: RulesFile) -> str:
    path = folder / "rules.yaml"
    path.write_text(rules.to_yaml())
    return str(path)


def test_when_a_kept_city_only_collides_with_surname_lists_then_it_is_a_warning_not_a_failure(
    app_db: Path,
) -> None:
    rules = _rules({"users.city": "keep"})
    result = check(rules, str(app_db), sample=ROWS)
    assert result.ok, result.problems()
    assert list(result.findings["problem"]) == ["pii_warning"]
    assert "do not confirm it" in result.warnings()[0]
    with open_source(resolve(str(app_db))) as src:
        assert find_pii_in_kept_columns(src, rules, ROWS) == []  # what a gate stops on
        (warning,) = find_pii_in_kept_columns(src, rules, ROWS, warnings=True)
    assert warning.severity == "warning" and not warning.blocking


def test_when_a_keep_records_a_reason_then_check_reports_it_as_reviewed(app_db: Path) -> None:
    rules = _rules(
        {
            "users.city": {"strategy": "keep", "reason": "not identifying alone"},
            "users.vat_id": {"strategy": "keep", "reason": "company VAT ids, public"},
        }
    )
    result = check(rules, str(app_db), sample=ROWS)
    assert result.ok, result.problems()
    details = dict(zip(result.findings["column"], result.findings["detail"], strict=True))
    assert details["city"].startswith("kept (reviewed: not identifying alone)")
    assert details["vat_id"].startswith("kept (reviewed: company VAT ids, public)")
    assert set(result.findings["problem"]) == {"kept_reviewed"}


@pytest.mark.parametrize("column", ["email_copy", "contact"], ids=["emails", "phones-in-most-values"])
def test_when_a_reviewed_keep_holds_exact_identifiers_then_it_still_fails(app_db: Path, column: str) -> None:
    rules = _rules({f"users.{column}": {"strategy": "keep", "reason": "fine"}})
    result = check(rules, str(app_db), sample=ROWS)
    assert not result.ok
    assert list(result.findings["problem"]) == ["looks_like_pii"]


def test_when_the_pre_publish_detector_sees_a_name_only_kept_city_then_it_passes(app_db: Path) -> None:
    treatments = {"users": {"city": "keep"}, "people": {}}
    result = VerifyResult()
    with open_source(resolve(str(app_db))) as target:
        narrowed = SimpleNamespace(schema=_only(target.schema, "users", "city"), sample=target.sample)
        run_detector(narrowed, treatments, VerifyOptions(), result, Roles())  # type: ignore[arg-type]
    assert result.ok, result.leaks
    assert [c.ok for c in result.checks if c.name == "detector on kept columns"] == [True]


def _only(schema: object, table: str, column: str) -> object:
    from dataclasses import replace

    from sanitize.schema import Schema

    t = schema[table]  # type: ignore[index]
    return Schema({table: replace(t, columns=tuple(c for c in t.columns if c.name == column))})


def test_when_keep_is_given_a_reason_then_it_validates_and_round_trips() -> None:
    rules = parse_rules(
        {"version": 1, "tables": {"t": {"columns": {"city": {"strategy": "keep", "reason": "towns only"}}}}}
    )
    assert yaml.safe_load(rules.to_yaml())["tables"]["t"]["columns"]["city"] == {
        "strategy": "keep",
        "reason": "towns only",
    }
    with pytest.raises(RulesError, match="reason"):
        parse_rules({"version": 1, "tables": {"t": {"columns": {"c": {"strategy": "keep", "reason": ""}}}}})


def test_when_phones_in_short_texts_are_kept_then_the_pre_publish_detector_stops(app_db: Path) -> None:
    result = VerifyResult()
    with open_source(resolve(str(app_db))) as target:
        narrowed = SimpleNamespace(schema=_only(target.schema, "users", "contact"), sample=target.sample)
        run_detector(narrowed, {"users": {"contact": "keep"}}, VerifyOptions(), result, Roles())  # type: ignore[arg-type]
    assert not result.ok
    assert [(leak.column, leak.kind) for leak in result.leaks] == [("contact", "detected free_text")]
