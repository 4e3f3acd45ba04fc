"""End to end on the demo database (SQLite -> SQLite), through the library and the real CLI."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sanitize.demo import DemoSize, build_demo_database, demo_rules_path
from sanitize.keys import SecretKey
from sanitize.pipeline import anonymize
from sanitize.rules import TableRules, load_rules

from .conftest import TEST_KEY

SMALL = DemoSize(customers=120, employees=15, orders=300, tickets=80, events=200, page_views=300)
TABLES = ("customers", "employees", "orders", "order_items", "support_tickets", "events", "page_views")


def rows(db: Path, table: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(f'SELECT * FROM "{table}" ORDER BY 1, 2').fetchall()
    finally:
        con.close()


def columns(db: Path, table: str) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
    finally:
        con.close()


def dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    return {t: rows(db, t) for t in TABLES}


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    e = dict(os.environ, SANITIZE_KEY=TEST_KEY)
    if env is not None:
        e.update(env)
        e = {k: v for k, v in e.items() if v != ""}
    return subprocess.run(
        [sys.executable, "-m", "sanitize.cli", *args], capture_output=True, text=True, env=e, timeout=300
    )


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_database(tmp_path_factory.mktemp("prod") / "prod.db", SMALL)


@pytest.fixture(scope="module")
def dev(prod: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("dev") / "dev.db"
    anonymize(demo_rules_path(), str(prod), str(target), key=SecretKey(TEST_KEY.encode()))
    return target


def test_when_the_demo_is_anonymised_then_row_counts_match(prod: Path, dev: Path) -> None:
    for t in TABLES:
        assert len(rows(dev, t)) == len(rows(prod, t)) > 0, t


def test_when_the_demo_is_anonymised_then_every_foreign_key_joins(dev: Path) -> None:
    con = sqlite3.connect(dev)
    try:
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        fks = [r for t in TABLES for r in con.execute(f'PRAGMA foreign_key_list("{t}")')]
        assert len(fks) >= 7  # the schema's foreign keys were recreated, not dropped
        orphans = con.execute(
            "SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL"
        ).fetchone()[0]
        assert orphans == 0
    finally:
        con.close()


def test_when_the_demo_is_anonymised_then_unique_columns_stay_unique(dev: Path) -> None:
    con = sqlite3.connect(dev)
    try:
        for table, col in (("customers", "email"), ("employees", "email")):
            total, distinct = con.execute(
                f"SELECT count({col}), count(DISTINCT {col}) FROM {table}"
            ).fetchone()
            assert total == distinct > 0
    finally:
        con.close()


def _transformed(prod: Path) -> dict[str, list[str]]:
    rules = load_rules(demo_rules_path())
    out: dict[str, list[str]] = {}
    for t, tr in rules.tables.items():
        if isinstance(tr, TableRules):
            out[t] = [c for c, r in tr.columns.items() if r.strategy != "keep"]
    return out


PII_TOKEN = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\d{16}|\(?\d{3}\)?[-. ]?\d{3}[-. ]\d{4}")

# Columns whose values are identifying (high entropy): none may appear in any cell of the target.
# Free-text (scrub) columns are checked for the PII inside them; fake names/cities come from the same
# public pools as the demo's source data, so they are checked row by row instead of globally.
GLOBAL = {
    "customers": ("email", "phone", "ssn"),
    "employees": ("email",),
    "orders": ("shipping_address",),
    "support_tickets": ("requester",),
}


def test_when_the_demo_is_anonymised_then_no_sensitive_source_value_appears_in_any_target_cell(
    prod: Path, dev: Path
) -> None:
    sensitive: set[str] = set()
    for table, cols in GLOBAL.items():
        names = columns(prod, table)
        sensitive |= {r[names.index(c)] for r in rows(prod, table) for c in cols if r[names.index(c)]}
    assert len(sensitive) > 300
    cells = [str(v) for t in TABLES for r in rows(dev, t) for v in r if v is not None]
    found = sensitive.intersection(cells)
    assert not found, f"{len(found)} source values reached the target"
    # no email, phone or card number from the source survives inside free text or JSON either
    blob = "\n".join(cells)
    tokens: set[str] = set()
    for table, col in (("customers", "notes"), ("support_tickets", "body"), ("events", "payload")):
        names = columns(prod, table)
        for r in rows(prod, table):
            text = r[names.index(col)] or ""
            tokens |= set(
                re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+|\d{16}|\(?\d{3}\)?[-. ]?\d{3}[-. ]\d{4}", text)
            )
    assert len(tokens) > 50
    leaked = [t for t in tokens if t in blob]
    assert not leaked, f"{len(leaked)} PII tokens from free text reached the target"


def test_when_the_demo_is_anonymised_then_every_transformed_value_changed_row_by_row(
    prod: Path, dev: Path
) -> None:
    for table, cols in _transformed(prod).items():
        names = columns(prod, table)
        src, dst = rows(prod, table), rows(dev, table)
        for c in cols:
            if c in ("notes", "body", "payload"):
                continue  # free text keeps its non-PII words by design; checked above
            i = names.index(c)
            pairs = [(a[i], b[i]) for a, b in zip(src, dst, strict=True) if a[i] is not None]
            same = [a for a, b in pairs if a == b]
            assert len(same) <= len(pairs) // 50, (table, c, same[:3])  # generalised postcodes may coincide


def test_when_dates_are_shifted_then_every_one_moved(prod: Path, dev: Path) -> None:
    before = {r[0]: r[5] for r in rows(prod, "customers")}
    after = {r[0]: r[5] for r in rows(dev, "customers")}
    assert all(after[k] != v for k, v in before.items() if v is not None)


def test_when_tables_and_columns_are_keep_then_they_are_byte_identical(prod: Path, dev: Path) -> None:
    assert rows(dev, "order_items") == rows(prod, "order_items")
    src, dst = rows(prod, "orders"), rows(dev, "orders")
    names = columns(prod, "orders")
    for col in ("id", "customer_id", "handled_by", "status", "total"):
        i = names.index(col)
        assert [r[i] for r in src] == [r[i] for r in dst], col


def test_when_run_twice_with_one_key_then_identical_and_with_another_key_different(
    prod: Path, dev: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again.db"
    anonymize(demo_rules_path(), str(prod), str(again), key=SecretKey(TEST_KEY.encode()))
    assert dump(again) == dump(dev)
    other = tmp_path / "other.db"
    anonymize(demo_rules_path(), str(prod), str(other), key=SecretKey(b"another-key-" + b"x" * 40))
    a, b = rows(dev, "customers"), rows(other, "customers")
    assert [r[1] for r in a] != [r[1] for r in b]  # emails differ
    assert rows(other, "order_items") == rows(dev, "order_items")  # kept data does not depend on the key


def test_when_the_same_email_is_in_two_tables_then_it_gets_one_pseudonym(prod: Path, dev: Path) -> None:
    src = dict((r[0], r[1]) for r in rows(prod, "customers"))
    dst = dict((r[0], r[1]) for r in rows(dev, "customers"))
    pseudonym = {src[k]: dst[k] for k in src}
    for ticket in rows(dev, "support_tickets"):
        # support_tickets.requester uses domain `email` like customers.email
        original = next(r for r in rows(prod, "support_tickets") if r[0] == ticket[0])
        assert ticket[2] == pseudonym[original[2]]


def test_when_a_column_is_added_to_the_source_then_anonymize_fails_before_writing_and_check_exits_1(
    prod: Path, tmp_path: Path
) -> None:
    src = tmp_path / "prod.db"
    shutil.copy(prod, src)
    con = sqlite3.connect(src)
    con.execute("ALTER TABLE customers ADD COLUMN passport_no TEXT")
    con.commit()
    con.close()
    target = tmp_path / "dev.db"
    target.write_bytes(b"previous generation")
    res = cli("anonymize", "--rules", str(demo_rules_path()), str(src), str(target))
    assert res.returncode == 1, res.stderr
    assert "customers.passport_no" in res.stderr and "Traceback" not in res.stderr
    assert target.read_bytes() == b"previous generation"
    res = cli("check", "--rules", str(demo_rules_path()), str(src))
    assert res.returncode == 1 and "customers.passport_no" in res.stdout
    assert cli("check", "--rules", str(demo_rules_path()), str(prod)).returncode == 0


def test_when_the_target_is_the_source_then_it_is_refused_and_untouched(prod: Path, tmp_path: Path) -> None:
    src = tmp_path / "prod.db"
    shutil.copy(prod, src)
    before = src.read_bytes()
    res = cli("anonymize", "--rules", str(demo_rules_path()), str(src), f"sqlite:///{src}")
    assert res.returncode == 1 and "source" in res.stderr
    assert src.read_bytes() == before


BAD_RULES = [
    # (rules text, expected exit code, fragment of the message)
    ("version: 1\ntables: [\n", 2, "invalid YAML"),
    ("version: 1\nbogus: 1\ntables: {}\n", 2, "bogus: unknown key"),
    (
        "version: 1\ntables:\n  customers:\n    columns:\n      email: {strategy: noise, relative: x}\n",
        2,
        "relative",
    ),
    ("version: 1\ntables:\n  customers:\n    columns:\n      email: mask_email\n", 2, "did you mean 'mask'"),
    ("version: 1\ntables:\n  nosuchtable:\n    columns:\n      a: keep\n", 1, "tables.nosuchtable"),
]


@pytest.mark.parametrize(("text", "code", "fragment"), BAD_RULES)
def test_when_input_is_bad_then_the_cli_says_why_with_its_exit_code_and_the_target_is_untouched(
    prod: Path, tmp_path: Path, text: str, code: int, fragment: str
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(text)
    target = tmp_path / "dev.db"
    target.write_bytes(b"previous generation")
    res = cli("anonymize", "--rules", str(rules), str(prod), str(target))
    assert res.returncode == code, res.stderr
    assert fragment in res.stderr and "Traceback" not in res.stderr
    assert target.read_bytes() == b"previous generation"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [({"SANITIZE_KEY": ""}, "SANITIZE_KEY is not set"), ({"SANITIZE_KEY": "short"}, "at least 32")],
)
def test_when_the_key_is_missing_or_short_then_exit_2_and_nothing_written(
    prod: Path, tmp_path: Path, env: dict[str, str], fragment: str
) -> None:
    target = tmp_path / "dev.db"
    res = cli("anonymize", "--rules", str(demo_rules_path()), str(prod), str(target), env=env)
    assert res.returncode == 2 and fragment in res.stderr and "token_urlsafe" in res.stderr
    assert not target.exists()


def test_when_the_source_path_does_not_exist_then_exit_2(tmp_path: Path) -> None:
    res = cli(
        "anonymize", "--rules", str(demo_rules_path()), str(tmp_path / "missing.db"), str(tmp_path / "o.db")
    )
    assert res.returncode == 2 and "missing.db" in res.stderr and "Traceback" not in res.stderr


KILL_RULES = """version: 1
tables:
  people:
    columns:
      id: keep
      email: {strategy: fake, kind: email, unique: true}
      note: hash
