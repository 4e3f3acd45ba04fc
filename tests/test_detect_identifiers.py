"""Direct identifiers `scan` must never draft `keep`: split birth dates, name-built ids, password hashes,
home coordinates and GPS tracks, private messages, tax/VAT numbers, device ids, payment providers'
customer ids, webhook payloads — named in English, German, Italian, Spanish (and Russian), or hidden
under misleading names; and the non-PII columns next to them (a shop's `lat`, a product's `notes`)
that must stay `keep`.

Recall: PII columns whose drafted rule is not `keep`. Precision: of the columns drafted anything but
`keep`, those that are PII. Both over the non-foreign-key columns of a SQLite database built here.
"""

from __future__ import annotations

import json
import random
import sqlite3
import string
from pathlib import Path

import pandas as pd
import pytest
import yaml
from faker import Faker

from sanitize.db import open_source, resolve
from sanitize.detect.draft import draft_rules, rule_for
from sanitize.detect.scan import ColumnClassifier, ScanReport, scan_frame, scan_source
from sanitize.schema import Column, Table

ROWS = 120
B64 = string.ascii_letters + string.digits + "./"

# (table, column) -> why it is PII. Every other non-foreign-key column holds none.
PII: dict[tuple[str, str], str] = {
    ("people", "playerID"): "name-built id",
    ("people", "birthYear"): "birth year",
    ("people", "birthMonth"): "birth month",
    ("people", "birthDay"): "birth day",
    ("people", "birthCountry"): "birth place",
    ("people", "birthState"): "birth place",
    ("people", "birthCity"): "birth place",
    ("people", "deathYear"): "death year",
    ("people", "deathCity"): "death place",
    ("people", "nameFirst"): "given name",
    ("people", "nameLast"): "surname",
    ("people", "nameGiven"): "given names",
    ("people", "retroID"): "name-built id",
    ("people", "bbrefID"): "name-built id",
    ("batting", "playerID"): "name-built id (repeated per season, no foreign key)",
    ("users", "email"): "email",
    ("users", "encrypted_password"): "bcrypt",
    ("users", "pass_salt"): "salt",
    ("users", "reset_password_token"): "token",
    ("users", "confirmation_token"): "token",
    ("users", "home_lat"): "home coordinates",
    ("users", "home_lon"): "home coordinates",
    ("users", "stripe_customer_id"): "provider customer id",
    ("users", "tax_identification_number"): "tax number",
    ("users", "vat_id"): "VAT id",
    ("users", "legal_number"): "legal number",
    ("users", "user_agent"): "device fingerprint",
    ("users", "push_token"): "device token",
    ("users", "otp"): "one-time password secret",
    ("diary_entries", "body"): "private writing",
    ("diary_entries", "latitude"): "where a person was",
    ("diary_entries", "longitude"): "where a person was",
    ("messages", "body"): "private message",
    ("gps_points", "latitude"): "GPS track",
    ("gps_points", "longitude"): "GPS track",
    ("devices", "device_fingerprint"): "device fingerprint",
    ("devices", "idfa"): "advertising id",
    ("webhook_events", "payload"): "webhook payload with an email",
    ("webhook_events", "raw_payload"): "webhook payload",
    ("kunden", "vorname"): "given name",
    ("kunden", "nachname"): "surname",
    ("kunden", "geburtsort"): "birth place",
    ("kunden", "geburtsjahr"): "birth year",
    ("kunden", "ust_idnr"): "VAT id",
    ("kunden", "passwort"): "bcrypt",
    ("zahlungen", "ref"): "stripe customer ids under a misleading name",
    ("utenti", "nome"): "given name",
    ("utenti", "cognome"): "surname",
    ("utenti", "codice_fiscale"): "fiscal code",
    ("utenti", "anno_nascita"): "birth year",
    ("utenti", "luogo_nascita"): "birth place",
    ("utenti", "partita_iva"): "VAT number",
    ("usuarios", "nombre"): "given name",
    ("usuarios", "apellido"): "surname",
    ("usuarios", "lugar_nacimiento"): "birth place",
    ("usuarios", "nif"): "tax number",
    ("usuarios", "contrasena"): "argon2",
    ("usuarios", "lat"): "where a user is",
    ("usuarios", "lng"): "where a user is",
    ("legacy_accounts", "code"): "sha-crypt hashes under a misleading name",
    ("leads", "note"): "phone numbers in short texts",
    ("сотрудники", "фамилия"): "surname",
    ("сотрудники", "имя"): "given name",
}


