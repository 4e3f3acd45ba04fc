"""SQLite source and target: schema fidelity, odd values, read-only sources, atomic publish, kills."""

from __future__ import annotations

import decimal
import math
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanitize.db import open_source, open_target, resolve
from sanitize.db.sqlite import sqlite_ready
from sanitize.errors import BadInputError, CheckFailedError, ConcurrentRunError, LoadError, UrlError
from sanitize.schema import Column, Schema, Table

SHOP_SQL = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email VARCHAR(120) NOT NULL UNIQUE,
    name TEXT,
    balance NUMERIC(12, 2) DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT 1,
    created DATETIME DEFAULT CURRENT_TIMESTAMP,
    born DATE,
    photo BLOB,
    score REAL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    placed DATETIME NOT NULL,
    status VARCHAR(10) NOT NULL DEFAULT 'new'
);
CREATE INDEX ix_orders_customer ON orders(customer_id);
CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES orders(id),
    line INTEGER NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (order_id, line)
);
CREATE TABLE shipments (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL,
    line INTEGER NOT NULL,
    FOREIGN KEY (order_id, line) REFERENCES order_items(order_id, line)
);
CREATE UNIQUE INDEX ux_shipments_line ON shipments(order_id, line);
CREATE TABLE employees (
    id INTEGER PRIMARY KEY,
    manager_id INTEGER REFERENCES employees(id),
    dept_id INTEGER REFERENCES departments(id)
);
CREATE TABLE departments (
    id INTEGER PRIMARY KEY,
    head_id INTEGER REFERENCES employees(id),
    name TEXT NOT NULL
);
CREATE TABLE audit (at TEXT, what TEXT);
CREATE TABLE empty_one (id INTEGER PRIMARY KEY, note TEXT);
INSERT INTO customers VALUES
  (1, 'a@x.io', 'Ann', 10.5, 1, '2024-01-02 03:04:05', '1980-05-06', X'00FF', 1.25),
  (2, 'b@x.io', NULL, NULL, 0, '2024-01-02 03:04:05.123456', NULL, NULL, NULL);
