"""keep, nullify, redact, mask and hash: behaviour tables and refusals."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sanitize.errors import BadInputError, RulesError
from sanitize.keys import SecretKey, _canonical_scalar, canonical_bytes, canonical_text, hash64, hash128, mix
from sanitize.schema import Column
from sanitize.strategies import ColumnContext, get
from sanitize.strategies.apply import apply_strategy
from sanitize.strategies.vector import bit_chars, digit_columns, digit_table

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def run(
    name: str, params: dict[str, Any], values: list[Any] | pd.Series, key: SecretKey, **ctx: Any
) -> pd.Series:
    spec = get(name)
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    context = ColumnContext(key=key, domain=ctx.pop("domain", "t.c"), table="t", **ctx)
    return apply_strategy(series, spec, spec.validate_params(params), context)


@pytest.mark.parametrize(
    "value,params,expected",
    [
        ("4111111111111111", {}, "************1111"),  # default keeps the last 4
        ("ab", {}, "**"),  # shorter than the visible part: masked whole
        ("abcd", {}, "****"),  # exactly the visible part: masked whole
        ("héllo wörld", {"keep_first": 1, "keep_last": 1}, "h*********d"),  # code points, not bytes
        ("555-123-4567", {"keep_separators": True}, "***-***-4567"),  # separators stay in place
        ("a.b@example.com", {"keep_first": 1, "keep_last": 0, "keep_separators": True}, "a.*@*******.***"),
        ("😀😀😀😀😀x", {"keep_last": 1, "char": "#"}, "#####x"),  # emoji count as one character
        ("", {}, ""),  # empty stays empty
        ("secret", {"keep_last": 0}, "******"),  # everything masked
    ],
)
def test_when_masking_then_length_is_kept_and_only_the_edges_show(
    value: str, params: dict[str, Any], expected: str, key: SecretKey
) -> None:
    out = run("mask", params, [value], key)
    assert out.iloc[0] == expected
    assert len(out.iloc[0]) == len(value)


def test_when_mask_targets_an_integer_column_then_it_is_refused(key: SecretKey) -> None:
    with pytest.raises(RulesError, match=r"t\.n: strategy 'mask'.*integer"):
        run("mask", {}, pd.Series([], dtype="int64"), key, column=Column("n", "integer"))


def test_when_mask_char_is_not_one_character_then_params_are_refused() -> None:
    with pytest.raises(ValidationError):
        get("mask").validate_params({"char": "**"})


def test_when_redacting_text_then_the_constant_is_cut_to_the_column(key: SecretKey) -> None:
    out = run("redact", {}, ["a", "b", None], key, column=Column("c", "text", max_length=4))
    assert out.tolist()[:2] == ["REDA", "REDA"] and pd.isna(out.iloc[2])


@pytest.mark.parametrize(
    "column,params,expected",
    [
        (Column("n", "integer"), {"value": 0}, 0),
        (Column("n", "integer"), {"value": "7"}, 7),
        (Column("f", "float"), {"value": 1.5}, 1.5),
        (Column("d", "date"), {"value": "1970-01-01"}, pd.Timestamp("1970-01-01").date()),
        (Column("b", "boolean"), {"value": False}, False),
    ],
)
def test_when_redacting_a_typed_column_then_the_constant_has_its_type(
    column: Column, params: dict[str, Any], expected: Any, key: SecretKey
) -> None:
    out = run("redact", params, pd.Series([1, 2], dtype=object), key, column=column)
    assert out.tolist() == [expected, expected]


@pytest.mark.parametrize("column", [Column("n", "integer"), Column("d", "date"), Column("b", "boolean")])
def test_when_the_redact_constant_does_not_fit_the_type_then_it_is_refused(
    column: Column, key: SecretKey
) -> None:
    # an empty batch is enough: strategies check the column before looking at values
    with pytest.raises(RulesError, match=f"t.{column.name}: strategy 'redact'.*value:"):
        run("redact", {}, pd.Series([], dtype=object), key, column=column)


def test_when_nullify_targets_a_not_null_column_then_it_is_refused(key: SecretKey) -> None:
    with pytest.raises(RulesError, match="NOT NULL.*redact"):
        run("nullify", {}, ["x"], key, column=Column("c", "text", nullable=False))


def test_when_nullifying_then_every_value_is_null(key: SecretKey) -> None:
    assert run("nullify", {}, ["a", None, ""], key).isna().all()
    assert run("nullify", {}, pd.Series([1, 2], dtype="int64"), key).isna().all()


def test_when_keeping_then_values_are_unchanged(key: SecretKey) -> None:
    values = pd.Series(["a", None, "😀"])
    pd.testing.assert_series_equal(run("keep", {}, values, key), values, check_dtype=False)


# --- hash ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params,column,pattern",
    [
        ({}, None, r"^[0-9a-f]{16}$"),  # default: 64 bits as 16 hex characters
        ({"encoding": "base32"}, None, r"^[a-z2-7]{16}$"),
        ({"length": 40}, None, r"^[0-9a-f]{40}$"),  # longer than 128 bits: extended
        ({"prefix": "user_"}, Column("c", "text", max_length=12), r"^user_[0-9a-f]{7}$"),  # cut to fit
        ({}, Column("c", "uuid"), UUID4.pattern),
    ],
)
def test_when_hashing_to_text_then_the_format_fits(
    params: dict[str, Any], column: Column | None, pattern: str, key: SecretKey
) -> None:
    out = run("hash", params, ["alice", "bob", ""], key, column=column)
    assert all(re.match(pattern, v) for v in out), out.tolist()
    assert out.nunique() == 3


def test_when_hashing_equal_values_then_outputs_are_equal_across_types_and_tables(key: SecretKey) -> None:
    a = run("hash", {}, pd.Series([42, 7]), key, domain="customer")
    b = run("hash", {}, pd.Series(["42", "8"]), key, domain="customer")
    c = run("hash", {}, pd.Series(["42"]), key, domain="other")
    assert a.iloc[0] == b.iloc[0] and a.iloc[1] != b.iloc[1]
    assert c.iloc[0] != a.iloc[0]  # another domain, another pseudonym


def test_when_unique_hash_does_not_fit_then_it_is_refused_with_the_fix(key: SecretKey) -> None:
    with pytest.raises(RulesError, match="88 bits.*widen the column"):
        run("hash", {}, ["x"], key, column=Column("c", "text", max_length=20), unique=True)
    out = run(
        "hash", {"encoding": "base32"}, ["x"], key, column=Column("c", "text", max_length=20), unique=True
    )
    assert len(out.iloc[0]) >= 18


@pytest.mark.parametrize(
    "sql_type,bits",
    [(sa.SmallInteger(), 15), (sa.Integer(), 31), (sa.BigInteger(), 63), (None, 31)],
)
def test_when_hashing_into_an_integer_column_then_outputs_are_positive_and_fit(
    sql_type: Any, bits: int, key: SecretKey
) -> None:
    column = Column("n", "integer", sql_type=sql_type)
    out = run("hash", {}, pd.Series(np.arange(5000)), key, column=column)
    assert out.min() >= 1 and out.max() < 2**bits


def test_when_hashing_unique_integers_then_it_is_a_permutation_of_the_range(key: SecretKey) -> None:
    column = Column("n", "integer", sql_type=sa.SmallInteger())
    values = pd.Series(np.arange(2**15 - 1))
    out = run("hash", {}, values, key, column=column, unique=True)
    assert sorted(out.tolist()) == list(range(1, 2**15))  # every input maps to a different integer
    assert (out.to_numpy() != values.to_numpy() + 1).mean() > 0.99  # and it is not the identity
    other = run("hash", {}, values, SecretKey(b"z" * 40), column=column, unique=True)
    assert (out.to_numpy() != other.to_numpy()).mean() > 0.99


def test_when_unique_integer_hash_meets_a_value_out_of_range_then_it_says_so(key: SecretKey) -> None:
    column = Column("n", "integer", sql_type=sa.SmallInteger())
    with pytest.raises(BadInputError, match="outside it"):
        run("hash", {}, pd.Series([1, 40_000]), key, column=column, unique=True)
    with pytest.raises(BadInputError, match="needs integer values"):
        run("hash", {}, pd.Series(["a", "b"]), key, column=column, unique=True)


def test_when_hashing_into_a_date_column_then_it_is_refused(key: SecretKey) -> None:
    with pytest.raises(RulesError, match="date_shift"):
        run("hash", {}, pd.Series([], dtype=object), key, column=Column("d", "date"))


# --- canonical text fast paths (keys.py) agree with the per-value definition ---------------------


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(allow_nan=False, width=64), min_size=1, max_size=50))
def test_when_floats_are_canonicalised_then_the_fast_path_matches_each_value(xs: list[float]) -> None:
    values = pd.Series(xs, dtype="float64")
    assert list(canonical_text(values)) == [_canonical_scalar(v) for v in values.to_numpy(dtype=object)]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.datetimes(
            min_value=pd.Timestamp("1700-01-01").to_pydatetime(),
            max_value=pd.Timestamp("2200-01-01").to_pydatetime(),
        ),
        min_size=1,
        max_size=50,
    ),
    st.sampled_from(["s", "ms", "us", "ns"]),
)
def test_when_timestamps_are_canonicalised_then_the_fast_path_matches_each_value(
    xs: list[Any], unit: str
) -> None:
    dtype: Any = f"datetime64[{unit}]"
    values = pd.Series(xs).astype(dtype)
    assert list(canonical_text(values)) == [_canonical_scalar(v) for v in values.to_numpy(dtype=object)]


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["alice@example.com", "", "ünïcödé ✓", "emoji 😀", "x" * 5000], dtype="str"),
        pd.Series(
            pd.array(pa.array(["a", "b", "c"], pa.large_string()), dtype=pd.ArrowDtype(pa.large_string()))
        ),
        pd.Series(
            pd.array(
                pa.array(
                    [decimal.Decimal("42.50"), decimal.Decimal("-0.10"), decimal.Decimal("7")],
                    pa.decimal128(9, 2),
                ),
                dtype=pd.ArrowDtype(pa.decimal128(9, 2)),
            )
        ),
        pd.Series(
            pd.array(pa.array([dt.date(2024, 1, 5), dt.date(1900, 2, 28)]), dtype=pd.ArrowDtype(pa.date32()))
        ),
        pd.Series([1, 42, -7]),
    ],
)
def test_when_values_are_hashed_then_the_bytes_fast_path_gives_the_hashes_of_their_text(
    values: pd.Series, key: SecretKey
) -> None:
    # hash64 reads Arrow text, decimals and dates as UTF-8 bytes objects: the hashes must be those of
    # the canonical text, or pseudonyms would change with the dtype a column arrives in
    as_bytes = canonical_bytes(values)
    assert [b.decode("utf-8") if isinstance(b, bytes) else b for b in as_bytes] == list(
        canonical_text(values)
    )
    assert (hash64(values, key, "d") == hash64(canonical_text(values), key, "d")).all()
    assert (hash128(values, key, "d") == hash128(canonical_text(values), key, "d")).all()


# --- hash text alphabets: the table-driven fast path equals the bit-by-bit definition ------------


def reference_bit_chars(words: np.ndarray, nchars: int, bits: int, alphabet: np.ndarray) -> np.ndarray:
    """Character j of word i is alphabet[(word >> (j * bits)) & mask], lowest bits first; words past
    those given are `mix(word[i % k], 1000 + i)`."""
    w = words.reshape(len(words), -1)
    per_word = 64 // bits
    out = np.zeros((len(w), nchars), dtype=np.uint8)
    for row in range(len(w)):
        for col in range(nchars):
            i, j = divmod(col, per_word)
            word = (
                int(w[row, i]) if i < w.shape[1] else int(mix(w[row : row + 1, i % w.shape[1]], 1000 + i)[0])
            )
            out[row, col] = alphabet[(word >> (j * bits)) & ((1 << bits) - 1)]
    return out


@pytest.mark.parametrize("bits", [3, 4, 5, 6])
@pytest.mark.parametrize("shape", [(40,), (40, 2), (5, 3)])
@pytest.mark.parametrize("nchars", [1, 7, 16, 18, 24, 33])
def test_when_hash_words_become_characters_then_every_character_follows_the_definition(
    bits: int, shape: tuple[int, ...], nchars: int
) -> None:
    words = np.random.default_rng(bits * 100 + nchars).integers(0, 2**64, size=shape, dtype=np.uint64)
    alphabet = np.frombuffer(bytes(range(65, 65 + (1 << bits))), dtype=np.uint8)
    expected = reference_bit_chars(words, nchars, bits, alphabet)
    assert (bit_chars(words, nchars, bits, alphabet) == expected).all()


@pytest.mark.parametrize("width", [1, 5, 10, 11, 32, 48])
def test_when_keyed_digits_are_built_by_column_then_they_equal_the_row_table(width: int) -> None:
    h = np.random.default_rng(width).integers(0, 2**64, size=500, dtype=np.uint64)
    table = digit_table(h, width)
    assert table.shape == (500, width) and table.max() <= 9
    assert (digit_columns(h, width) == table.T).all()
