"""The bundled demo: a small "production" SQLite shop database, its rules, and the whole flow.

`build_demo_database(path)` writes a deterministic database with the shapes real schemas have:
customers, orders, order items (composite primary key), support tickets with free-text bodies, a JSON
events table, a self-referencing employees table and a page-views table without a primary key.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from faker import Faker

DDL = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email VARCHAR(120) NOT NULL UNIQUE,
    full_name VARCHAR(100) NOT NULL,
    phone VARCHAR(32),
    ssn CHAR(11),
    date_of_birth DATE,
    city VARCHAR(60),
    postcode VARCHAR(10),
    notes TEXT,
    country CHAR(2) NOT NULL DEFAULT 'US',
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE employees (
    id INTEGER PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    email VARCHAR(120) NOT NULL UNIQUE,
    manager_id INTEGER REFERENCES employees(id),
    salary NUMERIC(10, 2) NOT NULL,
    hired_on DATE NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    handled_by INTEGER REFERENCES employees(id),
    status VARCHAR(12) NOT NULL DEFAULT 'new',
    total NUMERIC(10, 2) NOT NULL,
    shipping_address TEXT,
    ordered_at TIMESTAMP NOT NULL
);
CREATE INDEX ix_orders_customer ON orders (customer_id);
CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES orders(id),
    line_no INTEGER NOT NULL,
    sku VARCHAR(16) NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price NUMERIC(10, 2) NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
CREATE TABLE support_tickets (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers(id),
    requester VARCHAR(120) NOT NULL,
    subject VARCHAR(200) NOT NULL,
    body TEXT,
    opened_at TIMESTAMP NOT NULL
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers(id),
    kind VARCHAR(20) NOT NULL,
    payload JSON,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE page_views (
    customer_id INTEGER REFERENCES customers(id),
    path VARCHAR(200) NOT NULL,
    ip_address VARCHAR(45),
    viewed_at TIMESTAMP NOT NULL
);
"""

STATUSES = ("new", "paid", "shipped", "delivered", "cancelled")
KINDS = ("login", "checkout", "profile_update", "search")
PATHS = ("/", "/cart", "/checkout", "/account", "/products/{}", "/search?q={}")


@dataclass(frozen=True)
class DemoSize:
    customers: int = 500
    employees: int = 40
    orders: int = 1500
    tickets: int = 300
    events: int = 1000
    page_views: int = 2000


def demo_rules_path() -> Path:
    """The bundled rules for the demo database (also at rules/demo.yaml in the repository)."""
    return Path(__file__).resolve().parent / "data" / "demo.yaml"


