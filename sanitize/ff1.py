"""NIST SP 800-38G FF1 format-preserving encryption over AES, vectorised for columns of numerals.

FF1 is a keyed bijection on strings of numerals of a fixed length and radix: distinct inputs give
distinct outputs by construction, at any row count. sanitize uses it to make unique identifiers that
keep their format (see strategies/fpe.py); it never decrypts.

`encrypt_one` follows the standard step by step with Python integers (any radix, length and tweak).
`FF1.encrypt` does the same for a whole (rows, n) matrix of numerals at once: each of the ten Feistel
rounds is one AES-ECB call over every row (the first blocks of the PRF input do not depend on the row,
so their CBC-MAC state is computed once) and numpy arithmetic on uint64. That path is taken when
radix^ceil(n/2) <= 2^32 (up to 18 decimal digits, 12 base-36 characters); longer strings go through
`encrypt_one`. Both are checked against the NIST sample vectors and against each other in the tests.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ROUNDS = 10
_FAST_LIMIT = 1 << 32


def _ecb(key: bytes) -> Cipher[modes.ECB]:
    return Cipher(algorithms.AES(key), modes.ECB())


def _num(numerals: list[int], radix: int) -> int:
    out = 0
    for x in numerals:
        out = out * radix + x
    return out


def _str(value: int, radix: int, length: int) -> list[int]:
    out = [0] * length
    for i in range(length - 1, -1, -1):
        value, out[i] = divmod(value, radix)
    return out


def _byte_len(radix: int, v: int) -> int:
    """b = ceil(ceil(v * log2(radix)) / 8), exactly (radix^v is never a power of two unless radix is)."""
    return ((radix**v - 1).bit_length() + 7) // 8


def _p_block(radix: int, u: int, n: int, t: int) -> bytes:
    return (
        bytes([1, 2, 1])
        + radix.to_bytes(3, "big")
        + bytes([10, u % 256])
        + n.to_bytes(4, "big")
        + t.to_bytes(4, "big")
    )


def _check(radix: int, n: int) -> None:
    if not 2 <= radix <= 1 << 16:
        raise ValueError(f"FF1 radix must be 2..65536, not {radix}")
    if n < 2 or radix**n < 100:
        raise ValueError(f"FF1 needs radix^length >= 100 (radix {radix}, length {n})")


def encrypt_one(key: bytes, tweak: bytes, radix: int, numerals: list[int]) -> list[int]:
    """FF1.Encrypt(K, T, X) for one numeral string, as SP 800-38G writes it."""
    n, t = len(numerals), len(tweak)
    _check(radix, n)
    u, v = n // 2, n - n // 2
    a, b_ = list(numerals[:u]), list(numerals[u:])
    b = _byte_len(radix, v)
    d = 4 * ((b + 3) // 4) + 4
    p = _p_block(radix, u, n, t)
    enc = _ecb(key).encryptor()
    for i in range(ROUNDS):
        q = tweak + bytes((-t - b - 1) % 16) + bytes([i]) + _num(b_, radix).to_bytes(b, "big")
        r = bytes(16)
        msg = p + q
        for j in range(0, len(msg), 16):
            r = enc.update(bytes(x ^ y for x, y in zip(r, msg[j : j + 16], strict=True)))
        s = r
        j = 1
        while len(s) < d:
            s += enc.update(bytes(x ^ y for x, y in zip(r, j.to_bytes(16, "big"), strict=True)))
            j += 1
        y = int.from_bytes(s[:d], "big")
        m = u if i % 2 == 0 else v
        c = (_num(a, radix) + y) % radix**m
        a, b_ = b_, _str(c, radix, m)
    return a + b_


@lru_cache(maxsize=256)
def _prefix_states(key: bytes, tweak: bytes, radix: int, n: int) -> tuple[bytes, ...]:
    """Per round: the CBC-MAC state after P and every Q block but the last, XORed with the constant head
    of that last block, so a row's last block is this XOR its NUM(B) in the low b bytes."""
    u, v, t = n // 2, n - n // 2, len(tweak)
    b = _byte_len(radix, v)
    p = _p_block(radix, u, n, t)
    enc = _ecb(key).encryptor()
    states = []
    for i in range(ROUNDS):
        q_head = tweak + bytes((-t - b - 1) % 16) + bytes([i])  # Q without NUM(B); len(Q) % 16 == 0
        cut = len(q_head) + b - 16
        msg = p + q_head[:cut]
        r = bytes(16)
        for j in range(0, len(msg), 16):
            r = enc.update(bytes(x ^ y for x, y in zip(r, msg[j : j + 16], strict=True)))
        tail = q_head[cut:] + bytes(b)
        states.append(bytes(x ^ y for x, y in zip(r, tail, strict=True)))
    return tuple(states)


