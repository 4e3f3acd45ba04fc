"""Our own presidio recognizers: person names (rules in people.py), phones, e-mail and IP offline.

Everything here is offline and model-free. Identifiers with checksums live in identifiers.py, street
addresses and postcodes in places.py; `our_recognizers()` gathers them all for engine.py.
"""

from __future__ import annotations

import importlib
import logging
import re as stdre
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import numpy as np
import pandas as pd
import regex as re
from presidio_analyzer import (
    EntityRecognizer,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import EmailRecognizer, IpRecognizer

from sanitize.detect.base import FindRecognizer
from sanitize.detect.base import recognizer_result as _result
from sanitize.detect.identifiers import FrNirRecognizer, IbanCodeRecognizer, NlBsnRecognizer
from sanitize.detect.people import NameRules
from sanitize.detect.places import PostcodeRecognizer, StreetAddressRecognizer

log = logging.getLogger("sanitize")

# Faker locales whose person-name lists feed the name recognizer.
DEFAULT_NAME_LOCALES: tuple[str, ...] = (
    "en_US",
    "en_GB",
    "de_DE",
    "fr_FR",
    "es_ES",
    "es_MX",
    "it_IT",
    "nl_NL",
    "pt_BR",
    "pt_PT",
    "pl_PL",
    "sv_SE",
    "da_DK",
    "en_IN",
)


@dataclass(frozen=True)
class NameLists:
    """Lower-cased given names and surnames from Faker's locale data."""

    first: frozenset[str]
    last: frozenset[str]

    @property
    def first_array(self) -> np.ndarray:
        return np.array(sorted(self.first), dtype=object)


def _names_of(provider: type, attrs: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for attr in attrs:
        values = getattr(provider, attr, None)
        if values is None or isinstance(values, str):
            continue
        for v in values:  # tuple, list, or OrderedDict (keys are the names)
            if isinstance(v, str) and len(v) >= 2:
                out.add(v.strip().lower())
    return out


@lru_cache(maxsize=8)
def name_lists(locales: tuple[str, ...] = DEFAULT_NAME_LOCALES) -> NameLists:
    """Given names and surnames of the locales (cached; loading is ~50 ms)."""
    first: set[str] = set()
    last: set[str] = set()
    for loc in locales:
        try:
            provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except (ImportError, AttributeError):
            log.warning("Faker has no person names for locale %s; skipped", loc)
            continue
        first |= _names_of(provider, ("first_names", "first_names_male", "first_names_female"))
        last |= _names_of(provider, ("last_names", "last_names_male", "last_names_female"))
    last.discard("doe")  # a placeholder in several locales, not a real surname list
    return NameLists(frozenset(first), frozenset(last))


class PersonNameRecognizer(FindRecognizer):
    """PERSON in free text by the rules of people.py (world name lists and context words); whole-value
    name classes for `scan` from Faker's locale lists."""

    ENTITY = "PERSON"
    NAME = "PersonNameRecognizer"
    WHY = "world given-name and surname lists, titles, greetings, sign-offs and introductions"

    def __init__(self, locales: tuple[str, ...] = DEFAULT_NAME_LOCALES, supported_language: str = "en"):
        self.lists = name_lists(locales)
        self._rules: NameRules | None = None
        super().__init__(supported_language)

    @property
    def rules(self) -> NameRules:
        if self._rules is None:  # the world lists load on first use (~0.3 s)
            self._rules = NameRules()
        return self._rules

    def find(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, score) of each name in the text."""
        return self.rules.find(text)

    def classify_values(self, values: pd.Series) -> pd.Series:
        """Whole-value name classes, vectorised: 'full_name', 'first_name', 'last_name' or ''.

        Case-insensitive: 'JANE DOE', 'jane doe', 'Doe, Jane' are full names; a single known given
        name is 'first_name' (preferred when a word is in both lists), a single known surname 'last_name'.
        """
        first, last = self.lists.first, self.lists.last
        out = np.full(len(values), "", dtype=object)
        for i, v in enumerate(values.tolist()):
            if not isinstance(v, str) or not v or _NOT_NAME_CHARS.search(v):
                continue
            text = v.strip().lower()
            if "," in text:
                head, _, tail = text.partition(",")
                text = f"{tail.strip()} {head.strip()}"
            parts = text.split()
            if len(parts) == 1:
                if parts[0] in first:
                    out[i] = "first_name"
                elif parts[0] in last:
                    out[i] = "last_name"
            elif 2 <= len(parts) <= 4 and parts[0] in first and parts[-1] in last:
                out[i] = "full_name"
        return pd.Series(out, index=values.index, dtype=object)


_NOT_NAME_CHARS = re.compile(r"[\d@/\\:;_#%&+=<>|]")


# --- e-mail, offline --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _offline_tld_extract() -> object:
    import tldextract

    # presidio's EmailRecognizer calls tldextract.extract(), which fetches the public suffix list over
    # the network on first use; the bundled snapshot is enough and never touches the network.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


class OfflineEmailRecognizer(EmailRecognizer):
    """EMAIL_ADDRESS as presidio finds it, with the domain checked against the bundled suffix list."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language=supported_language, name="EmailRecognizer")

    def validate_result(self, pattern_text: str) -> bool:
        return _domain_has_public_suffix(pattern_text.rpartition("@")[2].lower())


@lru_cache(maxsize=16384)
def _domain_has_public_suffix(domain: str) -> bool:
    extract = _offline_tld_extract()
    return bool(extract(domain).fqdn)  # type: ignore[operator]


_VERSION_BEFORE = re.compile(r"(?:/|rv:|[vV]|version\s?)$")


class VersionAwareIpRecognizer(IpRecognizer):
    """IP_ADDRESS as presidio finds it, minus version numbers such as `rv:1.9.4.20` or `Chrome/1.2.3.4`."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language=supported_language, name="IpRecognizer")
        flags = self.global_regex_flags or 0
        self._compiled = [
            (re.compile(p.regex, flags=flags), float(p.score), "." if p.name == "IPv4" else ":")
            for p in cast(Any, self).patterns
        ]

    def find(self, text: str) -> list[tuple[int, int, float]]:
        out = []
        for rx, base, needs in self._compiled:
            if needs not in text:
                continue
            for m in rx.finditer(text):
                start, end = m.span()
                found = text[start:end]
                if not found or _VERSION_BEFORE.search(text[max(0, start - 8) : start]):
                    continue
                valid = self.validate_result(found)
                score = base if valid is None else (1.0 if valid else 0.0)
                if score > 0 and not self.invalidate_result(found):
                    out.append((start, end, score))
        return out

    def analyze(  # type: ignore[override]
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        return [_result(self, "IP_ADDRESS", s, e, sc, "IP address pattern") for s, e, sc in self.find(text)]


# --- phone numbers, fast ------------------------------------------------------------------------------

# Free text must not keep anything that could be someone's number (the leak check flags any 9-15 digit
# run it saw in the source), so scrub replaces phone-shaped runs too; column classification ignores them.
PHONE_SHAPED_SCORE = 0.3

_PHONE_CANDIDATE = stdre.compile(
    r"(?<![\w+@/.:\-])(?:\+|00)?(?:\d|\(\d)[\d ().\-/]{5,24}\d"
    r"(?: ?(?:x|ext\.?|#) ?\d{1,6})?(?![\w@:]|[.\-/]\d)"
)
_DATE_INSIDE = stdre.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b|\d{1,2}:\d{2}"
)
_EXTENSION = stdre.compile(r" ?(?:x|ext\.?|#) ?\d{1,6}$")
_US_SHAPE = stdre.compile(r"^(?:\+?1[ .\-]?)?(?:\(\d{3}\)|\d{3})[ .\-]?\d{3}[ .\-]\d{4}$")
_TRUNK_ZERO_REGIONS = ("GB", "DE", "FR", "NL", "IT")
_NOT_PHONE = stdre.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$|^\d+[.,]\d{1,2}$")  # IPv4, amounts


class PhoneNumberRecognizer(FindRecognizer):
    """PHONE_NUMBER: candidates by one regex, checked with phonenumbers (international, then by region).

    presidio's PhoneRecognizer runs phonenumbers' matcher once per region over the whole text (~4 ms a
    text); this parses each candidate once or a few times. Scores: valid international 0.75, valid
    national 0.7, possible international 0.6, US-shaped 0.5, bare digits valid in a region 0.4.
    """

    ENTITY = "PHONE_NUMBER"
    NAME = "PhoneNumberRecognizer"
    WHY = "phonenumbers"

    @staticmethod
    @lru_cache(maxsize=65536)
    def score(candidate: str) -> float:
        """The confidence that a candidate string is a phone number (0 when it is not)."""
        import phonenumbers

        main = _EXTENSION.sub("", candidate).strip()
        digits = "".join(c for c in main if c.isdigit())
        if not 7 <= len(digits) <= 15 or _DATE_INSIDE.search(main) or _NOT_PHONE.match(main):
            return 0.0
        international = main.startswith("+") or (main.startswith("00") and not main.startswith("000"))
        formatted = not main.isdigit()
        try:
            if international:
                num = phonenumbers.parse("+" + main.lstrip("+")[2 if main.startswith("00") else 0 :], None)
                if phonenumbers.is_valid_number(num):
                    return 0.75
                return 0.6 if phonenumbers.is_possible_number(num) else 0.0
            if digits[0] == "0":
                regions: tuple[str, ...] = _TRUNK_ZERO_REGIONS
            elif len(digits) == 10:
                regions = ("US", "IT") if digits[0] == "3" else ("US",)
            elif len(digits) == 9 and formatted:
                regions = ("ES",)
            else:
                return 0.0
            for region in regions:
                if phonenumbers.is_valid_number(phonenumbers.parse(main, region)):
                    return 0.7 if formatted else 0.4
        except phonenumbers.NumberParseException:
            return 0.0
        if _US_SHAPE.match(main):
            return 0.5
        if formatted and digits[0] == "0" and 9 <= len(digits) <= 12:
            return 0.45  # a national number in a format we do not validate
        if 9 <= len(digits) <= 15:
            return PHONE_SHAPED_SCORE  # phone-shaped but not a valid number: below scan's bar, scrub takes it
        return 0.0

    def find(self, text: str) -> list[tuple[int, int, float]]:
        out = []
        for m in _PHONE_CANDIDATE.finditer(text):
            cand = m.group()
            end = m.end()
            while cand and not cand[-1].isdigit():  # a trailing ')' or '-'
                cand, end = cand[:-1], end - 1
            sc = self.score(cand)
            if sc > 0:
                out.append((m.start(), end, sc))
        return out


def our_recognizers(
    supported_language: str = "en", name_locales: tuple[str, ...] = DEFAULT_NAME_LOCALES
) -> list[EntityRecognizer]:
    """The recognizers sanitize adds to presidio's own."""
    return [
        PhoneNumberRecognizer(supported_language),
        PersonNameRecognizer(name_locales, supported_language),
        FrNirRecognizer(supported_language),
        NlBsnRecognizer(supported_language),
        StreetAddressRecognizer(supported_language),
        PostcodeRecognizer(supported_language),
    ]


# Recognizers with a `find(text) -> [(start, end, score)]` fast path (the Detector skips `analyze`).
FAST_RECOGNIZERS: tuple[type, ...] = (
    PersonNameRecognizer,
    PhoneNumberRecognizer,
    VersionAwareIpRecognizer,
    IbanCodeRecognizer,
    StreetAddressRecognizer,
)
