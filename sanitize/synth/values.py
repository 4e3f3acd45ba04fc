"""Column value generators: what a synthetic column holds, chosen by meaning, then by type.

The meaning ("semantic") of a column comes from its rule's `fake` kind if there is one, otherwise from
its name (`email`, `created_at`, `price`, `status`...), otherwise from its type (`meaning.py`). Every
generator is vectorised: it draws whole arrays from a `numpy.random.Generator` and builds text with
pyarrow compute, and every value fits the column (type bounds, CHECK ranges and IN lists, varchar
length, numeric precision and scale: `fit.py`).

Two modes:
- `generate_values(spec, rng, n)`: `n` values drawn from the column's distribution: profile
  categories or quantiles when there are some, else the generator of its meaning
  (`text_values.py`, `number_values.py`, `time_values.py`), else one by type;
- `unique_values(spec, idx, salt, total)`: values that are an injective function of the row index,
  for unique and referenced columns (a foreign key can recompute its parent's key from an index;
  `unique.py`).

This module is where the rest of the package imports value generation from.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sanitize.synth.arrowtext import HEX, base36, base36_width, digits_text, radix_text, truncate_each
from sanitize.synth.counters import affine_permutation, counter_bits, counter_uniform
from sanitize.synth.fit import (
    arrow_type,
    cast_text,
    clip_low,
    decimal_from_units,
    decimal_shape,
    fit_numbers,
    fit_text,
    integer_bounds,
    number_bounds,
)
from sanitize.synth.meaning import (
    NAME_PATTERNS,
    NUMBER_KINDS,
    TEXT_KINDS,
    ValueGenerator,
    ValueSpec,
    category_set,
    default_null_fraction,
    semantic_for,
)
from sanitize.synth.number_values import NUMBER_GENERATORS, booleans, inverse_cdf
from sanitize.synth.pools import zipf_weights
from sanitize.synth.text_values import TEXT_GENERATORS, json_values, lorem_text, random_uuids
from sanitize.synth.time_values import (
    DATE_HI,
    DATE_LO,
    DAY_HI,
    DAY_LO,
    TIME_GENERATORS,
    random_dates,
    random_timestamps,
)
from sanitize.synth.unique import unique_capacity, unique_values

__all__ = [
    "DATE_HI",
    "DATE_LO",
    "DAY_HI",
    "DAY_LO",
    "HEX",
    "KNOWN_MEANINGS",
    "NAME_PATTERNS",
    "NUMBER_KINDS",
    "TEXT_KINDS",
    "ValueSpec",
    "affine_permutation",
    "arrow_type",
    "base36",
    "base36_width",
    "category_set",
    "counter_bits",
    "counter_uniform",
    "decimal_from_units",
    "decimal_shape",
    "default_null_fraction",
    "digits_text",
    "fit_text",
    "generate_values",
    "integer_bounds",
    "number_bounds",
    "radix_text",
    "semantic_for",
    "truncate_each",
    "unique_capacity",
    "unique_values",
]


def generate_values(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    """`n` non-NULL values for a column, fitted to its type and constraints."""
    col = spec.column
    if spec.item is not None:
        return _arrays(spec.item, rng, n)
    if spec.pattern is not None:
        arr = spec.pattern.random(rng, n, col.max_length)
    elif spec.categories:
        arr = _from_categories(spec, rng, n)
    elif spec.quantiles and col.kind in NUMBER_KINDS | {"date", "datetime", "time"}:
        arr = _from_quantiles(spec, rng, n)
    elif spec.semantic == "choice":
        values = col.check_values or col.enum_values or ()
        arr = cast_text(pa.array(list(values), type=pa.string()), col).take(
            pa.array(rng.choice(len(values), n, p=zipf_weights(len(values), 0.6)))
        )
    else:
        fn = _SEMANTIC.get(spec.semantic)
        arr = fn(spec, rng, n) if fn is not None else _by_type(spec, rng, n)
    if col.kind in TEXT_KINDS or col.kind in ("uuid", "json"):
        arr = fit_text(arr.cast(pa.string()), col)
    return arr


def _arrays(item: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    """An array column's values: one to three items each, made like a column of the item type."""
    counts = rng.integers(1, 4, n)
    values = generate_values(item, rng, int(counts.sum()))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _from_categories(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    values = [v for v, _ in spec.categories]
    probs = np.array([p for _, p in spec.categories], dtype=float)
    probs = probs / probs.sum()
    return cast_text(pa.array(values, type=pa.string()), spec.column).take(
        pa.array(rng.choice(len(values), n, p=probs))
    )


def _from_quantiles(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    x = inverse_cdf(spec.quantiles, rng.random(n))
    col = spec.column
    if col.kind == "date":
        days = np.clip(np.rint(x), spec.quantiles[0], spec.quantiles[-1]).astype(np.int32)
        return pa.array(days, type=pa.date32())
    if col.kind == "datetime":
        micros = (x * 1e6).astype(np.int64)
        return pa.array(micros, type=pa.int64()).cast(arrow_type(col))
    if col.kind == "time":
        micros = np.clip(x * 1e6, 0, 86_399_999_999).astype(np.int64)
        return pa.array(micros, type=pa.int64()).cast(pa.time64("us"))
    return fit_numbers(x, col)


def _by_type(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    col = spec.column
    kind = col.kind
    if kind == "integer":
        lo, hi = integer_bounds(col)
        x = rng.lognormal(mean=3.0, sigma=1.3, size=n)
        return (
            fit_numbers(clip_low(x, col, 0), col)
            if lo <= 0 <= hi
            else fit_numbers(lo + (hi - lo) * rng.random(n), col)
        )
    if kind in ("float", "decimal"):
        flo, fhi = number_bounds(col)
        x = rng.lognormal(mean=2.5, sigma=1.2, size=n)
        return fit_numbers(x if flo <= 0 <= fhi else flo + (fhi - flo) * rng.random(n), col)
    if kind == "boolean":
        return booleans(spec, rng, n)
    if kind == "date":
        return random_dates(spec, rng, n)
    if kind == "datetime":
        return random_timestamps(spec, rng, n)
    if kind == "time":
        return pa.array(rng.integers(0, 86400, n) * 1_000_000, type=pa.int64()).cast(pa.time64("us"))
    if kind == "uuid":
        return random_uuids(spec, rng, n)
    if kind == "json":
        return json_values(spec, rng, n)
    if kind == "binary":
        size = min(col.max_length or 16, 16)
        raw = rng.integers(0, 256, (n, size), dtype=np.uint8)
        return pa.array(np.ascontiguousarray(raw).view(f"V{size}").ravel().tolist(), type=pa.binary())
    return lorem_text(spec, rng, n)


_SEMANTIC: dict[str, ValueGenerator] = {
    **TEXT_GENERATORS,
    **NUMBER_GENERATORS,
    **TIME_GENERATORS,
    "type": _by_type,
}

KNOWN_MEANINGS = frozenset(_SEMANTIC) | {"choice"}
