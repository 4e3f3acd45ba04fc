"""Strategies: what to do with a column. See registry.py for the contract."""

from sanitize.strategies.registry import (
    ColumnContext,
    NoParams,
    Params,
    StrategySpec,
    all_strategies,
    builtin_strategies,
    closest,
    get,
    markdown_table,
    register,
)

__all__ = [
    "ColumnContext",
    "NoParams",
    "Params",
    "StrategySpec",
    "all_strategies",
    "builtin_strategies",
    "closest",
    "get",
    "markdown_table",
    "register",
]
