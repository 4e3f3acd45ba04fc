"""The leak check: planted leaks are caught (exit 1) and their values never appear in any output."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sanitize.db import open_source, resolve
from sanitize.errors import CheckFailedError, LeakError
from sanitize.keys import SecretKey
from sanitize.verify import (
    Treatment,
    VerifyOptions,
    VerifyResult,
    extract_tokens,
    hash_strings,
    iban_valid,
    luhn_valid,
    verify,
)
from sanitize.verify.cells import Dictionary

OPTS = VerifyOptions(detector=False, batch_size=7)  # small batches: every check spans several batches

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, full_name TEXT, phone TEXT, card TEXT,
    iban TEXT, city TEXT, notes TEXT
);
CREATE TABLE tickets (
    id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), subject TEXT, body TEXT,
    contact TEXT
);
CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT);
"""

CARDS = ["4111111111111111", "5500005555555559", "4012888888881881", "378282246310005"]
IBANS = ["DE89370400440532013000", "GB29NWBK60161331926819", "FR1420041010050500013M02606"]
CITIES = ["Springfield", "Shelbyville", "Ogdenville"]


def source_rows(n: int = 30) -> dict[str, list[tuple[Any, ...]]]:
    customers = [
        (
            i,
            f"person{i}.real@mailhost{i % 3}.com",
            f"Realname{i} Surname{i}",
            f"+1 (555) {100 + i:03d}-{2000 + i:04d}",
            CARDS[i % len(CARDS)] if i < len(CARDS) else None,
            IBANS[i % len(IBANS)] if i < len(IBANS) else None,
            CITIES[i % len(CITIES)],
            f"Customer {i} asked about delivery; call +1 555 {100 + i:03d} {2000 + i:04d}"
            if i % 5 == 0
            else None,
        )
        for i in range(n)
    ]
    tickets = [
        (100 + i, i % n, f"Subject {i}", f"Body text number {i} with nothing personal", f"desk{i % 2}")
        for i in range(n)
    ]
    events = [
        (i, f'{{"user": {{"email": "person{i}.real@mailhost{i % 3}.com"}}, "type": "login"}}')
        for i in range(n)
    ]
    return {"customers": customers, "tickets": tickets, "events": events}


def fake_rows(src: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """What a correct anonymisation produces: every sensitive value replaced."""
    customers = [
        (
            r[0],
            f"user{r[0]}@example.net",
            f"Fakename{r[0]} Fakesurname",
            f"+1 (555) 01{r[0]:02d}-{9000 + int(str(r[0])):04d}",
            "4000056655665556" if r[4] else None,
            None,
            r[6],
            "Customer asked about delivery; call [phone]" if r[7] else None,
        )
        for r in src["customers"]
    ]
    tickets = list(src["tickets"])
    events = [
        (r[0], f'{{"user": {{"email": "user{r[0]}@example.net"}}, "type": "login"}}') for r in src["events"]
    ]
    return {"customers": customers, "tickets": tickets, "events": events}


TREAT: dict[str, dict[str, Treatment]] = {
    "customers": {
        "id": "keep",
        "email": "transform",
        "full_name": "transform",
        "phone": "transform",
        "card": "transform",
        "iban": "transform",
        "city": "keep",
        "notes": "partial",
    },
    "tickets": {"id": "keep", "customer_id": "keep", "subject": "keep", "body": "keep", "contact": "keep"},
    "events": {"id": "keep", "payload": "partial"},
}


def write_db(path: Path, rows: dict[str, list[tuple[Any, ...]]], ddl: str = SCHEMA) -> Path:
    con = sqlite3.connect(path)
    con.executescript(ddl)
    for table, data in rows.items():
        if data:
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(data[0]))})", data)
    con.commit()
    con.close()
    return path


