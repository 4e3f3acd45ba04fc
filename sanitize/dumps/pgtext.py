"""PostgreSQL COPY text format: decode rows into typed Arrow columns and encode them back.

The text format (what `pg_dump` writes between `COPY ... FROM stdin;` and `\\.`) is one row per line,
fields separated by a tab, NULL written as `\\N`, and backslash escapes for the characters that
would break that framing: `\\\\`, `\\t`, `\\n`, `\\r`, `\\b`, `\\f`, `\\v`, plus octal (`\\101`) and hex
(`\\x41`) byte escapes and `\\c` for any other character `c`. Because every raw newline is a row end
and every raw tab a field end, a block of lines is split by pyarrow's CSV reader (quoting off) and
unescaped with vectorised string kernels; only values with octal/hex escapes take a per-value path.

Decoding keeps the *raw* (still escaped) field text next to the typed value, so that a value the
transform did not change is written back byte for byte (`encode_column` takes the raw text where
the value is unchanged). Values of kind `decimal` stay text (exact; PostgreSQL NUMERIC does not fit
Arrow decimals in general), as do `time`, `uuid`, `json` and `other`. A column whose text cannot be
parsed as its kind in a batch (`infinity` dates, BC years) stays text for that batch.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from sanitize.db.types import arrow_type, to_pandas
from sanitize.errors import DumpError
from sanitize.schema import Column

log = logging.getLogger("sanitize")

NULL = "\\N"
TAB = b"\t"
NEWLINE = b"\n"

# Escapes pg_dump writes, in the order they are undone (after `\\` has been set aside).
_ANY_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.)|$)", re.DOTALL)
_SIMPLE_BYTES = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}


# --- splitting a block of lines -------------------------------------------------------------


def split_rows(data: bytes, columns: Sequence[str], *, first_line: int = 1, where: str = "") -> pa.Table:
    """Complete COPY lines (each ending in a newline) as a table of raw (still escaped) text.

    `\\N` fields are NULL; every other field is its raw text. A row with the wrong number of fields,
    or bytes that are not UTF-8, raise DumpError naming the line.
    """
    names = [f"c{i}" for i in range(len(columns))]
    if not names:
        raise ValueError("split_rows needs at least one column")
    try:
        try:
            table = _read_lines(data, names, 1 << 20)  # 1 MB blocks: parsed on every core
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc):
                raise
            table = _read_lines(data, names, len(data) + 1)  # a row longer than a block
    except pa.ArrowInvalid as exc:
        raise _locate_bad_line(data, len(columns), first_line, where, exc) from None
    if data.find(b"\r") >= 0:
        # pyarrow also ends lines at a bare carriage return, which COPY never writes unescaped
        raise _locate_bad_line(data, len(columns), first_line, where, None)
    return table.rename_columns(list(columns))


def _read_lines(data: bytes, names: list[str], block_size: int) -> pa.Table:
    return pcsv.read_csv(
        pa.py_buffer(data),
        read_options=pcsv.ReadOptions(column_names=names, block_size=block_size),
        parse_options=pcsv.ParseOptions(
            delimiter="\t",
            quote_char=False,
            escape_char=False,
            newlines_in_values=False,
            ignore_empty_lines=False,
        ),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.large_string()),
            null_values=[NULL],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )


def _locate_bad_line(
    data: bytes, ncols: int, first_line: int, where: str, exc: Exception | None
) -> DumpError:
    """The first line of a block that is not a valid COPY row, as a DumpError (error path only)."""
    for i, line in enumerate(data.split(b"\n")[:-1]):
        problem = None
        if b"\r" in line:
            problem = "an unescaped carriage return (COPY writes it as \\r)"
        elif line.count(TAB) != ncols - 1:
            problem = f"{line.count(TAB) + 1} fields where the COPY header names {ncols} columns"
        else:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                problem = "bytes that are not UTF-8 (only UTF8 dumps are supported; dump with -E UTF8)"
        if problem:
            shown = line[:80].decode("utf-8", "replace")
            return DumpError(
                f"{where}line {first_line + i}: corrupt COPY row: {problem}: {shown!r}. "
                "The dump is damaged or not a pg_dump plain-format file; take a fresh dump."
            )
    last = first_line + data.count(NEWLINE)
    return DumpError(f"{where}lines {first_line}-{last}: corrupt COPY data ({exc})")


# --- unescaping and escaping ----------------------------------------------------------------


def _unescape_value(raw: str) -> str:
    """The per-value path: every escape COPY accepts, including octal and hex bytes."""

    def one(m: re.Match[bytes]) -> bytes:
        octal, hexa, other = m.groups()
        if octal is not None:
            return bytes([int(octal, 8) & 0xFF])
        if hexa is not None:
            return bytes([int(hexa, 16)])
        if other is None:  # a lone backslash at the end of a field: keep it
            return b"\\"
        return _SIMPLE_BYTES.get(other, other)

    out = _ANY_ESCAPE.sub(one, raw.encode("utf-8"))
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise DumpError(
            f"COPY value {raw[:60]!r} has octal/hex escapes that do not form UTF-8 text"
        ) from None


def str_parts(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """A string/binary column as (large array, offsets from 0, data bytes), without copying data."""
    a = _compact(arr)
    a = a.cast(
        pa.large_binary()
        if pa.types.is_binary(a.type) or pa.types.is_large_binary(a.type)
        else pa.large_string()
    )
    if a.offset:
        a = pa.concat_arrays([a])
    offsets = np.frombuffer(a.buffers()[1], dtype=np.int64)[: len(a) + 1]
    data_buf = a.buffers()[2]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    data = data[offsets[0] : offsets[-1]] if len(offsets) else data[:0]
    return a, offsets - offsets[0] if len(offsets) else offsets, data


def from_parts(
    like: pa.Array, offsets: np.ndarray, data: np.ndarray, type_: pa.DataType | None = None
) -> pa.Array:
    """A large string/binary array with `like`'s validity and the given offsets and bytes."""
    validity = pc.is_valid(like).buffers()[1] if like.null_count else None
    return pa.Array.from_buffers(
        type_ or like.type,
        len(like),
        [validity, pa.py_buffer(offsets.astype(np.int64, copy=False)), pa.py_buffer(data)],
        null_count=like.null_count,
    )


