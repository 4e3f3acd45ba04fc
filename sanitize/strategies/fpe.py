"""The `fpe` strategy: format-preserving encryption (NIST FF1) of the digits of identifiers.

Each value's digits are encrypted with FF1 (sanitize/ff1.py) under an AES-256 key derived from
SANITIZE_KEY and the rule's domain; everything that is not a digit (letters, spaces, dashes, '+')
stays where it is. FF1 is a bijection on digit strings of each length, so distinct inputs give
distinct outputs at any row count — the property `unique: true` needs, which keyed fakes of short
identifiers cannot give. Formats add the rules a validating application expects:

- `digits`: every digit after the first `keep_first`;
- `credit_card`: the card network (first digit: 4 Visa, 5 Mastercard, ...) kept, the Luhn check digit
  recomputed; the other digits are encrypted (keeping the 6-digit issuer prefix would leave a space of
  only 10^9 numbers, where a million cards map onto other real cards by the hundred);
- `iban`: country code and the BBAN's letters kept, the mod-97 check digits recomputed;
- `phone`: '+'/'00' and the country calling code (and a trunk '0') kept;
- `ssn`: US SSNs stay valid (area 001-899 but 666, group 01-99, serial 0001-9999), by cycle walking.

Uniqueness holds for distinct valid inputs; two inputs that differ only in a check digit (one of them
invalid) get the same output. On an integer column the leading digit stays non-zero (cycle walking),
so an n-digit number stays n digits long. Values with fewer than two digits to encrypt are replaced
digit by digit with keyed digits. sanitize never decrypts: with the key, FF1 is reversible by design,
so treat the key as you would the production data (see README: format-preserving encryption).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from sanitize.arrow import string_bytes
from sanitize.ff1 import FF1
from sanitize.keys import SecretKey, hash64
from sanitize.strategies.fake_numbers import digit_matrix, luhn_check_digit, phone_prefix_digits
from sanitize.strategies.registry import ColumnContext, Params, StrategySpec, register
from sanitize.strategies.vector import (
    Targets,
    from_bytes,
    is_text_kind,
    locate,
    refuse,
    text_array,
    text_series,
)

Format = Literal["digits", "credit_card", "iban", "phone", "ssn"]
FORMATS: tuple[str, ...] = ("digits", "credit_card", "iban", "phone", "ssn")
_ZERO = ord("0")
_MAX_WALKS = 200  # cycle-walking rounds; the valid share of every format makes this unreachable


class FpeParams(Params):
    format: Format = Field(default="digits", description="What the values are: " + ", ".join(FORMATS) + ".")
    keep_first: int | None = Field(
        default=None,
        ge=0,
        description="Leading digits left in clear; default: 1 for credit_card (the network), the "
        "calling code for phone, 0 otherwise.",
    )


@lru_cache(maxsize=64)
def _cipher(key: SecretKey, domain: str, fmt: str) -> FF1:
    return FF1(key.derive("fpe", domain), f"sanitize:fpe:{fmt}".encode())


def _valid(fmt: str, digits: np.ndarray, integer: bool, lead_kept: bool) -> np.ndarray:
    """Rows of an (n, w) digit matrix (the encrypted digits only) that the format accepts."""
    ok = np.ones(len(digits), dtype=bool)
    if integer and not lead_kept:
        ok &= digits[:, 0] != 0
    if fmt == "ssn" and digits.shape[1] == 9:
        area = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
        group = digits[:, 3] * 10 + digits[:, 4]
        serial = digits[:, 5] * 1000 + digits[:, 6] * 100 + digits[:, 7] * 10 + digits[:, 8]
        ok &= (area > 0) & (area != 666) & (area < 900) & (group > 0) & (serial > 0)
    return ok


def _encrypt(cipher: FF1, digits: np.ndarray, fmt: str, integer: bool, lead_kept: bool) -> np.ndarray:
    """FF1 with cycle walking: re-encrypt the rows whose result the format does not accept.

    Cycle walking only starts from inputs the format accepts, so it is a permutation of valid values."""
    out = cipher.encrypt(digits, 10)
    start_ok = _valid(fmt, digits, integer, lead_kept)
    todo = start_ok & ~_valid(fmt, out, integer, lead_kept)
    for _ in range(_MAX_WALKS):
        if not todo.any():
            break
        rows = np.flatnonzero(todo)
        out[rows] = cipher.encrypt(out[rows], 10)
        todo[rows] = ~_valid(fmt, out[rows], integer, lead_kept)
    return out


def _default_keep(fmt: str, offsets: np.ndarray, data: np.ndarray, digits_at: object) -> np.ndarray:
    n = len(offsets) - 1
    if fmt == "credit_card":
        return np.full(n, 1, dtype=np.int64)
    if fmt == "phone":
        return phone_prefix_digits(offsets, data, digits_at)  # type: ignore[arg-type]
    return np.zeros(n, dtype=np.int64)


def encrypt_digits(values: pd.Series, params: FpeParams, ctx: ColumnContext) -> pa.Array:
    """The values as text with their digits encrypted in the given format."""
    arr = text_array(values)
    offsets, data = string_bytes(arr)
    data = data.copy()
    at = locate(offsets, ((data - np.uint8(_ZERO)) < 10).view(bool))
    fmt = params.format
    keep = (
        np.full(len(arr), params.keep_first, dtype=np.int64)
        if params.keep_first is not None
        else _default_keep(fmt, offsets, data, at)
    )
    check_tail = 1 if fmt == "credit_card" else 0  # the Luhn digit is recomputed, not encrypted
    check_head = 2 if fmt == "iban" else 0  # IBAN check digits are the first two digits
    keep = np.maximum(keep, check_head)
    count = at.counts
    width = np.maximum(count - keep - check_tail, 0)
    digit_vals = (data[at.pos] - _ZERO).astype(np.int64)
    first = np.cumsum(count) - count
    integer = ctx.kind == "integer"
    cipher = _cipher(ctx.key, ctx.domain, fmt)
    for w in np.unique(width).tolist():
        rows = np.flatnonzero(width == w)
        if w == 0:
            continue
        idx = (first[rows] + keep[rows])[:, None] + np.arange(w)
        digits = digit_vals[idx]
        if w >= 2:
            lead_kept = bool(params.keep_first) or fmt in ("credit_card", "iban")
            new = _encrypt(cipher, digits, fmt, integer, lead_kept)
        else:  # one digit: no permutation to speak of; a keyed digit
            h = hash64(pd.Series(digits[:, 0]), ctx.key, ctx.domain, "fpe:short")
            new = digit_matrix(h, 1)
        data[at.pos[idx]] = (new + _ZERO).astype(np.uint8)
        digit_vals[idx] = new
    if check_tail:
        _fix_luhn(data, at, digit_vals, first)
    if check_head:
        _fix_iban(offsets, data)
    return from_bytes(offsets, data)


def _fix_luhn(data: np.ndarray, at: Targets, digit_vals: np.ndarray, first: np.ndarray) -> None:
    """Recompute, in place, the last digit of each value of 2+ digits so its digits pass Luhn."""
    for c in np.unique(at.counts).tolist():
        if c < 2:
            continue
        rows = np.flatnonzero(at.counts == c)
        idx = first[rows][:, None] + np.arange(c)
        check = luhn_check_digit(digit_vals[idx[:, :-1]])
        data[at.pos[idx[:, -1]]] = (check + _ZERO).astype(np.uint8)


def _fix_iban(offsets: np.ndarray, data: np.ndarray) -> None:
    """Recompute, in place, the check digits (bytes 3-4) of each IBAN-shaped value (ISO 13616 mod 97).

    Rows of one length at a time as a byte matrix; spaces are skipped, letters count as 10-35."""
    lengths = np.diff(offsets)
    for n in np.unique(lengths).tolist():
        if n < 5:
            continue
        rows = np.flatnonzero(lengths == n)
        m = data[offsets[:-1][rows][:, None] + np.arange(n)]
        upper = np.where((m >= ord("a")) & (m <= ord("z")), m - 32, m)
        digit = (m >= _ZERO) & (m <= ord("9"))
        letter = (upper >= ord("A")) & (upper <= ord("Z"))
        space = m == ord(" ")
        ok = letter[:, 0] & letter[:, 1] & digit[:, 2] & digit[:, 3] & (digit | letter | space).all(axis=1)
        if not ok.any():
            continue
        value = np.where(digit, m.astype(np.int64) - _ZERO, upper.astype(np.int64) - ord("A") + 10)
        mult = np.where(space, 1, np.where(digit, 10, 100))
        value = np.where(space, 0, value)
        rem = np.zeros(len(rows), dtype=np.int64)
        for j in [*range(4, n), 0, 1]:
            rem = (rem * mult[:, j] + value[:, j]) % 97
        rem = (rem * 100) % 97  # the check digits as 00
        check = 98 - rem
        good = rows[ok]
        data[offsets[:-1][good] + 2] = (_ZERO + check[ok] // 10).astype(np.uint8)
        data[offsets[:-1][good] + 3] = (_ZERO + check[ok] % 10).astype(np.uint8)


def fpe(values: pd.Series, params: FpeParams, ctx: ColumnContext) -> pd.Series:
    if not (is_text_kind(ctx) or ctx.kind == "integer"):
        raise refuse(
            ctx,
            "fpe",
            f"it encrypts the digits of text or integers, but the column is {ctx.kind}",
            "use hash",
        )
    if len(values) == 0:
        return values.copy()
    if ctx.kind == "integer" and params.format == "iban":
        raise refuse(ctx, "fpe", f"format {params.format!r} needs a text column", "use format: digits")
    arr = encrypt_digits(values, params, ctx)
    if ctx.kind == "integer":
        digits = pc.replace_substring_regex(arr, r"[^0-9\-]", "")
        return pd.Series(np.asarray(pc.cast(digits, pa.int64())), index=values.index)
    return text_series(arr, values.index)


FPE = register(
    StrategySpec(
        name="fpe",
        thread_safe=True,
        description="Format-preserving encryption (NIST FF1, AES-256 keyed per domain) of a value's digits: "
        "distinct inputs stay distinct at any row count; card Luhn, IBAN mod-97, SSN rules and phone "
        "calling codes are kept valid. The right choice for UNIQUE identifiers that must keep their format.",
        fn=fpe,
        params=FpeParams,
        deterministic=True,
        key_safe=True,
        unique_safe=True,
        example="iban: {strategy: fpe, format: iban}",
    )
)

__all__ = ["FORMATS", "FPE", "FpeParams", "encrypt_digits", "fpe"]
