"""Quality of `scan` on a realistic SQLite database with planted PII.

The database has PII in columns with honest names (email, vorname, telefono), misleading names
(contact, ref, c3), free-text bodies, JSON payloads, and many non-PII columns (ids, prices, statuses,
timestamps, product codes, SKUs, barcodes, hex hashes). Recall and precision are measured
over the non-foreign-key columns and must reach 0.95 and 0.9.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from pathlib import Path

import pytest
from faker import Faker

from sanitize.db import open_source, resolve
from sanitize.detect.scan import ScanReport, scan_source

ROWS = 300

# (table, column) -> planted PII kind. Every other non-FK column holds no PII.
PLANTED: dict[tuple[str, str], str] = {
    ("customers", "email"): "email",
    ("customers", "full_name"): "person",
    ("customers", "phone"): "phone",
    ("customers", "dob"): "date_of_birth",
    ("addresses", "street"): "address",
    ("addresses", "city"): "city",
    ("addresses", "zip"): "postcode",
    ("orders", "notes"): "free_text",
    ("support_tickets", "body"): "free_text",
    ("support_tickets", "requester"): "email",
    ("events", "payload"): "json",
    ("crm_import", "contact"): "email",
    ("crm_import", "ref"): "person",
    ("crm_import", "c3"): "phone",
    ("crm_import", "c5"): "first_name",
    ("crm_import", "c7"): "address",
    ("crm_import", "c8"): "iban",
    ("crm_import", "c11"): "free_text",
    ("employees", "vorname"): "first_name",
    ("employees", "nachname"): "last_name",
    ("employees", "geburtsdatum"): "date_of_birth",
    ("employees", "steuer_id"): "national_id",
    ("employees", "konto"): "iban",
    ("employees", "last_ip"): "ip_address",
    ("users_es", "nombre"): "first_name",
    ("users_es", "apellido"): "last_name",
    ("users_es", "correo"): "email",
    ("users_es", "telefono"): "phone",
    ("users_es", "dni"): "national_id",
    ("users_es", "direccion"): "address",
    ("payments", "card_number"): "credit_card",
    ("payments", "client_ip"): "ip_address",
    ("gb_customers", "name"): "person",
    ("gb_customers", "ni_number"): "national_id",
    ("gb_customers", "postcode"): "postcode",
    ("gb_customers", "mobile"): "phone",
    ("gb_customers", "x1"): "national_id",
    ("legacy", "f2"): "email",
    ("legacy", "f3"): "person",
    ("legacy", "f4"): "credit_card",
    ("legacy", "f5"): "ssn",
    ("audit_log", "user_agent"): "device_id",  # a browser fingerprint: hashed, not kept
}


def _nino(rng: random.Random) -> str:
    return (
        rng.choice("ACEHJLMOPRSW")
        + rng.choice("ABCEHJKLMNPRSTWXYZ")
        + "".join(rng.choice("0123456789") for _ in range(6))
        + rng.choice("ABCD")
    )


def _steuer_id(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(9)]
        if max(digits.count(d) for d in digits) > 3:
            continue
        product = 10
        for d in digits:
            total = (d + product) % 10 or 10
            product = (total * 2) % 11
        check = (11 - product) % 10
        return "".join(map(str, digits)) + str(check)


def _dni(rng: random.Random) -> str:
    n = rng.randint(10_000_000, 99_999_999)
    return f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"


def _ticket(fake: Faker, rng: random.Random, customer: tuple[str, str, str]) -> str:
    name, email, phone = customer
    templates = [
        f"Hello, this is {name}. My order has not arrived yet, please advise.",
        f"Please update my contact address to {email} - thanks!",
        f"Customer called from {phone} about a damaged item; refund approved.",
        "The item arrived broken. Requesting a replacement as soon as possible.",
        "Can you confirm whether the blue variant is back in stock next week?",
        f"Hi team, {name} here ({email}). The invoice total looks wrong.",
    ]
    return rng.choice(templates)


def build_database(path: Path, rows: int = ROWS, seed: int = 7) -> None:
    """A realistic shop database with the PII of PLANTED and many non-PII columns."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    de, es, gb = Faker("de_DE"), Faker("es_ES"), Faker("en_GB")
    for i, f in enumerate((de, es, gb)):
        f.seed_instance(seed + i + 1)
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT UNIQUE, full_name TEXT, phone TEXT,
            dob DATE, created_at TIMESTAMP, status TEXT, loyalty_points INTEGER, country TEXT);
        CREATE TABLE addresses (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
            street TEXT, city TEXT, zip TEXT, country_code TEXT, is_default BOOLEAN);
        CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT, name TEXT, description TEXT,
            price NUMERIC(10,2), weight_kg REAL, color TEXT, barcode TEXT, checksum TEXT,
            created_at TIMESTAMP);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
            order_number TEXT, total NUMERIC(10,2), currency TEXT, status TEXT, created_at TIMESTAMP,
            shipped_at TIMESTAMP, tracking_code TEXT, notes TEXT);
        CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id),
            product_id INTEGER REFERENCES products(id), quantity INTEGER, unit_price NUMERIC(10,2),
            discount REAL);
        CREATE TABLE support_tickets (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
            requester TEXT, subject TEXT, body TEXT, priority TEXT, status TEXT, opened_at TIMESTAMP);
        CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, payload JSON, created_at TIMESTAMP);
        CREATE TABLE crm_import (c1 INTEGER PRIMARY KEY, c2 TEXT, c3 TEXT, contact TEXT, ref TEXT, c5 TEXT,
            c6 TEXT, c7 TEXT, c8 TEXT, c9 TEXT, c10 TEXT, c11 TEXT, c12 TEXT);
        CREATE TABLE employees (id INTEGER PRIMARY KEY, vorname TEXT, nachname TEXT, geburtsdatum DATE,
            steuer_id TEXT, konto TEXT, last_ip TEXT, salary INTEGER, department TEXT, hired_on DATE);
        CREATE TABLE users_es (id INTEGER PRIMARY KEY, nombre TEXT, apellido TEXT, correo TEXT,
            telefono TEXT, dni TEXT, direccion TEXT, activo BOOLEAN, plan TEXT);
        CREATE TABLE payments (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id),
            card_number TEXT, amount NUMERIC(10,2), auth_code TEXT, processed_at TIMESTAMP, client_ip TEXT,
            gateway_ref TEXT);
        CREATE TABLE gb_customers (id INTEGER PRIMARY KEY, name TEXT, ni_number TEXT, postcode TEXT,
            mobile TEXT, x1 TEXT, segment TEXT);
        CREATE TABLE audit_log (id INTEGER PRIMARY KEY, action TEXT, entity TEXT, at TIMESTAMP,
            request_id TEXT, user_agent TEXT, duration_ms INTEGER);
        CREATE TABLE metrics (id INTEGER PRIMARY KEY, day DATE, page_views INTEGER, bounce_rate REAL,
            version TEXT, host TEXT, region TEXT);
        CREATE TABLE legacy (f1 INTEGER PRIMARY KEY, f2 TEXT, f3 TEXT, f4 TEXT, f5 TEXT, f6 TEXT, f7 TEXT);
        """
    )
    statuses = ["active", "inactive", "pending", "blocked"]
    customers = []
    for i in range(1, rows + 1):
        name, email, phone = (
            fake.name(),
            f"{fake.user_name()}{i}@{fake.free_email_domain()}",
            fake.phone_number(),
        )
        customers.append((name, email, phone))
        con.execute(
            "INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?)",
            (
                i,
                email,
                name,
                phone,
                fake.date_of_birth().isoformat(),
                fake.date_time().isoformat(" "),
                rng.choice(statuses),
                rng.randint(0, 5000),
                rng.choice(["US", "DE", "GB", "FR", "ES"]),
            ),
        )
        con.execute(
            "INSERT INTO addresses VALUES (?,?,?,?,?,?,?)",
            (
                i,
                i,
                fake.street_address(),
                fake.city(),
                fake.postcode(),
                rng.choice(["US", "CA"]),
                rng.random() < 0.5,
            ),
        )
        price = round(rng.uniform(1, 900), 2)
        con.execute(
            "INSERT INTO products VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                i,
                f"SKU-{rng.randint(1000, 9999)}-{rng.choice(['BL', 'RD', 'GR', 'XL'])}",
                f"{fake.color_name()} {rng.choice(['Chair', 'Lamp', 'Desk', 'Mug', 'Shelf', 'Sofa'])}",
                fake.sentence(nb_words=12),
                price,
                round(rng.uniform(0.1, 30), 3),
                rng.choice(["Brown", "Green", "White", "Black", "Gray", "Rose"]),
                fake.ean13(),
                hashlib.sha1(str(i).encode()).hexdigest(),
                fake.date_time().isoformat(" "),
            ),
        )
        note = (
            _ticket(fake, rng, customers[-1])
            if rng.random() < 0.3
            else rng.choice(["Leave at the door.", "Gift wrap please", None, None, "Deliver after 5pm."])
        )
        con.execute(
            "INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                i,
                i,
                f"ORD-2024-{i:06d}",
                price,
                rng.choice(["USD", "EUR"]),
                rng.choice(["paid", "shipped", "new"]),
                fake.date_time().isoformat(" "),
                fake.date_time().isoformat(" "),
                f"1Z{rng.randint(10**15, 10**16 - 1)}",
                note,
            ),
        )
        con.execute(
            "INSERT INTO order_items VALUES (?,?,?,?,?,?)",
            (i, i, i, rng.randint(1, 5), price, rng.choice([0, 0.1, 0.25])),
        )
        con.execute(
            "INSERT INTO support_tickets VALUES (?,?,?,?,?,?,?,?)",
            (
                i,
                i,
                email,
                rng.choice(["Where is my order?", "Refund request", "Damaged item", "Invoice question"]),
                _ticket(fake, rng, customers[-1]),
                rng.choice(["low", "high"]),
                rng.choice(["open", "closed"]),
                fake.date_time().isoformat(" "),
            ),
        )
        payload = {
            "user": {"email": email, "ip": fake.ipv4_public(), "plan": rng.choice(["free", "pro"])},
            "items": [{"sku": f"SKU-{rng.randint(1000, 9999)}", "qty": rng.randint(1, 3)} for _ in range(2)],
            "session": hashlib.md5(str(i).encode()).hexdigest(),
        }
        con.execute(
            "INSERT INTO events VALUES (?,?,?,?)",
            (
                i,
                rng.choice(["login", "checkout", "view"]),
                json.dumps(payload),
                fake.date_time().isoformat(" "),
            ),
        )
        con.execute(
            "INSERT INTO crm_import VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                i,
                rng.choice(["A", "B", "C"]),
                fake.phone_number(),
                fake.company_email(),
                fake.name(),
                fake.first_name(),
                f"{rng.uniform(1, 999):.2f}",
                fake.address().replace("\n", ", "),
                fake.iban(),
                fake.uuid4(),
                hashlib.sha256(str(i).encode()).hexdigest(),
                _ticket(fake, rng, customers[-1]) if rng.random() < 0.5 else fake.sentence(),
                rng.choice(["2023-Q1", "2023-Q2", "2024-Q1"]),
            ),
        )
        con.execute(
            "INSERT INTO employees VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                i,
                de.first_name(),
                de.last_name(),
                de.date_of_birth().isoformat(),
                _steuer_id(rng),
                de.iban(),
                fake.ipv4(),
                rng.randint(30_000, 120_000),
                rng.choice(["IT", "HR", "Sales", "Ops"]),
                fake.date_this_decade().isoformat(),
            ),
        )
        con.execute(
            "INSERT INTO users_es VALUES (?,?,?,?,?,?,?,?,?)",
            (
                i,
                es.first_name(),
                es.last_name(),
                es.free_email(),
                es.phone_number(),
                _dni(rng),
                es.street_address(),
                rng.random() < 0.8,
                rng.choice(["basic", "premium"]),
            ),
        )
        con.execute(
            "INSERT INTO payments VALUES (?,?,?,?,?,?,?,?)",
            (
                i,
                i,
                fake.credit_card_number(),
                price,
                fake.bothify("??####").upper(),
                fake.date_time().isoformat(" "),
                fake.ipv4() if rng.random() < 0.7 else fake.ipv6(),
                f"gw_{fake.bothify('########')}",
            ),
        )
        con.execute(
            "INSERT INTO gb_customers VALUES (?,?,?,?,?,?,?)",
            (
                i,
                gb.name(),
                _nino(rng),
                gb.postcode(),
                gb.phone_number(),
                _nino(rng),
                rng.choice(["retail", "b2b"]),
            ),
        )
        con.execute(
            "INSERT INTO audit_log VALUES (?,?,?,?,?,?,?)",
            (
                i,
                rng.choice(["INSERT", "UPDATE", "DELETE"]),
                rng.choice(["orders", "customers"]),
                fake.date_time().isoformat(" "),
                fake.uuid4(),
                fake.user_agent(),
                rng.randint(1, 900),
            ),
        )
        con.execute(
            "INSERT INTO metrics VALUES (?,?,?,?,?,?,?)",
            (
                i,
                fake.date_this_year().isoformat(),
                rng.randint(0, 10**6),
                rng.random(),
                f"{rng.randint(1, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                f"web-{rng.randint(1, 12):02d}",
                rng.choice(["eu-west-1", "us-east-1"]),
            ),
        )
        con.execute(
            "INSERT INTO legacy VALUES (?,?,?,?,?,?,?)",
            (
                i,
                fake.email().upper(),
                fake.name().upper(),
                fake.credit_card_number(),
                fake.ssn(),
                rng.choice(["Y", "N"]),
                str(rng.randint(10**9, 10**10)),
            ),
        )
    con.commit()
    con.close()


def measure(report: ScanReport) -> tuple[float, float, list[str], list[str]]:
    """Recall and precision of PII columns (foreign keys excluded), plus the misses and false alarms."""
    found = {(c.table, c.column) for c in report.columns() if c.is_pii and c.foreign_key is None}
    considered = {(c.table, c.column) for c in report.columns() if c.foreign_key is None}
    planted = set(PLANTED)
    assert planted <= considered, f"planted columns missing from the scan: {planted - considered}"
    tp = found & planted
    recall = len(tp) / len(planted)
    precision = len(tp) / len(found) if found else 0.0
    misses = sorted(f"{t}.{c}" for t, c in planted - found)
    false_alarms = sorted(f"{t}.{c}" for t, c in found - planted)
    return recall, precision, misses, false_alarms


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("quality") / "shop.db"
    build_database(path)
    return path


@pytest.fixture(scope="module")
def shop_report(shop_db: Path) -> ScanReport:
    with open_source(resolve(str(shop_db))) as src:
        return scan_source(src, sample=200)


def test_when_scanning_a_realistic_database_then_recall_and_precision_meet_the_targets(
    shop_report: ScanReport,
) -> None:
    recall, precision, misses, false_alarms = measure(shop_report)
    print(f"\nrecall={recall:.3f} precision={precision:.3f} misses={misses} false_alarms={false_alarms}")
    assert recall >= 0.95, f"recall {recall:.3f}; missed {misses}"
    assert precision >= 0.9, f"precision {precision:.3f}; false alarms {false_alarms}"


@pytest.mark.parametrize(
    ("table", "column", "kind"),
    [
        ("customers", "email", "email"),  # honest name
        ("crm_import", "contact", "email"),  # misleading name
        ("crm_import", "ref", "person"),  # misleading name, full names
        ("crm_import", "c3", "phone"),  # meaningless name
        ("employees", "steuer_id", "national_id"),  # checksum-valid Steuer-ID
        ("users_es", "dni", "national_id"),  # DNI with its control letter
        ("support_tickets", "body", "free_text"),  # free text with names/emails/phones inside
        ("events", "payload", "json"),  # JSON document
        ("legacy", "f2", "email"),  # upper-case e-mails under a meaningless name
    ],
)
def test_when_pii_is_planted_then_its_kind_is_reported(
    shop_report: ScanReport, table: str, column: str, kind: str
) -> None:
    col = next(c for c in shop_report.columns() if c.table == table and c.column == column)
    assert col.kind == kind, col.evidence.describe()
    assert col.confidence >= 0.5


def test_when_a_json_column_holds_pii_then_the_paths_are_reported(shop_report: ScanReport) -> None:
    col = next(c for c in shop_report.columns() if (c.table, c.column) == ("events", "payload"))
    assert set(col.json_paths) == {"$.user.email", "$.user.ip"}
    assert col.json_paths["$.user.email"].kind == "email"
    assert col.json_paths["$.user.ip"].kind == "ip_address"


def test_when_a_column_is_a_foreign_key_then_it_is_left_to_its_parent(shop_report: ScanReport) -> None:
    col = next(c for c in shop_report.columns() if (c.table, c.column) == ("orders", "customer_id"))
    assert col.foreign_key == "customers.id"
    assert col.kind is None
