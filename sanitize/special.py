"""PostgreSQL's infinity and NaN, mapped as the rules' `special_values` say.

PostgreSQL has `infinity`/`-infinity` dates and timestamps and `Infinity`/`NaN` numerics and floats;
Arrow has no infinite date, and MariaDB/MySQL store neither. `special_values: {infinity: null | max,
nan: null}` maps just those values — NULL, or the largest (smallest for -infinity) value of the column's
type — instead of nullifying the whole column; without it the run stops naming table, column, the kind
of value and the option.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.errors import BadInputError
from sanitize.schema import Table

# how the PostgreSQL driver hands over infinite dates (days) and timestamps (microseconds): wrapped
_DATE_INF = (-2_147_472_692, -2_147_472_691)  # +infinity, -infinity
_TS_INF = (-9_222_425_352_054_775_809, -9_222_425_352_054_775_808)
_DATE_MAX: dict[int, Any] = {
    1: dt.date(9999, 12, 31),
    -1: dt.date(1000, 1, 1),
}  # MariaDB's DATE/DATETIME range
_TS_MAX: dict[int, Any] = {1: dt.datetime(9999, 12, 31, 23, 59, 59, 999999), -1: dt.datetime(1000, 1, 1)}


def _refuse(where: str, what: str, target: str) -> BadInputError:
    option = "infinity: null | max" if "infinity" in what else "nan: null"
    return BadInputError(
        f"{where}: holds {what}, which {target} cannot hold; map just those values with "
        f"`special_values: {{{option}}}` at the top of the rules file, or give the column a rule"
    )


def finite_times(arr: pa.Array, where: str, policy: Any) -> pa.Array:
    """A date/timestamp array read from PostgreSQL with its infinite values mapped by `policy`
    (a rules.SpecialValues; None: refuse). Dates before 4713 BC look the same and are refused."""
    if pa.types.is_date32(arr.type):
        raw, signs, floor, tops = arr.cast(pa.int32()), _DATE_INF, -2_440_588, _DATE_MAX
    elif pa.types.is_timestamp(arr.type):
        raw, signs, floor, tops = arr.cast(pa.int64()), _TS_INF, -210_866_803_200_000_000, _TS_MAX
    else:
        return arr
    low = pc.min(raw).as_py()
    if low is None or low >= floor:
        return arr
    values = raw.fill_null(0).to_numpy(zero_copy_only=False)
    plus, minus = (values == v for v in signs)
    if policy is None or ((values < floor) & ~plus & ~minus).any():
        raise _refuse(where, "'infinity' or '-infinity' (or a date before 4713 BC)", "Arrow")
    if policy.infinity == "fail":
        raise _refuse(where, "'infinity' or '-infinity'", "sanitize (through Arrow)")
    if policy.infinity == "null":
        return pc.if_else(pa.array(plus | minus), pa.scalar(None, arr.type), arr)
    top, bottom = (pa.scalar(tops[sign], type=arr.type) for sign in (1, -1))
    return pc.if_else(pa.array(plus), top, pc.if_else(pa.array(minus), bottom, arr))


def map_special(
    df: pd.DataFrame, table: Table, policy: Any, target: str, *, numbers: bool, dates: bool
) -> pd.DataFrame:
    """A batch with infinity and NaN mapped by `policy`: with `dates`, dates and timestamps a pg_dump
    holds as text (`infinity`: Arrow has none), with `numbers` floats and numerics (for a target without
    them, MariaDB/MySQL); refused, naming table, column and value kind, when the policy says fail."""
    out = None
    kinds = (("float", "decimal") if numbers else ()) + (("date", "datetime") if dates else ())
    if not kinds:
        return df
    for col in table.columns:
        if col.name not in df.columns or col.kind not in kinds:
            continue
        s = df[col.name]
        if col.kind in ("date", "datetime"):
            if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
                continue
            text = s.astype("string").str.strip().str.lower()
            inf = text.isin(["infinity", "-infinity"]).fillna(False).to_numpy(dtype=bool)
            nan = np.zeros(len(s), dtype=bool)
            signs = np.where((text == "-infinity").fillna(False).to_numpy(dtype=bool), -1, 1)
        elif col.kind == "float" and pd.api.types.is_numeric_dtype(s.dtype):
            arr = s.to_numpy(dtype="float64", na_value=np.nan)
            nan = np.isnan(arr) & s.notna().to_numpy()
            inf = np.isinf(arr)
            signs = np.sign(arr)
        elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            text = s.astype("string").str.strip()
            nan = (text == "NaN").fillna(False).to_numpy(dtype=bool)
            inf = text.isin(["Infinity", "-Infinity"]).fillna(False).to_numpy(dtype=bool)
            signs = np.where((text == "-Infinity").fillna(False).to_numpy(dtype=bool), -1, 1)
        else:
            continue
        if not (nan.any() or inf.any()):
            continue
        where = f"{table.key}.{col.name}"
        if nan.any() and policy.nan == "fail":
            raise _refuse(where, "NaN", target)
        if inf.any() and policy.infinity == "fail":
            raise _refuse(where, "infinity", target)
        values = s.astype(object).where(~(nan | inf), None)
        if policy.infinity == "max" and inf.any():
            top, bottom = _extremes(col.kind, col.precision, col.scale)
            for i in np.flatnonzero(inf):
                values.iloc[int(i)] = top if signs[i] > 0 else bottom
        out = df.copy() if out is None else out
        out[col.name] = pd.Series(values, index=df.index).astype(s.dtype)
    return df if out is None else out


def _extremes(kind: str, precision: int | None, scale: int | None) -> tuple[Any, Any]:
    """The largest and smallest value a column of `kind` takes on MariaDB/MySQL (and PostgreSQL)."""
    if kind in ("date", "datetime"):
        tops = _DATE_MAX if kind == "date" else _TS_MAX
        return str(tops[1]), str(tops[-1])
    if kind == "float":
        top = float(np.finfo(np.float64).max)
        return top, -top
    p, s = (precision, scale or 0) if precision else (65, 30)  # MySQL's widest DECIMAL
    digits = "9" * (p - s) + ("." + "9" * s if s else "")
    return digits, "-" + digits
