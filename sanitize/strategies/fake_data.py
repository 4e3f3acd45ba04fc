"""Pools of fake parts built once per locale from Faker's locale data, indexed by keyed hashes.

Names come straight from Faker's person providers (with their weights); kinds whose locale data is a
grammar (addresses, companies, sentences) get a pool generated once by a private Faker instance seeded
with a constant — the pool is public, the choice from it is keyed. Everything is cached per process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from sanitize.errors import RulesError
from sanitize.strategies.vector import uniform_index

FALLBACK_LOCALE = "en_US"
WEIGHT_TABLE_BITS = 16  # weighted pools pick through a 65,536-entry table


@dataclass(frozen=True)
class Pool:
    """Strings to pick from, optionally weighted."""

    values: pa.LargeStringArray
    table: np.ndarray | None = None  # weighted: index table of 2**WEIGHT_TABLE_BITS entries

    def __len__(self) -> int:
        return len(self.values)

    def indices(self, h: np.ndarray) -> np.ndarray:
        if self.table is not None:
            return self.table[(h >> np.uint64(64 - WEIGHT_TABLE_BITS)).astype(np.intp)]
        return uniform_index(h, len(self.values))

    def pick(self, h: np.ndarray) -> pa.Array:
        """One value per hash."""
        return self.values.take(pa.array(self.indices(h)))


def make_pool(data: Sequence[str] | Mapping[str, float]) -> Pool:
    """A pool from a Faker tuple (uniform) or OrderedDict of weights."""
    if isinstance(data, Mapping):
        keys = [str(k) for k in data]
        weights = np.asarray([float(w) for w in data.values()], dtype=np.float64)
        if len(keys) == 0 or weights.sum() <= 0:
            return make_pool(keys)
        cum = np.cumsum(weights / weights.sum())
        grid = (np.arange(1 << WEIGHT_TABLE_BITS) + 0.5) / (1 << WEIGHT_TABLE_BITS)
        table = np.minimum(np.searchsorted(cum, grid), len(keys) - 1).astype(np.intp)
        return Pool(pa.array(keys, type=pa.large_string()), table)
    seen = list(dict.fromkeys(str(v) for v in data))
    return Pool(pa.array(seen, type=pa.large_string()))


@lru_cache(maxsize=32)
def faker_for(locale: str) -> Any:
    """A private Faker for a locale (never the global one); refuses unknown locales clearly."""
    from faker import Faker

    try:
        fk = Faker(locale)
    except (AttributeError, ValueError) as exc:
        raise RulesError(
            f"locale {locale!r} is not a Faker locale ({exc}); use one like en_US, de_DE, fr_FR"
        ) from None
    fk.seed_instance(0)
    return fk


def _provider(locale: str, family: str) -> Any:
    gen = faker_for(locale).factories[0]
    for p in gen.providers:
        if type(p).__module__.startswith(f"faker.providers.{family}"):
            return p
    return None


def _attr(locale: str, family: str, *names: str) -> Any:
    """The first of `names` the locale's provider has (falling back to en_US data)."""
    for loc in (locale, FALLBACK_LOCALE):
        p = _provider(loc, family)
        if p is None:
            continue
        for name in names:
            v = getattr(p, name, None)
            if v:
                return v
    raise RulesError(f"Faker has no {family} data ({', '.join(names)}) for locale {locale!r}")


def _merge(*parts: Sequence[str] | Mapping[str, float]) -> Sequence[str] | Mapping[str, float]:
    if all(isinstance(p, Mapping) for p in parts):
        merged: dict[str, float] = {}
        for p in parts:
            assert isinstance(p, Mapping)
            for k, w in p.items():
                merged[k] = merged.get(k, 0.0) + float(w)
        return merged
    out: list[str] = []
    for p in parts:
        out.extend(p)
    return out