@pytest.fixture
def pair(tmp_path: Path) -> Callable[..., VerifyResult]:
    """Build source and target databases (the target edited by `plant`) and verify them."""

    def run(
        plant: Callable[[dict[str, list[list[object]]]], None] | None = None,
        options: VerifyOptions = OPTS,
        wrap: Callable[[Any], Any] = lambda db: db,
        wrap_target: Callable[[Any], Any] = lambda db: db,
        **treat: dict[str, Treatment],
    ) -> VerifyResult:
        src = source_rows()
        tgt = {t: [list(r) for r in rows] for t, rows in fake_rows(src).items()}
        if plant is not None:
            plant(tgt)
        for name in ("src.db", "tgt.db"):
            (tmp_path / name).unlink(missing_ok=True)
        s = write_db(tmp_path / "src.db", src)
        # the target's own constraints are not what is checked: the source's are (a load could lose them)
        loose = SCHEMA.replace(" UNIQUE", "").replace(" REFERENCES customers(id)", "")
        t = write_db(tmp_path / "tgt.db", {k: [tuple(r) for r in v] for k, v in tgt.items()}, loose)
        treatments = {k: {**v, **treat.get(k, {})} for k, v in TREAT.items()}
        with open_source(resolve(str(s))) as a, open_source(resolve(str(t))) as b:
            return verify(wrap(a), wrap_target(wrap(b)), treatments, SecretKey(b"k" * 40), options)

    return run


def all_output(result: VerifyResult) -> str:
    """Everything verify can show: the exception text, leak lines, checks and the report dict."""
    text = repr(result.to_dict())
    try:
        result.raise_for_problems()
    except (LeakError, CheckFailedError) as exc:
        text += str(exc)
    return text


def test_when_target_is_properly_anonymised_then_no_leak_and_checks_pass(
    pair: Callable[..., VerifyResult],
) -> None:
    result = pair()
    assert result.leaks == [], [str(x) for x in result.leaks]
    assert result.ok, [c for c in result.checks if not c.ok]
    names = {(c.table, c.name) for c in result.checks}
    assert ("customers", "row count") in names and ("tickets", "foreign key") in names
    assert ("customers", "unique") in names
    assert result.rows == {"customers": 30, "tickets": 30, "events": 30}
    result.raise_for_problems()  # nothing to raise


def test_when_a_kept_column_holds_source_emails_then_leak_is_reported_without_values(
    pair: Callable[..., VerifyResult],
) -> None:
    def plant(t: dict[str, list[list[object]]]) -> None:
        t["tickets"][3][4] = "person7.real@mailhost1.com"  # tickets.contact is kept

    result = pair(plant)
    leaks = [x for x in result.leaks if (x.table, x.column) == ("tickets", "contact")]
    assert [(x.row, x.kind) for x in leaks] == [("id=103", "email")]
    assert "customers.email" in leaks[0].detail
    with pytest.raises(LeakError) as exc:
        result.raise_for_problems()
    assert exc.value.exit_code == 1
    assert "person7.real" not in all_output(result)


def test_when_a_kept_column_holds_emails_not_in_the_source_then_the_pattern_check_reports_them(
    pair: Callable[..., VerifyResult],
) -> None:
    def plant(t: dict[str, list[list[object]]]) -> None:
        for i in range(5):
            t["tickets"][i][4] = f"somebody{i}@elsewhere.org"

    result = pair(plant)
    assert result.leak_counts[("tickets", "contact", "email pattern")] == 5
    assert "somebody" not in all_output(result)


def test_when_a_rule_was_removed_between_anonymise_and_verify_then_the_unchanged_column_is_a_leak(
    pair: Callable[..., VerifyResult],
) -> None:
    src = source_rows()

    def plant(t: dict[str, list[list[object]]]) -> None:
        for row, orig in zip(t["customers"], src["customers"], strict=True):
            row[2] = orig[2]  # full_name copied as it was: its rule did not run

    result = pair(plant)
    assert result.leak_counts[("customers", "full_name", "unchanged")] == 30
    rows = [x.row for x in result.leaks if x.column == "full_name"]
    assert rows[:3] == ["id=0", "id=1", "id=2"] and len(rows) == OPTS.max_reported
    out = all_output(result)
    assert "Realname" not in out and "Surname1" not in out
    with pytest.raises(LeakError, match="30 sensitive source value"):
        result.raise_for_problems()


def test_when_a_fake_equals_a_real_value_by_chance_then_it_is_not_a_leak(
    pair: Callable[..., VerifyResult],
) -> None:
    src = source_rows()

    def plant(t: dict[str, list[list[object]]]) -> None:
        t["customers"][4][2] = src["customers"][4][2]  # one fake name that happens to be the real one
        t["customers"][5][2] = src["customers"][9][2]  # and one equal to another customer's name

    assert pair(plant).leak_counts == {}


