"""Value shapes of direct identifiers that are not free-text entities: password hashes, VAT ids, payment
providers' customer ids, ids built from a person's name (`aaronha01`), user agents, coordinates, years.

`shape_counts` counts, over a column's distinct values (with their weights), the values that are wholly
one shape. Some shapes name a PII kind by themselves (a bcrypt hash is a credential wherever it is); the
others only back up what a column's name says (`1934` in `birthyear`, `52.52` in `home_lat`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sanitize.detect.recognizers import name_lists
from sanitize.detect.results import ColumnScan

# shape -> the PII kind a column mostly of that shape holds, whatever its name
SHAPE_KINDS: dict[str, str] = {
    "PASSWORD_HASH": "secret",
    "VAT_ID": "national_id",
    "PROVIDER_CUSTOMER_ID": "provider_id",
    "NAME_BUILT_ID": "person_ref",
    "USER_AGENT": "device_id",
    "GEO_POINT": "geo",
}
# shape -> the kind it confirms when the column's name says so (alone it proves nothing)
SUPPORT_KINDS: dict[str, str] = {
    "HEX_DIGEST": "secret",
    "COORDINATE": "geo",
    "YEAR": "birth_year",
    "MONTH_OR_DAY": "birth_part",
}

_PASSWORD_HASH = re.compile(
    r"^(?:\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}"  # bcrypt
    r"|\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+"  # argon2
    r"|\$[156]\$(?:rounds=\d+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{22,86}"  # md5/sha-crypt
    r"|\$[PH]\$[./A-Za-z0-9]{31}"  # phpass (WordPress, phpBB)
    r"|(?:pbkdf2_sha(?:1|256|512)|bcrypt_sha256|argon2|scrypt|sha1|md5)\$[^$\s]+\$[^\s]+"  # Django
    r"|\{(?:SSHA|SHA|SSHA256|SSHA512|CRYPT|MD5|SMD5)\}[A-Za-z0-9+/=$.]+"  # LDAP
    r"|[0-9a-f]{32,128}:[0-9a-zA-Z./+=]{2,64}"  # hex digest with a salt
    r")$"
)
_HEX_DIGEST = re.compile(r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128})$")
# EU VAT identification numbers (with their country prefix), GB, CH, NO
_VAT_ID = re.compile(
    r"^(?:ATU\d{8}|BE[01]\d{9}|BG\d{9,10}|CY\d{8}[A-Z]|CZ\d{8,10}|DE\d{9}|DK\d{8}|EE\d{9}|EL\d{9}|"
    r"ES[A-Z0-9]\d{7}[A-Z0-9]|FI\d{8}|FR[A-HJ-NP-Z0-9]{2}\d{9}|HR\d{11}|HU\d{8}|IE\d[A-Z0-9+*]\d{5}[A-Z]{1,2}|"
    r"IT\d{11}|LT(?:\d{9}|\d{12})|LU\d{8}|LV\d{11}|MT\d{8}|NL\d{9}B\d{2}|PL\d{10}|PT\d{9}|RO\d{2,10}|"
    r"SE\d{10}01|SI\d{8}|SK\d{10}|GB(?:\d{9}|\d{12}|GD\d{3}|HA\d{3})|XI\d{9}|CHE[-.]?\d{3}\.?\d{3}\.?\d{3}"
    r"(?:\s?(?:MWST|TVA|IVA))?|NO\d{9}MVA)$"
)
_PROVIDER_ID = re.compile(r"^(?:cus|acct|pm|card|src|ba|sub)_[A-Za-z0-9]{14,32}$|^ctm_[a-z0-9]{20,32}$")
_USER_AGENT = re.compile(
    r"^(?:Mozilla/\d|Opera/\d|Dalvik/\d|okhttp/|CFNetwork/|[A-Za-z][\w.\- ]*/[\d.]+ \((?:iPhone|iPad|Android|"
    r"Linux|Windows|Macintosh)).{10,}"
)
_GEO_POINT = re.compile(
    r"^(?:SRID=\d+;)?\s*POINT\s*Z?\s*\(\s*-?\d{1,3}(?:\.\d+)?\s+-?\d{1,3}(?:\.\d+)?(?:\s+-?\d+(?:\.\d+)?)?\s*\)$"
    r"|^\(?\s*-?\d{1,3}\.\d{3,}\s*,\s*-?\d{1,3}\.\d{3,}\s*\)?$",
    re.IGNORECASE,
)
_COORDINATE = re.compile(r"^-?\d{1,3}\.\d{2,}$|^-?\d{6,10}$")  # degrees, or OSM's degrees * 10^7
_YEAR = re.compile(r"^(?:1[89]|20)\d{2}$")
_MONTH_OR_DAY = re.compile(r"^(?:0?[1-9]|[12]\d|3[01])$")
# `aaronha01`, `ruthba01`, `aaroh101`: a surname's first letters, a given name's first letters, digits
_NAME_BUILT = re.compile(r"^([a-z][a-z'.\-]{1,7})(\d{2,3})$")
NAME_BUILT_MIN_DISTINCT = 0.1  # share of distinct values: one id per person, not a handful of codes
NAME_BUILT_MIN_SHARE = 0.8


def _name_built(uniq: pd.Series) -> np.ndarray:
    """Values shaped like `aaronha01`: lower-case letters that split into a known surname's start and a
    known given name's start, then 2-3 digits that are small (01-19: a counter of same-name people)."""
    lists = name_lists()
    starts = {s[:k] for s in lists.last | lists.first if s.isalpha() for k in range(2, 6) if len(s) >= k}
    given = {g[:k] for g in lists.first if g.isalpha() for k in (1, 2)}
    out = np.zeros(len(uniq), dtype=bool)
    for i, v in enumerate(uniq):
        m = _NAME_BUILT.match(v)
        if m is None or int(m.group(2)) % 100 > 19:
            continue
        letters = m.group(1).replace("'", "").replace(".", "").replace("-", "")
        out[i] = len(letters) >= 4 and any(
            letters[:cut] in starts and letters[cut:] in given
            for cut in range(2, min(6, len(letters)))
            if 1 <= len(letters) - cut <= 2
        )
    return out


