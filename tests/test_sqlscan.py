"""Statement splitting and the byte reader: what decides where SQL ends and row data begins."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sanitize.dumps import open_dump_source, rewrite_dump
from sanitize.errors import DumpError
from sanitize.sqlscan import ByteReader, StatementSplitter


def _statements(dialect: str, text: str) -> list[str]:
    s = StatementSplitter(dialect)  # type: ignore[arg-type]
    out: list[str] = []
    for i, line in enumerate(text.splitlines(keepends=True), 1):
        out.extend(s.feed(line, i))
    assert not s.pending
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT 1; SELECT 2;\n", ["SELECT 1", "SELECT 2"]),
        ("SELECT ';' AS a;\n", ["SELECT ';' AS a"]),  # ; inside a string
        ("SELECT 'it''s;';\n", ["SELECT 'it''s;'"]),  # doubled quote
        ("SELECT E'a\\';b';\n", ["SELECT E'a\\';b'"]),  # escaped quote in an E-string
        ("SELECT 'a\\';\n", ["SELECT 'a\\'"]),  # a standard string ends at the quote after a backslash
        ('SELECT 1 AS "x;y";\n', ['SELECT 1 AS "x;y"']),
        # a function body that looks like a COPY statement
        (
            "CREATE FUNCTION f() AS $body$\nCOPY x FROM stdin;\n$body$;\n",
            ["CREATE FUNCTION f() AS $body$\nCOPY x FROM stdin;\n$body$"],
        ),
        ("SELECT 1 -- comment; not an end\n;\n", ["SELECT 1"]),
        ("/* a /* nested */ comment; */ SELECT 2;\n", ["SELECT 2"]),
        ("\\connect other\nSELECT 3;\n", ["\\connect other", "SELECT 3"]),
    ],
)
def test_when_postgres_sql_is_split_then_quotes_and_comments_are_respected(
    text: str, expected: list[str]
) -> None:
    assert _statements("postgresql", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("INSERT INTO `t` VALUES ('a;b\\'c');\n", ["INSERT INTO `t` VALUES ('a;b\\'c')"]),
        ('SELECT "x\\";y";\n', ['SELECT "x\\";y"']),
        ("/*!40101 SET NAMES utf8mb4 */;\n", ["/*!40101 SET NAMES utf8mb4 */"]),
        ("SELECT 1 # comment;\n;\n", ["SELECT 1"]),
        (
            "DELIMITER ;;\nCREATE TRIGGER t BEGIN SET @a = 1; END ;;\nDELIMITER ;\n",
            ["DELIMITER ;;", "CREATE TRIGGER t BEGIN SET @a = 1; END", "DELIMITER ;"],
        ),
    ],
)
def test_when_mysql_sql_is_split_then_quotes_comments_and_delimiters_are_respected(
    text: str, expected: list[str]
) -> None:
    assert _statements("mysql", text) == expected


def test_when_copy_data_is_read_in_tiny_blocks_then_the_end_marker_is_found_across_boundaries() -> None:
    data = b"1\ta\n2\t\\\\.\n3\tc\n\\.\nSELECT 1;\n"
    for size in range(1, 20):
        r = ByteReader(io.BytesIO(data), "t")
        got = b"".join(r.copy_chunks(size, "table t"))
        assert got == b"1\ta\n2\t\\\\.\n3\tc\n", size
        assert r.readline() == b"SELECT 1;\n"
        assert r.line == 6


def test_when_copy_data_has_no_end_marker_then_the_error_gives_the_byte_offset() -> None:
    r = ByteReader(io.BytesIO(b"1\ta\n2\tb"), "dump.sql", offset=100, line=10)
    with pytest.raises(
        DumpError,
        match=r"dump.sql: table t \(COPY data from line 10\) has no end marker.*byte 107 \(line 11\)",
    ):
        list(r.copy_chunks(1 << 20, "table t"))


PLAIN = """--
-- PostgreSQL database dump
--

CREATE TABLE public.t (
    id integer NOT NULL,
    v text
);

COPY public.t (id, v) FROM stdin;
{rows}\\.

CREATE TABLE public.empty (
    id integer
);

COPY public.empty (id) FROM stdin;
\\.

--
-- PostgreSQL database dump complete
--
"""


@pytest.mark.parametrize("chunk", [1, 5, 64, 1 << 20])
def test_when_a_dump_is_rewritten_in_any_chunk_size_then_kept_data_is_byte_identical(
    tmp_path: Path, chunk: int
) -> None:
    rows = "".join(f"{i}\tvalue {i} \\\\ \\t {'é' * (i % 4)}\n" for i in range(50))
    dump = tmp_path / "d.sql"
    dump.write_text(PLAIN.format(rows=rows))
    out = tmp_path / "o.sql"
    result = rewrite_dump(dump, out, lambda _t, df: df, chunk_bytes=chunk)
    assert out.read_bytes() == dump.read_bytes()
    assert result.rows == {"t": 50, "empty": 0}
    with open_dump_source(dump) as src:
        assert src.count("t") == 50 and src.count("empty") == 0
        assert list(src.read_batches("empty")) == []


def test_when_the_transform_returns_none_then_the_table_keeps_its_ddl_but_no_rows(tmp_path: Path) -> None:
    dump = tmp_path / "d.sql"
    dump.write_text(PLAIN.format(rows="1\ta\n2\tb\n"))
    out = tmp_path / "o.sql"
    result = rewrite_dump(dump, out, lambda t, df: None if t == "t" else df)
    assert result.rows["t"] == 0
    text = out.read_text()
    assert "COPY public.t (id, v) FROM stdin;\n\\.\n" in text and "CREATE TABLE public.t" in text


PG_FK_DUMP = """-- PostgreSQL database dump
CREATE TABLE public.parent (id integer NOT NULL);
CREATE TABLE public.child (
    id integer NOT NULL,
    parent_id integer REFERENCES public.parent(id) ON DELETE CASCADE ON UPDATE SET NULL
);
CREATE TABLE public.other (id integer NOT NULL, parent_id integer);
ALTER TABLE ONLY public.parent ADD CONSTRAINT parent_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.other
    ADD CONSTRAINT other_parent_fkey FOREIGN KEY (parent_id)
    REFERENCES public.parent(id) ON DELETE SET DEFAULT;
-- PostgreSQL database dump complete
"""

MY_FK_DUMP = """-- MariaDB dump
CREATE TABLE `parent` (`id` int(11) NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB;
CREATE TABLE `child` (
  `id` int(11) NOT NULL,
  `parent_id` int(11) DEFAULT NULL,
  PRIMARY KEY (`id`),
  CONSTRAINT `child_fk` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`)
    ON DELETE CASCADE ON UPDATE NO ACTION
) ENGINE=InnoDB;
-- Dump completed on 2026-11-26 12:00:00
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PG_FK_DUMP, {("child", "CASCADE", "SET NULL"), ("other", "SET DEFAULT", None)}),
        (MY_FK_DUMP, {("child", "CASCADE", None)}),
    ],
)
def test_when_a_dump_declares_referential_actions_then_the_schema_keeps_them(
    tmp_path: Path, text: str, expected: set[tuple[str, str | None, str | None]]
) -> None:
    dump = tmp_path / "fk.sql"
    dump.write_text(text)
    with open_dump_source(dump) as src:
        got = {(k, fk.on_delete, fk.on_update) for k, t in src.schema.tables.items() for fk in t.foreign_keys}
    assert got == expected
