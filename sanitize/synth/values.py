"""Column value generators: what a synthetic column holds, chosen by meaning, then by type.

The meaning ("semantic") of a column comes from its rule's `fake` kind if there is one, otherwise from
its name (`email`, `created_at`, `price`, `status`...), otherwise from its type. Every generator is
vectorised: it draws whole arrays from a `numpy.random.Generator` and builds text with pyarrow
compute, and every value fits the column (type bounds, CHECK ranges and IN lists, varchar length,
numeric precision and scale).

Two modes:
- `generate_values(spec, rng, n)`: `n` values drawn from the column's distribution;
- `unique_values(spec, idx, salt, total)`: values that are an injective function of the row index,
  for unique and referenced columns (a foreign key can recompute its parent's key from an index).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.schema import Column
from sanitize.synth.pools import CATEGORY_SETS, SAFE_EMAIL_DOMAINS, pick, pick_hashed, pool, zipf_weights

# Fixed window for dates and times when no profile says otherwise: never "now", so the same seed
# gives the same database on every day.
DATE_LO = dt.date(2020, 1, 1)
DATE_HI = dt.date(2025, 12, 31)
_EPOCH = dt.date(1970, 1, 1)
DAY_LO = (DATE_LO - _EPOCH).days
DAY_HI = (DATE_HI - _EPOCH).days

HEX = b"0123456789abcdef"
TEXT_KINDS = frozenset({"text", "other"})
NUMBER_KINDS = frozenset({"integer", "float", "decimal"})

# Which column kinds each meaning can fill; a meaning that does not fit falls back to the type.
_FITS: dict[str, frozenset[str]] = {
    "money": NUMBER_KINDS,
    "quantity": NUMBER_KINDS,
    "age": NUMBER_KINDS,
    "latitude": frozenset({"float", "decimal"}),
    "longitude": frozenset({"float", "decimal"}),
    "timestamp": frozenset({"datetime", "date"}),
    "date": frozenset({"date", "datetime"}),
    "date_of_birth": frozenset({"date", "datetime"}),
    "boolean": frozenset({"boolean"}),
    "uuid": frozenset({"uuid", "text", "other"}),
    "postcode": frozenset({"text", "other", "integer"}),
}

# Column-name patterns, first match wins. Matched against the lower-cased name.
NAME_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"e_?mail", "email"),
    (r"^(first|given|fore)_?name$|^fname$", "first_name"),
    (r"^(last|family|sur)_?name$|^lname$|^surname$", "last_name"),
    (r"^(full_?name|customer_name|contact_name|display_name|person_name|author_name|owner_name)$", "name"),
    (r"user_?name|^login$|^handle$|nickname", "username"),
    (r"phone|mobile|^fax|^tel(ephone)?$", "phone"),
    (r"(^|_)ssn$|social_security|national_id", "ssn"),
    (r"iban", "iban"),
    (r"credit_?card|card_?number|^ccn$|^pan$", "credit_card"),
    (r"ipv6", "ipv6"),
    (r"(^|_)ip(v4)?(_?addr(ess)?)?$", "ipv4"),
    (r"(^|_)(url|website|homepage|link)$", "url"),
    (r"uuid|guid", "uuid"),
    (r"birth|(^|_)dob$", "date_of_birth"),
    (r"street|address_?line|^addr(ess)?_?1$", "street"),
    (r"address", "address"),
    (r"(^|_)(city|town)$", "city"),
    (r"zip|post_?code|postal", "postcode"),
    (r"^(state|province|region)$", "state"),
    (r"country", "country"),
    (r"company|employer|organi[sz]ation|vendor|supplier|brand", "company"),
    (r"(^|_)(job|job_title|occupation)$", "job"),
    (r"currency", "currency"),
    (r"^lat(itude)?$", "latitude"),
    (r"^(lng|lon|long|longitude)$", "longitude"),
    (r"price|amount|total|cost|balance|salary|(^|_)fee|revenue|subtotal|(^|_)tax|discount", "money"),
    (r"(^|_)(qty|quantity|count|stock|units)$|^num_", "quantity"),
    (r"^age$", "age"),
    (
        r"(^|_)(status|state|type|kind|category|role|tier|method|channel|priority|gender|plan|source)$",
        "category",
    ),
    (r"_at$|_on$|timestamp|_time$|^(created|updated|modified|deleted)$", "timestamp"),
    (r"date|(^|_)day$", "date"),
    (r"^(is|has|can|should|was)_|(^|_)(active|enabled|verified|deleted|archived)$", "boolean"),
    (r"(^|_)(title|subject|headline)$", "title"),
    (r"desc|note|comment|body|(^|_)text$|message|(^|_)bio$|summary|content|details|remarks", "text"),
    (r"(^|_)(sku|code|slug|reference|ref)$", "code"),
    (r"colou?r", "color"),
)

_PERSON_TABLES = re.compile(
    r"user|customer|employee|person|people|contact|author|member|patient|student|client|staff|account"
)
_COMPANY_TABLES = re.compile(r"compan|vendor|supplier|organi[sz]ation|merchant|brand|partner")
_RARE_NULL = re.compile(r"(deleted|archived|cancelled|canceled|ended|closed|expired)(_at|_on|_date)?$")


def semantic_for(table: str, column: Column, fake_kind: str | None = None) -> str:
    """The meaning of a column: the rule's fake kind, else its name, else its type (`type`)."""
    kind = column.kind
    if column.check_values or column.enum_values:
        return "choice"
    if fake_kind:
        return _fit(fake_kind, kind)
    name = column.name.lower()
    if name == "name" or name.endswith("_name") and name not in ("first_name", "last_name"):
        base = table.rsplit(".", 1)[-1].lower()
        if name == "name" and _PERSON_TABLES.search(base):
            return _fit("name", kind)
        if name == "name" and _COMPANY_TABLES.search(base):
            return _fit("company", kind)
    for pattern, meaning in NAME_PATTERNS:
        if re.search(pattern, name):
            return _fit(meaning, kind)
    if name == "name" or name.endswith("_name"):
        return _fit("title", kind)
    return "type"


