"""date_shift, noise and generalize."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import ValidationError

from sanitize.errors import BadInputError, RulesError
from sanitize.keys import SecretKey
from sanitize.schema import Column
from sanitize.strategies import ColumnContext, get
from sanitize.strategies.apply import apply_strategy


def run(name: str, params: dict[str, Any], values: Any, key: SecretKey, **ctx: Any) -> pd.Series:
    spec = get(name)
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    context = ColumnContext(key=key, domain=ctx.pop("domain", "t.c"), table="t", **ctx)
    return apply_strategy(series, spec, spec.validate_params(params), context)


DAYS = pd.Series(pd.date_range("2000-01-01", periods=5000, freq="D"))

# --- date_shift ---------------------------------------------------------------------------------


@pytest.mark.parametrize("max_days", [1, 30, 365])
def test_when_shifting_dates_then_the_shift_is_never_zero_and_within_bounds(
    max_days: int, key: SecretKey
) -> None:
    out = run("date_shift", {"max_days": max_days}, DAYS, key)
    delta = (out - DAYS).dt.days
    assert (delta != 0).all()
    assert delta.abs().max() <= max_days
    assert delta.nunique() >= 0.9 * 2 * max_days  # both directions, (nearly) every size used
    assert (delta < 0).any() and (delta > 0).any()


@pytest.mark.parametrize(
    "values,check",
    [
        # ISO text: the date part moves, the time and offset stay
        (["2024-01-05T10:30:00+02:00"], lambda o: o[10:] == "T10:30:00+02:00" and o[:10] != "2024-01-05"),
        (["2024-01-05"], lambda o: len(o) == 10 and o != "2024-01-05"),
        # Python dates stay dates
        (
            pd.Series([dt.date(2024, 1, 5)], dtype=object),
            lambda o: isinstance(o, dt.date) and o != dt.date(2024, 1, 5),
        ),
        # tz-aware timestamps keep their zone
        (
            pd.Series(pd.to_datetime(["2024-06-01 12:00"]).tz_localize("Europe/Berlin")),
            lambda o: str(o.tz) == "Europe/Berlin" and o.hour in (11, 12, 13),
        ),
        # Arrow dates stay Arrow dates
        (
            pd.Series(pd.array(pa.array([dt.date(2024, 1, 5)]), dtype=pd.ArrowDtype(pa.date32()))),
            lambda o: isinstance(o, dt.date) and o != dt.date(2024, 1, 5),
        ),
    ],
)
def test_when_shifting_then_the_type_is_kept(values: Any, check: Any, key: SecretKey) -> None:
    out = run("date_shift", {}, values, key)
    assert check(out.iloc[0]), out.iloc[0]


def test_when_text_is_not_a_date_then_a_keyed_date_replaces_it(key: SecretKey) -> None:
    out = run("date_shift", {}, ["not a date", "Bob Smith"], key)
    assert all(pd.Timestamp(v) for v in out)  # parses: the original text is gone
    assert "Bob" not in "".join(out)


def test_when_an_entity_is_named_then_its_dates_shift_together(key: SecretKey) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, None],
            "created": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-01-01", "2024-05-01", "2024-01-01"]),
        }
    )
    shipped = pd.DataFrame({"cust": [1, 2], "at": pd.to_datetime(["2024-02-01", "2024-02-01"])})
    a = run(
        "date_shift", {"entity": "customer_id"}, frame["created"], key, frame=frame, domain="orders.created"
    )
    b = run("date_shift", {"entity": "cust"}, shipped["at"], key, frame=shipped, domain="shipments.at")
    shift_a = (a - frame["created"]).dt.days
    shift_b = (b - shipped["at"]).dt.days
    assert shift_a.iloc[0] == shift_a.iloc[1] == shift_b.iloc[0]  # one customer, one shift, any column
    assert shift_a.iloc[2] == shift_a.iloc[3] == shift_b.iloc[1]
    assert shift_a.iloc[4] != 0  # no entity: shifted on its own


def test_when_the_entity_column_is_missing_then_it_says_which(key: SecretKey) -> None:
    spec = get("date_shift")
    params = spec.validate_params({"entity": "customer_id"})
    assert spec.reads_columns(params) == ("customer_id",)
    with pytest.raises(BadInputError, match="entity column 'customer_id'"):
        run("date_shift", {"entity": "customer_id"}, DAYS.iloc[:3], key, frame=pd.DataFrame({"x": [1, 2, 3]}))


def test_when_date_shift_targets_a_number_column_then_it_is_refused(key: SecretKey) -> None:
    with pytest.raises(RulesError, match="noise"):
        run("date_shift", {}, pd.Series([], dtype="int64"), key, column=Column("n", "integer"))


# --- noise --------------------------------------------------------------------------------------


def test_when_adding_relative_noise_then_values_move_within_the_bound(key: SecretKey) -> None:
    values = pd.Series(np.linspace(100, 10_000, 5000))
    out = run("noise", {"relative": 0.05}, values, key)
    ratio = out / values
    assert ratio.between(0.95, 1.05).all()
    assert (ratio != 1).mean() > 0.99
    assert out.dtype == np.float64


def test_when_adding_noise_to_integers_then_they_stay_integers(key: SecretKey) -> None:
    values = pd.Series(np.arange(1000, 2000), dtype="int64")
    out = run("noise", {"absolute": 10}, values, key, column=Column("n", "integer"))
    assert pd.api.types.is_integer_dtype(out.dtype)
    assert (out - values).abs().max() <= 10


def test_when_adding_noise_to_decimals_then_the_scale_and_precision_hold(key: SecretKey) -> None:
    values = pd.Series([decimal.Decimal("999.99"), decimal.Decimal("12.50")], dtype=object)
    column = Column("p", "decimal", precision=5, scale=2)
    out = run("noise", {"relative": 0.5}, values, key, column=column)
    assert all(isinstance(v, decimal.Decimal) and v.as_tuple().exponent == -2 for v in out)
    assert all(abs(v) <= decimal.Decimal("999.99") for v in out)


def test_when_noise_meets_text_then_it_says_so(key: SecretKey) -> None:
    with pytest.raises(BadInputError, match="2 values are not numbers"):
        run("noise", {}, pd.Series(["12", "abc", "x"], dtype=object), key)


def test_when_noise_gets_both_kinds_then_params_are_refused() -> None:
    with pytest.raises(ValidationError, match="not both"):
        get("noise").validate_params({"relative": 0.1, "absolute": 2})


# --- generalize ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params,values,expected",
    [
        ({"step": 10}, [37, 42, -3], [30, 40, -10]),  # down to a multiple
        ({"step": 0.5}, [1.26, 2.74], [1.0, 2.5]),
        ({"unit": "month"}, ["2024-05-06", "2024-05-06T10:00:00"], ["2024-05-01", "2024-05-01"]),
        ({"unit": "year"}, ["2024-05-06"], ["2024-01-01"]),
        ({"keep_first": 3}, ["SW1A 1AA", "EC1"], ["SW1", "EC1"]),
    ],
)
def test_when_generalizing_then_values_are_coarsened(
    params: dict[str, Any], values: list[Any], expected: list[Any], key: SecretKey
) -> None:
    assert run("generalize", params, values, key).tolist() == expected


def test_when_generalizing_timestamps_then_they_truncate_and_keep_their_type(key: SecretKey) -> None:
    values = pd.Series(pd.to_datetime(["2024-05-06 10:00", "2023-12-31 23:59"]))
    out = run("generalize", {"unit": "month"}, values, key)
    assert out.tolist() == [pd.Timestamp("2024-05-01"), pd.Timestamp("2023-12-01")]
    assert out.dtype == values.dtype


@pytest.mark.parametrize("params", [{}, {"step": 5, "unit": "year"}])
def test_when_generalize_gets_not_exactly_one_option_then_params_are_refused(params: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        get("generalize").validate_params(params)


# --- Arrow decimals and dates (what database reads and dumps deliver) ----------------------------


def arrow_decimals(values: list[str], precision: int, scale: int) -> pd.Series:
    t = pa.decimal128(precision, scale)
    return pd.Series(pd.array(pa.array([decimal.Decimal(v) for v in values], type=t), dtype=pd.ArrowDtype(t)))


MONEY = [f"{i * 7919 % 1_000_000 / 100:.2f}" for i in range(-2000, 2000)]


def test_when_adding_noise_to_arrow_decimals_then_type_scale_and_bound_hold(key: SecretKey) -> None:
    values = arrow_decimals(MONEY, 12, 2)
    out = run("noise", {"relative": 0.05}, values, key, column=Column("p", "decimal", precision=12, scale=2))
    assert out.dtype == values.dtype  # still decimal128(12, 2), no Python objects in between
    for before, after in zip(values, out, strict=True):
        assert after.as_tuple().exponent == -2
        assert abs(after - before) <= abs(before) * decimal.Decimal("0.05") + decimal.Decimal("0.005")
    assert (out != values).mean() > 0.95


def test_when_arrow_decimals_and_decimal_objects_get_noise_then_the_numbers_agree(key: SecretKey) -> None:
    # a database read (Arrow decimals) and a Python driver (Decimal objects) must give one pseudonym
    column = Column("p", "decimal", precision=20, scale=2)
    text = [*MONEY[:500], "123456789012345678.91", "-98765432109876543.21", "0.01", "-0.01", "0.00"]
    arrow = run("noise", {"relative": 0.2}, arrow_decimals(text, 20, 2), key, column=column)
    objects = run(
        "noise",
        {"relative": 0.2},
        pd.Series([decimal.Decimal(v) for v in text], dtype=object),
        key,
        column=column,
    )
    assert [str(v) for v in arrow] == [str(v) for v in objects]


@pytest.mark.parametrize(
    "precision,scale,top",
    [
        (5, 2, "999.99"),
        # 10**14 - 0.0001 is not a double: clipping in floats alone would give 100000000000000.0000,
        # 19 digits, which a NUMERIC(18, 4) column refuses
        (18, 4, "99999999999999.9999"),
    ],
)
def test_when_noise_would_pass_the_precision_then_arrow_decimals_are_clipped(
    precision: int, scale: int, top: str, key: SecretKey
) -> None:
    step = (decimal.Decimal(top) / 10_000).quantize(decimal.Decimal(1).scaleb(-scale))
    near_the_top = [str(sign * (decimal.Decimal(top) - i * step)) for i in range(1000) for sign in (1, -1)]
    values = arrow_decimals(near_the_top, precision, scale)
    column = Column("p", "decimal", precision=precision, scale=scale)
    out = run("noise", {"relative": 0.5}, values, key, column=column)
    assert out.dtype == values.dtype
    assert all(abs(v) <= decimal.Decimal(top) for v in out)
    # many moved past either end and were held there
    assert (out == decimal.Decimal(top)).sum() > 100 and (out == -decimal.Decimal(top)).sum() > 100


def test_when_arrow_decimals_are_split_into_batches_then_noise_is_the_same(key: SecretKey) -> None:
    values = arrow_decimals(MONEY, 12, 2)
    column = Column("p", "decimal", precision=12, scale=2)
    whole = run("noise", {"relative": 0.1}, values, key, column=column)
    parts = pd.concat(
        [
            run("noise", {"relative": 0.1}, part, key, column=column)
            for part in (values.iloc[:1234], values.iloc[1234:])
        ]
    )
    assert whole.tolist() == parts.tolist()
    assert (
        run("noise", {"relative": 0.1}, values, SecretKey(b"another-key-" * 4), column=column).tolist()
        != whole.tolist()
    )


def test_when_generalizing_arrow_decimals_then_they_round_down_and_keep_their_type(key: SecretKey) -> None:
    values = arrow_decimals(["37.25", "42.99", "-3.01", "0.00", "1234567.89"], 12, 2)
    column = Column("p", "decimal", precision=12, scale=2)
    out = run("generalize", {"step": 10}, values, key, column=column)
    assert out.dtype == values.dtype
    assert [str(v) for v in out] == ["30.00", "40.00", "-10.00", "0.00", "1234560.00"]
    halves = run("generalize", {"step": 0.5}, values, key, column=column)
    assert [str(v) for v in halves] == ["37.00", "42.50", "-3.50", "0.00", "1234567.50"]


@pytest.mark.parametrize("arrow_type", [pa.date32(), pa.date64()])
@pytest.mark.parametrize("unit,expected", [("month", "2024-05-01"), ("year", "2024-01-01")])
def test_when_generalizing_arrow_dates_then_they_truncate_and_keep_their_type(
    arrow_type: pa.DataType, unit: str, expected: str, key: SecretKey
) -> None:
    days = [dt.date(2024, 5, 6), dt.date(2024, 5, 31), dt.date(1969, 12, 31)]
    values = pd.Series(pd.array(pa.array(days, type=arrow_type), dtype=pd.ArrowDtype(arrow_type)))
    out = run("generalize", {"unit": unit}, values, key, column=Column("d", "date"))
    assert out.dtype == values.dtype
    assert [v.isoformat() for v in out[:2]] == [expected, expected]
    assert out.iloc[2] == (dt.date(1969, 12, 1) if unit == "month" else dt.date(1969, 1, 1))
