"""Generators for date and time meanings: timestamps, dates, dates of birth.

Dates fall in a fixed window when no profile says otherwise: never "now", so the same seed gives
the same database on every day.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from sanitize.schema import Column
from sanitize.synth.fit import arrow_type
from sanitize.synth.meaning import ValueGenerator, ValueSpec

DATE_LO = dt.date(2020, 1, 1)
DATE_HI = dt.date(2025, 12, 31)
_EPOCH = dt.date(1970, 1, 1)
DAY_LO = (DATE_LO - _EPOCH).days
DAY_HI = (DATE_HI - _EPOCH).days


def _days(
    spec: ValueSpec, rng: np.random.Generator, n: int, lo: int = DAY_LO, hi: int = DAY_HI
) -> np.ndarray:
    return rng.integers(lo, hi + 1, n)


def random_timestamps(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    """Datetimes (or dates) in the fixed window, recent times more frequent."""
    # more recent times are more frequent (a growing business)
    u = rng.random(n) ** 0.7
    seconds = (DAY_LO + u * (DAY_HI - DAY_LO + 1)) * 86400.0
    return datetimes_from_seconds(seconds, spec.column)


def datetimes_from_seconds(seconds: np.ndarray, col: Column) -> pa.Array:
    """Seconds since the epoch as the column's date or datetime type (whole seconds)."""
    if col.kind == "date":
        return pa.array((seconds // 86400).astype(np.int32), type=pa.date32())
    micros = (np.floor(seconds) * 1_000_000).astype(np.int64)
    return pa.array(micros, type=pa.int64()).cast(arrow_type(col))


def random_dates(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    """Dates (or midnight datetimes) uniform in the fixed window."""
    return datetimes_from_seconds(_days(spec, rng, n).astype(float) * 86400.0, spec.column)


def _date_of_birth(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    lo = (dt.date(1935, 1, 1) - _EPOCH).days
    hi = (dt.date(2006, 12, 31) - _EPOCH).days
    return datetimes_from_seconds(rng.integers(lo, hi + 1, n).astype(float) * 86400.0, spec.column)


TIME_GENERATORS: dict[str, ValueGenerator] = {
    "timestamp": random_timestamps,
    "date": random_dates,
    "date_of_birth": _date_of_birth,
}
