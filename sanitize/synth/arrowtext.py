"""Text built as Arrow arrays, vectorised: digits, radix text, joins, lorem words, truncation."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.synth.pools import pool

HEX = b"0123456789abcdef"


def digits_text(values: np.ndarray, width: int) -> pa.Array:
    """Zero-padded decimal text of non-negative ints, `width` digits."""
    return pc.utf8_lpad(pc.cast(pa.array(values.astype(np.int64)), pa.string()), width, "0")


def radix_text(values: np.ndarray, width: int, alphabet: bytes) -> pa.Array:
    """Fixed-width text of non-negative ints in the base of `alphabet` (most significant first)."""
    table = np.frombuffer(alphabet, dtype=np.uint8)
    base = np.uint64(len(alphabet))
    v = values.astype(np.uint64).copy()
    mat = np.empty((len(v), max(width, 1)), dtype=np.uint8)
    for i in range(mat.shape[1] - 1, -1, -1):
        mat[:, i] = table[(v % base).astype(np.intp)]
        v //= base
    return pa.array(np.ascontiguousarray(mat).view(f"S{mat.shape[1]}").ravel()).cast(pa.string())


def base36(values: np.ndarray, width: int) -> pa.Array:
    """Fixed-width lower-case base-36 text of non-negative ints."""
    return radix_text(values, width, b"0123456789abcdefghijklmnopqrstuvwxyz")


def base36_width(total: int) -> int:
    """Characters needed to write any int below `total` in base 36."""
    width = 1
    while 36**width < total:
        width += 1
    return width


def join_text(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    """Element-wise concatenation of arrays and literal strings, `sep` between parts."""
    return pc.binary_join_element_wise(*parts, sep)


def lorem_words(rng: np.random.Generator, locale: str, counts: np.ndarray) -> pa.Array:
    """Lorem text: row i has counts[i] words from the locale's word list."""
    words = pool(locale, "word")
    total = int(counts.sum())
    flat = words.take(pa.array(rng.integers(0, len(words), total)))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), flat)
    return pc.binary_join(lists, " ")


def truncate_each(arr: pa.Array, lengths: np.ndarray) -> pa.Array:
    """Row i cut to at most lengths[i] characters (exact for ASCII text, which lorem words are)."""
    if not pc.all(pc.string_is_ascii(arr)).as_py():
        return arr
    large = arr.cast(pa.large_string())
    n = len(large)
    bufs = large.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[large.offset : large.offset + n + 1]
    starts = offsets[:-1]
    ends = np.minimum(offsets[1:], starts + np.maximum(lengths, 0))
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    keep = np.repeat(starts, ends - starts) + (
        np.arange(int((ends - starts).sum()))
        - np.repeat(np.cumsum(ends - starts) - (ends - starts), ends - starts)
    )
    new_offsets = np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64)
    out = pa.LargeStringArray.from_buffers(n, pa.py_buffer(new_offsets), pa.py_buffer(data[keep].tobytes()))
    return pc.utf8_rtrim_whitespace(out).cast(pa.string())