@lru_cache(maxsize=64)
def first_names(locale: str) -> Pool:
    p = _provider(locale, "person")
    data = getattr(p, "first_names", None) if p is not None else None
    if not data:
        data = _merge(
            _attr(locale, "person", "first_names_female"), _attr(locale, "person", "first_names_male")
        )
    return make_pool(data)


@lru_cache(maxsize=64)
def last_names(locale: str) -> Pool:
    return make_pool(_attr(locale, "person", "last_names"))


@lru_cache(maxsize=64)
def name_order(locale: str) -> tuple[bool, str]:
    """(last name first?, separator) from the locale's most common name format."""
    formats = _attr(locale, "person", "formats")
    fmt = max(formats, key=lambda f: formats[f]) if isinstance(formats, Mapping) else formats[0]
    m = re.search(r"\{\{(first|last)_name[a-z_]*\}\}(.*?)\{\{(first|last)_name", fmt)
    if m is None:
        return False, " "
    return m.group(1) == "last", m.group(2)


def _ascii_word(s: str) -> str:
    from faker.decode import unidecode

    return re.sub(r"[^a-z0-9]", "", unidecode(s).lower())


def _ascii_pool(pool: Pool, fallback: Pool | None) -> Pool:
    words = [_ascii_word(v) for v in pool.values.to_pylist()]
    keep = [w for w in dict.fromkeys(words) if w]
    if len(keep) < 20 and fallback is not None:
        return fallback
    return Pool(pa.array(keep, type=pa.large_string()))


@lru_cache(maxsize=64)
def ascii_first_names(locale: str) -> Pool:
    """Lower-case ASCII first names for emails, usernames and URLs."""
    fallback = None if locale == FALLBACK_LOCALE else ascii_first_names(FALLBACK_LOCALE)
    return _ascii_pool(first_names(locale), fallback)


@lru_cache(maxsize=64)
def ascii_last_names(locale: str) -> Pool:
    fallback = None if locale == FALLBACK_LOCALE else ascii_last_names(FALLBACK_LOCALE)
    return _ascii_pool(last_names(locale), fallback)


@lru_cache(maxsize=64)
def ascii_words(locale: str) -> Pool:
    """Lower-case ASCII lorem words."""
    words = make_pool(_attr(locale, "lorem", "word_list"))
    fallback = None if locale == FALLBACK_LOCALE else ascii_words(FALLBACK_LOCALE)
    return _ascii_pool(words, fallback)


# kind -> (Faker method, pool size); generated once per locale with a constant seed
GENERATED = {
    "address": ("address", 1024),
    "street": ("street_address", 1024),
    "city": ("city", 1024),
    "postcode": ("postcode", 256),
    "company": ("company", 1024),
    "text": ("sentence", 2048),
    "phone": ("phone_number", 256),
}


@lru_cache(maxsize=128)
def generated(locale: str, kind: str) -> Pool:
    """A pool of Faker outputs for a grammar-based kind."""
    from faker import Faker

    method, size = GENERATED[kind]
    faker_for(locale)  # refuses an unknown locale clearly
    fk = Faker(locale)
    fk.seed_instance(0x5A417E)
    fn = getattr(fk, method)
    # one line, as a column holds it (Faker's address is a postal label: street, newline, city)
    return make_pool([str(fn()).replace("\n", ", ") for _ in range(size)])


@lru_cache(maxsize=64)
def bank(locale: str) -> tuple[str, str]:
    """(country code, BBAN format with # for a digit and ? for a letter) for IBANs."""
    p = _provider(locale, "bank")
    if p is None or not getattr(p, "bban_format", None):
        p = _provider(FALLBACK_LOCALE, "bank")
    return str(p.country_code), str(p.bban_format)


@lru_cache(maxsize=1)
def country_calling_codes() -> frozenset[int]:
    """ITU country calling codes (a prefix-free set), from phonenumbers' metadata."""
    import phonenumbers

    return frozenset(int(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
