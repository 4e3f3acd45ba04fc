"""Column-name and type heuristics: what a column's name says it holds, in several languages.

Names are normalised first (`customerEMail` -> `customer_e_mail`, accents dropped), then matched against
one regex per PII kind with token boundaries, so `ip` matches `client_ip` but not `shipping`. A trailing
token such as `_id`, `_type`, `_status` or `_verified` cancels the match (`email_verified` is a flag, not an
email), and a kind only matches columns of compatible types (`emailed_at` is a timestamp).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sanitize.schema import Kind

TEXTISH: frozenset[str] = frozenset({"text", "other"})
NUMERIC: frozenset[str] = frozenset({"integer", "decimal", "float"})
DATEISH: frozenset[str] = frozenset({"date", "datetime"})


@dataclass(frozen=True)
class NameHint:
    """What a column's name suggests."""

    kind: str  # PII kind, see KINDS
    pattern: str  # the name pattern that matched, for the evidence
    strength: float  # confidence from the name alone


@dataclass(frozen=True)
class _Rule:
    kind: str
    regex: re.Pattern[str]
    types: frozenset[str]
    strength: float
    negators: frozenset[str] = frozenset()


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _rule(kind: str, words: str, types: frozenset[str], strength: float, negators: str = "") -> _Rule:
    alternatives = "|".join(sorted(words.split(), key=len, reverse=True))
    regex = re.compile(rf"(?:^|_)(?:{alternatives})(?:_|$)")
    return _Rule(kind, regex, types, strength, _words(negators))


# Tokens that, after the matched words, make the column about the PII rather than the PII itself.
NEGATORS = _words(
    """id ids uuid type types status state count cnt flag flags verified valid validated confirmed template
    templates format enabled disabled sent opened bounced domain domains hash hashed hmac length len kind
    at on ts time timestamp optin opt opted consent preference preferences pref provider country prefix ext
    extension source sources policy policies required visible mask masked sha md5 check checked is has"""
)

_RULES: tuple[_Rule, ...] = (
    # order matters: the first rule that matches wins (email before address: `email_address`)
    _rule(
        "email",
        "email e_mail mail emails mails correo courriel e_post epost mailadresse emailadresse "
        "email_address emailaddress mail_address mail_addr email_addr correo_electronico "
        "adresse_email adresse_mail posta_elettronica",
        TEXTISH,
        0.8,
    ),
    _rule(
        "secret",
        "password passwd pwd pass_hash password_hash password_digest passwort contrasena "
        "mot_de_passe secret api_key apikey access_token refresh_token auth_token token otp_secret "
        "pin totp_secret session_key session_data sessionid session_token salt private_key signing_key "
        "access_key auth_key recovery_codes backup_codes",
        TEXTISH | {"binary"},
        0.7,
    ),
    _rule(
        "ip_address",
        "ip ip_address ipaddress ip_addr ipaddr ipv4 ipv6 remote_addr remote_ip client_ip last_ip login_ip",
        TEXTISH,
        0.75,
    ),
    _rule(
        "phone",
        "phone phones phone_number phonenumber telephone tel telefon telefono telefone "
        "telephone_number mobile mobil mobile_phone cell cellphone cell_phone handy movil celular "
        "portable gsm fax whatsapp msisdn numero_telephone",
        TEXTISH | NUMERIC,
        0.8,
    ),
    _rule(
        "date_of_birth",
        "dob birth birthday birthdate birth_date date_of_birth born geburtsdatum "
        "geburtstag geb_datum gebdat fecha_nacimiento fecha_de_nacimiento nacimiento date_naissance "
        "date_de_naissance naissance data_nascita data_di_nascita nascita data_nascimento "
        "geboortedatum",
        DATEISH | TEXTISH,
        0.8,
        "place city country location town name year month",
    ),
    _rule(
        "first_name",
        "first_name firstname fname given_name givenname forename vorname prenom nombre nome voornaam imie",
        TEXTISH,
        0.8,
    ),
    _rule(
        "last_name",
        "last_name lastname lname surname family_name familyname nachname familienname "
        "apellido apellidos nom_de_famille nom cognome sobrenome achternaam nazwisko",
        TEXTISH,
        0.8,
    ),
    _rule(
        "person",
        "full_name fullname customer_name client_name contact_name person_name owner_name "
        "holder_name cardholder cardholder_name account_holder patient_name employee_name recipient "
        "recipient_name sender_name billing_name shipping_name display_name legal_name maiden_name "
        "guardian_name spouse_name author_name nom_complet nombre_completo nome_completo "
        "vollstaendiger_name",
        TEXTISH,
        0.8,
    ),
    _rule(
        "ssn",
        "ssn social_security social_security_number socialsecurity sozialversicherungsnummer svnr",
        TEXTISH | NUMERIC,
        0.85,
    ),
    _rule(
        "national_id",
        "national_id nationalid national_insurance nino ni_number tax_id taxid tin "
        "steuer_id steuerid steuernummer steuer_identifikationsnummer nif nie dni nir bsn "
        "burgerservicenummer codice_fiscale cpf passport passport_no passport_number id_card "
        "personalausweis drivers_license driver_license driving_licence license_number pesel aadhaar "
        "personnummer numero_secu",
        TEXTISH | NUMERIC,
        0.8,
    ),
    _rule(
        "iban",
        "iban bank_account account_number accountnumber kontonummer numero_cuenta compte_bancaire",
        TEXTISH,
        0.75,
    ),
    _rule(
        "credit_card",
        "credit_card creditcard card_number cardnumber cc_number ccnum cc_num pan "
        "kreditkarte kreditkartennummer tarjeta numero_tarjeta carte_bancaire",
        TEXTISH | NUMERIC,
        0.8,
    ),
    _rule(
        "address",
        "address addresses addr address_line address_line1 address_line2 address1 address2 "
        "street street_address adresse anschrift strasse direccion domicilio indirizzo endereco "
        "morada calle rue home_address postal_address billing_address shipping_address",
        TEXTISH,
        0.75,
        "mac ip email e_mail mail wallet url web server host",
    ),
    _rule(
        "postcode",
        "zip zipcode zip_code postcode post_code postal_code postalcode plz postleitzahl "
        "codigo_postal code_postal cod_postal cap_code postcode",
        TEXTISH | NUMERIC,
        0.6,
    ),
    _rule("city", "city town ciudad ville stadt wohnort citta cidade municipality", TEXTISH, 0.55),
    _rule(
        "username",
        "username user_name login_name screen_name screenname nickname nick handle benutzername usuario",
        TEXTISH,
        0.6,
    ),
)

