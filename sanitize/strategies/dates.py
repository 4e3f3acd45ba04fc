"""The `date_shift` strategy: move dates by a keyed, never-zero number of days.

Per value by default; with `entity: customer_id` every date of one entity moves by the same number of
days (in every column and table that names the same entity values), so intervals between one
customer's events survive. Types are kept: dates stay dates, timestamps (tz-aware too) stay
timestamps, ISO text stays ISO text with its time part untouched. Text whose first ten characters are
not a YYYY-MM-DD date is replaced by a keyed date (fail closed: it is never copied).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from sanitize.errors import BadInputError
from sanitize.keys import hash64, mix
from sanitize.strategies.registry import ColumnContext, Params, StrategySpec, register
from sanitize.strategies.vector import is_text_kind, refuse, text_array, text_series, uniform_index, where

log = logging.getLogger("sanitize")

ENTITY_DOMAIN = "date_shift/entity"  # one shift per entity value, whatever column holds the dates
_FALLBACK_SPAN_DAYS = 60 * 365  # keyed dates for unreadable text: 1970 .. ~2030


class DateShiftParams(Params):
    max_days: int = Field(
        default=30, ge=1, le=36_500, description="Largest shift in days, either way; a shift is never 0."
    )
    entity: str | None = Field(
        default=None,
        description="Another column of the same table (e.g. customer_id): all dates of one entity "
        "shift by the same number of days.",
    )


def shift_days(h: np.ndarray, max_days: int) -> np.ndarray:
    """A keyed shift in [-max_days, -1] or [1, max_days] per hash (never 0)."""
    u = uniform_index(h, 2 * max_days).astype(np.int64)
    return np.where(u < max_days, u - max_days, u - max_days + 1)


def _hashes(values: pd.Series, params: DateShiftParams, ctx: ColumnContext) -> np.ndarray:
    purpose = f"date_shift:{params.max_days}"
    if params.entity is None:
        return hash64(values, ctx.key, ctx.domain, purpose)
    frame = ctx.frame
    if frame is None or params.entity not in frame.columns:
        raise BadInputError(
            f"{where(ctx)}: date_shift names entity column {params.entity!r}, which is not in the "
            f"batch; name a column of table {ctx.table or '?'} (the rules check this before a run)"
        )
    entity = frame[params.entity]
    if len(entity) != len(values) or not entity.index.equals(values.index):
        entity = entity.reindex(values.index)
    h = np.zeros(len(values), dtype=np.uint64)
    known = entity.notna().to_numpy(dtype=bool)
    if known.any():
        h[known] = hash64(entity[known], ctx.key, ENTITY_DOMAIN, purpose)
    if not known.all():  # no entity: shift the value on its own
        h[~known] = hash64(values[~known], ctx.key, ctx.domain, purpose)
    return h


def _shift_text(values: pd.Series, h: np.ndarray, days: np.ndarray) -> pd.Series:
    arr = text_array(values)
    head = pc.utf8_slice_codeunits(arr, 0, 10)
    parsed = pc.strptime(head, format="%Y-%m-%d", unit="s", error_is_null=True)
    as_days = pc.cast(pc.cast(parsed, pa.date32()), pa.int32()).to_numpy(zero_copy_only=False)
    bad = np.isnan(as_days) if as_days.dtype.kind == "f" else np.zeros(len(arr), dtype=bool)
    base = np.where(bad, 0, np.nan_to_num(as_days)).astype(np.int64)
    fallback = uniform_index(mix(h, 3), _FALLBACK_SPAN_DAYS)  # days since 1970-01-01
    shifted = np.where(bad, fallback, base + days).astype(np.int32)
    new_head = pc.cast(pa.array(shifted, type=pa.date32()), pa.large_string())
    rest = pc.if_else(pa.array(bad), pa.scalar("", pa.large_string()), pc.utf8_slice_codeunits(arr, 10))
    if bad.any():
        log.warning(
            "date_shift: %d text values are not ISO dates; each was replaced by a keyed date", int(bad.sum())
        )
    out = pc.binary_join_element_wise(new_head, rest, pa.scalar("", pa.large_string()))
    return text_series(out, values.index)


def _shift_dates_arrow(arr: pa.Array, days: np.ndarray) -> pa.Array:
    as_int = np.asarray(pc.cast(arr, pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64)
    return pa.array((as_int + days).astype(np.int32), type=pa.date32())


def _date_shift(values: pd.Series, params: DateShiftParams, ctx: ColumnContext) -> pd.Series:
    if not (is_text_kind(ctx) or ctx.kind in ("date", "datetime")):
        raise refuse(
            ctx,
            "date_shift",
            f"it shifts dates but the column is {ctx.kind}",
            "use noise or generalize for numbers",
        )
    if ctx.unique:
        raise refuse(ctx, "date_shift", "shifted dates are not unique", "drop unique or use hash")
    h = _hashes(values, params, ctx)
    days = shift_days(h, params.max_days)
    dtype = values.dtype
    if isinstance(dtype, pd.ArrowDtype):
        pa_type = dtype.pyarrow_dtype
        if pa.types.is_date(pa_type):
            shifted = _shift_dates_arrow(pa.array(values.array).cast(pa.date32()), days).cast(pa_type)
            return pd.Series(pd.array(shifted, dtype=dtype), index=values.index)
        if pa.types.is_timestamp(pa_type):
            target: Any = (
                f"datetime64[{pa_type.unit}]"
                if pa_type.tz is None
                else pd.DatetimeTZDtype(pa_type.unit, pa_type.tz)
            )
            moved = values.astype(target)
            return (moved + pd.to_timedelta(days, unit="D")).astype(dtype)
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return values + pd.to_timedelta(days, unit="D")
    if isinstance(dtype, pd.StringDtype) or (
        isinstance(dtype, pd.ArrowDtype) and pa.types.is_large_string(dtype.pyarrow_dtype)
    ):
        return _shift_text(values, h, days)
    if pd.api.types.is_object_dtype(dtype):
        return _shift_objects(values, h, days, ctx)
    raise refuse(ctx, "date_shift", f"values of type {dtype} are not dates", "use noise for numbers")


def _shift_objects(values: pd.Series, h: np.ndarray, days: np.ndarray, ctx: ColumnContext) -> pd.Series:
    """Python dates, datetimes and strings (grouped by type, each group shifted vectorised)."""
    out = pd.Series(np.empty(len(values), dtype=object), index=values.index)
    types = values.map(type)
    for t in types.unique():
        sel = (types == t).to_numpy()
        part = values[sel]
        if t is str:
            out[sel] = _shift_text(part, h[sel], days[sel]).astype(object).to_numpy()
        elif t is dt.date:
            arr = _shift_dates_arrow(pa.array(part.to_numpy(), type=pa.date32()), days[sel])
            out[sel] = np.asarray(arr.to_pylist(), dtype=object)
        elif issubclass(t, dt.datetime):
            moved = [v + dt.timedelta(days=int(d)) for v, d in zip(part, days[sel], strict=True)]
            out[sel] = np.asarray(moved, dtype=object)
        else:
            raise refuse(
                ctx,
                "date_shift",
                f"values of type {t.__name__} are not dates",
                "use noise for numbers or check the column type",
            )
    return out


DATE_SHIFT = register(
    StrategySpec(
        name="date_shift",
        thread_safe=True,
        description="Move each date by a keyed number of days (1..max_days either way); per value, or "
        "per entity so one customer's dates move together.",
        fn=_date_shift,
        params=DateShiftParams,
        reads_columns=lambda p: (p.entity,) if p.entity else (),
        example="date_of_birth: {strategy: date_shift, max_days: 180, entity: customer_id}",
    )
)

__all__ = ["DATE_SHIFT", "ENTITY_DOMAIN", "DateShiftParams", "shift_days"]
