"""The leak check: planted leaks are caught (exit 1) and their values never appear in any output."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
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


def source_rows(n: int = 30) -> dict[str, list[tuple[object, ...]]]:
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


def fake_rows(src: dict[str, list[tuple[object, ...]]]) -> dict[str, list[tuple[object, ...]]]:
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


def write_db(path: Path, rows: dict[str, list[tuple[object, ...]]], ddl: str = SCHEMA) -> Path:
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
        plant: Callable[[dict[str, list[list[object]]]], None] | None = None, **treat: dict[str, Treatment]
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
            return verify(a, b, treatments, SecretKey(b"k" * 40), OPTS)

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
