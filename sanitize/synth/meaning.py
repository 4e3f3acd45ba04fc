"""What a synthetic column means: chosen by its rule's fake kind, else its name, else its type.

The meaning ("semantic") of a column picks its generator: `email`, `created_at`, `price`, `status`...
A meaning that does not fit the column's kind (a `price` stored as text) falls back to `type`.
`ValueSpec` carries the meaning with the locale and any profile statistics: everything a generator
needs to fill the column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sanitize.schema import Column
from sanitize.synth.pattern import Pattern

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
    # credentials: random strings (dictionary words there collided with ordinary values elsewhere)
    (
        r"(^|_)(token|secret|api_?key|password|passwd|pass_?crypt|encrypted_password|password_digest|"
        r"salt|digest|fingerprint|otp_secret)(_|$)",
        "secret",
    ),
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


RARE_NULL = re.compile(r"(deleted|archived|cancelled|canceled|ended|closed|expired)(_at|_on|_date)?$")


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
        if meaning == "secret" and kind not in TEXT_KINDS:
            continue  # password_changed_at is a timestamp, token_count a number
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
    if RARE_NULL.search(column.name.lower()):
        return 0.85
    return 0.05


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
    pattern: Pattern | None = None  # a CHECK's regular expression every value matches
    item: ValueSpec | None = None  # an array column: how its items are made


ValueGenerator = Callable[[ValueSpec, np.random.Generator, int], pa.Array]
"""A generator for one meaning: `(spec, rng, n)` -> `n` non-NULL values (the caller fits text length)."""


def item_spec(table: str, col: Column, locale: str) -> ValueSpec | None:
    """How the items of an array column are made (None when the column is not an array)."""
    item_type = getattr(col.sql_type, "item_type", None)
    if item_type is None:
        return None
    from sanitize.db.types import kind_of

    enums = tuple(getattr(item_type, "enums", ()) or ()) or None
    item = Column(
        col.name,
        kind_of(item_type),
        nullable=False,
        max_length=getattr(item_type, "length", None) or 40,  # items are words, not prose
        sql_type=item_type,
        enum_values=enums,
    )
    return ValueSpec(table=table, column=item, semantic=semantic_for(table, item), locale=locale)
