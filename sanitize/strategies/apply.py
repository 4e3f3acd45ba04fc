"""Running one strategy on one column: the per-column contract every caller goes through.

`apply_strategy` removes NULLs before the strategy and puts them back after (NULL stays NULL), checks
that the strategy returned one value per input, fits text to the target column's length, and never
touches the caller's data. The pipeline's transform stage, the nested rules of `json` and `scrub`,
and the risk estimate all run strategies through it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.strategies.registry import ColumnContext, Params, StrategySpec


def _with_nulls(out: pd.Series, index: pd.Index) -> pd.Series:
    """Spread `out` over `index`, NULL where it has no value; numpy dtypes become Arrow so ints stay ints."""
    dt = out.dtype
    if isinstance(dt, np.dtype) and dt.kind in "iubfMm":
        out = out.astype(pd.ArrowDtype(pa.from_numpy_dtype(dt)))
    full = out.reindex(index)
    if full.dtype == object:
        full = full.astype(object).where(full.index.isin(out.index), None)
    return full


def fit_length(out: pd.Series, max_length: int | None) -> pd.Series:
    """Cut text longer than the column allows (strategies aim to fit; this is the last guard)."""
    if not max_length or not pd.api.types.is_string_dtype(out.dtype):
        return out
    dt = out.dtype
    if isinstance(dt, pd.ArrowDtype) or getattr(dt, "storage", None) == "pyarrow":
        # Arrow-backed text: a value has at least as many bytes as characters, and byte lengths are
        # offset differences, so the common case (everything fits) costs no UTF-8 decoding
        longest = pc.max(pc.binary_length(pa.array(out.array))).as_py()
        if longest is None or longest <= max_length:
            return out
    lengths = out.str.len()
    if not (lengths > max_length).any():
        return out
    return out.str.slice(0, max_length)


def apply_strategy(values: pd.Series, spec: StrategySpec, params: Params, ctx: ColumnContext) -> pd.Series:
    """Run one strategy over one column of one batch; NULLs pass through as NULL."""
    mask = values.notna().to_numpy(dtype=bool)
    if mask.all():
        nonnull, frame = values, ctx.frame
    else:
        nonnull = values[mask]
        frame = ctx.frame[mask] if ctx.frame is not None else None
    out = spec.fn(nonnull, params, replace(ctx, frame=frame))
    if len(out) != len(nonnull):
        raise AssertionError(f"strategy {spec.name} returned {len(out)} values for {len(nonnull)}")
    out = pd.Series(
        out.array if isinstance(out.dtype, pd.api.extensions.ExtensionDtype) else out.to_numpy(),
        index=nonnull.index,
        dtype=out.dtype,
        name=values.name,
    )
    out = fit_length(out, ctx.max_length if ctx.kind in (None, "text") else None)
    if mask.all():
        return out
    return _with_nulls(out, values.index)