def _b64(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(B64) for _ in range(n))


def _bcrypt(rng: random.Random) -> str:
    return f"$2b$12${_b64(rng, 53)}"


def _argon2(rng: random.Random) -> str:
    plain = string.ascii_letters + string.digits + "+/"
    salt = "".join(rng.choice(plain) for _ in range(22))
    digest = "".join(rng.choice(plain) for _ in range(43))
    return f"$argon2id$v=19$m=65536,t=3,p=4${salt}${digest}"


def _name_id(first: str, last: str, seen: dict[str, int], digits: int = 2) -> str:
    letters = (
        "".join(c for c in last.lower() if c.isalpha())[:5]
        + "".join(c for c in first.lower() if c.isalpha())[:2]
    )
    seen[letters] = seen.get(letters, 0) + 1
    return f"{letters}{seen[letters]:0{digits}d}"


SCHEMA = """
CREATE TABLE people (playerID TEXT PRIMARY KEY, birthYear INTEGER, birthMonth INTEGER, birthDay INTEGER,
    birthCountry TEXT, birthState TEXT, birthCity TEXT, deathYear INTEGER, deathCity TEXT, nameFirst TEXT,
    nameLast TEXT, nameGiven TEXT, weight INTEGER, height INTEGER, bats TEXT, throws TEXT, retroID TEXT,
    bbrefID TEXT);
CREATE TABLE batting (id INTEGER PRIMARY KEY, playerID TEXT, yearID INTEGER, teamID TEXT, G INTEGER,
    AB INTEGER, H INTEGER);
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, encrypted_password TEXT, pass_salt TEXT,
    reset_password_token TEXT, confirmation_token TEXT, home_lat REAL, home_lon REAL,
    stripe_customer_id TEXT, tax_identification_number TEXT, vat_id TEXT, legal_number TEXT,
    user_agent TEXT, push_token TEXT, otp TEXT, password_changed_at TIMESTAMP, token_count INTEGER,
    sign_in_count INTEGER, locale TEXT, status TEXT, created_at TIMESTAMP);
CREATE TABLE diary_entries (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), body TEXT,
    latitude REAL, longitude REAL, language_code TEXT, created_at TIMESTAMP);
CREATE TABLE messages (id INTEGER PRIMARY KEY, from_user_id INTEGER REFERENCES users(id),
    to_user_id INTEGER REFERENCES users(id), body TEXT, sent_at TIMESTAMP, message_read BOOLEAN);
CREATE TABLE traces (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), visibility TEXT,
    size INTEGER);
CREATE TABLE gps_points (id INTEGER PRIMARY KEY, trace_id INTEGER REFERENCES traces(id), latitude INTEGER,
    longitude INTEGER, altitude REAL, tile INTEGER);
CREATE TABLE devices (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), device_fingerprint TEXT,
    idfa TEXT, os TEXT, app_version TEXT);
CREATE TABLE webhook_events (id INTEGER PRIMARY KEY, provider TEXT, payload TEXT, raw_payload TEXT,
    received_at TIMESTAMP);
CREATE TABLE kunden (id INTEGER PRIMARY KEY, vorname TEXT, nachname TEXT, geburtsort TEXT,
    geburtsjahr INTEGER, ust_idnr TEXT, passwort TEXT, kundengruppe TEXT, erstellt_am TIMESTAMP);
CREATE TABLE zahlungen (id INTEGER PRIMARY KEY, ref TEXT, betrag NUMERIC(10,2), waehrung TEXT);
CREATE TABLE utenti (id INTEGER PRIMARY KEY, nome TEXT, cognome TEXT, codice_fiscale TEXT,
    anno_nascita INTEGER, luogo_nascita TEXT, partita_iva TEXT, piano TEXT, attivo BOOLEAN);
CREATE TABLE usuarios (id INTEGER PRIMARY KEY, nombre TEXT, apellido TEXT, lugar_nacimiento TEXT, nif TEXT,
    contrasena TEXT, lat REAL, lng REAL, plan TEXT);
CREATE TABLE legacy_accounts (id INTEGER PRIMARY KEY, code TEXT, tier TEXT);
CREATE TABLE leads (id INTEGER PRIMARY KEY, note TEXT, source TEXT);
CREATE TABLE shops (id INTEGER PRIMARY KEY, name TEXT, lat REAL, lng REAL, region TEXT, opened INTEGER);
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, notes TEXT, price NUMERIC(10,2), sku TEXT);
CREATE TABLE buildings (id INTEGER PRIMARY KEY, year_built INTEGER, floors INTEGER, kind TEXT);
CREATE TABLE сотрудники (id INTEGER PRIMARY KEY, фамилия TEXT, имя TEXT, отдел TEXT);
CREATE TABLE builds (id INTEGER PRIMARY KEY, commit_hash TEXT, duration_ms INTEGER, started_at TIMESTAMP);
CREATE TABLE settings (id INTEGER PRIMARY KEY, password_min_length INTEGER, session_timeout INTEGER,
    theme TEXT);
CREATE TABLE translations (id INTEGER PRIMARY KEY, text TEXT, locale TEXT);
CREATE TABLE stores (id INTEGER PRIMARY KEY, location TEXT, latitude REAL, longitude REAL);
"""


