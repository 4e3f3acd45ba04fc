"""MariaDB source and target against the real server: values, snapshot reads, RENAME publish, failures."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pyarrow as pa
import pymysql
import pytest
import sqlalchemy as sa

from sanitize.db import open_source, open_target, resolve
from sanitize.errors import CheckFailedError, ConcurrentRunError, LoadError, TargetRefusedError
from tests.conftest import MARIADB_ADMIN_URL, _fresh_database

pytestmark = pytest.mark.mariadb

ODD = [
    "",
    " ",
    "0042",
    "\\N",
    "\\.",
    "NULL",
    "a\tb\nc\r\nd",
    "q\"u'o,te",
    "back\\slash",
    "ünï 🎉👩‍👩‍👧",
    "x" * 1_000_000,
]

SHOP = [
    """CREATE TABLE customers (
        id INT AUTO_INCREMENT PRIMARY KEY,
        email VARCHAR(120) NOT NULL UNIQUE,
        balance DECIMAL(12, 2) NOT NULL DEFAULT 0,
        active TINYINT(1) NOT NULL DEFAULT 1,
        created DATETIME(6) NOT NULL,
        born DATE,
        photo BLOB,
        ratio DOUBLE,
        note LONGTEXT,
        mood ENUM('sad', 'ok', 'happy'),
        at TIME
    ) DEFAULT CHARSET utf8mb4""",
    """CREATE TABLE orders (
        id BIGINT AUTO_INCREMENT PRIMARY KEY,
        customer_id INT NOT NULL,
        placed DATETIME NOT NULL,
        KEY ix_orders_placed (placed),
        FOREIGN KEY (customer_id) REFERENCES customers(id)
    )""",
    """CREATE TABLE order_lines (
        order_id BIGINT NOT NULL,
        line_no INT NOT NULL,
        parent_line INT,
        PRIMARY KEY (order_id, line_no),
        FOREIGN KEY (order_id) REFERENCES orders(id),
        FOREIGN KEY (order_id, parent_line) REFERENCES order_lines(order_id, line_no)
    )""",
    "CREATE TABLE nopk (a VARCHAR(10), b INT)",
    "CREATE TABLE empty_one (id INT PRIMARY KEY)",
]


def connect(url: str) -> pymysql.Connection[Any]:
    u = sa.engine.make_url(url)
    return pymysql.connect(
        host=u.host,
        port=u.port or 3306,
        user=u.username,
        password=u.password or "",
        database=u.database,
        charset="utf8mb4",
        autocommit=True,
    )


def run_sql(url: str, *stmts: str, args: list[tuple[Any, ...]] | None = None) -> None:
    with connect(url) as c, c.cursor() as cur:
        for s in stmts:
            if args is not None:
                cur.executemany(s, args)
            else:
                cur.execute(s)


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with connect(url) as c, c.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


TABLES = ["customers", "orders", "order_lines", "nopk"]


def snapshot(url: str) -> dict[str, list[str]]:
    return {t: sorted(repr(r) for r in rows(url, f"SELECT * FROM {t}")) for t in TABLES}


@pytest.fixture(scope="module")
def shop() -> Iterator[str]:
    """The source database, built once per module (tests leave it as they found it)."""
    for url in _fresh_database(MARIADB_ADMIN_URL, "MariaDB at 127.0.0.1:3306"):
        yield fill_shop(url)


def fill_shop(mariadb_url: str) -> str:
    run_sql(mariadb_url, *SHOP)
    run_sql(
        mariadb_url,
        "INSERT INTO customers (email, balance, active, created, born, photo, ratio, note, mood, at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        args=[
            (
                f"c{i}@x.io",
                "10.50",
                i % 2,
                "2024-01-02 03:04:05.123456",
                "1000-01-01" if i else "9999-12-31",
                bytes(range(256)) if i == 1 else (b"" if i == 2 else None),
                1.5 if i else None,
                s,
                "happy" if i else None,
                "23:59:59.5" if i else None,
            )
            for i, s in enumerate(ODD)
        ],
    )
    run_sql(
        mariadb_url,
        "INSERT INTO orders (customer_id, placed) "
        "VALUES (1, '2024-02-01'), (2, '2024-02-02'), (1, '2024-02-03')",
        "INSERT INTO order_lines VALUES (1, 1, NULL), (1, 2, 1), (2, 1, NULL)",
        "INSERT INTO nopk VALUES ('x', 1), ('x', 1), (NULL, NULL)",
    )
    return mariadb_url


def copy_all(src_url: str, dst_url: str, transform=None) -> None:  # type: ignore[no-untyped-def]
    with open_source(resolve(src_url)) as src, open_target(resolve(dst_url)).begin_load(src.schema) as load:
        for key in src.schema.load_order():
            for batch in src.read_batches(key, batch_size=4):
                load.write(key, transform(key, batch) if transform else batch)
        load.finish()
        load.publish()


def nan_column(b: pd.DataFrame) -> pd.Series:
    """Real NaN values (a numpy float NaN would mean NULL to pandas)."""
    return pd.Series(
        pd.arrays.ArrowExtensionArray(pa.array([float("nan")] * len(b), pa.float64())), index=b.index
    )


def leftovers(url: str) -> list[tuple[Any, ...]]:
    db = sa.engine.make_url(url).database
    return rows(url, f"SHOW DATABASES LIKE 'sanitize\\_shadow\\_{db}%'") + rows(
        url, f"SHOW DATABASES LIKE 'sanitize\\_old\\_{db}%'"
    )


def test_when_copied_then_values_schema_and_auto_increment_survive(shop: str, mariadb_url2: str) -> None:
    target = open_target(resolve(mariadb_url2))
    assert target.is_empty() and not target.is_owned()
    copy_all(shop, mariadb_url2)
    assert not target.is_empty() and target.is_owned()
    assert snapshot(mariadb_url2) == snapshot(shop)
    assert rows(mariadb_url2, "SELECT note FROM customers WHERE id = 11") == [("x" * 1_000_000,)]
    with open_source(resolve(shop)) as a, open_source(resolve(mariadb_url2)) as b:
        assert set(a.schema.tables) == set(b.schema.tables)
        for key, t in a.schema.tables.items():
            u = b.schema[key]
            assert [(c.name, c.kind, c.nullable, c.max_length, c.precision, c.scale) for c in t.columns] == [
                (c.name, c.kind, c.nullable, c.max_length, c.precision, c.scale) for c in u.columns
            ], key
            assert (t.primary_key, set(t.unique_constraints)) == (u.primary_key, set(u.unique_constraints)), (
                key
            )
            assert {(f.columns, f.ref_table, f.ref_columns) for f in t.foreign_keys} == {
                (f.columns, f.ref_table, f.ref_columns) for f in u.foreign_keys
            }, key
            assert {(i.columns, i.unique) for i in t.indexes} >= {(i.columns, i.unique) for i in u.indexes}, (
                key
            )
    run_sql(mariadb_url2, "INSERT INTO orders (customer_id, placed) VALUES (1, NOW())")
    assert rows(mariadb_url2, "SELECT MAX(id) FROM orders") == [(4,)]
    assert leftovers(mariadb_url2) == []


def test_when_finished_then_shadow_is_readable_before_publish(shop: str, mariadb_url2: str) -> None:
    with open_source(resolve(shop)) as src, open_target(resolve(mariadb_url2)).begin_load(src.schema) as load:
        for key in src.schema.load_order():
            for b in src.read_batches(key):
                load.write(key, b)
        load.finish()
        with load.source() as shadow:
            assert set(shadow.schema.tables) == set(src.schema.tables)
            assert shadow.count("order_lines") == 3
        assert open_target(resolve(mariadb_url2)).is_empty()
        load.publish()
    assert leftovers(mariadb_url2) == []


def test_when_read_then_pyarrow_dtypes(shop: str) -> None:
    with open_source(resolve(shop)) as src:
        df = pd.concat(list(src.read_batches("customers", batch_size=5)))
        assert len(df) == len(ODD)
        assert all(isinstance(d, pd.ArrowDtype | pd.StringDtype) for d in df.dtypes)
        assert str(df["balance"].dtype) == "decimal128(12, 2)[pyarrow]"
        assert df["note"].tolist() == ODD and df["photo"].iloc[1] == bytes(range(256))
        assert src.count("order_lines") == 3 and len(src.sample("customers", 3)) == 3
        first = src.read_batches("customers", batch_size=2)
        assert len(next(first)) == 2
        first.close()  # type: ignore[attr-defined] # a preview stops early: the query is stopped, the session goes on
        assert src.count("customers") == len(ODD)
        assert list(src.read_batches("empty_one")) == []


def test_when_source_written_through_then_refused_and_reads_see_one_snapshot(shop: str) -> None:
    with open_source(resolve(shop)) as src:
        cur = src._conn.cursor()  # type: ignore[attr-defined]
        with pytest.raises(pymysql.Error, match="READ ONLY"):
            cur.execute("INSERT INTO nopk VALUES ('w', 9)")
        cur.close()
        assert src.count("nopk") == 3
        run_sql(shop, "INSERT INTO nopk VALUES ('new', 2)")
        assert src.count("nopk") == 3
        assert sum(len(b) for b in src.read_batches("nopk")) == 3
    assert rows(shop, "SELECT COUNT(*) FROM nopk") == [(4,)]
    run_sql(shop, "DELETE FROM nopk WHERE a = 'new'")


def test_when_nan_or_too_long_then_load_error_names_column_and_published_kept(
    shop: str, mariadb_url2: str
) -> None:
    copy_all(shop, mariadb_url2)
    before = snapshot(mariadb_url2)
    with pytest.raises(LoadError, match=r"customers\.ratio.*NaN"):
        copy_all(shop, mariadb_url2, lambda k, b: b.assign(ratio=nan_column(b)) if k == "customers" else b)
    with pytest.raises(LoadError, match="customers"):
        copy_all(shop, mariadb_url2, lambda k, b: b.assign(email="y" * 500) if k == "customers" else b)
    assert snapshot(mariadb_url2) == before
    assert leftovers(mariadb_url2) == []


def test_when_unique_collides_then_check_failed(shop: str, mariadb_url2: str) -> None:
    with pytest.raises(CheckFailedError):
        copy_all(shop, mariadb_url2, lambda k, b: b.assign(email="same") if k == "customers" else b)
    assert rows(mariadb_url2, "SHOW TABLES") in ([], [("sanitize_meta",)])


def test_when_target_has_foreign_table_of_same_name_then_refused(shop: str, mariadb_url2: str) -> None:
    run_sql(mariadb_url2, "CREATE TABLE orders (x INT)", "CREATE TABLE unrelated (y INT)")
    with pytest.raises(TargetRefusedError, match="orders"):
        copy_all(shop, mariadb_url2)
    run_sql(mariadb_url2, "DROP TABLE orders")
    copy_all(shop, mariadb_url2)
    assert ("unrelated",) in rows(mariadb_url2, "SHOW TABLES")  # never touched


def test_when_second_run_then_refused(shop: str, mariadb_url2: str) -> None:
    with open_source(resolve(shop)) as src:
        target = open_target(resolve(mariadb_url2))
        with target.begin_load(src.schema) as first:
            with pytest.raises(ConcurrentRunError):
                target.begin_load(src.schema)
            first.abort()
    assert leftovers(mariadb_url2) == []


KILLED = """
import sys, time
from sanitize.db import open_source, open_target, resolve
with open_source(resolve(sys.argv[1])) as src:
    load = open_target(resolve(sys.argv[2])).begin_load(src.schema)
    load.write("orders", next(src.read_batches("orders")))
    print("READY", flush=True)
    time.sleep(60)