def _fit(meaning: str, kind: str) -> str:
    fits = _FITS.get(meaning, TEXT_KINDS)
    return meaning if kind in fits else "type"


def default_null_fraction(column: Column) -> float:
    """How often a nullable column is NULL when no profile says: rarely, except for end markers."""
    if not column.nullable:
        return 0.0
    if _RARE_NULL.search(column.name.lower()):
        return 0.85
    return 0.05


# --- bounds ---------------------------------------------------------------------------------------


def integer_bounds(column: Column) -> tuple[int, int]:
    """The inclusive range an integer column accepts: its SQL type's, narrowed by CHECK ranges."""
    type_name = type(column.sql_type).__name__.upper() if column.sql_type is not None else ""
    if "TINY" in type_name:
        lo, hi = -(2**7), 2**7 - 1
    elif "SMALL" in type_name:
        lo, hi = -(2**15), 2**15 - 1
    elif "BIG" in type_name:
        lo, hi = -(2**63), 2**63 - 1
    else:
        lo, hi = -(2**31), 2**31 - 1
    if column.precision and column.kind == "integer" and column.precision < 19:
        hi = min(hi, 10**column.precision - 1)
        lo = max(lo, -(10**column.precision - 1))
    if column.check_range is not None:
        clo, chi = column.check_range
        if clo is not None:
            lo = max(lo, math.ceil(clo))
        if chi is not None:
            hi = min(hi, math.floor(chi))
    return lo, hi


def number_bounds(column: Column) -> tuple[float, float]:
    """The inclusive range a float/decimal column accepts (precision and CHECK ranges)."""
    if column.kind == "integer":
        ilo, ihi = integer_bounds(column)
        return float(ilo), float(ihi)
    lo, hi = -1e15, 1e15
    if column.kind == "decimal":
        p, s = decimal_shape(column)
        top = 10.0 ** (p - s) - 10.0 ** (-s)
        lo, hi = -top, top
    if column.check_range is not None:
        clo, chi = column.check_range
        if clo is not None:
            lo = max(lo, float(clo))
        if chi is not None:
            hi = min(hi, float(chi))
    return lo, hi