def build_database(path: Path, rows: int = ROWS, seed: int = 5) -> None:
    en, de, it, es, ru = Faker("en_US"), Faker("de_DE"), Faker("it_IT"), Faker("es_ES"), Faker("ru_RU")
    for i, f in enumerate((en, de, it, es, ru)):
        f.seed_instance(seed + i)
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    seen: dict[str, int] = {}
    retro: dict[str, int] = {}
    for i in range(1, rows + 1):
        first, last = en.first_name(), en.last_name()
        pid = _name_id(first, last, seen)
        born = en.date_of_birth(minimum_age=20, maximum_age=120)
        dead = rng.random() < 0.4
        con.execute(
            "INSERT INTO people VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                pid,
                born.year,
                born.month,
                born.day,
                rng.choice(["USA", "D.R.", "Venezuela", "Canada", "Cuba"]),
                en.state_abbr(),
                en.city(),
                born.year + rng.randint(50, 90) if dead else None,
                en.city() if dead else None,
                first,
                last,
                f"{first} {en.first_name()}",
                rng.randint(150, 260),
                rng.randint(66, 80),
                rng.choice("RLB"),
                rng.choice("RL"),
                _name_id(first[:1], last[:4], retro, 3),
                pid,
            ),
        )
        for season in range(rng.randint(1, 4)):
            con.execute(
                "INSERT INTO batting (playerID, yearID, teamID, G, AB, H) VALUES (?,?,?,?,?,?)",
                (pid, 1990 + season, rng.choice(["NYA", "BOS", "CHN"]), rng.randint(1, 162), 300, 80),
            )
        con.execute(
            "INSERT INTO users VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                i,
                en.email(),
                _bcrypt(rng),
                _b64(rng, 16),
                en.sha1(),
                en.md5(),
                float(en.latitude()),
                float(en.longitude()),
                f"cus_{''.join(rng.choice(string.ascii_letters + string.digits) for _ in range(14))}",
                f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}",
                f"DE{rng.randint(10**8, 10**9 - 1)}",
                f"HRB {rng.randint(1000, 99999)}",
                en.user_agent(),
                en.sha256(),
                "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16)),
                en.date_time().isoformat(" "),
                rng.randint(0, 20),
                rng.randint(0, 500),
                rng.choice(["en", "de", "fr"]),
                rng.choice(["active", "blocked"]),
                en.date_time().isoformat(" "),
            ),
        )
        con.execute(
            "INSERT INTO diary_entries VALUES (?,?,?,?,?,?,?)",
            (
                i,
                i,
                en.paragraph(nb_sentences=3),
                float(en.latitude()),
                float(en.longitude()),
                rng.choice(["en", "de"]),
                en.date_time().isoformat(" "),
            ),
        )
        con.execute(
            "INSERT INTO messages VALUES (?,?,?,?,?,?)",
            (
                i,
                i,
                rng.randint(1, rows),
                rng.choice(["ok, see you", "thanks!", "on my way", "call me later", "sure thing"]),
                en.date_time().isoformat(" "),
                rng.random() < 0.5,
            ),
        )
        con.execute("INSERT INTO traces VALUES (?,?,?,?)", (i, i, "private", rng.randint(10, 900)))
        con.execute(
            "INSERT INTO gps_points VALUES (?,?,?,?,?,?)",
            (
                i,
                rng.randint(1, i),
                int(float(en.latitude()) * 10**7),
                int(float(en.longitude()) * 10**7),
                round(rng.uniform(0, 900), 1),
                rng.randint(10**6, 10**9),
            ),
        )
        con.execute(
            "INSERT INTO devices VALUES (?,?,?,?,?,?)",
            (i, i, en.sha256(), en.uuid4(), rng.choice(["ios", "android"]), f"4.{rng.randint(0, 9)}.1"),
        )
        event = {
            "id": f"evt_{rng.randint(10**9, 10**10)}",
            "data": {"object": {"customer_email": en.email(), "amount": rng.randint(100, 9000)}},
        }
        raw = {"type": rng.choice(["invoice.paid", "charge.refunded"]), "n": i}
        con.execute(
            "INSERT INTO webhook_events VALUES (?,?,?,?,?)",
            (i, "stripe", json.dumps(event), json.dumps(raw), en.date_time().isoformat(" ")),
        )
        con.execute(
            "INSERT INTO kunden VALUES (?,?,?,?,?,?,?,?,?)",
            (
                i,
                de.first_name(),
                de.last_name(),
                de.city(),
                de.date_of_birth().year,
                f"DE{rng.randint(10**8, 10**9 - 1)}",
                _bcrypt(rng),
                rng.choice(["A", "B", "C"]),
                de.date_time().isoformat(" "),
            ),
        )
        con.execute(
            "INSERT INTO zahlungen VALUES (?,?,?,?)",
            (
                i,
                f"cus_{''.join(rng.choice(string.ascii_letters + string.digits) for _ in range(14))}",
                round(rng.uniform(5, 500), 2),
                "EUR",
            ),
        )
        con.execute(
            "INSERT INTO utenti VALUES (?,?,?,?,?,?,?,?,?)",
            (
                i,
                it.first_name(),
                it.last_name(),
                it.ssn(),
                it.date_of_birth().year,
                it.city(),
                f"IT{rng.randint(10**10, 10**11 - 1)}",
                rng.choice(["base", "pro"]),
                rng.random() < 0.5,
            ),
        )
        con.execute(
            "INSERT INTO usuarios VALUES (?,?,?,?,?,?,?,?,?)",
            (
                i,
                es.first_name(),
                es.last_name(),
                es.city(),
                es.nif(),
                _argon2(rng),
                float(es.latitude()),
                float(es.longitude()),
                rng.choice(["basico", "premium"]),
            ),
        )
        con.execute(
            "INSERT INTO legacy_accounts VALUES (?,?,?)",
            (i, f"$6${_b64(rng, 16)}${_b64(rng, 86)}", rng.choice(["gold", "silver"])),
        )
        con.execute(
            "INSERT INTO leads VALUES (?,?,?)",
            (i, f"call {rng.randint(200, 999)}-555-{rng.randint(1000, 9999)}", rng.choice(["web", "fair"])),
        )
        con.execute(
            "INSERT INTO shops VALUES (?,?,?,?,?,?)",
            (
                i,
                f"{en.color_name()} {rng.choice(['Market', 'Store', 'Outlet'])}",
                float(en.latitude()),
                float(en.longitude()),
                rng.choice(["north", "south"]),
                rng.randint(1950, 2020),
            ),
        )
        con.execute(
            "INSERT INTO products VALUES (?,?,?,?,?)",
            (
                i,
                f"{en.color_name()} {rng.choice(['Chair', 'Lamp', 'Desk'])}",
                f"PRD-{rng.randint(1000, 9999)}-{rng.choice(['A', 'B'])}",
                round(rng.uniform(1, 900), 2),
                f"SKU{rng.randint(10000, 99999)}",
            ),
        )
        con.execute(
            "INSERT INTO buildings VALUES (?,?,?,?)",
            (i, rng.randint(1850, 2020), rng.randint(1, 40), rng.choice(["office", "residential"])),
        )
        con.execute(
            "INSERT INTO сотрудники VALUES (?,?,?,?)",
            (i, ru.last_name(), ru.first_name(), rng.choice(["ИТ", "Продажи", "Склад"])),
        )
        con.execute(
            "INSERT INTO builds VALUES (?,?,?,?)",
            (i, en.sha1(), rng.randint(1000, 90000), en.date_time().isoformat(" ")),
        )
        con.execute("INSERT INTO settings VALUES (?,?,?,?)", (i, 8, 3600, rng.choice(["dark", "light"])))
        con.execute(
            "INSERT INTO translations VALUES (?,?,?)",
            (i, rng.choice(["Save", "Cancel", "Add to cart", "Checkout"]), rng.choice(["en", "de"])),
        )
        con.execute(
            "INSERT INTO stores VALUES (?,?,?,?)",
            (
                i,
                rng.choice(["Mall level 2", "High street", "Airport"]),
                float(en.latitude()),
                float(en.longitude()),
            ),
        )
    con.commit()
    con.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ScanReport:
    path = tmp_path_factory.mktemp("identifiers") / "app.db"
    build_database(path)
    with open_source(resolve(str(path))) as src:
        return scan_source(src, sample=ROWS)