INSERT INTO orders VALUES (10, 1, '2024-02-01 00:00:00', 'paid'), (11, 2, '2024-02-02 12:00:00', 'new');
INSERT INTO order_items VALUES (10, 1, 'A-1', 2), (10, 2, 'B-2', 1), (11, 1, 'A-1', 5);
INSERT INTO shipments VALUES (1, 10, 1), (2, 11, 1);
INSERT INTO departments VALUES (1, NULL, 'ops');
INSERT INTO employees VALUES (1, NULL, 1), (2, 1, 1), (3, 2, 1);
UPDATE departments SET head_id = 1;
INSERT INTO audit VALUES ('now', 'x'), ('now', 'x');
"""


def make_db(path: Path, sql: str = SHOP_SQL) -> Path:
    with sqlite3.connect(path) as c:
        c.executescript(sql)
    return path


def copy_all(src_path: Path, dst_path: Path, transform=None, tables=None) -> None:  # type: ignore[no-untyped-def]
    with open_source(resolve(str(src_path))) as src:
        target = open_target(resolve(str(dst_path)))
        with target.begin_load(src.schema, tables=tables) as load:
            for key in src.schema.load_order(tables):
                for batch in src.read_batches(key, batch_size=2):
                    load.write(key, transform(key, batch) if transform else batch)
            load.finish()
            load.publish()


def dump(path: Path) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    with sqlite3.connect(path) as c:
        names = [
            r[0]
            for r in c.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name != 'sanitize_meta'"
            )
        ]
        return {n: c.execute(f"SELECT * FROM {quote(n)} ORDER BY 1, 2").fetchall() for n in names}


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return make_db(tmp_path / "shop.db")


def test_when_copied_then_schema_is_recreated(shop: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dev.db"
    copy_all(shop, dst)
    with open_source(resolve(str(shop))) as a, open_source(resolve(str(dst))) as b:
        assert set(a.schema.tables) == set(b.schema.tables)
        for key, t in a.schema.tables.items():
            u = b.schema[key]
            assert [(c.name, c.kind, c.nullable, c.max_length, c.precision, c.scale) for c in t.columns] == [
                (c.name, c.kind, c.nullable, c.max_length, c.precision, c.scale) for c in u.columns
            ], key
            assert t.primary_key == u.primary_key, key
            assert {(f.columns, f.ref_table, f.ref_columns) for f in t.foreign_keys} == {
                (f.columns, f.ref_table, f.ref_columns) for f in u.foreign_keys
            }, key
            assert set(t.unique_constraints) == set(u.unique_constraints), key
            assert {(i.columns, i.unique) for i in t.indexes} == {(i.columns, i.unique) for i in u.indexes}, (
                key
            )
        cust = b.schema["customers"]
        assert cust.column("balance").default == "0"
        assert cust.column("active").default == "1" and cust.column("created").default == "CURRENT_TIMESTAMP"
        assert b.schema["orders"].column("status").default == "'new'"
        assert b.schema["shipments"].foreign_keys[0].columns == ("order_id", "line")  # composite
        assert {fk.ref_table for fk in b.schema["employees"].foreign_keys} == {"employees", "departments"}
    assert dump(shop) == dump(dst)
    with sqlite3.connect(dst) as c:
        assert c.execute("PRAGMA foreign_key_check").fetchall() == []


def test_when_read_then_pyarrow_dtypes_and_batches_of_requested_size(shop: Path) -> None:
    with open_source(resolve(str(shop))) as src:
        batches = list(src.read_batches("order_items", batch_size=2))
        assert [len(b) for b in batches] == [2, 1]
        cust = next(src.read_batches("customers", columns=["id", "created", "photo"]))
        assert list(cust.columns) == ["id", "created", "photo"]
        assert all(isinstance(cust[c].dtype, pd.ArrowDtype) for c in ("id", "photo"))
        assert str(cust["created"].dtype) == "str"  # SQLite's date/time values: the text the file holds
        assert cust["photo"].iloc[0] == b"\x00\xff"
        assert list(src.read_batches("empty_one")) == []
        assert src.count("order_items") == 3 and src.count("empty_one") == 0
        assert list(src.sample("empty_one", 5).columns) == ["id", "note"]


def test_when_sampled_then_rows_are_spread_and_deterministic(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        c.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"v{i}") for i in range(1000)])
    with open_source(resolve(str(db))) as src:
        s1, s2 = src.sample("t", 10), src.sample("t", 10)
    assert len(s1) == 10 and s1.equals(s2)
    assert s1["id"].min() == 0 and s1["id"].max() >= 900  # spread over the whole table


ODD_TEXT = [
    "",
    " ",
    "0042",
    "\\N",
    "\\.",
    "a\tb\nc\r\nd",
    "q\"u'o,te",
    "back\\slash",
    "ünïcödé",
    "emoji 🎉👩‍👩‍👧",
    "x" * 1_000_000,
]


def test_when_odd_values_then_they_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "odd.db"
    with sqlite3.connect(src) as c:
        c.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, f REAL, d DATE, ts DATETIME, b BLOB, "
            "big INTEGER)"
        )
        rows: list[tuple[object, ...]] = [
            (i, s, None, None, None, None, None) for i, s in enumerate(ODD_TEXT)
        ]
        rows += [
            (100, None, float("inf"), "0001-01-01", "0001-01-01 00:00:00", b"", -(2**63)),
            (
                101,
                None,
                float("-inf"),
                "9999-12-31",
                "9999-12-31 23:59:59.999999",
                bytes(range(256)),
                2**63 - 1,
            ),
            (102, None, -0.0, "1970-01-01", "1969-12-31 23:59:59.5", b"\x00", 0),
            (103, None, None, None, None, None, None),
        ]
        c.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    dst = tmp_path / "out.db"
    copy_all(src, dst)
    with sqlite3.connect(dst) as c:
        got = c.execute("SELECT * FROM t ORDER BY id").fetchall()
    assert [r[1] for r in got[: len(ODD_TEXT)]] == ODD_TEXT  # NULL vs "" kept, text exact
    assert got[-4][2] == math.inf and got[-3][2] == -math.inf and got[-1] == (103,) + (None,) * 6
    assert got[-4][3:5] == ("0001-01-01", "0001-01-01 00:00:00")
    assert got[-3][3:5] == ("9999-12-31", "9999-12-31 23:59:59.999999")
    assert got[-2][4] == "1969-12-31 23:59:59.5"  # as the file holds it
    assert [r[5] for r in got[-4:-1]] == [b"", bytes(range(256)), b"\x00"]
    assert [r[6] for r in got[-4:-1]] == [-(2**63), 2**63 - 1, 0]


def test_when_nan_written_to_sqlite_then_it_is_stored_as_null(tmp_path: Path) -> None:
    """SQLite has no NaN (it stores NULL); a NOT NULL column then refuses the row."""
    src = make_db(tmp_path / "n.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, f REAL);")
    with (
        open_source(resolve(str(src))) as s,
        open_target(resolve(str(tmp_path / "o.db"))).begin_load(s.schema) as load,
    ):
        load.write("t", pd.DataFrame({"id": [1], "f": [float("nan")]}))
        load.finish()
        load.publish()
    with sqlite3.connect(tmp_path / "o.db") as c:
        assert c.execute("SELECT f FROM t").fetchall() == [(None,)]


def test_when_source_written_through_its_connection_then_it_fails(shop: Path) -> None:
    with open_source(resolve(str(shop))) as src:
        cur = src._conn.cursor()  # type: ignore[attr-defined]  # the connection sanitize reads with
        with pytest.raises(Exception, match="readonly"):
            cur.execute("INSERT INTO audit VALUES ('x', 'y')")
            cur.fetchall()
        cur.close()
    assert dump(shop)["audit"] == [("now", "x"), ("now", "x")]


def test_when_mixed_types_in_a_column_then_clear_read_error(tmp_path: Path) -> None:
    db = make_db(tmp_path / "m.db", "CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), ('abc');")
    with open_source(resolve(str(db))) as src, pytest.raises(BadInputError, match=r"t\.n"):
        list(src.read_batches("t"))


def test_when_not_a_sqlite_file_then_url_error(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text("version: 1\n")
    with pytest.raises(UrlError, match="not a SQLite database"):
        open_source(resolve(str(bad)))
    with pytest.raises(UrlError, match="no SQLite file"):
        open_source(resolve(str(tmp_path / "missing.db")))


def test_when_transformed_value_does_not_fit_then_load_error_names_column(shop: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dev.db"

    def bad(key: str, batch: pd.DataFrame) -> pd.DataFrame:
        if key == "order_items":
            batch = batch.assign(qty="a few")
        return batch

    with pytest.raises(LoadError, match=r"order_items\.qty: value 'a few'"):
        copy_all(shop, dst, bad)
    assert not dst.exists()
    assert not list(tmp_path.glob(".dev.db.sanitize-shadow-*"))


def test_when_integers_pseudonymised_then_they_are_cast_to_the_column_type(
    shop: Path, tmp_path: Path
) -> None:
    def as_text(key: str, batch: pd.DataFrame) -> pd.DataFrame:
        return batch.assign(qty=batch["qty"].astype(str)) if key == "order_items" else batch

    copy_all(shop, tmp_path / "dev.db", as_text)
    assert dump(tmp_path / "dev.db")["order_items"] == dump(shop)["order_items"]


def test_when_unique_values_collide_then_check_failed_and_old_target_kept(shop: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dev.db"
    copy_all(shop, dst)
    before = dst.read_bytes()

    def same_email(key: str, batch: pd.DataFrame) -> pd.DataFrame:
        return batch.assign(email="same@x.io") if key == "customers" else batch

    with pytest.raises(CheckFailedError, match="customers"):
        copy_all(shop, dst, same_email)
    assert dst.read_bytes() == before


UNIQUES_SQL = """
CREATE TABLE "odd ""name" (
    code TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    a INTEGER, b TEXT,
    UNIQUE (email), UNIQUE (b, a), UNIQUE (code)
);
CREATE TABLE plain (id INTEGER PRIMARY KEY, tag TEXT UNIQUE, parent TEXT);
INSERT INTO "odd ""name" VALUES
  ('k1', 'A@x.io', 1, 'x'), ('k2', 'b@x.io', 1, 'y'), ('k3', 'c@x.io', NULL, NULL);
