"""MySQL literals <-> typed columns: decoding an INSERT's tokens, writing changed values back.

Quoted strings carry backslash escapes (`\\0 \\' \\" \\b \\n \\r \\t \\Z \\\\`) and doubled quotes;
`_binary '...'`, `0x..` / `X'..'` hex and `b'..'` bit literals decode to bytes. Decoding yields the
values a database read gives (through `pgtext.to_typed`) next to each value's literal bytes, so a
value the transform did not change is written back exactly as it was, and an INSERT whose rows are
all unchanged is copied byte for byte. Every step is vectorised over a whole column.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.db.types import null_zero_dates, to_pandas
from sanitize.dumps import pgtext
from sanitize.dumps.mysqlinsert import InsertStatement
from sanitize.errors import DumpError
from sanitize.schema import Column, Table

# --- decoding -------------------------------------------------------------------------------

_MY_UNESCAPE = np.arange(256, dtype=np.uint8)


for _k, _v in {b"0": 0, b"b": 8, b"n": 10, b"r": 13, b"t": 9, b"Z": 26}.items():
    _MY_UNESCAPE[_k[0]] = _v


_MY_SLOW = np.zeros(256, dtype=bool)
_MY_SLOW[list(b"%_")] = True  # \% and \_ keep their backslash


def _unescape_slow(value: bytes) -> bytes:
    def one(m: re.Match[bytes]) -> bytes:
        c = m.group(1)
        if c in (b"%", b"_"):
            return b"\\" + c
        return bytes([_MY_UNESCAPE[c[0]]])

    return re.sub(rb"\\(.)", one, value, flags=re.S)


def _string_body(tokens: pa.Array) -> pa.Array:
    """Quoted literals -> their bytes (quotes off, escapes undone); other literals pass unchanged."""
    body = pc.replace_substring_regex(tokens, rb"^(?:_binary\s*)?'(.*)'$", rb"\1")
    doubled = pc.fill_null(pc.match_substring(body, b"''"), False)
    out = pgtext.unescape(body, table=_MY_UNESCAPE, slow_after=_MY_SLOW, slow_value=_unescape_slow)
    if pc.any(doubled).as_py():
        out = pc.if_else(doubled, pc.replace_substring(out, b"''", b"'"), out)
    return out


def _hex_body(tokens: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(is hex literal, hex digits) for `0x..` and `X'..'` literals."""
    is_hex = pc.fill_null(pc.match_substring_regex(tokens, rb"^(?:0x|[Xx]')"), False)
    digits = pc.replace_substring_regex(tokens, rb"^(?:0x|[Xx]')([0-9A-Fa-f]*)'?$", rb"\1")
    return is_hex, digits


