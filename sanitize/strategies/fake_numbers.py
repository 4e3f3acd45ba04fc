"""Fake numbers with structure: IBANs (mod-97), cards (Luhn), SSNs, IPs, dates of birth, phone prefixes.

Each builder takes keyed uint64 hashes and returns a pyarrow string array, fully vectorised: digits are
drawn into an (n, width) matrix and check digits computed column by column.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.keys import mix
from sanitize.strategies import fake_data as fd
from sanitize.strategies.vector import (
    HEX_ALPHABET,
    Targets,
    bit_chars,
    digit_columns,
    from_matrix,
    uniform_index,
)

_ZERO = ord("0")
_UPPER_A = ord("A")


def digit_matrix(h: np.ndarray, width: int, salt: int = 0) -> np.ndarray:
    """(n, width) int64 matrix of keyed digits 0-9."""
    return digit_columns(mix(h, 100 + salt), width).T.astype(np.int64, order="C")  # = digit_table


def luhn_check_digit(payload: np.ndarray) -> np.ndarray:
    """The Luhn check digit for each row of an (n, k) digit matrix (the digits before the check digit)."""
    k = payload.shape[1]
    doubled = payload.copy()
    # counting from the right of the payload, the first digit (next to the check digit) is doubled
    dbl = (k - 1 - np.arange(k)) % 2 == 0
    d = doubled[:, dbl] * 2
    doubled[:, dbl] = np.where(d > 9, d - 9, d)
    return (10 - doubled.sum(axis=1) % 10) % 10


def luhn_valid(number: str) -> bool:
    """True when a digit string passes the Luhn check (for tests and callers)."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_CARD_PREFIXES = ("4", "4", "4", "51", "52", "53", "54", "55", "2221", "2720")


def credit_card(h: np.ndarray) -> pa.Array:
    """16-digit Visa / Mastercard-shaped numbers that pass Luhn."""
    digits = digit_matrix(h, 15, salt=0)
    choice = uniform_index(mix(h, 40), len(_CARD_PREFIXES))
    for i, prefix in enumerate(_CARD_PREFIXES):
        rows = choice == i
        for j, ch in enumerate(prefix):
            digits[rows, j] = int(ch)
    full = np.concatenate([digits, luhn_check_digit(digits)[:, None]], axis=1)
    return from_matrix((full + _ZERO).astype(np.uint8))


def iban_valid(iban: str) -> bool:
    """True when an IBAN passes the ISO 13616 mod-97 check."""
    s = iban.replace(" ", "").upper()
    if len(s) < 5 or not s[:2].isalpha() or not s[2:4].isdigit() or not s.isalnum():
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def iban(h: np.ndarray, country: str, bban_format: str) -> pa.Array:
    """IBANs for a country (from Faker's bank data) with correct mod-97 check digits."""
    n = len(h)
    width = len(bban_format)
    values = digit_matrix(h, width, salt=200)  # 0-9 digits, 10-35 letters
    for j, ch in enumerate(bban_format):
        if ch == "?":
            values[:, j] = 10 + uniform_index(mix(h, 200 + j), 26)
        elif ch != "#":
            values[:, j] = int(ch, 36)
    rem = np.zeros(n, dtype=np.int64)
    tail = [int(c, 36) for c in country.upper()] + [0, 0]
    for j in range(width):
        v = values[:, j]
        rem = (rem * np.where(v >= 10, 100, 10) + v) % 97
    for c in tail:
        rem = (rem * (100 if c >= 10 else 10) + c) % 97
    check = 98 - rem
    out = np.zeros((n, 4 + width), dtype=np.uint8)
    out[:, 0] = ord(country[0].upper())
    out[:, 1] = ord(country[1].upper())
    out[:, 2] = _ZERO + check // 10
    out[:, 3] = _ZERO + check % 10
    out[:, 4:] = np.where(values >= 10, _UPPER_A + values - 10, _ZERO + values).astype(np.uint8)
    return from_matrix(out)


