"""`scan` on DataFrames and SQLite, the draft rules it writes, drift in kept columns, and the CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import yaml
from faker import Faker
from typer.testing import CliRunner

from sanitize.cli import app
from sanitize.db import open_source, resolve
from sanitize.detect.draft import draft_rules, rule_for
from sanitize.detect.drift import find_pii_in_kept_columns, suggest_rule
from sanitize.detect.scan import ColumnClassifier, scan_frame, scan_source
from sanitize.pipeline import check
from sanitize.rules import load_rules, parse_rules
from sanitize.schema import Column, ForeignKey, Table

ROWS = 60


def _fake(seed: int = 3) -> Faker:
    f = Faker("en_US")
    f.seed_instance(seed)
    return f


@pytest.fixture(scope="module")
def clf() -> ColumnClassifier:
    return ColumnClassifier()


def _people(n: int = ROWS) -> pd.DataFrame:
    f = _fake()
    return pd.DataFrame(
        {
            "id": range(1, n + 1),
            "ref": [f.email() for _ in range(n)],  # misleading name
            "c3": [f.name() for _ in range(n)],
            "tel": [f.phone_number() for _ in range(n)],
            "status": [("active", "blocked")[i % 2] for i in range(n)],
            "price": [round(1.5 * i, 2) for i in range(n)],
            "sku": [f"SKU-{1000 + i}-X" for i in range(n)],
            "hash": [f"{i * 7919:040x}" for i in range(n)],
            "body": [
                f"Hi, {f.name()} here; mail me at {f.email()}." if i % 3 == 0 else "All fine, thanks."
                for i in range(n)
            ],
        }
    )


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("id", None),
        ("ref", "email"),  # values, not the name
        ("c3", "person"),
        ("tel", "phone"),  # values and name agree
        ("status", None),
        ("price", None),
        ("sku", None),
        ("hash", None),
        ("body", "free_text"),
    ],
)
def test_when_a_frame_is_scanned_then_each_column_gets_its_kind(
    clf: ColumnClassifier, column: str, kind: str
) -> None:
    result = scan_frame(_people(), "tickets", classifier=clf)
    col = next(c for c in result.columns if c.column == column)
    assert col.kind == kind, col.evidence.describe()


def test_when_a_column_is_classified_then_the_evidence_counts_matches_per_recognizer(
    clf: ColumnClassifier,
) -> None:
    col = next(c for c in scan_frame(_people(), "t", classifier=clf).columns if c.column == "ref")
    assert col.evidence.sampled == ROWS
    assert col.evidence.whole["EMAIL_ADDRESS"] == ROWS
    assert f"{ROWS}/{ROWS} values are EMAIL_ADDRESS" in col.evidence.describe()
    assert col.confidence >= 0.9


def test_when_only_the_name_says_pii_then_it_is_reported_with_the_name_pattern(clf: ColumnClassifier) -> None:
    frame = pd.DataFrame({"geburtsdatum": pd.to_datetime(["1980-01-02", "1975-06-30"]).date})
    col = scan_frame(
        frame, Table("t", "t", columns=(Column("geburtsdatum", "date"),)), classifier=clf
    ).columns[0]
    assert col.kind == "date_of_birth"
    assert col.evidence.name_pattern == "geburtsdatum"
    assert rule_for(col) in ("date_shift", {"strategy": "fake", "kind": "date_of_birth"})


def test_when_a_unique_column_holds_secrets_then_the_draft_hashes_it_unique_and_redacts_the_rest(
    clf: ColumnClassifier,
) -> None:
    """Session and API keys are credentials (a prod session key works against prod); as primary keys
    they must stay distinct, which redact cannot do."""
    frame = pd.DataFrame({"session_key": ["k1", "k2"], "session_data": ["eyJ1", "eyJ2"]})
    table = Table(
        "django_session",
        "django_session",
        columns=(Column("session_key", "text", nullable=False), Column("session_data", "text")),
        primary_key=("session_key",),
    )
    key, data = scan_frame(frame, table, classifier=clf).columns
    assert (key.kind, data.kind) == ("secret", "secret")
    assert rule_for(key) == {"strategy": "hash", "unique": True}
    assert rule_for(data) == "redact"


def test_when_json_documents_hold_pii_then_the_paths_are_reported_with_wildcards(
    clf: ColumnClassifier,
) -> None:
    f = _fake(5)
    docs = [
        {
            "user": {"email": f.email(), "plan": "pro"},
            "items": [{"sku": "A-1", "contact": {"phone": f.phone_number()}}, {"sku": "B-2"}],
            "matrix": [[{"owner": f.name()}]],
            "note": "nothing personal",
        }
        for _ in range(30)
    ]
    frame = pd.DataFrame({"payload": [json.dumps(d) for d in docs], "raw": docs})
    result = scan_frame(frame, "events", classifier=clf)
    for col in result.columns:  # JSON text and already-parsed documents alike
        assert col.kind == "json"
        assert {p: c.kind for p, c in col.json_paths.items()} == {
            "$.user.email": "email",
            "$.items[*].contact.phone": "phone",
            "$.matrix[*][*].owner": "person",
        }


def test_when_a_column_is_a_foreign_key_then_it_is_not_classified(clf: ColumnClassifier) -> None:
    table = Table(
        "orders",
        "orders",
        columns=(Column("id", "integer"), Column("customer_email", "text")),
        primary_key=("id",),
        foreign_keys=(ForeignKey(("customer_email",), "customers", ("email",)),),
    )
    frame = pd.DataFrame({"id": [1, 2], "customer_email": ["a@example.com", "b@example.com"]})
    col = scan_frame(frame, table, classifier=clf).columns[1]
    assert col.foreign_key == "customers.email" and col.kind is None


# --- SQLite: draft rules, check, drift, CLI ---------------------------------------------------------


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    f = _fake(11)
    path = tmp_path / "shop.db"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, full_name TEXT,
            phone TEXT, dob DATE, status TEXT, "weird col" TEXT);
        CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
            body TEXT, notes TEXT, payload TEXT, opened_at TIMESTAMP);
        """
    )
    for i in range(1, ROWS + 1):
        email = f"{f.user_name()}{i}@example.com"
        con.execute(
            "INSERT INTO customers VALUES (?,?,?,?,?,?,?)",
            (i, email, f.name(), f.phone_number(), f.date_of_birth().isoformat(), "active", "x"),
        )
        con.execute(
            "INSERT INTO tickets VALUES (?,?,?,?,?,?)",
            (
                i,
                i,
                f"Customer {f.name()} wrote from {email} about order {i}.",
                "Gift wrap please.",
                json.dumps({"user": {"email": email}, "n": i}),
                f.date_time().isoformat(" "),
            ),
        )
    con.commit()
    con.close()
    return path


