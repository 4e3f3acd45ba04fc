"""The key and keyed hashing: refuse bad keys, never show the key, one canonical text per value."""

from __future__ import annotations

import datetime as dt
import decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanitize.errors import KeyMissingError
from sanitize.keys import SecretKey, _canonical_scalar, canonical_text, hash64, hash128, load_key


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({}, "SANITIZE_KEY is not set"),  # missing
        ({"SANITIZE_KEY": ""}, "SANITIZE_KEY is not set"),  # empty
        ({"SANITIZE_KEY": "x" * 31}, "at least 32"),  # one byte short
    ],
)
def test_when_the_key_is_missing_or_short_then_it_is_refused_with_how_to_make_one(
    env: dict[str, str], fragment: str
) -> None:
    with pytest.raises(KeyMissingError) as info:
        load_key(env, dotenv=None)
    assert fragment in str(info.value) and "secrets.token_urlsafe" in str(info.value)
    assert info.value.exit_code == 2


def test_when_the_key_is_in_a_dotenv_file_then_it_is_used(tmp_path: pytest.TempPathFactory) -> None:
    env_file = tmp_path / ".env"  # type: ignore[operator]
    env_file.write_text("SANITIZE_KEY=" + "k" * 40 + "\n")
    assert load_key({}, dotenv=env_file) == SecretKey(b"k" * 40)


def test_when_a_key_is_printed_then_its_bytes_never_show() -> None:
    k = SecretKey(b"super-secret-key-material-0123456789")
    for text in (repr(k), str(k), f"{k}", repr([k])):
        assert "super-secret" not in text
    assert "super-secret" not in k.fingerprint and len(k.fingerprint) == 12


def test_when_values_are_equal_across_types_then_they_hash_equal(key: SecretKey) -> None:
    forms = [
        pd.Series([42]),
        pd.Series(["42"]),
        pd.Series([42.0]),
        pd.Series(pd.array([decimal.Decimal("42.00")], dtype=pd.ArrowDtype(pa.decimal128(6, 2)))),
        pd.Series([decimal.Decimal("42")], dtype=object),
    ]
    hashes = {int(hash64(f, key, "d")[0]) for f in forms}
    assert len(hashes) == 1


def test_when_key_domain_or_purpose_change_then_hashes_change(key: SecretKey) -> None:
    v = pd.Series(["alice@example.com", "bob@example.com"])
    base = hash64(v, key, "email")
    assert (base == hash64(v, key, "email")).all()
    assert (base != hash64(v, SecretKey(b"z" * 40), "email")).all()
    assert (base != hash64(v, key, "other")).all()
    assert (base != hash64(v, key, "email", "purpose")).all()
    wide = hash128(v, key, "email")
    assert wide.shape == (2, 2) and (wide[:, 0] != wide[:, 1]).all()


ARROW_CASES = st.one_of(
    st.lists(st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False), min_size=1).map(
        lambda xs: pa.array(xs, pa.decimal128(12, 2))
    ),
    st.lists(st.decimals(min_value=-1, max_value=1, places=10, allow_nan=False), min_size=1).map(
        lambda xs: pa.array(xs, pa.decimal128(12, 10))  # scale > 6: Arrow would print exponents
    ),
    st.lists(st.dates(), min_size=1).map(lambda xs: pa.array(xs, pa.date32())),
    st.lists(st.datetimes(min_value=dt.datetime(1900, 1, 1)), min_size=1).map(
        lambda xs: pa.array(xs, pa.timestamp("us"))
    ),
    st.lists(st.booleans(), min_size=1).map(pa.array),
    st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1).map(
        lambda xs: pa.array(xs, pa.float64())
    ),
)


@settings(max_examples=60, deadline=None)
@given(ARROW_CASES)
def test_when_arrow_columns_are_canonicalised_then_the_fast_path_equals_the_per_value_rule(
    arr: pa.Array,
) -> None:
    s = pd.Series(arr, dtype=pd.ArrowDtype(arr.type))
    assert list(canonical_text(s)) == [_canonical_scalar(v) for v in s.to_numpy(dtype=object)]
