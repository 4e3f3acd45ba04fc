"""The `scrub` strategy: PII inside free text replaced by fakes that match the column rules' pseudonyms."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanitize.errors import RulesError
from sanitize.keys import SecretKey
from sanitize.rules import parse_column_rule
from sanitize.strategies import get
from sanitize.strategies.apply import apply_strategy
from sanitize.strategies.registry import ColumnContext

PLANTED = {
    "email": "jane.doe@example.org",
    "name": "Maria Garcia",
    "phone": "+44 20 7946 0958",
    "card": "4111 1111 1111 1111",
    "iban": "DE89 3704 0044 0532 0130 00",
    "nino": "AB123456C",
    "ip": "10.20.30.40",
}
TEXTS = [
    f"Hello, this is {PLANTED['name']}. Please write to {PLANTED['email']} about my order.",
    f"Called from {PLANTED['phone']}; card {PLANTED['card']} was declined twice.",
    f"Refund to IBAN {PLANTED['iban']} (NI number {PLANTED['nino']}), login from {PLANTED['ip']}.",
    "The parcel arrived damaged; a replacement is on its way.",
    None,
]


def _scrub(values: pd.Series, key: SecretKey, domain: str = "t.notes", **params: object) -> pd.Series:
    spec = get("scrub")
    return apply_strategy(values, spec, spec.validate_params(params), ColumnContext(key, domain))


def _fake(values: list[str], key: SecretKey, kind: str, domain: str, unique: bool = False) -> list[str]:
    spec = get("fake")
    ctx = ColumnContext(key, domain, unique=unique)
    return apply_strategy(pd.Series(values), spec, spec.validate_params({"kind": kind}), ctx).tolist()


@pytest.fixture
def scrubbed(key: SecretKey) -> pd.Series:
    return _scrub(pd.Series(TEXTS, dtype="str"), key)


@pytest.mark.parametrize("what", sorted(PLANTED))
def test_when_text_holds_planted_pii_then_no_planted_value_is_left(scrubbed: pd.Series, what: str) -> None:
    joined = " | ".join(v for v in scrubbed.tolist() if isinstance(v, str))
    assert PLANTED[what] not in joined


def test_when_text_is_scrubbed_then_text_outside_the_spans_is_unchanged(scrubbed: pd.Series) -> None:
    first = scrubbed.iloc[0]
    assert first.startswith("Hello, this is ")
    assert ". Please write to " in first and first.endswith(" about my order.")
    assert scrubbed.iloc[3] == TEXTS[3]  # no PII: untouched
    assert pd.isna(scrubbed.iloc[4])  # NULL stays NULL


def test_when_an_email_is_scrubbed_then_it_gets_the_pseudonym_of_the_email_column_rule(
    scrubbed: pd.Series, key: SecretKey
) -> None:
    # customers.email: {strategy: fake, kind: email, domain: email}
    (column_fake,) = _fake([PLANTED["email"]], key, "email", "email")
    assert column_fake in scrubbed.iloc[0]
    # customers.full_name: {strategy: fake, kind: name, domain: person}
    (name_fake,) = _fake([PLANTED["name"]], key, "name", "person")
    assert scrubbed.iloc[0] == f"Hello, this is {name_fake}. Please write to {column_fake} about my order."


def test_when_the_column_rule_is_unique_then_unique_entities_gives_the_same_pseudonym(
    key: SecretKey,
) -> None:
    (unique_fake,) = _fake([PLANTED["email"]], key, "email", "email", unique=True)
    out = _scrub(pd.Series([f"mail {PLANTED['email']} now"]), key, unique_entities=["EMAIL_ADDRESS"])
    assert out.iloc[0] == f"mail {unique_fake} now"


def test_when_a_domain_is_mapped_then_the_pseudonym_follows_that_domain(key: SecretKey) -> None:
    (fake_in_domain,) = _fake([PLANTED["email"]], key, "email", "customer_email")
    out = _scrub(
        pd.Series([f"mail {PLANTED['email']} now"]), key, domains={"EMAIL_ADDRESS": "customer_email"}
    )
    assert out.iloc[0] == f"mail {fake_in_domain} now"


def test_when_entities_are_restricted_then_other_pii_is_left_alone(key: SecretKey) -> None:
    text = f"mail {PLANTED['email']} or call {PLANTED['phone']}"
    out = _scrub(pd.Series([text]), key, entities=["EMAIL_ADDRESS"]).iloc[0]
    assert PLANTED["email"] not in out and out.endswith(f" or call {PLANTED['phone']}")


def test_when_scrubbed_in_batches_then_the_result_is_the_same_and_deterministic(key: SecretKey) -> None:
    values = pd.Series(TEXTS * 3, dtype="str")
    whole = _scrub(values, key)
    parts = pd.concat([_scrub(values.iloc[:4], key), _scrub(values.iloc[4:], key)])
    pd.testing.assert_series_equal(whole, parts)
    pd.testing.assert_series_equal(whole, _scrub(values, key))
    assert whole.iloc[0] == whole.iloc[5]  # equal inputs, equal outputs, wherever they are


def test_when_the_key_changes_then_the_pseudonyms_change(key: SecretKey) -> None:
    other = SecretKey(b"another-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    values = pd.Series(TEXTS[:1])
    assert _scrub(values, key).iloc[0] != _scrub(values, other).iloc[0]


def test_when_the_input_is_scrubbed_then_it_is_not_mutated(key: SecretKey) -> None:
    values = pd.Series(TEXTS, dtype="str")
    before = values.copy()
    _scrub(values, key)
    pd.testing.assert_series_equal(values, before)


def test_when_an_id_has_no_fake_kind_then_its_shape_is_kept(scrubbed: pd.Series) -> None:
    third = scrubbed.iloc[2]
    nino = third.split("(NI number ")[1].split(")")[0]
    assert nino != PLANTED["nino"] and len(nino) == 9
    assert nino[:2].isalpha() and nino[2:8].isdigit() and nino[8].isalpha()


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("scrub", True),
        ({"strategy": "scrub", "domains": {"EMAIL_ADDRESS": "email"}}, True),
        ({"strategy": "scrub", "kinds": {"PERSON": "first_name"}}, True),
        ({"strategy": "scrub", "kinds": {"PERSON": "nmae"}}, False),  # unknown fake kind
        ({"strategy": "scrub", "min_score": 2}, False),  # out of range
        ({"strategy": "scrub", "colour": "red"}, False),  # unknown parameter
    ],
)
def test_when_a_scrub_rule_is_parsed_then_bad_params_are_refused(raw: object, ok: bool) -> None:
    if ok:
        assert parse_column_rule(raw).strategy == "scrub"
    else:
        with pytest.raises(RulesError):
            parse_column_rule(raw)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=60), min_size=1, max_size=5))
def test_when_any_text_is_scrubbed_then_it_never_fails_and_keeps_length_and_index(
    key: SecretKey, texts: list[str]
) -> None:
    values = pd.Series(texts, dtype="str", index=range(10, 10 + len(texts)))
    out = _scrub(values, key)
    assert list(out.index) == list(values.index)
    assert all(isinstance(v, str) for v in out)


def test_when_a_domain_is_unique_elsewhere_in_the_rules_then_scrub_uses_the_unique_pseudonym(
    key: SecretKey,
) -> None:
    # the plan tells every strategy which domains a column made unique; scrub follows without params
    (unique_fake,) = _fake([PLANTED["email"]], key, "email", "email", unique=True)
    spec = get("scrub")
    ctx = ColumnContext(key, "t.notes", unique_domains=frozenset({"email"}))
    out = apply_strategy(pd.Series([f"mail {PLANTED['email']} now"]), spec, spec.validate_params({}), ctx)
    assert out.iloc[0] == f"mail {unique_fake} now"


@pytest.mark.parametrize(
    "number",
    [
        "5569676194",  # bare ten digits, not a valid US number: still someone's number in a ticket
        "(099) 555-0142",  # US-shaped with an invalid area code
        "020 7946 0958 44",  # long national run
    ],
)
def test_when_text_holds_phone_shaped_digits_then_scrub_replaces_them(key: SecretKey, number: str) -> None:
    out = _scrub(pd.Series([f"Call me on {number} after six."]), key)
    assert number not in out.iloc[0]
    assert out.iloc[0].startswith("Call me on ") and out.iloc[0].endswith(" after six.")


# --- long texts: read in pieces, with progress ---------------------------------------------------


def test_when_a_text_is_cut_into_pieces_then_the_cores_tile_it_and_cuts_fall_on_breaks() -> None:
    from sanitize.detect.engine import chunks

    text = ("word " * 900 + "end of a line.\n") * 30
    pieces = chunks(text, size=5000, overlap=100)
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))  # no gap, no overlap
    assert all(text[end - 1] in "\n " for _, end, _, _ in pieces[:-1])  # cut after a break
    assert all(rs == max(0, cs - 100) and re_ == min(len(text), ce + 100) for cs, ce, rs, re_ in pieces)


def test_when_pii_straddles_the_cut_of_a_long_text_then_it_is_still_replaced(key: SecretKey) -> None:
    from sanitize.detect.engine import CHUNK, LONG_TEXT, chunks

    filler = "The parcel arrived late and the box was dented on one side. "
    text = filler * (3 * LONG_TEXT // len(filler))
    planted = []
    for _, end, _, _ in chunks(text)[:-1]:  # put PII right across every cut
        planted.append((end - 8, f"mail {PLANTED['email']} or call Dr. Oberhuber "))
    for pos, piece in reversed(planted):
        text = text[:pos] + piece + text[pos:]
    assert len(text) > 2 * CHUNK
    out = _scrub(pd.Series([text]), key).iloc[0]
    assert PLANTED["email"] not in out and "Oberhuber" not in out
    assert out.count(filler) >= text.count(filler) - 2 * len(planted)  # the rest is untouched


def test_when_a_batch_holds_long_texts_then_scrub_reports_its_progress(key: SecretKey) -> None:
    from sanitize.detect.engine import LONG_TEXT
    from sanitize.schema import Column

    calls: list[tuple[str, int, int | None]] = []
    text = "Please call Dr. Oberhuber about the refund. " * (3 * LONG_TEXT // 40)
    spec = get("scrub")
    column = Column("body", "text")
    ctx = ColumnContext(key, "t.notes", table="tickets", column=column, progress=lambda *a: calls.append(a))
    apply_strategy(pd.Series([text, "short"]), spec, spec.validate_params({}), ctx)
    assert calls and calls[-1][1] == calls[-1][2] == len(text)
    assert calls[0][0].startswith("tickets.body")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(1, 12), st.sampled_from([0.3, 0.5, 0.85])), max_size=30
    )
)
def test_when_spans_overlap_then_the_fast_resolution_keeps_what_the_pairwise_one_kept(
    raw: list[tuple[int, int, float]],
) -> None:
    from sanitize.detect.engine import Span, resolve_overlaps

    spans = [Span(0, s, s + n, "X", sc, "r") for s, n, sc in raw]

    def pairwise(spans: list[Span]) -> list[Span]:  # the former O(n²) rule
        if len(spans) > 1:
            spans = [
                s
                for s in spans
                if not any(
                    o is not s
                    and o.start <= s.start
                    and s.end <= o.end
                    and (o.end - o.start) > (s.end - s.start)
                    for o in spans
                )
            ]
        kept: list[Span] = []
        for s in sorted(spans, key=lambda s: (-s.score, -(s.end - s.start), s.start)):
            if all(s.end <= k.start or s.start >= k.end for k in kept):
                kept.append(s)
        return sorted(kept, key=lambda s: s.start)

    assert resolve_overlaps(spans) == pairwise(spans)
