"""The PII detector re-run over the target's kept text columns (sampled; advisory for reviewed keeps).

A kept column whose sampled values the detector (`sanitize.detect`) classifies as PII is a leak,
unless its `keep` carries the reason a reviewer recorded: then only exact identifiers (emails, card
numbers, IBANs, national IDs, phone numbers) fail it. Evidence from name lists alone (a `city` whose
values are also surnames), and a reviewed keep's findings, are warnings: the same judgement as
`sanitize check` (`detect.drift.find_pii_in_kept_columns`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import SimpleNamespace

from sanitize.verify.leaks import MARKER_TABLES, TEXT_KINDS
from sanitize.verify.reading import Readable
from sanitize.verify.results import Check, Leak, Treatment, VerifyOptions, VerifyResult
from sanitize.verify.roles import Roles

log = logging.getLogger("sanitize")

# what the detector concludes from name and place lists; anything else (emails, cards, IBANs, IDs,
# phone numbers, secrets) is an exact identifier and fails even a reviewed keep
NAME_LIST_FINDINGS = frozenset(
    {"person", "first_name", "last_name", "city", "address", "location", "country", "state", "company"}
)


def run_detector(
    target: Readable,
    treatments: Mapping[str, Mapping[str, Treatment]],
    options: VerifyOptions,
    result: VerifyResult,
    roles: Roles,
) -> None:
    """Re-run the PII detector (`sanitize.detect`, when present) over the target's kept text columns."""
    if not options.detector or not hasattr(target, "sample"):
        return
    try:
        from sanitize.detect.drift import find_pii_in_kept_columns
    except ImportError:
        return
    tables = {}
    for t in target.schema.tables.values():
        kept = [
            c.name
            for c in t.columns
            if c.kind in TEXT_KINDS and treatments.get(t.key, {}).get(c.name, "keep") == "keep"
        ]
        if kept and t.name not in MARKER_TABLES:
            tables[t.key] = SimpleNamespace(
                columns={
                    c: SimpleNamespace(
                        strategy="keep", params=SimpleNamespace(reason=roles.of(t.key, c).reason)
                    )
                    for c in kept
                }
            )
    try:
        findings = find_pii_in_kept_columns(
            target,  # type: ignore[arg-type]  # checked above: it has sample()
            SimpleNamespace(tables=tables),
            options.detector_sample,
            warnings=True,
        )
    except Exception as exc:  # advisory: the fingerprint checks above already ran
        log.warning("verify: the PII detector failed on the kept columns (%s)", type(exc).__name__)
        result.checks.append(Check("detector on kept columns", True, f"not run ({type(exc).__name__})"))
        return
    failing = []
    for f in findings:
        reason = roles.of(f.table, f.column).reason
        if not f.blocking:
            result.warnings.append(f"{f.table}.{f.column}: {f.describe()}")
            continue
        if reason is not None and f.kind in NAME_LIST_FINDINGS:
            result.warnings.append(
                f"{f.table}.{f.column}: the PII detector finds {f.kind} ({f.evidence}); name-list evidence "
                f"does not fail a reviewed keep ({reason})"
            )
            continue
        failing.append(f)
        k = (f.table, f.column, f"detected {f.kind}")
        if k in result.leak_counts:
            continue
        result.leak_counts[k] = 1
        result.reasons[k] = f"the PII detector finds {f.kind} in this kept column"
        result.leaks.append(
            Leak(
                f.table,
                f.column,
                "sampled rows",
                f"detected {f.kind}",
                f"the PII detector finds {f.kind} in this kept column ({f.evidence})",
            )
        )
    result.checks.append(
        Check("detector on kept columns", not failing, f"{len(failing)} kept column(s) look like PII")
    )
