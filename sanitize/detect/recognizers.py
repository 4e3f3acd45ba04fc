"""Our own presidio recognizers: person names from Faker's locale lists, national IDs, addresses, postcodes.

Everything here is offline and model-free. Checksums are validated where the identifier has one
(FR NIR mod 97, NL BSN eleven-test); presidio's own recognizers cover UK NINO, DE Steuer-ID, ES DNI/NIE
and the IT codice fiscale and are re-used by `engine.py` for every language.
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
    AnalysisExplanation,
    EntityRecognizer,
    LocalRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import EmailRecognizer, IpRecognizer

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


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Capitalised words that are also given names or surnames but, alone, are far more often ordinary
# words; they never start a "first name + unknown capitalised word" match.
_COMMON_WORDS = _words(
    """
    a an and the of for to in on at by with from as is it be are was were will may can june april august
    mark bill grant rose hope faith joy summer autumn dawn page price long young king white black brown
    green gray grey hill wood stone street lane park new north south east west order total status
    ticket invoice customer account team support sales thanks thank hello hi dear best regards please
    monday tuesday wednesday thursday friday saturday sunday january february march july september
    october november december christmas easter service product item delivery shipping return refund
    """
)

_TITLES = _words("mr mrs ms miss dr prof herr frau sr sra srta mme mlle dott sig sir madam dame")
_PARTICLES = _words("van von de der den del della di da du dos das le la ten ter zu")


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


_TOKEN = stdre.compile(r"[^\W\d_][^\W\d_'’\-]*\.?")


class PersonNameRecognizer(LocalRecognizer):
    """PERSON from given-name and surname lists: 'Jane Doe', 'Dr. Smith', 'Hans van der Berg'.

    Scores: given name + known surname 0.85; title + capitalised word 0.8; known given name that is not a
    common word + a capitalised word 0.6.
    """

    ENTITY = "PERSON"

    def __init__(self, locales: tuple[str, ...] = DEFAULT_NAME_LOCALES, supported_language: str = "en"):
        self.lists = name_lists(locales)
        super().__init__(
            supported_entities=[self.ENTITY],
            supported_language=supported_language,
            name="PersonNameRecognizer",
        )

    def load(self) -> None:
        return None

    def find(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, score) of each name in the text."""
        tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
        out: list[tuple[int, int, float]] = []
        first, last = self.lists.first, self.lists.last
        i, n = 0, len(tokens)
        while i < n:
            s, e, tok = tokens[i]
            word = tok.rstrip(".")
            low = word.lower()
            if not word[:1].isupper():
                i += 1
                continue
            # a title followed by a capitalised word
            if (
                low in _TITLES
                and i + 1 < n
                and tokens[i + 1][2][:1].isupper()
                and tokens[i + 1][2].rstrip(".").lower() not in _COMMON_WORDS
                and _adjacent(text, e, tokens[i + 1][0])
            ):
                j = i + 1
                while (
                    j + 1 < n
                    and not tokens[j][2].endswith(".")
                    and tokens[j + 1][2][:1].isupper()
                    and _adjacent(text, tokens[j][1], tokens[j + 1][0])
                ):
                    j += 1
                out.append((s, tokens[j][1] - (1 if tokens[j][2].endswith(".") else 0), 0.8))
                i = j + 1
                continue
            if low in first or _hyphenated_in(low, first):
                j = i + 1
                # middle names or initials
                while (
                    j + 1 < n
                    and _adjacent(text, tokens[j - 1][1], tokens[j][0])
                    and tokens[j][2][:1].isupper()
                    and (
                        (len(tokens[j][2]) == 2 and tokens[j][2].endswith("."))
                        or tokens[j][2].lower() in first
                    )
                ):
                    j += 1
                k = j
                while (
                    k < n
                    and tokens[k][2].lower() in _PARTICLES
                    and _adjacent(text, tokens[k - 1][1], tokens[k][0])
                ):
                    k += 1
                if k < n and _adjacent(text, tokens[k - 1][1], tokens[k][0]) and tokens[k][2][:1].isupper():
                    cand = tokens[k][2].rstrip(".")
                    cl = cand.lower()
                    if cl in last or _hyphenated_in(cl, last):
                        out.append((s, tokens[k][0] + len(cand), 0.5 if low in _COMMON_WORDS else 0.85))
                        i = k + 1
                        continue
                    if low not in _COMMON_WORDS and cl not in _COMMON_WORDS and len(cand) >= 2:
                        out.append((s, tokens[k][0] + len(cand), 0.6))
                        i = k + 1
                        continue
            i += 1
        return out

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        return [
            _result(self, self.ENTITY, s, e, sc, "given name and surname from Faker's locale lists")
            for s, e, sc in self.find(text)
        ]

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


