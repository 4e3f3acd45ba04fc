"""Numeric strategies: `noise` (keyed jitter) and `generalize` (coarsen numbers, dates and text).

`noise` moves each number by a keyed fraction of itself (or a keyed absolute amount): the same value
always gets the same noise, so it is deterministic and batch-split invariant. Integers stay integers,
decimals keep their scale and fit their precision, a CHECK range is respected.

`generalize` is keyless on purpose: it coarsens (rounds down to a step, truncates dates to the month
or year, keeps the first characters of text), so equal outputs are expected.
"""

from __future__ import annotations

import decimal
import logging
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from sanitize.arrow import decimal_floats
from sanitize.errors import BadInputError
from sanitize.keys import hash64
from sanitize.strategies.registry import ColumnContext, Params, StrategySpec, register
from sanitize.strategies.vector import is_text_kind, refuse, text_array, text_series, where

log = logging.getLogger("sanitize")

_NUMERIC_KINDS = (None, "integer", "float", "decimal")


def _arrow_decimal(dtype: object) -> pa.Decimal128Type | None:
    """The Arrow decimal128 type of an ArrowDtype column, or None."""
    if isinstance(dtype, pd.ArrowDtype) and pa.types.is_decimal128(dtype.pyarrow_dtype):
        return dtype.pyarrow_dtype  # type: ignore[no-any-return]
    return None


def _decimal_floats(values: pd.Series) -> np.ndarray:
    """Arrow decimals as float64, each exactly `float(Decimal)` (see sanitize.arrow.decimal_floats)."""
    return decimal_floats(pa.array(values.array))


