"""The leak check: prove that no sensitive source value reached the target where it does not belong.

Each source column the rules transform has a role (`roles`: its fake kind, else its name): a leak is a
source value found where it does not belong *for its kind*. Pass 1 (`collect`) reads those columns in
batches and keeps keyed 64-bit fingerprints in sorted uint64 arrays (`fingerprints`), never a value:

- per kind: emails, card numbers (Luhn-valid), IBANs (mod-97-valid), phone-like numbers (9-15
  digits, matched on their last 9), from whole cells and from inside free text and JSON (`tokens`, on
  the normalised cells of `cells`); other values of 6+ characters from identifying columns only (not
  cities, states, companies, dates or single name parts), and people's name tokens from name and
  email columns (`nametokens`). A generic value or name token common in the source (`Rarity`: in
  `common_rows` rows, or `common_share` of its column, or an enum-like column) identifies nobody;
- the source's values by row (`alignment`), so that a column the rules transform but which reached
  the target unchanged (a rule removed, a no-op strategy), or a phone number a scrub left in its
  row's text, is caught without flagging chance collisions.

Pass 2 (`leaks`) scans every target table once, reading only the columns it checks, and reports
each leak with table, column, row key, kind and how it matched; name tokens are looked for among the
capitalised words of scrub/json columns and of kept columns that read as sentences (in kept text, a
name joined to another counts only as the person's own full name). A kept column with
a reviewer's `reason` only warns on name evidence (`detector` re-runs the PII detector over kept
columns). Integrity rides along (`integrity`): row counts, foreign keys and uniqueness against the
source's constraints.

Memory grows with the source, never with the number of batches: about 12 bytes per distinct
sensitive source value, name token or full-name pair (16 while they are counted), 9 bytes per source row per
transformed column plus 8 per row for the key (12 per fingerprint for tables without an integer key,
and for the tokens of scrub/json columns), and 8 bytes per target row per unique constraint, foreign
key and referenced key. Everything else is per batch (`batch_size` rows). At 1M rows with 6 sensitive
columns that is about 90 MB (`VerifyResult.fingerprint_bytes`).
"""

from __future__ import annotations

from sanitize.verify.check import (
    treatments_from_plan,
    verify,
    verify_databases,
    verify_plan,
)
from sanitize.verify.fingerprints import EMPTY, KIND_SALT, HashSet, hash_strings
from sanitize.verify.leaks import MARKER_TABLES, TEXT_KINDS
from sanitize.verify.reading import Readable
from sanitize.verify.results import Check, Leak, Treatment, VerifyOptions, VerifyResult
from sanitize.verify.roles import ColumnRole, Roles, infer_roles, roles_from_plan
from sanitize.verify.tokens import (
    EXACT_KINDS,
    KINDS,
    extract_tokens,
    fingerprint_cells,
    iban_valid,
    luhn_valid,
)

__all__ = [
    "EMPTY",
    "EXACT_KINDS",
    "KINDS",
    "KIND_SALT",
    "MARKER_TABLES",
    "TEXT_KINDS",
    "Check",
    "ColumnRole",
    "HashSet",
    "Leak",
    "Readable",
    "Roles",
    "Treatment",
    "VerifyOptions",
    "VerifyResult",
    "extract_tokens",
    "fingerprint_cells",
    "hash_strings",
    "iban_valid",
    "infer_roles",
    "luhn_valid",
    "roles_from_plan",
    "treatments_from_plan",
    "verify",
    "verify_databases",
    "verify_plan",
]