def _adjacent(text: str, end: int, start: int) -> bool:
    """True when only spaces (no newline or punctuation) separate two tokens."""
    gap = text[end:start]
    return 0 < len(gap) <= 2 and gap.strip(" ") == ""


def _hyphenated_in(word: str, names: frozenset[str]) -> bool:
    return "-" in word and all(p in names for p in word.split("-") if p)


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


_IBAN = stdre.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")


def iban_is_valid(text: str) -> bool:
    """ISO 13616: 15-34 characters whose mod-97 (letters as 10..35, country and check moved last) is 1."""
    s = text.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit() or not s.isalnum():
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


class IbanCodeRecognizer(EntityRecognizer):
    """IBAN_CODE: grouped or compact IBANs whose mod-97 check passes (score 1.0)."""

    ENTITY = "IBAN_CODE"

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=[self.ENTITY], supported_language=supported_language, name="IbanRecognizer"
        )

    def load(self) -> None:
        return None

    def find(self, text: str) -> list[tuple[int, int, float]]:
        out = []
        for m in _IBAN.finditer(text):
            found = m.group()
            # a trailing short group may be the next word's digits: retry without it
            if iban_is_valid(found):
                out.append((m.start(), m.end(), 1.0))
            elif " " in found and iban_is_valid(found.rsplit(" ", 1)[0]):
                out.append((m.start(), m.start() + len(found.rsplit(" ", 1)[0]), 1.0))
        return out

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [_result(self, self.ENTITY, s, e, sc, "IBAN mod-97") for s, e, sc in self.find(text)]


# --- phone numbers, fast ------------------------------------------------------------------------------

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


class PhoneNumberRecognizer(LocalRecognizer):
    """PHONE_NUMBER: candidates by one regex, checked with phonenumbers (international, then by region).

    presidio's PhoneRecognizer runs phonenumbers' matcher once per region over the whole text (~4 ms a
    text); this parses each candidate once or a few times. Scores: valid international 0.75, valid
    national 0.7, possible international 0.6, US-shaped 0.5, bare digits valid in a region 0.4.
    """

    ENTITY = "PHONE_NUMBER"

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            supported_language=supported_language,
            name="PhoneNumberRecognizer",
        )

    def load(self) -> None:
        return None

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

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        return [_result(self, self.ENTITY, s, e, sc, "phonenumbers") for s, e, sc in self.find(text)]


def _result(
    rec: EntityRecognizer, entity: str, start: int, end: int, score: float, why: str
) -> RecognizerResult:
    name = str(cast(Any, rec).name)
    explanation = AnalysisExplanation(recognizer=name, original_score=score, textual_explanation=why)
    return RecognizerResult(
        entity_type=entity,
        start=start,
        end=end,
        score=score,
        analysis_explanation=explanation,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: rec.id,
        },
    )


# --- national identifiers ------------------------------------------------------------------------


def fr_nir_is_valid(text: str) -> bool:
    """French NIR (numéro de sécurité sociale): 13 digits (Corsica 2A/2B) + a mod-97 key."""
    s = re.sub(r"[\s.]", "", text).upper()
    if len(s) != 15 or s[0] not in "12378":
        return False
    body, key = s[:13], s[13:]
    corsica = {"2A": "19", "2B": "18"}.get(body[5:7])
    if corsica is not None:
        body = body[:5] + corsica + body[7:]
    if not (body.isdigit() and key.isdigit()):
        return False
    month = int(s[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        return False
    return 97 - int(body) % 97 == int(key)


def nl_bsn_is_valid(text: str) -> bool:
    """Dutch BSN: 9 digits passing the eleven-test (weights 9..2 and -1)."""
    s = re.sub(r"[\s.\-]", "", text)
    if len(s) != 9 or not s.isdigit() or s == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(s[:8], range(9, 1, -1), strict=True)) - int(s[8])
    return total % 11 == 0


class FrNirRecognizer(PatternRecognizer):
    """FR_NIR: French social security number, mod-97 key validated."""

    PATTERNS = [
        Pattern(
            "FR NIR",
            r"\b[12378]\s?\d{2}\s?(?:0[1-9]|1[0-2]|[2-4]\d|[5-9]\d)\s?(?:\d{2}|2[AB])\s?\d{3}\s?\d{3}\s?\d{2}\b",
            0.5,
        )
    ]
    CONTEXT = ["sécurité sociale", "securite sociale", "nir", "insee"]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="FR_NIR",
            patterns=self.PATTERNS,
            context=self.CONTEXT,
            supported_language=supported_language,
            name="FrNirRecognizer",
        )

    def validate_result(self, pattern_text: str) -> bool:
        return fr_nir_is_valid(pattern_text)


