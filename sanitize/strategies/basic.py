"""The basic strategies: keep, nullify, redact, mask and hash.

Every strategy checks that it fits the target column before looking at any value, so calling it on
an empty Series validates a rule against its column before data moves.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from sanitize.arrow import string_bytes
from sanitize.errors import BadInputError
from sanitize.keys import hash64, hash128
from sanitize.strategies.registry import ColumnContext, NoParams, Params, StrategySpec, register
from sanitize.strategies.vector import (
    BASE32_ALPHABET,
    HEX_ALPHABET,
    STR_DTYPE,
    UNIQUE_BITS,
    bit_chars,
    constant_text,
    from_bytes,
    from_matrix,
    is_text_kind,
    refuse,
    text_array,
    text_series,
    uuid_text,
    where,
)

# --- keep ---------------------------------------------------------------------------------------


class KeepParams(Params):
    reason: str | None = Field(
        default=None,
        min_length=1,
        description="Why this column may be copied unchanged, as a reviewer decided (e.g. 'not "
        "identifying alone'). `check` and the pre-publish gates then report it as reviewed instead of "
        "failing on a name or values that merely look personal; exact identifiers (emails, cards, "
        "IBANs, phone numbers) in its values still fail.",
    )


def _keep(values: pd.Series, params: KeepParams, ctx: ColumnContext) -> pd.Series:
    return values


KEEP = register(
    StrategySpec(
        name="keep",
        thread_safe=True,
        description="Copy the value unchanged (only for columns that hold no personal data); `reason` "
        "records a reviewer's decision that the gates honour.",
        fn=_keep,
        params=KeepParams,
        key_safe=True,
        unique_safe=True,
        transforms=False,
        example='city: {strategy: keep, reason: "not identifying alone"}',
    )
)

# --- nullify ------------------------------------------------------------------------------------


def _nullify(values: pd.Series, params: NoParams, ctx: ColumnContext) -> pd.Series:
    if ctx.column is not None and not ctx.column.nullable:
        raise refuse(ctx, "nullify", "the column is NOT NULL", "use redact (a constant) or fake instead")
    n = len(values)
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype | pd.ArrowDtype) or pd.api.types.is_object_dtype(dtype):
        if isinstance(dtype, pd.ArrowDtype):
            return pd.Series(pd.array(pa.nulls(n, dtype.pyarrow_dtype), dtype=dtype), index=values.index)
        return text_series(pa.nulls(n, pa.large_string()), values.index)
    if pd.api.types.is_float_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return pd.Series(
            np.full(n, np.nan) if pd.api.types.is_float_dtype(dtype) else pd.NaT,
            index=values.index,
            dtype=dtype,
        )
    return pd.Series(np.full(n, None, dtype=object), index=values.index, dtype=object)


NULLIFY = register(
    StrategySpec(
        name="nullify",
        thread_safe=True,
        description="Replace every value with NULL (refused on NOT NULL columns: use redact there).",
        fn=_nullify,
        unique_safe=True,  # NULLs never collide in a unique constraint
        example="ssn: nullify",
    )
)

# --- redact -------------------------------------------------------------------------------------


class RedactParams(Params):
    value: str | int | float | bool = Field(
        default="REDACTED",
        description="The constant written instead of every value; for a non-text column it must be "
        "a value of the column's type (e.g. 0, '1970-01-01').",
    )


def _redact_constant(params: RedactParams, ctx: ColumnContext) -> object:
    """The constant converted to the column's kind, or a clear refusal."""
    value = params.value
    kind = ctx.kind
    try:
        if is_text_kind(ctx) or kind == "uuid":
            text = str(value)
            return text[: ctx.max_length] if ctx.max_length else text
        if kind == "integer":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if kind in ("float", "decimal"):
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            raise ValueError(value)
        if kind == "date":
            return dt.date.fromisoformat(str(value))
        if kind == "datetime":
            return pd.Timestamp(str(value))
        if kind == "time":
            return dt.time.fromisoformat(str(value))
    except (ValueError, TypeError):
        pass
    raise refuse(
        ctx,
        "redact",
        f"the constant {value!r} is not a valid {kind} value",
        f"give one with `value:` (e.g. {_EXAMPLE_CONSTANT.get(kind or '', '0')!r}) or use nullify",
    )


