"""Names in free text: world name lists, context rules, and recall/precision on hand-written data.

The people come from 25 languages' names written for these tests (tests/name_samples.py), not from
Faker; each is put in 12 templates, half with a context word and half without. A name counts as found
when scrub leaves none of its words in the text.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from sanitize.detect.engine import Detector, get_detector
from sanitize.keys import SecretKey
from sanitize.strategies import get
from sanitize.strategies.apply import apply_strategy
from sanitize.strategies.registry import ColumnContext
from tests.name_samples import FAMILY_FIRST, NO_PEOPLE, PEOPLE, WITH_CONTEXT, WITHOUT_CONTEXT


@pytest.fixture(scope="module")
def detector() -> Detector:
    return get_detector()


def _names(detector: Detector, text: str) -> list[str]:
    return [text[s.start : s.end] for s in detector.find([text], entities=["PERSON"]) if s.score >= 0.3]


# (text, the names that must be found) — none of these people are in Faker's lists
CASES = [
    # introductions, titles, née, "Surname, Title Given"
    ("Hi, this is Zoë Okafor, about order 1234.", ["Zoë Okafor"]),
    ("Cumings, Mrs. Florence Briggs (née Thayer)", ["Cumings", "Mrs. Florence Briggs", "Thayer"]),
    ("Braund, Mr. Owen Harris", ["Braund", "Mr. Owen Harris"]),
    ("Herr Oberhuber ruft morgen an.", ["Herr Oberhuber"]),
    ("Je m'appelle Solène Rochefort.", ["Solène Rochefort"]),
    # sign-offs and greetings
    ("Thanks, Wanjiru", ["Wanjiru"]),
    ("The box was empty.\nRegards,\nBaraka Mwangi", ["Baraka Mwangi"]),
    ("Dear Chiamaka, your refund is on its way.", ["Chiamaka"]),
    # both words on the lists, either order, other scripts
    ("Angus Young and Malcolm Young played.", ["Angus Young", "Malcolm Young"]),
    ("Meeting with Иван Петров tomorrow.", ["Иван Петров"]),
    ("Γιώργος Παπαδόπουλος called.", ["Γιώργος Παπαδόπουλος"]),
    ("Wang Fang sent the file.", ["Wang Fang"]),
    ("Park Ji-hoon scored twice.", ["Park Ji-hoon"]),
    ("Seán Ó Briain signed for it.", ["Seán Ó Briain"]),
]


@pytest.mark.parametrize(("text", "names"), CASES, ids=[c[0][:30] for c in CASES])
def test_when_a_text_names_someone_then_every_part_of_the_name_is_found(
    detector: Detector, text: str, names: list[str]
) -> None:
    assert _names(detector, text) == names


# ordinary words that are names too, places named like people, Title Case headlines
NOT_NAMES = [
    "the Main Street Bakery sells Brown Bread",
    "We flew from San Diego to Santa Clara.",
    "Virginia Beach and Jackson Heights are delayed.",
    "Global Markets Rally As Inflation Cools",
    "Travel Guide: Best Beaches In Portugal",
    "Logitech MX Master mouse",
    "I met her. Garcia was there too.",  # one name after a full stop, no context: not a person match
]


@pytest.mark.parametrize("text", NOT_NAMES)
def test_when_capitalised_words_are_not_people_then_no_name_is_found(detector: Detector, text: str) -> None:
    assert _names(detector, text) == []


def _mentions() -> list[tuple[str, str, str]]:
    """(language, full name, text) for every person in every template."""
    out = []
    for lang, names in PEOPLE.items():
        for full in names:
            words = full.split()
            given, family = (words[-1], words[0]) if lang in FAMILY_FIRST else (words[0], words[-1])
            for tpl in WITH_CONTEXT + WITHOUT_CONTEXT:
                out.append((lang, full, tpl.format(n=full, g=given, f=family)))
    return out


def _left(full: str, template_text: str, scrubbed: str) -> bool:
    """Does any word of the name that the text held survive in the scrubbed text?"""
    words = [
        w for w in full.split() if len(w) >= 2 and re.search(rf"(?<!\w){re.escape(w)}(?!\w)", template_text)
    ]
    return any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", scrubbed) for w in words)


def scrub_texts(texts: list[str], key: SecretKey, known: object = None) -> list[str]:
    spec = get("scrub")
    ctx = ColumnContext(key, "t.notes")
    if known is not None:
        ctx = ColumnContext(key, "t.notes", known=known)  # type: ignore[arg-type]
    return apply_strategy(pd.Series(texts, dtype="str"), spec, spec.validate_params({}), ctx).tolist()


def recall(key: SecretKey, known: object = None) -> tuple[float, dict[str, int]]:
    mentions = _mentions()
    out = scrub_texts([m[2] for m in mentions], key, known)
    missed: dict[str, int] = {}
    for (lang, full, text), after in zip(mentions, out, strict=True):
        if _left(full, text, after):
            missed[lang] = missed.get(lang, 0) + 1
    return 1 - sum(missed.values()) / len(mentions), missed


def test_when_people_of_25_languages_are_named_without_a_known_set_then_recall_is_at_least_0_97(
    key: SecretKey,
) -> None:
    assert len(PEOPLE) >= 20
    found, missed = recall(key)
    assert found >= 0.97, (found, missed)


def test_when_texts_name_no_one_then_at_least_95_percent_are_left_unchanged(key: SecretKey) -> None:
    out = scrub_texts(NO_PEOPLE, key)
    changed = [(a, b) for a, b in zip(NO_PEOPLE, out, strict=True) if a != b]
    assert 1 - len(changed) / len(NO_PEOPLE) >= 0.95, changed


def _known_half(key: SecretKey) -> object:
    """The source's people as a run would collect them: every other person of every language."""
    from sanitize.detect.known import KnownNames, name_words

    words = [w for names in PEOPLE.values() for full in names[::2] for w in name_words(full)]
    return KnownNames.from_words(words, key)


def test_when_half_the_people_are_customers_then_recall_is_at_least_0_98(key: SecretKey) -> None:
    found, missed = recall(key, _known_half(key))
    assert found >= 0.98, (found, missed)


def test_when_the_known_set_is_on_then_texts_naming_no_one_stay_unchanged(key: SecretKey) -> None:
    spec = get("scrub")
    ctx = ColumnContext(key, "t.notes", known=_known_half(key))
    out = apply_strategy(pd.Series(NO_PEOPLE, dtype="str"), spec, spec.validate_params({}), ctx).tolist()
    changed = [a for a, b in zip(NO_PEOPLE, out, strict=True) if a != b]
    assert 1 - len(changed) / len(NO_PEOPLE) >= 0.95, changed
