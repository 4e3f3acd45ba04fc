"""Drift: columns a rules file keeps unchanged whose sampled values now look like PII.

`sanitize check` calls `find_pii_in_kept_columns` after its coverage check, so a `notes` column that
started holding e-mail addresses fails CI with the evidence, and `suggest_rule` gives the line that
would fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sanitize.detect.draft import _flow, _key, rule_for
from sanitize.detect.engine import Detector
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

    def describe(self) -> str:
        return (
            f"{self.table}.{self.column} is kept unchanged but looks like {self.kind} "
            f"(confidence {self.confidence:.2f}): {self.evidence}"
        )


# Entities that are never innocent in a column copied unchanged: a handful of them is a finding, even
# when they are too rare for `scan` to classify the column.
STRONG_ENTITIES = ("EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "UK_NINO")
STRONG_MIN_VALUES = 2


def _strong_hits(col: ColumnScan) -> int:
    ev = col.evidence
    return sum(max(ev.inside.get(e, 0), ev.whole.get(e, 0)) for e in STRONG_ENTITIES)


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
) -> list[Finding]:
    """Columns marked `keep` whose sampled values look like PII, with the evidence.

    `source_or_frames` is a Source (its tables are sampled, spread and deterministic) or a mapping of
    table key -> DataFrame. Only value evidence counts: a kept column whose name merely sounds personal
    was a reviewer's decision.
    """
    clf = ColumnClassifier(detector)
    findings: list[Finding] = []
    schema = None if isinstance(source_or_frames, Mapping) else source_or_frames.schema
    for key, columns in sorted(kept_columns(rules, schema).items()):
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
        if isinstance(table, Table):
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
        result = scan_frame(frame[present], table, classifier=clf)
        for col in result.columns:
            if col.kind is not None and col.from_values:
                findings.append(
                    Finding(key, col.column, col.kind, col.confidence, col.evidence.describe(), col)
                )
            elif col.kind is None and _strong_hits(col) >= STRONG_MIN_VALUES:
                # too few to classify the column, but a kept column must not carry any of these
                col.kind = "free_text"
                findings.append(Finding(key, col.column, "free_text", 0.5, col.evidence.describe(), col))
    return findings


def suggest_rule(finding: Finding) -> str:
    """A rules-file line that would fix the finding (goes under `tables.<table>.columns`)."""
    rule = rule_for(finding.scan)
    if isinstance(rule, dict) and rule.get("strategy") == "json":
        rule = {"strategy": "json", "paths": rule["paths"]}
    return (
        f"{_key(finding.column)}: {_flow(rule)}  # under tables.{finding.table}.columns; {finding.evidence}"
    )
