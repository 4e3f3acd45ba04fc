"""Format-preserving encryption: NIST FF1 vectors, the vectorised path against the reference, and the
`fpe` strategy (and `fake` with unique: true) keeping formats valid and distinct values distinct."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanitize.errors import RulesError
from sanitize.ff1 import FF1, encrypt_one
from sanitize.keys import SecretKey
from sanitize.pipeline import anonymize
from sanitize.schema import Column
from sanitize.strategies.apply import apply_strategy
from sanitize.strategies.fake_numbers import iban_valid, luhn_check_digit, luhn_valid
from sanitize.strategies.registry import ColumnContext, get

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
K128 = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C")
K192 = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F")
K256 = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94")
T10 = bytes.fromhex("39383736353433323130")
T11 = bytes.fromhex("3737373770717273373737")

# NIST SP 800-38G FF1 samples 1-9 (AES-128/192/256; radix 10 and 36; empty and non-empty tweaks)
NIST = [
    (K128, b"", 10, "0123456789", "2433477484"),
    (K128, T10, 10, "0123456789", "6124200773"),
    (K128, T11, 36, "0123456789abcdefghi", "a9tv40mll9kdu509eum"),
    (K192, b"", 10, "0123456789", "2830668132"),
    (K192, T10, 10, "0123456789", "2496655549"),
    (K192, T11, 36, "0123456789abcdefghi", "xbj3kv35jrawxv32ysr"),
    (K256, b"", 10, "0123456789", "6657667009"),
    (K256, T10, 10, "0123456789", "1001623463"),
    (K256, T11, 36, "0123456789abcdefghi", "xs8a0azh2avyalyzuwd"),
]


def numerals(text: str) -> list[int]:
    return [ALPHABET.index(c) for c in text]


def text_of(nums: Any) -> str:
    return "".join(ALPHABET[int(i)] for i in nums)


@pytest.mark.parametrize("key,tweak,radix,plain,cipher", NIST, ids=[f"sample-{i}" for i in range(1, 10)])
def test_when_a_nist_sample_is_encrypted_then_both_paths_give_its_ciphertext(
    key: bytes, tweak: bytes, radix: int, plain: str, cipher: str
) -> None:
    assert text_of(encrypt_one(key, tweak, radix, numerals(plain))) == cipher
    assert text_of(FF1(key, tweak).encrypt(np.array([numerals(plain)]), radix)[0]) == cipher


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 20),
    radix=st.sampled_from([2, 10, 26, 36]),
    tweak=st.binary(max_size=20),
    seed=st.integers(0, 2**32 - 1),
)
def test_when_matrices_are_encrypted_then_the_vectorised_path_equals_the_reference(
    n: int, radix: int, tweak: bytes, seed: int
) -> None:
    if radix**n < 100:
        return
    rng = np.random.default_rng(seed)
    x = rng.integers(0, radix, (8, n))
    fast = FF1(K256, tweak).encrypt(x, radix)
    assert fast.tolist() == [encrypt_one(K256, tweak, radix, row) for row in x.tolist()]


def test_when_every_value_of_a_small_domain_is_encrypted_then_it_is_a_permutation() -> None:
    x = np.array([[int(c) for c in f"{i:04d}"] for i in range(10_000)])
    out = FF1(K128, b"t").encrypt(x, 10)
    assert len({tuple(r) for r in out.tolist()}) == 10_000


# --- the strategy ----------------------------------------------------------------------------------


def fpe(
    values: list[Any], key: SecretKey, domain: str = "t.c", column: Column | None = None, **p: Any
) -> list[Any]:
    spec = get("fpe")
    ctx = ColumnContext(key=key, domain=domain, table="t", column=column)
    series = pd.Series(values, dtype="str") if column is None or column.kind == "text" else pd.Series(values)
    return apply_strategy(series, spec, spec.validate_params(p), ctx).tolist()


def cards(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    payload = np.concatenate([np.full((n, 1), 4), rng.integers(0, 10, (n, 14))], axis=1)
    full = np.concatenate([payload, luhn_check_digit(payload)[:, None]], axis=1)
    return sorted({"".join(map(str, r)) for r in full.tolist()})


def ibans(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    out = set()
    for row in rng.integers(0, 10, (n, 18)).tolist():
        bban = "".join(map(str, row))
        check = 98 - int(bban + "131400") % 97  # DE = 13 14
        out.add(f"DE{check:02d}{bban}")
    return sorted(out)


def shape(v: str) -> str:
    return "".join("9" if c.isdigit() else c for c in v)


def test_when_cards_are_encrypted_then_they_stay_distinct_valid_and_keep_their_issuer(key: SecretKey) -> None:
    src = cards(20_000)
    out = fpe(src, key, format="credit_card")
    assert len(set(out)) == len(src)
    assert all(luhn_valid(o) and o[:1] == s[:1] and len(o) == len(s) for s, o in zip(src, out, strict=True))
    assert sum(s == o for s, o in zip(src, out, strict=True)) == 0  # 14 digits are encrypted


def test_when_ibans_are_encrypted_then_they_stay_distinct_and_pass_mod_97(key: SecretKey) -> None:
    src = ibans(20_000) + ["GB82 WEST 1234 5698 7654 32", "gb82west12345698765432"]
    out = fpe(src, key, format="iban")
    assert len(set(out)) == len(src)
    assert all(iban_valid(o) for o in out)
    assert out[-2][:2] == "GB" and out[-2][5:9] == "WEST" and shape(out[-2]) == shape(src[-2])
    assert out[-1][:2] == "gb" and out[-1][4:8] == "west"


@pytest.mark.parametrize(
    "phone,kept",
    [
        ("+1 415-555-0123", "+1 "),  # NANP calling code
        ("+44 20 7946 0958", "+44 "),  # UK
        ("0049 30 1234567", "0049 "),  # 00 prefix
        ("(415) 555-0199", "("),  # national number: every digit encrypted
    ],
)
def test_when_phones_are_encrypted_then_calling_code_and_layout_stay(
    phone: str, kept: str, key: SecretKey
) -> None:
    (out,) = fpe([phone], key, format="phone")
    assert out.startswith(kept) and shape(out) == shape(phone) and out != phone


def test_when_ssns_are_encrypted_then_every_output_is_a_valid_distinct_ssn(key: SecretKey) -> None:
    rng = random.Random(3)
    src = sorted(
        {
            f"{a:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"
            for a in (rng.choice([x for x in range(1, 900) if x != 666]) for _ in range(20_000))
        }
    )
    out = fpe(src, key, format="ssn")
    assert len(set(out)) == len(src)
    for o in out:
        area, group, serial = (int(p) for p in o.split("-"))
        assert 0 < area < 900 and area != 666 and group > 0 and serial > 0


def test_when_integers_are_encrypted_then_they_keep_their_digit_count_and_stay_distinct(
    key: SecretKey,
) -> None:
    src = list(range(1000, 100_000, 7))  # 4- and 5-digit numbers: a leading zero would merge lengths
    out = fpe(src, key, column=Column("n", "integer"), format="digits")
    assert len(set(out)) == len(src)
    assert all(len(str(o)) == len(str(s)) for s, o in zip(src, out, strict=True))


def test_when_the_domain_or_key_changes_then_the_pseudonyms_change(key: SecretKey) -> None:
    src = cards(200)
    a = fpe(src, key, domain="a", format="credit_card")
    b = fpe(src, key, domain="b", format="credit_card")
    c = fpe(src, SecretKey(b"another-key-0123456789-abcdefghijklmnop"), domain="a", format="credit_card")
    assert fpe(src, key, domain="a", format="credit_card") == a
    assert (
        sum(x == y for x, y in zip(a, b, strict=True)) < 5
        and sum(x == y for x, y in zip(a, c, strict=True)) < 5
    )


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.from_regex(r"[0-9A-Z +()\-]{0,24}", fullmatch=True), max_size=40),
    cut=st.integers(0, 40),
)
def test_when_a_batch_is_split_then_the_output_is_the_same(values: list[str], cut: int) -> None:
    key = SecretKey(b"test-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    whole = fpe(values, key, format="digits")
    assert whole == fpe(values[:cut], key, format="digits") + fpe(values[cut:], key, format="digits")
    # what is not a digit stays where it was
    assert [shape(v) for v in whole] == [shape(v) for v in values]


@pytest.mark.parametrize("kind", ["phone", "iban", "credit_card", "ssn"])
def test_when_fake_is_unique_for_an_identifier_kind_then_fpe_makes_it(kind: str, key: SecretKey) -> None:
    src = {"phone": ["+1 415-555-0123", "+1 415-555-0124"], "iban": ibans(2), "credit_card": cards(2)}.get(
        kind, ["123-45-6789", "123-45-6788"]
    )
    spec = get("fake")
    ctx = ColumnContext(key=key, domain=f"x.{kind}", table="x", unique=True)
    out = apply_strategy(
        pd.Series(src, dtype="str"), spec, spec.validate_params({"kind": kind}), ctx
    ).tolist()
    formats = {"phone": "phone", "iban": "iban", "credit_card": "credit_card", "ssn": "ssn"}
    assert out == fpe(src, key, domain=f"x.{kind}", format=formats[kind])
    assert len(set(out)) == 2 and out != src


def test_when_fpe_targets_a_date_column_then_the_rules_are_refused(key: SecretKey) -> None:
    with pytest.raises(RulesError, match="strategy 'fpe'.*column is date"):
        fpe([], key, column=Column("d", "date"))


def test_when_unique_identifier_columns_are_anonymised_then_they_load_into_unique_constraints(
    tmp_path: Path, key: SecretKey
) -> None:
    n = 30_000
    src_cards, src_ibans = cards(n, seed=1)[: n // 2], ibans(n, seed=2)[: n // 2]
    m = min(len(src_cards), len(src_ibans))
    prod = tmp_path / "prod.db"
    con = sqlite3.connect(prod)
    con.execute(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, iban TEXT NOT NULL UNIQUE, card TEXT UNIQUE,"
        " phone TEXT UNIQUE)"
    )
    con.executemany(
        "INSERT INTO accounts VALUES (?, ?, ?, ?)",
        [(i, src_ibans[i], src_cards[i], f"+1 415-{i // 10000:03d}-{i % 10000:04d}") for i in range(m)],
    )
    con.commit()
    con.close()
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\ntables:\n  accounts:\n    columns:\n      id: keep\n"
        "      iban: {strategy: fake, kind: iban, unique: true}\n"
        "      card: {strategy: fpe, format: credit_card}\n"
        "      phone: {strategy: fake, kind: phone, unique: true}\n"
    )
    dev = tmp_path / "dev.db"
    anonymize(rules, str(prod), str(dev), key=key)
    con = sqlite3.connect(dev)
    got = con.execute("SELECT iban, card, phone FROM accounts ORDER BY id").fetchall()
    con.close()
    assert len(got) == m
    assert all(iban_valid(i) and luhn_valid(c) for i, c, _ in got)
    assert not {i for i, _, _ in got} & set(src_ibans[:m]) and not {c for _, c, _ in got} & set(src_cards[:m])