_UNESCAPE_TO = np.arange(256, dtype=np.uint8)  # \c -> c for every other c
for _k, _v in _SIMPLE_BYTES.items():
    _UNESCAPE_TO[_k[0]] = _v[0]
_SLOW_AFTER_BACKSLASH = np.zeros(256, dtype=bool)  # octal digits and x start byte escapes
_SLOW_AFTER_BACKSLASH[list(b"01234567x")] = True
BACKSLASH = 0x5C


def unescape(
    raw: pa.Array | pa.ChunkedArray,
    *,
    table: np.ndarray | None = None,
    slow_after: np.ndarray | None = None,
    slow_value: Callable[[Any], Any] | None = None,
) -> pa.Array | pa.ChunkedArray:
    """Undo backslash escaping on a string/binary column (NULLs stay NULL), vectorised over its bytes.

    `table` maps the byte after a backslash to the byte it stands for (default: COPY text);
    values where that byte is in `slow_after` (COPY: octal and hex escapes, which pg_dump never
    writes) go through `slow_value` one by one.
    """
    table = _UNESCAPE_TO if table is None else table
    slow_after = _SLOW_AFTER_BACKSLASH if slow_after is None else slow_after
    slow_value = _unescape_value if slow_value is None else slow_value
    if len(raw) == 0:
        return raw
    arr, offsets, data = str_parts(raw)
    bs = data == BACKSLASH
    if not bs.any():
        return arr
    pos = np.flatnonzero(bs)
    starts_value = np.zeros(len(data) + 1, dtype=bool)
    starts_value[offsets[:-1]] = True
    # in a run of backslashes, the 1st, 3rd, ... start an escape (runs restart at each value)
    prev_bs = np.zeros(len(pos), dtype=bool)
    prev_bs[1:] = pos[1:] == pos[:-1] + 1
    run_start = ~prev_bs | starts_value[pos]
    run_id = np.cumsum(run_start) - 1
    first = pos[run_start][run_id]
    esc = pos[(pos - first) % 2 == 0]
    value_of = np.searchsorted(offsets, esc, side="right") - 1
    nxt = esc + 1
    lone = nxt >= offsets[value_of + 1]  # a backslash ending its value: kept as it is
    slow = np.zeros(len(arr), dtype=bool)
    ok_next = np.where(lone, 0, nxt)
    slow[value_of[~lone & slow_after[data[ok_next]]]] = True
    esc, nxt, value_of = esc[~lone], nxt[~lone], value_of[~lone]
    out = data.copy()
    out[nxt] = table[data[nxt]]
    out = np.delete(out, esc)
    new_offsets = offsets - np.searchsorted(esc, offsets, side="left")
    result = from_parts(arr, new_offsets, out)
    if slow.any():
        idx = np.flatnonzero(slow)
        fixed = pa.array([slow_value(v) for v in pc.take(arr, pa.array(idx)).to_pylist()], type=arr.type)
        values = pc.take(
            pa.concat_arrays([result, fixed]),
            pa.array(np.where(slow, len(result) + np.cumsum(slow) - 1, np.arange(len(result)))),
        )
        return values
    return result