"""


def test_when_killed_then_published_intact_and_next_run_cleans_up(
    shop: str, mariadb_url2: str, tmp_path: Path
) -> None:
    copy_all(shop, mariadb_url2)
    before = snapshot(mariadb_url2)
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(KILLED))
    proc = subprocess.Popen(
        [sys.executable, str(script), shop, mariadb_url2], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        assert len(leftovers(mariadb_url2)) == 1
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert snapshot(mariadb_url2) == before
    deadline = time.monotonic() + 10
    while True:
        try:
            copy_all(shop, mariadb_url2)
            break
        except ConcurrentRunError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert leftovers(mariadb_url2) == []
    assert snapshot(mariadb_url2) == snapshot(shop)


def test_when_legacy_values_are_read_then_zero_dates_are_null_and_unsigned_bigints_exact(
    mariadb_url: str, mariadb_url2: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Legacy MySQL data: zero dates ('0000-00-00', stored when sql_mode allows them) have no
    equivalent anywhere and read as NULL with a warning; BIGINT UNSIGNED keeps values past 2**63."""
    with connect(mariadb_url) as c, c.cursor() as cur:
        cur.execute("SET SESSION sql_mode = ''")
        cur.execute("CREATE TABLE t (id int PRIMARY KEY, d date, dt datetime, big bigint unsigned)")
        cur.execute(
            "INSERT INTO t VALUES (1, '0000-00-00', '0000-00-00 00:00:00', 18446744073709551615), "
            "(2, '2024-05-00', '2024-01-01 10:00:00', 5), (3, '2024-05-06', NULL, NULL)"
        )
        c.commit()
    with caplog.at_level("WARNING", logger="sanitize"):
        copy_all(mariadb_url, mariadb_url2)
    assert "t.d: 2 zero date(s)" in caplog.text and "t.dt: 1 zero date(s)" in caplog.text
    got = rows(mariadb_url2, "SELECT id, CAST(d AS CHAR), CAST(dt AS CHAR), big FROM t ORDER BY id")
    assert got == [
        (1, None, None, 18446744073709551615),
        (2, None, "2024-01-01 10:00:00", 5),
        (3, "2024-05-06", None, None),
    ]


