"""The known-entity recognizer: the source's own people, found in its free text by scrub."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sanitize.detect.known import KnownNames, collect_known_names, name_words
from sanitize.keys import SecretKey
from sanitize.pipeline import anonymize, open_source, preview
from sanitize.plan import build_plan
from sanitize.rules import parse_rules
from sanitize.strategies import get
from sanitize.strategies.apply import apply_strategy
from sanitize.strategies.registry import ColumnContext

# people no name list holds, written so that no list rule or context word finds them
CUSTOMERS = [
    (1, "Qzyra Vondelkamp", "qzyra.vondelkamp@mail.test", "qvk_77"),
    (2, "Ptolema Orrinwald", "p_orrinwald@mail.test", "ptolema"),
    (3, "Jin Park", "jin.park@mail.test", "jpark"),
]
TICKETS = [
    (1, "Qzyra Vondelkamp wants the refund sent to her new bank."),
    (2, "escalated: orrinwald called twice about the parcel"),
    (3, "Please park the van behind the depot."),  # 'park' is a customer's surname and a word
    (4, "Ticket closed by Jin Park after the call."),
    (5, "The lamp arrived broken, no reply from the courier."),
]
RULES = {
    "version": 1,
    "tables": {
        "customers": {
            "columns": {
                "id": "keep",
                "full_name": {"strategy": "fake", "kind": "name", "domain": "person"},
                "email": {"strategy": "fake", "kind": "email"},
                "login": "hash",
            }
        },
        "tickets": {"columns": {"id": "keep", "body": "scrub"}},
    },
}


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    db = tmp_path / "shop.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT, login TEXT)")
    con.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, body TEXT)")
    con.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", CUSTOMERS)
    con.executemany("INSERT INTO tickets VALUES (?, ?)", TICKETS)
    con.commit()
    con.close()
    return db


def _bodies(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return [r[0] for r in con.execute("SELECT body FROM tickets ORDER BY id")]
    finally:
        con.close()


def test_when_a_customer_is_named_in_a_ticket_then_anonymize_replaces_the_name(
    shop: Path, tmp_path: Path, key: SecretKey
) -> None:
    target = tmp_path / "dev.db"
    anonymize(parse_rules(RULES), str(shop), str(target), key=key)
    after = _bodies(target)
    joined = " ".join(after).lower()
    for word in ("qzyra", "vondelkamp", "orrinwald"):
        assert word not in joined
    assert "Jin Park" not in after[3]
    assert after[2] == TICKETS[2][1]  # an ordinary word that is also a surname stays
    assert after[4] == TICKETS[4][1]


def test_when_rows_are_previewed_then_the_known_people_are_replaced_too(shop: Path, key: SecretKey) -> None:
    _, after = preview(parse_rules(RULES), str(shop), "tickets", rows=5, key=key)
    assert "Vondelkamp" not in after["body"].iloc[0]


def test_when_no_rule_scrubs_then_no_column_is_read_for_names(shop: Path, key: SecretKey) -> None:
    rules = parse_rules(
        {**RULES, "tables": {**RULES["tables"], "tickets": {"columns": {"id": "keep", "body": "keep"}}}}
    )
    from sanitize.pipeline import with_known_people

    with open_source(str(shop)) as src:
        plan = with_known_people(build_plan(rules, src.schema), src, key)
    assert all(tp.known is None for tp in plan.tables.values())


def test_when_names_are_collected_then_only_keyed_fingerprints_are_kept(shop: Path, key: SecretKey) -> None:
    other = SecretKey(b"another-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    with open_source(str(shop)) as src:
        plan = build_plan(parse_rules(RULES), src.schema)
        known = collect_known_names(src, plan, key)
        known_other = collect_known_names(src, plan, other)
    assert known.strong.dtype == np.uint64 and len(known) > 0
    assert not set(known.strong.tolist()) & set(known_other.strong.tolist())  # the key changes them all


def test_when_more_words_than_the_cap_are_seen_then_a_keyed_sample_is_kept(key: SecretKey) -> None:
    from sanitize.detect.known import _Collector

    collector = _Collector(key, max_words=50)
    collector.add_column([f"Person{chr(97 + i % 26)}{chr(97 + i // 26 % 26)} Xy" for i in range(600)])
    known = collector.result()
    assert len(known) <= 50 and known.sample_bits > 0


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("Zoë Okafor", ["zoë", "okafor"]),
        ("z.okafor77@example.org", ["okafor"]),  # local part split, digits and 1-letter words dropped
        ("jean-luc_picard", ["jean", "luc", "picard"]),
    ],
)
def test_when_a_value_is_split_then_its_name_words_come_out(value: str, words: list[str]) -> None:
    assert name_words(value) == words


def _scrub(texts: list[str], known: KnownNames, key: SecretKey) -> pd.Series:
    spec = get("scrub")
    ctx = ColumnContext(key, "t.notes", known=known)
    return apply_strategy(pd.Series(texts, dtype="str"), spec, spec.validate_params({}), ctx)


def test_when_texts_are_scrubbed_in_batches_with_a_known_set_then_the_result_is_the_same(
    key: SecretKey,
) -> None:
    known = KnownNames.from_words(["vondelkamp", "qzyra", "park"], key)
    texts = [t for _, t in TICKETS] * 3
    whole = _scrub(texts, known, key)
    parts = pd.concat([_scrub(texts[:4], known, key), _scrub(texts[4:], known, key)], ignore_index=True)
    pd.testing.assert_series_equal(whole, parts)
    assert "Vondelkamp" not in whole.iloc[0]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Please park the van.", True),  # weak word, lower case
        ("Park Avenue is closed.", True),  # weak word, capitalised, no known neighbour
        ("Mr Park called.", False),  # after a title
        ("Jin Park called.", False),  # next to a known word
    ],
)
def test_when_a_known_word_is_also_a_common_word_then_it_needs_company(
    key: SecretKey, text: str, kept: bool
) -> None:
    known = KnownNames.from_words(["jin", "park"], key, weak_words=["jin"])
    out = _scrub([text], known, key).iloc[0]
    assert ("Park" in out or "park" in out) is kept


def test_when_a_json_path_scrubs_then_the_known_people_are_replaced_there_too(key: SecretKey) -> None:
    import json

    known = KnownNames.from_words(["vondelkamp", "qzyra"], key)
    spec = get("json")
    params = spec.validate_params({"paths": {"$.note": "scrub"}})
    docs = pd.Series([json.dumps({"note": "Qzyra Vondelkamp asked again", "n": 1})], dtype="str")
    out = apply_strategy(docs, spec, params, ColumnContext(key, "t.payload", known=known)).iloc[0]
    assert "Vondelkamp" not in out and "Qzyra" not in out and json.loads(out)["n"] == 1


def test_when_a_text_holds_letters_that_change_length_in_lower_case_then_spans_stay_aligned(
    key: SecretKey,
) -> None:
    known = KnownNames.from_words(["vondelkamp", "qzyra"], key)
    out = _scrub(["İstanbul office: Qzyra Vondelkamp called."], known, key).iloc[0]
    assert out.startswith("İstanbul office: ") and out.endswith(" called.")
    assert "Qzyra" not in out and "Vondelkamp" not in out
