"""Street addresses and postcodes, in the shapes Faker's locales write them (en, de, fr, es, it, nl, pt)."""

from __future__ import annotations

import importlib
import re as stdre

import regex as re
from presidio_analyzer import Pattern, PatternRecognizer

from sanitize.detect.base import FindRecognizer


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


class StreetAddressRecognizer(FindRecognizer):
    """STREET_ADDRESS: '12 Oak Street', 'Hauptstraße 5', '8, rue Jeanne Henry', 'Via Roma, 7'.

    Three shapes: a number, capitalised words and a street suffix from Faker's lists; a German/Dutch
    street word and a number; a Romance street type, words and a number (before or after). Score 0.6.
    """

    ENTITY = "STREET_ADDRESS"
    NAME = "StreetAddressRecognizer"
    WHY = "street address shape"
    SCORE = 0.6

    def __init__(self, supported_language: str = "en") -> None:
        self.suffixes = frozenset(_street_suffixes())
        super().__init__(supported_language)

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