def test_when_a_draft_is_written_then_it_parses_covers_every_column_and_passes_check(
    shop: Path, tmp_path: Path
) -> None:
    with open_source(resolve(str(shop))) as src:
        report = scan_source(src, sample=50)
    text = draft_rules(report, source=str(shop))
    doc = yaml.safe_load(text)
    tables = doc["tables"]
    assert set(tables["customers"]["columns"]) == {
        "id",
        "email",
        "full_name",
        "phone",
        "dob",
        "status",
        "weird col",
    }
    assert "customer_id" not in tables["tickets"]["columns"]  # inherits customers.id
    assert "# customer_id: inherits customers.id (foreign key)" in text
    assert tables["customers"]["columns"]["email"] == {
        "strategy": "fake",
        "kind": "email",
        "unique": True,
        "domain": "email",
    }
    assert tables["customers"]["columns"]["status"] == "keep"
    assert tables["tickets"]["columns"]["body"]["strategy"] == "scrub"
    assert "# email (0.99): 50/50 values are EMAIL_ADDRESS; name matches 'email'" in text
    parse_rules(doc)  # every strategy and parameter validates
    path = tmp_path / "draft.yaml"
    path.write_text(text)
    assert check(load_rules(path), str(shop)).ok


def test_when_a_pii_column_is_added_then_check_fails_and_names_it(shop: Path, tmp_path: Path) -> None:
    with open_source(resolve(str(shop))) as src:
        path = tmp_path / "draft.yaml"
        path.write_text(draft_rules(scan_source(src, sample=50)))
    con = sqlite3.connect(shop)
    con.execute("ALTER TABLE customers ADD COLUMN backup_email TEXT")
    con.execute("UPDATE customers SET backup_email = 'x' || id || '@example.org'")
    con.commit()
    con.close()
    cov = check(load_rules(path), str(shop))
    assert not cov.ok
    assert any("backup_email" in u for u in cov.uncovered)


