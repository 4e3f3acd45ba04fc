"""The secret key and keyed hashing: every pseudonym is a function of (key, domain, value).

The key comes from SANITIZE_KEY (the environment, or a `.env` file: the one next to sanitize.yaml for
`refresh` and `seed`, as for the URLs, then the one in the working directory) and is never printed.
Hashing is SipHash-2-4 (pandas' `hash_array`) keyed with a per-domain subkey derived by HMAC-SHA256,
so a value hashes the same in every table, batch, process and machine for one key and domain, and
cannot be reproduced without the key.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import hmac
import math
import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.core.util.hashing import hash_array

from sanitize.errors import KeyMissingError

KEY_ENV = "SANITIZE_KEY"
MIN_KEY_BYTES = 32

HOW_TO_MAKE_A_KEY = (
    "make one with: python -c 'import secrets; print(secrets.token_urlsafe(48))' and export it as "
    f"{KEY_ENV} (or put {KEY_ENV}=... in a .env file that is not committed)"
)


class SecretKey:
    """The secret key; its repr and str never show the bytes."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        if len(raw) < MIN_KEY_BYTES:
            raise KeyMissingError(
                f"{KEY_ENV} is {len(raw)} bytes long; at least {MIN_KEY_BYTES} are needed. "
                + HOW_TO_MAKE_A_KEY
            )
        self._raw = bytes(raw)

    def __repr__(self) -> str:
        return "SecretKey(<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretKey) and hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    @property
    def fingerprint(self) -> str:
        """A short keyed digest safe to put in reports: tells runs apart without revealing the key."""
        return hmac.new(self._raw, b"sanitize:fingerprint", hashlib.sha256).hexdigest()[:12]

    def derive(self, *parts: str) -> bytes:
        """A 32-byte subkey for a purpose (HMAC-SHA256 of the parts)."""
        msg = "\x1f".join(parts).encode("utf-8")
        return hmac.new(self._raw, msg, hashlib.sha256).digest()


def load_key(
    environ: Mapping[str, str] | None = None, dotenv: Path | Sequence[Path] | None = Path(".env")
) -> SecretKey:
    """Read SANITIZE_KEY from the environment, else from the `.env` file(s) (an earlier one wins:
    `Config.dotenv_files()` puts the one next to sanitize.yaml first); refuse a missing or short key."""
    env = os.environ if environ is None else environ
    raw = env.get(KEY_ENV)
    if raw is None and dotenv is not None:
        from sanitize.config import read_dotenv

        raw = read_dotenv([dotenv] if isinstance(dotenv, Path) else list(dotenv)).get(KEY_ENV)
    if not raw:
        raise KeyMissingError(f"no secret key: {KEY_ENV} is not set; " + HOW_TO_MAKE_A_KEY)
    return SecretKey(raw.encode("utf-8"))


@lru_cache(maxsize=4096)
def _siphash_key(key: SecretKey, domain: str, purpose: str) -> str:
    # pandas wants a 16-character key that encodes to 16 bytes; 16 base64 chars carry 96 bits.
    digest = key.derive("siphash", domain, purpose)
    return base64.b64encode(digest).decode("ascii")[:16]


def _canonical_scalar(v: object) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        f = float(v)
        if math.isfinite(f) and f.is_integer():
            return str(int(f))
        return repr(f)
    if isinstance(v, decimal.Decimal):
        if v == v.to_integral_value():
            return str(int(v))
        return str(v.normalize())
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, dt.datetime | dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, bytes | bytearray | memoryview):
        return "\\x" + bytes(v).hex()
    return str(v)


def _float_text(x: np.ndarray) -> np.ndarray:
    """Vectorised `_canonical_scalar` for float64: whole numbers as integers, others as repr()."""
    out = x.astype(str).astype(object)  # numpy's shortest round-trip text equals Python's repr
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(x) & (x % 1 == 0)
    small = whole & (np.abs(x) < 2.0**63)
    if small.any():
        out[small] = x[small].astype(np.int64).astype(str)
    for i in np.flatnonzero(whole & ~small):  # whole numbers beyond int64: rare
        out[i] = str(int(x[i]))
    return out


def _datetime_text(arr: np.ndarray) -> np.ndarray:
    """Vectorised `Timestamp.isoformat()` for naive datetime64 values (seconds, or 6/9 fraction digits)."""
    unit, _ = np.datetime_data(arr.dtype)
    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}.get(unit)
    if per_second is None:  # days, minutes, ...: whole seconds
        return np.datetime_as_string(arr, unit="s").astype(object)
    ticks = arr.view(np.int64)
    frac = ticks % per_second
    out = np.datetime_as_string(arr, unit="s").astype(object)
    if unit == "ns":
        nano = frac % 1000 != 0
        out[nano] = np.datetime_as_string(arr[nano], unit="ns")
        micro = (frac != 0) & ~nano
    else:
        micro = frac != 0
    out[micro] = np.datetime_as_string(arr[micro].astype("datetime64[us]"), unit="us")
    return out