def measure(report: ScanReport) -> tuple[float, float, list[str], list[str]]:
    """Column recall and precision of the drafted rules (anything but `keep` counts as detected)."""
    considered = {(c.table, c.column): c for c in report.columns() if c.foreign_key is None}
    assert set(PII) <= set(considered), set(PII) - set(considered)
    drafted = {k for k, c in considered.items() if rule_for(c) != "keep"}
    hits = drafted & set(PII)
    recall = len(hits) / len(PII)
    precision = len(hits) / len(drafted) if drafted else 0.0
    misses = sorted(f"{t}.{c}: {considered[(t, c)].evidence.describe()}" for t, c in set(PII) - drafted)
    false_alarms = sorted(f"{t}.{c}: {considered[(t, c)].kind}" for t, c in drafted - set(PII))
    return recall, precision, misses, false_alarms


def test_when_an_app_database_holds_direct_identifiers_then_the_draft_keeps_none_of_them(
    report: ScanReport,
) -> None:
    recall, precision, misses, false_alarms = measure(report)
    print(f"\ncolumn recall={recall:.3f} precision={precision:.3f} ({len(PII)} PII columns)")
    assert recall >= 0.95, f"recall {recall:.3f}; drafted keep: {misses}"
    assert precision >= 0.9, f"precision {precision:.3f}; false alarms: {false_alarms}"