INSERT INTO plain VALUES (1, 't1', 'k1'), (2, NULL, 'k2'), (3, NULL, NULL);
"""


def index_origins(path: Path, table: str) -> set[tuple[str, int, tuple[str, ...]]]:
    with sqlite3.connect(path) as c:
        out = set()
        for _, name, unique, origin, _partial in c.execute(f"PRAGMA index_list({quote(table)})"):
            cols = tuple(r[2] for r in c.execute(f"PRAGMA index_info({quote(name)})"))
            out.add((origin, unique, cols))
        return out


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def test_when_unique_constraints_are_built_after_the_data_then_sqlite_reads_them_as_constraints(
    tmp_path: Path,
) -> None:
    src = make_db(tmp_path / "u.db", UNIQUES_SQL)
    dst = tmp_path / "dev.db"
    copy_all(src, dst)
    for table in ('odd "name', "plain"):
        assert index_origins(dst, table) == index_origins(src, table), table
    with sqlite3.connect(dst) as c:
        assert c.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert not c.execute("SELECT name FROM sqlite_master WHERE name LIKE 'sanitize_unique%'").fetchall()
        assert (
            "UNIQUE (b, a)"
            in c.execute("SELECT sql FROM sqlite_master WHERE name = 'odd \"name'").fetchone()[0]
        )
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed"):
            c.execute("""INSERT INTO "odd ""name" VALUES ('k9', 'A@x.io', 5, 'z')""")
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed"):
            c.execute("INSERT INTO plain VALUES (9, 't1', NULL)")
    assert dump(dst) == dump(src)
    with open_source(resolve(str(dst))) as d:
        assert set(d.schema['odd "name'].unique_constraints) == {("email",), ("b", "a")}  # (code) is the key


def test_when_a_unique_column_of_an_early_table_collides_then_check_failed_before_publish(
    tmp_path: Path,
) -> None:
    """The unique index of a table is built on the writer thread once the next table starts."""
    src = make_db(tmp_path / "u.db", UNIQUES_SQL)
    dst = tmp_path / "dev.db"

    def same_b(key: str, batch: pd.DataFrame) -> pd.DataFrame:
        return batch.assign(a=1, b="x") if key == 'odd "name' else batch

    with pytest.raises(CheckFailedError, match='odd "name: duplicate values'):
        copy_all(src, dst, same_b)
    assert not dst.exists() and not list(tmp_path.glob(".dev.db.sanitize-shadow-*"))


def test_when_a_source_without_sqlite_types_is_loaded_then_an_integer_key_is_the_rowid(
    tmp_path: Path,
) -> None:
    schema = Schema(
        {
            "t": Table(
                "t", "t", columns=(Column("id", "integer", False), Column("v", "text")), primary_key=("id",)
            )
        }
    )
    dst = tmp_path / "dev.db"
    with open_target(resolve(str(dst))).begin_load(schema) as load:
        load.write("t", pd.DataFrame({"id": [5, 7], "v": ["a", "b"]}))
        load.finish()
        load.publish()
    with sqlite3.connect(dst) as c:
        assert c.execute("SELECT rowid, id FROM t ORDER BY id").fetchall() == [(5, 5), (7, 7)]
        assert c.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 't'"
        ).fetchone() == (0,)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, None, 1_500_000], ["1970-01-01 00:00:00", None, "1970-01-01 00:00:01.500000"]),  # mixed
        ([-1], ["1969-12-31 23:59:59.999999"]),  # all with a fraction
        ([86_400_000_000], ["1970-01-02 00:00:00"]),  # none with a fraction
    ],
)
def test_when_timestamps_are_written_then_the_text_is_isoformat_with_a_space(
    values: list[int | None], expected: list[str | None]
) -> None:
    for tz, suffix in ((None, ""), ("UTC", "+00:00")):
        table = pa.table({"t": pa.array(values, pa.timestamp("us", tz=tz))})
        assert sqlite_ready(table).column("t").to_pylist() == [
            e if e is None else e + suffix for e in expected
        ]
    assert sqlite_ready(pa.table({"t": pa.array([1_000_000, 500], pa.time64("us"))})).column(
        "t"
    ).to_pylist() == ["00:00:01", "00:00:00.000500"]


def test_when_a_read_stops_early_then_its_prefetch_thread_ends_and_the_source_is_usable(shop: Path) -> None:
    with open_source(resolve(str(shop))) as src:
        first = src.read_batches("order_items", batch_size=1)
        assert len(next(first)) == 1
        first.close()  # type: ignore[attr-defined]
        assert src.count("order_items") == 3
        left_open = src.read_batches("customers", batch_size=1)
        next(left_open)  # not closed by the caller: closing the source stops it
    assert not [t for t in threading.enumerate() if t.name == "sanitize-reader"]


def test_when_foreign_key_dangles_then_check_failed_and_nothing_published(shop: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dev.db"

    def orphan(key: str, batch: pd.DataFrame) -> pd.DataFrame:
        return batch.assign(customer_id=999) if key == "orders" else batch

    with pytest.raises(CheckFailedError, match="reference rows that do not exist") as info:
        copy_all(shop, dst, orphan)
    assert info.value.exit_code == 1 and "orders" in str(info.value)
    assert not dst.exists()


def test_when_exception_inside_load_then_aborted_and_published_kept(shop: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dev.db"
    copy_all(shop, dst)
    before = dump(dst)
    with open_source(resolve(str(shop))) as src, pytest.raises(RuntimeError):  # noqa: PT012, SIM117
        with open_target(resolve(str(dst))).begin_load(src.schema) as load:
            load.write("customers", next(src.read_batches("customers")))
            raise RuntimeError("transform crashed")
    assert dump(dst) == before
    assert not list(tmp_path.glob(".dev.db.sanitize-shadow-*"))


def test_when_shadow_read_before_publish_then_it_holds_the_new_data(shop: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dev.db"
    with (
        open_source(resolve(str(shop))) as src,
        open_target(resolve(str(dst))).begin_load(src.schema) as load,
    ):
        for key in src.schema.load_order():
            for b in src.read_batches(key):
                load.write(key, b)
        load.finish()
        with load.source() as shadow:
            assert shadow.count("order_items") == 3
            assert set(shadow.schema.tables) == set(src.schema.tables)
        assert not dst.exists()
        load.publish()
    target = open_target(resolve(str(dst)))
    assert target.is_owned() and not target.is_empty()
    assert set(target.published_schema().tables) == set(dump(shop))  # type: ignore[union-attr]


def test_when_second_run_starts_during_a_load_then_refused(shop: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dev.db"
    with open_source(resolve(str(shop))) as src:
        target = open_target(resolve(str(dst)))
        with target.begin_load(src.schema) as first:
            with pytest.raises(ConcurrentRunError) as info:
                target.begin_load(src.schema)
            assert info.value.exit_code == 3
            first.abort()
        with target.begin_load(src.schema) as again:  # the lock is free once the first run ended
            again.abort()


def test_when_subset_of_tables_then_only_those_and_their_internal_fks(shop: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dev.db"
    copy_all(shop, dst, tables=["orders", "audit"])
    assert set(dump(dst)) == {"orders", "audit"}


KILLED_LOAD = """
import os, sys, time
import pandas as pd
from sanitize.db import open_source, open_target, resolve
with open_source(resolve(sys.argv[1])) as src:
    load = open_target(resolve(sys.argv[2])).begin_load(src.schema)
    load.write("customers", next(src.read_batches("customers")))
    print("LOADING", flush=True)
    time.sleep(60)
