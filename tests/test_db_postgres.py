"""PostgreSQL source and target against the real server: types, snapshot reads, schema swap, failures."""

from __future__ import annotations

import math
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
import pytest

from sanitize.db import open_source, open_target, resolve
from sanitize.db.pg_target import PostgresTarget
from sanitize.errors import (
    BadInputError,
    CheckFailedError,
    ConcurrentRunError,
    ConnectionFailed,
    TargetRefusedError,
)
from sanitize.keys import SecretKey
from sanitize.pipeline import anonymize
from tests.conftest import PG_ADMIN_URL, TEST_KEY, _fresh_database

pytestmark = pytest.mark.postgres

SHOP = r"""
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE customers (
    id serial PRIMARY KEY,
    email varchar(120) NOT NULL UNIQUE,
    balance numeric(12, 2) NOT NULL DEFAULT 0,
    exact numeric,
    active boolean NOT NULL DEFAULT true,
    created timestamptz NOT NULL DEFAULT now(),
    born date,
    token uuid,
    prefs jsonb,
    raw json,
    tags text[],
    scores int[],
    feeling mood,
    photo bytea,
    ratio double precision,
    small real,
    code char(5),
    note text
);
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customers(id),
    placed timestamp NOT NULL
);
CREATE INDEX ix_orders_placed ON orders(placed);
CREATE SCHEMA "Sales";
CREATE TABLE "Sales"."Line Items" (
    "OrderId" bigint NOT NULL REFERENCES orders(id),
    "LineNo" int NOT NULL,
    "SKU" text NOT NULL,
    PRIMARY KEY ("OrderId", "LineNo")
);
CREATE TABLE "Sales".returns (
    id int PRIMARY KEY,
    order_id bigint NOT NULL,
    line_no int NOT NULL,
    FOREIGN KEY (order_id, line_no) REFERENCES "Sales"."Line Items"("OrderId", "LineNo"),
    UNIQUE (order_id, line_no)
);
CREATE TABLE employees (id int PRIMARY KEY, manager_id int REFERENCES employees(id), dept_id int);
CREATE TABLE departments (id int PRIMARY KEY, head_id int REFERENCES employees(id));
ALTER TABLE employees ADD FOREIGN KEY (dept_id) REFERENCES departments(id);
CREATE TABLE nopk (a text, b int);
CREATE TABLE empty_one (id int PRIMARY KEY);
INSERT INTO customers (email, balance, exact, active, created, born, token, prefs, raw, tags, scores, feeling,
                       photo, ratio, small, code, note) VALUES
  ('a@x.io', 10.50, 12345678901234567890.123456789, true, '2024-01-02 03:04:05.123456+02', '0001-01-01',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1, 2]}', '{ "spaced" :  1 }', '{"a,b","c\"d",NULL}',
   '{1,NULL,3}', 'happy', '\x00ff', 'NaN', '-Infinity', '007', E'line1\nline2\ttab \\N \\. back\\slash'),
  ('b@x.io', 0, NULL, false, '2024-06-01 00:00:00+00', '9999-12-31', NULL, NULL, NULL, '{}', NULL, NULL, '\x',
   'Infinity', 0, NULL, '');
INSERT INTO orders (customer_id, placed) VALUES (1, '2024-02-01'), (2, '2024-02-02'), (1, '2024-02-03');
INSERT INTO "Sales"."Line Items" VALUES (1, 1, 'A'), (1, 2, 'B'), (2, 1, 'A');
INSERT INTO "Sales".returns VALUES (1, 1, 2);
INSERT INTO departments VALUES (1, NULL);
INSERT INTO employees VALUES (1, NULL, 1), (2, 1, 1);
UPDATE departments SET head_id = 1;
INSERT INTO nopk VALUES ('x', 1), ('x', 1), (NULL, NULL);
"""


def run_sql(url: str, sql: str) -> None:
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as c:
        c.execute(sql)  # type: ignore[arg-type]


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as c:
        return c.execute(sql).fetchall()  # type: ignore[arg-type]