def _numbers(values: pd.Series, ctx: ColumnContext, strategy: str) -> tuple[np.ndarray, str]:
    """(float64 values, 'int' | 'float' | 'decimal'), or a clear error for non-numbers."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        raise refuse(ctx, strategy, "the values are booleans", "use keep, redact or nullify")
    if pd.api.types.is_integer_dtype(dtype):
        return values.to_numpy(dtype=np.float64), "int"
    if pd.api.types.is_float_dtype(dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan), "float"
    decimal_type = _arrow_decimal(dtype)
    if decimal_type is not None:
        return _decimal_floats(values), "decimal"
    if len(values) and all(isinstance(v, decimal.Decimal) for v in values.iloc[:1]):
        return pd.to_numeric(values.astype(float)).to_numpy(dtype=np.float64), "decimal"
    nums = pd.to_numeric(values, errors="coerce")
    if nums.isna().any():
        raise BadInputError(
            f"{where(ctx)}: strategy {strategy!r} needs numbers; {int(nums.isna().sum())} values are not "
            "numbers. Use a text strategy (hash, fake, mask) for this column"
        )
    arr = nums.to_numpy(dtype=np.float64)
    integral = ctx.kind == "integer" or (pd.api.types.is_integer_dtype(nums.dtype))
    return arr, "int" if integral else "float"


_EXACT = 2.0**53  # doubles hold every integer below this exactly
_MAX_DECIMAL128_DIGITS = 38


def _scaled_decimals(x: np.ndarray, precision: int, scale: int) -> pa.Array:
    """float64 values as a decimal128(precision, scale) array: each value is `x` rounded to `scale`
    digits (round half to even, as `np.round`), clipped to what the precision holds. Vectorised.

    A scaled value below 2**53 is an exact integer in float64 and is built directly; larger ones
    (more than ~15 significant digits, rare) take the digits of the rounded double, as
    `Decimal(f"{v:.{scale}f}")` writes them.
    """
    k = np.rint(x * 10.0**scale)
    top = 10**precision - 1
    small = np.abs(k) < _EXACT
    low = np.clip(np.where(small, k, 0.0), -top, top).astype(np.int64)
    words = np.empty((len(k), 2), dtype=np.int64)
    words[:, 0], words[:, 1] = low, low >> 63
    for i in np.flatnonzero(~small):
        digits = decimal.Decimal(f"{k[i] / 10.0**scale:.{scale}f}").scaleb(scale)
        unscaled = max(-top, min(top, int(digits)))
        words[i, 0] = np.uint64(unscaled & 0xFFFFFFFFFFFFFFFF).view(np.int64)
        words[i, 1] = unscaled >> 64
    return pa.Array.from_buffers(pa.decimal128(precision, scale), len(k), [None, pa.py_buffer(words)])


def _restore(x: np.ndarray, shape: str, values: pd.Series, ctx: ColumnContext) -> pd.Series:
    """Numbers back in the input's form: ints as ints, decimals with the column's scale."""
    col = ctx.column
    if col is not None and col.check_range is not None:
        lo, hi = col.check_range
        x = np.clip(x, lo if lo is not None else -np.inf, hi if hi is not None else np.inf)
    decimal_type = _arrow_decimal(values.dtype) if shape == "decimal" else None
    if col is not None and col.kind == "decimal" and col.precision and decimal_type is None:
        digits = col.scale or 0
        x = np.round(x, digits)
        bound = 10.0 ** (col.precision - digits) - 10.0 ** (-digits)
        x = np.clip(x, -bound, bound)
    if shape == "int" or ctx.kind == "integer":
        out = np.round(x).astype(np.int64)
        if pd.api.types.is_integer_dtype(values.dtype):
            return pd.Series(out, index=values.index).astype(values.dtype)
        return pd.Series(out, index=values.index)
    if decimal_type is not None:
        # Arrow decimals stay Arrow decimals of the same type: rounded to the scale and clipped to the
        # precision in float64, then built from the scaled integers (exact, no Decimal objects)
        precision = decimal_type.precision
        if col is not None and col.kind == "decimal" and col.precision:
            precision = min(precision, col.precision)
        built = _scaled_decimals(x, precision, decimal_type.scale).cast(decimal_type)
        return pd.Series(pd.array(built, dtype=values.dtype), index=values.index)
    if shape == "decimal":
        scale: int | None = col.scale if col is not None and col.scale is not None else None
        if (
            scale is not None
            and col is not None
            and col.precision
            and scale <= col.precision <= _MAX_DECIMAL128_DIGITS
            and np.isfinite(x).all()  # NUMERIC 'NaN' stays Decimal('NaN') below
        ):
            # Decimal objects in, Decimal objects out: built by Arrow from the scaled integers
            built = _scaled_decimals(x, col.precision, scale)
            return pd.Series(built.to_pandas(), index=values.index, dtype=object)
        fmt = (
            (lambda v: decimal.Decimal(f"{v:.{scale}f}"))
            if scale is not None
            else (lambda v: decimal.Decimal(repr(float(v))))
        )
        return pd.Series([fmt(v) for v in x], index=values.index, dtype=object)
    if pd.api.types.is_float_dtype(values.dtype):
        return pd.Series(x, index=values.index).astype(values.dtype)
    return pd.Series(x, index=values.index)


# --- noise --------------------------------------------------------------------------------------


class NoiseParams(Params):
    relative: float | None = Field(
        default=None,
        gt=0,
        le=10,
        description="Largest change as a fraction of the value (0.1 = ±10%); the default when "
        "neither relative nor absolute is given is 0.1.",
    )
    absolute: float | None = Field(default=None, gt=0, description="Largest change in the value's units.")

    @model_validator(mode="after")
    def _one_kind(self) -> NoiseParams:
        if self.relative is not None and self.absolute is not None:
            raise ValueError("give relative or absolute, not both")
        return self


def _noise(values: pd.Series, params: NoiseParams, ctx: ColumnContext) -> pd.Series:
    if ctx.kind not in _NUMERIC_KINDS:
        raise refuse(
            ctx,
            "noise",
            f"it changes numbers but the column is {ctx.kind}",
            "use date_shift for dates, hash or fake for text",
        )
    if ctx.unique:
        raise refuse(ctx, "noise", "noisy values are not unique", "drop unique or use hash")
    x, shape = _numbers(values, ctx, "noise")
    h = hash64(values, ctx.key, ctx.domain, "noise")
    u = (h >> np.uint64(11)).astype(np.float64) / float(1 << 53) * 2.0 - 1.0  # [-1, 1)
    if params.absolute is not None:
        moved = x + params.absolute * u
    else:
        moved = x * (1.0 + (params.relative or 0.1) * u)
    return _restore(moved, shape, values, ctx)


NOISE = register(
    StrategySpec(
        name="noise",
        thread_safe=True,
        description="Move each number by a keyed amount (±10% by default); integers stay integers, "
        "decimals keep their scale.",
        fn=_noise,
        params=NoiseParams,
        example="salary: {strategy: noise, relative: 0.05}",
    )
)

# --- generalize ---------------------------------------------------------------------------------


class GeneralizeParams(Params):
    step: float | None = Field(default=None, gt=0, description="Round numbers down to a multiple of this.")
    unit: Literal["month", "year"] | None = Field(
        default=None, description="Truncate dates (and ISO text dates) to the first day of the month/year."
    )
    keep_first: int | None = Field(
        default=None, ge=0, description="Keep only the first N characters of text (e.g. of a postcode)."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> GeneralizeParams:
        given = [n for n in ("step", "unit", "keep_first") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of step, unit, keep_first (got {', '.join(given) or 'none'})")
        return self


def _generalize_numbers(values: pd.Series, step: float, ctx: ColumnContext) -> pd.Series:
    if ctx.kind not in _NUMERIC_KINDS:
        raise refuse(
            ctx,
            "generalize",
            f"step rounds numbers but the column is {ctx.kind}",
            "use unit: month/year for dates or keep_first for text",
        )
    x, shape = _numbers(values, ctx, "generalize")
    return _restore(np.floor(x / step) * step, shape, values, ctx)


def _truncate_dates(values: pd.Series, unit: str, ctx: ColumnContext) -> pd.Series:
    if not (is_text_kind(ctx) or ctx.kind in ("date", "datetime")):
        raise refuse(
            ctx, "generalize", f"unit truncates dates but the column is {ctx.kind}", "use step for numbers"
        )
    dtype = values.dtype
    np_unit = "datetime64[M]" if unit == "month" else "datetime64[Y]"
    if isinstance(dtype, pd.ArrowDtype) and pa.types.is_date(dtype.pyarrow_dtype):
        # days since 1970 straight from the Arrow buffer (no Python date objects)
        arrow = pa.array(values.array)
        if isinstance(arrow, pa.ChunkedArray):
            arrow = arrow.combine_chunks()
        day_numbers = np.asarray(arrow.cast(pa.date32()).cast(pa.int32()).to_numpy(zero_copy_only=False))
        days = day_numbers.astype("datetime64[D]").astype(np_unit).astype("datetime64[D]")
        arr = pa.array(days.astype(np.int64).astype(np.int32), type=pa.date32()).cast(dtype.pyarrow_dtype)
        return pd.Series(pd.array(arr, dtype=dtype), index=values.index)
    if isinstance(dtype, pd.ArrowDtype) and pa.types.is_timestamp(dtype.pyarrow_dtype):
        t = dtype.pyarrow_dtype
        target: Any = pd.DatetimeTZDtype(t.unit, t.tz) if t.tz else f"datetime64[{t.unit}]"
        numpy_backed = values.astype(target)
        return _truncate_dates(numpy_backed, unit, ctx).astype(dtype)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        tz = getattr(dtype, "tz", None)
        naive = values.dt.tz_localize(None) if tz is not None else values
        floored = pd.Series(naive.to_numpy().astype(np_unit), index=values.index).astype(naive.dtype)
        return floored.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward") if tz else floored
    # text and Python dates/datetimes: work on the ISO text
    arr = text_array(values)
    keep = 7 if unit == "month" else 4
    head = pc.utf8_slice_codeunits(arr, 0, 10)
    ok = pc.fill_null(pc.is_valid(pc.strptime(head, format="%Y-%m-%d", unit="s", error_is_null=True)), False)
    suffix = "-01" if unit == "month" else "-01-01"
    text = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(arr, 0, keep),
        pa.scalar(suffix, pa.large_string()),
        pa.scalar("", pa.large_string()),
    )
    bad = int(len(arr) - pc.sum(pc.cast(ok, pa.int64())).as_py()) if len(arr) else 0
    if bad:
        log.warning("generalize: %d values are not ISO dates; they became NULL", bad)
    out = pc.if_else(ok, text, pa.scalar(None, pa.large_string()))
    if values.dtype == object and len(values) and not isinstance(values.iloc[0], str):
        return pd.Series(
            pd.to_datetime(pd.Series(out.to_pylist(), dtype=object)).dt.date.to_numpy(),
            index=values.index,
            dtype=object,
        )
    return text_series(out, values.index)


def _generalize(values: pd.Series, params: GeneralizeParams, ctx: ColumnContext) -> pd.Series:
    if ctx.unique:
        raise refuse(ctx, "generalize", "generalized values are not unique", "drop unique or use hash")
    if params.step is not None:
        return _generalize_numbers(values, params.step, ctx)
    if params.unit is not None:
        return _truncate_dates(values, params.unit, ctx)
    if not is_text_kind(ctx):
        raise refuse(
            ctx,
            "generalize",
            f"keep_first cuts text but the column is {ctx.kind}",
            "use step for numbers or unit for dates",
        )
    return text_series(pc.utf8_slice_codeunits(text_array(values), 0, params.keep_first or 0), values.index)


GENERALIZE = register(
    StrategySpec(
        name="generalize",
        thread_safe=True,
        description="Coarsen values: round numbers down to a step, truncate dates to month/year, keep "
        "the first characters of text.",
        fn=_generalize,
        params=GeneralizeParams,
        example="postcode: {strategy: generalize, keep_first: 3}",
    )
)

__all__ = ["GENERALIZE", "NOISE", "GeneralizeParams", "NoiseParams"]