"""


def test_when_load_killed_then_target_intact_and_next_run_cleans_shadow(shop: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dev.db"
    copy_all(shop, dst)
    before = dst.read_bytes()
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(KILLED_LOAD))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(shop), str(dst)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "LOADING"
        assert list(tmp_path.glob(".dev.db.sanitize-shadow-*"))  # mid-load: the shadow exists
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert dst.read_bytes() == before
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the killed process's lock is released by the kernel
        try:
            copy_all(shop, dst)
            break
        except ConcurrentRunError:
            time.sleep(0.05)
    assert not list(tmp_path.glob(".dev.db.sanitize-shadow-*"))
    assert dump(dst) == dump(shop)


def _copy_decimals(
    tmp: Path, precision: int, scale: int, texts: list[str | None]
) -> list[list[tuple[object, ...]]]:
    """Source rows inserted as decimal text, copied through a load; (source, target) typeof and value."""
    src, dst = tmp / "src.db", tmp / "dst.db"
    with sqlite3.connect(src) as con:
        con.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, v NUMERIC({precision},{scale}))")
        con.executemany("INSERT INTO t (v) VALUES (?)", [(v,) for v in texts])
    with open_source(resolve(str(src))) as s, open_target(resolve(str(dst))).begin_load(s.schema) as load:
        for batch in s.read_batches("t"):
            load.write("t", batch)
        load.finish()
        load.publish()
    out = []
    for path in (src, dst):
        con = sqlite3.connect(path)
        out.append(con.execute("SELECT typeof(v), v FROM t ORDER BY id").fetchall())
        con.close()
    return out


@pytest.mark.parametrize(
    ("precision", "scale", "texts"),
    [
        (12, 2, ["1234.56", "12.00", "-0.01", "0", None, "9999999999.99", "0.10"]),
        (15, 6, ["123456789.123456", "-0.000001", "1.5", None]),
        (15, 0, ["999999999999999", "-999999999999999", "7"]),
        (20, 4, ["1234567890123456.7891", "-1.0000", None]),  # more than 15 digits: written as text
    ],
)
def test_when_decimals_are_copied_then_sqlite_stores_what_their_text_would_store(
    tmp_path: Path, precision: int, scale: int, texts: list[str | None]
) -> None:
    """Decimals reach SQLite as the correctly rounded double (not as text): the stored storage class
    and value must be exactly what SQLite makes of the decimal's own text."""
    source, target = _copy_decimals(tmp_path, precision, scale, texts)
    assert target == source


