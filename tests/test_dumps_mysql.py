"""mysqldump files as sources and dump -> sanitised dump, against the real MariaDB server and tools."""

from __future__ import annotations

import gzip
import logging
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from sanitize.dumps import is_dump_path, open_dump_source, read_dump_schema, rewrite_dump
from sanitize.dumps.mysqldump import parse_insert
from sanitize.errors import DumpError
from sanitize.keys import SecretKey
from sanitize.pipeline import anonymize
from sanitize.schema import Schema
from sanitize.strategies import ColumnContext, get
from sanitize.strategies.apply import apply_strategy

from .conftest import TEST_KEY

pytestmark = pytest.mark.mariadb

DUMP = shutil.which("mariadb-dump") or shutil.which("mysqldump") or "mysqldump"
CLIENT = shutil.which("mariadb") or shutil.which("mysql") or "mariadb"
if shutil.which(DUMP) is None or shutil.which(CLIENT) is None:  # pragma: no cover
    pytest.skip("mysqldump/mariadb client tools are not installed", allow_module_level=True)

DDL = [
    """CREATE TABLE customers (
        id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
        email varchar(200) NOT NULL UNIQUE,
        full_name text,
        zip char(5),
        balance decimal(12,2),
        score double,
        active tinyint(1),
        born date,
        seen datetime(6),
        profile json,
        avatar blob,
        kind enum('a','b'),
        notes text,
        KEY idx_zip (zip)
    ) DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE orders (
        id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
        customer_id int NOT NULL,
        code varchar(20) NOT NULL,
        note text,
        UNIQUE KEY uq_code (customer_id, code),
        CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
    ) DEFAULT CHARSET=utf8mb4""",
]

AWKWARD = [
    "plain",
    "",
    "\\N",
    "\\.",
    "tab\there",
    "new\nline",
    "cr\rhere",
    "back\\slash\\",
    "quote ' \" both",
    "ünïcödé ✓",
    "emoji 😀👍🏽",
    '{"k": "v\\n"}',
    "00042",
    "ctrl-z \x1a and nul-free",
    "per%cent_under",
    None,
]


def _args(url: str) -> tuple[list[str], str]:
    u = sa.engine.make_url(url)
    return [
        "-h",
        u.host or "127.0.0.1",
        "-P",
        str(u.port or 3306),
        "-u",
        u.username or "root",
        "--default-character-set=utf8mb4",
    ], u.database or ""


def mysqldump(url: str, out: Path, *extra: str) -> Path:
    args, db = _args(url)
    with open(out, "wb") as f:
        subprocess.run(
            [DUMP, *args, *extra, *([] if "--databases" in extra else [db])],
            check=True,
            stdout=f,
            stderr=subprocess.PIPE,
        )
    return out


def mysqldump_after(url: str, path: Path, *statements: str, extra: tuple[str, ...] = ()) -> Path:
    """`statements` run on the source database, then its mysqldump at `path`."""
    eng = _engine(url)
    with eng.begin() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql)
    eng.dispose()
    return mysqldump(url, path, *extra)


def restore(url: str, dump: Path) -> None:
    args, db = _args(url)
    with open(dump, "rb") as f:
        subprocess.run([CLIENT, *args, db], check=True, stdin=f, capture_output=True)


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url + "?charset=utf8mb4")


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    eng = _engine(url)
    with eng.connect() as conn:
        out = [tuple(r) for r in conn.exec_driver_sql(sql)]
    eng.dispose()
    return out


def build_fixture(url: str, n: int = 40) -> None:
    eng = _engine(url)
    with eng.begin() as conn:
        for stmt in DDL:
            conn.exec_driver_sql(stmt)
        rows = []
        for i in range(n):
            text = AWKWARD[i % len(AWKWARD)]
            rows.append(
                {
                    "email": f"person{i}@example.com",
                    "full_name": f"Real Person {i} {text or ''}",
                    "zip": f"{i:05d}",
                    "balance": f"{i * 10.25:.2f}",
                    "score": 1.5 * i if i % 4 else None,
                    "active": None if i % 7 == 0 else i % 2,
                    "born": f"19{50 + i % 40}-0{1 + i % 9}-1{i % 9}",
                    "seen": f"2024-03-0{1 + i % 9} 1{i % 10}:30:15.{i:06d}",
                    "profile": '{"name": "Real Person", "tags": ["a\\tb", "c\\\\d"], "n": ' + str(i) + "}",
                    "avatar": bytes((i * 37 + k) % 256 for k in range(i % 24)) if i % 6 else None,
                    "kind": ["a", "b", None][i % 3],
                    "notes": text,
                }
            )
        conn.execute(
            sa.text(
                "INSERT INTO customers (email, full_name, zip, balance, score, active, born, seen, profile,"
                " avatar, kind, notes) VALUES (:email, :full_name, :zip, :balance, :score, :active, :born,"
                " :seen, :profile, :avatar, :kind, :notes)"
            ),
            rows,
        )
        conn.exec_driver_sql(
            "INSERT INTO orders (customer_id, code, note) "
            "SELECT c.id, CONCAT('A', g.n), 'order\\tnote\\\\x\\n' "
            "FROM customers c CROSS JOIN (SELECT 1 AS n UNION SELECT 2 UNION SELECT 3) g"
        )
    eng.dispose()


