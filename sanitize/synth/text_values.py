"""Generators for text meanings: people, contact details, identifiers, places, categories, prose.

Every value is safe by construction: reserved phone ranges, test card prefixes, documentation IP
ranges, `example.com` mail domains. Each generator draws whole arrays from the given Generator.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.synth.arrowtext import HEX, digits_text, join_text, lorem_words, radix_text, truncate_each
from sanitize.synth.fit import fit_numbers
from sanitize.synth.meaning import ValueGenerator, ValueSpec, category_set
from sanitize.synth.number_values import inverse_cdf
from sanitize.synth.pools import CATEGORY_SETS, SAFE_EMAIL_DOMAINS, pick, zipf_weights


def _first_name(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return pick(rng, spec.locale, "first_name", n)


def _last_name(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return pick(rng, spec.locale, "last_name", n)


def _name(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return join_text(_first_name(spec, rng, n), _last_name(spec, rng, n), sep=" ")


def email_local(first: pa.Array, last: pa.Array) -> pa.Array:
    """The part before `@` from first and last names: `first.last`, lower-case ASCII letters and digits."""
    local = join_text(first, last, sep=".")
    return pc.replace_substring_regex(pc.utf8_lower(local), r"[^a-z0-9.]", "")


def _email(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    local = email_local(_first_name(spec, rng, n), _last_name(spec, rng, n))
    number = rng.integers(0, 100, n)
    with_number = join_text(local, digits_text(number, 2), sep="")
    local = pc.if_else(pa.array(rng.random(n) < 0.4), with_number, local)
    domains = pa.array(SAFE_EMAIL_DOMAINS).take(pa.array(rng.integers(0, len(SAFE_EMAIL_DOMAINS), n)))
    return join_text(local, domains, sep="@")


def _username(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    first = pc.utf8_slice_codeunits(_first_name(spec, rng, n), 0, 1)
    base = pc.replace_substring_regex(
        pc.utf8_lower(join_text(first, _last_name(spec, rng, n))), r"[^a-z0-9]", ""
    )
    return join_text(base, digits_text(rng.integers(0, 1000, n), 1), sep="")


def _phone(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    # 555-01xx numbers are reserved for fiction in North America
    area = digits_text(rng.integers(201, 990, n), 3)
    line = digits_text(rng.integers(100, 200, n), 4)
    return join_text("(", area, ") 555-", line, sep="")


def _ssn(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    # area numbers 900-999 are never issued
    return join_text(
        digits_text(rng.integers(900, 1000, n), 3),
        digits_text(rng.integers(1, 100, n), 2),
        digits_text(rng.integers(1, 10000, n), 4),
        sep="-",
    )


def _iban(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return join_text(
        "GB",
        digits_text(rng.integers(10, 100, n), 2),
        "SYNT",
        digits_text(rng.integers(0, 10**6, n), 6),
        digits_text(rng.integers(0, 10**8, n), 8),
        sep="",
    )


def _credit_card(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    # test-card prefix 4000 00: never a real card
    return join_text("400000", digits_text(rng.integers(0, 10**10, n), 10), sep="")


def _ipv4(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    parts = [digits_text(rng.integers(0, 256, n), 1) for _ in range(3)]
    return join_text("10", *parts, sep=".")


def _ipv6(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    groups = [radix_text(rng.integers(0, 65536, n), 4, HEX) for _ in range(6)]
    return join_text("2001:db8", *groups, sep=":")


def _url(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    counts = np.full(n, 1)
    host = lorem_words(rng, spec.locale, counts)
    path = lorem_words(rng, spec.locale, counts)
    return join_text("https://www.", host, ".example.com/", path, sep="")


def random_uuids(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    """Random version-4 UUIDs as text."""
    words = rng.integers(0, 2**63, (n, 2), dtype=np.int64).astype(np.uint64)
    return uuid_text(words[:, 0], words[:, 1])


def uuid_text(hi: np.ndarray, lo: np.ndarray) -> pa.Array:
    """Version-4 UUID text whose random bits are `hi` and `lo` (the version and variant bits are set)."""
    hi = (hi & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)
    lo = (lo & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    hs = radix_text(hi, 16, HEX)
    ls = radix_text(lo, 16, HEX)
    return join_text(
        pc.utf8_slice_codeunits(hs, 0, 8),
        pc.utf8_slice_codeunits(hs, 8, 12),
        pc.utf8_slice_codeunits(hs, 12, 16),
        pc.utf8_slice_codeunits(ls, 0, 4),
        pc.utf8_slice_codeunits(ls, 4, 16),
        sep="-",
    )


def _street(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    number = pc.cast(pa.array(rng.integers(1, 9999, n)), pa.string())
    return join_text(number, pick(rng, spec.locale, "street_name", n), sep=" ")


def _address(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return join_text(
        _street(spec, rng, n),
        pick(rng, spec.locale, "city", n),
        join_text(pick(rng, spec.locale, "state_abbr", n), _postcode_text(rng, n), sep=" "),
        sep=", ",
    )


def _postcode_text(rng: np.random.Generator, n: int) -> pa.Array:
    return digits_text(rng.integers(501, 99951, n), 5)


def _postcode(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    if spec.column.kind == "integer":
        return fit_numbers(rng.integers(501, 99951, n).astype(float), spec.column)
    return _postcode_text(rng, n)


def _pool_picker(name: str) -> ValueGenerator:
    def fn(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
        return pick(rng, spec.locale, name, n)

    return fn


def _category(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    values = CATEGORY_SETS[category_set(spec.table, spec.column.name)]
    return pa.array(values).take(pa.array(rng.choice(len(values), n, p=zipf_weights(len(values)))))


def lorem_text(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    """Prose: lorem words, lengths from the profile's length quantiles when it has them."""
    col = spec.column
    if spec.length_quantiles:
        target = np.maximum(1, np.rint(inverse_cdf(spec.length_quantiles, rng.random(n)))).astype(np.int64)
        counts = np.maximum(1, target // 5 + 1)
        return truncate_each(pc.utf8_capitalize(lorem_words(rng, spec.locale, counts)), target)
    limit = col.max_length or 200
    counts = rng.integers(3, 14, n) if limit > 40 else np.ones(n, dtype=np.int64)
    return pc.utf8_capitalize(lorem_words(rng, spec.locale, counts))


def _title(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return pc.utf8_title(lorem_words(rng, spec.locale, rng.integers(2, 4, n)))


def _code(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    prefix = re.sub(r"[^A-Z]", "", spec.column.name.upper())[:3] or "C"
    return join_text(prefix, digits_text(rng.integers(0, 10**6, n), 6), sep="-")


_SECRET_ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)


def _secret(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    """Random-looking credentials (tokens, keys, hashes): 32 letters and digits, or as many as fit."""
    width = max(1, min(spec.column.max_length or 32, 32))
    chars = _SECRET_ALPHABET[rng.integers(0, len(_SECRET_ALPHABET), (n, width))]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


def json_values(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    """Small JSON objects as text (`{"source": ..., "score": ...}`)."""
    source = pa.array(["web", "mobile", "api", "import"]).take(pa.array(rng.integers(0, 4, n)))
    score = pc.cast(pa.array(rng.integers(0, 100, n)), pa.string())
    return join_text('{"source": "', source, '", "score": ', score, "}", sep="")


TEXT_GENERATORS: dict[str, ValueGenerator] = {
    "first_name": _first_name,
    "last_name": _last_name,
    "name": _name,
    "email": _email,
    "username": _username,
    "phone": _phone,
    "ssn": _ssn,
    "iban": _iban,
    "credit_card": _credit_card,
    "ipv4": _ipv4,
    "ipv6": _ipv6,
    "url": _url,
    "uuid": random_uuids,
    "street": _street,
    "address": _address,
    "city": _pool_picker("city"),
    "postcode": _postcode,
    "state": _pool_picker("state_abbr"),
    "country": _pool_picker("country"),
    "company": _pool_picker("company"),
    "job": _pool_picker("job"),
    "currency": _pool_picker("currency"),
    "color": _pool_picker("color"),
    "category": _category,
    "text": lorem_text,
    "title": _title,
    "code": _code,
    "secret": _secret,
}
