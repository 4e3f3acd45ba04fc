"""Recognizers, table-driven: for each kind a valid value, an invalid checksum, and a lookalike non-PII."""

from __future__ import annotations

import pandas as pd
import pytest

from sanitize.detect.engine import Detector, get_detector
from sanitize.detect.identifiers import fr_nir_is_valid, iban_is_valid, nl_bsn_is_valid
from sanitize.detect.names import is_free_text_name, match_column_name, normalise
from sanitize.detect.recognizers import PersonNameRecognizer, PhoneNumberRecognizer


@pytest.fixture(scope="module")
def detector() -> Detector:
    return get_detector()


def _entities(detector: Detector, text: str) -> dict[str, str]:
    return {s.entity: text[s.start : s.end] for s in detector.find([text])}


# (entity, text, expected span or None when the entity must not be found)
CASES = [
    # e-mail: valid; a bad domain; a lookalike (a handle, no domain)
    ("EMAIL_ADDRESS", "write to jane.doe@example.com today", "jane.doe@example.com"),
    ("EMAIL_ADDRESS", "write to jane.doe@localhost today", None),
    ("EMAIL_ADDRESS", "ping @jane_doe on the forum", None),
    # phone: international, national (UK), US format; a date and an order number are not phones
    ("PHONE_NUMBER", "call +44 20 7946 0958 now", "+44 20 7946 0958"),
    ("PHONE_NUMBER", "call 020 7946 0958 now", "020 7946 0958"),
    ("PHONE_NUMBER", "call (212) 555-0187 now", "(212) 555-0187"),
    ("PHONE_NUMBER", "shipped 2024-01-05 10:22:33 ok", None),
    ("PHONE_NUMBER", "order 1732612345 ok", None),
    # credit card: Luhn-valid; Luhn-invalid; a 16-digit tracking number lookalike (invalid Luhn)
    ("CREDIT_CARD", "card 4111 1111 1111 1111 ok", "4111 1111 1111 1111"),
    ("CREDIT_CARD", "card 4111 1111 1111 1112 ok", None),
    ("CREDIT_CARD", "tracking 1234567812345678 ok", None),
    # IBAN: valid; check digits wrong; a product code of the same shape
    ("IBAN_CODE", "pay DE89 3704 0044 0532 0130 00 now", "DE89 3704 0044 0532 0130 00"),
    ("IBAN_CODE", "pay DE88 3704 0044 0532 0130 00 now", None),
    ("IBAN_CODE", "part AB12 CDEF 0000 1111 ok", None),
    # IP: v4, v6; a version number is not an address
    ("IP_ADDRESS", "from 192.168.10.20 at noon", "192.168.10.20"),
    ("IP_ADDRESS", "from 2001:db8::8a2e:370:7334 at noon", "2001:db8::8a2e:370:7334"),
    ("IP_ADDRESS", "Gecko rv:1.9.4.20 build", None),
    # US SSN: valid; an invalid area (000); a lookalike without separators
    ("US_SSN", "ssn 536-22-8726 on file", "536-22-8726"),
    ("US_SSN", "ssn 000-22-8726 on file", None),
    ("US_SSN", "ref 536228726 on file", None),
    # UK NINO: valid; a forbidden prefix (BG); a lookalike
    ("UK_NINO", "NI AB123456C on file", "AB123456C"),
    ("UK_NINO", "NI BG123456C on file", None),
    ("UK_NINO", "code AB12345 on file", None),
    # DE Steuer-ID: checksum-valid; last digit changed; 11-digit lookalike with a digit 4 times
    ("DE_TAX_ID", "Steuer-ID 86095742719 liegt vor", "86095742719"),
    ("DE_TAX_ID", "Steuer-ID 86095742718 liegt vor", None),
    ("DE_TAX_ID", "Nummer 11112345678 liegt vor", None),
    # ES DNI (NIF) and NIE: valid control letter; wrong letter
    ("ES_NIF", "DNI 12345678Z vigente", "12345678Z"),
    ("ES_NIF", "DNI 12345678A vigente", None),
    ("ES_NIE", "NIE X1234567L vigente", "X1234567L"),
    ("ES_NIE", "NIE X1234567A vigente", None),
    # IT codice fiscale: valid check char; wrong check char
    ("IT_FISCAL_CODE", "CF RSSMRA85T10A562S ok", "RSSMRA85T10A562S"),
    ("IT_FISCAL_CODE", "CF RSSMRA85T10A562T ok", None),
    # FR NIR: key valid; key wrong; a 15-digit lookalike with month 13 (invalid)
    ("FR_NIR", "NIR 1 85 05 78 006 084 91 ok", "1 85 05 78 006 084 91"),
    ("FR_NIR", "NIR 1 85 05 78 006 084 90 ok", None),
    ("FR_NIR", "lot 185137800608436 ok", None),
    # NL BSN: eleven-test passes; fails; a 9-digit lookalike (all zeros)
    ("NL_BSN", "BSN 111222333 bekend", "111222333"),
    ("NL_BSN", "BSN 111222334 bekend", None),
    ("NL_BSN", "BSN 000000000 bekend", None),
    # person: known given name + surname; title + name; common words that happen to be names
    ("PERSON", "I spoke to Maria Garcia yesterday", "Maria Garcia"),
    ("PERSON", "ask Dr. Müller about it", "Dr. Müller"),
    ("PERSON", "the Main Street Bakery sells Brown Bread", None),
    # addresses: English, German, French; a lookalike count of things
    ("STREET_ADDRESS", "ship to 742 Evergreen Terrace, Springfield", "742 Evergreen Terrace"),
    ("STREET_ADDRESS", "wohnt in der Hauptstraße 5 in Berlin", "Hauptstraße 5"),
    ("STREET_ADDRESS", "livré au 8, rue Jeanne Henry demain", "8, rue Jeanne Henry"),
    ("STREET_ADDRESS", "a pack of 12 Bottles arrived", None),
    # postcodes: UK, Canada; a lookalike SKU
    ("POSTCODE", "London SW1A 1AA office", "SW1A 1AA"),
    ("POSTCODE", "Ottawa K1A 0B1 office", "K1A 0B1"),
    ("POSTCODE", "sku SW1 1AAA office", None),
]


