"""Drift: columns a rules file keeps unchanged whose sampled values now look like PII.

`sanitize check` calls `find_pii_in_kept_columns` after its coverage check, so a `notes` column that
started holding e-mail addresses fails CI with the evidence, and `suggest_rule` gives the line that
would fix it.

Each finding has a severity. `fail`: the sampled values show the PII (kept PII). `warning`: only the
column's name says so, or the values merely collide with name lists (a `city` of towns that are also
surnames) — a column name alone never fails a gate. `reviewed`: the rule is `{strategy: keep, reason:
...}`, a reviewer's recorded decision, which the gates honour unless the values hold exact identifiers
(emails, cards, IBANs, SSNs, or phone numbers in most values): those fail whatever the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from sanitize.detect.draft import flow_yaml, rule_for, yaml_key
from sanitize.detect.engine import Detector
from sanitize.detect.names import is_personal_table
from sanitize.detect.scan import ColumnClassifier, ColumnScan, SampleSource, scan_frame
from sanitize.schema import Schema, Table


@dataclass(frozen=True)
class Finding:
    """A kept column whose sampled values look like PII."""

    table: str
    column: str
    kind: str
    confidence: float
    evidence: str
    scan: ColumnScan
    severity: Severity = "fail"
    reason: str | None = None  # the keep rule's recorded reason

    @property
    def blocking(self) -> bool:
        """True when a gate must stop on it (kept PII the values show)."""
        return self.severity == "fail"

    def describe(self) -> str:
        where = f"{self.table}.{self.column}"
        if self.severity == "reviewed":
            return f"{where} is kept (reviewed: {self.reason}); it looks like {self.kind}: {self.evidence}"
        if self.severity == "warning":
            return (
                f"{where} is kept unchanged; its name suggests {self.kind} but the sampled values do not "
                f"confirm it: {self.evidence}"
            )
        return (
            f"{where} is kept PII: kept unchanged but looks like {self.kind} "
            f"(confidence {self.confidence:.2f}): {self.evidence}"
        )


Severity = Literal["fail", "warning", "reviewed"]

# Entities that are never innocent in a column copied unchanged: a handful of them is a finding, even
# when they are too rare for `scan` to classify the column, and even when a reviewer gave a reason.
STRONG_ENTITIES = ("EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "UK_NINO")
STRONG_MIN_VALUES = 2
PHONE_MOST = 0.5  # phone numbers identify exactly too, but short digit runs collide: in most values


def _strong_hits(col: ColumnScan) -> int:
    ev = col.evidence
    return sum(max(ev.inside.get(e, 0), ev.whole.get(e, 0)) for e in STRONG_ENTITIES)


def _exact_identifiers(col: ColumnScan) -> bool:
    """The values hold identifiers no reason can excuse: emails, cards, IBANs, or phones in most."""
    ev = col.evidence
    phones = max(ev.inside.get("PHONE_NUMBER", 0), ev.whole.get("PHONE_NUMBER", 0))
    return _strong_hits(col) >= STRONG_MIN_VALUES or phones >= PHONE_MOST * max(1, ev.sampled)


def _severity(col: ColumnScan, reason: str | None) -> Severity:
    if _exact_identifiers(col):
        return "fail"
    if reason:
        return "reviewed"
    return "fail" if col.confirmed else "warning"


def keep_reason(rule: Any) -> str | None:
    """The `reason` a `keep` rule records, if any."""
    reason = getattr(getattr(rule, "params", None), "reason", None)
    return reason if isinstance(reason, str) and reason.strip() else None


def _reasons(rules: Any) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for table, trules in getattr(rules, "tables", {}).items():
        for column, rule in getattr(trules, "columns", {}).items():
            reason = keep_reason(rule)
            if reason is not None:
                out[(table, column)] = reason
    return out


def _strategy(rule: Any) -> str | None:
    if isinstance(rule, str):
        return rule
    return getattr(rule, "strategy", None)


def kept_columns(rules: Any, schema: Schema | None = None) -> dict[str, list[str]]:
    """Table key -> the columns copied unchanged: rule `keep`, or (with `unknown_columns: keep` and a
    schema) no rule at all. Skipped tables are not copied, so not checked; foreign-key columns inherit
    their parent's rule and are checked there."""
    out: dict[str, list[str]] = {}
    tables = getattr(rules, "tables", {})
    for table, trules in tables.items():
        if isinstance(trules, str):  # "skip"
            continue
        cols = [c for c, r in trules.columns.items() if _strategy(r) == "keep"]
        if cols:
            out[table] = cols
    if schema is not None and getattr(rules, "unknown_columns", "fail") == "keep":
        for t in schema.tables.values():
            trules = tables.get(t.key)
            if isinstance(trules, str):
                continue
            named = set(trules.columns) if trules is not None else set()
            fk_cols = {c for fk in t.foreign_keys for c in fk.columns}
            extra = [c for c in t.column_names if c not in named and c not in fk_cols]
            if extra:
                out[t.key] = out.get(t.key, []) + extra
    return out


