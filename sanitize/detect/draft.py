"""Write a draft rules file from a scan: every column of every table, each with its evidence.

Detected PII gets a sensible strategy (emails `fake email`, unique when the column is unique; names
`fake name`; free text `scrub`; JSON `json` with the paths where PII was found; dates of birth
`date_shift`; ...), everything else `keep`. Foreign-key columns are left out: they inherit their
parent's rule. Each line carries a YAML comment with the kind, the confidence and the evidence, so a
reviewer can see why; the file is meant to be read and edited before use.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from sanitize.detect.names import normalise
from sanitize.detect.scan import ColumnScan, ScanReport
from sanitize.strategies.registry import all_strategies

# PII kind -> (fake kind, domain); domains are shared with `scrub`, so a value found inside free text
# gets the same pseudonym as in its own column.
FAKE_FOR_KIND: dict[str, tuple[str, str | None]] = {
    "email": ("email", "email"),
    "person": ("name", "person"),
    "first_name": ("first_name", None),
    "last_name": ("last_name", None),
    "phone": ("phone", "phone"),
    "credit_card": ("credit_card", "credit_card"),
    "iban": ("iban", "iban"),
    "ssn": ("ssn", "ssn"),
    "address": ("address", None),
    "city": ("city", None),
    "postcode": ("postcode", None),
    "username": ("username", None),
}
# fake kinds that cannot promise distinct outputs (fake refuses unique: true for them)
_NOT_UNIQUE = frozenset({"phone", "postcode", "ipv4", "iban", "credit_card", "ssn", "date_of_birth"})
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NO_WRAP = 1 << 30
# engines whose column names ignore case: `Email` and `email` are one column there
CASE_BLIND_COLUMNS = frozenset({"mysql", "sqlite"})
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null", "none"})


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    s = str(v)
    if _PLAIN.match(s) and s.lower() not in _YAML_WORDS:
        return s
    # YAML's own double-quoted form: line and paragraph separators, NEL and control characters are
    # escaped, so a key reads back exactly as the source names it (JSON quoting lets YAML fold them)
    quoted = yaml.dump(s, Dumper=yaml.SafeDumper, default_style='"', allow_unicode=True, width=_NO_WRAP)
    return quoted.strip()


def flow_yaml(rule: dict[str, Any] | str) -> str:
    if isinstance(rule, str):
        return _scalar(rule)
    return "{" + ", ".join(f"{_scalar(k)}: {_value(v)}" for k, v in rule.items()) + "}"


def _value(v: Any) -> str:
    if isinstance(v, dict):
        return flow_yaml(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    return _scalar(v)


def _registered(name: str) -> bool:
    return name in all_strategies()


def _scrub_rule(unique_domains: frozenset[str]) -> dict[str, Any] | str:
    from sanitize.strategies.scrub import DEFAULT_DOMAINS

    entities = sorted(e for e, d in DEFAULT_DOMAINS.items() if d in unique_domains)
    return {"strategy": "scrub", "unique_entities": entities} if entities else "scrub"


_NUMERIC = frozenset({"integer", "float", "decimal"})
# kinds whose values are ids: a keyed hash keeps them distinct and joinable (same domain everywhere)
_HASHED = {"person_ref": "person_ref", "device_id": "device", "provider_id": "provider_customer"}
_PLACE_NAMES = re.compile(r"city|town|place|ort|lugar|luogo|lieu|local|naturalidade|mesto|место", re.I)


def _remove(col: ColumnScan) -> dict[str, Any] | str:
    """NULL where the column allows it, else a constant of the column's type."""
    if col.nullable:
        return "nullify"
    if col.detail.get("container") == "array":
        return {"strategy": "redact", "value": "{}"}
    if col.type == "json" or col.detail.get("container") == "json":
        return {"strategy": "redact", "value": "[]"}
    if col.type in _NUMERIC:
        return {"strategy": "redact", "value": 1}
    return "redact"