_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("PASSWORD_HASH", _PASSWORD_HASH),
    ("HEX_DIGEST", _HEX_DIGEST),
    ("VAT_ID", _VAT_ID),
    ("PROVIDER_CUSTOMER_ID", _PROVIDER_ID),
    ("USER_AGENT", _USER_AGENT),
    ("GEO_POINT", _GEO_POINT),
    ("COORDINATE", _COORDINATE),
    ("YEAR", _YEAR),
    ("MONTH_OR_DAY", _MONTH_OR_DAY),
)


def shape_counts(
    uniq: pd.Series, weight: np.ndarray, hint_kind: str | None = None, *, digests: bool = False
) -> dict[str, int]:
    """Shape -> how many values (weighted) are wholly that shape. `uniq`: distinct values as text.

    Shapes that only back up a name (years, coordinates) are counted only for the kind the column's
    name says (`hint_kind`); hex digests only with `digests` (the name says pass/hash/secret...).
    """
    if not len(uniq):
        return {}
    text = uniq.str.strip()
    masks: dict[str, np.ndarray] = {}
    for label, regex in _SHAPES:
        if (
            label in SUPPORT_KINDS
            and SUPPORT_KINDS[label] != hint_kind
            and not (label == "HEX_DIGEST" and digests)
        ):
            continue
        masks[label] = text.str.match(regex.pattern, flags=regex.flags).fillna(False).to_numpy(bool)
    masks["VAT_ID"] = masks["VAT_ID"] | text.str.replace(r"[\s.\-]", "", regex=True).str.upper().str.match(
        _VAT_ID.pattern
    ).fillna(False).to_numpy(bool) & text.str.match(r"^[A-Za-z]{2,3}").fillna(False).to_numpy(bool)
    if len(uniq) >= NAME_BUILT_MIN_DISTINCT * max(1, int(weight.sum())):
        built = _name_built(text)
        if weight[built].sum() >= NAME_BUILT_MIN_SHARE * weight.sum():  # nearly all, not a few codes
            masks["NAME_BUILT_ID"] = built
    out: dict[str, int] = {}
    for label, mask in masks.items():
        if mask.any():
            out[label] = int(weight[mask].sum())
    return out


def _letters(value: object) -> str:
    return "".join(c for c in str(value).lower() if c.isalpha())


def mark_ids_built_from_row_names(frame: pd.DataFrame, columns: list[ColumnScan]) -> None:
    """Columns whose values are made of the same row's surname and given name (`aaronha01` next to
    Aaron, Hank): classified `person_ref`, whatever the name lists know of those names."""
    kinds = {c.column: c.kind for c in columns}
    lasts = [n for n, k in kinds.items() if k == "last_name" and n in frame.columns]
    firsts = [n for n, k in kinds.items() if k == "first_name" and n in frame.columns]
    if not lasts or not firsts or not len(frame):
        return
    last, first = frame[lasts[0]].map(_letters), frame[firsts[0]].map(_letters)
    for col in columns:
        if col.kind is not None or col.foreign_key is not None or col.column not in frame.columns:
            continue
        if not pd.api.types.is_string_dtype(frame[col.column].dropna()):  # bytes (a bytea picture), numbers
            continue
        values = frame[col.column].astype("string").str.lower()
        m = values.str.extract(_NAME_BUILT.pattern)
        letters = m[0].fillna("").map(lambda s: "".join(c for c in s if c.isalpha()))
        built = [
            len(w) >= 4 and len(s) >= 2 and any(w == s[:cut] + g[: len(w) - cut] for cut in range(2, 6))
            for w, s, g in zip(letters, last, first, strict=True)
        ]
        share = sum(built) / max(1, int(values.notna().sum()))
        if share >= NAME_BUILT_MIN_SHARE:
            col.kind, col.confidence, col.confirmed = "person_ref", 0.8, True
            col.evidence.whole["NAME_BUILT_ID"] = sum(built)
            col.evidence.notes.append(f"made of the row's {lasts[0]} and {firsts[0]}")
