"""`synthesize`: reflect or take a schema, generate every table, load it atomically, and report.

    report = synthesize("dev.db", schema_from="prod-replica.db", rules=load_rules("rules.yaml"),
                        scale=0.01, seed=7, profile=Profile.load("profile.json"))

The schema comes from `schema`, else `schema_from` (any database or environment), else the target
itself when it already has (empty) tables. The load goes through the db layer's shadow copy, so a
failed constraint check or a crash leaves the target as it was.
"""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from sanitize.errors import BadInputError, CheckFailedError
from sanitize.schema import Schema
from sanitize.synth.fidelity import (
    ConstraintCheck,
    FidelityReport,
    PrivacyCheck,
    PrivacyReport,
    compare_profiles,
)
from sanitize.synth.generate import BATCH_ROWS, plan_batches, to_frame
from sanitize.synth.plan import SynthPlan, build_plan, resolve_rows
from sanitize.synth.profile import Profile, ProfileBuilder, is_skipped

log = logging.getLogger("sanitize")


class SynthReport(BaseModel):
    """What a synth run did: rows per table, speed, fidelity to the profile, privacy figures."""

    target: str
    seed: int
    rows: dict[str, int]
    seconds: float
    rows_per_second: float
    modes: dict[str, dict[str, str]] = Field(default_factory=dict)  # table -> column -> how it was made
    fidelity: FidelityReport | None = None
    privacy: PrivacyReport | None = None

    def save(self, path: str | Path) -> None:
        data = self.model_dump(mode="json")
        if self.privacy is not None:
            data["privacy"]["exact_match_rate"] = self.privacy.exact_match_rate
            data["privacy"]["sensitive_values_found"] = self.privacy.sensitive_values_found
        import json

        Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _structural(plan: SynthPlan, key: str) -> set[str]:
    """Columns whose values are keys made from positions (ids, foreign keys, sequence numbers)."""
    tp = plan.tables[key]
    return set(tp.fk_column) | set(tp.seq) | tp.sequential


def synthesize(
    target: Any,
    *,
    schema: Schema | None = None,
    schema_from: Any = None,
    rules: Any = None,
    rows: int | dict[str, int] | None = None,
    scale: float | None = None,
    seed: int = 0,
    profile: Profile | None = None,
    batch_rows: int = BATCH_ROWS,
    environments: dict[str, str] | None = None,
    init_target: bool = False,
) -> SynthReport:
    """Fill `target` (a database spec or DatabaseRef, or a csv:/parquet: directory) with synthetic data
    and publish it atomically.

    `init_target` adopts a SQLite file sanitize did not make (see sanitize.db.open_target)."""
    from sanitize.sources import open_source, open_target, resolve_target

    started = time.perf_counter()
    if (isinstance(rows, int) or (isinstance(rows, dict) and "*" in rows)) and scale is not None:
        raise BadInputError(
            "--rows N and --scale F both set the row counts; give one of them "
            "(or --rows TABLE=N pairs with --scale for the other tables)"
        )
    target_ref = resolve_target(target, environments)
    if target_ref.kind == "dump":
        raise BadInputError(
            f"{target_ref.display}: synth fills a database or a csv:/parquet: directory, not a .sql dump; "
            "name a database (or synthesise into one and dump it)"
        )
    if target_ref.ref is not None and environments is None:  # a production environment is never a target
        from sanitize.guards import refuse_production_target

        refuse_production_target(target_ref.ref)
    with ExitStack() as stack:
        source = None
        if schema_from is not None:
            source = stack.enter_context(open_source(schema_from, environments))
            if source.ref.identity == target_ref.identity:
                raise BadInputError(
                    f"--schema-from {source.display} is the target itself; synth reads the "
                    "schema from the target without --schema-from when it already has tables"
                )
        tgt = stack.enter_context(open_target(target_ref, init_target=init_target))
        if schema is None:
            schema = source.schema if source is not None else tgt.published_schema()
        if schema is None or not schema.tables:
            raise BadInputError(
                f"{target_ref.display} has no tables to fill; pass --schema-from SOURCE (a database "
                "or environment with the schema), or run the app's migrations on the target first"
            )
        keys = [k for k in schema.tables if not is_skipped(rules, k)]
        base: dict[str, int] | None = None
        if profile is not None:
            base = {k: t.rows for k, t in profile.tables.items()}
        elif source is not None:
            base = {k: source.count(k) for k in keys}
        counts = resolve_rows(schema, rows, scale=scale, base=base)
        plan = build_plan(schema, counts, seed, rules, profile)

        privacy: PrivacyCheck | None = None
        if source is not None:
            meanings = {k: {c: s.semantic for c, s in plan.tables[k].specs.items()} for k in plan.order}
            privacy = PrivacyCheck(rules, meanings)
            for key in plan.order:
                if key in source.schema.tables:
                    privacy.learn(source, schema[key], _structural(plan, key))
        checks = ConstraintCheck()
        out_profile = ProfileBuilder(schema, public=True) if profile is not None else None
        with tgt.begin_load(schema, tables=plan.order) as load:
            for key, batch in plan_batches(plan, batch_rows):
                checks.add(schema[key], batch)
                if out_profile is not None:
                    out_profile.add(key, batch)
                if privacy is not None:
                    privacy.add(key, batch)
                load.write(key, to_frame(batch))
            if checks.problems:
                raise CheckFailedError(
                    f"synthetic data for {target_ref.display} breaks constraints; nothing was published",
                    problems=checks.problems,
                )
            load.finish()
            load.publish()
    seconds = time.perf_counter() - started
    total = sum(plan.tables[k].rows for k in plan.order)
    report = SynthReport(
        target=target_ref.display,
        seed=seed,
        rows={k: plan.tables[k].rows for k in plan.order},
        seconds=round(seconds, 3),
        rows_per_second=round(total / seconds, 1) if seconds > 0 else 0.0,
        modes={k: {c.name: plan.tables[k].mode_of(c.name) for c in schema[k].columns} for k in plan.order},
        fidelity=compare_profiles(profile, out_profile.finish(), schema)
        if profile is not None and out_profile
        else None,
        privacy=privacy.finish() if privacy is not None else None,
    )
    log.info("synthesised %d rows into %s in %.1fs", total, target_ref.display, seconds)
    return report


def parse_rows(values: list[str] | None) -> int | dict[str, int] | None:
    """`--rows 1000`, `--rows customers=100 --rows orders=500`, or both (`--rows 100 --rows orders=5`:
    orders gets 5, every other table 100) as the library wants them (`"*"`: every other table)."""
    if not values:
        return None
    if len(values) == 1 and "=" not in values[0]:
        return _count(values[0], "--rows")
    out: dict[str, int] = {}
    for v in values:
        table, sep, n = v.partition("=")
        if not sep and "*" not in out:
            out["*"] = _count(v, "--rows")
            continue
        if not sep or not table:
            raise BadInputError(
                f"--rows {v!r}: expected one number and/or TABLE=N pairs, e.g. --rows 100 --rows orders=500"
            )
        out[table.strip()] = _count(n, f"--rows {table}")
    return out


def _count(text: str, where: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise BadInputError(f"{where}: {text!r} is not a whole number of rows") from None
    if n < 0:
        raise BadInputError(f"{where}: {n} rows; expected 0 or more")
    return n