def test_when_free_text_holds_a_card_number_then_it_is_caught(pair: Callable[..., VerifyResult]) -> None:
    def plant(t: dict[str, list[list[object]]]) -> None:
        t["tickets"][2][3] = (
            "Please refund, my card is 4012 8888 8888 1881 thanks"  # kept body; a source card
        )
        t["tickets"][5][3] = "New card 4242-4242-4242-4242 for the order"  # not in the source: by checksum

    result = pair(plant)
    assert result.leak_counts[("tickets", "body", "card")] == 1
    assert result.leak_counts[("tickets", "body", "card pattern")] == 1
    assert {x.row for x in result.leaks if x.column == "body"} == {"id=102", "id=105"}
    out = all_output(result)
    for digits in ("4012 8888", "40128888", "4242"):
        assert digits not in out


def test_when_scrubbed_text_or_json_still_holds_a_source_value_then_it_is_caught(
    pair: Callable[..., VerifyResult],
) -> None:
    def plant(t: dict[str, list[list[object]]]) -> None:
        t["customers"][10][7] = "Customer asked about delivery; call +1 555 110 2010"  # scrub missed a phone
        t["events"][6][1] = (
            '{"user": {"email": "person6.real@mailhost0.com"}, "type": "login"}'  # json path missed
        )
        t["customers"][12][5] = "GB29NWBK60161331926819"  # customer 1's IBAN in a transformed column
        t["tickets"][4][2] = "gb29 nwbk 6016 1331 9268 19"  # ... spaced and lower-case in a kept one

    result = pair(plant)
    assert result.leak_counts[("customers", "notes", "phone")] == 1
    assert result.leak_counts[("events", "payload", "email")] == 1
    assert result.leak_counts[("customers", "iban", "iban")] == 1
    assert result.leak_counts[("tickets", "subject", "iban")] == 1
    out = all_output(result)
    assert "person6.real" not in out and "110 2010" not in out and "NWBK" not in out


def test_when_a_kept_column_holds_a_source_name_then_it_is_a_leak(pair: Callable[..., VerifyResult]) -> None:
    def plant(t: dict[str, list[list[object]]]) -> None:
        t["tickets"][0][2] = "realname3 surname3"  # case and spacing do not hide it

    result = pair(plant)
    assert result.leak_counts == {("tickets", "subject", "value"): 1}


def test_when_a_value_is_common_in_the_source_then_it_identifies_nobody(
    pair: Callable[..., VerifyResult],
) -> None:
    def plant(t: dict[str, list[list[object]]]) -> None:
        t["tickets"][0][2] = "Springfield"  # a kept column holding a city that 10 customers share
        t["tickets"][1][2] = "Realname3 Surname3"  # ... and a name that only one customer has

    # city counts as sensitive here ("partial": its values may stay, so no unchanged check)
    result = pair(plant, customers={"city": "partial"})
    assert result.leak_counts == {("tickets", "subject", "value"): 1}
    assert [x.row for x in result.leaks] == ["id=101"]


def test_when_integrity_is_broken_then_checks_fail_with_checkfailed(
    pair: Callable[..., VerifyResult],
) -> None:
    def plant(t: dict[str, list[list[object]]]) -> None:
        t["tickets"][1][1] = 999  # no such customer
        t["customers"][3][1] = t["customers"][4][1]  # duplicate email (unique)
        del t["events"][0]

    result = pair(plant)
    failed = {(c.table, c.name) for c in result.checks if not c.ok}
    assert failed == {("tickets", "foreign key"), ("customers", "unique"), ("events", "row count")}
    with pytest.raises(CheckFailedError) as exc:
        result.raise_for_problems()
    assert exc.value.exit_code == 1


# --- helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "ok"),
    [
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("378282246310005", True),
        ("79927398713", True),
    ],
)
def test_when_luhn_is_checked_then_it_matches_the_algorithm(digits: str, ok: bool) -> None:
    assert luhn_valid(pa.array([digits])).tolist() == [ok]


@pytest.mark.parametrize(
    ("iban", "ok"),
    [
        ("DE89370400440532013000", True),
        ("DE89370400440532013001", False),
        ("FR1420041010050500013M02606", True),
    ],
)
def test_when_iban_is_checked_then_mod97_decides(iban: str, ok: bool) -> None:
    assert iban_valid(pa.array([iban])).tolist() == [ok]


def test_when_text_holds_several_tokens_then_each_is_extracted(key: SecretKey) -> None:
    text = pa.array(
        ["mail a@b.io and c.d@e.org, call +44 20 7946 0958", "nothing", "de89 3704 0044 0532 0130 00"]
    )
    found = extract_tokens(text, key)
    pos, h, token = found.get("email")
    assert sorted(pos.tolist()) == [0, 0] and len(set(h.tolist())) == 2 and token.all()
    assert found.get("phone")[0].tolist() == [0]
    assert found.get("iban")[0].tolist() == [2]
    assert len(found.get("card")[0]) == 0
    # a token hashes like the same value standing alone in a cell
    alone = hash_strings(pa.array(["a@b.io", "c.d@e.org"]), key)
    assert set(h.tolist()) == set(alone.tolist())


