"""Generators for number meanings (money, quantities, ages, coordinates) and booleans.

Each draws floats with a plausible shape (log-normal prices, geometric quantities) and fits them to
the column: integer or decimal, clipped to its bounds, rounded to its scale.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sanitize.synth.fit import clip_low, fit_numbers, number_bounds
from sanitize.synth.meaning import RARE_NULL, ValueGenerator, ValueSpec


def inverse_cdf(quantiles: tuple[float, ...], u: np.ndarray) -> np.ndarray:
    """Values at probabilities `u` from evenly spaced quantiles (linear between them)."""
    q = np.asarray(quantiles, dtype=float)
    levels = np.linspace(0.0, 1.0, len(q))
    return np.interp(u, levels, q)


def _money(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    x = np.round(rng.lognormal(mean=3.6, sigma=1.0, size=n), 2)
    lo, hi = number_bounds(spec.column)
    x = np.clip(x, max(lo, 0.01 if spec.column.kind != "integer" else 1), hi)
    return fit_numbers(x, spec.column)


def _quantity(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    x = 1 + rng.geometric(0.45, n) - 1 + (rng.random(n) < 0.1) * rng.integers(1, 20, n)
    return fit_numbers(clip_low(x.astype(float), spec.column, 1), spec.column)


def _age(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return fit_numbers(clip_low(np.clip(rng.normal(42, 15, n), 18, 95), spec.column, 0), spec.column)


def _latitude(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return fit_numbers(np.round(rng.uniform(-60, 70, n), 6), spec.column)


def _longitude(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return fit_numbers(np.round(rng.uniform(-170, 170, n), 6), spec.column)


def booleans(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    """Mostly true; mostly false for end markers (`deleted`, `archived`...)."""
    rare = RARE_NULL.search(spec.column.name.lower()) is not None
    return pa.array(rng.random(n) < (0.05 if rare else 0.6))


NUMBER_GENERATORS: dict[str, ValueGenerator] = {
    "money": _money,
    "quantity": _quantity,
    "age": _age,
    "latitude": _latitude,
    "longitude": _longitude,
    "boolean": booleans,
}