class NlBsnRecognizer(PatternRecognizer):
    """NL_BSN: Dutch citizen service number, eleven-test validated (score stays moderate: 9 digits)."""

    PATTERNS = [Pattern("NL BSN", r"\b\d{4}\.?\d{2}\.?\d{3}\b|\b\d{3}\.\d{3}\.\d{3}\b", 0.5)]
    CONTEXT = ["bsn", "burgerservicenummer", "sofinummer"]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="NL_BSN",
            patterns=self.PATTERNS,
            context=self.CONTEXT,
            supported_language=supported_language,
            name="NlBsnRecognizer",
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        # True would lift the score to 1.0; a 9-digit number passes the eleven-test one time in eleven,
        # so a pass keeps the pattern score and a failure drops the match.
        return None if nl_bsn_is_valid(pattern_text) else False


# --- addresses and postcodes ---------------------------------------------------------------------


def _street_suffixes() -> list[str]:
    from faker.providers.address.en_US import Provider as EnUS

    words = {s for s in EnUS.street_suffixes if len(s) > 2}
    words |= {"Straße", "Strasse", "Weg", "Allee", "Gasse", "Platz", "Ring", "Road", "Close", "Gardens"}
    words |= {"St", "Ave", "Rd", "Blvd", "Dr", "Ln", "Ct", "Pl", "Sq", "Hwy", "Pkwy", "Ter"}
    return sorted(words, key=len, reverse=True)


def _street_prefixes() -> str:
    words = {
        "rue",
        "avenue",
        "av",
        "boulevard",
        "bd",
        "chemin",
        "allée",
        "allee",
        "impasse",
        "place",
        "quai",
        "calle",
        "avenida",
        "avda",
        "plaza",
        "paseo",
        "camino",
        "ronda",
        "carrer",
        "via",
        "viale",
        "piazza",
        "corso",
        "strada",
        "vicolo",
        "contrada",
        "rua",
        "travessa",
        "largo",
        "praça",
        "praca",
        "alameda",
    }
    for loc in ("fr_FR", "es_ES", "it_IT", "pt_PT", "pt_BR"):
        try:
            provider = importlib.import_module(f"faker.providers.address.{loc}").Provider
        except ImportError:  # pragma: no cover - Faker ships these locales
            continue
        for attr in ("street_prefixes", "street_suffixes"):
            for w in getattr(provider, attr, ()):
                w = w.strip().rstrip(".").lower()
                if len(w) >= 3 and w != "street":
                    words.add(w)
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_PREFIX_WORDS = _street_prefixes()
_COMPOUND = (
    "straße|strasse|str\\.|weg|allee|gasse|platz|damm|ufer|chaussee|straat|laan|plein|gracht|kade|singel|"
    "steeg|dreef|pad|hof|baan"
)
_PARTS = r"(?:(?:de|del|della|di|da|des|du|la|le|los|las|do|dos|das|d'|l')\s*)"


# RE2 prefilter (pyarrow) for the street recognizer: a number then a capitalised word, a street word
# (Hauptstraße 5, Keizersgracht 12), or a street-type word (rue, calle, via, ...).
STREET_PREFILTER = (
    r"\d{1,5}[A-Za-z]?,?\s+[A-ZÀ-Þ][a-zß-ÿ]"
    rf"|(?i:(?:stra(?:ss|ß)e|str\.|weg|allee|gasse|platz|damm|ufer|chaussee|straat|laan|plein|gracht|kade|"
    rf"singel|steeg|dreef|ring|pad|hof|baan)[ .\-]*\d)"
    rf"|(?i:\b(?:{_PREFIX_WORDS}) )"
)