def test_when_strings_are_hashed_then_equal_strings_match_and_lengths_matter(key: SecretKey) -> None:
    values = ["", "a", "abcdefgh", "abcdefghi", "abcdefgh\x00", "é" * 300, "x" * 300, "a"]
    h = hash_strings(pa.array(values), key)
    assert h[1] == h[7]
    assert len(set(h[:7].tolist())) == 7
    other = hash_strings(pa.array(values), SecretKey(b"another-key-0123456789-abcdefghijkl"))
    assert not set(h.tolist()) & set(other.tolist())


# --- same answers whichever way the cells are read --------------------------------------------------


def plant_nothing(t: dict[str, list[list[object]]]) -> None:
    pass


def plant_many(t: dict[str, list[list[object]]]) -> None:
    src = source_rows()
    for row, orig in zip(t["customers"], src["customers"], strict=True):
        row[2] = orig[2]  # full_name unchanged
    t["tickets"][3][4] = "person7.real@mailhost1.com"  # a source email in a kept column
    t["tickets"][2][3] = "my card is 4012 8888 8888 1881, call +1 555 107 2007"  # card and phone in text
    t["customers"][10][7] = "Customer asked about delivery; call +1 555 110 2010"  # scrub missed a phone
    t["tickets"][1][1] = 999  # no such customer


def plant_repeated_text(t: dict[str, list[list[object]]]) -> None:
    payload = '{"user": {"email": "person0.real@mailhost0.com"}, "type": "login"}'
    for i in range(6):  # one JSON text in many rows: once its own row's email, else another customer's
        t["events"][i][1] = payload
    for i in range(0, 30, 2):  # kept text repeated across rows, with a source name inside a value
        t["tickets"][i][2] = "realname4 surname4"


@pytest.mark.parametrize("plant", [plant_nothing, plant_many, plant_repeated_text])
@pytest.mark.parametrize("dictionary", ["always", "never"])
def test_when_cells_are_dictionary_encoded_or_not_then_the_result_is_the_same(
    pair: Callable[..., VerifyResult],
    plant: Callable[[dict[str, list[list[object]]]], None],
    dictionary: Dictionary,
) -> None:
    def comparable(r: VerifyResult) -> dict[str, Any]:
        return {**r.to_dict(), "seconds": None}

    default = pair(plant)
    forced = pair(plant, options=VerifyOptions(detector=False, batch_size=7, dictionary=dictionary))
    assert comparable(forced) == comparable(default)
    if plant is plant_repeated_text:
        assert default.leak_counts[("events", "payload", "email")] == 6
        assert default.leak_counts[("tickets", "subject", "value")] == 15


class FramesOnly:
    """A readable that only yields pandas DataFrames (as dump readers do), wrapping a database source."""

    def __init__(self, db: Any) -> None:
        self.db, self.schema = db, db.schema

    def count(self, table: str) -> int:
        return int(self.db.count(table))

    def read_batches(
        self, table: str, batch_size: int = 65_536, columns: Any = None
    ) -> Iterator[pd.DataFrame]:
        yield from self.db.read_batches(table, batch_size=batch_size, columns=columns)


def test_when_the_reader_only_gives_dataframes_then_the_result_matches_arrow(
    pair: Callable[..., VerifyResult],
) -> None:
    arrow = pair(plant_many)
    for frames in (pair(plant_many, wrap=FramesOnly), pair(plant_many, wrap_target=FramesOnly)):
        assert {**frames.to_dict(), "seconds": 0} == {**arrow.to_dict(), "seconds": 0}
        assert frames.leak_counts[("customers", "full_name", "unchanged")] == 30


# --- row alignment ------------------------------------------------------------------------------------


def _two_dbs(
    tmp_path: Path, ddl_src: str, ddl_tgt: str, src: list[tuple[Any, ...]], tgt: list[tuple[Any, ...]]
) -> tuple[Path, Path]:
    paths = []
    for name, ddl, rows in (("a.db", ddl_src, src), ("b.db", ddl_tgt, tgt)):
        con = sqlite3.connect(tmp_path / name)
        con.execute(ddl)
        con.executemany(f"INSERT INTO p VALUES ({', '.join('?' * len(rows[0]))})", rows)
        con.commit()
        con.close()
        paths.append(tmp_path / name)
    return paths[0], paths[1]


