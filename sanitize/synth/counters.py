"""Addressable randomness: values that are a pure function of (row position, salt).

A foreign key can recompute its parent's unique value from the parent's row index alone, and a
batch can be generated without the batches before it.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from sanitize.synth.pools import pick_hashed


def affine_permutation(idx: np.ndarray, total: int, salt: int) -> np.ndarray:
    """A bijection of [0, total) (i -> a*i + b mod total), different for each salt; vectorised."""
    if total <= 1:
        return np.zeros(len(idx), dtype=np.int64)
    limit = max(2, min(total, 2 ** max(1, 62 - total.bit_length())))
    a = int((salt % limit) * 0.6180339887 + limit * 0.381966) % limit or 1
    while math.gcd(a, total) != 1:
        a = a + 1 if a + 1 < limit else 1
    b = (salt >> 17) % total
    return (idx.astype(np.int64) * a + b) % total


def counter_bits(idx: np.ndarray, salt: int) -> np.ndarray:
    """64 random-looking bits that are a pure function of (position, salt): addressable randomness."""
    from sanitize.keys import mix

    h = mix(idx.astype(np.uint64), salt & 0xFFFFFFFF)
    return mix(h ^ np.uint64(salt & (2**63 - 1)), 17)


def counter_uniform(idx: np.ndarray, salt: int) -> np.ndarray:
    """Uniform [0, 1) floats that are a pure function of (position, salt)."""
    return (counter_bits(idx, salt) >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)


def counter_pick(locale: str, name: str, idx: np.ndarray, salt: int) -> pa.Array:
    """A value from the locale's pool `name` for each position, a pure function of (position, salt)."""
    return pick_hashed(locale, name, counter_bits(idx, salt))