@pytest.mark.parametrize(
    ("entity", "text", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_when_text_holds_a_value_then_the_recognizer_finds_exactly_the_valid_ones(
    detector: Detector, entity: str, text: str, expected: str | None
) -> None:
    found = _entities(detector, text)
    if expected is None:
        assert entity not in found, f"{entity} wrongly found: {found}"
    else:
        assert found.get(entity) == expected, found


@pytest.mark.parametrize(
    ("check", "value", "ok"),
    [
        (fr_nir_is_valid, "185057800608491", True),
        (fr_nir_is_valid, "185057800608490", False),
        (nl_bsn_is_valid, "111222333", True),
        (nl_bsn_is_valid, "123456782", True),
        (nl_bsn_is_valid, "123456789", False),
        (iban_is_valid, "GB82 WEST 1234 5698 7654 32", True),
        (iban_is_valid, "GB82 WEST 1234 5698 7654 33", False),
        (iban_is_valid, "GB82", False),
    ],
)
def test_when_a_checksum_is_computed_then_valid_and_invalid_values_are_told_apart(
    check: object, value: str, ok: bool
) -> None:
    assert check(value) is ok  # type: ignore[operator]


def test_when_a_corsican_nir_has_a_valid_key_then_it_is_valid_and_a_wrong_key_is_not() -> None:
    body = "269052A123456"  # department 2A counts as 19 in the key
    key = 97 - int(body.replace("2A", "19")) % 97
    assert fr_nir_is_valid(f"{body}{key:02d}")
    assert fr_nir_is_valid(f"2 69 05 2A 123 456 {key:02d}")  # spaces ignored
    assert not fr_nir_is_valid(f"{body}{(key % 97) + 1:02d}")


@pytest.mark.parametrize(
    ("candidate", "positive"),
    [
        ("+1 212-555-0187", True),  # international, valid
        ("+49 30 1234567", True),  # German landline
        ("06 12 34 56 78", True),  # French mobile, national format
        ("212.555.0187", True),  # US dotted
        ("192.168.1.20", False),  # an IPv4 address
        ("1299.99", False),  # an amount
        ("2024-01-05", False),  # a date
        ("12345", False),  # too short
    ],
)
def test_when_a_phone_candidate_is_scored_then_only_phone_numbers_score(
    candidate: str, positive: bool
) -> None:
    assert (PhoneNumberRecognizer.score(candidate) > 0) is positive


@pytest.mark.parametrize(
    ("value", "cls"),
    [
        ("Jane Smith", "full_name"),
        ("SMITH, JANE", "full_name"),  # surname first, upper case
        ("maria garcia lopez", "full_name"),
        ("Jennifer", "first_name"),
        ("Schneider", "last_name"),
        ("jane@example.com", ""),  # an e-mail is not a name
        ("Order 12", ""),
        ("Ergonomic Steel Chair", ""),
    ],
)
def test_when_whole_values_are_classified_then_names_are_recognised_case_insensitively(
    value: str, cls: str
) -> None:
    got = PersonNameRecognizer().classify_values(pd.Series([value]))
    assert got.iloc[0] == cls


@pytest.mark.parametrize(
    ("column", "kind", "table", "expected"),
    [
        ("email", "text", None, "email"),
        ("e_mail", "text", None, "email"),
        ("customerEMail", "text", None, "email"),
        ("correo", "text", None, "email"),
        ("telefono", "text", None, "phone"),
        ("mobile", "integer", None, "phone"),  # phones stored as numbers
        ("dob", "date", None, "date_of_birth"),
        ("geburtsdatum", "date", None, "date_of_birth"),
        ("nachname", "text", None, "last_name"),
        ("vorname", "text", None, "first_name"),
        ("prénom", "text", None, "first_name"),  # accents dropped
        ("apellido", "text", None, "last_name"),
        ("strasse", "text", None, "address"),
        ("Straße", "text", None, "address"),
        ("ip", "text", None, "ip_address"),
        ("ssn", "text", None, "ssn"),
        ("iban", "text", None, "iban"),
        ("name", "text", "customers", "person"),  # a person table
        ("name", "text", "products", None),  # a product's name
        ("email_verified", "boolean", None, None),  # a flag about the e-mail
        ("email_verified", "text", None, None),  # ... whatever its type
        ("emailed_at", "datetime", None, None),  # a timestamp
        ("shipping", "text", None, None),  # 'ip' inside a word
        ("phone_type", "text", None, None),  # about the phone, not the phone
        ("address_id", "integer", None, None),
        ("mac_address", "text", None, "device_id"),  # a device's hardware id, not a street address
        ("birthplace", "text", None, "birth_place"),  # where someone was born identifies them
        ("dob", "boolean", None, None),  # the type cannot hold a date
        ("encrypted_password", "text", None, "secret"),  # Devise
        ("remember_token", "text", None, "secret"),  # Rails/Laravel
        ("session_key", "text", "django_session", "secret"),
        ("session_data", "text", "django_session", "secret"),
        ("key", "text", "authtoken_token", "secret"),  # Django REST framework's tokens
        ("key", "text", "api_keys", "secret"),
        ("key", "text", "settings", None),  # a setting's name
        ("session_id", "integer", None, None),  # a foreign key to a sessions table
    ],
)
def test_when_a_column_name_is_matched_then_the_kind_respects_name_type_and_table(
    column: str, kind: str, table: str | None, expected: str | None
) -> None:
    hint = match_column_name(column, kind, table)
    assert (hint.kind if hint else None) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("customerEMailAddress", "customer_e_mail_address"),
        ("Address1", "address_1"),
        ("geb-datum", "geb_datum"),
    ],
)
def test_when_a_name_is_normalised_then_case_and_separators_are_unified(name: str, expected: str) -> None:
    assert normalise(name) == expected


@pytest.mark.parametrize(
    ("name", "free"), [("notes", True), ("ticket_body", True), ("Bemerkung", True), ("content_type", False)]
)
def test_when_a_name_says_free_text_then_it_is_recognised(name: str, free: bool) -> None:
    assert is_free_text_name(name) is free
