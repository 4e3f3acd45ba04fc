"""Identifiers with a checksum: IBAN (mod 97), French NIR (mod-97 key), Dutch BSN (eleven-test).

presidio's own recognizers cover UK NINO, DE Steuer-ID, ES DNI/NIE and the IT codice fiscale; engine.py
enables them for every language.
"""

from __future__ import annotations

import re as stdre

import regex as re
from presidio_analyzer import Pattern, PatternRecognizer

from sanitize.detect.base import FindRecognizer

_IBAN = stdre.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")


def iban_is_valid(text: str) -> bool:
    """ISO 13616: 15-34 characters whose mod-97 (letters as 10..35, country and check moved last) is 1."""
    s = text.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit() or not s.isalnum():
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


class IbanCodeRecognizer(FindRecognizer):
    """IBAN_CODE: grouped or compact IBANs whose mod-97 check passes (score 1.0)."""

    ENTITY = "IBAN_CODE"
    NAME = "IbanRecognizer"
    WHY = "IBAN mod-97"

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
