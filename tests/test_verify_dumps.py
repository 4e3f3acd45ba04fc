"""verify with a dump as its source (pg_dump plain and mysqldump files), opened as `anonymize` opens it."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from sanitize.cli import app
from tests.conftest import TEST_KEY
from tests.test_dumps_mysql import mysqldump
from tests.test_dumps_pg import pg_dump
from tests.test_verify_collisions import CITIES, LAST

RULES = """
version: 1
tables:
  customers:
    columns:
      id: keep
      first_name: {strategy: fake, kind: first_name}
      last_name: {strategy: fake, kind: last_name}
      email: {strategy: fake, kind: email, domain: email}
      city: {strategy: fake, kind: city}
  tickets:
    columns:
      id: keep
      customer_id: keep
      title: keep
      body: scrub
"""
PG_DDL = [
    "CREATE TABLE customers (id integer PRIMARY KEY, first_name text, last_name text, email text, city text)",
    "CREATE TABLE tickets (id integer PRIMARY KEY, customer_id integer REFERENCES customers(id), title text, "
    "body text)",
]
MY_DDL = [d.replace(" text", " varchar(200)") for d in PG_DDL]


def fill(url: str, ddl: list[str]) -> None:
    customers = [
        {"id": i, "f": f"Given{chr(97 + i % 26)}", "l": LAST[i], "e": f"{LAST[i].lower()}.{i}@mail.example",
         "c": CITIES[i % len(CITIES)]}
        for i in range(60)
    ]  # fmt: skip
    tickets = [
        {
            "id": k,
            "c": k % 60,
            "t": CITIES[k % len(CITIES)],
            "b": f"My order to {CITIES[k % 9]} never arrived.",
        }
        for k in range(40)
    ]  # titles named after cities, bodies naming cities
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for d in ddl:
            conn.execute(sa.text(d))
        conn.execute(sa.text("INSERT INTO customers VALUES (:id, :f, :l, :e, :c)"), customers)
        conn.execute(sa.text("INSERT INTO tickets VALUES (:id, :c, :t, :b)"), tickets)
    engine.dispose()


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"SANITIZE_KEY": TEST_KEY})


def check_dump(dump: Path, tmp_path: Path) -> None:
    rules, target = tmp_path / "rules.yaml", tmp_path / "staging.db"
    rules.write_text(RULES)
    res = cli("anonymize", "--rules", str(rules), str(dump), str(target))
    assert res.exit_code == 0, res.output
    res = cli("verify", "--rules", str(rules), str(dump), str(target), "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["leak_counts"] == []
    con = sqlite3.connect(target)
    con.execute("UPDATE tickets SET body = body || ' Regards, ' || ? WHERE id = 5", (LAST[17],))
    con.commit()
    con.close()
    res = cli("verify", "--rules", str(rules), str(dump), str(target), "--json")
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    assert [(c["table"], c["column"], c["kind"], c["count"]) for c in doc["leak_counts"]] == [
        ("tickets", "body", "name", 1)
    ]
    assert doc["leaks"][0]["row"] == "id=5"


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_when_the_source_is_a_pg_dump_plain_file_then_verify_reads_it_and_catches_a_planted_surname(
    pg_url: str, tmp_path: Path
) -> None:
    fill(pg_url, PG_DDL)
    check_dump(pg_dump(pg_url, tmp_path / "prod.sql"), tmp_path)


@pytest.mark.mariadb
@pytest.mark.skipif(
    shutil.which("mariadb-dump") is None and shutil.which("mysqldump") is None, reason="no mysqldump"
)
def test_when_the_source_is_a_mysqldump_file_then_verify_reads_it_and_catches_a_planted_surname(
    mariadb_url: str, tmp_path: Path
) -> None:
    fill(mariadb_url, MY_DDL)
    check_dump(mysqldump(mariadb_url, tmp_path / "prod.sql"), tmp_path)


@pytest.mark.parametrize(("before_publish", "said"), [(False, False), (True, True)])
def test_when_a_leak_is_raised_then_nothing_was_published_is_said_only_by_a_gate(
    before_publish: bool, said: bool
) -> None:
    from sanitize.errors import LeakError
    from sanitize.verify import VerifyResult

    result = VerifyResult()
    result.add_leak("t", "c", "email", ["id=1"], 1, "source email found whole (from s.email)", 20)
    with pytest.raises(LeakError) as exc:
        result.raise_for_problems(before_publish=before_publish)
    assert ("nothing was published" in str(exc.value)) is said