KINDS: tuple[str, ...] = tuple(dict.fromkeys(r.kind for r in _RULES)) + (
    "free_text",
    "json",
)

# Tables whose bare `name` column is a person's name.
_PERSON_TABLES = _words(
    """customer user person people employee staff member contact patient client student author holder
    passenger guest applicant candidate driver lead subscriber owner tenant buyer seller recipient donor
    volunteer account_holder cliente kunde mitarbeiter utilisateur usuario benutzer"""
)

# Columns that usually hold free text written by people.
_FREE_TEXT = re.compile(
    r"(?:^|_)(?:notes?|comments?|remarks?|message|messages|body|bio|about|feedback|review|memo|content|"
    r"text|description_private|notiz|notizen|bemerkung|bemerkungen|kommentar|nachricht|comentario|"
    r"comentarios|nota|notas|mensaje|commentaire|remarque|messaggio|note_interne|transcript|summary)(?:_|$)"
)


_CREDENTIAL_TABLE = re.compile(
    r"(?:^|_)(?:tokens?|api_keys?|apikeys?|sessions?|secrets?|credentials?)(?:_|$)"
)


def normalise(name: str) -> str:
    """`customerEMail-Address` -> `customer_e_mail_address`; accents dropped."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("ß", "ss")
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", "_", text)  # address1 -> address_1
    return text


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def is_person_table(table: str) -> bool:
    """True for tables like `customers`, `app.users`, `kunden`."""
    bare = normalise(table.rsplit(".", 1)[-1])
    tokens = bare.split("_")
    return bare in _PERSON_TABLES or any(
        t in _PERSON_TABLES or _singular(t) in _PERSON_TABLES for t in tokens
    )


def match_column_name(
    column: str, kind: Kind | str | None = None, table: str | None = None
) -> NameHint | None:
    """The PII kind a column's name suggests, or None.

    `kind` is the column's logical type (schema.Kind); a name only counts where the type can hold that
    PII. `table` lets a bare `name` column count as a person's name in tables like `customers`.
    """
    norm = normalise(column)
    if not norm:
        return None
    tokens = norm.split("_")
    # drop a numeric suffix: address_1, phone_2
    while len(tokens) > 1 and tokens[-1].isdigit():
        tokens = tokens[:-1]
    norm = "_".join(tokens)
    for rule in _RULES:
        m = rule.regex.search(norm)
        if m is None:
            continue
        after = norm[m.end() :].strip("_").split("_") if m.end() < len(norm) else []
        if any(t in NEGATORS or t in rule.negators for t in after if t):
            continue
        before = norm[: m.start()].strip("_").split("_") if m.start() > 0 else []
        if rule.negators and any(t in rule.negators for t in before if t):
            continue
        if kind is not None and kind not in rule.types:
            continue
        return NameHint(rule.kind, m.group().strip("_"), rule.strength)
    credential = (  # Django's authtoken_token.key, api_keys.key
        norm in ("key", "value", "digest")
        and table is not None
        and _CREDENTIAL_TABLE.search(normalise(table.rsplit(".", 1)[-1])) is not None
    )
    if credential and (kind is None or kind in TEXTISH | {"binary"}):
        return NameHint("secret", f"{norm} (in credential table {table})", 0.6)
    bare_name = norm in ("name", "names", "nombre_y_apellido")
    if bare_name and table is not None and is_person_table(table) and (kind is None or kind in TEXTISH):
        return NameHint("person", f"name (in person table {table})", 0.7)
    return None


def is_free_text_name(column: str) -> bool:
    """True for names like `notes`, `comment`, `body`, `bemerkung` (people write free text there)."""
    norm = normalise(column)
    m = _FREE_TEXT.search(norm)
    return m is not None and not any(t in NEGATORS for t in norm[m.end() :].split("_") if t)
