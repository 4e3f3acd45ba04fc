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
from sanitize.schema import Table


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


def _strategy(rule: Any) -> str | None:
    if isinstance(rule, str):
        return rule
    return getattr(rule, "strategy", None)


def kept_columns(rules: Any) -> dict[str, list[str]]:
    """Table key -> the columns whose rule is `keep` (skipped tables are not copied, so not checked)."""
    out: dict[str, list[str]] = {}
    for table, trules in getattr(rules, "tables", {}).items():
        if isinstance(trules, str):  # "skip"
            continue
        cols = [c for c, r in trules.columns.items() if _strategy(r) == "keep"]
        if cols:
            out[table] = cols
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
    for key, columns in sorted(kept_columns(rules).items()):
        table: Table | str = key
        if isinstance(source_or_frames, Mapping):
            frame = source_or_frames.get(key)
            if frame is None:
                continue
        else:
            schema = source_or_frames.schema
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
    return findings


def suggest_rule(finding: Finding) -> str:
    """A rules-file line that would fix the finding (goes under `tables.<table>.columns`)."""
    rule = rule_for(finding.scan)
    if isinstance(rule, dict) and rule.get("strategy") == "json":
        rule = {"strategy": "json", "paths": rule["paths"]}
    return (
        f"{_key(finding.column)}: {_flow(rule)}  # under tables.{finding.table}.columns; {finding.evidence}"
    )