def ssn(h: np.ndarray) -> pa.Array:
    """US SSNs AAA-GG-SSSS: area 001-899 except 666, group 01-99, serial 0001-9999."""
    area = 1 + uniform_index(mix(h, 300), 898)
    area = np.where(area >= 666, area + 1, area)
    group = 1 + uniform_index(mix(h, 301), 99)
    serial = 1 + uniform_index(mix(h, 302), 9999)
    out = np.full((len(h), 11), ord("-"), dtype=np.uint8)
    for col, (num, width) in zip((0, 4, 7), ((area, 3), (group, 2), (serial, 4)), strict=True):
        for j in range(width):
            out[:, col + j] = _ZERO + (num // 10 ** (width - 1 - j)) % 10
    return from_matrix(out)


def ipv4(h: np.ndarray) -> pa.Array:
    """Dotted-quad addresses; the first octet avoids 0, 10, 127 and 224+ (multicast/reserved)."""
    first_choices = np.array([o for o in range(1, 224) if o not in (10, 127)], dtype=np.int64)
    octets = [first_choices[uniform_index(mix(h, 400), len(first_choices))]]
    octets += [uniform_index(mix(h, 401 + i), 256) for i in range(3)]
    text = [pc.cast(pa.array(o), pa.large_string()) for o in octets]
    return pc.binary_join_element_wise(*text, pa.scalar(".", pa.large_string()))


def ipv6(words: np.ndarray) -> pa.Array:
    """Addresses in the documentation prefix 2001:db8::/32 with 96 keyed bits (unique-safe)."""
    hexed = bit_chars(words, 24, 4, HEX_ALPHABET)
    n = len(words)
    out = np.full((n, 9 + 29), ord(":"), dtype=np.uint8)
    out[:, :9] = np.frombuffer(b"2001:db8:", dtype=np.uint8)
    for g in range(6):
        out[:, 9 + g * 5 : 9 + g * 5 + 4] = hexed[:, g * 4 : g * 4 + 4]
    return from_matrix(out)


DOB_FIRST = dt.date(1940, 1, 1)
DOB_LAST = dt.date(2007, 12, 31)
_EPOCH = dt.date(1970, 1, 1)


def date_of_birth(h: np.ndarray) -> pa.Array:
    """Dates between 1940-01-01 and 2007-12-31 (a fixed range: outputs never depend on today)."""
    span = (DOB_LAST - DOB_FIRST).days + 1
    days = (DOB_FIRST - _EPOCH).days + uniform_index(mix(h, 500), span)
    return pa.array(days.astype(np.int32), type=pa.date32())


def dates_for(arr: pa.Array, index: pd.Index, kind: str | None) -> pd.Series:
    """date32 values as the column wants them: dates, timestamps at midnight, or ISO text."""
    from sanitize.strategies.vector import text_series

    if len(arr) == 0:
        arr = pa.array([], type=pa.date32())
    if kind == "date":
        return pd.Series(pd.array(arr, dtype=pd.ArrowDtype(pa.date32())), index=index)
    if kind == "datetime":
        stamps = np.asarray(arr.cast(pa.int32()).to_numpy(zero_copy_only=False), dtype="int64")
        return pd.Series(stamps.astype("datetime64[D]").astype("datetime64[us]"), index=index)
    return text_series(pc.cast(arr, pa.large_string()), index)


def phone_prefix_digits(offsets: np.ndarray, data: np.ndarray, digits: Targets) -> np.ndarray:
    """Per row, how many leading digits to keep: '+'/'00' and the country code, and a trunk '0'."""
    n = len(offsets) - 1
    if n == 0 or len(data) == 0:
        return np.zeros(n, dtype=np.int64)
    lengths = np.diff(offsets)
    nonempty = lengths > 0
    first_byte = np.zeros(n, dtype=np.uint8)
    first_byte[nonempty] = data[offsets[:-1][nonempty]]
    # the first five digits of each row (-1 where missing)
    lead = np.full((n, 5), -1, dtype=np.int64)
    sel = digits.ordinal < 5
    lead[digits.row[sel], digits.ordinal[sel]] = data[digits.pos[sel]].astype(np.int64) - _ZERO
    return _keep_from_lead(first_byte, lead)


@lru_cache(maxsize=1)
def _calling_code_table() -> np.ndarray:
    table = np.zeros(1000, dtype=bool)
    table[np.fromiter(fd.country_calling_codes(), dtype=np.int64)] = True
    return table


def _keep_from_lead(first_byte: np.ndarray, lead: np.ndarray) -> np.ndarray:
    """Digits to keep per row from its first byte and first five digits (-1 where missing).

    `lead` is (n, 5); a transposed view of a (5, n) array is fine (each digit is then contiguous).
    """
    plus = first_byte == ord("+")
    d = [lead[:, j].astype(np.int16) for j in range(5)]
    double_zero = (~plus) & (d[0] == 0) & (d[1] == 0)
    is_code = _calling_code_table()
    cc_len = np.zeros(len(first_byte), dtype=np.int16)
    value = np.zeros(len(first_byte), dtype=np.int16)
    valid = np.ones(len(first_byte), dtype=bool)
    for width in (1, 2, 3):  # calling codes are prefix-free: at most one width matches
        # the digit at base + width - 1, where base is 2 after a leading 00 and 0 otherwise
        c = np.where(double_zero, d[min(width + 1, 4)], d[width - 1])
        valid &= c >= 0
        value = value * 10 + np.maximum(c, 0)
        hit = valid & is_code[value] & (cc_len == 0)
        cc_len[hit] = width
    international = plus | double_zero
    keep = np.where(international, np.where(double_zero, 2, 0) + cc_len, 0).astype(np.int64)
    # a trunk '0' after the country code, as in +49 (0) 30..., or at the start of a national number
    at = np.minimum(keep, 4)
    trunk = np.zeros(len(first_byte), dtype=bool)
    for j in range(5):
        trunk |= (at == j) & (d[j] == 0)
    return np.where(trunk & (keep < 5), keep + 1, keep)


MATRIX_WIDTH = 32  # rows up to this many bytes are rewritten as an (n, width) byte matrix


def digit_counts(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """ASCII digits per row (int64)."""
    out = np.zeros(len(offsets) - 1, dtype=np.int64)
    nonempty = np.flatnonzero(np.diff(offsets) > 0)
    if len(nonempty):  # each sum runs to the next non-empty row's start: the end of its own bytes
        digits = ((data - np.uint8(_ZERO)) < 10).view(np.uint8)
        out[nonempty] = np.add.reduceat(digits, offsets[nonempty], dtype=np.int64)
    return out


def phone_digits_matrix(offsets: np.ndarray, data: np.ndarray, h: np.ndarray) -> np.ndarray | None:
    """New bytes for short phone strings, digits replaced with the prefix kept; None if a row is long.

    Works on a (width, n) byte matrix, column by column: every step is a plain pass over contiguous
    memory, no per-digit indexing. Rows are contiguous in `data`, so the matrix is a gather of whole
    rows and the new bytes are its valid cells in row order.
    """
    n = len(offsets) - 1
    lengths = np.diff(offsets)
    width = int(lengths.max()) if n else 0
    if n == 0 or width == 0:
        return data.copy()
    if width > MATRIX_WIDTH:
        return None
    padded = np.zeros(len(data) + width, dtype=np.uint8)
    padded[: len(data)] = data
    windows = np.lib.stride_tricks.as_strided(padded, shape=(len(data) + 1, width), strides=(1, 1))
    mat = np.ascontiguousarray(windows[offsets[:-1]].T)  # (width, n): byte c of every row in row c
    short = lengths.astype(np.int16)
    isd = (np.arange(width, dtype=np.int16)[:, None] < short[None, :]) & ((mat - np.uint8(_ZERO)) < 10)
    # seen[c]: digits among the first c + 1 bytes of each row (so a digit's ordinal is seen - 1)
    seen = np.empty((width, n), dtype=np.int8)
    seen[0] = isd[0]
    for c in range(1, width):
        np.add(seen[c - 1], isd[c], out=seen[c], casting="unsafe")
    # the first five digits of each row (-1 where missing): digit j sits in the first column where
    # seen exceeds j; only the columns up to the last row's fifth digit are looked at
    wanted = np.minimum(seen[-1], 5)
    last = 0
    while last < width - 1 and not (seen[last] >= wanted).all():
        last += 1
    head = seen[: last + 1]
    lead = np.empty((5, n), dtype=np.int8)
    flat = mat.reshape(-1)
    rows = np.arange(n)
    for j in range(5):
        at = np.minimum((head <= j).view(np.int8).sum(axis=0, dtype=np.int16), last).astype(np.intp)
        digit = flat[at * n + rows].view(np.int8) - np.int8(_ZERO)
        lead[j] = np.where(wanted > j, digit, np.int8(-1))
    first_byte = np.where(lengths > 0, mat[0], 0)
    keep = _keep_from_lead(first_byte, lead.T)
    digits = digit_columns(h, width)  # by byte position in the row, as replace_digit_bytes does
    start = (keep + 1).astype(np.int8)  # replace from the digit whose `seen` is this
    out = np.empty((width, n), dtype=np.uint8)
    for c in range(width):
        digit = digits[c]
        # the first replaced digit is 1-9, so a number never gains a leading zero
        digit = np.where(seen[c] == start, 1 + (digit.astype(np.uint16) * 9) // 10, digit)
        np.copyto(out[c], np.where(isd[c] & (seen[c] >= start), digit + _ZERO, mat[c]), casting="unsafe")
    valid = np.arange(width, dtype=np.int16)[None, :] < short[:, None]
    return np.ascontiguousarray(out.T)[valid]