def decimal_shape(column: Column) -> tuple[int, int]:
    """(precision, scale) of a decimal column; 18,2 when the schema does not say."""
    p = column.precision or 18
    s = column.scale if column.scale is not None else (2 if column.precision is None else 0)
    return min(p, 38), min(s, p)


def arrow_type(column: Column) -> pa.DataType:
    """The Arrow type synthetic values of a column are produced in."""
    kind = column.kind
    if kind == "integer":
        return pa.int64()
    if kind == "float":
        return pa.float64()
    if kind == "decimal":
        p, s = decimal_shape(column)
        return pa.decimal128(p, s)
    if kind == "boolean":
        return pa.bool_()
    if kind == "date":
        return pa.date32()
    if kind == "datetime":
        return pa.timestamp("us", tz="UTC" if column.timezone else None)
    if kind == "time":
        return pa.time64("us")
    if kind == "binary":
        return pa.binary()
    return pa.string()


# --- helpers --------------------------------------------------------------------------------------


def fit_text(arr: pa.Array, column: Column) -> pa.Array:
    """Cut text to the column's maximum length (code points)."""
    if column.max_length:
        lengths = pc.utf8_length(arr)
        if pc.any(pc.greater(lengths, column.max_length)).as_py():
            return pc.utf8_slice_codeunits(arr, 0, column.max_length)
    return arr


def digits_text(values: np.ndarray, width: int) -> pa.Array:
    """Zero-padded decimal text of non-negative ints, `width` digits."""
    return pc.utf8_lpad(pc.cast(pa.array(values.astype(np.int64)), pa.string()), width, "0")


def base36(values: np.ndarray, width: int) -> pa.Array:
    """Fixed-width lower-case base-36 text of non-negative ints."""
    return radix_text(values, width, b"0123456789abcdefghijklmnopqrstuvwxyz")


def base36_width(total: int) -> int:
    """Characters needed to write any int below `total` in base 36."""
    width = 1
    while 36**width < total:
        width += 1
    return width


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


def _words(rng: np.random.Generator, locale: str, counts: np.ndarray) -> pa.Array:
    """Lorem text: row i has counts[i] words from the locale's word list."""
    words = pool(locale, "word")
    total = int(counts.sum())
    flat = words.take(pa.array(rng.integers(0, len(words), total)))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), flat)
    return pc.binary_join(lists, " ")


def _capitalize_first(arr: pa.Array) -> pa.Array:
    return pc.utf8_capitalize(arr)


def _join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def _email_local(first: pa.Array, last: pa.Array) -> pa.Array:
    local = _join(first, last, sep=".")
    return pc.replace_substring_regex(pc.utf8_lower(local), r"[^a-z0-9.]", "")


# --- the spec of one column -------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueSpec:
    """How one column is filled: its meaning, locale, and (optionally) profile statistics."""

    table: str
    column: Column
    semantic: str
    locale: str = "en_US"
    categories: tuple[tuple[str, float], ...] = ()  # value text, probability (from a profile)
    quantiles: tuple[float, ...] = ()  # evenly spaced quantiles 0..1 (numbers: value; dates: days/seconds)
    length_quantiles: tuple[float, ...] = ()  # text length quantiles
    null_fraction: float = 0.0


