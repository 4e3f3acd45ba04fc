"""A SQLite file sanitize did not make is as protected as a PostgreSQL schema it did not make.

`anonymize`, `synth` and `seed` refuse a file holding someone else's rows (no marker) unless told
(`--init-target`), and even then replace only the tables they load: every other table stays.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

import sanitize
from sanitize.db import open_target, resolve
from sanitize.db.sqlite import SqliteSource
from sanitize.errors import LoadError, TargetRefusedError
from sanitize.pipeline import anonymize

from .conftest import run_cli
from .test_refresh import RULES, make_sqlite, project


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tables(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


def precious_rows(path: Path) -> list[tuple[object, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT * FROM precious ORDER BY id").fetchall()
    finally:
        con.close()


PRECIOUS = [(i, f"real customer {i}") for i in range(500)]


def app_database(path: Path, *, customers_rows: int = 0) -> Path:
    """A developer's own database: a table `precious` with rows, maybe a `customers` of its own."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE precious (id INTEGER PRIMARY KEY, name TEXT)")
    con.executemany("INSERT INTO precious VALUES (?, ?)", PRECIOUS)
    if customers_rows:
        con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        con.executemany("INSERT INTO customers VALUES (?, ?)", [(i, "x") for i in range(customers_rows)])
    con.commit()
    con.close()
    return path


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, Path]:
    """(production SQLite file, its rules file)."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    return make_sqlite(tmp_path / "prod.db"), rules


# --- refused without --init-target ----------------------------------------------------------------


def test_when_anonymize_targets_a_file_sanitize_did_not_make_then_library_refuses_and_file_is_untouched(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    prod, rules = shop
    target = app_database(tmp_path / "app.db")
    before = digest(target)
    refused = r"app\.db was not made by sanitize.*precious.*--init-target"
    with pytest.raises(TargetRefusedError, match=refused):
        anonymize(rules, str(prod), str(target))
    assert digest(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db", "prod.db", "rules.yaml"]  # no lock left


@pytest.mark.parametrize(
    "command",
    [
        # anonymize
        lambda prod, rules, target: ["anonymize", "--rules", str(rules), str(prod), str(target)],
        # synth with the schema of production
        lambda prod, rules, target: ["synth", str(target), "--schema-from", str(prod), "--rows", "5"],
    ],
)
def test_when_the_cli_targets_a_file_sanitize_did_not_make_then_exit_1_naming_file_and_flag(
    shop: tuple[Path, Path], tmp_path: Path, command: object
) -> None:
    prod, rules = shop
    target = app_database(tmp_path / "app.db")
    before = digest(target)
    res = run_cli(*command(prod, rules, target))  # type: ignore[operator]
    assert res.returncode == 1, res.stderr
    assert str(target) in res.stderr and "--init-target" in res.stderr and "precious" in res.stderr
    assert "Traceback" not in res.stderr
    assert digest(target) == before


def test_when_synthesize_targets_a_file_sanitize_did_not_make_then_library_refuses(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    prod, _ = shop
    target = app_database(tmp_path / "app.db")
    before = digest(target)
    with pytest.raises(TargetRefusedError, match="--init-target"):
        sanitize.synthesize(target, schema_from=str(prod), rows=5)
    assert digest(target) == before


def test_when_a_marked_file_has_a_foreign_table_the_load_would_replace_then_refused(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    prod, rules = shop
    target = tmp_path / "dev.db"
    anonymize(rules, str(prod), str(target))  # sanitize's own file
    con = sqlite3.connect(target)
    con.execute("DROP TABLE orders")  # someone puts their own `orders` with rows in its place
    con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, mine TEXT)")
    con.execute("INSERT INTO orders VALUES (1, 'keep me')")
    con.commit()
    con.close()
    con = sqlite3.connect(target)
    con.execute("UPDATE sanitize_meta SET value = '{\"customers\": 40}' WHERE key = 'tables'")
    con.commit()
    con.close()
    before = digest(target)
    with pytest.raises(TargetRefusedError, match="orders hold rows sanitize did not write"):
        anonymize(rules, str(prod), str(target))
    assert digest(target) == before


# --- adopted with --init-target: only the loaded tables are replaced ------------------------------


def test_when_anonymize_adopts_a_file_then_loaded_tables_are_replaced_and_every_other_table_stays(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    prod, rules = shop
    target = app_database(tmp_path / "app.db", customers_rows=3)
    res = run_cli("anonymize", "--rules", str(rules), str(prod), str(target), "--init-target")
    assert res.returncode == 0, res.stderr
    found = tables(target)
    assert found["precious"] == 500 and precious_rows(target) == PRECIOUS
    assert found["customers"] == 40 and found["orders"] == 80  # its own `customers` was replaced
    # the next run needs no flag (the file now carries sanitize's marker) and still keeps `precious`
    anonymize(rules, str(prod), str(target))
    assert precious_rows(target) == PRECIOUS and tables(target)["customers"] == 40
    assert [p.name for p in tmp_path.glob(".app.db.sanitize-shadow-*")] == []


def test_when_synth_and_seed_adopt_a_file_then_every_other_table_stays(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    prod, rules = shop
    synth_target = app_database(tmp_path / "synth.db")
    report = sanitize.synthesize(synth_target, schema_from=str(prod), rows=7, init_target=True)
    assert report.rows == {"customers": 7, "orders": 7}
    assert precious_rows(synth_target) == PRECIOUS and tables(synth_target)["orders"] == 7

    (tmp_path / "proj").mkdir()
    seeded = app_database(tmp_path / "proj" / "dev.db")
    make_sqlite(tmp_path / "proj" / "prod.db")
    project(tmp_path / "proj", "prod.db", "dev.db")
    refused = run_cli("seed", "dev", cwd=tmp_path / "proj")
    assert refused.returncode == 1 and "--init-target" in refused.stderr
    assert precious_rows(seeded) == PRECIOUS and "customers" not in tables(seeded)
    res = run_cli("seed", "dev", "--init-target", cwd=tmp_path / "proj")
    assert res.returncode == 0, res.stderr
    assert precious_rows(seeded) == PRECIOUS and tables(seeded)["customers"] > 0


def test_when_a_file_was_made_by_sanitize_then_it_is_replaced_whole_as_before(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    prod, rules = shop
    target = tmp_path / "dev.db"
    anonymize(rules, str(prod), str(target))
    inode = target.stat().st_ino
    anonymize(rules, str(prod), str(target))
    assert target.stat().st_ino != inode  # a new file renamed into place
    assert set(tables(target)) == {"customers", "orders", "sanitize_meta"}


@pytest.mark.parametrize(
    "prepare",
    [
        lambda p: None,  # no file yet
        lambda p: p.write_bytes(b""),  # an empty file
        # a file with the application's tables, but no rows yet (fresh migrations)
        lambda p: sqlite3.connect(p).executescript("CREATE TABLE customers (id INTEGER); CREATE TABLE x (a)"),
    ],
)
def test_when_the_file_is_missing_or_empty_then_it_is_loaded_without_init_target(
    shop: tuple[Path, Path], tmp_path: Path, prepare: object
) -> None:
    prod, rules = shop
    target = tmp_path / "dev.db"
    prepare(target)  # type: ignore[operator]
    anonymize(rules, str(prod), str(target))
    assert tables(target)["customers"] == 40


def test_when_an_adopted_file_changes_during_the_load_then_nothing_is_published(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    prod, _ = shop
    target = app_database(tmp_path / "app.db")
    with SqliteSource(resolve(str(prod))) as src:
        tgt = open_target(resolve(str(target)), init_target=True)
        with tgt.begin_load(src.schema) as load:
            for key in src.schema.load_order():
                for batch in src.read_batches(key):
                    load.write(key, batch)
            load.finish()
            con = sqlite3.connect(target)  # the application writes while the load runs
            con.execute("INSERT INTO precious VALUES (1000, 'written during the load')")
            con.commit()
            con.close()
            with pytest.raises(LoadError, match="changed while the load ran"):
                load.publish()
    assert precious_rows(target)[-1] == (1000, "written during the load")
    assert "customers" not in tables(target)


def test_when_an_adopted_file_is_loaded_again_then_its_views_and_full_text_tables_are_made_anew(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    prod = tmp_path / "prod.db"
    con = sqlite3.connect(prod)
    con.executescript(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
        "INSERT INTO notes VALUES (1, 'call Ann Real'), (2, 'other text');"
        "CREATE VIEW v_notes AS SELECT id FROM notes;"
        "CREATE TRIGGER t_notes AFTER INSERT ON notes BEGIN SELECT 1; END;"
        "CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes', content_rowid='id');"
        "INSERT INTO notes_fts (notes_fts) VALUES ('rebuild');"
    )
    con.close()
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\ntables:\n  notes:\n    columns:\n      id: keep\n      body: redact\n")
    target = app_database(tmp_path / "app.db")
    for adopt in (True, False, False):
        with caplog.at_level("WARNING", logger="sanitize"):
            assert anonymize(rules, str(prod), str(target), init_target=adopt).warnings == []
    assert "not recreated" not in caplog.text
    con = sqlite3.connect(target)
    try:
        kinds = sorted(con.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE '%fts_%'"))
        assert kinds == [
            ("index", "sqlite_autoindex_sanitize_meta_1"),
            ("table", "notes"),
            ("table", "notes_fts"),
            ("table", "precious"),
            ("table", "sanitize_meta"),
            ("trigger", "t_notes"),
            ("view", "v_notes"),
        ]
        match = "SELECT count(*) FROM notes_fts WHERE notes_fts MATCH ?"
        assert con.execute(match, ("Ann",)).fetchone() == (0,)
        assert con.execute(match, ("redacted",)).fetchone() == (2,)
    finally:
        con.close()
    assert precious_rows(target) == PRECIOUS
