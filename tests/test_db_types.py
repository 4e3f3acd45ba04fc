"""Casting batches to target column types: what fits, what is refused, and how the error reads."""

from __future__ import annotations

import datetime as dt
import decimal

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from sanitize.db.types import arrow_type, batch_to_arrow, column_to_arrow, hex_decode, hex_encode
from sanitize.errors import LoadError
from sanitize.schema import Column, Table


@pytest.mark.parametrize(
    ("values", "target", "expected"),
    [
        (pd.Series(["1", "2", None]), pa.int32(), [1, 2, None]),  # pseudonymised as text, column is int
        (pd.Series([1.0, 2.0]), pa.int64(), [1, 2]),  # whole floats into an integer column
        (
            pd.Series(["2024-01-02 03:04:05", "2024-01-02T03:04:05.5"]),
            pa.timestamp("us"),
            [dt.datetime(2024, 1, 2, 3, 4, 5), dt.datetime(2024, 1, 2, 3, 4, 5, 500000)],
        ),
        (
            pd.Series(["2024-01-02 03:04:05+02:00"]),
            pa.timestamp("us", tz="UTC"),
            [dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=dt.UTC)],
        ),
        (pd.Series(["12:30:00"]), pa.time64("us"), [dt.time(12, 30)]),
        (pd.Series(["1.5", "2"]), pa.decimal128(10, 2), [decimal.Decimal("1.50"), decimal.Decimal("2.00")]),
        (pd.Series([True, False]), pa.large_string(), ["true", "false"]),
        (pd.Series([b"\x00\xff"]), pa.large_binary(), [b"\x00\xff"]),
    ],
)
def test_when_value_fits_then_cast_to_target(
    values: pd.Series, target: pa.DataType, expected: list[object]
) -> None:
    got = column_to_arrow(values, target, "t.c").to_pylist()
    assert [
        g.replace(tzinfo=dt.UTC) if isinstance(g, dt.datetime) and g.tzinfo else g for g in got
    ] == expected


@pytest.mark.parametrize(
    ("values", "target", "bad"),
    [
        (pd.Series([1, 2**40]), pa.int32(), "1099511627776"),  # pseudonym too big for INTEGER
        (pd.Series(["7", "seven"]), pa.int64(), "'seven'"),  # text where a number belongs
        (pd.Series(["2024-01-01", "soon"]), pa.date32(), "'soon'"),  # text where a date belongs
        (pd.Series([1.5]), pa.int64(), "1.5"),  # a fraction would be lost
        (pd.Series(["123456.789"]), pa.decimal128(5, 2), "123456.789"),  # precision exceeded
    ],
)
def test_when_value_does_not_fit_then_load_error_names_column_and_value(
    values: pd.Series, target: pa.DataType, bad: str
) -> None:
    with pytest.raises(LoadError) as info:
        column_to_arrow(values, target, "customers.code")
    msg = str(info.value)
    assert msg.startswith("customers.code: value ") and bad in msg and "change the rule" in msg


def test_when_batch_columns_differ_then_load_error_lists_them() -> None:
    table = Table(key="t", name="t", columns=(Column("a", "integer"), Column("b", "text")))
    with pytest.raises(LoadError, match="missing b; not in the table c"):
        batch_to_arrow(pd.DataFrame({"a": [1], "c": [2]}), table, [pa.int64(), pa.large_string()])
    ok = batch_to_arrow(pd.DataFrame({"b": ["x"], "a": [1]}), table, [pa.int64(), pa.large_string()])
    assert ok.column_names == ["a", "b"]  # reordered to the table's order


@pytest.mark.parametrize(
    ("column", "dialect", "expected"),
    [
        (Column("n", "integer", sql_type=sa.SmallInteger()), "postgresql", pa.int16()),
        (Column("n", "integer", sql_type=sa.Integer()), "postgresql", pa.int32()),
        (Column("n", "integer", sql_type=sa.Integer()), "sqlite", pa.int64()),  # SQLite integers are 64-bit
        (Column("d", "decimal", precision=12, scale=2), "mysql", pa.decimal128(12, 2)),
        (Column("d", "decimal"), "postgresql", pa.large_string()),  # unconstrained numeric stays exact
        (Column("t", "datetime", timezone=True), "postgresql", pa.timestamp("us", tz="UTC")),
        (Column("u", "uuid"), "postgresql", pa.large_string()),
        (Column("t", "time", timezone=True), "postgresql", pa.large_string()),  # '10:00+02' keeps its offset
        (Column("t", "time", timezone=True), "mysql", pa.time64("us")),  # elsewhere: a UTC time
        (Column("t", "time"), "sqlite", pa.large_string()),  # SQLite: the text the file holds
        (Column("d", "date"), "sqlite", pa.large_string()),
        (Column("t", "datetime", timezone=True), "sqlite", pa.large_string()),
        (Column("t", "time"), "postgresql", pa.time64("us")),
    ],
)
def test_when_column_then_arrow_type(column: Column, dialect: str, expected: pa.DataType) -> None:
    assert arrow_type(column, dialect) == expected


def test_when_hex_round_trip_then_bytes_and_nulls_survive() -> None:
    values = pa.array([b"\x00\xff", None, b"", bytes(range(256))], pa.large_binary())
    encoded = hex_encode(values, b"")
    assert encoded.to_pylist()[:3] == ["00ff", None, ""]
    assert hex_decode(encoded).to_pylist() == values.to_pylist()
    assert hex_decode(encoded.slice(1)).to_pylist() == values.to_pylist()[1:]
    with pytest.raises(ValueError):
        hex_decode(pa.array(["zz"]))
