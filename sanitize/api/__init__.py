"""The Python API behind `import sanitize`: the same engine as the CLI and the nightly job.

Every function here is a thin layer over the library stages (rules, plan, transform, pipeline,
detect, synth); none has its own logic for what a rule does. Results that a notebook displays are
small classes from `sanitize.display` with an HTML representation. One module per concern:

- `connection`: `connect` and `Connection` (an open, read-only source);
- `frames`: `table_from_frame` (a `Table` from a bare DataFrame's dtypes);
- `anonymise`: `apply` and `preview`;
- `runs`: `anonymize` (the whole run, as `sanitize anonymize`);
- `coverage`: `check`;
- `detection`: `scan` and `draft_rules`;
- `synthesis`: `profile`, `synthesize` and `compare`;
- `arguments`: what the functions accept (rules or a path; a Connection or a spec).

Rules themselves are read and shown here: `load_rules`, `show_rules`, `Rules`, `ColumnRule`.
"""

from __future__ import annotations

from pathlib import Path

from sanitize import display
from sanitize.api.anonymise import apply, preview
from sanitize.api.arguments import RulesLike, as_rules
from sanitize.api.connection import Connection, connect
from sanitize.api.coverage import check
from sanitize.api.detection import FINDING_COLUMNS, draft_rules, scan
from sanitize.api.frames import column_from_series, table_from_frame
from sanitize.api.runs import anonymize
from sanitize.api.synthesis import compare, profile, synthesize
from sanitize.rules import ColumnRule, RulesFile
from sanitize.rules import load_rules as _load_rules

__all__ = [
    "FINDING_COLUMNS",
    "ColumnRule",
    "Connection",
    "Rules",
    "RulesLike",
    "anonymize",
    "apply",
    "check",
    "column_from_series",
    "compare",
    "connect",
    "draft_rules",
    "load_rules",
    "preview",
    "profile",
    "scan",
    "show_rules",
    "synthesize",
    "table_from_frame",
]

Rules = RulesFile
"""A rules file (alias of `sanitize.rules.RulesFile`): `.from_dict`, `.with_rule`, `.to_yaml(path)`."""


def load_rules(path: str | Path) -> RulesFile:
    """Load and validate a rules file; every problem is reported at once as a `RulesError`.

    >>> rules = sanitize.load_rules("rules/shop.yaml")
    >>> rules.to_yaml("rules/shop.yaml")          # write it back (a file the CLI accepts unchanged)
    """
    return _load_rules(path)


def show_rules(rules: RulesLike) -> display.RulesView:
    """A rules file as YAML for a notebook (rules also display this way on their own inside Jupyter)."""
    return display.RulesView(as_rules(rules))


display.register_formatters()
