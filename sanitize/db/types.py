"""Column types between SQL, Arrow and pandas: one Arrow type per column, casts that say what failed.

Every engine reads a column into the same Arrow type (`arrow_type`), and every batch is cast to the
target column's Arrow type before it is written (`batch_to_arrow`), so a value a transform produced
that does not fit (an integer out of range, text where a date belongs) stops the load with a message
naming `table.column` and the value, instead of a driver error deep in a COPY.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from sanitize.arrow import string_bytes, temporal_text
from sanitize.errors import BadInputError, LoadError
from sanitize.schema import Column, Kind, Table

log = logging.getLogger("sanitize")

STR_DTYPE = pd.StringDtype(storage="pyarrow", na_value=np.nan)  # pandas' default `str`
INT_TYPES = {2: pa.int16(), 4: pa.int32(), 8: pa.int64()}
TEMPORAL: tuple[Kind, ...] = ("date", "datetime", "time")


# MySQL's spatial types: values in its internal form (SRID + WKB), which a load takes back as bytes
MYSQL_SPATIAL = frozenset(
    [
        "geometry",
        "point",
        "linestring",
        "polygon",
        "multipoint",
        "multilinestring",
        "multipolygon",
        "geometrycollection",
        "geomcollection",
    ]
)


class NamedType(sa.types.UserDefinedType):  # type: ignore[type-arg]
    """A type SQLAlchemy does not know (PostgreSQL's point or xml, MySQL's geometry or MariaDB's inet6),
    by the name its engine gives it: recreated verbatim on that engine (`family`), rebuilt from `kind`
    elsewhere; values travel as the engine's text, or as bytes for kind binary (MySQL's spatial types)."""

    cache_ok = True

    def __init__(self, name: str, family: str, kind: Kind = "other", extension: str | None = None) -> None:
        self.name = name
        self.family = family
        self.kind = kind
        self.extension = extension  # PostgreSQL: the extension that makes the type (citext, hstore, ...)

    def get_col_spec(self, **kw: object) -> str:
        return self.name


def kind_of(t: sa.types.TypeEngine) -> Kind:  # type: ignore[type-arg]
    """The logical kind of a (reflected) SQLAlchemy type."""
    if isinstance(t, NamedType):
        return t.kind
    if isinstance(t, mysql.BIT):  # BIT(1) is MySQL's usual flag; wider ones hold a number
        return "boolean" if (t.length or 1) == 1 else "integer"
    if isinstance(t, mysql.YEAR):
        return "integer"
    if isinstance(t, postgresql.ARRAY | sa.ARRAY):
        return "other"
    if isinstance(t, sa.Boolean):
        return "boolean"
    if isinstance(t, sa.Integer):
        return "integer"
    if isinstance(t, sa.Float | postgresql.DOUBLE_PRECISION | postgresql.REAL | mysql.DOUBLE):
        return "float"
    if isinstance(t, sa.Numeric):
        return "decimal"
    if isinstance(t, sa.JSON | postgresql.JSONB | postgresql.JSON):
        return "json"
    if isinstance(t, sa.Uuid | postgresql.UUID):
        return "uuid"
    if isinstance(t, sa.DateTime):
        return "datetime"
    if isinstance(t, sa.Date):
        return "date"
    if isinstance(t, sa.Time):
        return "time"
    if isinstance(t, sa.LargeBinary | sa.types._Binary | postgresql.BYTEA):
        return "binary"
    if isinstance(t, sa.String | sa.Enum):
        return "text"
    return "other"


def int_width(col: Column, dialect: str) -> int:
    """Bytes of an integer column on `dialect` (SQLite integers are always 8)."""
    t = col.sql_type
    if dialect == "sqlite" or t is None:
        return 8
    unsigned = bool(getattr(t, "unsigned", False))
    if isinstance(t, sa.BigInteger | mysql.BIT):
        return 8
    if isinstance(t, sa.SmallInteger | mysql.TINYINT):
        return 4 if unsigned else 2
    if isinstance(t, mysql.MEDIUMINT):
        return 4
    return 8 if unsigned else 4


def arrow_type(col: Column, dialect: str) -> pa.DataType:
    """The Arrow type that holds every value of `col` as stored on `dialect`."""
    k = col.kind
    if k == "integer":
        if (
            dialect == "mysql"
            and isinstance(col.sql_type, sa.BigInteger)
            and getattr(col.sql_type, "unsigned", False)
        ):
            return pa.uint64()  # BIGINT UNSIGNED reaches 2**64 - 1
        return INT_TYPES[int_width(col, dialect)]
    if k == "float":
        return pa.float64()
    if k == "decimal":
        if col.precision and col.precision <= 38 and col.scale is not None:
            return pa.decimal128(col.precision, col.scale)
        return pa.large_string()  # unconstrained NUMERIC: text keeps it exact
    if k == "boolean":
        return pa.bool_()
    if k in TEMPORAL and dialect == "sqlite":
        # SQLite has no date/time storage class: a file holds whatever text (or number) the writing
        # application chose ('2024-01-02T03:04:05Z', '2024-01-02' in a DATETIME column, epoch
        # seconds), so values travel as that text: SQLite -> SQLite copies them exactly, other
        # engines' columns parse it, and date/time values from elsewhere arrive as ISO text
        return pa.large_string()
    if k == "date":
        return pa.date32()
    if k == "datetime":
        return pa.timestamp("us", tz="UTC" if col.timezone else None)
    if k == "time":
        # PostgreSQL's time with time zone keeps its offset ('10:00+02'), which no Arrow time type
        # holds: carried as its text, so PostgreSQL -> PostgreSQL copies it exactly (other engines
        # have no such type: their columns parse the text to a UTC time)
        return pa.large_string() if col.timezone and dialect == "postgresql" else pa.time64("us")
    if k == "binary":
        return pa.large_binary()
    return pa.large_string()  # text, json, uuid, other


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow -> pandas with pyarrow-backed dtypes (text as pandas' default `str`)."""

    def mapper(t: pa.DataType) -> object:
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return STR_DTYPE
        return pd.ArrowDtype(t)

    return table.to_pandas(types_mapper=mapper, self_destruct=True, split_blocks=True)