class FF1:
    """FF1 with one AES key and tweak, for matrices of numerals (each row one string)."""

    def __init__(self, key: bytes, tweak: bytes = b"") -> None:
        if len(key) not in (16, 24, 32):
            raise ValueError("FF1 needs an AES key of 16, 24 or 32 bytes")
        self.key = key
        self.tweak = tweak
        self._enc = _ecb(key).encryptor()

    def encrypt(self, numerals: np.ndarray, radix: int) -> np.ndarray:
        """(rows, n) integer matrix of numerals < radix -> the (rows, n) matrix of their FF1 encryptions."""
        rows, n = numerals.shape
        _check(radix, n)
        if rows == 0:
            return numerals.copy()
        u, v = n // 2, n - n // 2
        if radix**v > _FAST_LIMIT:
            return np.array(
                [encrypt_one(self.key, self.tweak, radix, r) for r in numerals.tolist()], dtype=np.int64
            )
        b = _byte_len(radix, v)
        d = 4 * ((b + 3) // 4) + 4
        states = _prefix_states(self.key, self.tweak, radix, n)
        a = _as_number(numerals[:, :u], radix)
        bb = _as_number(numerals[:, u:], radix)
        mod_u, mod_v = np.uint64(radix**u), np.uint64(radix**v)
        for i in range(ROUNDS):
            last = np.zeros((rows, 16), dtype=np.uint8)
            last[:, 16 - b :] = bb.astype(">u8").view(np.uint8).reshape(rows, 8)[:, 8 - b :]
            last ^= np.frombuffer(states[i], dtype=np.uint8)
            r = np.frombuffer(self._enc.update(last.tobytes()), dtype=np.uint8).reshape(rows, 16)
            m = mod_u if i % 2 == 0 else mod_v
            y = _mod(r[:, :d], m)
            c = a + y
            c = np.where(c >= m, c - m, c)
            a, bb = bb, c
        return np.concatenate([_numerals(a, radix, u), _numerals(bb, radix, v)], axis=1)


def _as_number(numerals: np.ndarray, radix: int) -> np.ndarray:
    out = np.zeros(len(numerals), dtype=np.uint64)
    r = np.uint64(radix)
    for col in numerals.T:
        out = out * r + col.astype(np.uint64)
    return out


def _numerals(values: np.ndarray, radix: int, length: int) -> np.ndarray:
    out = np.empty((len(values), length), dtype=np.int64)
    r = np.uint64(radix)
    rest = values.copy()
    for i in range(length - 1, -1, -1):
        out[:, i] = (rest % r).astype(np.int64)
        rest //= r
    return out


def _mod(s: np.ndarray, m: np.uint64) -> np.ndarray:
    """NUM(S) mod m for rows of d = 8 or 12 big-endian bytes, m <= 2^32, in uint64 without overflow."""
    lo = s[:, -8:].copy().view(">u8").ravel().astype(np.uint64)
    out = lo % m
    if s.shape[1] > 8:
        hi = s[:, :-8].copy()
        hi_val = np.zeros(len(s), dtype=np.uint64)
        for col in hi.T:
            hi_val = (hi_val << np.uint64(8)) | col.astype(np.uint64)
        shift = np.uint64((1 << 64) % int(m))
        out = ((hi_val % m) * shift % m + out) % m
    return out