def copy_all(src_url: str, dst_url: str, transform=None, target=None) -> None:  # type: ignore[no-untyped-def]
    with open_source(resolve(src_url)) as src:
        tgt = target or open_target(resolve(dst_url))
        with tgt.begin_load(src.schema) as load:
            for key in src.schema.load_order():
                for batch in src.read_batches(key, batch_size=2):
                    load.write(key, transform(key, batch) if transform else batch)
            load.finish()
            load.publish()


TABLES = [
    "customers",
    "orders",
    '"Sales"."Line Items"',
    '"Sales".returns',
    "employees",
    "departments",
    "nopk",
]


def snapshot(url: str) -> dict[str, list[str]]:
    return {t: sorted(r[0] for r in rows(url, f"SELECT x::text FROM {t} x")) for t in TABLES}


@pytest.fixture(scope="module")
def shop() -> Iterator[str]:
    """The source database, built once for the module (tests must leave it as they found it)."""
    for url in _fresh_database(PG_ADMIN_URL, "PostgreSQL at 127.0.0.1:5432"):
        run_sql(url, SHOP)
        yield url


@pytest.fixture(scope="module")
def _target_db() -> Iterator[str]:
    yield from _fresh_database(PG_ADMIN_URL, "PostgreSQL at 127.0.0.1:5432")


@pytest.fixture
def pg_url2(_target_db: str) -> str:
    """An empty target database (one per module, emptied before each test: creating databases is slow)."""
    name = _target_db.rsplit("/", 1)[1]
    run_sql(
        _target_db,
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
        "AND pid <> pg_backend_pid()",
    )
    schemas = [
        r[0]
        for r in rows(
            _target_db,
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' "
            "AND nspname <> 'information_schema'",
        )
    ]
    run_sql(_target_db, "".join(f'DROP SCHEMA "{s}" CASCADE;' for s in schemas) + "CREATE SCHEMA public;")
    return _target_db


def test_when_copied_then_every_value_and_the_schema_survive(shop: str, pg_url2: str) -> None:
    target = open_target(resolve(pg_url2))
    assert target.is_empty() and not target.is_owned()
    copy_all(shop, pg_url2)
    assert not target.is_empty() and target.is_owned()
    assert snapshot(pg_url2) == snapshot(shop)
    with open_source(resolve(shop)) as a, open_source(resolve(pg_url2)) as b:
        assert set(a.schema.tables) == set(b.schema.tables)
        assert "Sales.Line Items" in b.schema.tables
        for key, t in a.schema.tables.items():
            u = b.schema[key]
            assert [
                (c.name, c.kind, c.nullable, c.max_length, c.precision, c.scale, c.timezone)
                for c in t.columns
            ] == [
                (c.name, c.kind, c.nullable, c.max_length, c.precision, c.scale, c.timezone)
                for c in u.columns
            ], key
            assert [type(c.sql_type).__name__ for c in t.columns] == [
                type(c.sql_type).__name__ for c in u.columns
            ]
            assert (t.primary_key, set(t.unique_constraints)) == (u.primary_key, set(u.unique_constraints)), (
                key
            )
            assert {(f.columns, f.ref_table, f.ref_columns) for f in t.foreign_keys} == {
                (f.columns, f.ref_table, f.ref_columns) for f in u.foreign_keys
            }, key
            assert {(i.columns, i.unique) for i in t.indexes} == {(i.columns, i.unique) for i in u.indexes}, (
                key
            )
        assert b.schema["customers"].column("feeling").enum_values == ("sad", "ok", "happy")
        assert b.schema["customers"].column("balance").default == "0"
    # sequences and identity columns continue after the loaded data
    run_sql(
        pg_url2,
        "INSERT INTO customers (email) VALUES ('new@x.io'); INSERT INTO orders (customer_id, placed) "
        "VALUES (1, now())",
    )
    assert rows(pg_url2, "SELECT max(id) FROM customers") == [(3,)]
    assert rows(pg_url2, "SELECT max(id) FROM orders") == [(4,)]


