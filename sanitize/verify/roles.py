"""What each source column is, for the leak check: where its values may and may not turn up.

A leak is a source value found where it does not belong *for its kind*. Each column the rules
transform gets a role from its rule (a `fake` kind) or, failing that, from its name
(`sanitize.detect.names`):

- **identifying** values (emails, full names, usernames, phone numbers, street addresses, IDs, and
  anything whose kind is unknown) are leaks wherever they are found whole, if they are rare;
- **attribute** values (cities, states, countries, postcodes, companies, jobs, dates) are leaks only
  in the row they came from, unchanged: a song named after a city, or a state equal to a city,
  identifies nobody;
- **person** columns (names and emails) also give their name tokens (given names, surnames, an
  email's local part) to the search inside free text (`nametokens`).

A kept column carries the reason its reviewer recorded (`keep`'s `reason`, when the rules have it):
name-only evidence against such a column is a warning, never a leak.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sanitize.schema import Schema
from sanitize.verify.results import Treatment

# kinds whose values collide with ordinary data (titles, other places) and identify nobody alone
ATTRIBUTE_KINDS = frozenset(
    {
        "city",
        "state",
        "country",
        "country_code",
        "postcode",
        "zipcode",
        "company",
        "job",
        "date",
        "date_of_birth",
        "first_name",  # a single name token: searched as a token inside free text instead
        "last_name",
    }
)
PERSON_KINDS = frozenset({"name", "first_name", "last_name", "email", "username"})
_NAME_HINTS = {"person": "name", "ip_address": "ipv4", "national_id": "ssn"}  # detect.names -> fake kinds


@dataclass(frozen=True)
class ColumnRole:
    """One column's part in the leak check: its kind (None: unknown), treatment and keep reason."""

    treatment: Treatment
    kind: str | None = None
    reason: str | None = None  # a reviewed `keep`

    @property
    def identifying(self) -> bool:
        """Whether its whole values are leaks wherever they are found (if rare)."""
        return self.treatment != "keep" and self.kind not in ATTRIBUTE_KINDS

    @property
    def person(self) -> bool:
        """Whether its values are people's names or emails (their tokens are searched in free text)."""
        return self.treatment == "transform" and self.kind in PERSON_KINDS


@dataclass
class Roles:
    """Every table's column roles, and the locale the rules fake names in (scrub's replacements)."""

    columns: dict[str, dict[str, ColumnRole]] = field(default_factory=dict)
    locale: str = "en_US"

    def of(self, table: str, column: str) -> ColumnRole:
        return self.columns.get(table, {}).get(column, ColumnRole("keep"))


def kind_from_name(table: str, column: str, schema: Schema | None) -> str | None:
    """The kind a column's name suggests (`sanitize.detect.names`), as a fake kind; None when unsure."""
    try:
        from sanitize.detect.names import match_column_name
    except ImportError:  # detection not installed in this build
        return None
    col_kind = None
    if schema is not None and table in schema:
        t = schema[table]
        col_kind = t.column(column).kind if column in t.column_names else None
    try:
        hint = match_column_name(column, col_kind, table)
    except Exception:  # advisory only: an unknown kind is treated as identifying
        return None
    if hint is None:
        return None
    return _NAME_HINTS.get(hint.kind, hint.kind)


def infer_roles(schema: Schema | None, treatments: Mapping[str, Mapping[str, Treatment]]) -> Roles:
    """Roles from treatments and column names alone (no rules at hand)."""
    roles = Roles()
    for tkey, cols in treatments.items():
        roles.columns[tkey] = {
            c: ColumnRole(how, kind_from_name(tkey, c, schema) if how != "keep" else None)
            for c, how in cols.items()
        }
    return roles


def roles_from_plan(plan: Any, treatments: Mapping[str, Mapping[str, Treatment]]) -> Roles:
    """Roles from a `sanitize.plan.Plan`: a fake's kind, else the column's name; a keep's reason."""
    roles = Roles(locale=getattr(plan.rules, "locale", None) or "en_US")
    for tkey, tplan in plan.tables.items():
        cols: dict[str, ColumnRole] = {}
        for cname, cplan in tplan.columns.items():
            how = treatments.get(tkey, {}).get(cname, "keep")
            if how == "keep":
                cols[cname] = ColumnRole(how, reason=getattr(cplan.params, "reason", None))
                continue
            kind = getattr(cplan.params, "kind", None) if cplan.spec.name == "fake" else None
            if how == "partial":
                kind = "text"
            elif not isinstance(kind, str):
                kind = kind_from_name(tkey, cname, plan.source_schema)
            cols[cname] = ColumnRole(how, kind)
        roles.columns[tkey] = cols
    return roles