@pytest.mark.parametrize(
    ("ddl_src", "ddl_tgt", "order"),
    [
        # integer key, target rows in another order (not the rowid: read in insertion order)
        (
            "CREATE TABLE p (id INT PRIMARY KEY, name TEXT, city TEXT)",
            "CREATE TABLE p (id INT PRIMARY KEY, name TEXT, city TEXT)",
            "shuffled",
        ),
        # integer key, columns in another order in the target
        (
            "CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT, city TEXT)",
            "CREATE TABLE p (id INTEGER PRIMARY KEY, city TEXT, name TEXT)",
            "columns",
        ),
        # a text key: rows aligned by fingerprints of the kept columns
        (
            "CREATE TABLE p (id TEXT PRIMARY KEY, name TEXT, city TEXT)",
            "CREATE TABLE p (id TEXT PRIMARY KEY, name TEXT, city TEXT)",
            "shuffled",
        ),
        # no key at all: aligned by every kept column
        (
            "CREATE TABLE p (id INT, name TEXT, city TEXT)",
            "CREATE TABLE p (id INT, name TEXT, city TEXT)",
            "shuffled",
        ),
    ],
)
def test_when_a_transformed_column_reached_the_target_unchanged_then_each_alignment_catches_it(
    tmp_path: Path, ddl_src: str, ddl_tgt: str, order: str
) -> None:
    text_key = "TEXT PRIMARY" in ddl_src
    src = [(f"k{i}" if text_key else i, f"Person Number{i}", f"Town{i % 3}") for i in range(40)]
    tgt = [
        (k, name if i % 4 else f"Fake Person{i}", city) for i, (k, name, city) in enumerate(src)
    ]  # 30 kept
    if order == "shuffled":
        random.Random(3).shuffle(tgt)
    else:
        tgt = [(k, city, name) for k, name, city in tgt]
    a, b = _two_dbs(tmp_path, ddl_src, ddl_tgt, src, tgt)
    treat: dict[str, dict[str, Treatment]] = {"p": {"id": "keep", "name": "transform", "city": "keep"}}
    with open_source(resolve(str(a))) as s, open_source(resolve(str(b))) as t:
        result = verify(s, t, treat, SecretKey(b"k" * 40), VerifyOptions(detector=False, batch_size=9))
    assert result.leak_counts == {("p", "name", "unchanged"): 30}
    assert "Number" not in all_output(result)


def test_when_the_batch_size_changes_then_the_fingerprint_memory_does_not(
    pair: Callable[..., VerifyResult],
) -> None:
    small = pair(plant_many)
    large = pair(plant_many, options=VerifyOptions(detector=False, batch_size=1000))
    assert small.fingerprint_bytes > 0
    assert small.fingerprint_bytes == large.fingerprint_bytes
    assert {**small.to_dict(), "seconds": 0} == {**large.to_dict(), "seconds": 0}


# --- tokens and the vectorised helpers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        # a long number, then digits after it: no number made of the digits on both sides of it
        ("ref 506622 +1 555 1732613 5500005555555559", {}),
        # two emails and a phone in one text
        ("a@b.io, c.d@e.org; +44 20 7946 0958", {"email": 2, "phone": 1}),
        # the split marker itself in the text does not hide a token
        ("x\x1ey@mail.example.com\x1e", {"email": 1}),
        # a card with dashes and an IBAN with spaces (a letter right after it would extend the match)
        ("card 4111-1111-1111-1111, iban de89 3704 0044 0532 0130 00.", {"iban": 1, "card": 1}),
    ],
)
def test_when_text_holds_tokens_then_each_match_in_the_text_is_one_token(
    key: SecretKey, text: str, kinds: dict[str, int]
) -> None:
    found = extract_tokens(pa.array([text]), key)
    assert {
        k: len(found.get(k)[0]) for k in ("email", "card", "iban", "phone") if len(found.get(k)[0])
    } == kinds