def test_when_read_then_arrow_types_and_exact_values(shop: str) -> None:
    with open_source(resolve(shop)) as src:
        df = pd.concat(list(src.read_batches("customers", batch_size=1)))
        assert len(df) == 2 and all(isinstance(d, pd.ArrowDtype | pd.StringDtype) for d in df.dtypes)
        assert str(df["balance"].dtype) == "decimal128(12, 2)[pyarrow]"
        assert str(df["created"].dtype) == "timestamp[us, tz=UTC][pyarrow]"
        assert df["token"].iloc[0] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
        assert df["exact"].iloc[0] == "12345678901234567890.123456789"
        assert math.isnan(df["ratio"].iloc[0]) and df["small"].iloc[0] == -math.inf
        assert df["note"].iloc[0] == "line1\nline2\ttab \\N \\. back\\slash" and df["note"].iloc[1] == ""
        assert src.count("Sales.Line Items") == 3
        first = src.read_batches("customers", batch_size=1)
        assert len(next(first)) == 1
        first.close()  # type: ignore[attr-defined] # a preview stops early; the snapshot transaction goes on
        assert src.count("customers") == 2
        assert len(src.sample("Sales.Line Items", 2)) == 2
        assert list(src.read_batches("empty_one")) == []


def test_when_source_is_written_through_then_server_refuses(shop: str) -> None:
    with open_source(resolve(shop)) as src:
        cur = src._conn.cursor()  # type: ignore[attr-defined]
        with pytest.raises(Exception, match="read-only transaction"):
            cur.execute("INSERT INTO nopk VALUES ('w', 9)")
    assert len(rows(shop, "SELECT * FROM nopk")) == 3


def test_when_source_changes_during_a_run_then_reads_see_one_snapshot(shop: str) -> None:
    with open_source(resolve(shop)) as src:
        assert src.count("orders") == 3
        run_sql(shop, "INSERT INTO orders (customer_id, placed) VALUES (2, now())")
        assert src.count("orders") == 3
        assert sum(len(b) for b in src.read_batches("orders")) == 3
    assert rows(shop, "SELECT count(*) FROM orders") == [(4,)]
    run_sql(shop, "DELETE FROM orders WHERE id > 3")


def test_when_infinity_timestamp_then_clear_error(pg_url: str) -> None:
    run_sql(
        pg_url,
        "CREATE TABLE t (id int PRIMARY KEY, valid_to timestamp); INSERT INTO t VALUES (1, 'infinity')",
    )
    with open_source(resolve(pg_url)) as src, pytest.raises(BadInputError, match=r"t\.valid_to.*infinity"):
        list(src.read_batches("t"))


def test_when_finished_then_shadow_is_readable_before_publish(shop: str, pg_url2: str) -> None:
    with open_source(resolve(shop)) as src, open_target(resolve(pg_url2)).begin_load(src.schema) as load:
        for key in src.schema.load_order():
            for b in src.read_batches(key):
                load.write(key, b)
        load.finish()
        with load.source() as shadow:
            assert set(shadow.schema.tables) == set(src.schema.tables)
            assert shadow.count("Sales.Line Items") == 3
            assert next(shadow.read_batches("customers"))["email"].tolist() == ["a@x.io", "b@x.io"]
        assert open_target(resolve(pg_url2)).is_empty()  # nothing published yet
        load.publish()
    assert not open_target(resolve(pg_url2)).is_empty()


