"""Vectorised text building blocks the built-in strategies share.

Everything here works on whole columns: pyarrow string arrays, numpy uint8 byte matrices and uint64
hash arrays. No function loops over values in Python.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa

from sanitize.errors import RulesError
from sanitize.keys import canonical_text
from sanitize.strategies.registry import ColumnContext

# pandas' default string dtype: pyarrow-backed, NaN as the missing value.
STR_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)

HEX_ALPHABET = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
BASE32_ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz234567", dtype=np.uint8)
DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)

# Bits a unique-safe output must carry: collision probability below 1e-9 at 1e8 rows needs > 83 bits.
UNIQUE_BITS = 88
TOKEN_CHARS = 18  # base32 characters of a uniqueness token: 90 bits


def where(ctx: ColumnContext) -> str:
    """`table.column` for messages (or the domain on a bare DataFrame)."""
    if ctx.column is not None:
        return f"{ctx.table}.{ctx.column.name}" if ctx.table else ctx.column.name
    return ctx.domain


def is_text_kind(ctx: ColumnContext) -> bool:
    """True when the target column holds text (or is unknown, as on a bare DataFrame)."""
    return ctx.kind in (None, "text", "json", "other")


def refuse(ctx: ColumnContext, strategy: str, problem: str, fix: str) -> RulesError:
    """A RulesError naming the column, what is wrong and the fix."""
    return RulesError(f"{where(ctx)}: strategy {strategy!r}: {problem}; {fix}")


def text_array(values: pd.Series) -> pa.LargeStringArray:
    """The values as one pyarrow large_string array (non-text values canonicalised to text)."""
    dtype = values.dtype
    if (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or (
        isinstance(dtype, pd.ArrowDtype)
        and pa.types.is_string(dtype.pyarrow_dtype)
        or isinstance(dtype, pd.ArrowDtype)
        and pa.types.is_large_string(dtype.pyarrow_dtype)
    ):
        arr = pa.array(values.array)
    else:
        arr = pa.array(canonical_text(values), type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    return arr


def text_series(arr: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """A pandas `str` Series (pyarrow-backed) from a pyarrow string array, without copying."""
    chunked = arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])
    text = pd.arrays.ArrowStringArray(chunked, dtype=STR_DTYPE)  # type: ignore[call-arg]
    return pd.Series(text, index=index, copy=False)


def from_bytes(offsets: np.ndarray, data: np.ndarray) -> pa.LargeStringArray:
    """A large_string array from offsets and UTF-8 bytes (the caller guarantees valid UTF-8)."""
    n = len(offsets) - 1
    off = np.ascontiguousarray(offsets, dtype=np.int64)
    buf = np.ascontiguousarray(data, dtype=np.uint8)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(off), pa.py_buffer(buf if len(buf) else b""))


def from_matrix(mat: np.ndarray) -> pa.LargeStringArray:
    """A large_string array from an (n, width) uint8 matrix of ASCII bytes: one string per row."""
    n, width = mat.shape
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return from_bytes(offsets, mat.reshape(-1))


def _words(words: np.ndarray, count: int) -> np.ndarray:
    """(n, count) uint64: the given words, then further words derived with `mix` as needed."""
    from sanitize.keys import mix

    w = words.reshape(len(words), -1).astype(np.uint64, copy=False)
    if w.shape[1] >= count:
        return np.ascontiguousarray(w[:, :count])
    out = np.empty((len(w), count), dtype=np.uint64)
    out[:, : w.shape[1]] = w
    for i in range(w.shape[1], count):
        out[:, i] = mix(w[:, i % w.shape[1]], 1000 + i)
    return out


_LITTLE_ENDIAN = sys.byteorder == "little"


@lru_cache(maxsize=16)
def _char_pairs(alphabet: bytes, bits: int) -> np.ndarray:
    """(2**(2*bits),) uint16: a 2*bits-bit group -> the characters of its low then its high bits,
    as two bytes in memory (little-endian)."""
    a = np.frombuffer(alphabet, dtype=np.uint8).astype(np.uint16)
    g = np.arange(1 << (2 * bits))
    mask = (1 << bits) - 1
    return (a[g & mask] | (a[(g >> bits) & mask] << 8)).astype(np.uint16)


def bit_chars(words: np.ndarray, nchars: int, bits: int, alphabet: np.ndarray) -> np.ndarray:
    """(n, nchars) uint8 matrix of `alphabet` characters, `bits` bits each, read from uint64 words.

    `words` is uint64 of shape (n,) or (n, k); each word gives 64 // bits characters, lowest bits
    first. When more characters are asked for than the words hold, further words are derived with
    `mix`.
    """
    if len(words) == 0:
        return np.zeros((0, nchars), dtype=np.uint8)
    per_word = 64 // bits
    w = _words(words, -(-nchars // per_word))
    lookup = np.ascontiguousarray(alphabet, dtype=np.uint8)
    if _LITTLE_ENDIAN and bits <= 6 and per_word % 2 == 0 and len(lookup) >= 1 << bits:
        pairs = _char_pairs(lookup[: 1 << bits].tobytes(), bits)
        if bits == 4:  # a pair of hex digits is a byte: one lookup per byte of the words
            chars = pairs[w.view(np.uint8)].view(np.uint8)
            return np.ascontiguousarray(chars[:, :nchars])
        # one lookup per pair of characters, written pair-major (contiguous), transposed once
        npairs = -(-nchars // 2)
        per_pair_word = per_word // 2
        out = np.empty((npairs, len(w)), dtype=np.uint16)
        signed = w.view(np.int64)  # arithmetic shifts are fine: the mask drops the sign bits
        group = (1 << (2 * bits)) - 1
        for p in range(npairs):
            i, k = divmod(p, per_pair_word)
            np.take(pairs, (signed[:, i] >> (2 * bits * k)) & group, out=out[p])
        return np.ascontiguousarray(np.ascontiguousarray(out.T).view(np.uint8)[:, :nchars])
    out8 = np.empty((len(w), nchars), dtype=np.uint8)
    mask = np.uint64((1 << bits) - 1)
    for col in range(nchars):
        i, j = divmod(col, per_word)
        out8[:, col] = lookup[((w[:, i] >> np.uint64(j * bits)) & mask).astype(np.intp)]
    return out8


def token(words: np.ndarray, nchars: int = TOKEN_CHARS) -> pa.LargeStringArray:
    """Lower-case base32 token text from hash words (5 bits per character)."""
    return from_matrix(bit_chars(words, nchars, 5, BASE32_ALPHABET))


def uniform_index(h: np.ndarray, n: int) -> np.ndarray:
    """An index in [0, n) from each uint64 hash (multiply-shift: unbiased enough, no modulo bias)."""
    hi = (h >> np.uint64(32)).astype(np.uint64)
    return ((hi * np.uint64(n)) >> np.uint64(32)).astype(np.intp)


@dataclass(frozen=True)
class Targets:
    """Where the target bytes of each row are: byte position, row and ordinal within the row."""

    pos: np.ndarray  # byte positions (sorted)
    row: np.ndarray  # row of each position
    ordinal: np.ndarray  # 0 for a row's first target, 1 for its second, ...
    counts: np.ndarray  # targets per row
    column: np.ndarray  # byte offset of each target within its row


def locate(offsets: np.ndarray, targets: np.ndarray) -> Targets:
    """Index the bytes selected by `targets` (bool per byte) by row, without a per-byte row array."""
    n = len(offsets) - 1
    lengths = np.diff(offsets)
    counts = np.zeros(n, dtype=np.int64)
    rows_with_bytes = np.flatnonzero(lengths > 0)
    if len(rows_with_bytes):
        counts[rows_with_bytes] = np.add.reduceat(targets, offsets[rows_with_bytes], dtype=np.int64)
        # reduceat sums up to the next start: bytes of following empty rows are none, so this is exact
    pos = np.flatnonzero(targets)
    row = np.repeat(np.arange(n), counts)
    first = np.cumsum(counts) - counts
    ordinal = np.arange(len(pos)) - first[row]
    return Targets(pos, row, ordinal, counts, pos - offsets[:-1][row])


def digit_table(h: np.ndarray, width: int) -> np.ndarray:
    """(n, width) uint8 keyed digits 0-9 per row: five digits from each 32-bit half of mixed hashes."""
    from sanitize.keys import mix

    n = len(h)
    out = np.empty((n, width), dtype=np.uint8)
    low32 = np.uint64(0xFFFFFFFF)
    ten = np.uint64(10)
    col = 0
    salt = 0
    while col < width:
        word = mix(h, 50 + salt)
        salt += 1
        for half in (word & low32, word >> np.uint64(32)):
            frac = half
            for _ in range(5):
                if col >= width:
                    break
                frac = frac * ten
                out[:, col] = (frac >> np.uint64(32)).astype(np.uint8)
                frac = frac & low32
                col += 1
    return out


def digit_columns(h: np.ndarray, width: int) -> np.ndarray:
    """`digit_table` transposed, built column by column: (width, n), the digits for byte position c
    of every row in row c (for code that works on byte columns)."""
    from sanitize.keys import mix

    n = len(h)
    out = np.empty((width, n), dtype=np.uint8)  # column-major while building: contiguous writes
    low32 = np.uint64(0xFFFFFFFF)
    ten = np.uint64(10)
    shift = np.uint64(32)
    col = 0
    salt = 0
    while col < width:
        word = mix(h, 50 + salt)
        salt += 1
        for frac in (word & low32, word >> shift):
            for _ in range(5):
                if col >= width:
                    break
                frac *= ten
                out[col] = frac >> shift
                frac &= low32
                col += 1
    return out


MAX_DIGIT_TABLE = 48  # bytes further into a row than this reuse the table cyclically


def replace_digit_bytes(
    data: np.ndarray,
    h: np.ndarray,
    where: Targets,
    keep: np.ndarray | None = None,
    nonzero_first: bool = False,
) -> np.ndarray:
    """New bytes where each target byte becomes a keyed digit.

    The digit depends on the row's hash and the target's ordinal within the row, so equal rows give
    equal results. `keep` (int per row) leaves that many leading targets unchanged; with
    `nonzero_first` the first replaced digit of a row is 1-9.
    """
    out = data.copy()
    if len(where.pos) == 0:
        return out
    # the digit depends on the byte's place in its row (cyclic past MAX_DIGIT_TABLE): the same row
    # gives the same digits whatever else is in the batch
    column = where.column % MAX_DIGIT_TABLE
    table = digit_columns(h, int(column.max()) + 1)  # digit_table, transposed: cheaper to build
    digit = table[column, where.row]
    replace = np.ones(len(where.pos), dtype=bool) if keep is None else where.ordinal >= keep[where.row]
    if nonzero_first:
        first = where.ordinal == (0 if keep is None else keep[where.row])
        digit = np.where(first, 1 + (digit.astype(np.uint16) * 9) // 10, digit).astype(np.uint8)
    out[where.pos[replace]] = DIGITS[digit[replace].astype(np.intp)]
    return out


def lengths_of(arr: pa.Array) -> np.ndarray:
    """Character (code point) length of each string."""
    import pyarrow.compute as pc

    return np.asarray(pc.utf8_length(arr).to_numpy(zero_copy_only=False), dtype=np.int64)


def constant_text(value: str, n: int) -> pa.LargeStringArray:
    """`n` copies of one string."""
    raw = value.encode("utf-8")
    offsets = np.arange(n + 1, dtype=np.int64) * len(raw)
    data = np.tile(np.frombuffer(raw, dtype=np.uint8), n) if raw else np.zeros(0, dtype=np.uint8)
    return from_bytes(offsets, data)


def uuid_text(words: np.ndarray) -> pa.LargeStringArray:
    """RFC 4122 version-4 UUID text (8-4-4-4-12, lower case) from (n, 2) uint64 hash words."""
    nib = bit_chars(words, 32, 4, np.arange(16, dtype=np.uint8))
    nib[:, 12] = 4
    nib[:, 16] = 8 | (nib[:, 16] & 3)
    hexed = HEX_ALPHABET[nib.astype(np.intp)]
    out = np.full((len(words), 36), ord("-"), dtype=np.uint8)
    for src, dst in ((0, 0), (8, 9), (12, 14), (16, 19), (20, 24)):
        width = {0: 8, 8: 4, 12: 4, 16: 4, 20: 12}[src]
        out[:, dst : dst + width] = hexed[:, src : src + width]
    return from_matrix(out)
