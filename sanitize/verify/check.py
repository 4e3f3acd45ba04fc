"""`verify`: the leak check of a target against its source, plus integrity; and its entry from rules."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from sanitize.keys import SecretKey
from sanitize.verify.collect import collect_fingerprints
from sanitize.verify.detector import run_detector
from sanitize.verify.integrity import row_count_check
from sanitize.verify.leaks import MARKER_TABLES, TargetScan
from sanitize.verify.reading import Readable
from sanitize.verify.results import Check, Treatment, VerifyOptions, VerifyResult
from sanitize.verify.roles import Roles, infer_roles, roles_from_plan

log = logging.getLogger("sanitize")


def verify(
    source: Readable,
    target: Readable,
    treatments: Mapping[str, Mapping[str, Treatment]],
    key: SecretKey,
    options: VerifyOptions = VerifyOptions(),
    roles: Roles | None = None,
) -> VerifyResult:
    """Leak check and integrity of `target` against `source`; `treatments`: table -> column -> treatment.

    Tables of the target not in `treatments` are scanned as all-kept. Reads both sides in batches.
    `roles`: what each column holds (`roles_from_plan`); by default guessed from column names.
    """
    started = time.perf_counter()
    result = VerifyResult()
    if roles is None:
        roles = infer_roles(source.schema, treatments)
    fps, aligned = collect_fingerprints(source, treatments, key, options, roles)
    result.fingerprint_bytes = fps.nbytes + sum(t.nbytes for t in aligned.values())
    scanner = TargetScan(target, treatments, key, options, fps, aligned, result, source.schema, roles)
    for tkey in target.schema.load_order():
        if tkey.split(".")[-1] in MARKER_TABLES:
            continue
        scanner.scan_table(tkey)
        if options.compare_counts and tkey in treatments and tkey in source.schema:
            result.checks.append(row_count_check(tkey, source.count(tkey), result.rows.get(tkey, 0)))
    for tkey in treatments:
        if tkey not in target.schema:
            result.checks.append(Check("table present", False, "the table is missing from the target", tkey))
    scanner.finish()
    run_detector(target, treatments, options, result, roles)
    result.seconds = time.perf_counter() - started
    log.info(
        "verify: %d rows scanned, %d leak(s), %.2fs",
        sum(result.rows.values()),
        result.leak_total,
        result.seconds,
    )
    return result


def treatments_from_plan(plan: Any) -> dict[str, dict[str, Treatment]]:
    """table -> column -> treatment, from a `sanitize.plan.Plan`."""
    out: dict[str, dict[str, Treatment]] = {}
    for tkey, tplan in plan.tables.items():
        cols: dict[str, Treatment] = {}
        for cname, cplan in tplan.columns.items():
            if not cplan.transforms:
                cols[cname] = "keep"
            elif cplan.spec.partial:
                cols[cname] = "partial"
            else:
                cols[cname] = "transform"
        out[tkey] = cols
    return out


def verify_plan(
    source: Readable, target: Readable, plan: Any, key: SecretKey, options: VerifyOptions = VerifyOptions()
) -> VerifyResult:
    """`verify` with treatments and roles (kinds, reviewed keeps) from a `sanitize.plan.Plan`."""
    treatments = treatments_from_plan(plan)
    return verify(source, target, treatments, key, options, roles_from_plan(plan, treatments))


def verify_databases(
    rules: Any,
    source: Any,
    target: Any,
    *,
    key: SecretKey | None = None,
    environments: Mapping[str, str] | None = None,
    options: VerifyOptions = VerifyOptions(),
) -> VerifyResult:
    """`sanitize verify --rules R SOURCE TARGET`: the leak check of a loaded target, both opened read-only.

    `rules` is a path or a RulesFile; `source`/`target` a URL, SQLite path, environment name, DatabaseRef,
    or a dump (pg_dump plain/custom/directory, mysqldump, CSV/Parquet directory), opened as `anonymize`
    opens its source.
    """
    from sanitize.keys import load_key
    from sanitize.plan import build_plan
    from sanitize.rules import RulesFile, load_rules
    from sanitize.sources import open_source

    r = rules if isinstance(rules, RulesFile) else load_rules(rules)
    k = key or load_key()
    envs = dict(environments) if environments else None
    with open_source(source, envs) as src, open_source(target, envs) as tgt:
        plan = build_plan(r, src.schema, k)
        return verify_plan(src, tgt, plan, k, options)
