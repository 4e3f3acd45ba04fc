"""The `fake` strategy: realistic values that look like the originals, keyed by the original.

Built-in kinds are vectorised: parts come from pools built once per locale from Faker's locale data
(fake_data.py) and are picked with keyed hashes of the input, so a value always gets the same fake in
one domain. Any other Faker provider name runs on a slower path: a private Faker seeded per distinct
value from the keyed hash.

Unique (`unique: true`): distinct inputs give distinct outputs because every output carries at least
88 keyed bits. uuid and ipv6 carry them natively; email, username and url carry an 18-character base32
token (90 bits) in the local part / path; names, addresses, companies, cities, text and other providers
get " <token>" appended. phone, iban, credit_card and ssn keep the input's own format with its digits
encrypted by FF1 (strategies/fpe.py: a bijection, so distinct stays distinct, with valid check digits).
Kinds with too few digits to carry 88 bits and no format to encrypt (postcode, ipv4, date_of_birth) are
refused with unique: true.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from sanitize.arrow import string_bytes
from sanitize.keys import canonical_bytes, canonical_text, hash64, hash128, mix
from sanitize.strategies import fake_data as fd
from sanitize.strategies import fake_numbers as fn
from sanitize.strategies.registry import ColumnContext, Params, StrategySpec, register
from sanitize.strategies.vector import (
    TOKEN_CHARS,
    from_bytes,
    is_text_kind,
    locate,
    refuse,
    replace_digit_bytes,
    text_array,
    text_series,
    token,
    uuid_text,
)

log = logging.getLogger("sanitize")

_EMPTY = pa.scalar("", pa.large_string())
CHUNK_ROWS = 1 << 16
EMAIL_DOMAINS = fd.make_pool(["example.com", "example.org", "example.net"])  # reserved (RFC 2606)
_SEPARATORS = fd.make_pool([".", "", "_", "."])
_NUMBERS = fd.make_pool([""] * 100 + [str(i) for i in range(1, 100)])


@dataclass(frozen=True)
class Job:
    """What a kind builder gets: the input, its keyed hash, and the context."""

    values: pd.Series
    text: np.ndarray  # canonical text of the values (object ndarray of str or UTF-8 bytes)
    h: np.ndarray  # keyed uint64 hash per value
    ctx: ColumnContext

    @property
    def locale(self) -> str:
        return self.ctx.locale or fd.FALLBACK_LOCALE

    def part(self, salt: int) -> np.ndarray:
        """An independent keyed hash stream for one part of the output."""
        return mix(self.h, salt)

    def token(self) -> pa.LargeStringArray:
        """The uniqueness token of each value (computed once per job: two keyed hashes)."""
        return self._token

    @cached_property
    def _token(self) -> pa.LargeStringArray:
        return token(hash128(self.text, self.ctx.key, self.ctx.domain, "fake:unique"))


def _join(*parts: pa.Array | pa.Scalar | str) -> pa.Array:
    args = [pa.scalar(p, pa.large_string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, _EMPTY)


def _cut(arr: pa.Array, max_length: int | None) -> pa.Array:
    if not max_length or len(arr) == 0:
        return arr
    longest = pc.max(pc.binary_length(arr)).as_py() or 0  # bytes >= characters: cheap upper bound
    return pc.utf8_slice_codeunits(arr, 0, max_length) if longest > max_length else arr


def _with_token(job: Job, base: pa.Array, sep: str = " ") -> pa.Array:
    """`base + sep + token`, cutting the base (never the token) to fit the column."""
    tok = job.token()
    ml = job.ctx.max_length
    if ml is not None:
        if ml < TOKEN_CHARS:
            raise refuse(
                job.ctx,
                "fake",
                f"unique: true needs {TOKEN_CHARS} characters for its token but the column holds {ml}",
                "widen the column or use hash",
            )
        room = ml - TOKEN_CHARS - len(sep)
        if room <= 0:
            return tok
        base = pc.utf8_slice_codeunits(base, 0, room)
    return _join(base, sep, tok)


# --- people -------------------------------------------------------------------------------------


def _first_name(job: Job) -> pa.Array:
    return fd.first_names(job.locale).pick(job.part(1))


def _last_name(job: Job) -> pa.Array:
    return fd.last_names(job.locale).pick(job.part(2))


def _name(job: Job) -> pa.Array:
    last_first, sep = fd.name_order(job.locale)
    first, last = _first_name(job), _last_name(job)
    return _join(last, sep, first) if last_first else _join(first, sep, last)


def _local_part(job: Job) -> pa.Array:
    first = fd.ascii_first_names(job.locale).pick(job.part(1))
    last = fd.ascii_last_names(job.locale).pick(job.part(2))
    if job.ctx.unique:
        return _join(first, ".", last, ".", job.token())
    return _join(first, _SEPARATORS.pick(job.part(3)), last, _NUMBERS.pick(job.part(4)))


def _fit_local(job: Job, local: pa.Array, room: int | None, what: str) -> pa.Array:
    """Cut a local part / username to `room` characters, keeping the uniqueness token whole."""
    if room is None:
        return local
    if job.ctx.unique:
        if room < TOKEN_CHARS:
            raise refuse(
                job.ctx,
                "fake",
                f"a unique {what} needs {TOKEN_CHARS} characters for its token but only {room} fit",
                "widen the column or use hash",
            )
        return pc.if_else(pc.greater(pc.utf8_length(local), room), job.token(), local)
    if room < 1:
        raise refuse(
            job.ctx, "fake", f"a {what} does not fit in {job.ctx.max_length} characters", "widen the column"
        )
    return pc.utf8_rtrim(pc.utf8_slice_codeunits(local, 0, room), characters="._")


def _email(job: Job) -> pa.Array:
    domain = EMAIL_DOMAINS.pick(job.part(5))
    ml = job.ctx.max_length
    room = None if ml is None else ml - 1 - len("example.com")
    return _join(_fit_local(job, _local_part(job), room, "email"), "@", domain)


def _username(job: Job) -> pa.Array:
    return _fit_local(job, _local_part(job), job.ctx.max_length, "username")


def _url(job: Job) -> pa.Array:
    host = fd.ascii_last_names(job.locale).pick(job.part(2))
    tld = pc.utf8_slice_codeunits(EMAIL_DOMAINS.pick(job.part(5)), 8)  # com / org / net
    path = fd.ascii_words(job.locale).pick(job.part(6))
    base = _join("https://", host, ".example.", tld, "/", path)
    return _with_token(job, base, "/") if job.ctx.unique else base


# --- phone: keep the original's shape -------------------------------------------------------------


def _phone(job: Job) -> pa.Array:
    """Digits replaced by keyed digits; '+', the country code, a trunk '0' and separators kept.

    A value with fewer than 4 digits is not a phone number: it is replaced by a fake from the locale.
    """
    arr = text_array(job.values)
    pool = fd.generated(job.locale, "phone")
    chunks = []
    for start in range(0, len(arr), CHUNK_ROWS):  # chunks keep the byte-level temporaries in cache
        part = arr.slice(start, CHUNK_ROWS)
        h = job.h[start : start + CHUNK_ROWS]
        offsets, data = string_bytes(part)
        few = fn.digit_counts(offsets, data) < 4
        if few.any():
            part = pc.if_else(pa.array(few), pool.pick(mix(h, 11)), part)
            offsets, data = string_bytes(part)
        fast = fn.phone_digits_matrix(offsets, data, h)
        if fast is not None:
            chunks.append(from_bytes(offsets, fast))
            continue
        digits = locate(offsets, _is_digit(data))
        keep = fn.phone_prefix_digits(offsets, data, digits)
        chunks.append(
            from_bytes(offsets, replace_digit_bytes(data, h, digits, keep=keep, nonzero_first=True))
        )
    return pa.concat_arrays(chunks) if chunks else arr


def _redigit(arr: pa.LargeStringArray, h: np.ndarray) -> pa.Array:
    """Every ASCII digit replaced by a keyed digit (chunked to keep temporaries in cache)."""
    chunks = []
    for start in range(0, len(arr), CHUNK_ROWS):
        offsets, data = string_bytes(arr.slice(start, CHUNK_ROWS))
        where = locate(offsets, _is_digit(data))
        chunks.append(from_bytes(offsets, replace_digit_bytes(data, h[start : start + CHUNK_ROWS], where)))
    return pa.concat_arrays(chunks) if chunks else arr


def _is_digit(data: np.ndarray) -> np.ndarray:
    return (data >= 48) & (data <= 57)


# --- pool kinds ---------------------------------------------------------------------------------


def _generated(kind: str, redigit: bool) -> Callable[[Job], pa.Array]:
    def build(job: Job) -> pa.Array:
        arr = fd.generated(job.locale, kind).pick(job.part(12))
        if not redigit:
            return arr
        return _redigit(arr.cast(pa.large_string()), job.part(13))

    return build


# --- the kind table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    build: Callable[[Job], pa.Array]
    unique: str  # "token": append a token; "native": unique by itself; "self": builder handles it; "no"
    numeric: bool = False  # digits only once separators are removed: may go into an integer column


KINDS: dict[str, Kind] = {
    "name": Kind(_name, "token"),
    "first_name": Kind(_first_name, "token"),
    "last_name": Kind(_last_name, "token"),
    "email": Kind(_email, "self"),
    "username": Kind(_username, "self"),
    "url": Kind(_url, "self"),
    "phone": Kind(_phone, "no", numeric=True),
    "address": Kind(_generated("address", redigit=True), "token"),
    "street": Kind(_generated("street", redigit=True), "token"),
    "city": Kind(_generated("city", redigit=False), "token"),
    "postcode": Kind(_generated("postcode", redigit=True), "no"),
    "company": Kind(_generated("company", redigit=False), "token"),
    "text": Kind(_generated("text", redigit=False), "token"),
    "ipv4": Kind(lambda job: fn.ipv4(job.h), "no"),
    "ipv6": Kind(lambda job: fn.ipv6(hash128(job.text, job.ctx.key, job.ctx.domain, "fake:ipv6")), "native"),
    "iban": Kind(lambda job: fn.iban(job.h, *fd.bank(job.locale)), "no"),
    "credit_card": Kind(lambda job: fn.credit_card(job.h), "no", numeric=True),
    "ssn": Kind(lambda job: fn.ssn(job.h), "no", numeric=True),
    "uuid": Kind(
        lambda job: uuid_text(hash128(job.text, job.ctx.key, job.ctx.domain, "fake:uuid")), "native"
    ),
    "date_of_birth": Kind(lambda job: fn.date_of_birth(job.h), "no"),
}
BUILTIN_KINDS = tuple(KINDS)
# kinds whose unique: true is format-preserving encryption of the input (strategies/fpe.py)
FPE_KINDS: dict[str, str] = {"phone": "phone", "iban": "iban", "credit_card": "credit_card", "ssn": "ssn"}


_NOT_PROVIDERS = frozenset(
    {
        "seed",
        "seed_instance",
        "seed_locale",
        "add_provider",
        "get_providers",
        "provider",
        "format",
        "get_formatter",
        "parse",
        "set_formatter",
        "set_arguments",
        "get_arguments",
        "del_arguments",
        "random",
        "random_element",
        "random_elements",
        "random_choices",
        "random_sample",
        "random_int",
        "random_digit",
        "random_number",
        "random_letter",
        "random_letters",
        "enum",
        "pystruct",
    }
)


@lru_cache(maxsize=1)
def _faker_methods() -> frozenset[str]:
    """Provider method names of the fallback locale (the names `kind` may take beyond the built-ins)."""
    gen = fd.faker_for(fd.FALLBACK_LOCALE).factories[0]
    names = (n for n in dir(gen) if not n.startswith("_") and n not in _NOT_PROVIDERS)
    return frozenset(n for n in names if callable(getattr(gen, n, None)))


class FakeParams(Params):
    kind: str = Field(
        description="What to generate: " + ", ".join(BUILTIN_KINDS) + " (vectorised), or the name of "
        "any other Faker provider method (e.g. job, license_plate; slower, per distinct value)."
    )

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if v in KINDS or v in _faker_methods():
            return v
        import difflib

        near = difflib.get_close_matches(v, list(KINDS) + sorted(_faker_methods()), n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ValueError(
            f"unknown fake kind {v!r}{hint}; built-in kinds: {', '.join(BUILTIN_KINDS)}, or a Faker provider"
        )


# --- the per-value path for other Faker providers -------------------------------------------------


_PER_VALUE_LOCK = threading.Lock()


@lru_cache(maxsize=32)
def _private_faker(locale: str) -> Any:
    from faker import Faker

    fd.faker_for(locale)  # refuses unknown locales clearly
    return Faker(locale)


def _per_value(values: pd.Series, text: np.ndarray, kind: str, ctx: ColumnContext) -> pd.Series:
    """Seed a private Faker from the keyed hash of each distinct value; memoised per value."""
    codes, uniques = pd.factorize(pd.Series(text, dtype=object))
    uniq = np.asarray(uniques, dtype=object)
    seeds = hash64(uniq, ctx.key, ctx.domain, f"fake:{kind}")
    fk = _private_faker(ctx.locale or fd.FALLBACK_LOCALE)
    method = getattr(fk, kind)
    results: list[Any] = []
    with _PER_VALUE_LOCK:  # one seeded Faker per locale: seeding and drawing must not interleave
        for seed in seeds:
            fk.seed_instance(int(seed))
            results.append(method())
    picked = np.asarray(results + [None], dtype=object)[:-1][codes]
    if is_text_kind(ctx) or not results:
        arr = pa.array([r if isinstance(r, str) else str(r) for r in picked], type=pa.large_string())
        if ctx.unique:
            arr = _with_token(Job(values, text, np.zeros(0, dtype=np.uint64), ctx), arr)
        return text_series(_cut(arr, ctx.max_length), values.index)
    if ctx.unique:
        raise refuse(
            ctx,
            "fake",
            f"provider {kind!r} into a {ctx.kind} column cannot be unique",
            "use a text column or hash",
        )
    return _typed(pd.Series(picked, index=values.index), kind, ctx)


def _typed(out: pd.Series, kind: str, ctx: ColumnContext) -> pd.Series:
    """Non-text outputs converted to the column's kind, or a clear refusal."""
    try:
        if ctx.kind == "integer":
            return pd.Series(pd.to_numeric(out, errors="raise"), index=out.index).astype("int64")
        if ctx.kind in ("float", "decimal"):
            return pd.Series(pd.to_numeric(out, errors="raise"), index=out.index).astype("float64")
        if ctx.kind == "date":
            return pd.Series(pd.to_datetime(out).dt.date, index=out.index, dtype=object)
        if ctx.kind == "datetime":
            return pd.Series(pd.to_datetime(out), index=out.index)
        if ctx.kind == "boolean" and all(isinstance(v, bool) for v in out):
            return out.astype(bool)
    except (ValueError, TypeError):
        pass
    raise refuse(
        ctx,
        "fake",
        f"kind {kind!r} does not make {ctx.kind} values",
        "pick a kind that fits the column, or use hash/redact/nullify",
    )