_ESCAPE_LETTER = np.zeros(256, dtype=np.uint8)
for _ch, _letter in (
    (b"\\", b"\\"),
    (b"\t", b"t"),
    (b"\n", b"n"),
    (b"\r", b"r"),
    (b"\b", b"b"),
    (b"\f", b"f"),
    (b"\v", b"v"),
):
    _ESCAPE_LETTER[_ch[0]] = _letter[0]


def escape(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """COPY text escaping of a string column, as PostgreSQL's own COPY TO writes it (vectorised)."""
    if len(text) == 0:
        return text
    arr, offsets, data = str_parts(text)
    # the bytes to escape are \b \t \n \v \f \r (8-13) and the backslash: two SIMD-friendly compares
    pos = np.flatnonzero(((data - np.uint8(8)) < 6) | (data == BACKSLASH))
    if not len(pos):
        return arr
    out = np.insert(data, pos, BACKSLASH)
    out[pos + np.arange(1, len(pos) + 1)] = _ESCAPE_LETTER[data[pos]]
    new_offsets = offsets + np.searchsorted(pos, offsets, side="left")
    return from_parts(arr, new_offsets, out)


# --- typed values ---------------------------------------------------------------------------


def to_typed(
    text: pa.Array | pa.ChunkedArray, column: Column, dialect: str = "postgresql"
) -> pa.Array | pa.ChunkedArray:
    """Unescaped text as the Arrow type a database read of this column gives (`db.types.arrow_type`).

    Reading a dump and reading the database it came from hand strategies the same values, so the
    same key gives the same pseudonyms. Text that does not parse as the column's type in a batch
    (`infinity`, BC dates, `NaN` in a NUMERIC) keeps that batch's column as text.
    """
    target = arrow_type(column, dialect)
    if pa.types.is_large_string(target) or pa.types.is_string(target):
        return text
    if len(text) == 0:
        return pa.array([], type=target)
    try:
        if pa.types.is_boolean(target):
            return bool_from_text(text)
        if pa.types.is_binary(target) or pa.types.is_large_binary(target):
            return bytea_from_text(text).cast(target)
        if pa.types.is_time(target):
            prefix, empty = pa.scalar("1970-01-01 ", text.type), pa.scalar("", text.type)
            stamp = pc.binary_join_element_wise(prefix, text, empty)
            return pc.cast(pc.cast(stamp, pa.timestamp("us")), pa.time64("us")).cast(target)
        return pc.cast(text, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
        log.debug("column %s stays text in this batch: %s", column.name, exc)
        return text


def bool_from_text(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """PostgreSQL's `t`/`f` as booleans; ValueError for anything else."""
    bad = pc.and_(pc.invert(pc.is_in(text, pa.array(["t", "f"]))), pc.is_valid(text))
    if pc.any(bad).as_py():
        raise ValueError("boolean text other than t/f")
    return pc.equal(text, "t")


_HEX_VALUE = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX_VALUE[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX_VALUE[_c] = 10 + _i
_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _compact(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def bytea_from_text(text: pa.Array | pa.ChunkedArray) -> pa.Array:
    """bytea hex output (`\\x0aff`, already unescaped) to binary, vectorised; ValueError otherwise."""
    arr = _compact(text)
    if not pc.all(pc.fill_null(pc.starts_with(arr, "\\x"), True)).as_py():
        raise ValueError("bytea value not in hex format")
    body = _compact(pc.utf8_slice_codeunits(arr, 2)).cast(pa.large_binary())
    if body.offset:
        body = pa.concat_arrays([body])
    offsets = np.frombuffer(body.buffers()[1], dtype=np.int64)[body.offset : body.offset + len(body) + 1]
    data_buf = body.buffers()[2]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    data = data[offsets[0] : offsets[-1]]
    if (np.diff(offsets) % 2).any():
        raise ValueError("odd number of hex digits in bytea")
    nibbles = _HEX_VALUE[data]
    if (nibbles == 255).any():
        raise ValueError("non-hex digit in bytea")
    raw = (nibbles[0::2] << 4) | nibbles[1::2]
    new_offsets = ((offsets - offsets[0]) // 2).astype(np.int64)
    validity = pc.is_valid(body).buffers()[1] if body.null_count else None
    out = pa.Array.from_buffers(
        pa.large_binary(),
        len(body),
        [validity, pa.py_buffer(new_offsets), pa.py_buffer(raw.tobytes())],
        null_count=body.null_count,
    )
    return out


def bytea_to_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Binary values as bytea hex text (`\\x0aff`, not yet COPY-escaped), vectorised."""
    arr = _compact(values).cast(pa.large_binary())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data_buf = arr.buffers()[2]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    data = data[offsets[0] : offsets[-1]]
    hexed = np.empty(len(data) * 2, dtype=np.uint8)
    hexed[0::2] = _HEX_DIGITS[data >> 4]
    hexed[1::2] = _HEX_DIGITS[data & 0x0F]
    rel = offsets - offsets[0]
    n = np.arange(len(rel), dtype=np.int64)
    # each value gets a 2-byte "\x" prefix: build the final buffer by scattering
    new_offsets = rel * 2 + n * 2
    total = int(new_offsets[-1]) if len(new_offsets) else 0
    out = np.empty(total, dtype=np.uint8)
    starts = new_offsets[:-1]
    out[starts] = ord("\\")
    out[starts + 1] = ord("x")
    # destination positions of the hex digits: every position that is not a prefix byte
    mask = np.ones(total, dtype=bool)
    mask[starts] = False
    mask[starts + 1] = False
    out[mask] = hexed
    validity = pc.is_valid(arr).buffers()[1] if arr.null_count else None
    res = pa.Array.from_buffers(
        pa.large_string(),
        len(arr),
        [validity, pa.py_buffer(new_offsets), pa.py_buffer(out.tobytes())],
        null_count=arr.null_count,
    )
    return res


_CONVERT_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError)


def to_arrow(values: pd.Series, hint: pa.DataType | None = None) -> pa.Array:
    """A transformed column as Arrow. Python objects (a strategy returning Decimals, dates) are
    converted to `hint` (the column's decoded type) when they fit, which is much faster than
    letting Arrow infer; anything else falls back to inference, then to text."""
    if hint is not None and values.dtype == object:
        try:
            return _compact(pa.array(values, type=hint, from_pandas=True))
        except _CONVERT_ERRORS:
            pass
    try:
        return _compact(pa.array(values, from_pandas=True))
    except _CONVERT_ERRORS:
        return pa.array([_scalar_text(v) for v in values.to_numpy(dtype=object)], type=pa.large_string())


def _scalar_text(v: object) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, bool | np.bool_):
        return "t" if v else "f"
    if isinstance(v, bytes | bytearray | memoryview):
        return "\\x" + bytes(v).hex()
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def value_text(arr: pa.Array) -> pa.Array | pa.ChunkedArray:
    """Values (from `to_arrow`) as PostgreSQL input text (not yet COPY-escaped); NULL stays NULL."""
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return arr
    if pa.types.is_boolean(t):
        return pc.if_else(arr, "t", "f")
    if pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_date(t) or pa.types.is_time(t):
        return pc.cast(arr, pa.large_string())
    if pa.types.is_floating(t):
        text = pc.cast(arr, pa.large_string())
        for py, sql in (("inf", "Infinity"), ("-inf", "-Infinity"), ("nan", "NaN")):
            text = pc.if_else(pc.equal(text, py), sql, text)
        return text
    if pa.types.is_timestamp(t):
        text = pc.cast(arr, pa.large_string())
        return pc.replace_substring_regex(text, r"Z$", "+00") if t.tz else text
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return bytea_to_text(arr)
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.large_string())
    return pa.array([_scalar_text(v) for v in arr.to_pylist()], type=pa.large_string())


# --- keeping raw text where a value did not change ----------------------------------------


def _comparable(a: pa.Array | pa.ChunkedArray, b: pa.Array | pa.ChunkedArray) -> tuple | None:
    ta, tb = a.type, b.type
    if ta == tb:
        return a, b
    stringy = (pa.types.is_string, pa.types.is_large_string)
    if any(f(ta) for f in stringy) and any(f(tb) for f in stringy):
        return a.cast(pa.large_string()), b.cast(pa.large_string())
    if pa.types.is_integer(ta) and pa.types.is_integer(tb):
        return a.cast(pa.int64()), b.cast(pa.int64())
    if pa.types.is_decimal(ta) and pa.types.is_decimal(tb):
        try:
            return a, b.cast(ta)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    if pa.types.is_timestamp(ta) and pa.types.is_timestamp(tb) and (ta.tz is None) == (tb.tz is None):
        try:
            return a, b.cast(ta)
        except pa.ArrowInvalid:
            return None
    if (pa.types.is_binary(ta) or pa.types.is_large_binary(ta)) and (
        pa.types.is_binary(tb) or pa.types.is_large_binary(tb)
    ):
        return a.cast(pa.large_binary()), b.cast(pa.large_binary())
    return None


def unchanged_mask(before: pa.Array | pa.ChunkedArray, after: pa.Array | pa.ChunkedArray) -> pa.Array | None:
    """True where a value is the same before and after (both NULL counts as the same); None: none are."""
    pair = _comparable(_compact(before), _compact(after))
    if pair is None:
        return None
    a, b = pair
    if a.equals(b):
        return pa.array(np.ones(len(a), dtype=bool))
    same = pc.fill_null(pc.equal(a, b), False)
    same = pc.or_(same, pc.and_(pc.is_null(a), pc.is_null(b)))
    if pa.types.is_floating(a.type):
        same = pc.or_(same, pc.fill_null(pc.and_(pc.is_nan(a), pc.is_nan(b)), False))
    return _compact(same)


def encode_column(
    after: pd.Series,
    before: pa.Array | pa.ChunkedArray | None = None,
    raw: pa.Array | pa.ChunkedArray | None = None,
) -> tuple[pa.Array | pa.ChunkedArray, bool]:
    """One column of transformed values as COPY fields (escaped, NULL as `\\N`), and whether it is
    entirely unchanged.

    With `before` (the decoded values handed to the transform) and `raw` (their original field
    text, NULL for `\\N`), every value that did not change is written exactly as it was read.
    """
    after_arr = to_arrow(after, None if before is None else before.type)
    if before is not None and raw is not None:
        same = unchanged_mask(before, after_arr)
        if same is not None and same.false_count == 0:
            return pc.fill_null(raw, NULL), True
        encoded = pc.fill_null(escape(value_text(after_arr)), NULL)
        if same is None or same.true_count == 0:
            return encoded, False
        return pc.if_else(same, pc.fill_null(raw, NULL).cast(encoded.type), encoded), False
    return pc.fill_null(escape(value_text(after_arr)), NULL), False


def join_rows(fields: Sequence[pa.Array | pa.ChunkedArray]) -> pa.Buffer | bytes:
    """COPY lines from encoded columns (tab between fields, newline after each row)."""
    if not fields or len(fields[0]) == 0:
        return b""
    cols = [_compact(f).cast(pa.large_string()) for f in fields]
    tab, nl, empty = (pa.scalar(x, pa.large_string()) for x in ("\t", "\n", ""))
    # one pass over the lines: the newline goes onto the last field first (a pass over one column)
    cols[-1] = pc.binary_join_element_wise(cols[-1], nl, empty)
    line = _compact(cols[0] if len(cols) == 1 else pc.binary_join_element_wise(*cols, tab))
    offsets = np.frombuffer(line.buffers()[1], dtype=np.int64)[line.offset : line.offset + len(line) + 1]
    data = line.buffers()[2]
    if data is None:
        return b""
    return data.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def decode_frame(
    raw: pa.Table, columns: Sequence[Column], lines: bytes | None = None
) -> tuple[pd.DataFrame, list[pa.ChunkedArray]]:
    """Raw COPY text (from `split_rows`) as a typed pyarrow-backed DataFrame, and its typed columns.

    `lines` (the block `raw` was split from) lets a block without any backslash skip unescaping.
    """
    escaped = lines is None or lines.find(b"\\") >= 0
    typed = [
        to_typed(unescape(raw.column(i)) if escaped else raw.column(i), col) for i, col in enumerate(columns)
    ]
    chunked = [t if isinstance(t, pa.ChunkedArray) else pa.chunked_array([t]) for t in typed]
    table = pa.Table.from_arrays(chunked, names=[c.name for c in columns])
    return to_pandas(table), chunked


def encode_frame(
    out: pd.DataFrame,
    columns: Sequence[str],
    before: Sequence[pa.ChunkedArray] | None = None,
    raw: pa.Table | None = None,
    where: str = "",
    original: bytes | None = None,
) -> pa.Buffer | bytes:
    """Transformed rows as COPY lines, in the COPY header's column order.

    When `out` keeps the input's rows (same length), unchanged values reuse their raw text, and
    when nothing changed at all the `original` block of lines is returned as it was. When the
    transform dropped rows, `out.index` must be positions of the input batch.
    """
    missing = [c for c in columns if c not in out.columns]
    if missing:
        raise ValueError(f"{where}the transform returned no column(s) {missing}; it must return every column")
    reuse = before is not None and raw is not None
    same_rows = reuse and len(out) == raw.num_rows  # type: ignore[union-attr]
    if reuse and not same_rows:
        positions = pa.array(np.asarray(out.index, dtype=np.int64))
        raw = raw.take(positions)  # type: ignore[union-attr]
        before = [b.take(positions) for b in before]  # type: ignore[union-attr]
    fields = []
    all_same = True
    for i, name in enumerate(columns):
        if reuse:
            field_, same = encode_column(out[name], before[i], raw.column(i))  # type: ignore[index,union-attr]
        else:
            field_, same = encode_column(out[name])
        all_same = all_same and same
        fields.append(field_)
    if all_same and same_rows and original is not None:
        return original
    return join_rows(fields)
