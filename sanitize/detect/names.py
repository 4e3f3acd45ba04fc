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
    _rule(  # a payment provider's id of the customer: links the row to a real person's account there
        "provider_id",
        "stripe_customer_id stripe_customer stripe_id stripe_account_id braintree_customer_id braintree_id "
        "paypal_payer_id paypal_customer_id payer_id adyen_shopper_reference shopper_reference "
        "chargebee_customer_id mollie_customer_id recurly_account_code gateway_customer_id "
        "customer_profile_id provider_customer_id auth_uid oauth_uid",
        TEXTISH | NUMERIC,
        0.75,
    ),
    _rule(
        "device_id",
        "device_id deviceid device_fingerprint fingerprint browser_fingerprint user_agent useragent "
        "http_user_agent idfa idfv gaid advertising_id push_token fcm_token apns_token device_token "
        "gcm_token registration_token installation_id install_id hardware_id imei udid android_id "
        "mac_address macaddr mac geraete_id geraeteid geraetekennung id_dispositivo dispositivo_id "
        "identifiant_appareil id_appareil",
        TEXTISH | NUMERIC | {"uuid", "binary"},
        0.7,
    ),
    _rule(  # a picture of a person (a face is biometric) or their handwritten signature, stored as bytes
        "photo",
        "photo photos picture pictures pic avatar portrait headshot selfie mugshot signature "
        "signature_image face face_image profile_image profile_picture profile_photo id_photo passport_photo "
        "foto fotos passfoto lichtbild unterschrift firma_imagen immagine_profilo",
        frozenset({"binary"}),
        0.7,
    ),
    _rule(
        "payload",
        "raw_payload webhook_body webhook_payload webhook_data event_data request_body response_body "
        "raw_body raw_request raw_response callback_data ipn_data",
        TEXTISH | {"json"},
        0.6,
    ),
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
        "pass_crypt crypted_password encrypted_password hashed_password password_salt otp otp_code "
        "kennwort senha wachtwoord parola_chiave passwort_hash contrasena_hash "
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
        "birth_year",
        "birthyear birth_year year_of_birth yob geburtsjahr anno_nascita anno_di_nascita ano_nacimiento "
        "ano_de_nacimiento annee_naissance annee_de_naissance ano_nascimento deathyear death_year "
        "year_of_death sterbejahr",
        TEXTISH | NUMERIC,
        0.75,
    ),
    _rule(
        "birth_part",
        "birthmonth birth_month month_of_birth geburtsmonat mese_nascita mes_nacimiento mois_naissance "
        "mes_nascimento deathmonth death_month deathday death_day day_of_death",
        TEXTISH | NUMERIC,
        0.7,
    ),
    _rule(  # the day of the month someone was born: a number (a date there is a date of birth)
        "birth_part",
        "birthday birth_day day_of_birth geburtstag giorno_nascita dia_nacimiento jour_naissance "
        "dia_nascimento",
        NUMERIC,
        0.7,
    ),
    _rule(
        "birth_place",
        "birthcity birth_city birthplace birth_place place_of_birth birth_country birthcountry birth_state "
        "birthstate birth_town deathcity death_city death_country deathcountry death_state deathstate "
        "deathplace death_place place_of_death lugar_nacimiento lugar_de_nacimiento pais_nacimiento "
        "geburtsort sterbeort geburtsland luogo_nascita luogo_di_nascita lieu_naissance lieu_de_naissance "
        "pays_naissance local_nascimento naturalidade mesto_rozhdeniya место_рождения",
        TEXTISH,
        0.75,
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
        "first_name firstname fname given_name givenname forename vorname prenom nombre nome voornaam imie "
        "namefirst name_first namegiven name_given имя отчество",
        TEXTISH,
        0.8,
    ),
    _rule(
        "last_name",
        "last_name lastname lname surname surnames family_name familyname nachname familienname "
        "apellido apellidos nom_de_famille nom_famille nom cognome sobrenome achternaam nazwisko "
        "namelast name_last namefamily name_family фамилия",
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
        "personnummer numero_secu tax_identification_number tax_number tax_no tax_code legal_number "
        "vat_id vat_number vat_no vatin vat_reg_no ust_idnr ust_id ustid siret siren cif ein abn "
        "gst_number gst_no gstin partita_iva piva p_iva nip inn",
        TEXTISH | NUMERIC,
        0.8,
    ),
    _rule(  # ids made from a person's name (`aaronha01`): baseball-reference and Retrosheet ids
        "person_ref", "bbrefid bbref_id retroid retro_id", TEXTISH, 0.75
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
    "geo",
)

