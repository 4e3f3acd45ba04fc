"""Arrow array helpers shared by the strategies and the database engines (no SQL, no pandas)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


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