def find_pii_in_kept_columns(
    source_or_frames: SampleSource | Mapping[str, pd.DataFrame],
    rules: Any,
    sample: int = 1000,
    *,
    detector: Detector | None = None,
    warnings: bool = False,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> list[Finding]:
    """Columns marked `keep` whose sampled values look like PII, with the evidence.

    `source_or_frames` is a Source (its tables are sampled, spread and deterministic) or a mapping of
    table key -> DataFrame. By default only blocking findings (severity `fail`) are returned, so a gate
    can stop on any of them; with `warnings`, also the name-only ones and the reviewed keeps.
    `progress("check", tables done, tables with kept columns)` follows the sampling table by table.
    """
    clf = ColumnClassifier(detector)
    findings: list[Finding] = []
    reasons = _reasons(rules)
    schema = None if isinstance(source_or_frames, Mapping) else source_or_frames.schema
    kept = sorted(kept_columns(rules, schema).items())
    for done, (key, columns) in enumerate(kept):
        if progress is not None:
            progress("check", done, len(kept))
        table: Table | str = key
        if isinstance(source_or_frames, Mapping):
            frame = source_or_frames.get(key)
            if frame is None:
                continue
        else:
            assert schema is not None
            if key not in schema:
                continue  # a stale table: the coverage check reports it
            table = schema[key]
            frame = source_or_frames.sample(key, sample)
        present = [c for c in columns if c in frame.columns]
        personal = None
        if isinstance(table, Table):
            refs = tuple(fk.ref_table for fk in table.foreign_keys)
            personal = is_personal_table(key, table.column_names, refs)
            table = Table(
                key=table.key,
                name=table.name,
                schema=table.schema,
                columns=tuple(c for c in table.columns if c.name in present),
                primary_key=table.primary_key,
                foreign_keys=(),
                unique_constraints=table.unique_constraints,
                indexes=table.indexes,
            )
        result = scan_frame(frame[present], table, classifier=clf, personal=personal)
        for col in result.columns:
            reason = reasons.get((key, col.column))
            if col.kind is None and _strong_hits(col) >= STRONG_MIN_VALUES:
                # too few to classify the column, but a kept column must not carry any of these
                col.kind, col.confidence, col.confirmed = "free_text", 0.5, True
            if col.kind is None:
                continue
            severity = _severity(col, reason)
            if severity == "fail" or warnings:
                findings.append(
                    Finding(
                        key,
                        col.column,
                        col.kind,
                        col.confidence,
                        col.evidence.describe(),
                        col,
                        severity,
                        reason,
                    )
                )
    if progress is not None:
        progress("check", len(kept), len(kept))
    return findings


def suggest_rule(finding: Finding) -> str:
    """A rules-file line that would fix the finding (goes under `tables.<table>.columns`)."""
    rule = rule_for(finding.scan)
    if isinstance(rule, dict) and rule.get("strategy") == "json":
        rule = {"strategy": "json", "paths": rule["paths"]}
    where = f"under tables.{finding.table}.columns"
    return f"{yaml_key(finding.column)}: {flow_yaml(rule)}  # {where}; {finding.evidence}"