def test_when_unique_collides_then_check_failed_and_published_kept(shop: str, pg_url2: str) -> None:
    copy_all(shop, pg_url2)
    before = snapshot(pg_url2)

    def same(key: str, b: pd.DataFrame) -> pd.DataFrame:
        return b.assign(email="same@x.io") if key == "customers" else b

    with pytest.raises(CheckFailedError, match="duplicate"):
        copy_all(shop, pg_url2, same)
    assert snapshot(pg_url2) == before
    assert rows(pg_url2, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sanitize_shadow%'") == []


def test_when_target_holds_foreign_objects_then_refused_before_any_ddl(shop: str, pg_url2: str) -> None:
    run_sql(pg_url2, "CREATE TABLE precious (id int)")
    with pytest.raises(TargetRefusedError, match="precious"):
        copy_all(shop, pg_url2)
    assert rows(pg_url2, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sanitize_shadow%'") == []
    assert rows(pg_url2, "SELECT count(*) FROM precious") == [(0,)]


def test_when_second_run_then_refused_by_advisory_lock(shop: str, pg_url2: str) -> None:
    with open_source(resolve(shop)) as src:
        target = open_target(resolve(pg_url2))
        with target.begin_load(src.schema) as first:
            with pytest.raises(ConcurrentRunError):
                target.begin_load(src.schema)
            first.abort()
        with target.begin_load(src.schema) as again:
            again.abort()


def test_when_reader_holds_old_tables_then_publish_succeeds_and_next_run_drops_old(
    shop: str, pg_url2: str
) -> None:
    target = PostgresTarget(resolve(pg_url2), lock_timeout="200ms")
    copy_all(shop, pg_url2, target=target)
    with psycopg.connect(pg_url2.replace("+psycopg", "")) as reader:
        reader.execute("SELECT count(*) FROM customers")  # holds a lock on the old table until rollback
        copy_all(shop, pg_url2, target=target)
        reader.rollback()
    assert rows(pg_url2, "SELECT name, kind FROM sanitize_meta.objects") == [("sanitize_old_public", "old")]
    copy_all(shop, pg_url2, target=target)
    assert rows(pg_url2, "SELECT count(*) FROM sanitize_meta.objects") == [(0,)]
    assert snapshot(pg_url2) == snapshot(shop)


def _assert_lost_connection_fails_cleanly(shop: str, pg_url2: str, load_and_kill: Any) -> None:
    """`load_and_kill(src, load)` loses a connection mid-load: exit 3, published data and no shadow left."""
    copy_all(shop, pg_url2)
    before = snapshot(pg_url2)
    with open_source(resolve(shop)) as src, pytest.raises(ConnectionFailed) as info:  # noqa: PT012, SIM117
        with open_target(resolve(pg_url2)).begin_load(src.schema) as load:
            load_and_kill(src, load)
            load.finish()  # writes run in the background: the error surfaces here at the latest
    assert info.value.exit_code == 3
    assert snapshot(pg_url2) == before
    assert rows(pg_url2, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sanitize_shadow%'") == []


def test_when_target_connection_is_terminated_then_exit_3_and_published_intact(
    shop: str, pg_url2: str
) -> None:
    def load_and_kill(src: Any, load: Any) -> None:
        load.write("customers", next(src.read_batches("customers")))
        run_sql(pg_url2, f"SELECT pg_terminate_backend({load._conn.info.backend_pid})")
        load.write("orders", next(src.read_batches("orders")))

    _assert_lost_connection_fails_cleanly(shop, pg_url2, load_and_kill)


def test_when_a_second_copy_stream_is_terminated_then_exit_3_and_published_intact(
    shop: str, pg_url2: str
) -> None:
    """Loads COPY on two connections at once; losing the second one fails the run like the first."""

    def load_and_kill(src: Any, load: Any) -> None:
        batches = src.read_batches("customers", batch_size=1)
        load.write("customers", next(batches))
        assert len(load._lanes) == 1  # the first batch opened the second stream
        writer, conn = load._lanes[0]
        writer.drain()
        run_sql(pg_url2, f"SELECT pg_terminate_backend({conn.info.backend_pid})")
        for batch in batches:
            load.write("customers", batch)
        for batch in src.read_batches("orders", batch_size=1):  # every other batch: the lost stream
            load.write("orders", batch)

    _assert_lost_connection_fails_cleanly(shop, pg_url2, load_and_kill)


def test_when_password_has_special_characters_then_error_names_server_not_password(shop: str) -> None:
    url = shop.replace("postgres@", "nobody_here:p%40ss%3Aw%2Fo%25rd%23x@")
    with pytest.raises(ConnectionFailed) as info:
        open_source(resolve(url))
    msg = str(info.value)
    assert "127.0.0.1:5432/" in msg
    assert "p@ss:w/o%rd#x" not in msg and "p%40ss" not in msg and "w/o" not in msg


KILLED = """
import sys, time
from sanitize.db import open_source, open_target, resolve
with open_source(resolve(sys.argv[1])) as src:
    load = open_target(resolve(sys.argv[2])).begin_load(src.schema)
    load.write("customers", next(src.read_batches("customers")))
    if sys.argv[3] == "finish":
        for key in src.schema.load_order():
            if key != "customers":
                for b in src.read_batches(key):
                    load.write(key, b)
        load.finish()
    print("READY", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("stage", ["write", "finish"])
def test_when_killed_then_published_intact_and_next_run_cleans_up(
    shop: str, pg_url2: str, tmp_path, stage
) -> None:  # type: ignore[no-untyped-def]
    copy_all(shop, pg_url2)
    run_sql(pg_url2, "UPDATE nopk SET a = 'generation 1'")
    before = snapshot(pg_url2)
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(KILLED))
    proc = subprocess.Popen(
        [sys.executable, str(script), shop, pg_url2, stage], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        assert rows(pg_url2, "SELECT count(*) FROM sanitize_meta.objects WHERE kind = 'shadow'") == [(2,)]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert snapshot(pg_url2) == before
    deadline = time.monotonic() + 10
    while True:  # the server notices the dead session and frees its advisory lock
        try:
            copy_all(shop, pg_url2)
            break
        except ConcurrentRunError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert snapshot(pg_url2) == snapshot(shop)
    assert rows(pg_url2, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sanitize_%' ORDER BY 1") == [
        ("sanitize_meta",)
    ]


def test_when_source_has_partitions_enum_defaults_and_composite_serials_then_target_works_like_it(
    pg_url: str, pg_url2: str, tmp_path: Path
) -> None:
    """Pagila-like features: a partitioned table (copied once, through its parent), an enum column whose
    default names the enum, a serial inside a composite primary key."""
    run_sql(
        pg_url,
        """
        CREATE TYPE rating AS ENUM ('G', 'PG', 'R');
        CREATE TABLE film (id serial PRIMARY KEY, title text NOT NULL, rating rating DEFAULT 'G');
        CREATE TABLE payment (payment_id serial, amount numeric(5,2) NOT NULL, paid timestamptz NOT NULL,
                              PRIMARY KEY (paid, payment_id)) PARTITION BY RANGE (paid);
        CREATE TABLE payment_p1 PARTITION OF payment FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');
        CREATE TABLE payment_p2 PARTITION OF payment FOR VALUES FROM ('2022-02-01') TO ('2022-03-01');
        INSERT INTO film (title, rating) VALUES ('A', 'PG'), ('B', 'R');
        INSERT INTO payment (amount, paid) SELECT g, timestamptz '2022-01-01' + g * interval '1 day'
            FROM generate_series(1, 50) g;
        """,
    )
    with open_source(resolve(pg_url)) as src:
        assert sorted(src.schema.tables) == ["film", "payment"]  # no partitions: their rows are payment's
    copy_all(pg_url, pg_url2)
    assert rows(pg_url2, "SELECT count(*), sum(amount) FROM payment") == [(50, 1275)]
    run_sql(
        pg_url2, "INSERT INTO film (title) VALUES ('C'); INSERT INTO payment (amount, paid) VALUES (1, now())"
    )
    assert rows(pg_url2, "SELECT title, rating::text FROM film ORDER BY id") == [
        ("A", "PG"),
        ("B", "R"),
        ("C", "G"),
    ]
    assert rows(pg_url2, "SELECT max(payment_id) FROM payment") == [(51,)]
    sqlite_path = tmp_path / "dev.db"
    copy_all(pg_url, str(sqlite_path))
    con = sqlite3.connect(sqlite_path)
    try:
        assert con.execute("SELECT count(*) FROM payment").fetchone() == (50,)
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not {"payment_p1", "payment_p2"} & tables
    finally:
        con.close()


def test_when_tables_inherit_or_use_types_sqlalchemy_does_not_know_then_each_row_is_copied_once_as_it_is(
    pg_url: str, pg_url2: str, tmp_path: Path
) -> None:
    """Inheritance children are tables of their own (the parent is read ONLY, or its children's rows
    would be copied twice, and could break its unique constraints); point/xml/ltree-like types keep their
    type on PostgreSQL (text elsewhere); arrays of an enum find the enum in the shadow schema."""
    run_sql(
        pg_url,
        """
        CREATE TYPE mood AS ENUM ('sad', 'happy');
        CREATE TABLE people (id int PRIMARY KEY, email text UNIQUE, loc point, doc xml, moods mood[]);
        CREATE TABLE staff (badge int) INHERITS (people);
        INSERT INTO people VALUES (1, 'a@x.io', point(1, 2), '<a>1</a>', '{sad,happy}');
        INSERT INTO staff VALUES (2, 'a@x.io', point(3, 4), '<b/>', '{happy}', 7);
        """,
    )
    copy_all(pg_url, pg_url2)
    assert rows(pg_url2, "SELECT id, email, loc::text, doc::text, moods::text FROM ONLY people") == [
        (1, "a@x.io", "(1,2)", "<a>1</a>", "{sad,happy}")
    ]
    assert rows(pg_url2, "SELECT id, email, loc::text, badge FROM staff") == [(2, "a@x.io", "(3,4)", 7)]
    assert rows(
        pg_url2,
        "SELECT column_name, udt_name FROM information_schema.columns WHERE table_name = 'people' "
        "AND column_name IN ('loc', 'doc', 'moods') ORDER BY 1",
    ) == [("doc", "xml"), ("loc", "point"), ("moods", "_mood")]
    dev = tmp_path / "dev.db"
    copy_all(pg_url, str(dev))
    con = sqlite3.connect(dev)
    try:
        assert con.execute("SELECT id, loc, doc FROM people").fetchall() == [(1, "(1,2)", "<a>1</a>")]
    finally:
        con.close()


def test_when_the_source_has_views_then_postgres_recreates_them_over_the_loaded_rows(
    pg_url: str, pg_url2: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Views and materialized views are published with the tables (a materialized view is computed
    from the loaded, anonymised rows); a schema holding only views is made too; the next run still owns
    the target; SQLite says it cannot."""
    run_sql(
        pg_url,
        """
        CREATE TABLE people (id int PRIMARY KEY, name text);
        CREATE SCHEMA "Sales";
        CREATE TABLE "Sales".orders (id int PRIMARY KEY, person int REFERENCES people);
        INSERT INTO people VALUES (1, 'Maria Anders'), (2, 'Ana Trujillo');
        INSERT INTO "Sales".orders VALUES (10, 1);
        CREATE VIEW buyers AS SELECT p.name FROM people p JOIN "Sales".orders o ON o.person = p.id;
        CREATE VIEW "Sales".first_buyer AS SELECT * FROM buyers LIMIT 1;
        CREATE MATERIALIZED VIEW names AS SELECT name FROM people;
        CREATE SCHEMA reports;
        CREATE VIEW reports.everyone AS SELECT name FROM people;
        """,
    )

    def rename(key: str, batch: pd.DataFrame) -> pd.DataFrame:
        return batch.assign(name=[f"Person {i}" for i in batch["id"]]) if key == "people" else batch

    for _ in range(2):  # the second run replaces what the first published, views included
        with caplog.at_level("WARNING", logger="sanitize"):
            copy_all(pg_url, pg_url2, rename)
    assert "is not recreated" not in caplog.text
    assert rows(pg_url2, "SELECT name FROM reports.everyone ORDER BY 1") == [("Person 1",), ("Person 2",)]
    assert rows(pg_url2, "SELECT name FROM buyers") == [("Person 1",)]
    assert rows(pg_url2, 'SELECT name FROM "Sales".first_buyer') == [("Person 1",)]
    assert rows(pg_url2, "SELECT name FROM names ORDER BY 1") == [("Person 1",), ("Person 2",)]
    assert rows(pg_url2, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'sanitize_old%'") == [(0,)]
    caplog.clear()
    with caplog.at_level("WARNING", logger="sanitize"):
        copy_all(pg_url, str(tmp_path / "dev.db"))
    assert "4 view(s) and trigger(s) not recreated, as they are postgresql SQL: " in caplog.text


def test_when_a_view_cannot_be_made_then_the_publish_goes_on_without_it(
    pg_url: str, pg_url2: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Views are made in the publishing transaction, each in a savepoint: one calling a function that is
    not copied fails alone; the tables and the other views are published, the failure named."""
    run_sql(
        pg_url,
        """
        CREATE TABLE people (id int PRIMARY KEY, name text);
        INSERT INTO people VALUES (1, 'Ann');
        CREATE FUNCTION twice(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
        CREATE VIEW doubled AS SELECT twice(id) AS n FROM people;
        CREATE VIEW names AS SELECT name FROM people;
        """,
    )
    with caplog.at_level("WARNING", logger="sanitize"):
        copy_all(pg_url, pg_url2)
    assert "view doubled is not recreated: function twice(integer) does not exist" in caplog.text
    assert rows(pg_url2, "SELECT name FROM names") == [("Ann",)]
    assert rows(pg_url2, "SELECT count(*) FROM pg_views WHERE viewname = 'doubled'") == [(0,)]


def test_when_a_unique_index_is_partial_then_postgres_keeps_its_where_and_other_engines_skip_it(
    pg_url: str, pg_url2: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_sql(
        pg_url,
        """
        CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, deleted_at timestamptz);
        CREATE UNIQUE INDEX users_email_live ON users (email) WHERE deleted_at IS NULL;
        INSERT INTO users VALUES (1, 'a@x.io', '2024-01-01'), (2, 'a@x.io', NULL);
        """,
    )
    copy_all(pg_url, pg_url2)
    assert rows(pg_url2, "SELECT indexdef FROM pg_indexes WHERE indexname = 'users_email_live'") == [
        (
            "CREATE UNIQUE INDEX users_email_live ON public.users USING btree (email)"
            " WHERE (deleted_at IS NULL)",
        )
    ]
    with caplog.at_level("WARNING", logger="sanitize"):
        copy_all(pg_url, str(tmp_path / "dev.db"))  # SQLite: loads, without the index
    assert "partial index users_email_live (WHERE (deleted_at IS NULL)) is postgresql SQL" in caplog.text
    con = sqlite3.connect(tmp_path / "dev.db")
    try:
        assert con.execute("SELECT count(*) FROM users").fetchone() == (2,)
    finally:
        con.close()


def test_when_columns_use_extension_types_then_the_target_gets_the_extension_outside_the_swapped_schemas(
    pg_url: str, pg_url2: str, tmp_path: Path
) -> None:
    """citext (Rails' and Django's case-insensitive emails) and hstore: creating the shadow table failed
    on a target without them; installed in `public` they would go with the old generation. sanitize
    installs them in schema sanitize_ext, on the database's search_path; SQLite gets text."""
    available = {r[0] for r in rows(pg_url, "SELECT name FROM pg_available_extensions")}
    if not {"citext", "hstore"} <= available:  # postgresql-contrib: CI's servers have it
        reason = "the PostgreSQL server has no citext/hstore (postgresql-contrib is not installed)"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    run_sql(
        pg_url,
        """
        CREATE EXTENSION IF NOT EXISTS citext; CREATE EXTENSION IF NOT EXISTS hstore;
        CREATE TABLE u (id int PRIMARY KEY, email citext UNIQUE, tags hstore);
        INSERT INTO u VALUES (1, 'Ann@X.io', 'a=>1');
        """,
    )
    for _ in range(2):  # the second run finds the extensions where the first put them
        copy_all(pg_url, pg_url2)
    assert rows(
        pg_url2, "SELECT e.extname, e.extnamespace::regnamespace::text FROM pg_extension e ORDER BY 1"
    ) == [
        ("citext", "sanitize_ext"),
        ("hstore", "sanitize_ext"),
        ("plpgsql", "pg_catalog"),
    ]
    assert rows(pg_url2, "SELECT id, tags -> 'a' FROM u WHERE email = 'ann@x.IO'") == [(1, "1")]
    with pytest.raises(psycopg.errors.UniqueViolation):
        run_sql(
            pg_url2, "INSERT INTO u VALUES (2, 'ANN@x.io', NULL)"
        )  # unique ignoring case, as at the source
    dev = tmp_path / "dev.db"
    copy_all(pg_url, str(dev))
    con = sqlite3.connect(dev)
    try:
        assert con.execute("SELECT email, tags FROM u").fetchall() == [("Ann@X.io", '"a"=>"1"')]
    finally:
        con.close()


def test_when_columns_are_generated_then_postgres_computes_them_and_other_engines_get_the_values(
    pg_url: str, pg_url2: str, tmp_path: Path
) -> None:
    run_sql(
        pg_url,
        """
        CREATE TABLE people (id int PRIMARY KEY, first text, last text,
            "full" text GENERATED ALWAYS AS (first || ' ' || last) STORED);
        INSERT INTO people (id, first, last) VALUES (1, 'Zebulon', 'Quixotewood');
        """,
    )

    def fake(key: str, batch: pd.DataFrame) -> pd.DataFrame:
        return batch.assign(first="Ann", last="Lee", full="Ann Lee")

    copy_all(pg_url, pg_url2, fake)
    assert rows(pg_url2, 'SELECT first, last, "full" FROM people') == [("Ann", "Lee", "Ann Lee")]
    assert rows(
        pg_url2, "SELECT is_generated FROM information_schema.columns WHERE column_name = 'full'"
    ) == [("ALWAYS",)]
    dev = tmp_path / "dev.db"
    copy_all(pg_url, str(dev))  # SQLite cannot run PostgreSQL's expression: the values, as read
    con = sqlite3.connect(dev)
    try:
        assert con.execute('SELECT "full" FROM people').fetchall() == [("Zebulon Quixotewood",)]
    finally:
        con.close()


def test_when_a_kept_full_text_vector_sits_beside_transformed_columns_then_the_run_warns(
    pg_url: str, tmp_path: Path
) -> None:
    """Pagila-style `fulltext tsvector` kept up by a trigger (not copied) holds the words of the text it
    indexes: kept while that text is transformed, it would carry the source's words."""
    run_sql(
        pg_url,
        "CREATE TABLE notes (id int PRIMARY KEY, body text, doc tsvector);"
        "INSERT INTO notes VALUES (1, 'Zebulon called', to_tsvector('Zebulon called'))",
    )
    key = SecretKey(TEST_KEY.encode())
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\ntables:\n  notes:\n    columns: {id: keep, body: redact, doc: keep}\n")
    report = anonymize(str(rules), pg_url, str(tmp_path / "a.db"), key=key)
    assert [w for w in report.warnings if "full-text vector" in w and "notes.doc" in w]
    rules.write_text("version: 1\ntables:\n  notes:\n    columns: {id: keep, body: keep, doc: keep}\n")
    report = anonymize(str(rules), pg_url, str(tmp_path / "b.db"), key=key)
    assert not [w for w in report.warnings if "full-text vector" in w]


def test_when_time_with_time_zone_is_copied_then_postgres_keeps_the_offset_and_sqlite_gets_utc(
    pg_url: str, pg_url2: str, tmp_path: Path
) -> None:
    run_sql(
        pg_url,
        "CREATE TABLE t (id int PRIMARY KEY, tt timetz); INSERT INTO t VALUES (1, '10:00+02'), (2, NULL)",
    )
    copy_all(pg_url, pg_url2)
    assert rows(pg_url2, "SELECT tt::text FROM t ORDER BY id") == [("10:00:00+02",), (None,)]
    dev = tmp_path / "dev.db"
    copy_all(pg_url, str(dev))
    con = sqlite3.connect(dev)
    try:
        assert con.execute("SELECT tt FROM t ORDER BY id").fetchall() == [("08:00:00",), (None,)]
    finally:
        con.close()


def test_when_the_second_copy_stream_cannot_connect_then_the_load_goes_on_one(
    shop: str, pg_url2: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A server at max_connections refuses the second COPY connection: the load still completes."""
    import sanitize.db.pg_target as pg_target

    def refuse(ref: Any, **_kw: Any) -> Any:
        raise ConnectionFailed(f"cannot connect to {ref.display}: too many clients already")

    with open_source(resolve(shop)) as src, open_target(resolve(pg_url2)).begin_load(src.schema) as load:
        monkeypatch.setattr(pg_target, "pg_connect", refuse)  # the load's own connection is already open
        with caplog.at_level("WARNING", logger="sanitize"):
            for key in src.schema.load_order():
                for batch in src.read_batches(key, batch_size=1):
                    load.write(key, batch)
        load.finish()
        load.publish()
    assert "loading on one connection" in caplog.text
    assert snapshot(pg_url2) == snapshot(shop)
