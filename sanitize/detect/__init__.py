"""PII detection: an offline presidio analyzer, Faker name lists, column-name and type heuristics.

    report = scan_database("prod.db", sample=1000)     # classify every column of every table
    write_draft(report, "rules/draft.yaml")            # a rules file covering every column, with evidence
    findings = find_pii_in_kept_columns(source, rules) # `keep` columns whose values now look like PII

The `scrub` strategy (sanitize/strategies/scrub.py) uses the same detector on free text.
"""

from sanitize.detect.draft import draft_rules, rule_for, write_draft
from sanitize.detect.drift import Finding, find_pii_in_kept_columns, suggest_rule
from sanitize.detect.engine import Detector, Span, build_analyzer, get_detector
from sanitize.detect.names import NameHint, is_free_text_name, match_column_name
from sanitize.detect.scan import (
    ColumnClassifier,
    ColumnScan,
    Evidence,
    ScanReport,
    TableScan,
    scan_database,
    scan_frame,
    scan_frames,
    scan_source,
)

__all__ = [
    "ColumnClassifier",
    "ColumnScan",
    "Detector",
    "Evidence",
    "Finding",
    "NameHint",
    "ScanReport",
    "Span",
    "TableScan",
    "build_analyzer",
    "draft_rules",
    "find_pii_in_kept_columns",
    "get_detector",
    "is_free_text_name",
    "match_column_name",
    "rule_for",
    "scan_database",
    "scan_frame",
    "scan_frames",
    "scan_source",
    "suggest_rule",
    "write_draft",
]
