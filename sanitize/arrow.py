"""Arrow array helpers shared by the strategies and the database engines (no SQL, no pandas)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.schema import Kind


def string_bytes(arr: pa.LargeStringArray | pa.LargeBinaryArray) -> tuple[np.ndarray, np.ndarray]:
    """(offsets int64[n+1], data uint8) of a large_string/large_binary array, offsets rebased to 0."""
    n = len(arr)
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    if bufs[2] is None or n == 0:
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    data = np.frombuffer(bufs[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return offsets - offsets[0], data


def decimal_words(arr: pa.Array) -> np.ndarray:
    """The 128-bit unscaled integers of a decimal128 array as an (n, 2) int64 array: (low, high)."""
    n = len(arr)
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=2 * (arr.offset + n))
    return words.reshape(-1, 2)[arr.offset :]


def decimal_floats(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """decimal128 values as float64, each exactly `float(Decimal)` (correctly rounded); NULL is NaN.

    An unscaled integer below 2**53 and a power of ten up to 1e22 are exact doubles, so one IEEE
    division is the correctly rounded quotient (Arrow's own cast is not: it is off by one unit in the
    last place for about a quarter of two-decimal values); the rare values beyond that go through
    Decimal.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if len(arr) == 0:
        return np.zeros(0, dtype=np.float64)
    scale = arr.type.scale
    words = decimal_words(arr)
    low, high = words[:, 0], words[:, 1]
    exact = (high == (low >> 63)) & (np.abs(low) <= 1 << 53) & (0 <= scale <= 22)
    out = low.astype(np.float64) / 10.0**scale if scale >= 0 else np.zeros(len(arr))
    if arr.null_count:
        exact &= np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if not exact.all():
        slow = np.flatnonzero(~exact)
        out[slow] = [np.nan if v is None else float(v) for v in arr.take(pa.array(slow)).to_pylist()]
    return out


def kind_of_arrow(t: pa.DataType) -> tuple[Kind, dict[str, Any]]:
    """A column kind (and its details: precision, scale, time zone) from an Arrow type."""
    if pa.types.is_boolean(t):
        return "boolean", {}
    if pa.types.is_integer(t):
        return "integer", {}
    if pa.types.is_floating(t):
        return "float", {}
    if pa.types.is_decimal(t):
        return "decimal", {"precision": t.precision, "scale": t.scale}
    if pa.types.is_date(t):
        return "date", {}
    if pa.types.is_timestamp(t):
        return "datetime", {"timezone": t.tz is not None}
    if pa.types.is_time(t):
        return "time", {}
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "binary", {}
    if (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_string_view(t)
        or pa.types.is_dictionary(t)
    ):
        return "text", {}
    return "other", {}


def datetime_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """timestamp[us] / time64[us] -> ISO text, '.ffffff' only where the fraction is not zero.

    '2024-01-02 03:04:05' as Python's isoformat(' ') writes it (and SQLAlchemy's SQLite types read
    back). Arrow's casts do the formatting: a batch without fractions is cast to whole seconds (the
    cast refuses to drop a fraction) and formatted; otherwise the fraction is tested on the integers
    and cut from the text only where it is zero.
    """
    whole = pa.time32("s") if pa.types.is_time(arr.type) else pa.timestamp("s")
    try:
        return arr.cast(whole).cast(pa.large_string())  # no fractions at all: the common case
    except pa.ArrowInvalid:  # some value has a fraction (the cast refuses to drop it)
        pass
    text = arr.cast(pa.large_string())
    ints = arr.cast(pa.int64())
    chunks = ints.chunks if isinstance(ints, pa.ChunkedArray) else [ints]
    fractions = [np.asarray(c.fill_null(0), dtype=np.int64) % np.int64(1_000_000) != 0 for c in chunks]
    if not any(f.any() for f in fractions):
        return pc.utf8_slice_codeunits(text, 0, -7)
    if all(f.all() for f in fractions):
        return text
    mask = pa.chunked_array([pa.array(f) for f in fractions], type=pa.bool_())
    return pc.if_else(mask, text, pc.utf8_slice_codeunits(text, 0, -7))


def temporal_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Dates, times and timestamps as the ISO text SQLite files hold (SQLite has no date/time storage
    class): '2024-01-02', '03:04:05', '2024-01-02 03:04:05[.ffffff]'; a timestamp with a time zone in
    UTC with '+00:00' (the form SQLAlchemy and Python's isoformat write)."""
    t = arr.type
    if pa.types.is_date(t):
        return arr.cast(pa.date32()).cast(pa.large_string())
    if pa.types.is_time(t):
        return datetime_text(arr.cast(pa.time64("us")))
    text = datetime_text(arr.cast(pa.timestamp("us", tz=t.tz)).cast(pa.timestamp("us")))
    if t.tz is None:
        return text
    ls = pa.large_string()
    return pc.binary_join_element_wise(text, pa.scalar("+00:00", ls), pa.scalar("", ls))