def _typed_rule(col: ColumnScan) -> dict[str, Any] | str | None:
    """Rules for the kinds whose strategy depends on the column's type; None for the others."""
    kind = col.kind
    if col.detail.get("container") and kind not in ("json", "free_text"):
        return _remove(col)  # a list or document of e-mails: a scalar fake would not load there
    if kind == "birth_year":
        return {"strategy": "generalize", "step": 10} if col.type in _NUMERIC else _remove(col)
    if kind in ("birth_part", "photo"):
        return _remove(col)
    if kind == "birth_place":
        if _PLACE_NAMES.search(col.column):
            return {"strategy": "fake", "kind": "city"}
        return _remove(col)
    if kind == "geo":
        if col.type in _NUMERIC:
            step = float(col.detail.get("step", "0.01"))
            if col.type == "integer":
                step = max(1.0, step)
            return {"strategy": "generalize", "step": int(step) if step.is_integer() else step}
        return _remove(col)
    if kind in _HASHED:
        rule: dict[str, Any] = {"strategy": "hash", "domain": _HASHED[kind]}
        if col.unique:
            rule["unique"] = True
        return rule
    return None


def rule_for(col: ColumnScan, unique_domains: frozenset[str] = frozenset()) -> dict[str, Any] | str:
    """The rule a draft proposes for one classified column (a strategy name or a mapping).

    `unique_domains` are the domains some column fakes with unique: true; every fake and scrub of those
    domains is drafted unique too, so one value gets one pseudonym everywhere.
    """
    kind = col.kind
    if kind is None:
        return "keep"
    typed = _typed_rule(col)
    if typed is not None:
        return typed
    if kind == "free_text":
        return _scrub_rule(unique_domains)
    if kind == "json":
        if not _registered("json"):
            return _scrub_rule(unique_domains)
        return {
            "strategy": "json",
            "paths": {p: rule_for(c, unique_domains) for p, c in col.json_paths.items()},
        }
    if kind == "date_of_birth":
        if _registered("date_shift"):
            return "date_shift"
        return {"strategy": "fake", "kind": "date_of_birth"}
    if kind == "secret":  # a unique one (a session or API key) keeps its keys distinct, keyed
        return {"strategy": "hash", "unique": True} if col.unique else "redact"
    if kind == "national_id":
        return {"strategy": "hash", "domain": "national_id"}
    fake_kind: str
    domain: str | None
    if kind == "ip_address":
        fake_kind, domain = ("ipv6" if col.detail.get("ip_version") == "6" else "ipv4"), "ip"
    elif kind in FAKE_FOR_KIND:
        fake_kind, domain = FAKE_FOR_KIND[kind]
    else:
        return _scrub_rule(unique_domains)
    if col.unique and fake_kind in _NOT_UNIQUE:
        return {"strategy": "hash", "unique": True}
    rule: dict[str, Any] = {"strategy": "fake", "kind": fake_kind}
    if col.unique or (domain in unique_domains and fake_kind not in _NOT_UNIQUE):
        rule["unique"] = True
    if domain is not None:
        rule["domain"] = domain
    return rule


def unique_domains(report: ScanReport) -> frozenset[str]:
    """Domains that some drafted column rule fakes with unique: true."""
    out = set()
    for col in report.columns():
        rule = rule_for(col)
        if isinstance(rule, dict) and rule.get("unique") and rule.get("domain"):
            out.add(str(rule["domain"]))
    return frozenset(out)


def _comment(col: ColumnScan) -> str:
    text = col.evidence.describe()
    if col.kind is not None:
        text = f"{col.kind} ({col.confidence:.2f}): {text}"
    return " ".join(text.split())  # one line


def yaml_key(name: str) -> str:
    return _scalar(name)


def _inline(name: str) -> str:
    """A name inside a comment: as is, or quoted when it holds a line break or a control character."""
    return name if name.isprintable() else _scalar(name)