_EXAMPLE_CONSTANT = {
    "integer": "0",
    "float": "0.0",
    "decimal": "0",
    "boolean": "false",
    "date": "1970-01-01",
    "datetime": "1970-01-01T00:00:00",
    "time": "00:00:00",
}


def _redact(values: pd.Series, params: RedactParams, ctx: ColumnContext) -> pd.Series:
    if ctx.unique:
        raise refuse(ctx, "redact", "a constant cannot be unique", "use hash or fake with unique: true")
    const = _redact_constant(params, ctx)
    n = len(values)
    if isinstance(const, str):
        return text_series(constant_text(const, n), values.index)
    if isinstance(const, bool):
        return pd.Series(np.full(n, const), index=values.index, dtype=bool)
    if isinstance(const, int):
        return pd.Series(np.full(n, const, dtype=np.int64), index=values.index)
    if isinstance(const, float):
        return pd.Series(np.full(n, const), index=values.index)
    if isinstance(const, pd.Timestamp):
        tz = getattr(values.dtype, "tz", None)
        stamp = const.tz_localize(tz) if tz is not None and const.tzinfo is None else const
        return pd.Series([stamp] * n, index=values.index, dtype=values.dtype if tz else None)
    return pd.Series([const] * n, index=values.index, dtype=object)


REDACT = register(
    StrategySpec(
        name="redact",
        thread_safe=True,
        description="Replace every value with one constant (default 'REDACTED', cut to the column length).",
        fn=_redact,
        params=RedactParams,
        example="notes: {strategy: redact, value: '[removed]'}",
    )
)

# --- mask ---------------------------------------------------------------------------------------

DEFAULT_SEPARATORS = " -.@()+/_:,"
_EMPTY = pa.scalar("", pa.large_string())


class MaskParams(Params):
    keep_first: int = Field(default=0, ge=0, description="Characters left visible at the start.")
    keep_last: int = Field(default=4, ge=0, description="Characters left visible at the end.")
    char: str = Field(default="*", min_length=1, max_length=1, description="The masking character.")
    keep_separators: bool = Field(
        default=False, description="Leave separator characters (see `separators`) in place."
    )
    separators: str = Field(
        default=DEFAULT_SEPARATORS, description="Characters kept when keep_separators is true."
    )


def _mask_all(arr: pa.Array, params: MaskParams) -> pa.Array:
    if params.keep_separators and params.separators:
        cls = "".join(re.escape(c) for c in params.separators)
        return pc.replace_substring_regex(arr, f"(?s)[^{cls}]", params.char)
    return pc.binary_repeat(pa.scalar(params.char, pa.large_string()), pc.utf8_length(arr))


_CHUNK_ROWS = 1 << 16


def _mask_ascii(arr: pa.LargeStringArray, params: MaskParams) -> pa.Array:
    """The mask on ASCII text as byte arithmetic (one pass per chunk instead of eight kernels)."""
    offsets, data = string_bytes(arr)
    starts, ends = offsets[:-1], offsets[1:]
    kf, kl = params.keep_first, params.keep_last
    short = (ends - starts) <= kf + kl
    lo = np.where(short, starts, starts + kf)
    hi = np.where(short, ends, ends - kl)
    # each row is three runs: visible head, masked middle, visible tail
    runs = np.stack([lo - starts, hi - lo, ends - hi], axis=1).ravel()
    inside = np.repeat(np.tile(np.array([False, True, False]), len(starts)), runs)
    if params.keep_separators and params.separators:
        is_sep = np.zeros(256, dtype=bool)
        is_sep[np.frombuffer(params.separators.encode("ascii"), dtype=np.uint8)] = True
        inside &= ~is_sep[data]
    out = np.where(inside, np.uint8(ord(params.char)), data)
    return from_bytes(offsets, out)


def _ascii_only(params: MaskParams) -> bool:
    return params.char.isascii() and params.separators.isascii()


