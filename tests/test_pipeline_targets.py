"""The pipeline's other targets: a sanitised dump from a dump, CSV/Parquet export directories; preview."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sanitize.demo import DemoSize, build_demo_database, demo_rules_path
from sanitize.errors import BadInputError, CoverageError
from sanitize.keys import SecretKey
from sanitize.pipeline import anonymize, preview, resolve_target

from .conftest import TEST_KEY

KEY = SecretKey(TEST_KEY.encode())
SMALL = DemoSize(customers=60, employees=8, orders=120, tickets=30, events=50, page_views=80)


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_database(tmp_path_factory.mktemp("p") / "prod.db", SMALL)


def test_when_the_target_is_parquet_dir_then_each_table_is_a_file_with_anonymised_rows(
    prod: Path, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    run = anonymize(demo_rules_path(), str(prod), f"parquet:{out}", key=KEY)
    assert run.published
    customers = pq.read_table(out / "customers.parquet").to_pandas()
    con = sqlite3.connect(prod)
    real = {r[0] for r in con.execute("SELECT email FROM customers")}
    count = con.execute("SELECT count(*) FROM order_items").fetchone()[0]
    con.close()
    assert len(customers) == 60 and not real.intersection(customers["email"])
    assert pq.read_table(out / "order_items.parquet").num_rows == count


def test_when_the_target_names_kinds_then_they_resolve(tmp_path: Path) -> None:
    assert resolve_target(str(tmp_path / "out.sql")).kind == "dump"
    assert resolve_target(str(tmp_path / "out.sql.gz")).kind == "dump"
    assert resolve_target(f"csv:{tmp_path / 'dir'}").kind == "files"
    assert resolve_target(str(tmp_path / "dev.db")).kind == "db"


def test_when_a_dump_target_gets_a_database_source_then_a_clear_error(prod: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="needs a dump file as SOURCE"):
        anonymize(demo_rules_path(), str(prod), str(tmp_path / "out.sql"), key=KEY)
    assert not (tmp_path / "out.sql").exists()


def _write_plain_dump(out: Path) -> None:
    """A plain SQL dump of a small table, in the shape pg_dump writes (CREATE TABLE + COPY)."""
    out.write_text(
        "CREATE TABLE public.people (\n    id integer NOT NULL,\n    email text,\n    note text\n);\n\n"
        "COPY public.people (id, email, note) FROM stdin;\n"
        "1\treal.one@corp.com\thello\\tworld\n2\t\\N\tx\n3\treal.three@corp.com\t\\\\back\n\\.\n\n"
        "ALTER TABLE ONLY public.people\n    ADD CONSTRAINT people_pkey PRIMARY KEY (id);\n"
    )


def test_when_a_dump_is_anonymised_into_a_dump_then_rows_change_and_the_rest_is_kept(tmp_path: Path) -> None:
    src = tmp_path / "in.sql"
    _write_plain_dump(src)
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "version: 1\ntables:\n  people:\n    columns:\n      id: keep\n"
        "      email: {strategy: fake, kind: email}\n      note: keep\n"
    )
    out = tmp_path / "out.sql"
    run = anonymize(str(rules), str(src), str(out), key=KEY)
    text = out.read_text()
    assert run.published and run.rows == 3
    assert "real.one@corp.com" not in text and "real.three" not in text
    assert "hello\\tworld" in text and "\\\\back" in text and "2\t\\N\tx" in text  # kept byte-exact
    assert "ADD CONSTRAINT people_pkey PRIMARY KEY (id);" in text
    # coverage fails closed before any output exists
    rules.write_text("version: 1\ntables:\n  people:\n    columns:\n      id: keep\n")
    out.unlink()
    with pytest.raises(CoverageError, match="people.email"):
        anonymize(str(rules), str(src), str(out), key=KEY)
    assert not out.exists()


def test_when_previewing_then_before_and_after_differ_only_where_rules_transform(prod: Path) -> None:
    before, after = preview(demo_rules_path(), str(prod), "customers", rows=5, key=KEY)
    assert len(before) == len(after) == 5
    assert list(before["id"]) == list(after["id"])
    assert not set(before["email"]).intersection(after["email"])


def test_when_previewing_a_skipped_or_unknown_table_then_exit_2(prod: Path) -> None:
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "sanitize.cli",
            "preview",
            "--rules",
            str(demo_rules_path()),
            str(prod),
            "--table",
            "nosuch",
        ],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "SANITIZE_KEY": TEST_KEY},
    )
    assert res.returncode == 2 and "nosuch" in res.stderr and "Traceback" not in res.stderr