def test_when_columns_are_spatial_or_types_sqlalchemy_does_not_know_then_mysql_gets_them_back(
    mariadb_url: str, mariadb_url2: str, tmp_path: Path
) -> None:
    """Sakila's address.location: a NOT NULL geometry with a SPATIAL index (the index failed, and the
    values were read as utf8 text); MariaDB's inet6 was made text. Both are recreated by name and
    their values copied exactly; elsewhere geometry is its bytes."""
    run_sql(
        mariadb_url,
        "CREATE TABLE address (id int PRIMARY KEY, location geometry NOT NULL, ip inet6,"
        " SPATIAL KEY idx_location (location))",
        "INSERT INTO address VALUES (1, ST_GeomFromText('POINT(-112.8185647 49.6999986)'), '2001:db8::1'),"
        " (2, ST_GeomFromText('LINESTRING(0 0, 1 1)'), NULL)",
    )
    copy_all(mariadb_url, mariadb_url2)
    query = "SELECT id, ST_AsText(location), CAST(ip AS CHAR) FROM address ORDER BY id"
    assert rows(mariadb_url2, query) == rows(mariadb_url, query)
    made = rows(mariadb_url2, "SHOW CREATE TABLE address")[0][1]
    assert "`location` geometry NOT NULL" in made and "SPATIAL KEY `idx_location`" in made
    assert "`ip` inet6" in made
    dev = tmp_path / "dev.db"
    copy_all(mariadb_url, str(dev))
    with connect(mariadb_url) as c, c.cursor() as cur:
        cur.execute("SELECT location FROM address ORDER BY id")
        stored = [r[0] for r in cur.fetchall()]
    con = sqlite3.connect(dev)
    try:
        assert [r[0] for r in con.execute("SELECT location FROM address ORDER BY id")] == stored
    finally:
        con.close()


