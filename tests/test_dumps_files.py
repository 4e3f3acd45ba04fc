"""Directories of CSV / Parquet files as sources and as an atomic export target."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sanitize.dumps import detect_format, is_dump_path, open_dump_source, write_table_dir
from sanitize.dumps.files import MARKER, FileDirTarget
from sanitize.errors import DumpError, TargetRefusedError
from sanitize.schema import Column, Schema, Table

TEXTS = ["plain", "", "comma, here", 'quote " inside', "new\nline", "\\N", "NA", "NULL", "😀 ünï", None]

PLAIN_DUMP = """--
-- PostgreSQL database dump
--

SET client_encoding = 'UTF8';

CREATE TABLE public.people (
    id integer NOT NULL,
    name text,
    born date,
    paid numeric(8,2),
    ok boolean,
    pic bytea
);

COPY public.people (id, name, born, paid, ok, pic) FROM stdin;
%s\\.

ALTER TABLE ONLY public.people
    ADD CONSTRAINT people_pkey PRIMARY KEY (id);

--
-- PostgreSQL database dump complete
--
"""


def _people_dump(tmp_path: Path, n: int = 25) -> Path:
    rows = []
    for i in range(n):
        name = TEXTS[i % len(TEXTS)]
        enc = "\\N" if name is None else name.replace("\\", "\\\\").replace("\n", "\\n")
        rows.append(
            f"{i}\t{enc}\t2000-01-{1 + i % 28:02d}\t{i}.50\t{'t' if i % 2 else 'f'}\t\\\\x{i:02x}ff\n"
        )
    path = tmp_path / "people.sql"
    path.write_text(PLAIN_DUMP % "".join(rows))
    return path


def test_when_a_parquet_directory_is_opened_then_its_schema_and_rows_come_from_the_files(
    tmp_path: Path,
) -> None:
    d = tmp_path / "export"
    d.mkdir()
    pq.write_table(
        pa.table(
            {
                "id": pa.array(range(10), pa.int64()),
                "email": [f"u{i}@x.com" for i in range(10)],
                "amount": pa.array([decimal.Decimal(f"{i}.25") for i in range(10)], pa.decimal128(6, 2)),
                "at": pa.array([dt.datetime(2020, 1, 1, i) for i in range(10)], pa.timestamp("us")),
            }
        ),
        d / "customers.parquet",
    )
    pq.write_table(pa.table({"x": [1.5]}), d / "sales.orders.parquet")
    assert detect_format(d) == "parquet_dir" and is_dump_path(str(d))
    with open_dump_source(d) as src:
        assert set(src.schema.tables) == {"customers", "sales.orders"}
        t = src.schema["customers"]
        assert [(c.name, c.kind) for c in t.columns] == [
            ("id", "integer"),
            ("email", "text"),
            ("amount", "decimal"),
            ("at", "datetime"),
        ]
        assert src.schema["sales.orders"].schema == "sales"
        assert src.count("customers") == 10
        batches = list(src.read_batches("customers", batch_size=4, columns=["email", "id"]))
        assert [len(b) for b in batches] == [4, 4, 2]
        assert batches[0].columns.tolist() == ["email", "id"]
        assert batches[0]["email"].tolist() == ["u0@x.com", "u1@x.com", "u2@x.com", "u3@x.com"]
        with pytest.raises(DumpError, match="no column"):
            list(src.read_batches("customers", columns=["nope"]))


def test_when_a_csv_directory_has_no_schema_then_columns_are_text(tmp_path: Path) -> None:
    d = tmp_path / "csv"
    d.mkdir()
    (d / "t.csv").write_text('id,name\n1,"a, b"\n2,\n3,""\n')
    with open_dump_source(d) as src:
        assert [c.kind for c in src.schema["t"].columns] == ["text", "text"]
        df = next(iter(src.read_batches("t")))
    assert df["id"].tolist() == ["1", "2", "3"]
    assert [None if pd.isna(v) else v for v in df["name"]] == ["a, b", None, ""]  # unquoted empty is NULL


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_when_a_dump_is_exported_then_the_files_read_back_exactly(tmp_path: Path, fmt: str) -> None:
    dump = _people_dump(tmp_path)
    out = tmp_path / "out"
    with open_dump_source(dump) as src:
        written = write_table_dir(out, src, format=fmt)  # type: ignore[arg-type]
        expected = pd.concat(list(src.read_batches("people")), ignore_index=True)
        schema = src.schema
    assert written == {"people": 25}
    assert (out / MARKER).exists() and (out / f"people.{fmt}").exists()
    with open_dump_source(out, schema=schema if fmt == "csv" else None) as back:
        got = pd.concat(list(back.read_batches("people", batch_size=7)), ignore_index=True)
    for col in expected.columns:
        a = [None if pd.isna(v) else v for v in expected[col]]
        b = [None if pd.isna(v) else v for v in got[col]]
        assert a == b, col


def test_when_an_export_fails_midway_then_the_previous_export_is_untouched(tmp_path: Path) -> None:
    dump = _people_dump(tmp_path)
    out = tmp_path / "out"
    with open_dump_source(dump) as src:
        write_table_dir(out, src, format="csv")
        before = (out / "people.csv").read_bytes()

        def boom(_key: str, _df: pd.DataFrame) -> pd.DataFrame:
            raise RuntimeError("strategy exploded")

        with pytest.raises(RuntimeError):
            write_table_dir(out, src, boom, format="csv")
    assert (out / "people.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "people.sql"]  # no shadow left behind


def test_when_the_destination_was_not_written_by_sanitize_then_it_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.txt").write_text("do not delete")
    schema = Schema({"t": Table("t", "t", None, (Column("a", "text"),))})
    with pytest.raises(TargetRefusedError, match="did not write"):
        FileDirTarget(out, "csv").begin_load(schema)
    assert (out / "thesis.txt").read_text() == "do not delete"


def test_when_csv_values_do_not_fit_the_schema_then_the_error_names_the_column(tmp_path: Path) -> None:
    d = tmp_path / "csv"
    d.mkdir()
    (d / "t.csv").write_text("id,born\n1,2020-01-01\n2,not a date\n")
    schema = Schema({"t": Table("t", "t", None, (Column("id", "integer"), Column("born", "date")))})
    with (
        open_dump_source(d, schema=schema) as src,
        pytest.raises(DumpError, match="column born holds values"),
    ):
        list(src.read_batches("t"))