def test_when_a_kept_column_starts_holding_pii_then_drift_finds_it_with_evidence_and_a_fix(
    shop: Path,
) -> None:
    rules = parse_rules(
        {
            "version": 1,
            "tables": {
                "tickets": {"columns": {"notes": "keep", "opened_at": "keep", "body": "scrub"}},
                "customers": {"columns": {"status": "keep"}},
            },
        }
    )
    with open_source(resolve(str(shop))) as src:
        assert find_pii_in_kept_columns(src, rules, sample=50) == []
    con = sqlite3.connect(shop)
    con.execute("UPDATE tickets SET notes = 'reach me at n' || id || '@example.net' WHERE id % 4 = 0")
    con.commit()
    con.close()
    with open_source(resolve(str(shop))) as src:
        findings = find_pii_in_kept_columns(src, rules, sample=50)
    assert [(f.table, f.column, f.kind) for f in findings] == [("tickets", "notes", "free_text")]
    assert "EMAIL_ADDRESS" in findings[0].evidence
    line = suggest_rule(findings[0])
    assert line.startswith("notes: scrub  # under tables.tickets.columns;")
    fixed = yaml.safe_load(line.split("  #")[0])
    parse_rules({"version": 1, "tables": {"tickets": {"columns": fixed}}})


def test_when_unknown_columns_are_kept_by_default_then_drift_checks_them_too(shop: Path) -> None:
    # no rule names tickets.notes; `unknown_columns: keep` copies it, so it must be checked like `keep`
    rules = parse_rules({"version": 1, "unknown_columns": "keep", "tables": {"tickets": {"columns": {}}}})
    con = sqlite3.connect(shop)
    con.execute("UPDATE tickets SET notes = 'reach me at n' || id || '@example.net' WHERE id % 4 = 0")
    con.commit()
    con.close()
    with open_source(resolve(str(shop))) as src:
        findings = find_pii_in_kept_columns(src, rules, sample=50)
    assert ("tickets", "notes") in [(f.table, f.column) for f in findings]


def test_when_frames_are_given_instead_of_a_source_then_drift_works_the_same() -> None:
    rules = parse_rules(
        {"version": 1, "tables": {"t": {"columns": {"c": "keep", "d": "keep"}}}, "locale": "en_US"}
    )
    frames = {"t": pd.DataFrame({"c": [f"user{i}@example.com" for i in range(20)], "d": range(20)})}
    findings = find_pii_in_kept_columns(frames, rules)
    assert [(f.column, f.kind) for f in findings] == [("c", "email")]
    assert suggest_rule(findings[0]).startswith("c: {strategy: fake, kind: email, domain: email}")