# MySQL's zero dates ('0000-00-00', '2024-00-00', '2024-05-00'): no date holds them
_ZERO_DATE = r"^(?:0000-\d\d-\d\d|\d{4}-00-\d\d|\d{4}-\d\d-00)"


def null_zero_dates(arr: pa.Array, where: str, *, once: tuple[set[str], str] | None = None) -> pa.Array:
    """MySQL zero dates in date/datetime text -> NULL, with a warning saying how many (the legacy
    `0000-00-00` default of many MySQL schemas has no equivalent in Arrow or any other engine).
    With `once=(seen, key)` the warning is given once per key (a dump decodes one INSERT at a time)."""
    zero = pc.match_substring_regex(arr, _ZERO_DATE)
    n = pc.sum(zero).as_py() or 0
    if not n:
        return arr
    if once is None or once[1] not in once[0]:
        more = "" if once is None else " (this column may hold more further on)"
        log.warning("%s: %d zero date(s) such as '0000-00-00' read as NULL%s", where, n, more)
        if once is not None:
            once[0].add(once[1])
    return pc.if_else(zero, pa.scalar(None, arr.type), arr)


def _first_bad(arr: pa.Array, target: pa.DataType, convert: object) -> object:
    """The first value of `arr` that `convert` refuses (binary search over slices)."""
    lo, hi = 0, len(arr)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            convert(arr.slice(lo, mid - lo), target)  # type: ignore[operator]
            lo = mid
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, OverflowError):
            hi = mid
    return arr[lo].as_py() if len(arr) else None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def parse_datetimes(arr: pa.Array, target: pa.DataType, *, coerce: bool = False) -> pa.Array:
    """ISO-8601 text (any of the forms SQLite files hold) -> date32 / timestamp / time64; text that is
    no date raises ValueError, or with `coerce` becomes NULL."""
    if pa.types.is_time(target):
        ls = pa.large_string()
        text = pc.binary_join_element_wise(pa.scalar("1970-01-01 ", ls), arr.cast(ls), pa.scalar("", ls))
        return parse_datetimes(text, pa.timestamp("us"), coerce=coerce).cast(target)
    try:
        return pc.cast(arr, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    values = pd.Series(arr.to_pandas(), dtype=object)
    parsed = pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce")
    bad = parsed.isna() & values.notna()
    if bad.any() and not coerce:
        raise ValueError(values[bad].iloc[0])
    out = pa.array(parsed.dt.as_unit("us"), type=pa.timestamp("us", tz="UTC"))
    if pa.types.is_date(target):
        return out.cast(pa.timestamp("us")).cast(pa.date32())
    if getattr(target, "tz", None) is None:
        return out.cast(pa.timestamp("us"))
    return out


def convert(arr: pa.Array, target: pa.DataType) -> pa.Array:
    """Cast one column to `target`; raises ArrowInvalid/ValueError when a value does not fit."""
    src = arr.type
    if src == target:
        return arr
    if pa.types.is_null(src):
        return pa.nulls(len(arr), target)
    if pa.types.is_dictionary(src):
        return convert(arr.dictionary_decode(), target)
    textual = pa.types.is_string(src) or pa.types.is_large_string(src)
    if textual and (pa.types.is_timestamp(target) or pa.types.is_date(target) or pa.types.is_time(target)):
        return parse_datetimes(arr, target)
    if pa.types.is_timestamp(src) and pa.types.is_timestamp(target):
        if src.tz is None and target.tz is not None:
            arr = pc.assume_timezone(arr.cast(pa.timestamp("us")), "UTC")
        elif src.tz is not None and target.tz is None:
            arr = arr.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
        return arr.cast(target)
    if pa.types.is_decimal(target) and (textual or pa.types.is_floating(src)):
        try:
            return pc.cast(arr, target)
        except pa.ArrowInvalid:
            rounded = pc.round(arr.cast(pa.float64()), target.scale)
            return (
                pc.cast(rounded, target, safe=False)
                if _fits_decimal(rounded, target)
                else pc.cast(arr, target)
            )
    if (pa.types.is_string(target) or pa.types.is_large_string(target)) and not textual:
        if pa.types.is_timestamp(src) or pa.types.is_date(src) or pa.types.is_time(src):
            return temporal_text(arr).cast(target)
        if pa.types.is_binary(src) or pa.types.is_large_binary(src):
            return pc.cast(arr, target)
        if pa.types.is_boolean(src):
            return pc.if_else(arr, "true", "false").cast(target)
    return pc.cast(arr, target)


def _fits_decimal(values: pa.Array, target: pa.Decimal128Type) -> bool:
    limit = 10.0 ** (target.precision - target.scale)
    biggest = pc.max(pc.abs(values)).as_py()
    return biggest is None or biggest < limit


def column_to_arrow(values: pd.Series | pa.Array, target: pa.DataType, where: str) -> pa.Array:
    """One column -> `target`, or a LoadError naming `where` (table.column) and the value."""
    if isinstance(values, pd.Series):
        try:
            arr = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
            raise LoadError(
                f"{where}: the batch holds values of mixed or unsupported Python types ({exc}); the strategy "
                "for this column must return one type"
            ) from None
    else:
        arr = values
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    try:
        return convert(arr, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, OverflowError) as exc:
        bad = _first_bad(arr, target, convert)
        raise LoadError(
            f"{where}: value {_short(bad)} ({arr.type}) does not fit the column's type {target} ({exc}); "
            "change the rule for this column so its output fits the target column (or, for a value kept "
            "from the source, fix it there)"
        ) from None


def batch_to_arrow(batch: pd.DataFrame, table: Table, types: Sequence[pa.DataType]) -> pa.Table:
    """A DataFrame -> an Arrow table with exactly `table`'s columns, in order, cast to `types`."""
    names = list(table.column_names)
    got = [str(c) for c in batch.columns]
    missing = [n for n in names if n not in got]
    extra = [g for g in got if g not in names]
    if missing or extra:
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"not in the table {', '.join(extra)}" if extra else "",
            )
            if part
        )
        raise LoadError(
            f"{table.key}: the batch's columns do not match the target table ({detail}); every column of "
            "the table must be in each batch, and nothing else"
        )
    arrays = [column_to_arrow(batch[n], t, f"{table.key}.{n}") for n, t in zip(names, types, strict=True)]
    return pa.Table.from_arrays(arrays, names=names)


