"""Column names of direct identifiers in several languages, and drafts that fit: short texts carrying
exact identifiers are scrubbed, schema-only scans follow the column's SQL type (an `inet` address is an
IP, a `varchar[]` of e-mails is not one e-mail), ids made of a row's names are recognised, event dates
are not birth dates, and a drafted rules file never repeats a key."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import yaml
from faker import Faker

from sanitize.db import open_source, resolve
from sanitize.detect.draft import draft_rules, rule_for
from sanitize.detect.names import match_column_name
from sanitize.detect.scan import ColumnClassifier, ScanReport, scan_frame, scan_source
from sanitize.schema import Column, Table


@pytest.mark.parametrize(
    ("column", "col_kind", "table", "kind"),
    [
        ("namelast", "text", "people", "last_name"),
        ("name_last", "text", "people", "last_name"),
        ("surname", "text", "x", "last_name"),
        ("lastname", "text", "x", "last_name"),
        ("Nachname", "text", "x", "last_name"),
        ("apellido", "text", "x", "last_name"),
        ("cognome", "text", "x", "last_name"),
        ("nom_famille", "text", "x", "last_name"),
        ("sobrenome", "text", "x", "last_name"),
        ("achternaam", "text", "x", "last_name"),
        ("фамилия", "text", "x", "last_name"),
        ("nameFirst", "text", "x", "first_name"),
        ("namegiven", "text", "x", "first_name"),
        ("birth_year", "integer", "x", "birth_year"),
        ("anno_nascita", "integer", "x", "birth_year"),
        ("birthday", "integer", "x", "birth_part"),  # a day of the month
        ("birthday", "date", "x", "date_of_birth"),
        ("birth_day", "integer", "x", "birth_part"),
        ("birth_country", "text", "x", "birth_place"),
        ("deathcity", "text", "x", "birth_place"),
        ("lugar_nacimiento", "text", "x", "birth_place"),
        ("geburtsort", "text", "x", "birth_place"),
        ("pass_crypt", "text", "users", "secret"),
        ("crypted_password", "text", "users", "secret"),
        ("password_hash", "text", "users", "secret"),
        ("salt", "text", "users", "secret"),
        ("api_key", "text", "x", "secret"),
        ("reset_password_token", "text", "users", "secret"),
        ("vat_number", "text", "x", "national_id"),
        ("ust_idnr", "text", "x", "national_id"),
        ("siret", "text", "x", "national_id"),
        ("codice_fiscale", "text", "x", "national_id"),
        ("gst_number", "text", "x", "national_id"),
        ("device_id", "text", "x", "device_id"),
        ("geraete_id", "text", "x", "device_id"),
        ("id_dispositivo", "text", "x", "device_id"),
        ("kennwort", "text", "benutzer", "secret"),
        ("senha", "text", "usuarios", "secret"),
        ("inhalt", "text", "nachrichten", "free_text"),
        ("contenido", "text", "mensajes", "free_text"),
        ("testo", "text", "commenti", "free_text"),
        ("latitudine", "float", "utenti", "geo"),
        ("gaid", "text", "x", "device_id"),
        ("stripe_customer_id", "text", "x", "provider_id"),
        ("braintree_customer_id", "text", "x", "provider_id"),
        ("paypal_payer_id", "text", "x", "provider_id"),
        ("provider_customer_id", "text", "payment_provider_customers", "provider_id"),  # Lago
        ("auth_uid", "text", "users", "provider_id"),  # an OAuth provider's id of the person
        ("webhook_body", "text", "x", "payload"),
        ("event_data", "json", "x", "payload"),
        ("home_lon", "float", "x", "geo"),
        ("content", "text", "comments", "free_text"),
        ("text", "text", "notes", "free_text"),
        # not PII
        ("lastname_updated_at", "datetime", "users", None),
        ("password_changed_at", "datetime", "users", None),
        ("token_count", "integer", "users", None),
        ("year_built", "integer", "buildings", None),
        ("lat", "float", "shops", None),
        ("body", "text", "pages", None),
        ("payload", "text", "jobs", None),
    ],
)
def test_when_a_column_name_is_read_then_it_suggests_the_identifier_kind(
    column: str, col_kind: str, table: str, kind: str | None
) -> None:
    hint = match_column_name(column, col_kind, table)
    assert (hint.kind if hint else None) == kind


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        ([f"call 415-555-01{i:02d}" for i in range(20)], "scrub"),  # every value: two words and a phone
        ([f"call 415-555-01{i:02d}" if i % 4 == 0 else "no answer" for i in range(40)], "scrub"),  # a quarter
        ([f"mail j{i}@corp.com" for i in range(20)], "scrub"),
        ([f"415-555-01{i:02d}" for i in range(20)], {"strategy": "fake", "kind": "phone", "domain": "phone"}),
        (["call back", "no answer", "left voicemail"] * 10, "keep"),
    ],
    ids=["phones-in-every-text", "phones-in-a-quarter", "emails-in-short-texts", "whole-phones", "no-pii"],
)
def test_when_short_texts_carry_exact_identifiers_then_the_column_is_scrubbed(
    values: list[str], rule: object
) -> None:
    col = scan_frame(pd.DataFrame({"memo": values}), "calls", classifier=ColumnClassifier()).columns[0]
    assert rule_for(col) == rule, col.evidence.describe()


def test_when_the_draft_scrubs_short_texts_then_no_source_phone_reaches_the_target(tmp_path: Path) -> None:
    from sanitize.pipeline import anonymize
    from sanitize.rules import load_rules

    source, target = tmp_path / "src.db", tmp_path / "dst.db"
    con = sqlite3.connect(source)
    con.execute("CREATE TABLE calls (id INTEGER PRIMARY KEY, memo TEXT)")
    phones = [f"415-555-{1000 + 37 * i}" for i in range(30)]
    con.executemany("INSERT INTO calls VALUES (?, ?)", [(i, f"call {p}") for i, p in enumerate(phones)])
    con.commit()
    con.close()
    with open_source(resolve(str(source))) as src:
        (tmp_path / "rules.yaml").write_text(draft_rules(scan_source(src, sample=30)))
    anonymize(load_rules(tmp_path / "rules.yaml"), str(source), str(target))
    out = [r[0] for r in sqlite3.connect(target).execute("SELECT memo FROM calls")]
    assert len(out) == 30 and not [p for p in phones if any(p in text for text in out)]


# --- schema-only scans (no rows): the column's type decides what its name can mean -------------------

TYPED_SCHEMA = """
CREATE TABLE users (
    id serial PRIMARY KEY,
    email varchar(200),
    current_sign_in_address inet,
    last_sign_in_ip inet,
    emails varchar(200)[],
    phone_numbers text[] NOT NULL DEFAULT '{}',
    contact_emails jsonb,
    backup_emails jsonb NOT NULL DEFAULT '[]',
    home_address text,
    device_mac macaddr
);
"""


def test_when_a_schema_without_rows_is_scanned_then_drafts_fit_each_column_type(
    pg_url: str, tmp_path: Path
) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(pg_url)
    with engine.begin() as con:
        con.exec_driver_sql(TYPED_SCHEMA)
    engine.dispose()
    with open_source(resolve(pg_url)) as src:
        report = scan_source(src, sample=10)
    rules = {c.column: rule_for(c) for c in report.columns()}
    assert rules["current_sign_in_address"] == {"strategy": "fake", "kind": "ipv4", "domain": "ip"}
    assert rules["last_sign_in_ip"] == {"strategy": "fake", "kind": "ipv4", "domain": "ip"}
    assert rules["device_mac"] == {"strategy": "hash", "domain": "device"}
    assert rules["emails"] == "nullify"  # a list of e-mails: a scalar fake would not load
    assert rules["phone_numbers"] == {"strategy": "redact", "value": "{}"}  # NOT NULL: an empty array
    assert rules["contact_emails"] == "nullify"
    assert rules["backup_emails"] == {"strategy": "redact", "value": "[]"}
    assert rules["home_address"] == {"strategy": "fake", "kind": "address"}  # text: a street address
    assert rules["email"] == {"strategy": "fake", "kind": "email", "domain": "email"}
    # and the drafted rules load rows of those types: anonymize rows inserted after the scan
    from sanitize.pipeline import anonymize
    from sanitize.rules import parse_rules

    engine = sa.create_engine(pg_url)
    with engine.begin() as con:
        con.exec_driver_sql(
            "INSERT INTO users (email, current_sign_in_address, last_sign_in_ip, emails, phone_numbers, "
            "contact_emails, backup_emails, home_address, device_mac) VALUES ('a@corp.com', '10.1.2.3', "
            "'2001:db8::1', ARRAY['a@corp.com','b@corp.com'], ARRAY['+1 415 555 0100'], "
            "'[\"a@corp.com\"]', '[\"b@corp.com\"]', '1 Main St', '08:00:2b:01:02:03')"
        )
    engine.dispose()
    drafted = parse_rules(yaml.safe_load(draft_rules(report)))
    out = tmp_path / "dev.db"
    anonymize(drafted, pg_url, str(out))
    row = (
        sqlite3.connect(out)
        .execute("SELECT emails, phone_numbers, contact_emails, backup_emails FROM users")
        .fetchone()
    )
    assert row[0] is None and row[2] is None
    assert "415" not in str(row[1]) and "b@corp.com" not in str(row[3])


@pytest.mark.postgres
def test_when_an_array_column_holds_emails_then_scan_removes_it_whatever_its_name(
    pg_url: str, tmp_path: Path
) -> None:
    """Found on a real billing schema: `bcc_emails varchar[]` with rows was drafted `keep` (its
    `{a@b.com,...}` text was taken for JSON that did not parse) and verify then found the e-mails."""
    import sqlalchemy as sa

    from sanitize.pipeline import anonymize
    from sanitize.rules import parse_rules
    from sanitize.verify import verify_databases

    engine = sa.create_engine(pg_url)
    with engine.begin() as con:
        con.exec_driver_sql(
            "CREATE TABLE campaigns (id int PRIMARY KEY, bcc varchar[], cc varchar[] NOT NULL, tags text[]);"
            + "".join(
                f"INSERT INTO campaigns VALUES ({i}, ARRAY['ann{i}@corp.com', 'bo b{i}@corp.com'], "
                f"ARRAY['x{i}@corp.com'], ARRAY['spring', 'sale {i % 3}']);"
                for i in range(30)
            )
        )
    engine.dispose()
    with open_source(resolve(pg_url)) as src:
        report = scan_source(src, sample=30)
    rules = {c.column: rule_for(c) for c in report.columns()}
    assert rules["bcc"] == "nullify"
    assert rules["cc"] == {"strategy": "redact", "value": "{}"}  # NOT NULL: an empty array
    assert rules["tags"] == "keep"
    drafted = parse_rules(yaml.safe_load(draft_rules(report)))
    out = tmp_path / "dev.db"
    anonymize(drafted, pg_url, str(out))
    assert verify_databases(drafted, pg_url, str(out)).leak_total == 0


# --- drafted rules never repeat a key -------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a mapping with a key twice (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        dupes = {k for k in keys if keys.count(k) > 1}
        assert not dupes, f"duplicate YAML keys {dupes} at line {node.start_mark.line + 1}"
        return super().construct_mapping(node, deep=deep)


def test_when_column_names_hold_line_separators_then_each_drafted_key_reads_back_exactly(
    tmp_path: Path,
) -> None:
    names = ["a b", "a\u2028b", "x\x85y", "x y", "tab\there", "e\U0001f600", "on", "1"]
    path = tmp_path / "odd.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (" + ", ".join(f'"{n}" TEXT' for n in names) + ")")
    con.commit()
    con.close()
    with open_source(resolve(str(path))) as src:
        text = draft_rules(scan_source(src, sample=5))
    doc = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    assert list(doc["tables"]["t"]["columns"]) == names


def test_when_a_scan_lists_a_column_twice_or_in_two_cases_on_mysql_then_the_draft_names_it_once() -> None:
    from sanitize.detect.results import ColumnScan, Evidence, TableScan

    def col(name: str, kind: str | None) -> ColumnScan:
        return ColumnScan("users", name, kind, 0.9 if kind else 0.0, Evidence(sampled=3))

    table = TableScan(
        "users", 3, [col("id", None), col("Email", None), col("email", "email"), col("id", None)]
    )
    for dialect, expected in (("mysql", ["id", "email"]), ("postgresql", ["id", "Email", "email"])):
        report = ScanReport([table, table], dialect=dialect)
        doc = yaml.load(draft_rules(report), Loader=_UniqueKeyLoader)  # noqa: S506
        columns = doc["tables"]["users"]["columns"]
        assert list(columns) == expected
        assert columns["email"]["kind"] == "email"  # the stricter rule of the two wins


def test_when_a_date_column_is_named_for_an_event_then_old_dates_are_not_taken_for_birth_dates() -> None:
    fake = Faker("en_US")
    fake.seed_instance(2)
    dates = [fake.date_between("-120y", "-20y") for _ in range(60)]
    clf = ColumnClassifier()
    for name, kind in (("debut", None), ("final_game", None), ("c7", "date_of_birth")):
        table = Table("people", "people", columns=(Column(name, "date"),))
        col = scan_frame(pd.DataFrame({name: dates}), table, classifier=clf).columns[0]
        assert col.kind == kind, (name, col.evidence.describe())


def test_when_ids_are_made_of_the_rows_own_names_then_they_are_person_refs_whatever_the_name_lists() -> None:
    # names no Faker list holds: the id is recognised from the row's own surname and given name
    people = [
        ("Okafor", "Zoe"),
        ("Nwachukwu", "Chidi"),
        ("Adebayo", "Tunde"),
        ("Oyelaran", "Folake"),
        ("Quispe", "Illari"),
        ("Mamani", "Amaru"),
        ("Tjarkovski", "Ljuba"),
        ("Xolani", "Thandeka"),
        ("Bheki", "Sipho"),
        ("Uchenna", "Ifeoma"),
    ]
    frame = pd.DataFrame(
        {
            "nameLast": [last for last, _ in people],
            "nameFirst": [first for _, first in people],
            "ref": [f"{last.lower()[:5]}{first.lower()[:2]}01" for last, first in people],
            "team": [f"tm{i:02d}" for i in range(len(people))],
        }
    )
    cols = {c.column: c for c in scan_frame(frame, "roster", classifier=ColumnClassifier()).columns}
    assert cols["ref"].kind == "person_ref", cols["ref"].evidence.describe()
    assert "made of the row's nameLast and nameFirst" in cols["ref"].evidence.describe()
    assert cols["team"].kind is None


def test_when_a_schema_only_pg_dump_is_scanned_then_types_decide_as_in_a_database(tmp_path: Path) -> None:
    dump = tmp_path / "structure.sql"
    dump.write_text(
        "--\n-- PostgreSQL database dump\n--\n"
        "CREATE TABLE public.users (\n    id bigint NOT NULL,\n"
        "    last_sign_in_address inet,\n"
        "    emails character varying[] DEFAULT '{}'::character varying[] NOT NULL,\n"
        "    contact_email jsonb,\n    home_address text\n);\n"
        "--\n-- PostgreSQL database dump complete\n--\n"
    )
    from sanitize.detect.scan import scan_database

    rules = {c.column: rule_for(c) for c in scan_database(str(dump), sample=5).columns()}
    assert rules == {
        "id": "keep",
        "last_sign_in_address": {"strategy": "fake", "kind": "ipv4", "domain": "ip"},
        "emails": {"strategy": "redact", "value": "{}"},
        "contact_email": "nullify",
        "home_address": {"strategy": "fake", "kind": "address"},
    }