def _arrow_text(values: pd.Series, binary: bool = False) -> np.ndarray | None:
    """Vectorised `_canonical_scalar` for Arrow decimals, dates, naive timestamps and booleans.

    With `binary`, decimals, dates and booleans come as UTF-8 `bytes` objects (see `canonical_bytes`).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = values.dtype
    assert isinstance(dtype, pd.ArrowDtype)
    t = dtype.pyarrow_dtype
    arr = pa.array(values.array)
    if pa.types.is_decimal(t):
        if not 0 <= t.scale <= 6:
            # Arrow prints these in exponent form ('1.20E-8') where Decimal gives '1.2E-8': per value
            return None
        text = pc.cast(arr, pa.string())
        if t.scale > 0:  # 'digits.digits', no exponent: Decimal('42.50') -> '42.5', ('42.00') -> '42'
            text = pc.ascii_rtrim(pc.ascii_rtrim(text, characters="0"), characters=".")
            text = pc.if_else(pc.equal(text, "-0"), "0", text)
    elif pa.types.is_date(t) or pa.types.is_boolean(t):
        text = pc.cast(arr, pa.string())
    else:
        text = None
    if text is not None:
        out = text.cast(pa.large_binary()) if binary else text
        return np.asarray(out.to_numpy(zero_copy_only=False), dtype=object)
    if pa.types.is_timestamp(t) and t.tz is None:
        return _datetime_text(arr.to_numpy(zero_copy_only=False))
    return None


def canonical_text(values: pd.Series) -> np.ndarray:
    """Values as text, so that 42, 42.0, Decimal('42') and '42' are one value (object ndarray).

    NULLs must be removed by the caller.
    """
    dtype = values.dtype
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return values.to_numpy(dtype=object)
    if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return values.astype("int64").astype(str).to_numpy(dtype=object)
    if pd.api.types.is_float_dtype(dtype):
        return _float_text(values.to_numpy(dtype=np.float64))
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return _datetime_text(values.to_numpy())
    if isinstance(dtype, pd.ArrowDtype):
        text = _arrow_text(values)
        if text is not None:
            return text
    return np.fromiter(
        (_canonical_scalar(v) for v in values.to_numpy(dtype=object)), dtype=object, count=len(values)
    )


def canonical_bytes(values: pd.Series) -> np.ndarray:
    """`canonical_text` as UTF-8 `bytes` objects for pyarrow-backed text, decimals and dates (object ndarray).

    Hashing reads bytes without encoding each value (2-3x faster) and gives the same hashes as for
    the text; other dtypes (and text with NULLs) come back as `canonical_text` gives them.
    """
    import pyarrow as pa

    dtype = values.dtype
    arrow_text = (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or (
        isinstance(dtype, pd.ArrowDtype)
        and (pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype))
    )
    if arrow_text:
        arr = pa.array(values.array)
        if arr.null_count == 0:
            binary = arr.cast(pa.large_binary())
            return np.asarray(binary.to_numpy(zero_copy_only=False), dtype=object)
    elif isinstance(dtype, pd.ArrowDtype):
        text = _arrow_text(values, binary=True)
        if text is not None:
            return text
    return canonical_text(values)


def hash64(values: pd.Series | np.ndarray, key: SecretKey, domain: str, purpose: str = "") -> np.ndarray:
    """Keyed 64-bit hash of each value (uint64 ndarray). Same (key, domain, purpose, value) -> same hash.

    An ndarray is taken as canonical text already (`str` or UTF-8 `bytes` objects: both hash alike).
    """
    text = values if isinstance(values, np.ndarray) else canonical_bytes(values)
    if len(text) == 0:
        return np.zeros(0, dtype=np.uint64)
    return hash_array(text, hash_key=_siphash_key(key, domain, purpose), categorize=False)


def hash128(values: pd.Series | np.ndarray, key: SecretKey, domain: str, purpose: str = "") -> np.ndarray:
    """Keyed 128-bit hash as an (n, 2) uint64 array: two independently keyed SipHashes."""
    text = values if isinstance(values, np.ndarray) else canonical_bytes(values)
    lo = hash64(text, key, domain, purpose + "\x00lo")
    hi = hash64(text, key, domain, purpose + "\x00hi")
    return np.stack([lo, hi], axis=1) if len(text) else np.zeros((0, 2), dtype=np.uint64)


def mix(h: np.ndarray, salt: int) -> np.ndarray:
    """A new, independent-looking uint64 stream from a hash (splitmix64 finaliser); vectorised."""
    with np.errstate(over="ignore"):
        z = h.astype(np.uint64) + np.uint64((0x9E3779B97F4A7C15 * (salt + 1)) & 0xFFFFFFFFFFFFFFFF)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))