def make_transform(
    schema: Schema, rules: dict[str, dict[str, tuple[str, dict[str, object]]]], key: SecretKey
) -> Callable[[str, pd.DataFrame], pd.DataFrame]:
    def transform(table: str, df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy()
        for col, (name, params) in rules.get(table, {}).items():
            spec = get(name)
            ctx = ColumnContext(
                key=key, domain=f"{table}.{col}", table=table, column=schema[table].column(col), frame=df
            )
            out[col] = apply_strategy(df[col], spec, spec.validate_params(params), ctx)
        return out

    return transform


RULES: dict[str, dict[str, tuple[str, dict[str, object]]]] = {
    "customers": {"email": ("hash", {}), "full_name": ("redact", {}), "notes": ("nullify", {})},
    "orders": {"note": ("redact", {})},
}
KEPT = "id, zip, balance, score, active, born, seen, profile, avatar, kind"


@pytest.fixture
def fixture_url(mariadb_url: str) -> str:
    build_fixture(mariadb_url)
    return mariadb_url


def test_when_a_mysqldump_is_opened_then_the_schema_matches_the_database(
    fixture_url: str, tmp_path: Path
) -> None:
    dump = mysqldump(fixture_url, tmp_path / "prod.sql")
    assert is_dump_path(str(dump))
    with open_dump_source(dump) as src:
        schema = src.schema
        assert src.count("customers") == 40 and src.count("orders") == 120
    c = schema["customers"]
    assert c.primary_key == ("id",) and ("email",) in c.unique_constraints and c.column("id").autoincrement
    assert {col.name: col.kind for col in c.columns} == {
        "id": "integer",
        "email": "text",
        "full_name": "text",
        "zip": "text",
        "balance": "decimal",
        "score": "float",
        "active": "integer",
        "born": "date",
        "seen": "datetime",
        "profile": "json",
        "avatar": "binary",
        "kind": "text",
        "notes": "text",
    }
    assert c.column("email").max_length == 200 and not c.column("email").nullable
    assert c.column("kind").enum_values == ("a", "b")
    assert [ix.columns for ix in c.indexes if not ix.unique] == [("zip",)]
    o = schema["orders"]
    assert [(fk.columns, fk.ref_table, fk.ref_columns) for fk in o.foreign_keys] == [
        (("customer_id",), "customers", ("id",))
    ]
    assert ("customer_id", "code") in o.unique_constraints


@pytest.mark.parametrize("hex_blob", [False, True])
def test_when_a_mysqldump_is_read_then_values_match_the_database(
    fixture_url: str, tmp_path: Path, hex_blob: bool
) -> None:
    dump = mysqldump(fixture_url, tmp_path / "prod.sql", *(["--hex-blob"] if hex_blob else []))
    with open_dump_source(dump) as src:
        batches = list(src.read_batches("customers", batch_size=16))
        assert [len(b) for b in batches] == [16, 16, 8]
        df = pd.concat(batches, ignore_index=True)
    db = query(fixture_url, "SELECT notes, zip, avatar, balance FROM customers ORDER BY id")
    assert [None if pd.isna(v) else v for v in df["notes"]] == [r[0] for r in db]
    assert df["zip"].tolist() == [r[1] for r in db]
    assert [None if pd.isna(v) else bytes(v) for v in df["avatar"]] == [r[2] for r in db]
    assert [None if pd.isna(v) else v for v in df["balance"]] == [r[3] for r in db]


@pytest.mark.parametrize("hex_blob", [False, True])
def test_when_a_mysqldump_is_rewritten_and_restored_then_it_is_sanitised_and_joins_hold(
    fixture_url: str, mariadb_url2: str, tmp_path: Path, key: SecretKey, hex_blob: bool
) -> None:
    dump = mysqldump(fixture_url, tmp_path / "prod.sql", *(["--hex-blob"] if hex_blob else []))
    out = tmp_path / "staging.sql"
    result = rewrite_dump(dump, out, make_transform(read_dump_schema(dump), RULES, key))
    assert result.rows == {"customers": 40, "orders": 120}
    restore(mariadb_url2, out)
    for t in ("customers", "orders"):
        assert query(fixture_url, f"SELECT count(*) FROM {t}") == query(
            mariadb_url2, f"SELECT count(*) FROM {t}"
        )
    assert query(mariadb_url2, "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id") == [
        (120,)
    ]
    assert query(fixture_url, f"SELECT {KEPT} FROM customers ORDER BY id") == query(
        mariadb_url2, f"SELECT {KEPT} FROM customers ORDER BY id"
    )
    assert query(fixture_url, "SELECT id, customer_id, code FROM orders ORDER BY id") == query(
        mariadb_url2, "SELECT id, customer_id, code FROM orders ORDER BY id"
    )
    src = query(fixture_url, "SELECT email, full_name FROM customers")
    got = query(mariadb_url2, "SELECT email, full_name, notes FROM customers")
    assert not {r[0] for r in src} & {r[0] for r in got}
    assert not {r[1] for r in src} & {r[1] for r in got}
    assert {r[2] for r in got} == {None}
    assert {r[0] for r in query(mariadb_url2, "SELECT DISTINCT note FROM orders")} != {
        r[0] for r in query(fixture_url, "SELECT DISTINCT note FROM orders")
    }


def test_when_every_column_is_kept_then_the_rewritten_mysqldump_is_byte_identical(
    fixture_url: str, tmp_path: Path
) -> None:
    dump = mysqldump(fixture_url, tmp_path / "prod.sql")
    out = tmp_path / "same.sql.gz"
    rewrite_dump(dump, out, lambda _t, df: df.copy())
    assert gzip.decompress(out.read_bytes()) == dump.read_bytes()


def test_when_a_mysqldump_is_gzipped_then_it_reads_transparently(fixture_url: str, tmp_path: Path) -> None:
    dump = mysqldump(fixture_url, tmp_path / "prod.sql")
    gz = tmp_path / "prod.sql.gz"
    gz.write_bytes(gzip.compress(dump.read_bytes()))
    with open_dump_source(gz) as a, open_dump_source(dump) as b:
        pd.testing.assert_frame_equal(
            next(iter(a.read_batches("orders"))), next(iter(b.read_batches("orders")))
        )


MYSQL_RULES = """version: 1
tables:
  customers:
    columns:
      id: keep
      email: {strategy: hash, domain: email}
      full_name: redact
      zip: keep
      balance: keep
      score: keep
      active: keep
      born: keep
      seen: keep
      profile: keep
      avatar: keep
      kind: keep
      notes: nullify
  orders:
    columns:
      id: keep
      customer_id: keep
      code: keep
      note: redact
"""


def test_when_a_databases_dump_is_loaded_then_its_use_statement_cannot_redirect_rows(
    fixture_url: str, mariadb_url2: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, key: SecretKey
) -> None:
    from sanitize.pipeline import anonymize

    _args_, src_db = _args(fixture_url)
    dump = mysqldump(fixture_url, tmp_path / "all.sql", "--databases", src_db)
    text = dump.read_bytes()
    assert b"USE `" + src_db.encode() + b"`" in text and b"CREATE DATABASE" in text
    # empty the database the dump names: if anything followed its USE, rows would land here
    eng = _engine(fixture_url)
    with eng.begin() as conn:
        conn.exec_driver_sql("DROP TABLE orders")
        conn.exec_driver_sql("DROP TABLE customers")
    eng.dispose()
    rules = tmp_path / "rules.yaml"
    rules.write_text(MYSQL_RULES)
    with caplog.at_level(logging.INFO, logger="sanitize"):
        with open_dump_source(dump) as src:
            assert set(src.schema.tables) == {"customers", "orders"}  # bare names: no database in the key
        anonymize(rules, str(dump), mariadb_url2, key=key)  # the pipeline, dump as its source
    assert query(mariadb_url2, "SELECT count(*) FROM customers") == [(40,)]
    emails = {r[0] for r in query(mariadb_url2, "SELECT email FROM customers")}
    assert len(emails) == 40 and not emails & {f"person{i}@example.com" for i in range(40)}
    assert query(mariadb_url2, "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id") == [
        (120,)
    ]
    assert query(fixture_url, "SHOW TABLES") == []  # the database named by USE was never written
    assert any("USE" in r.getMessage() and "ignored" in r.getMessage() for r in caplog.records)
    # the rewritten dump keeps the statements (documented): it stays a faithful dump
    out = tmp_path / "out.sql"
    rewrite_dump(dump, out, lambda _t, df: df)
    assert b"USE `" + src_db.encode() + b"`" in out.read_bytes()


def test_when_two_databases_hold_the_same_table_then_the_dump_is_refused(tmp_path: Path) -> None:
    dump = tmp_path / "two.sql"
    dump.write_text(
        "-- MySQL dump 10.13\nCREATE DATABASE a;\nUSE `a`;\nCREATE TABLE `t` (\n  `id` int NOT NULL\n);\n"
        "INSERT INTO `t` VALUES (1);\nCREATE DATABASE b;\nUSE `b`;\n"
        "CREATE TABLE `t` (\n  `id` int NOT NULL\n);\n"
        "INSERT INTO `t` VALUES (2);\n-- Dump completed on 2026-11-26\n"
    )
    with pytest.raises(DumpError, match="appears in databases 'a' and 'b'"):
        open_dump_source(dump)


@pytest.mark.parametrize(
    ("cut_at", "offset", "message"),
    [
        (b"INSERT INTO `customers`", 300, r"INSERT into customers is cut off"),
        (b"CREATE TABLE `orders`", 40, r"statement starting at line \d+ is cut off"),
        (b"-- Dump completed", 0, r"without mysqldump's closing"),
    ],
)
def test_when_a_mysqldump_is_truncated_then_it_is_an_error(
    fixture_url: str, tmp_path: Path, cut_at: bytes, offset: int, message: str
) -> None:
    dump = mysqldump(fixture_url, tmp_path / "prod.sql")
    data = dump.read_bytes()
    cut = tmp_path / "cut.sql"
    cut.write_bytes(data[: data.index(cut_at) + offset])
    out = tmp_path / "out.sql"
    with pytest.raises(DumpError, match=message):
        rewrite_dump(cut, out, lambda _t, df: df)
    assert not out.exists()


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (b"INSERT INTO `t` VALUES (1,'a'),(2,garbage);\n", r"line 8: .*unreadable value near b'g'"),
        (b"INSERT INTO `t` VALUES (1,'a'),(2);\n", r"line 8: .*rows without exactly 2 values"),
        (b"INSERT INTO `t` VALUES (1,'a'),(2,'b\n", r"line 8: the INSERT into t is cut off"),
        (
            b"INSERT INTO `nope` VALUES (1,'a');\n",
            r"line 8: INSERT into table 'nope', which the dump never creates",
        ),
    ],
)
def test_when_an_insert_is_corrupt_then_the_error_names_the_line(
    tmp_path: Path, statement: bytes, message: str
) -> None:
    dump = tmp_path / "bad.sql"
    dump.write_bytes(
        b"-- MySQL dump 10.13\n--\n\nCREATE TABLE `t` (\n  `id` int NOT NULL,\n  `v` text\n);\n"
        + statement
        + b"-- Dump completed on 2026-11-26\n"
    )
    assert dump.read_bytes().split(b"\n")[7].startswith(b"INSERT")  # line 8
    with pytest.raises(DumpError, match=message):
        rewrite_dump(dump, tmp_path / "out.sql", lambda _t, df: df)
    assert not (tmp_path / "out.sql").exists()