def build_demo_database(path: str | Path, size: DemoSize = DemoSize(), seed: int = 7) -> Path:
    """Write the demo "production" database to `path` (replacing it); deterministic for a seed."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.unlink(missing_ok=True)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rnd = random.Random(seed)
    con = sqlite3.connect(p)
    try:
        con.executescript(DDL)
        customers = []
        emails: set[str] = set()
        for i in range(1, size.customers + 1):
            name = fake.name()
            email = f"{name.lower().replace(' ', '.').replace('..', '.')}{i}@{fake.free_email_domain()}"
            emails.add(email)
            notes = rnd.choice(
                [
                    None,
                    "",
                    "VIP customer",
                    f"Prefers calls at {fake.phone_number()}",
                    f"Alt contact: {fake.email()} — ask for {fake.first_name()}",
                    "Ünïcödé ok 🚀",
                ]
            )
            customers.append(
                (
                    i,
                    email,
                    name,
                    rnd.choice([fake.phone_number(), None]),
                    fake.ssn(),
                    fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat(),
                    fake.city(),
                    fake.postcode(),
                    notes,
                    "US",
                    fake.date_time_between("-5y", "-1d").isoformat(sep=" ", timespec="seconds"),
                )
            )
        con.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?,?,?)", customers)
        employees = []
        for i in range(1, size.employees + 1):
            manager = None if i <= 3 else rnd.randint(1, min(i - 1, 10))
            name = fake.name()
            employees.append(
                (
                    i,
                    name,
                    f"{name.lower().replace(' ', '.')}.{i}@shop.example",
                    manager,
                    round(rnd.uniform(30000, 150000), 2),
                    fake.date_between("-10y").isoformat(),
                )
            )
        con.executemany("INSERT INTO employees VALUES (?,?,?,?,?,?)", employees)
        orders, items = [], []
        for i in range(1, size.orders + 1):
            cust_id = rnd.randint(1, size.customers)
            lines = rnd.choices([1, 2, 3, 4, 6], weights=[40, 30, 15, 10, 5])[0]
            total = 0.0
            for line in range(1, lines + 1):
                qty, price = rnd.randint(1, 5), round(rnd.uniform(2, 300), 2)
                total += qty * price
                items.append((i, line, f"SKU-{rnd.randint(1000, 9999):05d}", qty, price))
            orders.append(
                (
                    i,
                    cust_id,
                    rnd.choice([None, rnd.randint(1, size.employees)]),
                    rnd.choice(STATUSES),
                    round(total, 2),
                    fake.address().replace("\n", ", "),
                    fake.date_time_between("-2y").isoformat(sep=" ", timespec="seconds"),
                )
            )
        con.executemany("INSERT INTO orders VALUES (?,?,?,?,?,?,?)", orders)
        con.executemany("INSERT INTO order_items VALUES (?,?,?,?,?)", items)
        tickets = []
        by_id = {c[0]: c for c in customers}
        for i in range(1, size.tickets + 1):
            cust = by_id[rnd.randint(1, size.customers)]
            phone = cust[3] or fake.phone_number()
            card = fake.credit_card_number(card_type="visa16")
            body = rnd.choice(
                [
                    f"Hi, this is {cust[2]}. My order never arrived. Call me on {phone}.",
                    f"Please update my email to {fake.email()}; the old one {cust[1]} is closed.",
                    f"Card {card} was charged twice. Thanks, {cust[2]}",
                    "Where is my parcel? It has been two weeks.\nRegards",
                    None,
                ]
            )
            tickets.append(
                (
                    i,
                    cust[0],
                    cust[1],
                    rnd.choice(["Order missing", "Refund", "Update details"]),
                    body,
                    fake.date_time_between("-1y").isoformat(sep=" ", timespec="seconds"),
                )
            )
        con.executemany("INSERT INTO support_tickets VALUES (?,?,?,?,?,?)", tickets)
        events = []
        for i in range(1, size.events + 1):
            cust = by_id[rnd.randint(1, size.customers)]
            kind = rnd.choice(KINDS)
            payload = {
                "user": {"id": cust[0], "email": cust[1]},
                "ip": fake.ipv4_public(),
                "items": [{"sku": f"SKU-{rnd.randint(1000, 9999):05d}"} for _ in range(rnd.randint(0, 2))],
            }
            events.append(
                (
                    i,
                    rnd.choice([cust[0], None]),
                    kind,
                    json.dumps(payload) if i % 17 else None,
                    fake.date_time_between("-1y").isoformat(sep=" ", timespec="seconds"),
                )
            )
        con.executemany("INSERT INTO events VALUES (?,?,?,?,?)", events)
        views = []
        for _ in range(size.page_views):
            path_t = rnd.choice(PATHS)
            views.append(
                (
                    rnd.choice([rnd.randint(1, size.customers), None]),
                    path_t.format(rnd.randint(1, 500)) if "{}" in path_t else path_t,
                    rnd.choice([fake.ipv4_public(), fake.ipv6(), None]),
                    fake.date_time_between("-30d").isoformat(sep=" ", timespec="seconds"),
                )
            )
        con.executemany("INSERT INTO page_views VALUES (?,?,?,?)", views)
        con.commit()
    finally:
        con.close()
    return p