def test_when_the_source_has_views_then_mysql_makes_them_in_place_after_the_swap(
    shop: str, mariadb_url2: str, caplog: pytest.LogCaptureFixture
) -> None:
    """RENAME TABLE cannot move views between databases: they are made in the target once its tables
    are published (their SQL names the source database: unqualified here), recorded as sanitize's, so
    the next run replaces them; a view that cannot be made, or one the target has of its own, is
    named in a warning and left alone."""
    run_sql(
        shop,
        "CREATE OR REPLACE VIEW big_orders AS SELECT o.id FROM orders o WHERE o.id > 1",
        "CREATE OR REPLACE VIEW big_order_count AS SELECT count(*) AS n FROM big_orders",
        "CREATE OR REPLACE VIEW mine AS SELECT 1 AS one",
    )
    run_sql(mariadb_url2, "CREATE VIEW mine AS SELECT 2 AS two")  # the target's own
    try:
        with caplog.at_level("WARNING", logger="sanitize"):
            for _ in range(2):
                copy_all(shop, mariadb_url2)
    finally:
        run_sql(shop, "DROP VIEW big_orders, big_order_count, mine")
    assert rows(mariadb_url2, "SELECT n FROM big_order_count") == rows(
        mariadb_url2, "SELECT count(*) FROM orders WHERE id > 1"
    )
    assert rows(mariadb_url2, "SELECT * FROM mine") == [(2,)]
    assert (
        "view mine is not recreated:" in caplog.text and "of that name sanitize did not make" in caplog.text
    )
    made = rows(mariadb_url2, "SHOW CREATE VIEW big_orders")[0][1]
    assert "`orders`" in made and f"`{sa.engine.make_url(shop).database}`" not in made