def generate_values(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    """`n` non-NULL values for a column, fitted to its type and constraints."""
    col = spec.column
    if spec.categories:
        arr = _from_categories(spec, rng, n)
    elif spec.quantiles and col.kind in NUMBER_KINDS | {"date", "datetime", "time"}:
        arr = _from_quantiles(spec, rng, n)
    elif spec.semantic == "choice":
        values = col.check_values or col.enum_values or ()
        arr = _convert_text(pa.array(list(values), type=pa.string()), col).take(
            pa.array(rng.choice(len(values), n, p=zipf_weights(len(values), 0.6)))
        )
    else:
        fn = _SEMANTIC.get(spec.semantic)
        arr = fn(spec, rng, n) if fn is not None else _by_type(spec, rng, n)
    if col.kind in TEXT_KINDS or col.kind in ("uuid", "json"):
        arr = fit_text(arr.cast(pa.string()), col)
    return arr


def _convert_text(values: pa.Array, col: Column) -> pa.Array:
    """Category text (from a profile or a CHECK list) as the column's type."""
    kind = col.kind
    if kind == "integer":
        return pc.cast(pc.cast(values, pa.float64()), pa.int64())
    if kind in ("float", "decimal"):
        out = pc.cast(values, pa.float64())
        return _to_decimal(out.to_numpy(zero_copy_only=False), col) if kind == "decimal" else out
    if kind == "boolean":
        return pc.is_in(pc.utf8_lower(values), pa.array(["true", "1", "t", "yes", "y"]))
    if kind == "date":
        return pc.cast(pc.cast(values, pa.timestamp("us")), pa.date32())
    if kind == "datetime":
        return pc.cast(values, arrow_type(col))
    return values


def _from_categories(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    values = [v for v, _ in spec.categories]
    probs = np.array([p for _, p in spec.categories], dtype=float)
    probs = probs / probs.sum()
    return _convert_text(pa.array(values, type=pa.string()), spec.column).take(
        pa.array(rng.choice(len(values), n, p=probs))
    )


def _inverse_cdf(quantiles: tuple[float, ...], u: np.ndarray) -> np.ndarray:
    q = np.asarray(quantiles, dtype=float)
    levels = np.linspace(0.0, 1.0, len(q))
    return np.interp(u, levels, q)


def _from_quantiles(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    x = _inverse_cdf(spec.quantiles, rng.random(n))
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
    return _numbers(x, col)


def _numbers(x: np.ndarray, col: Column) -> pa.Array:
    """Floats as the column's numeric type, clipped to its bounds and rounded to its scale."""
    if col.kind == "integer":
        ilo, ihi = integer_bounds(col)
        return pa.array(np.clip(np.rint(x), ilo, ihi).astype(np.int64))
    lo, hi = number_bounds(col)
    x = np.clip(x, lo, hi)
    if col.kind == "decimal":
        return _to_decimal(x, col)
    return pa.array(x.astype(np.float64))


def _to_decimal(x: np.ndarray, col: Column) -> pa.Array:
    """Floats as decimal128(p, s), rounded to the scale, never outside the column's range."""
    p, s = decimal_shape(col)
    lo, hi = number_bounds(col)
    scale = 10.0**s
    units = np.rint(np.clip(x, lo, hi) * scale)
    # a rounded value must not leave the CHECK range
    units = np.clip(units, math.ceil(lo * scale - 1e-6), math.floor(hi * scale + 1e-6))
    units = np.clip(units, -(2.0**62), 2.0**62).astype(np.int64)
    return decimal_from_units(units, p, s)


def decimal_from_units(units: np.ndarray, precision: int, scale: int) -> pa.Array:
    """A decimal128(precision, scale) array whose unscaled integers are `units` (int64)."""
    words = np.empty((len(units), 2), dtype=np.int64)
    words[:, 0] = units
    words[:, 1] = np.where(units < 0, -1, 0)
    buf = pa.py_buffer(np.ascontiguousarray(words).tobytes())
    return pa.Array.from_buffers(pa.decimal128(precision, scale), len(units), [None, buf])


def radix_text(values: np.ndarray, width: int, alphabet: bytes) -> pa.Array:
    """Fixed-width text of non-negative ints in the base of `alphabet` (most significant first)."""
    table = np.frombuffer(alphabet, dtype=np.uint8)
    base = np.uint64(len(alphabet))
    v = values.astype(np.uint64).copy()
    mat = np.empty((len(v), max(width, 1)), dtype=np.uint8)
    for i in range(mat.shape[1] - 1, -1, -1):
        mat[:, i] = table[(v % base).astype(np.intp)]
        v //= base
    return pa.array(np.ascontiguousarray(mat).view(f"S{mat.shape[1]}").ravel()).cast(pa.string())


def truncate_each(arr: pa.Array, lengths: np.ndarray) -> pa.Array:
    """Row i cut to at most lengths[i] characters (exact for ASCII text, which lorem words are)."""
    if not pc.all(pc.string_is_ascii(arr)).as_py():
        return arr
    large = arr.cast(pa.large_string())
    n = len(large)
    bufs = large.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[large.offset : large.offset + n + 1]
    starts = offsets[:-1]
    ends = np.minimum(offsets[1:], starts + np.maximum(lengths, 0))
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    keep = np.repeat(starts, ends - starts) + (
        np.arange(int((ends - starts).sum()))
        - np.repeat(np.cumsum(ends - starts) - (ends - starts), ends - starts)
    )
    new_offsets = np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64)
    out = pa.LargeStringArray.from_buffers(n, pa.py_buffer(new_offsets), pa.py_buffer(data[keep].tobytes()))
    return pc.utf8_rtrim_whitespace(out).cast(pa.string())


# --- meanings ---------------------------------------------------------------------------------------


def _first_name(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return pick(rng, spec.locale, "first_name", n)


def _last_name(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return pick(rng, spec.locale, "last_name", n)


def _name(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return _join(_first_name(spec, rng, n), _last_name(spec, rng, n), sep=" ")


def _email(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    local = _email_local(_first_name(spec, rng, n), _last_name(spec, rng, n))
    number = rng.integers(0, 100, n)
    with_number = _join(local, digits_text(number, 2), sep="")
    local = pc.if_else(pa.array(rng.random(n) < 0.4), with_number, local)
    domains = pa.array(SAFE_EMAIL_DOMAINS).take(pa.array(rng.integers(0, len(SAFE_EMAIL_DOMAINS), n)))
    return _join(local, domains, sep="@")


def _username(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    first = pc.utf8_slice_codeunits(_first_name(spec, rng, n), 0, 1)
    base = pc.replace_substring_regex(pc.utf8_lower(_join(first, _last_name(spec, rng, n))), r"[^a-z0-9]", "")
    return _join(base, digits_text(rng.integers(0, 1000, n), 1), sep="")


def _phone(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    # 555-01xx numbers are reserved for fiction in North America
    area = digits_text(rng.integers(201, 990, n), 3)
    line = digits_text(rng.integers(100, 200, n), 4)
    return _join("(", area, ") 555-", line, sep="")


def _ssn(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    # area numbers 900-999 are never issued
    return _join(
        digits_text(rng.integers(900, 1000, n), 3),
        digits_text(rng.integers(1, 100, n), 2),
        digits_text(rng.integers(1, 10000, n), 4),
        sep="-",
    )


def _iban(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return _join(
        "GB",
        digits_text(rng.integers(10, 100, n), 2),
        "SYNT",
        digits_text(rng.integers(0, 10**6, n), 6),
        digits_text(rng.integers(0, 10**8, n), 8),
        sep="",
    )


def _credit_card(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    # test-card prefix 4000 00: never a real card
    return _join("400000", digits_text(rng.integers(0, 10**10, n), 10), sep="")


def _ipv4(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    parts = [digits_text(rng.integers(0, 256, n), 1) for _ in range(3)]
    return _join("10", *parts, sep=".")


def _ipv6(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    groups = [radix_text(rng.integers(0, 65536, n), 4, HEX) for _ in range(6)]
    return _join("2001:db8", *groups, sep=":")


def _url(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    counts = np.full(n, 1)
    host = _words(rng, spec.locale, counts)
    path = _words(rng, spec.locale, counts)
    return _join("https://www.", host, ".example.com/", path, sep="")


def _uuid(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    words = rng.integers(0, 2**63, (n, 2), dtype=np.int64).astype(np.uint64)
    return _uuid_text(words[:, 0], words[:, 1])


def _uuid_text(hi: np.ndarray, lo: np.ndarray) -> pa.Array:
    hi = (hi & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)
    lo = (lo & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    hs = radix_text(hi, 16, HEX)
    ls = radix_text(lo, 16, HEX)
    return _join(
        pc.utf8_slice_codeunits(hs, 0, 8),
        pc.utf8_slice_codeunits(hs, 8, 12),
        pc.utf8_slice_codeunits(hs, 12, 16),
        pc.utf8_slice_codeunits(ls, 0, 4),
        pc.utf8_slice_codeunits(ls, 4, 16),
        sep="-",
    )


def _street(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    number = pc.cast(pa.array(rng.integers(1, 9999, n)), pa.string())
    return _join(number, pick(rng, spec.locale, "street_name", n), sep=" ")


def _address(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return _join(
        _street(spec, rng, n),
        pick(rng, spec.locale, "city", n),
        _join(pick(rng, spec.locale, "state_abbr", n), _postcode_text(rng, n), sep=" "),
        sep=", ",
    )


def _postcode_text(rng: np.random.Generator, n: int) -> pa.Array:
    return digits_text(rng.integers(501, 99951, n), 5)


def _postcode(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    if spec.column.kind == "integer":
        return _numbers(rng.integers(501, 99951, n).astype(float), spec.column)
    return _postcode_text(rng, n)


def _pool_picker(name: str):  # type: ignore[no-untyped-def]
    def fn(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
        return pick(rng, spec.locale, name, n)

    return fn


def _category(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    values = CATEGORY_SETS[category_set(spec.table, spec.column.name)]
    return pa.array(values).take(pa.array(rng.choice(len(values), n, p=zipf_weights(len(values)))))


def category_set(table: str, column: str) -> str:
    """Which fixed set of categories a `status`/`type`/`method`... column draws from."""
    name = column.lower()
    base = table.rsplit(".", 1)[-1].lower()
    if name.endswith("status") and re.search(r"order|payment|shipment|invoice|transaction", base):
        return "order_status"
    for key in ("status", "role", "gender", "priority", "tier", "channel"):
        if name.endswith(key):
            return key
    if name.endswith("method") or "payment" in base:
        return "payment_method"
    return "type"


def _money(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    x = np.round(rng.lognormal(mean=3.6, sigma=1.0, size=n), 2)
    lo, hi = number_bounds(spec.column)
    x = np.clip(x, max(lo, 0.01 if spec.column.kind != "integer" else 1), hi)
    return _numbers(x, spec.column)


def _quantity(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    x = 1 + rng.geometric(0.45, n) - 1 + (rng.random(n) < 0.1) * rng.integers(1, 20, n)
    return _numbers(_clip_low(x.astype(float), spec.column, 1), spec.column)


def _clip_low(x: np.ndarray, col: Column, floor: float) -> np.ndarray:
    lo, hi = number_bounds(col)
    return np.clip(x, max(lo, min(floor, hi)), hi)


def _age(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return _numbers(_clip_low(np.clip(rng.normal(42, 15, n), 18, 95), spec.column, 0), spec.column)


def _latitude(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return _numbers(np.round(rng.uniform(-60, 70, n), 6), spec.column)


def _longitude(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return _numbers(np.round(rng.uniform(-170, 170, n), 6), spec.column)


def _days(
    spec: ValueSpec, rng: np.random.Generator, n: int, lo: int = DAY_LO, hi: int = DAY_HI
) -> np.ndarray:
    return rng.integers(lo, hi + 1, n)


def _timestamp(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    # more recent times are more frequent (a growing business)
    u = rng.random(n) ** 0.7
    seconds = (DAY_LO + u * (DAY_HI - DAY_LO + 1)) * 86400.0
    return _datetimes(seconds, spec.column)


def _datetimes(seconds: np.ndarray, col: Column) -> pa.Array:
    if col.kind == "date":
        return pa.array((seconds // 86400).astype(np.int32), type=pa.date32())
    micros = (np.floor(seconds) * 1_000_000).astype(np.int64)
    return pa.array(micros, type=pa.int64()).cast(arrow_type(col))


def _date(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return _datetimes(_days(spec, rng, n).astype(float) * 86400.0, spec.column)


def _date_of_birth(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    lo = (dt.date(1935, 1, 1) - _EPOCH).days
    hi = (dt.date(2006, 12, 31) - _EPOCH).days
    return _datetimes(rng.integers(lo, hi + 1, n).astype(float) * 86400.0, spec.column)


def _boolean(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    rare = _RARE_NULL.search(spec.column.name.lower()) is not None
    return pa.array(rng.random(n) < (0.05 if rare else 0.6))


def _text(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    col = spec.column
    if spec.length_quantiles:
        target = np.maximum(1, np.rint(_inverse_cdf(spec.length_quantiles, rng.random(n)))).astype(np.int64)
        counts = np.maximum(1, target // 5 + 1)
        return truncate_each(_capitalize_first(_words(rng, spec.locale, counts)), target)
    limit = col.max_length or 200
    counts = rng.integers(3, 14, n) if limit > 40 else np.ones(n, dtype=np.int64)
    return _capitalize_first(_words(rng, spec.locale, counts))


def _title(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    return pc.utf8_title(_words(rng, spec.locale, rng.integers(2, 4, n)))


def _code(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    prefix = re.sub(r"[^A-Z]", "", spec.column.name.upper())[:3] or "C"
    return _join(prefix, digits_text(rng.integers(0, 10**6, n), 6), sep="-")


def _json(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    source = pa.array(["web", "mobile", "api", "import"]).take(pa.array(rng.integers(0, 4, n)))
    score = pc.cast(pa.array(rng.integers(0, 100, n)), pa.string())
    return _join('{"source": "', source, '", "score": ', score, "}", sep="")


def _by_type(spec: ValueSpec, rng: np.random.Generator, n: int) -> pa.Array:
    col = spec.column
    kind = col.kind
    if kind == "integer":
        lo, hi = integer_bounds(col)
        x = rng.lognormal(mean=3.0, sigma=1.3, size=n)
        return (
            _numbers(_clip_low(x, col, 0), col)
            if lo <= 0 <= hi
            else _numbers(lo + (hi - lo) * rng.random(n), col)
        )
    if kind in ("float", "decimal"):
        flo, fhi = number_bounds(col)
        x = rng.lognormal(mean=2.5, sigma=1.2, size=n)
        return _numbers(x if flo <= 0 <= fhi else flo + (fhi - flo) * rng.random(n), col)
    if kind == "boolean":
        return _boolean(spec, rng, n)
    if kind == "date":
        return _date(spec, rng, n)
    if kind == "datetime":
        return _timestamp(spec, rng, n)
    if kind == "time":
        return pa.array(rng.integers(0, 86400, n) * 1_000_000, type=pa.int64()).cast(pa.time64("us"))
    if kind == "uuid":
        return _uuid(spec, rng, n)
    if kind == "json":
        return _json(spec, rng, n)
    if kind == "binary":
        size = min(col.max_length or 16, 16)
        raw = rng.integers(0, 256, (n, size), dtype=np.uint8)
        return pa.array(np.ascontiguousarray(raw).view(f"V{size}").ravel().tolist(), type=pa.binary())
    return _text(spec, rng, n)


_SEMANTIC = {
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
    "uuid": _uuid,
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
    "money": _money,
    "quantity": _quantity,
    "age": _age,
    "latitude": _latitude,
    "longitude": _longitude,
    "timestamp": _timestamp,
    "date": _date,
    "date_of_birth": _date_of_birth,
    "boolean": _boolean,
    "text": _text,
    "title": _title,
    "code": _code,
    "type": _by_type,
}

KNOWN_MEANINGS = frozenset(_SEMANTIC) | {"choice"}


# --- unique values: an injective function of the row index -------------------------------------------


def unique_capacity(spec: ValueSpec) -> int | None:
    """How many distinct values the column can hold in unique mode (None: more than any table)."""
    col = spec.column
    if spec.semantic == "choice":
        return len(col.check_values or col.enum_values or ())
    if col.kind == "integer":
        lo, hi = integer_bounds(col)
        return hi - lo + 1
    if col.kind == "boolean":
        return 2
    if col.kind == "decimal":
        _p, scale = decimal_shape(col)
        flo, fhi = number_bounds(col)
        return int((fhi - flo) * 10**scale) + 1
    if col.kind in TEXT_KINDS and col.max_length:
        return 36 ** min(col.max_length, 12)
    return None


def unique_values(
    spec: ValueSpec, idx: np.ndarray, salt: int, total: int, sequential: bool = False
) -> pa.Array:
    """Distinct values for distinct row indexes in [0, total): a pure function of (idx, salt).

    `sequential` gives 1, 2, 3... style integer keys (primary keys); otherwise the mapping is a
    salted permutation so unique values do not follow row order.
    """
    col = spec.column
    n = len(idx)
    perm = idx.astype(np.int64) if sequential else affine_permutation(idx, total, salt)
    if spec.semantic == "choice":
        values = _convert_text(
            pa.array(list(col.check_values or col.enum_values or ()), type=pa.string()), col
        )
        return values.take(pa.array(perm))
    kind = col.kind
    if kind == "integer":
        lo, _hi = integer_bounds(col)
        base = max(lo, 1) if lo <= 1 <= _hi else lo
        if _hi - base + 1 < total:
            base = lo
        return pa.array(perm + base, type=pa.int64())
    if kind == "boolean":
        return pa.array(perm.astype(bool))
    if kind in ("float", "decimal"):
        flo, fhi = number_bounds(col)
        step = 10.0 ** -decimal_shape(col)[1] if kind == "decimal" else 1.0
        start = max(flo, 0.0) if flo <= 0 <= fhi else flo
        return _numbers(start + perm * step, col)
    if kind == "date":
        return pa.array((DAY_LO + perm).astype(np.int32), type=pa.date32())
    if kind == "datetime":
        seconds = DAY_LO * 86400.0 + perm.astype(float) * 61.0
        return _datetimes(seconds, col)
    if kind == "time":
        return pa.array((perm % 86400) * 1_000_000, type=pa.int64()).cast(pa.time64("us"))
    if kind == "uuid" or spec.semantic == "uuid":
        hi = counter_bits(idx, salt)
        return _uuid_text(hi, (perm.astype(np.uint64) & np.uint64(0xFFFFFFFFFFFF)))
    if kind == "binary":
        raw = perm.astype(">u8").view(np.uint8).reshape(n, 8)
        return pa.array(np.ascontiguousarray(raw).view("V8").ravel().tolist(), type=pa.binary())
    width = base36_width(total)
    suffix = base36(perm, width)
    limit = col.max_length
    if limit is not None and limit < width:
        raise ValueError(f"{spec.table}.{col.name}: varchar({limit}) cannot hold {total} distinct values")
    # every part below is a function of the position alone, so a foreign key can recompute it
    if spec.semantic in ("email", "username"):
        first = _counter_pick(spec.locale, "first_name", idx, salt + 1)
        last = _counter_pick(spec.locale, "last_name", idx, salt + 2)
        if spec.semantic == "email":
            local = _email_local(first, last)
            room = (limit or 254) - width - len("@example.com") - 1
            if room >= 1:
                local = pc.utf8_slice_codeunits(local, 0, room)
                return _join(_join(local, suffix, sep="."), "example.com", sep="@")
        base = pc.replace_substring_regex(
            pc.utf8_lower(_join(pc.utf8_slice_codeunits(first, 0, 1), last)), r"[^a-z0-9]", ""
        )
    elif spec.semantic == "code":
        prefix = re.sub(r"[^A-Z]", "", col.name.upper())[:3] or "C"
        base = pa.array([prefix] * n, type=pa.string())
    else:
        base = _counter_pick(spec.locale, _UNIQUE_POOLS.get(spec.semantic, "word"), idx, salt + 3)
    room = (limit or 255) - width - 1
    if room < 1:
        return suffix
    return _join(pc.utf8_slice_codeunits(base, 0, room), suffix, sep="-")


_UNIQUE_POOLS = {
    "name": "last_name",
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "city": "city",
    "country": "country",
    "job": "job",
    "title": "word",
}


def counter_bits(idx: np.ndarray, salt: int) -> np.ndarray:
    """64 random-looking bits that are a pure function of (position, salt): addressable randomness."""
    from sanitize.keys import mix

    h = mix(idx.astype(np.uint64), salt & 0xFFFFFFFF)
    return mix(h ^ np.uint64(salt & (2**63 - 1)), 17)


def counter_uniform(idx: np.ndarray, salt: int) -> np.ndarray:
    """Uniform [0, 1) floats that are a pure function of (position, salt)."""
    return (counter_bits(idx, salt) >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)


def _counter_pick(locale: str, name: str, idx: np.ndarray, salt: int) -> pa.Array:
    return pick_hashed(locale, name, counter_bits(idx, salt))
