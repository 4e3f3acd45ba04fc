"""What a column accepts, and making generated values fit it.

Integer bounds come from the SQL type narrowed by CHECK ranges and precision; decimals from their
precision and scale; text from its maximum length. Generators produce loose values (floats, words)
and pass them through here, so every value fits the column.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.schema import Column


def integer_bounds(column: Column) -> tuple[int, int]:
    """The inclusive range an integer column accepts: its SQL type's, narrowed by CHECK ranges."""
    type_name = type(column.sql_type).__name__.upper() if column.sql_type is not None else ""
    if "TINY" in type_name:
        lo, hi = -(2**7), 2**7 - 1
    elif "SMALL" in type_name:
        lo, hi = -(2**15), 2**15 - 1
    elif "BIG" in type_name:
        lo, hi = -(2**63), 2**63 - 1
    else:
        lo, hi = -(2**31), 2**31 - 1
    if column.precision and column.kind == "integer" and column.precision < 19:
        hi = min(hi, 10**column.precision - 1)
        lo = max(lo, -(10**column.precision - 1))
    if column.check_range is not None:
        clo, chi = column.check_range
        if clo is not None:
            lo = max(lo, math.ceil(clo))
        if chi is not None:
            hi = min(hi, math.floor(chi))
    return lo, hi


def number_bounds(column: Column) -> tuple[float, float]:
    """The inclusive range a float/decimal column accepts (precision and CHECK ranges)."""
    if column.kind == "integer":
        ilo, ihi = integer_bounds(column)
        return float(ilo), float(ihi)
    lo, hi = -1e15, 1e15
    if column.kind == "decimal":
        p, s = decimal_shape(column)
        top = 10.0 ** (p - s) - 10.0 ** (-s)
        lo, hi = -top, top
    if column.check_range is not None:
        clo, chi = column.check_range
        if clo is not None:
            lo = max(lo, float(clo))
        if chi is not None:
            hi = min(hi, float(chi))
    return lo, hi


def decimal_shape(column: Column) -> tuple[int, int]:
    """(precision, scale) of a decimal column; 18,2 when the schema does not say."""
    p = column.precision or 18
    s = column.scale if column.scale is not None else (2 if column.precision is None else 0)
    return min(p, 38), min(s, p)


def arrow_type(column: Column) -> pa.DataType:
    """The Arrow type synthetic values of a column are produced in."""
    kind = column.kind
    if kind == "integer":
        return pa.int64()
    if kind == "float":
        return pa.float64()
    if kind == "decimal":
        p, s = decimal_shape(column)
        return pa.decimal128(p, s)
    if kind == "boolean":
        return pa.bool_()
    if kind == "date":
        return pa.date32()
    if kind == "datetime":
        return pa.timestamp("us", tz="UTC" if column.timezone else None)
    if kind == "time":
        return pa.time64("us")
    if kind == "binary":
        return pa.binary()
    return pa.string()


def fit_text(arr: pa.Array, column: Column) -> pa.Array:
    """Cut text to the column's maximum length (code points)."""
    if column.max_length:
        lengths = pc.utf8_length(arr)
        if pc.any(pc.greater(lengths, column.max_length)).as_py():
            return pc.utf8_slice_codeunits(arr, 0, column.max_length)
    return arr


def fit_numbers(x: np.ndarray, col: Column) -> pa.Array:
    """Floats as the column's numeric type, clipped to its bounds and rounded to its scale."""
    if col.kind == "integer":
        ilo, ihi = integer_bounds(col)
        return pa.array(np.clip(np.rint(x), ilo, ihi).astype(np.int64))
    lo, hi = number_bounds(col)
    x = np.clip(x, lo, hi)
    if col.kind == "decimal":
        return to_decimal(x, col)
    return pa.array(x.astype(np.float64))


def clip_low(x: np.ndarray, col: Column, floor: float) -> np.ndarray:
    """`x` clipped to the column's range, and to at least `floor` where the range allows it."""
    lo, hi = number_bounds(col)
    return np.clip(x, max(lo, min(floor, hi)), hi)


def to_decimal(x: np.ndarray, col: Column) -> pa.Array:
    """Floats as decimal128(p, s), rounded to the scale, never outside the column's range."""
    p, s = decimal_shape(col)
    lo, hi = number_bounds(col)
    scale = 10.0**s
    units = np.rint(np.clip(x, lo, hi) * scale)
    # a rounded value must not leave the CHECK range
    units = np.clip(units, math.ceil(lo * scale - 1e-6), math.floor(hi * scale + 1e-6))
    units = np.clip(units, -(2.0**62), 2.0**62).astype(np.int64)
    return decimal_from_units(units, p, s)


def decimal_from_units(units: np.ndarray, precision: int, scale: int) -> pa.Array:
    """A decimal128(precision, scale) array whose unscaled integers are `units` (int64)."""
    words = np.empty((len(units), 2), dtype=np.int64)
    words[:, 0] = units
    words[:, 1] = np.where(units < 0, -1, 0)
    buf = pa.py_buffer(np.ascontiguousarray(words).tobytes())
    return pa.Array.from_buffers(pa.decimal128(precision, scale), len(units), [None, buf])


def cast_text(values: pa.Array, col: Column) -> pa.Array:
    """Category text (from a profile or a CHECK list) as the column's type."""
    kind = col.kind
    if kind == "integer":
        return pc.cast(pc.cast(values, pa.float64()), pa.int64())
    if kind in ("float", "decimal"):
        out = pc.cast(values, pa.float64())
        return to_decimal(out.to_numpy(zero_copy_only=False), col) if kind == "decimal" else out
    if kind == "boolean":
        return pc.is_in(pc.utf8_lower(values), pa.array(["true", "1", "t", "yes", "y"]))
    if kind == "date":
        return pc.cast(pc.cast(values, pa.timestamp("us")), pa.date32())
    if kind == "datetime":
        return pc.cast(values, arrow_type(col))
    return values