def _mask(values: pd.Series, params: MaskParams, ctx: ColumnContext) -> pd.Series:
    if not is_text_kind(ctx):
        raise refuse(
            ctx,
            "mask",
            f"it makes text but the column is {ctx.kind}",
            "use hash, noise, generalize, redact or nullify for this column",
        )
    if ctx.unique:
        raise refuse(ctx, "mask", "masked values are not unique", "use hash or fake with unique: true")
    arr = text_array(values)
    if _ascii_only(params) and len(arr) and pc.all(pc.string_is_ascii(arr)).as_py():
        chunks = [_mask_ascii(arr.slice(i, _CHUNK_ROWS), params) for i in range(0, len(arr), _CHUNK_ROWS)]
        return text_series(pa.concat_arrays(chunks), values.index)
    kf, kl = params.keep_first, params.keep_last
    masked_all = _mask_all(arr, params)
    if kf + kl == 0:
        out = masked_all
    else:
        first = pc.utf8_slice_codeunits(arr, 0, kf)
        last = pc.utf8_slice_codeunits(arr, -kl) if kl else _EMPTY
        middle = pc.utf8_slice_codeunits(arr, kf, -kl if kl else None)
        joined = pc.binary_join_element_wise(first, _mask_all(middle, params), last, _EMPTY)
        # a value no longer than the visible part would be shown whole: mask all of it instead
        short = pc.less_equal(pc.utf8_length(arr), kf + kl)
        out = pc.if_else(short, masked_all, joined)
    return text_series(out, values.index)


MASK = register(
    StrategySpec(
        name="mask",
        thread_safe=True,
        description="Replace characters with '*' except the first/last few; keeps the length. "
        "Values no longer than the visible part are masked whole.",
        fn=_mask,
        params=MaskParams,
        example="phone: {strategy: mask, keep_last: 4}",
    )
)

# --- hash ---------------------------------------------------------------------------------------

_BITS_PER_CHAR = {"hex": 4, "base32": 5}
_ALPHABETS = {"hex": HEX_ALPHABET, "base32": BASE32_ALPHABET}


class HashParams(Params):
    length: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Output characters (without prefix). Default 16 (64 bits), or 24 hex / 20 base32 "
        "(96+ bits) with unique: true; always cut to the column length.",
    )
    encoding: Literal["hex", "base32"] = Field(default="hex", description="Text alphabet of the output.")
    prefix: str = Field(default="", description="Text put before every hash, e.g. 'user_'.")

    @field_validator("prefix")
    @classmethod
    def _printable(cls, v: str) -> str:
        if any(ord(c) < 32 for c in v):
            raise ValueError("prefix must not contain control characters")
        return v


