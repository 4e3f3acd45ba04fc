"""`sanitize.scan` and `sanitize.draft_rules`: PII detection and the draft rules it suggests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from sanitize.api.arguments import describe_source, opened
from sanitize.display import FindingsFrame
from sanitize.errors import BadInputError
from sanitize.rules import RulesFile

FINDING_COLUMNS = [
    "table",
    "column",
    "type",
    "pii",
    "confidence",
    "evidence",
    "json_paths",
    "unique",
    "foreign_key",
    "suggested_rule",
]


def _findings(report: Any) -> FindingsFrame:
    from sanitize.detect.draft import flow_yaml, rule_for, unique_domains

    udomains = unique_domains(report)
    rows = []
    for c in report.columns():
        paths = [f"{p}: {s.kind}" for p, s in c.json_paths.items() if s.kind]
        rows.append(
            {
                "table": c.table,
                "column": c.column,
                "type": c.type,
                "pii": c.kind or "",
                "confidence": round(float(c.confidence), 3),
                "evidence": c.evidence.describe(),
                "json_paths": "; ".join(paths),
                "unique": bool(c.unique),
                "foreign_key": c.foreign_key or "",
                "suggested_rule": (
                    f"inherits {c.foreign_key}" if c.foreign_key else flow_yaml(rule_for(c, udomains))
                ),
            }
        )
    frame = FindingsFrame(pd.DataFrame(rows, columns=FINDING_COLUMNS))
    frame.report = report
    return frame


def scan(
    source_or_dataframe: Any,
    *,
    table: str | None = None,
    tables: list[str] | None = None,
    sample: int = 1000,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> FindingsFrame:
    """Detect PII: one row per column with the kind found (`pii`), a confidence and the evidence.

    Give a `Connection` / database spec (each table is sampled, `sample` rows spread across it), or a
    DataFrame (its rows are the sample; `table` names it, which helps the column-name heuristics).
    Runs offline: presidio's pattern recognizers plus sanitize's own; no model is downloaded.
    `progress("scan", tables done, tables in all)` follows a database scan.

    >>> findings = sanitize.scan(db)
    >>> findings.pii                       # only the columns where PII was found
    >>> sanitize.scan(df, table="customers")
    """
    from sanitize.detect.scan import ScanReport, scan_frame, scan_source

    if isinstance(source_or_dataframe, pd.DataFrame):
        report = ScanReport([scan_frame(source_or_dataframe, table or "")], sample=len(source_or_dataframe))
        return _findings(report)
    if sample < 1:
        raise BadInputError(f"sample must be at least 1 row, found {sample}")
    with opened(source_or_dataframe) as src:
        wanted = tables if tables is not None else ([table] if table else None)
        for t in wanted or []:
            if t not in src.schema:
                raise BadInputError(
                    f"table {t!r} is not in {describe_source(source_or_dataframe)}; "
                    f"tables: {', '.join(src.schema.tables) or 'none'}"
                )
        report = scan_source(src, sample, tables=wanted, progress=progress)
    return _findings(report)


def draft_rules(findings_or_source: Any, *, sample: int = 1000, out: str | Path | None = None) -> RulesFile:
    """A draft rules file from a scan: every column covered, detected PII with a sensible strategy.

    Give the result of `scan` (no rescan) or a source to scan. With `out`, the draft is also written
    there with a comment per column giving the evidence, as `sanitize scan --out` writes it. Review the
    draft before use: it is a starting point, not a decision.

    >>> rules = sanitize.draft_rules(findings)
    """
    import yaml

    from sanitize.detect.draft import draft_rules as draft_text

    report = getattr(findings_or_source, "report", None)
    if report is None:
        if isinstance(findings_or_source, pd.DataFrame) and not isinstance(findings_or_source, FindingsFrame):
            raise BadInputError(
                "draft_rules needs the result of sanitize.scan (or a source to scan); a plain DataFrame "
                "holds no scan — pass sanitize.scan(df, table=...) instead"
            )
        if isinstance(findings_or_source, FindingsFrame):
            raise BadInputError(
                "these findings lost their scan report (an operation dropped it); pass the DataFrame "
                "sanitize.scan returned, or the source itself"
            )
        report = scan(findings_or_source, sample=sample).report
    text = draft_text(report, source=getattr(report, "source", None) or None)
    rules = RulesFile.from_dict(yaml.safe_load(text), source="<draft rules>")
    if out is not None:
        Path(out).write_text(text, encoding="utf-8")
        rules = rules.model_copy(update={"path": str(out)})
    return rules
