"""`sanitize.check`: coverage and drift of rules against a source, as `sanitize check` reports them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from sanitize.api.arguments import RulesLike, as_rules, describe_source, opened
from sanitize.display import CheckResult

_FIXES = {
    "uncovered": "add a rule for it (or `keep` it explicitly)",
    "stale": "remove or rename the rule",
    "defaulted": "name it in the rules to decide explicitly",
    "pii_warning": "review it: transform it, or record the decision as `{strategy: keep, reason: ...}`",
    "kept_reviewed": "",
}


def _split_location(loc: str) -> tuple[str, str]:
    """'customers.email' or 'tables.customers.columns.email' -> ('customers', 'email')."""
    if loc.startswith("tables."):
        rest = loc[len("tables.") :]
        table, sep, col = rest.partition(".columns.")
        return table, col if sep else ""
    table, _, col = loc.rpartition(".")
    return table, col


def check(
    rules: RulesLike,
    source: Any,
    *,
    pii: bool = True,
    sample: int = 1000,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> CheckResult:
    """Coverage and drift of `rules` against `source`, as `sanitize check` reports them.

    Coverage reads only the schema: columns no rule covers (`uncovered`) and rules naming what no
    longer exists (`stale`). With `pii` (the default), columns the rules `keep` are also sampled
    (`sample` rows) and flagged `looks_like_pii` (kept PII: blocking) when their values now look like
    PII, with the evidence and the rule line that would fix it; `pii_warning` when only the column's
    name suggests PII (never blocking); `kept_reviewed` for a keep whose rule records a `reason` (not
    blocking unless the values hold emails, cards, IBANs or phone numbers). Returns a `CheckResult`:
    `.ok`, `.findings` (a DataFrame: table, column, problem, detail, fix), `.problems()` and
    `.warnings()`. `progress("check", tables sampled, tables with kept columns)` follows the sampling.

    >>> result = sanitize.check(rules, db)
    >>> result.ok
    True
    """
    r = as_rules(rules)
    from sanitize.plan import check_coverage

    rows: list[dict[str, str]] = []
    with opened(source) as src:
        cov = check_coverage(r, src.schema)
        drift: list[Any] = []
        if pii:
            from sanitize.detect.drift import find_pii_in_kept_columns, suggest_rule

            found = find_pii_in_kept_columns(src, r, sample, warnings=True, progress=progress)
            drift = [(f, suggest_rule(f)) for f in found]
    for problem, locs, detail in (
        ("uncovered", cov.uncovered, "no rule covers this column"),
        ("stale", cov.stale, "the rules name this but the source has no such table/column"),
        ("defaulted", cov.defaulted, "kept unchanged because no rule names it (unknown_columns: keep)"),
    ):
        for loc in locs:
            t, c = _split_location(loc)
            rows.append(
                {"table": t, "column": c, "problem": problem, "detail": detail, "fix": _FIXES[problem]}
            )
    for finding, suggestion in drift:
        fix = f"use a rule such as `{suggestion.split('  #')[0]}`"
        if finding.severity == "reviewed":
            problem, detail = "kept_reviewed", f"kept (reviewed: {finding.reason}); looks like {finding.kind}"
            fix = ""
        elif finding.severity == "warning":
            problem = "pii_warning"
            detail = (
                f"kept; the name suggests {finding.kind} but the sampled values do not confirm it "
                f"({finding.evidence})"
            )
            fix = f"{_FIXES['pii_warning']}; or {fix}"
        else:
            problem = "looks_like_pii"
            detail = f"kept unchanged but looks like {finding.kind}: kept PII ({finding.evidence})"
        rows.append(
            {
                "table": finding.table,
                "column": finding.column,
                "problem": problem,
                "detail": detail,
                "fix": fix,
            }
        )
    findings = pd.DataFrame(rows, columns=["table", "column", "problem", "detail", "fix"])
    return CheckResult(findings, source=describe_source(source), rules=r.path or "<in memory>")