def hash_text_length(params: HashParams, ctx: ColumnContext) -> int:
    """The number of hash characters for this column, or a clear refusal when it cannot be unique."""
    bpc = _BITS_PER_CHAR[params.encoding]
    length = params.length or (-(-96 // bpc) if ctx.unique else 16)
    if ctx.max_length:
        length = min(length, ctx.max_length - len(params.prefix))
    if length < 1:
        raise refuse(
            ctx,
            "hash",
            f"the column holds {ctx.max_length} characters, the prefix alone is {len(params.prefix)}",
            "shorten the prefix",
        )
    if ctx.unique and length * bpc < UNIQUE_BITS:
        need = -(-UNIQUE_BITS // bpc) + len(params.prefix)
        raise refuse(
            ctx,
            "hash",
            f"unique: true needs at least {UNIQUE_BITS} bits ({need} characters "
            f"with encoding {params.encoding}) but only {length * bpc} bits fit",
            "widen the column, use encoding: base32, or drop unique",
        )
    return length


def integer_bits(ctx: ColumnContext) -> int:
    """Bits of a positive value the target integer column can hold."""
    sql_type = ctx.column.sql_type if ctx.column is not None else None
    if sql_type is None:
        return 63 if ctx.column is None else 31
    name = type(sql_type).__name__.upper()
    import sqlalchemy as sa

    if isinstance(sql_type, sa.BigInteger) or "BIG" in name:
        return 63
    if "TINY" in name:
        return 7
    if isinstance(sql_type, sa.SmallInteger) or "SMALL" in name:
        return 15
    if "MEDIUM" in name:
        return 23
    return 31


_FEISTEL_ROUNDS = 4


def _feistel(y: np.ndarray, half: int, ctx: ColumnContext) -> np.ndarray:
    """One pass of a keyed balanced Feistel network on 2*half-bit values (a bijection)."""
    mask = np.uint64((1 << half) - 1)
    left, right = y >> np.uint64(half), y & mask
    for r in range(_FEISTEL_ROUNDS):
        f = hash64(pd.Series(right.astype(np.int64)), ctx.key, ctx.domain, f"hash:int:feistel{r}") & mask
        left, right = right, left ^ f
    return (left << np.uint64(half)) | right


def permute_integers(x: np.ndarray, bits: int, ctx: ColumnContext) -> np.ndarray:
    """A keyed bijection of [0, 2**bits - 1) onto [1, 2**bits - 1] (cycle-walking Feistel)."""
    limit = np.uint64((1 << bits) - 1)
    half = (bits + 1) // 2
    y = x.astype(np.uint64)
    todo = np.arange(len(y))
    while len(todo):
        y[todo] = _feistel(y[todo], half, ctx)
        todo = todo[y[todo] >= limit]
    return (y + np.uint64(1)).astype(np.int64)


def _as_integers(values: pd.Series) -> np.ndarray | None:
    """The values as int64, or None when any is not an integer."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return None
    nums = values if pd.api.types.is_numeric_dtype(dtype) else pd.to_numeric(values, errors="coerce")
    if pd.api.types.is_integer_dtype(nums.dtype):
        return nums.to_numpy(dtype=np.int64)
    if not pd.api.types.is_numeric_dtype(nums.dtype):
        return None
    f = nums.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(f).any() or (f % 1 != 0).any():
        return None
    return f.astype(np.int64)


def _hash_integers(values: pd.Series, ctx: ColumnContext) -> pd.Series:
    bits = integer_bits(ctx)
    if not ctx.unique:
        h = hash64(values, ctx.key, ctx.domain, "hash:int")
        out = (h % np.uint64((1 << bits) - 1)) + np.uint64(1)
        return pd.Series(out.astype(np.int64), index=values.index)
    # unique: a keyed permutation, so distinct integers give distinct integers (no collision at all)
    ints = _as_integers(values)
    if ints is None:
        raise BadInputError(
            f"{where(ctx)}: strategy 'hash' with unique: true into an integer column needs "
            "integer values; found non-integers. Hash into a text column instead, or drop "
            "unique"
        )
    if len(ints) and (ints.min() < 0 or ints.max() >= (1 << bits) - 1):
        raise BadInputError(
            f"{where(ctx)}: strategy 'hash' with unique: true maps integers in "
            f"[0, 2^{bits} - 1) one-to-one, found a value outside it; use a wider column "
            "type (BIGINT) or hash into text"
        )
    return pd.Series(permute_integers(ints, bits, ctx), index=values.index)


def _hash(values: pd.Series, params: HashParams, ctx: ColumnContext) -> pd.Series:
    if ctx.kind == "integer":
        if params.prefix:
            raise refuse(ctx, "hash", "a prefix cannot go into an integer column", "drop the prefix")
        return _hash_integers(values, ctx)
    if ctx.kind == "uuid":
        return text_series(uuid_text(hash128(values, ctx.key, ctx.domain, "hash:uuid")), values.index)
    if not is_text_kind(ctx):
        raise refuse(
            ctx,
            "hash",
            f"it makes text, integers or uuids but the column is {ctx.kind}",
            "use date_shift, noise, generalize, redact or nullify",
        )
    length = hash_text_length(params, ctx)
    bpc = _BITS_PER_CHAR[params.encoding]
    words = (hash128 if length * bpc > 64 else hash64)(values, ctx.key, ctx.domain, "hash")
    arr = from_matrix(bit_chars(words, length, bpc, _ALPHABETS[params.encoding]))
    if params.prefix:
        arr = pc.binary_join_element_wise(pa.scalar(params.prefix, pa.large_string()), arr, _EMPTY)
    return text_series(arr, values.index)


HASH = register(
    StrategySpec(
        name="hash",
        thread_safe=True,
        description="Keyed hash (SipHash, keyed by SANITIZE_KEY and the domain) as hex/base32 text, a "
        "positive integer in integer columns, or a UUID in uuid columns; joins survive.",
        fn=_hash,
        params=HashParams,
        key_safe=True,
        unique_safe=True,
        example="customer_id: {strategy: hash, domain: customer}",
    )
)

__all__ = ["HASH", "KEEP", "MASK", "NULLIFY", "REDACT", "STR_DTYPE", "integer_bits", "permute_integers"]