@pytest.mark.postgres
def test_when_columns_are_bit_or_year_then_every_engine_gets_their_values(
    mariadb_url: str, mariadb_url2: str, pg_url: str, tmp_path: Path
) -> None:
    """BIT arrives as bytes ('\\x00' reached PostgreSQL's COPY, which refused it) and LOAD DATA would
    read '1' into a BIT as the byte 0x31: BIT(1) is a flag (boolean elsewhere), wider BITs numbers;
    YEAR is a number."""
    run_sql(
        mariadb_url,
        "CREATE TABLE film (id int PRIMARY KEY, flag bit(1), mask bit(10), released year)",
        "INSERT INTO film VALUES (1, b'1', b'1000000001', 2006), (2, b'0', b'0', NULL),"
        " (3, NULL, NULL, 1999)",
    )
    copy_all(mariadb_url, mariadb_url2)
    query = "SELECT id, flag + 0, mask + 0, released FROM film ORDER BY id"
    assert rows(mariadb_url2, query) == [(1, 1, 513, 2006), (2, 0, 0, None), (3, None, None, 1999)]
    assert "`flag` bit(1)" in rows(mariadb_url2, "SHOW CREATE TABLE film")[0][1]
    copy_all(mariadb_url, pg_url)
    with psycopg.connect(pg_url.replace("+psycopg", "")) as c:
        got = c.execute("SELECT id, flag, mask, released FROM film ORDER BY id").fetchall()
    assert got == [(1, True, 513, 2006), (2, False, 0, None), (3, None, None, 1999)]
    dev = tmp_path / "dev.db"
    copy_all(mariadb_url, str(dev))
    con = sqlite3.connect(dev)
    try:
        assert con.execute("SELECT id, flag, mask, released FROM film ORDER BY id").fetchall() == [
            (1, 1, 513, 2006),
            (2, 0, 0, None),
            (3, None, None, 1999),
        ]
    finally:
        con.close()


def test_when_the_source_has_triggers_then_mysql_makes_them_on_the_published_tables(
    mariadb_url: str, mariadb_url2: str
) -> None:
    """Sakila's triggers (a create date set on insert, a row copied on update) are made after the swap;
    a body naming the source database (`sak.audit`) names the target's own table instead: the dev copy
    wrote into production's audit table. The next run drops them before its RENAME (MySQL cannot move a
    table with triggers to another database) and makes them again."""
    src_db = sa.engine.make_url(mariadb_url).database
    run_sql(
        mariadb_url,
        "CREATE TABLE customer (id int PRIMARY KEY, email varchar(50), created datetime)",
        "CREATE TABLE audit (id int AUTO_INCREMENT PRIMARY KEY, what varchar(50))",
        "CREATE TRIGGER customer_created BEFORE INSERT ON customer FOR EACH ROW"
        " SET NEW.created = '2000-01-01'",
        f"CREATE TRIGGER customer_changed AFTER UPDATE ON customer FOR EACH ROW BEGIN "
        f"INSERT INTO {src_db}.audit (what) VALUES (CONCAT('update ', NEW.id)); END",
        "INSERT INTO customer (id, email) VALUES (1, 'a@x.io')",
    )
    for _ in range(2):
        copy_all(mariadb_url, mariadb_url2)
    run_sql(mariadb_url2, "INSERT INTO customer (id, email) VALUES (2, 'b@x.io')")
    run_sql(mariadb_url2, "UPDATE customer SET email = 'c@x.io' WHERE id = 1")
    assert rows(mariadb_url2, "SELECT id, CAST(created AS CHAR) FROM customer ORDER BY id") == [
        (1, "2000-01-01 00:00:00"),
        (2, "2000-01-01 00:00:00"),
    ]
    assert rows(mariadb_url2, "SELECT what FROM audit") == [("update 1",)]
    assert rows(mariadb_url, "SELECT count(*) FROM audit") == [(0,)]  # the source is not written