def read_error(table: str, column: str, exc: BaseException) -> BadInputError:
    """A source value that cannot be read as its column's declared type."""
    return BadInputError(
        f"{table}.{column}: a stored value does not match the column's declared type ({exc}); fix the "
        "value in the source or declare the column with the type its values have"
    )


_HEX = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), dtype=np.uint8).reshape(256, 2)


def hex_encode(arr: pa.Array | pa.ChunkedArray, prefix: bytes = b"\\x") -> pa.Array:
    """Binary values -> `prefix` + lowercase hex text (vectorised; NULL stays NULL)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.cast(arr, pa.large_binary())
    n = len(arr)
    if n == 0:
        return pa.array([], pa.large_string())
    offsets, body = string_bytes(arr)
    lens = np.diff(offsets)
    p = len(prefix)
    new_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(p + 2 * lens, out=new_off[1:])
    out = np.empty(int(new_off[-1]), dtype=np.uint8)
    starts = new_off[:-1]
    for i, byte in enumerate(prefix):
        out[starts + i] = byte
    value_index = np.repeat(np.arange(n, dtype=np.int64), 2 * lens)
    positions = np.arange(2 * len(body), dtype=np.int64) + p * (value_index + 1)
    out[positions] = _HEX[body].reshape(-1)
    text = pa.LargeStringArray.from_buffers(n, pa.py_buffer(new_off), pa.py_buffer(out))
    return pc.if_else(arr.is_null(), pa.scalar(None, pa.large_string()), text)


_UNHEX = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _UNHEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _UNHEX[_c] = _i + 10


def hex_decode(arr: pa.Array) -> pa.Array:
    """Hex text -> binary (vectorised; NULL stays NULL); ValueError on a non-hex character."""
    arr = pc.cast(arr, pa.large_string())
    n = len(arr)
    if n == 0:
        return pa.array([], pa.large_binary())
    offsets, body = string_bytes(arr)
    if len(body) % 2 or np.any(np.diff(offsets) % 2):
        raise ValueError("hex text of odd length")
    nibbles = _UNHEX[body]
    if len(nibbles) and nibbles.max() == 255:
        raise ValueError("not hex text")
    out = (nibbles[0::2] << 4) | nibbles[1::2]
    new_off = offsets // 2
    result = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(new_off), pa.py_buffer(out)]
    )
    return pc.if_else(arr.is_null(), pa.scalar(None, pa.large_binary()), result)