@pytest.mark.parametrize(
    ("table", "column", "rule"),
    [
        ("people", "birthYear", {"strategy": "generalize", "step": 10}),  # a decade, not a year
        ("people", "birthMonth", "nullify"),
        ("people", "birthCity", {"strategy": "fake", "kind": "city"}),
        ("people", "birthCountry", "nullify"),
        ("people", "playerID", {"strategy": "hash", "domain": "person_ref", "unique": True}),
        ("batting", "playerID", {"strategy": "hash", "domain": "person_ref"}),  # joins with people
        ("users", "home_lat", {"strategy": "generalize", "step": 0.01}),  # about a kilometre
        ("gps_points", "latitude", {"strategy": "generalize", "step": 100000}),  # degrees * 10^7
        ("users", "encrypted_password", "redact"),
        ("legacy_accounts", "code", "redact"),  # sha-crypt values under a misleading name
        ("zahlungen", "ref", {"strategy": "hash", "domain": "provider_customer"}),
        ("users", "vat_id", {"strategy": "hash", "domain": "national_id"}),
        ("leads", "note", "scrub"),  # "call 415-555-0123"
        ("messages", "body", "scrub"),
        ("webhook_events", "raw_payload", "scrub"),
        ("shops", "lat", "keep"),  # a shop's place is not a person's
        ("products", "notes", "keep"),  # product codes
        ("users", "password_changed_at", "keep"),
        ("users", "token_count", "keep"),
        ("buildings", "year_built", "keep"),
    ],
)
def test_when_a_direct_identifier_is_scanned_then_its_drafted_rule_fits_its_kind_and_type(
    report: ScanReport, table: str, column: str, rule: object
) -> None:
    col = next(c for c in report.columns() if (c.table, c.column) == (table, column))
    assert rule_for(col) == rule, col.evidence.describe()


