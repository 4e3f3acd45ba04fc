"""Synthetic data: fill any schema with realistic, constraint-correct rows; profiles; fidelity.

rows = resolve_rows(schema, 1000)
for table, frame in generate_tables(schema, rows, seed=7):   # pure, batched, deterministic
    ...
report = synthesize("dev.db", schema_from="staging", rules=rules, scale=0.01, seed=7)
profile = build_profile("prod-replica.db", rules)             # aggregates only, safe to commit
"""

from sanitize.synth.fidelity import FidelityReport, PrivacyReport, compare_profiles
from sanitize.synth.generate import generate_tables, plan_batches
from sanitize.synth.plan import SynthPlan, build_plan, resolve_rows
from sanitize.synth.profile import Profile, build_profile
from sanitize.synth.run import SynthReport, parse_rows, synthesize

__all__ = [
    "FidelityReport",
    "PrivacyReport",
    "Profile",
    "SynthPlan",
    "SynthReport",
    "build_plan",
    "build_profile",
    "compare_profiles",
    "generate_tables",
    "parse_rows",
    "plan_batches",
    "resolve_rows",
    "synthesize",
]