def test_when_scan_runs_from_the_cli_then_json_and_the_draft_file_are_written(
    shop: Path, tmp_path: Path
) -> None:
    out = tmp_path / "rules.yaml"
    res = CliRunner().invoke(app, ["scan", str(shop), "--sample", "40", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    kinds = {(c["table"], c["column"]): c["kind"] for t in report["tables"] for c in t["columns"]}
    assert kinds[("customers", "email")] == "email"
    assert kinds[("tickets", "payload")] == "json"
    assert kinds[("customers", "status")] is None
    assert yaml.safe_load(out.read_text())["version"] == 1


def test_when_scan_runs_on_a_terminal_then_a_table_is_printed(shop: Path) -> None:
    res = CliRunner().invoke(app, ["scan", str(shop), "--sample", "20"])
    assert res.exit_code == 0, res.output
    assert "email" in res.output and "PII column(s)" in res.output


def test_when_the_draft_is_used_to_anonymize_then_no_planted_email_is_left_and_pseudonyms_agree(
    shop: Path, tmp_path: Path
) -> None:
    from sanitize.pipeline import anonymize

    rules = tmp_path / "draft.yaml"
    with open_source(resolve(str(shop))) as src:
        rules.write_text(draft_rules(scan_source(src, sample=ROWS)))
    target = tmp_path / "dev.db"
    anonymize(load_rules(rules), str(shop), str(target))
    con_src, con_dst = sqlite3.connect(shop), sqlite3.connect(target)
    originals = [r[0] for r in con_src.execute("SELECT email FROM customers ORDER BY id")]
    fakes = [r[0] for r in con_dst.execute("SELECT email FROM customers ORDER BY id")]
    bodies = [r[0] for r in con_dst.execute("SELECT body FROM tickets ORDER BY id")]
    payloads = [json.loads(r[0]) for r in con_dst.execute("SELECT payload FROM tickets ORDER BY id")]
    dump = "\n".join(fakes + bodies + [json.dumps(p) for p in payloads])
    assert not [e for e in originals if e in dump]
    for fake, body, payload in zip(fakes, bodies, payloads, strict=True):
        assert fake in body  # the e-mail inside the ticket got the column's pseudonym
        assert payload["user"]["email"] == fake  # and so did the one inside the JSON document


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([_fake(i).date_of_birth(minimum_age=18, maximum_age=90) for i in range(40)], "date_of_birth"),
        ([_fake(i).date_this_decade() for i in range(40)], None),  # recent dates: orders, hires
        ([_fake(i).date_of_birth() for i in range(5)], None),  # too few values to tell
    ],
    ids=["birth-dates", "recent-dates", "few-values"],
)
def test_when_a_meaningless_date_column_is_scanned_then_only_birth_like_dates_count(
    clf: ColumnClassifier, values: list[object], kind: str | None
) -> None:
    table = Table("t", "t", columns=(Column("c7", "date"),))
    col = scan_frame(pd.DataFrame({"c7": values}), table, classifier=clf).columns[0]
    assert col.kind == kind, col.evidence.describe()


def test_when_a_kept_short_text_column_carries_a_few_emails_then_drift_flags_it() -> None:
    # too few and too short for scan to call the column PII, but a kept column must not carry them
    subjects = ["Refund", "Order missing", "Update details"] * 30 + ["mail me: a1@corp.com", "x b2@corp.com"]
    rules = parse_rules({"version": 1, "tables": {"t": {"columns": {"subject": "keep"}}}})
    findings = find_pii_in_kept_columns({"t": pd.DataFrame({"subject": subjects})}, rules)
    assert [(f.column, f.kind) for f in findings] == [("subject", "free_text")]
    assert "EMAIL_ADDRESS" in findings[0].evidence
    one = {"t": pd.DataFrame({"subject": subjects[:-1]})}  # a single hit is not enough evidence
    assert find_pii_in_kept_columns(one, rules) == []


def test_when_a_column_is_generated_then_the_draft_says_the_same_engine_computes_it_again(
    clf: ColumnClassifier,
) -> None:
    frame = pd.DataFrame({"first": ["Ann"], "full": ["Ann Lee"]})
    table = Table(
        "people",
        "people",
        columns=(Column("first", "text"), Column("full", "text", generated="first || ' ' || last")),
    )
    first, full = scan_frame(frame, table, classifier=clf).columns
    assert "generated" not in first.evidence.describe()
    assert "generated from (first || ' ' || last): a target of the same engine computes it again" in (
        full.evidence.describe()
    )
