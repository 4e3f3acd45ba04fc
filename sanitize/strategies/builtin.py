"""Imports every built-in strategy family so that each registers itself (registry.py imports this)."""

from __future__ import annotations

from sanitize.strategies import (
    basic,  # noqa: F401
    dates,  # noqa: F401
    fake,  # noqa: F401
    fpe,  # noqa: F401
    json_paths,  # noqa: F401
    numeric,  # noqa: F401
    scrub,  # noqa: F401
)
