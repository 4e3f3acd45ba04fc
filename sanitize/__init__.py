"""sanitize: make production data safe for staging and dev.

The Python API is the engine the CLI and the nightly job run, for notebooks and scripts. A typical
session designs rules on a sample, looks at before/after, and saves the rules file for the CLI:

>>> import sanitize
>>> db = sanitize.connect("sqlite:///prod.db")            # URL, SQLite file or environment name
>>> db.tables
['customers', 'orders', ...]
>>> findings = sanitize.scan(db)                          # DataFrame: table, column, pii, evidence, ...
>>> rules = sanitize.load_rules("rules/shop.yaml")        # or sanitize.Rules.from_dict({...})
>>> rules = rules.with_rule("customers", "phone", sanitize.ColumnRule.of("mask", keep_last=4))
>>> sanitize.preview(db, rules, "customers", rows=20)     # before/after, changed cells highlighted
>>> sanitize.check(rules, db).ok                          # every column covered, no stale rule
True
>>> rules.to_yaml("rules/shop.yaml")                      # the CLI and the nightly job read this file

Plain DataFrames need no database: `sanitize.apply(df, rules, table="customers")` returns the
anonymised frame, value for value what the pipeline writes for the same key (`SANITIZE_KEY`).

Names are imported on first use, so `import sanitize` stays cheap for the command line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sanitize.api import (
        ColumnRule,
        Connection,
        Rules,
        anonymize,
        apply,
        check,
        compare,
        connect,
        draft_rules,
        load_rules,
        preview,
        profile,
        scan,
        show_rules,
        synthesize,
        table_from_frame,
    )
    from sanitize.defaults import DEFAULT_BATCH
    from sanitize.demo import build_demo_database, demo_rules_path
    from sanitize.display import CheckResult, Comparison, FindingsFrame, PreviewFrame
    from sanitize.errors import (
        BadInputError,
        CheckFailedError,
        ConfigError,
        ConnectionFailed,
        CoverageError,
        DumpError,
        KeyMissingError,
        LeakError,
        LoadError,
        RiskError,
        RulesError,
        RuntimeFailure,
        SafetyError,
        SanitizeError,
        TargetRefusedError,
        UrlError,
    )

__version__ = "0.1.0"
_LAZY: dict[str, str] = {
    "ColumnRule": "sanitize.api",
    "Connection": "sanitize.api",
    "Rules": "sanitize.api",
    "apply": "sanitize.api",
    "check": "sanitize.api",
    "compare": "sanitize.api",
    "connect": "sanitize.api",
    "draft_rules": "sanitize.api",
    "load_rules": "sanitize.api",
    "preview": "sanitize.api",
    "profile": "sanitize.api",
    "scan": "sanitize.api",
    "synthesize": "sanitize.api",
    "show_rules": "sanitize.api",
    "table_from_frame": "sanitize.api",
    "build_demo_database": "sanitize.demo",
    "demo_rules_path": "sanitize.demo",
    "DEFAULT_BATCH": "sanitize.defaults",
    "CheckResult": "sanitize.display",
    "Comparison": "sanitize.display",
    "FindingsFrame": "sanitize.display",
    "PreviewFrame": "sanitize.display",
    "BadInputError": "sanitize.errors",
    "CheckFailedError": "sanitize.errors",
    "ConfigError": "sanitize.errors",
    "ConnectionFailed": "sanitize.errors",
    "CoverageError": "sanitize.errors",
    "DumpError": "sanitize.errors",
    "KeyMissingError": "sanitize.errors",
    "LeakError": "sanitize.errors",
    "LoadError": "sanitize.errors",
    "RiskError": "sanitize.errors",
    "RulesError": "sanitize.errors",
    "RuntimeFailure": "sanitize.errors",
    "SafetyError": "sanitize.errors",
    "SanitizeError": "sanitize.errors",
    "TargetRefusedError": "sanitize.errors",
    "UrlError": "sanitize.errors",
    "anonymize": "sanitize.api",
}

__all__ = [
    "DEFAULT_BATCH",
    "BadInputError",
    "CheckFailedError",
    "CheckResult",
    "ColumnRule",
    "Comparison",
    "ConfigError",
    "Connection",
    "ConnectionFailed",
    "CoverageError",
    "DumpError",
    "FindingsFrame",
    "KeyMissingError",
    "LeakError",
    "LoadError",
    "PreviewFrame",
    "RiskError",
    "Rules",
    "RulesError",
    "RuntimeFailure",
    "SafetyError",
    "SanitizeError",
    "TargetRefusedError",
    "UrlError",
    "__version__",
    "anonymize",
    "apply",
    "build_demo_database",
    "check",
    "compare",
    "connect",
    "demo_rules_path",
    "draft_rules",
    "load_rules",
    "preview",
    "profile",
    "scan",
    "show_rules",
    "synthesize",
    "table_from_frame",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sanitize' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