def test_when_the_app_database_is_drafted_then_the_rules_parse_and_validate(report: ScanReport) -> None:
    from sanitize.rules import parse_rules

    parse_rules(yaml.safe_load(draft_rules(report)))


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["$2y$10$" + "a" * 53, "$2a$12$" + "b" * 53], "secret"),  # bcrypt
        (
            ["pbkdf2_sha256$600000$abcdefgh$" + "c" * 43, "pbkdf2_sha256$600000$zyxwvuts$" + "d" * 43],
            "secret",
        ),
        (["$P$" + "e" * 31, "$H$" + "f" * 31], "secret"),  # phpass
        (["$5$saltsalt$" + "g" * 43, "$5$pepper$" + "h" * 43], "secret"),  # sha256-crypt
        (["FR12345678901", "NL123456789B01", "ATU12345678", "ESX1234567X"], "national_id"),  # EU VAT ids
        (["cus_AbCdEfGhIjKlMn", "cus_ZyXwVuTsRqPoNm"], "provider_id"),
        (["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"] * 2, "device_id"),
        (["POINT(13.4050 52.5200)", "POINT(2.3522 48.8566)"], "geo"),
        (["ok", "thanks"], None),
        ([f"{c}{i:02d}" for c in ("alb", "bos", "chi", "den") for i in range(1, 6)], None),  # park codes
        ([f"sku{i:05d}" for i in range(20)], None),
    ],
)
def test_when_values_have_an_identifier_shape_then_a_meaningless_column_gets_its_kind(
    values: list[str], kind: str | None
) -> None:
    col = scan_frame(pd.DataFrame({"c9": values * 10}), "t", classifier=ColumnClassifier()).columns[0]
    assert col.kind == kind, col.evidence.describe()
    if kind is not None:
        assert rule_for(col) != "keep"


def test_when_a_hex_digest_column_is_named_like_a_hash_then_only_a_person_table_makes_it_a_secret() -> None:
    digests = [f"{i * 7919:040x}" for i in range(40)]
    clf = ColumnClassifier()
    users = Table("users", "users", columns=(Column("id", "integer"), Column("hash", "text")))
    files = Table("files", "files", columns=(Column("id", "integer"), Column("hash", "text")))
    frame = pd.DataFrame({"id": range(40), "hash": digests})
    assert scan_frame(frame, users, classifier=clf).columns[1].kind == "secret"
    assert scan_frame(frame, files, classifier=clf).columns[1].kind is None