# Tables whose bare `name` column is a person's name.
_PERSON_TABLES = _words(
    """customer user person people employee staff member contact patient client student author holder
    passenger guest applicant candidate driver lead subscriber owner tenant buyer seller recipient donor
    volunteer account_holder cliente kunde mitarbeiter utilisateur usuario benutzer player athlete
    profile utente utenti persona personne pessoa klant gebruiker dipendente empleado"""
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


# Tables whose bare text columns are people writing to or about people.
_MESSAGE_TABLE = re.compile(
    r"(?:^|_)(?:messages?|private_messages?|comments?|notes?|diary|diaries|diary_entr(?:y|ies)|journals?|"
    r"chats?|conversations?|posts?|replies|reply|reviews?|mails?|letters?|inbox|feedbacks?|dms?|"
    r"nachrichten|kommentare|mensajes|comentarios|messaggi|commenti|mensagens)(?:_|$)"
)
_MESSAGE_COLUMN = _words(
    "body bodies message content text comment note msg nachricht inhalt mensaje cuerpo contenido texto "
    "messaggio testo contenuto corps contenu texte mensagem conteudo"
)
# Tables that receive a third party's payloads (webhooks, callbacks): their bare body is one.
_WEBHOOK_TABLE = re.compile(r"(?:^|_)(?:webhooks?|hooks?|events?|callbacks?|notifications?|ipn|ipns)(?:_|$)")
_PAYLOAD_COLUMN = _words("payload body data params raw content")
# Coordinates: where someone lives or went, when the table is about people (or tracks them)
_HOME_GEO = re.compile(
    r"^(?:home|user|member|customer|residence|wohn)_(?:lat|lon|lng|latitude|longitude|"
    r"location|coordinates|coords|geo|point|position)$"
)
_GEO_COLUMN = _words(
    "lat lon lng long latitude longitude geom the_geom location coordinates coords "
    "position gps geo point geolocation breitengrad laengengrad latitud longitud latitudine longitudine"
)
_POINT_COLUMN = _words("geom the_geom location coordinates coords position gps geo point geolocation")
_TRACK_TABLE = re.compile(
    r"(?:^|_)(?:gps|gpx|trackpoints?|track_points?|traces?|location_history|checkins?|check_ins?)(?:_|$)"
)
_PERSON_LINK = re.compile(
    r"^(?:user|customer|member|person|owner|employee|patient|client|driver|passenger|author|player|"
    r"creator|profile|rider|traveller|traveler|guest|student)_?id$"
)
_PERSON_REF_COLUMN = _words("playerid player_id personid person_id peopleid")


def is_personal_table(table: str, columns: tuple[str, ...] = (), parents: tuple[str, ...] = ()) -> bool:
    """True when rows are about one person: a person table, or one that links to a person (a `user_id`
    column, a foreign key to `users`), or that records where someone went (`gps_points`, `trackpoints`)
    while linking to anything."""
    if is_person_table(table) or any(is_person_table(p) for p in parents):
        return True
    if any(_PERSON_LINK.match(normalise(c)) for c in columns):
        return True
    bare = normalise(table.rsplit(".", 1)[-1])
    return _TRACK_TABLE.search(bare) is not None and bool(parents or any(c.endswith("_id") for c in columns))


def _context_hint(norm: str, kind: Kind | str | None, table: str, personal: bool) -> NameHint | None:
    """Names that mean PII only in some tables: `body` in `messages`, `lat` in a table about people."""
    bare = normalise(table.rsplit(".", 1)[-1])
    textish = kind is None or kind in TEXTISH or kind == "json"
    if textish and norm in _MESSAGE_COLUMN and _MESSAGE_TABLE.search(bare):
        return NameHint("free_text", f"{norm} (in message table {table})", 0.6)
    if textish and norm in _PAYLOAD_COLUMN and _WEBHOOK_TABLE.search(bare):
        return NameHint("payload", f"{norm} (in webhook/event table {table})", 0.55)
    if norm in _PERSON_REF_COLUMN and is_person_table(table) and (kind is None or kind in TEXTISH):
        return NameHint("person_ref", f"{norm} (in person table {table})", 0.6)
    home = _HOME_GEO.match(norm) is not None
    if home or ((personal or is_person_table(table)) and norm in _GEO_COLUMN):
        if norm in _POINT_COLUMN and kind in ("text", "integer", "decimal", "float"):
            return None  # a place name or a number, not a point
        if kind is None or kind in NUMERIC or kind in ("other", "binary", "text"):
            why = "home coordinates" if home else f"in {table}, about people"
            return NameHint("geo", f"{norm} ({why})", 0.65)
    return None


def normalise(name: str) -> str:
    """`customerEMail-Address` -> `customer_e_mail_address`; accents dropped."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("ß", "ss")
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"[\W_]+", "_", text).strip("_").lower()
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
    column: str, kind: Kind | str | None = None, table: str | None = None, *, personal: bool = False
) -> NameHint | None:
    """The PII kind a column's name suggests, or None.

    `kind` is the column's logical type (schema.Kind); a name only counts where the type can hold that
    PII. `table` lets a bare `name` column count as a person's name in tables like `customers`, `body`
    as a private message in `messages`; `personal` (see `is_personal_table`) lets `lat`/`lon` count as
    where someone is.
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
    if table is not None:
        context = _context_hint(norm, kind, table, personal)
        if context is not None:
            return context
    bare_name = norm in ("name", "names", "nombre_y_apellido")
    if bare_name and table is not None and is_person_table(table) and (kind is None or kind in TEXTISH):
        return NameHint("person", f"name (in person table {table})", 0.7)
    return None


def is_free_text_name(column: str) -> bool:
    """True for names like `notes`, `comment`, `body`, `bemerkung` (people write free text there)."""
    norm = normalise(column)
    m = _FREE_TEXT.search(norm)
    return m is not None and not any(t in NEGATORS for t in norm[m.end() :].split("_") if t)