def _one_per_key(columns: list[ColumnScan], fold: bool, udomains: frozenset[str]) -> list[ColumnScan]:
    """The columns to write, one per YAML key: a column listed twice (or, where the engine ignores the
    case of column names, `Email` and `email`) is one column; the one with the stricter rule wins."""
    chosen: dict[str, ColumnScan] = {}
    for col in columns:
        k = col.column.casefold() if fold else col.column
        first = chosen.get(k)
        if first is None or (rule_for(first, udomains) == "keep" and rule_for(col, udomains) != "keep"):
            chosen[k] = col
    return list(chosen.values())


QUASI_KINDS = frozenset({"postcode", "date_of_birth", "city"})
_QUASI_NAME = re.compile(
    r"(?:^|_)(?:gender|sex|age|birth_?year|yob|zip|zipcode|postcode|plz|nationality|ethnicity|race|"
    r"marital_status|religion|occupation|job_title|geschlecht|sexo|genre|alter|edad)(?:_|$)"
)


def quasi_identifiers(columns: list[ColumnScan]) -> list[str]:
    """Columns that identify nobody alone but single people out together (postcode, birth date, sex,
    city, age...): what `sanitize scan` suggests for a table's `quasi_identifiers` (two or more)."""
    found = [
        c.column
        for c in columns
        if c.foreign_key is None and (c.kind in QUASI_KINDS or _QUASI_NAME.search(normalise(c.column)))
    ]
    return found if len(found) >= 2 else []


def draft_rules(report: ScanReport, *, locale: str = "en_US", source: str | None = None) -> str:
    """The draft rules file (YAML text) for a scan report; every key appears once in its mapping."""
    origin = " ".join(f" from {source}".split()) if source else ""
    head = [
        f"# Draft rules written by `sanitize scan` on {date.today().isoformat()}"
        + (f" {origin}" if origin else "")
        + (f", sampling {report.sample} rows per table." if report.sample else "."),
        "# Review every line: detected PII has a strategy, everything else is kept. Comments give the",
        "# evidence (sampled values that matched a recognizer, column-name patterns). Foreign-key columns",
        "# are not listed: they inherit their parent column's rule.",
        "version: 1",
        f"locale: {_scalar(locale)}",
        "unknown_columns: fail",
        "tables:",
    ]
    lines = list(head)
    udomains = unique_domains(report)
    fold = report.dialect in CASE_BLIND_COLUMNS
    tables = {t.key: t for t in report.tables}  # a table listed twice is written once
    if not tables:
        lines[-1] = "tables: {}"
    for table in tables.values():
        lines.append(f"  {yaml_key(table.key)}:")
        quasi = quasi_identifiers(table.columns)
        if quasi:
            listed = ", ".join(yaml_key(c) for c in quasi)
            lines.append(
                f"    # quasi_identifiers: [{listed}]  # suggested: uncomment to measure re-identification "
                "risk (k-anonymity) in every run; see README"
            )
        lines.append("    columns:")
        at = len(lines) - 1
        written = 0
        for col in _one_per_key(table.columns, fold, udomains):
            if col.foreign_key is not None:
                name, parent = _inline(col.column), _inline(col.foreign_key)
                lines.append(f"      # {name}: inherits {parent} (foreign key)")
                continue
            rule = rule_for(col, udomains)
            written += 1
            if isinstance(rule, dict) and rule.get("strategy") == "json":
                lines.append(f"      {yaml_key(col.column)}:  # {_comment(col)}")
                lines.append("        strategy: json")
                lines.append("        paths:")
                for path, sub in col.json_paths.items():
                    lines.append(
                        f"          {yaml_key(path)}: {flow_yaml(rule_for(sub, udomains))}  # {_comment(sub)}"
                    )
                continue
            lines.append(f"      {yaml_key(col.column)}: {flow_yaml(rule)}  # {_comment(col)}")
        if written == 0:
            lines[at] = "    columns: {}"
    return "\n".join(lines) + "\n"


def write_draft(report: ScanReport, path: str | Path, *, locale: str = "en_US") -> Path:
    """Write the draft rules file for a scan; returns the path."""
    target = Path(path)
    target.write_text(draft_rules(report, locale=locale, source=report.source or None), encoding="utf-8")
    return target