# --- the strategy -------------------------------------------------------------------------------

MAX_REDRAWS = 8  # a fake equal to its input is drawn again from the next keyed candidate, this often


def _same_as_input(arr: pa.Array, job: Job) -> np.ndarray:
    """Rows whose fake equals the input, ignoring case ("Brett" -> "BRETT" is no pseudonym either)."""
    given = pc.utf8_lower(text_array(job.values))
    made = pc.utf8_lower(arr.cast(pa.large_string()))
    return np.asarray(pc.equal(made, given).fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _other_than_input(spec: Kind, job: Job, arr: pa.Array) -> pa.Array:
    """Never the input itself: where a fake equals its input (weighted pools make that common for
    frequent names), the row is built again from the next keyed candidate (`mix` of its hash). The
    choice depends on the value alone, so batches and row order do not matter."""
    same = _same_as_input(arr, job)
    rows = np.flatnonzero(same)
    for attempt in range(MAX_REDRAWS):
        if len(rows) == 0:
            break
        sub = Job(job.values.iloc[rows], job.text[rows], mix(job.h[rows], 9000 + attempt), job.ctx)
        redo = spec.build(sub).cast(arr.type)
        where = np.arange(len(arr))
        where[rows] = len(arr) + np.arange(len(rows))
        arr = pa.concat_arrays([arr, redo]).take(pa.array(where))
        rows = rows[_same_as_input(redo, sub)]
    if len(rows):
        log.warning(
            "fake %s: %d value(s) still equal their input after %d redraws",
            job.ctx.domain,
            len(rows),
            MAX_REDRAWS,
        )
    return arr


def _check(kind: str, spec: Kind | None, ctx: ColumnContext) -> None:
    if spec is None:
        return
    if ctx.unique and spec.unique == "no":
        raise refuse(
            ctx,
            "fake",
            f"kind {kind!r} cannot carry the 88 keyed bits unique: true needs",
            "use fpe (format-preserving encryption of the digits), hash, or a kind such as email, "
            "username, uuid or name",
        )
    ml = ctx.max_length
    if ctx.unique and spec.unique in ("token", "self") and ml is not None and ml < TOKEN_CHARS:
        raise refuse(  # known before any value: the plan's dry run reports it before a row is read
            ctx,
            "fake",
            f"unique: true needs {TOKEN_CHARS} characters for its token but the column holds {ml}",
            "widen the column or use hash",
        )
    fits = (
        is_text_kind(ctx)
        or (ctx.kind == "uuid" and kind == "uuid")
        or (ctx.kind in ("date", "datetime") and kind == "date_of_birth")
        or (ctx.kind == "integer" and spec.numeric)
    )
    if not fits:
        raise refuse(
            ctx,
            "fake",
            f"kind {kind!r} makes text but the column is {ctx.kind}",
            "pick a kind that fits the column, or use hash/redact/nullify",
        )


def _fake(values: pd.Series, params: FakeParams, ctx: ColumnContext) -> pd.Series:
    kind = params.kind
    spec = KINDS.get(kind)
    if ctx.unique and kind in FPE_KINDS:
        from sanitize.strategies.fpe import FpeParams, fpe

        return fpe(values, FpeParams.model_validate({"format": FPE_KINDS[kind]}), ctx)
    _check(kind, spec, ctx)
    if spec is None:
        return _per_value(values, canonical_text(values), kind, ctx)
    text = canonical_bytes(values)  # hashed three times at most: bytes hash fastest
    job = Job(values, text, hash64(text, ctx.key, ctx.domain, f"fake:{kind}"), ctx)
    if len(values) == 0:
        arr: pa.Array = pa.array([], type=pa.large_string())
    else:
        arr = _other_than_input(spec, job, spec.build(job))
    if kind == "date_of_birth":
        return fn.dates_for(arr, values.index, ctx.kind)
    if ctx.kind == "integer":
        digits = pc.replace_substring_regex(arr, r"\D", "")
        return pd.Series(np.asarray(pc.cast(digits, pa.int64())), index=values.index)
    if ctx.unique and spec.unique == "token" and len(values):
        arr = _with_token(job, arr)
    elif ctx.max_length and kind not in ("email", "username"):
        arr = _cut(arr, ctx.max_length)
    return text_series(arr, values.index)


FAKE = register(
    StrategySpec(
        name="fake",
        thread_safe=True,
        description="A realistic fake of the given kind (name, email, phone, iban, ...), the same for "
        "equal inputs in a domain; emails use reserved example.com/.org/.net domains.",
        fn=_fake,
        params=FakeParams,
        unique_safe=True,
        key_safe=True,  # deterministic and join-preserving; on a key column it must also be unique
        example="email: {strategy: fake, kind: email, unique: true, domain: email}",
    )
)

__all__ = ["BUILTIN_KINDS", "EMAIL_DOMAINS", "FAKE", "KINDS", "FakeParams"]
