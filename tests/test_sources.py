"""Every command opens its sources through sanitize.sources: profile, diff, synth --schema-from and
verify accept a pg_dump file and a mysqldump file as they accept a database."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from sanitize.errors import BadInputError
from sanitize.sources import open_source, resolve_target
from tests.test_dumps_mysql import mysqldump
from tests.test_dumps_pg import pg_dump
from tests.test_verify_dumps import MY_DDL, PG_DDL, RULES, cli, fill

ENGINES = [
    pytest.param(
        ("pg_url", PG_DDL, pg_dump),
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed"),
        ],
        id="pg_dump",
    ),
    pytest.param(
        ("mariadb_url", MY_DDL, mysqldump),
        marks=[
            pytest.mark.mariadb,
            pytest.mark.skipif(
                shutil.which("mariadb-dump") is None and shutil.which("mysqldump") is None,
                reason="no mysqldump",
            ),
        ],
        id="mysqldump",
    ),
]


@pytest.fixture(params=ENGINES)
def dumped(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    """(database URL, its dump file): customers (60 rows) and tickets (40 rows)."""
    fixture, ddl, dump = request.param
    url = request.getfixturevalue(fixture)
    fill(url, ddl)
    return url, dump(url, tmp_path / "prod.sql")


def test_when_profile_is_given_a_dump_then_its_json_has_the_dumps_tables_and_rows(
    dumped: tuple[str, Path], tmp_path: Path
) -> None:
    _, dump = dumped
    rules, out = tmp_path / "rules.yaml", tmp_path / "profile.json"
    rules.write_text(RULES)
    res = cli("profile", str(dump), "--rules", str(rules), "--out", str(out))
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert {k: t["rows"] for k, t in doc["tables"].items()} == {"customers": 60, "tickets": 40}
    assert set(doc["tables"]["customers"]["columns"]) == {"id", "first_name", "last_name", "email", "city"}


def test_when_diff_compares_a_dump_with_its_database_then_only_the_planted_column_differs(
    dumped: tuple[str, Path],
) -> None:
    url, dump = dumped
    res = cli("diff", str(dump), url, "--json")
    assert res.exit_code == 0, res.output  # the dump and the database it came from have the same schema
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE customers ADD COLUMN nickname varchar(40)"))
    engine.dispose()
    res = cli("diff", str(dump), url, "--json")
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    assert doc["a"] == str(dump)
    assert [(d["what"], d["table"], d["item"], d["change"]) for d in doc["differences"]] == [
        ("column", "customers", "nickname", "only in b")
    ]


def test_when_synth_takes_its_schema_from_a_dump_then_the_target_gets_the_dumps_tables(
    dumped: tuple[str, Path], tmp_path: Path
) -> None:
    _, dump = dumped
    target = tmp_path / "dev.db"
    res = cli("synth", str(target), "--schema-from", str(dump), "--rows", "7")
    assert res.exit_code == 0, res.output
    con = sqlite3.connect(target)
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("customers", "tickets")}
    columns = [r[1] for r in con.execute("PRAGMA table_info(tickets)")]
    orphans = con.execute(
        "SELECT count(*) FROM tickets WHERE customer_id NOT IN (SELECT id FROM customers)"
    ).fetchone()[0]
    con.close()
    assert counts == {"customers": 7, "tickets": 7}
    assert columns == ["id", "customer_id", "title", "body"]
    assert orphans == 0


def test_when_verify_reads_a_dump_then_it_counts_the_rows_of_the_anonymised_target(
    dumped: tuple[str, Path], tmp_path: Path
) -> None:
    _, dump = dumped
    rules, target = tmp_path / "rules.yaml", tmp_path / "staging.db"
    rules.write_text(RULES)
    assert cli("anonymize", "--rules", str(rules), str(dump), str(target)).exit_code == 0
    res = cli("verify", "--rules", str(rules), str(dump), str(target), "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["rows"] == {"customers": 60, "tickets": 40}
    assert doc["leak_counts"] == []


def test_when_a_source_is_opened_then_every_kind_answers_the_same_protocol(tmp_path: Path) -> None:
    db = tmp_path / "prod.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (id integer PRIMARY KEY, name text)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b"), (3, "c")])
    con.commit()
    con.close()
    out = tmp_path / "export"
    assert cli("anonymize", "--rules", _keep_rules(tmp_path), str(db), f"parquet:{out}").exit_code == 0
    for spec in (str(db), str(out)):  # a SQLite file, a directory of Parquet exports
        with open_source(spec) as src:
            assert src.display.endswith(Path(spec).name)
            assert src.count("t") == 3
            assert [len(b) for b in src.read_arrow("t", 2, ["name"])] == [2, 1]
            assert len(src.sample("t", 2)) == 2


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("csv:{tmp}/out", "files"),  # one CSV file per table
        ("parquet:{tmp}/out", "files"),  # one Parquet file per table
        ("{tmp}/out.sql.gz", "dump"),  # a sanitised dump, written from a dump source
        ("{tmp}/dev.db", "db"),  # a SQLite file
        ("postgresql://u:secret@db.example/app", "db"),  # a server URL; the password is never shown
    ],
)
def test_when_a_target_is_resolved_then_its_kind_and_display_are_known_before_it_opens(
    spec: str, kind: str, tmp_path: Path
) -> None:
    t = resolve_target(spec.format(tmp=tmp_path))
    assert t.kind == kind
    assert "secret" not in t.display


def _keep_rules(tmp_path: Path) -> str:
    p = tmp_path / "keep.yaml"
    p.write_text("version: 1\ntables:\n  t:\n    columns:\n      id: keep\n      name: keep\n")
    return str(p)


def test_when_synth_targets_a_parquet_directory_then_each_table_is_a_file_of_the_asked_rows(
    tmp_path: Path,
) -> None:
    import pyarrow.parquet as pq

    db = tmp_path / "prod.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL)")
    con.execute("CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer REFERENCES customers(id))")
    con.commit()
    con.close()
    out = tmp_path / "synth"
    res = cli("synth", f"parquet:{out}", "--schema-from", str(db), "--rows", "5")
    assert res.exit_code == 0, res.output
    customers, orders = pq.read_table(out / "customers.parquet"), pq.read_table(out / "orders.parquet")
    assert (customers.num_rows, orders.num_rows) == (5, 5)
    assert set(orders.column("customer_id").to_pylist()) <= set(customers.column("id").to_pylist())
    res = cli("synth", str(tmp_path / "out.sql"), "--schema-from", str(db), "--rows", "5")
    assert isinstance(res.exception, BadInputError)  # exit 2 through sanitize's main
    assert "not a .sql dump" in str(res.exception)