_CAPWORD = r"[A-ZÀ-ÞĀ-Ž][^\W\d_]*(?:['’\-][^\W\d_]+)*"
_NUMBER_FIRST = stdre.compile(rf"\b\d{{1,5}}[A-Za-z]?\s+((?:{_CAPWORD}\.?\s+){{0,3}}{_CAPWORD})(\.?)")
_WORD_THEN_NUMBER = stdre.compile(
    rf"\b[A-ZÀ-Þ][^\W\d_]{{2,}}(?:-[^\W\d_]+)*-?(?i:{_COMPOUND}|-ring)\.?\s*-?\s*\d{{1,4}}[a-z]?(?:/\d+)?\b"
)
_TYPE_NO_NUMBER = stdre.compile(
    r"\b(?:[Rr]ue|[Aa]venue|[Bb]oulevard|[Cc]hemin|[Ii]mpasse|[Aa]llée|Calle|Avenida|Paseo|Rua|Travessa|"
    rf"Alameda|Piazza|Viale|Corso|Vicolo|Praça|Largo)\s+{_PARTS}*{_CAPWORD}(?:\s+{_CAPWORD}){{0,2}}"
)
_TYPE_FIRST = stdre.compile(
    rf"\b(?:(\d{{1,5}}[a-z]?),?\s+)?(?i:{_PREFIX_WORDS})\s+{_PARTS}*{_CAPWORD}(?:\s+{_PARTS}*{_CAPWORD}){{0,3}}"
    rf"(?:,?\s+(\d{{1,5}}[a-z]?)\b)?"
)
_WORD = stdre.compile(r"\S+")
_LETTERS = stdre.compile(r"[^\W\d_]+")
_STREET_WORD_GATE = stdre.compile(r"[^\W\d_]\.?\s*-?\s*\d")
_TYPE_WORDS = frozenset(w.replace("\\", "") for w in _PREFIX_WORDS.split("|"))


class StreetAddressRecognizer(EntityRecognizer):
    """STREET_ADDRESS: '12 Oak Street', 'Hauptstraße 5', '8, rue Jeanne Henry', 'Via Roma, 7'.

    Three shapes: a number, capitalised words and a street suffix from Faker's lists; a German/Dutch
    street word and a number; a Romance street type, words and a number (before or after). Score 0.6.
    """

    ENTITY = "STREET_ADDRESS"
    SCORE = 0.6

    def __init__(self, supported_language: str = "en") -> None:
        self.suffixes = frozenset(_street_suffixes())
        super().__init__(
            supported_entities=[self.ENTITY],
            supported_language=supported_language,
            name="StreetAddressRecognizer",
        )

    def load(self) -> None:
        return None

    def find(self, text: str) -> list[tuple[int, int, float]]:
        out: list[tuple[int, int, float]] = []
        has_type_word = any(w.lower() in _TYPE_WORDS for w in _LETTERS.findall(text))
        if has_type_word:
            out.extend(
                (m.start(), m.end(), self.SCORE)
                for m in _TYPE_FIRST.finditer(text)
                if m.group(1) or m.group(2)
            )
            out.extend((m.start(), m.end(), 0.5) for m in _TYPE_NO_NUMBER.finditer(text))
        if _STREET_WORD_GATE.search(text):
            out.extend((m.start(), m.end(), self.SCORE) for m in _WORD_THEN_NUMBER.finditer(text))
        for m in _NUMBER_FIRST.finditer(text):
            base = m.start(1)
            words = list(_WORD.finditer(m.group(1)))
            for k, w in enumerate(words):
                if k >= 1 and w.group().rstrip(".") in self.suffixes:
                    end = base + w.end()
                    if not w.group().endswith(".") and text[end : end + 1] == "." and k == len(words) - 1:
                        end += 1
                    out.append((m.start(), end, self.SCORE))
                    break
        return out

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [_result(self, self.ENTITY, s, e, sc, "street address shape") for s, e, sc in self.find(text)]


class PostcodeRecognizer(PatternRecognizer):
    """POSTCODE: UK and Canadian postcodes (distinctive shapes; 5-digit codes need a column name)."""

    PATTERNS = [
        Pattern(
            "UK postcode",
            r"(?-i:\b(?:GIR ?0AA|[A-PR-UWYZ](?:\d[A-HJKPSTUW]?|[A-HK-Y]\d[ABEHMNPRVWXY]?|\d{2}|[A-HK-Y]\d{2})"
            r" ?\d[ABD-HJLNP-UW-Z]{2})\b)",
            0.5,
        ),
        Pattern(
            "CA postal code", r"(?-i:\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d\b)", 0.5
        ),
    ]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="POSTCODE",
            patterns=self.PATTERNS,
            supported_language=supported_language,
            name="PostcodeRecognizer",
        )


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
