"""The fake strategy: validity checks (Luhn, IBAN mod-97, email, phone shape), fit, unique, locales."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import ValidationError

from sanitize.arrow import string_bytes
from sanitize.errors import RulesError
from sanitize.keys import SecretKey
from sanitize.schema import Column
from sanitize.strategies import ColumnContext, get
from sanitize.strategies import fake_data as fd
from sanitize.strategies import fake_numbers as fn
from sanitize.strategies.apply import apply_strategy
from sanitize.strategies.fake_numbers import DOB_FIRST, DOB_LAST, iban_valid, luhn_valid
from sanitize.strategies.vector import locate, replace_digit_bytes

EMAIL = re.compile(r"^[a-z0-9]+([._][a-z0-9]+)*[0-9]*@example\.(com|org|net)$")
SSN = re.compile(r"^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def fake(kind: str, values: Any, key: SecretKey, **ctx: Any) -> pd.Series:
    spec = get("fake")
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    context = ColumnContext(key=key, domain=ctx.pop("domain", "t.c"), table="t", **ctx)
    return apply_strategy(series, spec, spec.validate_params({"kind": kind}), context)


def inputs(n: int) -> pd.Series:
    return pd.Series([f"person{i}@corp.example" for i in range(n)])


# --- the validity checks themselves ------------------------------------------------------------


@pytest.mark.parametrize(
    "number,valid",
    [
        ("4111111111111111", True),  # Visa test number
        ("5500005555555559", True),  # Mastercard test number
        ("79927398713", True),  # the textbook example
        ("4111111111111112", False),  # last digit changed
        ("79927398710", False),
        ("4111-1111-1111-1111", False),  # separators are not digits
        ("", False),
    ],
)
def test_luhn_check_table(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    "iban,valid",
    [
        ("GB82WEST12345698765432", True),  # the ISO 13616 example
        ("DE89370400440532013000", True),
        ("FR1420041010050500013M02606", True),
        ("GB82 WEST 1234 5698 7654 32", True),  # spaces allowed
        ("GB83WEST12345698765432", False),  # check digits off by one
        ("DE89370400440532013001", False),  # account changed
        ("12ABCDEFG", False),  # no country
        ("", False),
    ],
)
def test_iban_check_table(iban: str, valid: bool) -> None:
    assert iban_valid(iban) is valid


@pytest.mark.parametrize(
    "email,valid",
    [
        ("john.smith42@example.com", True),
        ("jane_doe@example.org", True),
        ("x@example.net", True),
        ("john..smith@example.com", False),  # consecutive dots
        (".john@example.com", False),
        ("john@gmail.com", False),  # a real domain: never produced
        ("john@example.com.", False),
    ],
)
def test_email_check_table(email: str, valid: bool) -> None:
    assert bool(EMAIL.match(email)) is valid


def shape(s: str) -> str:
    return re.sub(r"\d", "#", s)


# --- generated values pass them ----------------------------------------------------------------


def test_when_faking_cards_then_every_one_passes_luhn(key: SecretKey) -> None:
    out = fake("credit_card", inputs(5000), key)
    assert all(luhn_valid(v) and len(v) == 16 for v in out)
    assert out.nunique() > 4990


@pytest.mark.parametrize(
    "locale,country", [("en_GB", "GB"), ("de_DE", "DE"), ("fr_FR", "FR"), ("en_US", "GB")]
)
def test_when_faking_ibans_then_every_one_passes_mod_97(locale: str, country: str, key: SecretKey) -> None:
    out = fake("iban", inputs(3000), key, locale=locale)
    assert all(iban_valid(v) and v.startswith(country) for v in out)


def test_when_faking_emails_then_they_are_valid_and_on_reserved_domains(key: SecretKey) -> None:
    out = fake("email", inputs(5000), key)
    bad = [v for v in out if not EMAIL.match(v)]
    assert not bad
    assert out.nunique() > 4000


@pytest.mark.parametrize(
    "original",
    [
        "+44 20 7946 0958",  # country code kept
        "(555) 123-4567",
        "+1-202-555-0143",
        "0049 30 1234567",  # international prefix 00 and the country code kept
        "07700 900123",  # trunk 0 kept
        "+49 (0) 30 901820",  # trunk 0 after the country code kept
        "555.123.4567 x89",
    ],
)
def test_when_faking_phones_then_the_shape_and_country_code_are_kept(original: str, key: SecretKey) -> None:
    out = fake("phone", [original], key).iloc[0]
    assert shape(out) == shape(original)
    assert out != original
    prefix = {"+44": "+44", "+1-": "+1-", "0049": "0049 ", "077": "0", "+49": "+49 (0)"}
    for start, kept in prefix.items():
        if original.startswith(start):
            assert out.startswith(kept)


def test_when_a_phone_has_no_digits_then_it_gets_a_locale_phone(key: SecretKey) -> None:
    out = fake("phone", ["call me maybe", ""], key)
    assert all(sum(c.isdigit() for c in v) >= 7 for v in out)


def test_when_faking_other_structured_kinds_then_they_are_well_formed(key: SecretKey) -> None:
    values = inputs(3000)
    assert all(SSN.match(v) for v in fake("ssn", values, key))
    assert all(UUID4.match(v) for v in fake("uuid", values, key))
    for v in fake("ipv4", values, key):
        ip = ipaddress.IPv4Address(v)
        assert not ip.is_multicast and not ip.is_loopback and int(v.split(".")[0]) not in (0, 10)
    for v in fake("ipv6", values, key):
        assert ipaddress.IPv6Address(v) in ipaddress.IPv6Network("2001:db8::/32")
    dobs = fake("date_of_birth", values, key, column=Column("d", "date"))
    assert all(DOB_FIRST <= d <= DOB_LAST for d in dobs)
    assert all(isinstance(d, dt.date) for d in dobs)
    urls = fake("url", values, key)
    assert all(re.match(r"^https://[a-z0-9]+\.example\.(com|org|net)/[a-z0-9]+$", v) for v in urls)


@pytest.mark.parametrize(
    "kind", ["name", "first_name", "last_name", "address", "street", "city", "company", "text"]
)
def test_when_faking_text_kinds_then_outputs_are_nonempty_and_varied(kind: str, key: SecretKey) -> None:
    out = fake(kind, inputs(2000), key)
    assert (out.str.len() > 0).all()
    assert out.nunique() > 100
    assert not out.str.contains("\n").any()  # one line, as a column holds it (Faker's address has two)


def test_when_the_locale_is_german_then_names_come_from_german_data(key: SecretKey) -> None:
    out = fake("first_name", inputs(500), key, locale="de_DE")
    german = set(fd.first_names("de_DE").values.to_pylist())
    assert set(out) <= german
    assert not set(out) <= set(fd.first_names("en_US").values.to_pylist())


def test_when_the_locale_is_unknown_then_it_is_refused(key: SecretKey) -> None:
    with pytest.raises(RulesError, match="xx_XX.*Faker locale"):
        fake("name", ["a"], key, locale="xx_XX")


def test_when_the_same_domain_is_used_in_two_tables_then_fakes_match(key: SecretKey) -> None:
    a = fake("email", ["a@x.com", "b@x.com"], key, domain="email")
    spec = get("fake")
    ctx = ColumnContext(key=key, domain="email", table="tickets", column=Column("requester", "text"))
    b = apply_strategy(pd.Series(["b@x.com"]), spec, spec.validate_params({"kind": "email"}), ctx)
    assert b.iloc[0] == a.iloc[1]


# --- fit and unique ------------------------------------------------------------------------------


def test_when_the_column_is_short_then_emails_stay_valid(key: SecretKey) -> None:
    out = fake("email", inputs(2000), key, column=Column("e", "text", max_length=16))
    assert (out.str.len() <= 16).all()
    assert all(re.match(r"^[a-z0-9._]+@example\.(com|org|net)$", v) and ".@" not in v for v in out)


def test_when_unique_emails_do_not_fit_then_it_is_refused(key: SecretKey) -> None:
    with pytest.raises(RulesError, match="token"):
        fake("email", ["a"], key, column=Column("e", "text", max_length=25), unique=True)


def test_when_unique_names_are_cut_then_the_token_survives(key: SecretKey) -> None:
    out = fake("name", inputs(20_000), key, column=Column("n", "text", max_length=24), unique=True)
    assert (out.str.len() <= 24).all()
    assert out.nunique() == 20_000


@pytest.mark.parametrize("kind", ["postcode", "ipv4", "date_of_birth"])  # phone/iban/card/ssn: fpe
def test_when_a_kind_cannot_be_unique_then_it_is_refused(kind: str, key: SecretKey) -> None:
    with pytest.raises(RulesError, match="88 keyed bits"):
        fake(kind, pd.Series([], dtype="str"), key, unique=True)


def test_when_a_text_kind_targets_an_integer_column_then_it_is_refused(key: SecretKey) -> None:
    with pytest.raises(RulesError, match="kind 'name' makes text but the column is integer"):
        fake("name", pd.Series([], dtype="int64"), key, column=Column("n", "integer"))


def test_when_a_digit_kind_targets_an_integer_column_then_integers_come_out(key: SecretKey) -> None:
    out = fake("phone", pd.Series([15551234567, 442079460958]), key, column=Column("p", "integer"))
    assert [len(str(v)) for v in out] == [11, 12]
    assert all(isinstance(v, int | np.integer) for v in out)


# --- kinds and the per-value path ----------------------------------------------------------------


def test_when_the_kind_is_misspelt_then_the_closest_is_suggested() -> None:
    with pytest.raises(ValidationError, match="did you mean 'email'"):
        get("fake").validate_params({"kind": "emial"})


def test_when_the_kind_is_another_faker_provider_then_it_is_deterministic_and_keyed(key: SecretKey) -> None:
    values = inputs(50)
    a, b = fake("job", values, key), fake("job", values, key)
    c = fake("job", values, SecretKey(b"z" * 40))
    assert a.tolist() == b.tolist()
    assert (a != c).sum() > 25
    assert fake("job", values.iloc[10:20], key).tolist() == a.iloc[10:20].tolist()


def test_when_a_provider_returns_dates_then_a_date_column_gets_dates(key: SecretKey) -> None:
    out = fake("date_this_decade", inputs(5), key, column=Column("d", "date"))
    assert all(isinstance(v, dt.date) for v in out)


# --- phone: the byte-matrix fast path equals the per-digit path ------------------------------------

PHONE_CHARS = "0123456789+ -().x/"


@pytest.mark.parametrize("seed", range(3))
def test_when_phones_take_the_matrix_path_then_they_equal_the_per_digit_path(seed: int) -> None:
    rng = np.random.default_rng(seed)
    known = ["+44 (0) 20 7946 0958", "0049 30 1234567", "+1 555 0100", "00", "0", "", "+", "+353 1 234 5678"]
    drawn = ["".join(rng.choice(list(PHONE_CHARS), size=rng.integers(0, 33))) for _ in range(3000)]
    arr = pa.array(known + drawn, type=pa.large_string())
    offsets, data = string_bytes(arr)
    h = rng.integers(0, 2**64, size=len(arr), dtype=np.uint64)
    digits = locate(offsets, (data >= ord("0")) & (data <= ord("9")))
    slow = replace_digit_bytes(
        data, h, digits, keep=fn.phone_prefix_digits(offsets, data, digits), nonzero_first=True
    )
    fast = fn.phone_digits_matrix(offsets, data, h)
    assert fast is not None
    assert bytes(fast) == bytes(slow)
    assert (fn.digit_counts(offsets, data) == digits.counts).all()


def test_when_a_phone_is_longer_than_the_matrix_then_the_per_digit_path_takes_it(key: SecretKey) -> None:
    long_phone = "+44 (0) 20 7946 0958 ext. 1234, or 020 7946 0000 after six"
    out = fake("phone", [long_phone, "+44 20 7946 0958"], key)
    assert out.iloc[0][:4] == "+44 " and out.iloc[0] != long_phone
    assert re.sub(r"\d", "9", out.iloc[0]) == re.sub(r"\d", "9", long_phone)  # the shape is kept
