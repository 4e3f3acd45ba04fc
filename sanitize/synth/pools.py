"""Value pools for synthetic data: Faker's locale data as pyarrow string arrays, indexed by random ints.

A pool is built once per (locale, name) by calling a Faker instance seeded with a constant (instance
seeding, never `Faker.seed()`), so its content depends only on the locale and the Faker version.
Generators then pick values with `pool.take(random_ints)`, which is vectorised and fast.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

log = logging.getLogger("sanitize")

POOL_SIZE = 1500
_POOL_SEED = 20261126

# pool name -> (Faker method, size). Words and names come from the provider data directly.
_FAKER_POOLS: dict[str, tuple[str, int]] = {
    "city": ("city", POOL_SIZE),
    "street_name": ("street_name", POOL_SIZE),
    "state": ("state", 200),
    "state_abbr": ("state_abbr", 200),
    "country": ("country", 600),
    "company": ("company", POOL_SIZE),
    "job": ("job", POOL_SIZE),
    "color": ("color_name", 400),
    "currency": ("currency_code", 400),
}

# Small fixed category sets, most frequent first, for columns whose name says "one of a few".
CATEGORY_SETS: dict[str, tuple[str, ...]] = {
    "order_status": ("delivered", "shipped", "paid", "pending", "cancelled", "refunded"),
    "status": ("active", "pending", "inactive", "suspended", "closed"),
    "payment_method": ("card", "paypal", "bank_transfer", "apple_pay", "cash"),
    "role": ("user", "editor", "admin", "viewer", "owner"),
    "gender": ("female", "male", "other", "unknown"),
    "priority": ("normal", "low", "high", "urgent"),
    "tier": ("free", "basic", "pro", "enterprise"),
    "channel": ("web", "mobile", "email", "phone", "store"),
    "type": ("standard", "premium", "basic", "trial", "internal"),
}

SAFE_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


def _faker(locale: str) -> Any:
    from faker import Faker

    try:
        fake = Faker(locale)
    except AttributeError:  # unknown locale: fall back rather than fail a whole run
        log.warning("Faker has no locale %r; using en_US for synthetic values", locale)
        fake = Faker("en_US")
    fake.seed_instance(_POOL_SEED)
    return fake


def _unique_list(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _person_names(fake: Any, attr: str, method: str) -> list[str]:
    for provider in fake.providers:
        data = getattr(provider, attr, None)
        if data:
            return _unique_list([str(v) for v in data])
    call: Callable[[], str] = getattr(fake, method)
    return _unique_list([call() for _ in range(POOL_SIZE)])


def shared_pool(locale: str, name: str) -> Any | None:
    """The anonymiser's vectorised pool for `name` (weighted names, ASCII words), when it has one."""
    try:
        from sanitize.strategies import fake_data
    except ImportError:  # pragma: no cover - the fake strategy ships with sanitize
        return None
    builders: dict[str, Callable[[str], Any]] = {
        "first_name": fake_data.first_names,
        "last_name": fake_data.last_names,
        "word": fake_data.ascii_words,
    }
    try:
        if name in builders:
            return builders[name](locale)
        if name in ("city", "company"):
            return fake_data.generated(locale, name)
    except Exception as exc:  # an unknown locale: fall back to our own pools
        log.debug("no shared pool %s for %s: %s", name, locale, exc)
    return None


def pool(locale: str, name: str) -> pa.Array:
    """The pool `name` for `locale` as a pyarrow string array (built once, then cached)."""
    shared = shared_pool(locale, name)
    if shared is not None:
        return _as_string(shared.values)
    return _own_pool(locale, name)


_AS_STRING: dict[int, tuple[Any, pa.Array]] = {}


def _as_string(values: pa.Array) -> pa.Array:
    """The pool as `string` (cast once per pool object; the shared pools are cached, so ids are stable)."""
    hit = _AS_STRING.get(id(values))
    if hit is None or hit[0] is not values:
        hit = (values, values.cast(pa.string()))
        _AS_STRING[id(values)] = hit
    return hit[1]


@lru_cache(maxsize=64)
def _own_pool(locale: str, name: str) -> pa.Array:
    fake = _faker(locale)
    values: list[str]
    if name == "first_name":
        values = _person_names(fake, "first_names", "first_name")
    elif name == "last_name":
        values = _person_names(fake, "last_names", "last_name")
    elif name == "word":
        values = _unique_list([str(w) for w in fake.get_words_list()])
    elif name in _FAKER_POOLS:
        method, size = _FAKER_POOLS[name]
        call: Callable[[], str] = getattr(fake, method)
        values = _unique_list([str(call()) for _ in range(size)])
    elif name in CATEGORY_SETS:
        values = list(CATEGORY_SETS[name])
    else:
        raise KeyError(f"no synthetic value pool named {name!r}")
    if not values:
        values = ["x"]
    return pa.array(values, type=pa.string())


def pick(rng: np.random.Generator, locale: str, name: str, n: int) -> pa.Array:
    """`n` values drawn from a pool (by the pool's weights when it has them, e.g. name frequencies)."""
    return pick_hashed(locale, name, rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True))


def pick_hashed(locale: str, name: str, h: np.ndarray) -> pa.Array:
    """One pool value per uint64 in `h` (the value is a function of the number alone)."""
    shared = shared_pool(locale, name)
    if shared is not None:
        return _as_string(shared.values).take(pa.array(shared.indices(h)))
    p = _own_pool(locale, name)
    idx = ((h >> np.uint64(11)).astype(np.float64) * (len(p) / 2**53)).astype(np.int64)
    return p.take(pa.array(np.minimum(idx, len(p) - 1)))


def zipf_weights(k: int, s: float = 1.1) -> np.ndarray:
    """Probabilities for k categories, most frequent first (realistic skew, not uniform)."""
    w = 1.0 / np.arange(1, k + 1, dtype=float) ** s
    return np.asarray(w / w.sum())