"""


def _big_database(path: Path, rows: int) -> Path:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, note TEXT)")
    con.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "INSERT INTO people SELECT i, 'person' || i || '@corp.example', hex(randomblob(16)) FROM n",
        (rows,),
    )
    con.commit()
    con.close()
    return path


def test_when_a_run_is_killed_mid_load_then_the_previous_target_is_intact(tmp_path: Path) -> None:
    prod = _big_database(tmp_path / "prod.db", 300_000)
    rules = tmp_path / "rules.yaml"
    rules.write_text(KILL_RULES)
    target = tmp_path / "dev.db"
    args = ["anonymize", "--rules", str(rules), str(prod), str(target), "--batch-size", "5000"]
    res = cli(*args)
    assert res.returncode == 0, res.stderr
    previous = rows(target, "people")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sanitize.cli", *args],
        env=dict(os.environ, SANITIZE_KEY="a-different-key-so-a-new-generation-differs-0000"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list(tmp_path.glob(".dev.db.sanitize-shadow-*")):
        time.sleep(0.02)
    time.sleep(0.3)  # into the load
    assert proc.poll() is None, "the run finished before it could be killed; make the data bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(tmp_path.glob(".dev.db.sanitize-shadow-*")), "killed before the load began"
    assert rows(target, "people") == previous
    # the next run cleans up and succeeds
    res = cli(*args)
    assert res.returncode == 0, res.stderr
    assert not list(tmp_path.glob("*shadow*")), "the stale shadow was not cleaned up"


def test_when_the_demo_output_is_leak_checked_then_verify_passes(prod: Path, dev: Path) -> None:
    res = cli("verify", "--rules", str(demo_rules_path()), str(prod), str(dev))
    assert res.returncode == 0, res.stdout + res.stderr


def test_when_a_kept_copy_is_leak_checked_then_verify_exits_1(prod: Path, tmp_path: Path) -> None:
    copy = tmp_path / "raw.db"
    shutil.copy(prod, copy)  # a "target" that is an unsanitised copy of production
    res = cli("verify", "--rules", str(demo_rules_path()), str(prod), str(copy))
    assert res.returncode == 1
    con = sqlite3.connect(prod)
    some_email = con.execute("SELECT email FROM customers LIMIT 1").fetchone()[0]
    con.close()
    assert some_email not in res.stdout + res.stderr  # leaks are named by place, never by value


def test_when_sqlite_dates_are_stored_in_other_forms_then_keep_copies_them_exactly_and_shifts_keep_the_form(
    tmp_path: Path,
) -> None:
    """SQLite has no date/time type: applications store ISO text with 'T' or ' ', offsets or 'Z',
    short fractions, dates in DATETIME columns, even epoch numbers. `keep` copies each value and its
    storage class; date_shift moves the date and keeps the rest of the text; typed outputs are ISO."""
    src, dst = tmp_path / "app.db", tmp_path / "dev.db"
    stored: list[object] = [
        "2024-01-01T10:00:00Z",
        "2016-07-04",
        "2024-01-01 10:00:00.5",
        "2024-03-05T06:07:08+05:30",
        1700000000,
        None,
        "2023-12-31 23:59:59",
    ]
    con = sqlite3.connect(src)
    con.execute(
        "CREATE TABLE ev (id INTEGER PRIMARY KEY, at DATETIME, d DATE, t TIME, moved TIMESTAMP, born DATE)"
    )
    con.executemany(
        "INSERT INTO ev VALUES (?, ?, ?, ?, ?, ?)",
        [
            (i, v, "2024-5-6" if i % 2 else "2024-05-06", "9:30", v, "1980-05-06")
            for i, v in enumerate(stored)
        ],
    )
    con.commit()
    con.close()
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\ntables:\n  ev:\n    columns:\n"
        "      id: keep\n      at: keep\n      d: keep\n      t: keep\n"
        "      moved: {strategy: date_shift, max_days: 30}\n"
        "      born: {strategy: fake, kind: date_of_birth}\n"
    )
    done = cli("anonymize", "--rules", str(rules), str(src), str(dst))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        kept = "SELECT id, at, typeof(at), d, t FROM ev ORDER BY id"
        assert b.execute(kept).fetchall() == a.execute(kept).fetchall()
        moved = [r[0] for r in b.execute("SELECT moved FROM ev ORDER BY id")]
        born = [r[0] for r in b.execute("SELECT born FROM ev ORDER BY id")]
    iso = [v for v in stored if isinstance(v, str)]
    shifted = [m for m, v in zip(moved, stored, strict=True) if isinstance(v, str)]
    assert [m[10:] for m in shifted] == [v[10:] for v in iso]  # time of day, offset and 'T' kept
    assert all(m[:10] != v[:10] for m, v in zip(shifted, iso, strict=True))  # the date moved
    assert all(
        abs((dt.date.fromisoformat(m[:10]) - dt.date.fromisoformat(v[:10])).days) <= 30
        for m, v in zip(shifted, iso, strict=True)
    )
    assert moved[stored.index(None)] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", moved[stored.index(1700000000)])  # no date: a keyed one
    assert all(re.fullmatch(r"(19[4-9]\d|200[0-7])-\d\d-\d\d", b) for b in born)  # fake dates as ISO text


def test_when_sqlite_has_full_text_tables_then_no_indexed_word_of_the_source_reaches_the_target(
    tmp_path: Path,
) -> None:
    """An FTS index's shadow tables hold every word it indexes: copied as tables they carried the
    source's text into the target whatever the rules said. They are never copied: a full-text table
    over a loaded table is rebuilt from its sanitised rows, one holding its own text is copied through
    its rules and indexes that, and one keeping no text is made empty."""
    src, dst = tmp_path / "app.db", tmp_path / "dev.db"
    con = sqlite3.connect(src)
    con.executescript(
        """
        CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
        CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes', content_rowid='id');
        CREATE VIRTUAL TABLE letters USING fts5(title, body);
        CREATE VIRTUAL TABLE words_only USING fts5(body, content='');
        INSERT INTO notes VALUES (1, 'Zebulon Quixotewood called'), (2, 'nothing to see');
        INSERT INTO notes_fts (notes_fts) VALUES ('rebuild');
        INSERT INTO letters VALUES ('Hello', 'Dear Zebulon Quixotewood');
        INSERT INTO words_only (rowid, body) VALUES (1, 'Zebulon Quixotewood');
        """
    )
    con.commit()
    con.close()
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\ntables:\n"
        "  notes:\n    columns: {id: keep, body: {strategy: redact, value: 'note text'}}\n"
        "  letters:\n    columns: {title: keep, body: {strategy: redact, value: 'letter text'}}\n"
    )
    done = cli("anonymize", "--rules", str(rules), str(src), str(dst))  # the rules name no shadow table
    assert done.returncode == 0, done.stderr
    assert b"Quixotewood" in src.read_bytes()
    assert b"Quixotewood" not in dst.read_bytes()
    with sqlite3.connect(dst) as c:
        assert c.execute("SELECT rowid FROM notes_fts WHERE notes_fts MATCH 'note'").fetchall() == [
            (1,),
            (2,),
        ]
        assert c.execute("SELECT title FROM letters WHERE letters MATCH 'letter'").fetchall() == [("Hello",)]
        assert c.execute("SELECT count(*) FROM words_only").fetchone() == (0,)
    assert "keeps no text of its own" in done.stderr


def test_when_a_kept_generated_column_is_made_from_transformed_columns_then_only_another_engine_warns(
    tmp_path: Path,
) -> None:
    """A target of the same engine computes the column again from the sanitised columns; CSV files (or
    another engine) cannot, so `keep` would carry values made from the source's names: said loudly."""
    src = tmp_path / "g.db"
    con = sqlite3.connect(src)
    con.executescript(
        """
        CREATE TABLE people (id INTEGER PRIMARY KEY, first TEXT, last TEXT,
            full TEXT GENERATED ALWAYS AS (first || ' ' || "last") VIRTUAL,
            note TEXT GENERATED ALWAYS AS ('first: ' || id) VIRTUAL);
        INSERT INTO people (id, first, last) VALUES (1, 'Zebulon', 'Quixotewood');
        """
    )
    con.commit()
    con.close()
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\ntables:\n  people:\n    columns: {id: keep, first: {strategy: fake, kind: first_name},"
        " last: {strategy: fake, kind: last_name}, full: keep, note: keep}\n"
    )
    key = SecretKey(TEST_KEY.encode())
    same = anonymize(str(rules), str(src), str(tmp_path / "dev.db"), key=key)
    assert not [w for w in same.warnings if "generated" in w]
    other = anonymize(str(rules), str(src), f"csv:{tmp_path / 'out'}", key=key)
    (warning,) = [w for w in other.warnings if "generated" in w]
    assert "people.full (from first, last)" in warning and "note" not in warning  # a literal is not a column
