"""`sanitize.profile`, `sanitize.synthesize` and `sanitize.compare`: synthetic data from a notebook."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sanitize import display
from sanitize.api.arguments import RulesLike, as_rules, opened
from sanitize.api.connection import Connection
from sanitize.errors import BadInputError

if TYPE_CHECKING:
    from sanitize.synth import Profile, SynthReport


def profile(source: Any, rules: RulesLike) -> Profile:
    """A PII-free profile of `source` (a `sanitize.synth.Profile`): aggregates only, safe to commit.

    Per column: NULL fraction, ranges and quantiles, text lengths, and category frequencies only for
    low-cardinality columns the rules do not treat as sensitive (small groups suppressed).

    >>> prof = sanitize.profile(db, rules)
    >>> prof.save("profile.json")
    """
    from sanitize.synth import build_profile

    r = as_rules(rules)
    with opened(source) as src:
        return build_profile(src, r)


def synthesize(
    target: str | Path,
    *,
    rules: RulesLike | None = None,
    schema_from: Any = None,
    rows: int | dict[str, int] | None = None,
    scale: float | None = None,
    seed: int = 0,
    profile: Profile | None = None,
    environments: Mapping[str, str] | None = None,
    init_target: bool = False,
) -> SynthReport:
    """Fill `target` with synthetic, constraint-correct rows and publish it atomically.

    The schema comes from `schema_from` (a `Connection`, URL, file or environment name) or from the
    target's existing tables. `profile` (from `sanitize.profile`) shapes the distributions; row counts
    come from `rows` (one number or per table), `scale` of the source's counts, or the profile. The
    same `seed` gives the same data. A SQLite file sanitize did not make that holds rows is refused
    unless `init_target=True`, which replaces only the tables synthesised and keeps the others.
    Returns a `sanitize.synth.SynthReport` (rows, fidelity, privacy).

    >>> report = sanitize.synthesize("dev.db", schema_from=db, rules=rules, profile=prof, seed=7)
    """
    from sanitize.synth import synthesize as run_synthesize

    source: Any = schema_from
    if isinstance(schema_from, Connection):
        source = schema_from.ref
        if source is None:
            raise BadInputError(
                f"{schema_from.display} is not a database; synthesize needs a database schema"
            )
    elif isinstance(schema_from, Path):
        source = str(schema_from)
    return run_synthesize(
        str(target),
        schema_from=source,
        rules=as_rules(rules) if rules is not None else None,
        rows=rows,
        scale=scale,
        seed=seed,
        profile=profile,
        environments=dict(environments) if environments else None,
        init_target=init_target,
    )


def compare(
    a: pd.Series | pd.DataFrame,
    b: pd.Series | pd.DataFrame,
    column: str | None = None,
    *,
    labels: tuple[str, str] = ("real", "synthetic"),
    bins: int = 20,
) -> display.Comparison:
    """Compare one column's distribution in two datasets; displays as a bar chart with a statistic.

    >>> sanitize.compare(real["total"], synthetic["total"])          # KS statistic, histogram
    >>> sanitize.compare(real, synthetic, "status")                  # total variation distance
    """
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        if column is None:
            raise BadInputError("compare needs `column` when given DataFrames")
        sa_ = a[column] if isinstance(a, pd.DataFrame) else a
        sb_ = b[column] if isinstance(b, pd.DataFrame) else b
    else:
        sa_, sb_ = a, b
    return display.compare_series(sa_, sb_, column=column, labels=labels, bins=bins)
