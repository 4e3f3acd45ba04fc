"""Real application schemas through dumps: CHECKs from pg_dump/mysqldump reach a target of their engine,
columns whose names start like a constraint keyword are kept, and enum columns with enum defaults load."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from sanitize.db import open_source, resolve
from sanitize.dumps import read_dump_schema
from sanitize.pipeline import anonymize
from tests.test_schema_checks import (
    KEEP_ALL,
    MY_JOBS,
    PG_INDEXES,
    PG_JOBS,
    PG_NAMES,
    check_names,
    load_rules_text,
    pg_index_defs,
    pg_run,
)

if shutil.which("pg_dump") is None or shutil.which("mysqldump") is None:  # pragma: no cover
    pytest.skip("pg_dump and mysqldump are needed", allow_module_level=True)

from tests.test_dumps_mysql import mysqldump_after  # noqa: E402
from tests.test_dumps_pg import pg_dump  # noqa: E402

PREFIXED = """
CREATE TYPE doc_state AS ENUM ('draft', 'final');
CREATE TABLE docs (
    id int PRIMARY KEY,
    checksum text,
    checked_at timestamp,
    unique_id uuid,
    exclude_reason text,
    primary_email text,
    foreign_ref int,
    constraint_note text,
    status doc_state DEFAULT 'draft'::doc_state NOT NULL
);
INSERT INTO docs VALUES (1, 'abc', '2024-01-01', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'none',
  'p@x.io', 7, 'n', 'final');
INSERT INTO docs (id) VALUES (2);
"""
DOC_COLUMNS = [
    "id",
    "checksum",
    "checked_at",
    "unique_id",
    "exclude_reason",
    "primary_email",
    "foreign_ref",
    "constraint_note",
    "status",
]


@pytest.mark.postgres
def test_when_a_pg_dump_is_loaded_into_postgres_then_its_checks_are_there(
    pg_url: str, pg_url2: str, tmp_path: Path
) -> None:
    pg_run(pg_url, PG_JOBS)
    dump = pg_dump(pg_url, tmp_path / "prod.sql")
    assert {c.name for c in read_dump_schema(str(dump))["jobs"].checks} == PG_NAMES
    anonymize(load_rules_text(KEEP_ALL), str(dump), pg_url2)
    assert check_names(pg_url2) == PG_NAMES


@pytest.mark.mariadb
def test_when_a_mysqldump_is_loaded_into_mariadb_then_its_checks_are_there(
    mariadb_url: str, mariadb_url2: str, tmp_path: Path
) -> None:
    dump = mysqldump_after(mariadb_url, tmp_path / "prod.sql", *(s.replace("%", "%%") for s in MY_JOBS))
    want = {"price", "email_dom", "one_of", "code_len", "email_re"}
    assert {c.name for c in read_dump_schema(str(dump))["jobs"].checks} == want
    anonymize(load_rules_text(KEEP_ALL), str(dump), mariadb_url2)
    assert check_names(mariadb_url2) == want


@pytest.mark.postgres
def test_when_columns_start_like_constraint_keywords_then_a_pg_dump_keeps_them_and_enum_defaults_load(
    pg_url: str, pg_url2: str, tmp_path: Path
) -> None:
    pg_run(pg_url, PREFIXED)
    dump = pg_dump(pg_url, tmp_path / "prod.sql")
    names = DOC_COLUMNS
    assert list(read_dump_schema(str(dump))["docs"].column_names) == names
    anonymize(load_rules_text(KEEP_ALL), str(dump), pg_url2)
    with open_source(resolve(pg_url2)) as s:
        assert list(s.schema["docs"].column_names) == names
    with psycopg.connect(pg_url2.replace("+psycopg", "")) as c:
        got = c.execute("SELECT id, checksum, status::text FROM docs ORDER BY id").fetchall()
        c.execute("INSERT INTO docs (id) VALUES (3)")  # the enum default works on the target
        assert c.execute("SELECT status::text FROM docs WHERE id = 3").fetchone() == ("draft",)
    assert got == [(1, "abc", "final"), (2, None, "draft")]


@pytest.mark.postgres
def test_when_a_pg_dump_has_opclass_expression_and_enum_partial_indexes_then_postgres_gets_them(
    pg_url: str, pg_url2: str, tmp_path: Path
) -> None:
    pg_run(pg_url, PG_INDEXES)
    dump = pg_dump(pg_url, tmp_path / "prod.sql")
    anonymize(load_rules_text(KEEP_ALL), str(dump), pg_url2)
    assert pg_index_defs(pg_url2) == pg_index_defs(pg_url)


@pytest.mark.postgres
def test_when_a_dump_of_a_sanitize_made_postgres_is_used_then_its_bookkeeping_needs_no_rules(
    pg_url: str, pg_url2: str, tmp_path: Path
) -> None:
    pg_run(pg_url, PREFIXED)
    anonymize(load_rules_text(KEEP_ALL), pg_url, pg_url2)  # pg_url2 now holds sanitize_meta
    dump = pg_dump(pg_url2, tmp_path / "staging.sql")
    assert "sanitize_meta" in dump.read_text()
    strict = (
        "version: 1\ntables:\n  docs: {columns: {" + ", ".join(f"{c}: keep" for c in DOC_COLUMNS) + "}}\n"
    )
    assert list(read_dump_schema(str(dump)).tables) == ["docs"]
    anonymize(load_rules_text(strict), str(dump), str(tmp_path / "dev.db"))
    anonymize(load_rules_text(strict), str(dump), str(tmp_path / "out.sql"))
    assert "sanitize_meta" in (tmp_path / "out.sql").read_text()  # kept as it was


@pytest.mark.mariadb
def test_when_a_mysqldump_of_a_sanitize_made_mariadb_is_used_then_its_bookkeeping_needs_no_rules(
    mariadb_url: str, mariadb_url2: str, tmp_path: Path
) -> None:
    from tests.test_dumps_mysql import mysqldump

    dump = mysqldump_after(
        mariadb_url,
        tmp_path / "prod.sql",
        "CREATE TABLE t (id int PRIMARY KEY, v text)",
        "INSERT INTO t VALUES (1, 'a')",
    )
    anonymize(load_rules_text(KEEP_ALL), str(dump), mariadb_url2)
    staging = mysqldump(mariadb_url2, tmp_path / "staging.sql")
    assert "sanitize_meta" in staging.read_text()
    strict = load_rules_text("version: 1\ntables:\n  t: {columns: {id: keep, v: keep}}\n")
    assert list(read_dump_schema(str(staging)).tables) == ["t"]
    anonymize(strict, str(staging), str(tmp_path / "dev.db"))
    anonymize(strict, str(staging), str(tmp_path / "out.sql"))


@pytest.mark.postgres
def test_when_a_default_cannot_cross_engines_then_the_warning_names_the_table(
    pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    pg_run(pg_url, "CREATE TABLE tokens (id int PRIMARY KEY, t uuid DEFAULT gen_random_uuid())")
    with caplog.at_level(logging.WARNING, logger="sanitize"):
        anonymize(load_rules_text(KEEP_ALL), pg_url, str(tmp_path / "dev.db"))
    assert "column tokens.t: default gen_random_uuid()" in caplog.text
