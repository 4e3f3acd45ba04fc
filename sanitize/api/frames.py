"""A `Table` from a bare DataFrame: column kinds from its dtypes (object columns: from their values)."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sanitize.arrow import kind_of_arrow
from sanitize.errors import BadInputError
from sanitize.schema import Column, Kind, Table


def _kind_of_arrow(t: pa.DataType) -> tuple[Kind, dict[str, Any]]:
    """As a database column would be: nested values (struct, list, map) are JSON in a notebook frame."""
    if pa.types.is_struct(t) or pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_map(t):
        return "json", {}
    return kind_of_arrow(t)


def _kind_of_objects(values: pd.Series) -> tuple[Kind, dict[str, Any]]:
    sample = values.dropna().head(100).tolist()
    if not sample:
        return "text", {}
    first = sample[0]
    checks: list[tuple[type | tuple[type, ...], Kind]] = [
        (bool, "boolean"),
        (str, "text"),
        ((dict, list), "json"),
        ((bytes, bytearray, memoryview), "binary"),
        (decimal.Decimal, "decimal"),
        (dt.datetime, "datetime"),
        (dt.date, "date"),
        (dt.time, "time"),
        (uuid.UUID, "uuid"),
        ((int, np.integer), "integer"),
        ((float, np.floating), "float"),
    ]
    for types, kind in checks:
        if isinstance(first, types) and all(isinstance(v, types) for v in sample):
            if kind == "datetime":
                return kind, {"timezone": getattr(first, "tzinfo", None) is not None}
            return kind, {}
    return "text" if all(isinstance(v, str) for v in sample) else "other", {}


def column_from_series(name: str, values: pd.Series) -> Column:
    """The `Column` a DataFrame column stands for, from its dtype (object columns: from their values)."""
    d = values.dtype
    extra: dict[str, Any] = {}
    kind: Kind
    if isinstance(d, pd.ArrowDtype):
        kind, extra = _kind_of_arrow(d.pyarrow_dtype)
    elif isinstance(d, pd.CategoricalDtype):
        kind = "text"
    elif pd.api.types.is_bool_dtype(d):
        kind = "boolean"
    elif pd.api.types.is_integer_dtype(d):
        kind = "integer"
    elif pd.api.types.is_float_dtype(d):
        kind = "float"
    elif pd.api.types.is_datetime64_any_dtype(d):
        kind, extra = "datetime", {"timezone": isinstance(d, pd.DatetimeTZDtype)}
    elif pd.api.types.is_timedelta64_dtype(d):
        kind = "other"
    elif pd.api.types.is_string_dtype(d) and not pd.api.types.is_object_dtype(d):
        kind = "text"
    else:
        kind, extra = _kind_of_objects(values)
    return Column(name=str(name), kind=kind, nullable=True, **extra)


def table_from_frame(df: pd.DataFrame, table: str) -> Table:
    """A `Table` named `table` ("name" or "schema.name") whose columns are `df`'s, typed from its dtypes.

    It has no primary key, foreign keys or length limits: a bare DataFrame does not say them.
    """
    schema, _, name = table.rpartition(".")
    dupes = sorted({str(c) for c in df.columns if list(df.columns).count(c) > 1})
    if dupes:
        raise BadInputError(
            f"the DataFrame has duplicate column names {dupes}; rename them before applying rules"
        )
    cols = tuple(column_from_series(str(c), df[c]) for c in df.columns)
    return Table(key=table, name=name, schema=schema or None, columns=cols)