@pytest.mark.parametrize(
    ("statement", "values"),
    [
        (b"INSERT INTO `t` VALUES (1,'it''s'),(2,'a\\'b');", [[1, 2], ["it's", "a'b"]]),
        (b"INSERT INTO `t` VALUES (1,_binary 'x\\0y'),(2,NULL);", [[1, 2], ["x\x00y", None]]),
        (b"INSERT INTO `t` VALUES (-1,'\\%\\_'),(+2.5e1,X'414243');", [[-1, 25], ["\\%\\_", "ABC"]]),
        (b"INSERT INTO `t` (`v`, `id`) VALUES ('x;y', 3);", [[3], ["x;y"]]),
    ],
)
def test_when_inserts_use_every_literal_form_then_values_decode(
    tmp_path: Path, statement: bytes, values: list[list[object]]
) -> None:
    stmt = parse_insert(statement, 1, "t.sql", lambda _n: ("id", "v"))
    assert stmt.nrows == len(values[0])
    dump = tmp_path / "lit.sql"
    dump.write_bytes(
        b"CREATE TABLE `t` (\n  `id` double NOT NULL,\n  `v` text\n) ENGINE=InnoDB;\nLOCK TABLES `t` WRITE;\n"
        + statement
        + b"\n"
    )
    with open_dump_source(dump) as src:
        df = next(iter(src.read_batches("t", columns=["id", "v"])))
    assert df["id"].tolist() == values[0]
    assert [None if pd.isna(v) else v for v in df["v"]] == values[1]