@pytest.mark.parametrize(
    "values",
    [
        ["", "a1", "", "9@9", ""],  # empty strings first, between and last
        ["@@1", "x", "12345678901234567890"],
        [""],
    ],
)
def test_when_bytes_are_counted_then_empty_and_sliced_strings_count_right(values: list[str]) -> None:
    from sanitize.verify.tokens import byte_counts, digit_counts

    for arr in (pa.array(values, type=pa.large_string()), pa.array(["skip", *values]).slice(1)):
        assert digit_counts(arr).tolist() == [sum(c.isdigit() for c in v) for v in values]
        assert byte_counts(arr, ord("@")).tolist() == [v.count("@") for v in values]


def test_when_text_is_normalised_then_the_ascii_path_matches_the_unicode_one() -> None:
    from sanitize.verify.cells import column_text

    values = [" Mixed Case ", "\x1cSep\x1f", "ÉCOLE ", "\u00a0nbsp", "tab\t", "plain", "", None]
    got = column_text(pa.array(values), "never").items.to_pylist()
    want = pc.utf8_lower(pc.utf8_trim_whitespace(pa.array([v for v in values if v is not None]))).to_pylist()
    assert got == want
    ascii_only = [" ABC ", "def", "\x1dG\x1e"]
    got = column_text(pa.array(ascii_only), "never").items.to_pylist()
    assert got == pc.utf8_lower(pc.utf8_trim_whitespace(pa.array(ascii_only))).to_pylist()


@pytest.mark.parametrize("n", [0, 1, 2, 7, 1000, 20_000])
def test_when_hashes_are_looked_up_then_positions_match_a_sorted_search(n: int) -> None:
    from sanitize.verify import HashSet
    from sanitize.verify.fingerprints import sorted_unique

    rng = np.random.default_rng(n)
    h = sorted_unique(rng.integers(0, 2**63, n, dtype=np.int64).view(np.uint64) * np.uint64(2))
    queries = np.concatenate([h, rng.integers(0, 2**63, 500, dtype=np.int64).view(np.uint64)])
    want = np.searchsorted(h, queries)
    want = np.where(
        (want < len(h)) & (h[np.minimum(want, max(len(h) - 1, 0))] == queries) if len(h) else False, want, -1
    )
    assert HashSet(h).positions(queries).tolist() == np.broadcast_to(want, queries.shape).tolist()


@pytest.mark.parametrize(
    "values",
    [
        ["Thanks, Okafor! O'Reilly McDonald x", None, "", "zoe.okafor77@x.com", "ab", "Hi Li"],
        ["", "", None],
        ["---", "a-b-c", "ALLCAPS word", "x" * 300],
    ],
)
def test_when_ascii_text_is_split_into_name_tokens_then_the_byte_path_matches_the_regex_split(
    values: list[str | None],
) -> None:
    from sanitize.verify import nametokens

    arr = pa.array(values, pa.large_string())
    for sliced in (arr, arr.slice(1)):
        runs = nametokens._ascii_runs(sliced)
        assert runs is not None
        cell, tokens = nametokens._split(sliced)
        nonempty = np.asarray(pc.utf8_length(tokens)) > 0  # the regex split also yields empty strings
        words = tokens.filter(pa.array(nonempty))
        assert runs.cell.tolist() == cell[nonempty].tolist()
        assert runs.lower.to_pylist() == pc.utf8_lower(words).to_pylist()
        assert runs.upper.tolist() == [t[0].isupper() for t in words.to_pylist()]


def test_when_a_unique_index_is_partial_then_duplicates_outside_its_where_are_no_failure(
    tmp_path: Path,
) -> None:
    """Soft-deleted rows may repeat a value a partial unique index (WHERE deleted_at IS NULL) keeps
    unique among live rows; the target enforces the index itself (found on a real billing schema)."""
    import sqlite3

    from sanitize.rules import parse_rules
    from sanitize.verify import verify_databases

    for name in ("src.db", "tgt.db"):
        con = sqlite3.connect(tmp_path / name)
        con.execute("CREATE TABLE roles (id INTEGER PRIMARY KEY, code TEXT, deleted_at TEXT)")
        con.execute("CREATE UNIQUE INDEX roles_live_code ON roles (code) WHERE deleted_at IS NULL")
        con.executemany(
            "INSERT INTO roles VALUES (?, ?, ?)",
            [(1, "admin", None), (2, "admin", "2024-01-01"), (3, "admin", "2024-02-01"), (4, "user", None)],
        )
        con.commit()
        con.close()
    rules = parse_rules({"version": 1, "unknown_columns": "keep", "tables": {}})
    result = verify_databases(rules, str(tmp_path / "src.db"), str(tmp_path / "tgt.db"))
    assert [c for c in result.checks if not c.ok] == []