@settings(max_examples=25, deadline=None)
@given(
    scale=st.sampled_from([0, 1, 2, 4, 6]),
    unscaled=st.lists(st.integers(-(10**15) + 1, 10**15 - 1) | st.none(), min_size=1, max_size=40),
)
def test_when_random_decimals_are_copied_then_sqlite_stores_what_their_text_would_store(
    scale: int, unscaled: list[int | None]
) -> None:
    texts = [None if u is None else str(decimal.Decimal(u).scaleb(-scale)) for u in unscaled]
    with tempfile.TemporaryDirectory() as tmp:
        source, target = _copy_decimals(Path(tmp), 15, scale, texts)
    assert target == source


def test_when_the_source_has_views_then_sqlite_recreates_them_over_the_loaded_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Views (Northwind's have spaces in their names, and read other views) are made again in the
    target, so they show the loaded rows; one that reads a table that is not there is left out and
    named in a warning."""
    src = make_db(
        tmp_path / "nw.db",
        """
        CREATE TABLE "Customers" (id TEXT PRIMARY KEY, name TEXT, city TEXT);
        CREATE VIEW "Customers by City" AS SELECT city, name FROM "Customers";
        CREATE VIEW "Berlin" AS SELECT name FROM "Customers by City" WHERE city = 'Berlin';
        CREATE VIEW "Broken" AS SELECT * FROM "Nowhere";
        CREATE VIEW "Boss" AS SELECT * FROM "Customers" WHERE name = 'maria@alfki.de' OR city = '2024-01-01';
        INSERT INTO "Customers" VALUES ('ALFKI', 'Maria Anders', 'Berlin');
        INSERT INTO "Customers" VALUES ('ANATR', 'Ana Trujillo', 'Mexico');
        """,
    )
    dst = tmp_path / "dev.db"

    def rename(key: str, batch: pd.DataFrame) -> pd.DataFrame:
        return batch.assign(name=["Person " + str(i) for i in range(len(batch))])

    with caplog.at_level("WARNING", logger="sanitize"):
        copy_all(src, dst, rename)
    assert "view Broken is not recreated: no such table: main.Nowhere" in caplog.text
    # its SQL is copied as written: a literal that looks like personal data is pointed out
    assert (
        "view Boss is copied as written and its SQL holds 1 literal(s) that look like personal" in caplog.text
    )
    assert "view Berlin is copied as written" not in caplog.text
    with sqlite3.connect(dst) as c:
        views = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")]
        assert views == ["Berlin", "Boss", "Customers by City"]
        assert c.execute('SELECT name FROM "Berlin"').fetchall() == [("Person 0",)]


def test_when_a_unique_index_is_partial_then_it_keeps_its_where_and_soft_deleted_duplicates_load(
    tmp_path: Path,
) -> None:
    """`UNIQUE ... WHERE deleted_at IS NULL` (soft delete): built without its WHERE it refused the
    source's own rows and nothing was published."""
    src = make_db(
        tmp_path / "u.db",
        """
        CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, deleted_at TEXT);
        CREATE UNIQUE INDEX users_email_live ON users (email) WHERE deleted_at IS NULL;
        INSERT INTO users VALUES (1, 'a@x.io', '2024-01-01'), (2, 'a@x.io', NULL);
        """,
    )
    dst = tmp_path / "dev.db"
    copy_all(src, dst)
    with sqlite3.connect(dst) as c:
        made = c.execute("SELECT sql FROM sqlite_master WHERE name = 'users_email_live'").fetchone()[0]
        assert made.endswith("WHERE deleted_at IS NULL")
        assert c.execute("SELECT count(*) FROM users").fetchone() == (2,)
        with pytest.raises(sqlite3.IntegrityError):
            c.execute("INSERT INTO users VALUES (3, 'a@x.io', NULL)")


def test_when_columns_are_generated_then_the_target_computes_them_from_the_sanitised_columns(
    tmp_path: Path,
) -> None:
    """A generated column kept by its rule held the source's value (a full name made of a first and
    last name that were faked): now SQLite computes it again from the loaded columns."""
    src = make_db(
        tmp_path / "g.db",
        """
        CREATE TABLE people (id INTEGER PRIMARY KEY, first TEXT, last TEXT,
            full TEXT GENERATED ALWAYS AS (first || ' ' || last) VIRTUAL,
            shout TEXT AS (upper(first)) STORED);
        INSERT INTO people (id, first, last) VALUES (1, 'Zebulon', 'Quixotewood');
        """,
    )
    dst = tmp_path / "dev.db"

    def fake(key: str, batch: pd.DataFrame) -> pd.DataFrame:
        return batch.assign(first="Ann", last="Lee")

    copy_all(src, dst, fake)
    with sqlite3.connect(dst) as c:
        assert c.execute("SELECT first, last, full, shout FROM people").fetchall() == [
            ("Ann", "Lee", "Ann Lee", "ANN")
        ]
        made = c.execute("SELECT sql FROM sqlite_master WHERE name = 'people'").fetchone()[0]
    assert "GENERATED ALWAYS AS (first || ' ' || last) VIRTUAL" in made and "STORED" in made
    assert b"Quixotewood" not in dst.read_bytes() and b"ZEBULON" not in dst.read_bytes()


def test_when_the_source_has_triggers_then_sqlite_makes_them_after_the_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Triggers (an `updated_at` kept up to date, an audit row per change) are made after the data, so
    they do not fire on the load; one on a table left out is named in a warning."""
    src = make_db(
        tmp_path / "t.db",
        """
        CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, updated_at TEXT);
        CREATE TABLE audit (note INTEGER, what TEXT);
        CREATE TABLE scratch (x INTEGER);
        CREATE TRIGGER notes_touch AFTER UPDATE OF body ON notes BEGIN
            UPDATE notes SET updated_at = 'touched' WHERE id = NEW.id;
            INSERT INTO audit VALUES (NEW.id, 'update');
        END;
        CREATE TRIGGER notes_new AFTER INSERT ON notes BEGIN INSERT INTO audit VALUES (NEW.id, 'insert'); END;
        CREATE TRIGGER scratch_new AFTER INSERT ON scratch BEGIN SELECT 1; END;
        INSERT INTO notes VALUES (1, 'hello', 'then');
        """,
    )
    dst = tmp_path / "dev.db"
    with caplog.at_level("WARNING", logger="sanitize"):
        copy_all(src, dst, tables=["notes", "audit"])
    assert "trigger scratch_new is not recreated: no such table: main.scratch" in caplog.text
    with sqlite3.connect(dst) as c:
        assert c.execute("SELECT * FROM audit").fetchall() == [(1, "insert")]  # the source's row only
        c.execute("UPDATE notes SET body = 'bye' WHERE id = 1")
        assert c.execute("SELECT updated_at FROM notes").fetchone() == ("touched",)
        assert c.execute("SELECT * FROM audit").fetchall() == [(1, "insert"), (1, "update")]


def test_when_columns_have_no_declared_type_then_values_keep_their_storage_class(tmp_path: Path) -> None:
    """`CREATE TABLE t (a, b)`: such columns were read as text, turning numbers into text and bytes
    that are not UTF-8 into broken text. One storage class throughout is now the column's kind."""
    src = tmp_path / "u.db"
    with sqlite3.connect(src) as c:
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n, r, b, s, mixed, empty)")
        c.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, NULL)",
            [
                (1, 7, 2.5, b"\xff\x00\x01", "x", 1),
                (2, -3, None, b"", "", "one"),
                (3, None, 1e300, None, None, None),
            ],
        )
    dst = tmp_path / "dev.db"
    copy_all(src, dst)
    same = (
        "SELECT id, quote(n), typeof(n), quote(r), typeof(r), quote(b), typeof(b), quote(s), typeof(s) FROM t"
    )
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        assert b.execute(same).fetchall() == a.execute(same).fetchall()
        # mixed storage classes still travel as their text
        assert b.execute("SELECT mixed, typeof(mixed) FROM t ORDER BY id").fetchall()[:2] == [
            ("1", "text"),
            ("one", "text"),
        ]