def _unhex(digits: pa.Array) -> pa.Array:
    arr, offsets, data = pgtext.str_parts(digits.cast(pa.large_binary()))
    if (np.diff(offsets) % 2).any():
        raise ValueError("odd number of hex digits")
    nib = pgtext._HEX_VALUE[data]
    raw = (nib[0::2] << 4) | nib[1::2]
    return pgtext.from_parts(arr, offsets // 2, raw, pa.large_binary())


_NUMBER_START = np.zeros(256, dtype=bool)


_NUMBER_START[list(b"0123456789+-.")] = True


def _fast_body(raw: pa.Array) -> pa.Array | None:
    """The common columns, vectorised: all plain 'quoted' strings, or all numbers (NULLs allowed).

    None when the column mixes other literal forms (hex, _binary, bit), which take the general path.
    """
    _arr, offsets, data = pgtext.str_parts(raw)
    starts, ends = offsets[:-1], offsets[1:]
    lengths = ends - starts
    if not len(starts) or (lengths == 0).any():
        return None
    first = data[starts]
    null = first == ord("N")  # only NULL starts with N
    quoted = first == ord("'")
    second = data[np.minimum(starts + 1, len(data) - 1)]
    number = _NUMBER_START[first] & ~((first == ord("0")) & (second == ord("x")) & (lengths > 1))
    if (quoted | null).all():
        strip = quoted.astype(np.int64) * 2
    elif (number | null).all():
        strip = np.zeros(len(starts), dtype=np.int64)
        quoted = np.zeros(len(starts), dtype=bool)
    else:
        return None
    keep = np.ones(len(data), dtype=bool)
    keep[starts[quoted]] = False
    keep[ends[quoted] - 1] = False
    if null.any():
        keep[(starts[null][:, None] + np.arange(4)).ravel()] = False
    body = data[keep]
    new_lengths = lengths - strip - null.astype(np.int64) * 4
    new_offsets = np.concatenate([[0], np.cumsum(new_lengths)]).astype(np.int64)
    valid = ~null
    validity = pa.py_buffer(np.packbits(valid, bitorder="little")) if null.any() else None
    out = pa.Array.from_buffers(
        pa.large_binary(),
        len(starts),
        [validity, pa.py_buffer(new_offsets), pa.py_buffer(body)],
        null_count=int(null.sum()),
    )
    if not quoted.any():
        return out
    unescaped = pgtext.unescape(out, table=_MY_UNESCAPE, slow_after=_MY_SLOW, slow_value=_unescape_slow)
    if len(body) > 1 and ((body[:-1] == ord("'")) & (body[1:] == ord("'"))).any():  # '' inside a string
        doubled = pc.fill_null(pc.match_substring(out, b"''"), False)
        unescaped = pc.if_else(doubled, pc.replace_substring(unescaped, b"''", b"'"), unescaped)
    return unescaped


_ZERO_DATES_WARNED: set[str] = set()  # "<dump>:<column>" warned about once per process


def _bit_values(lit: pa.Array, body: pa.Array, kind: str) -> pa.Array:
    """BIT values: mysqldump writes their bytes ('\\0', '\x01', 0x01 with --hex-blob), other tools
    b'101'; a number (a flag for BIT(1))."""
    out: list[int | None] = []
    for literal, data in zip(lit.to_pylist(), body.to_pylist(), strict=True):
        if literal is None:
            out.append(None)
        elif literal[:2] in (b"b'", b"B'"):
            out.append(int(literal[2:-1] or b"0", 2))
        else:
            out.append(int.from_bytes(data, "big"))
    ints = pa.array(out, pa.int64())
    return pc.not_equal(ints, 0) if kind == "boolean" else ints


def decode_column(tokens: list[bytes], column: Column, where: str) -> tuple[pa.Array, pa.Array]:
    """A column's literal tokens -> (typed values as a database read gives them, raw literal tokens)."""
    raw = pa.array(tokens, type=pa.large_binary())
    fast = _fast_body(raw)
    if fast is not None:
        body, lit = fast, fast
    else:
        is_null = pc.equal(raw, pa.scalar(b"NULL", pa.large_binary()))
        lit = pc.if_else(is_null, pa.scalar(None, pa.large_binary()), raw)
        is_hex, digits = _hex_body(lit)
        body = _string_body(lit)
        if pc.any(is_hex).as_py():
            hexed = _unhex(pc.if_else(is_hex, digits, pa.scalar(b"", pa.large_binary())))
            body = pc.if_else(is_hex, hexed, body)
    if getattr(column.sql_type, "__visit_name__", None) == "BIT":
        return _bit_values(lit, body, column.kind), raw
    if column.kind == "binary":
        return body, raw
    if (
        column.kind == "other"
        and pc.any(pc.fill_null(pc.match_substring_regex(lit, rb"^[Bb]'"), False)).as_py()
    ):
        return pc.if_else(
            pc.is_null(lit), pa.scalar(None, pa.large_string()), raw.cast(pa.large_string())
        ), raw
    try:
        text = body.cast(pa.large_string())
    except pa.ArrowInvalid:
        raise DumpError(
            f"{where}: column {column.name} holds bytes that are not UTF-8; "
            "dump with --default-character-set="
            "utf8mb4 (or declare the column binary)"
        ) from None
    if column.kind == "boolean":
        text = pc.if_else(pc.equal(text, "0"), "f", pc.if_else(pc.is_null(text), None, "t"))
    elif column.kind in ("date", "datetime"):
        once = (_ZERO_DATES_WARNED, f"{re.sub(r': line [0-9]+', '', where)}: {column.name}")
        text = null_zero_dates(text, f"{where}: column {column.name}", once=once)
    return pgtext.to_typed(text, column, "mysql"), raw


def decode_insert(
    stmt: InsertStatement, table: Table, where: str
) -> tuple[pd.DataFrame, list[pa.Array], list[pa.Array]]:
    """An INSERT's rows as a typed DataFrame (plus typed and raw columns for re-encoding)."""
    n = len(stmt.columns)
    typed: list[pa.Array] = []
    raws: list[pa.Array] = []
    for i, name in enumerate(stmt.columns):
        try:
            col = table.column(name)
        except KeyError:
            raise DumpError(
                f"{where}: line {stmt.line}: INSERT into {table.key} names column {name!r}, which its "
                "CREATE TABLE lacks"
            ) from None
        t, r = decode_column(stmt.tokens[i::n], col, f"{where}: line {stmt.line}: table {table.key}")
        typed.append(pgtext._compact(t))
        raws.append(r)
    frame = to_pandas(pa.Table.from_arrays(typed, names=list(stmt.columns)))
    return frame, typed, raws


# --- encoding -------------------------------------------------------------------------------

_MY_ESCAPE = np.zeros(256, dtype=np.uint8)


for _ch, _letter in (
    (b"\\", b"\\"),
    (b"'", b"'"),
    (b'"', b'"'),
    (b"\x00", b"0"),
    (b"\n", b"n"),
    (b"\r", b"r"),
    (b"\x1a", b"Z"),
):
    _MY_ESCAPE[_ch[0]] = _letter[0]


def _quote(text: pa.Array) -> pa.Array:
    """Text or bytes as a mysqldump string literal (`'it\\'s'`)."""
    arr, offsets, data = pgtext.str_parts(text.cast(pa.large_binary()))
    letters = _MY_ESCAPE[data]
    pos = np.flatnonzero(letters)
    if len(pos):
        data = np.insert(data, pos, pgtext.BACKSLASH)
        data[pos + np.arange(1, len(pos) + 1)] = letters[pos]
        offsets = offsets + np.searchsorted(pos, offsets, side="left")
    body = pgtext.from_parts(arr, offsets, data, pa.large_binary())
    q = pa.scalar(b"'", pa.large_binary())
    return pc.binary_join_element_wise(q, body, q, pa.scalar(b"", pa.large_binary()))


def literal(arr: pa.Array, column: Column) -> pa.Array:
    """Values (from `pgtext.to_arrow`) as MySQL literals (large_binary); NULL as `NULL`."""
    t = arr.type
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        if column.kind != "binary":
            out = _quote(arr)
        else:
            hexed = pgtext.bytea_to_text(arr)  # \x0aff
            out = pc.if_else(
                pc.equal(pc.binary_length(arr), 0),
                pa.scalar("''", pa.large_string()),
                pc.replace_substring_regex(hexed, r"^\\x", "0x"),
            ).cast(pa.large_binary())
    elif pa.types.is_boolean(t):
        out = pc.if_else(arr, "1", "0").cast(pa.large_binary())
    elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        if pa.types.is_floating(t) and pc.any(pc.or_(pc.is_nan(arr), pc.is_inf(arr))).as_py():
            raise DumpError(f"column {column.name}: NaN/Infinity cannot be written to a MySQL dump")
        out = pc.cast(arr, pa.large_string()).cast(pa.large_binary())
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        out = _quote(arr)
    else:
        out = _quote(pgtext.value_text(arr))
    return pc.fill_null(out, pa.scalar(b"NULL", pa.large_binary()))


def encode_insert(
    stmt: InsertStatement, out: pd.DataFrame, before: list[pa.Array], raws: list[pa.Array], table: Table
) -> bytes:
    """An INSERT statement with the transformed rows (unchanged values keep their literal bytes)."""
    missing = [c for c in stmt.columns if c not in out.columns]
    if missing:
        raise ValueError(f"table {stmt.key}: the transform returned no column(s) {missing}")
    if len(out) != stmt.nrows:
        positions = pa.array(np.asarray(out.index, dtype=np.int64))
        before = [b.take(positions) for b in before]
        raws = [r.take(positions) for r in raws]
        same_rows = False
    else:
        same_rows = True
    if len(out) == 0:
        return b""  # every row dropped: no statement (INSERT with no rows is not valid SQL)
    fields = []
    all_same = True
    for i, name in enumerate(stmt.columns):
        if table.column(name).generated is not None:
            # the server computes it from the other columns; its value here is the source's (mysqldump
            # writes it), so it is written as DEFAULT, the one value MySQL takes for such a column
            fields.append(pa.array([b"DEFAULT"] * len(out), pa.large_binary()))
            all_same = False
            continue
        after = pgtext.to_arrow(out[name], before[i].type)
        same = pgtext.unchanged_mask(before[i], after)
        if same is not None and same.false_count == 0:
            fields.append(raws[i])
            continue
        all_same = False
        enc = literal(after, table.column(name))
        fields.append(enc if same is None or same.true_count == 0 else pc.if_else(same, raws[i], enc))
    if all_same and same_rows:
        return stmt.raw
    b = pa.large_binary()
    rows = (
        pc.binary_join_element_wise(pa.scalar(b"(", b), *fields[:1], pa.scalar(b"", b))
        if len(fields) == 1
        else pc.binary_join_element_wise(*fields, pa.scalar(b",", b))
    )
    if len(fields) > 1:
        rows = pc.binary_join_element_wise(pa.scalar(b"(", b), rows, pa.scalar(b"", b))
    rows = pc.binary_join_element_wise(rows, pa.scalar(b")", b), pa.scalar(b"", b))
    joined = stmt.row_sep.join(rows.to_pylist())
    return stmt.head + joined + stmt.tail