def test_when_a_dump_holds_zero_dates_then_they_load_as_null_with_one_warning_per_column(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dump = tmp_path / "legacy.sql"
    dump.write_text(
        "-- MariaDB dump\n"
        "CREATE TABLE `t` (`id` int(11) NOT NULL, `d` date DEFAULT NULL, PRIMARY KEY (`id`));\n"
        "INSERT INTO `t` VALUES (1,'0000-00-00'),(2,'2024-05-06');\n"
        "INSERT INTO `t` VALUES (3,'2024-00-00'),(4,NULL);\n"
        "-- Dump completed on 2026-11-26 12:00:00\n"
    )
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\ntables:\n  t:\n    columns: {id: keep, d: keep}\n")
    target = tmp_path / "t.db"
    with caplog.at_level("WARNING", logger="sanitize"):
        anonymize(str(rules), str(dump), str(target), key=SecretKey(TEST_KEY.encode()))
    assert caplog.text.count("zero date(s)") == 1
    con = sqlite3.connect(target)
    try:
        assert con.execute("SELECT id, d FROM t ORDER BY id").fetchall() == [
            (1, None),
            (2, "2024-05-06"),
            (3, None),
            (4, None),
        ]
    finally:
        con.close()
    out = tmp_path / "out.sql"  # a sanitised dump keeps what it kept, zero dates included
    anonymize(str(rules), str(dump), str(out), key=SecretKey(TEST_KEY.encode()))
    assert "(1,'0000-00-00')" in out.read_text()


@pytest.mark.mariadb
def test_when_a_sakila_like_dump_has_geometry_a_spatial_index_and_on_update_then_a_database_gets_them(
    mariadb_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Sakila's address: a geometry (bytes in the dump: they were refused as 'not UTF-8'), a SPATIAL
    index (dropped) and `DEFAULT current_timestamp() ON UPDATE current_timestamp()` (the ON UPDATE was
    dropped); SQLite keeps the default and says the ON UPDATE has no equivalent."""
    dump = mysqldump_after(
        mariadb_url,
        tmp_path / "sakila.sql",
        "CREATE TABLE address (id int PRIMARY KEY, location geometry NOT NULL, last_update timestamp NOT "
        "NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(), SPATIAL KEY idx_loc (location))",
        "INSERT INTO address (id, location) VALUES (1, ST_GeomFromText('POINT(-112.81 49.69)')),"
        " (2, ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))'))",
    )
    before = query(mariadb_url, "SELECT id, ST_AsText(location) FROM address ORDER BY id")
    stored = [r[0] for r in query(mariadb_url, "SELECT location FROM address ORDER BY id")]
    eng = _engine(mariadb_url)
    with eng.begin() as conn:
        conn.exec_driver_sql("DROP TABLE address")
    eng.dispose()
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "version: 1\ntables:\n  address:\n    columns: {id: keep, location: keep, last_update: keep}\n"
    )
    anonymize(str(rules), str(dump), mariadb_url, key=SecretKey(TEST_KEY.encode()))
    assert query(mariadb_url, "SELECT id, ST_AsText(location) FROM address ORDER BY id") == before
    made = str(query(mariadb_url, "SHOW CREATE TABLE address")[0][1])
    assert "SPATIAL KEY `idx_loc`" in made
    assert "DEFAULT current_timestamp() ON UPDATE current_timestamp()" in made
    target = tmp_path / "dev.db"
    with caplog.at_level("WARNING", logger="sanitize"):
        anonymize(str(rules), str(dump), str(target), key=SecretKey(TEST_KEY.encode()))
    assert "ON UPDATE current_timestamp() has no sqlite equivalent" in caplog.text
    con = sqlite3.connect(target)
    try:
        made_here = con.execute("SELECT sql FROM sqlite_master WHERE name = 'address'").fetchone()[0]
        assert "DEFAULT CURRENT_TIMESTAMP" in made_here
        assert [r[0] for r in con.execute("SELECT location FROM address ORDER BY id")] == stored
    finally:
        con.close()


@pytest.mark.parametrize("hex_blob", [False, True])
def test_when_a_mysqldump_holds_bit_columns_then_they_load_as_flags_and_numbers(
    mariadb_url: str, tmp_path: Path, hex_blob: bool
) -> None:
    """mysqldump writes BIT values as their bytes ('\\0', '\\x01'; 0x01 with --hex-blob): they were
    read as text, a NUL that no engine's text takes."""
    dump = mysqldump_after(
        mariadb_url,
        tmp_path / "bits.sql",
        "CREATE TABLE film (id int PRIMARY KEY, flag bit(1), mask bit(10), released year)",
        "INSERT INTO film VALUES (1, b'1', b'1000000001', 2006), (2, b'0', b'0', NULL)",
        extra=("--hex-blob",) if hex_blob else (),
    )
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "version: 1\ntables:\n  film:\n    columns: {id: keep, flag: keep, mask: keep, released: keep}\n"
    )
    target = tmp_path / "bits.db"
    anonymize(str(rules), str(dump), str(target), key=SecretKey(TEST_KEY.encode()))
    con = sqlite3.connect(target)
    try:
        assert con.execute("SELECT id, flag, mask, released FROM film ORDER BY id").fetchall() == [
            (1, 1, 513, 2006),
            (2, 0, 0, None),
        ]
    finally:
        con.close()


def test_when_a_mysqldump_has_views_then_a_mariadb_target_gets_the_real_ones(
    mariadb_url: str, mariadb_url2: str, tmp_path: Path
) -> None:
    """mysqldump writes each view twice: a stand-in (`SELECT 1 AS col`) early, the real one at the end,
    wrapped in versioned comments; the target gets the real one, over the loaded rows."""
    dump = mysqldump_after(
        mariadb_url,
        tmp_path / "views.sql",
        "CREATE TABLE film (id int PRIMARY KEY, title text, rating varchar(5))",
        "INSERT INTO film VALUES (1, 'A', 'PG'), (2, 'B', 'R'), (3, 'C', 'PG')",
        "CREATE VIEW pg_films AS SELECT id, title FROM film WHERE rating = 'PG'",
        "CREATE VIEW pg_count AS SELECT count(*) AS n FROM pg_films",
    )
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\ntables:\n  film:\n    columns: {id: keep, title: keep, rating: keep}\n")
    anonymize(str(rules), str(dump), mariadb_url2, key=SecretKey(TEST_KEY.encode()))
    assert query(mariadb_url2, "SELECT id FROM pg_films ORDER BY id") == [(1,), (3,)]
    assert query(mariadb_url2, "SELECT n FROM pg_count") == [(2,)]


def test_when_a_mysqldump_has_generated_columns_then_their_source_values_never_reach_the_output(
    mariadb_url: str, mariadb_url2: str, tmp_path: Path
) -> None:
    """mysqldump writes a generated column's values (the source's: a full name from a first and last
    name that get faked): a rewritten dump says DEFAULT, a database target computes them again."""
    dump = mysqldump_after(
        mariadb_url,
        tmp_path / "g.sql",
        "CREATE TABLE people (id int PRIMARY KEY, first varchar(20), last varchar(20), "
        "full varchar(50) GENERATED ALWAYS AS (concat(first, ' ', last)) VIRTUAL)",
        "INSERT INTO people (id, first, last) VALUES (1, 'Zebulon', 'Quixotewood')",
    )
    assert b"Zebulon Quixotewood" in dump.read_bytes()
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "version: 1\ntables:\n  people:\n    columns: {id: keep, first: {strategy: redact, value: Ann},"
        " last: {strategy: redact, value: Lee}, full: keep}\n"
    )
    out = tmp_path / "out.sql"
    anonymize(str(rules), str(dump), str(out), key=SecretKey(TEST_KEY.encode()))
    assert b"Zebulon" not in out.read_bytes() and b"(1,'Ann','Lee',DEFAULT)" in out.read_bytes()
    anonymize(str(rules), str(dump), mariadb_url2, key=SecretKey(TEST_KEY.encode()))
    assert query(mariadb_url2, "SELECT first, last, full FROM people") == [("Ann", "Lee", "Ann Lee")]
