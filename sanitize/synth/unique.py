"""Unique values: an injective function of the row index, for unique and referenced columns.

Distinct row indexes give distinct values, and the value of row i depends only on (i, salt), so a
foreign key recomputes its parent's key from an index without reading the parent.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.synth.arrowtext import base36, base36_width, join_text
from sanitize.synth.counters import affine_permutation, counter_bits, counter_pick
from sanitize.synth.fit import cast_text, decimal_shape, fit_numbers, integer_bounds, number_bounds
from sanitize.synth.meaning import TEXT_KINDS, ValueSpec
from sanitize.synth.text_values import email_local, uuid_text
from sanitize.synth.time_values import DAY_LO, datetimes_from_seconds


def unique_capacity(spec: ValueSpec) -> int | None:
    """How many distinct values the column can hold in unique mode (None: more than any table)."""
    col = spec.column
    if spec.semantic == "choice":
        return len(col.check_values or col.enum_values or ())
    if spec.pattern is not None:
        return spec.pattern.capacity(col.max_length)
    if col.kind == "integer":
        lo, hi = integer_bounds(col)
        return hi - lo + 1
    if col.kind == "boolean":
        return 2
    if col.kind == "decimal":
        _p, scale = decimal_shape(col)
        flo, fhi = number_bounds(col)
        return int((fhi - flo) * 10**scale) + 1
    if col.kind in TEXT_KINDS and col.max_length:
        return 36 ** min(col.max_length, 12)
    return None


def unique_values(
    spec: ValueSpec, idx: np.ndarray, salt: int, total: int, sequential: bool = False
) -> pa.Array:
    """Distinct values for distinct row indexes in [0, total): a pure function of (idx, salt).

    `sequential` gives 1, 2, 3... style integer keys (primary keys); otherwise the mapping is a
    salted permutation so unique values do not follow row order.
    """
    col = spec.column
    n = len(idx)
    perm = idx.astype(np.int64) if sequential else affine_permutation(idx, total, salt)
    if spec.semantic == "choice":
        values = cast_text(pa.array(list(col.check_values or col.enum_values or ()), type=pa.string()), col)
        return values.take(pa.array(perm))
    if spec.pattern is not None:
        return spec.pattern.unique(perm, total, col.max_length)
    kind = col.kind
    if kind == "integer":
        lo, _hi = integer_bounds(col)
        base = max(lo, 1) if lo <= 1 <= _hi else lo
        if _hi - base + 1 < total:
            base = lo
        return pa.array(perm + base, type=pa.int64())
    if kind == "boolean":
        return pa.array(perm.astype(bool))
    if kind in ("float", "decimal"):
        flo, fhi = number_bounds(col)
        step = 10.0 ** -decimal_shape(col)[1] if kind == "decimal" else 1.0
        start = max(flo, 0.0) if flo <= 0 <= fhi else flo
        return fit_numbers(start + perm * step, col)
    if kind == "date":
        return pa.array((DAY_LO + perm).astype(np.int32), type=pa.date32())
    if kind == "datetime":
        seconds = DAY_LO * 86400.0 + perm.astype(float) * 61.0
        return datetimes_from_seconds(seconds, col)
    if kind == "time":
        return pa.array((perm % 86400) * 1_000_000, type=pa.int64()).cast(pa.time64("us"))
    if kind == "uuid" or spec.semantic == "uuid":
        hi = counter_bits(idx, salt)
        return uuid_text(hi, (perm.astype(np.uint64) & np.uint64(0xFFFFFFFFFFFF)))
    if kind == "binary":
        raw = perm.astype(">u8").view(np.uint8).reshape(n, 8)
        return pa.array(np.ascontiguousarray(raw).view("V8").ravel().tolist(), type=pa.binary())
    width = base36_width(total)
    suffix = base36(perm, width)
    limit = col.max_length
    if limit is not None and limit < width:
        raise ValueError(f"{spec.table}.{col.name}: varchar({limit}) cannot hold {total} distinct values")
    # every part below is a function of the position alone, so a foreign key can recompute it
    if spec.semantic in ("email", "username"):
        first = counter_pick(spec.locale, "first_name", idx, salt + 1)
        last = counter_pick(spec.locale, "last_name", idx, salt + 2)
        if spec.semantic == "email":
            local = email_local(first, last)
            room = (limit or 254) - width - len("@example.com") - 1
            if room >= 1:
                local = pc.utf8_slice_codeunits(local, 0, room)
                return join_text(join_text(local, suffix, sep="."), "example.com", sep="@")
        base = pc.replace_substring_regex(
            pc.utf8_lower(join_text(pc.utf8_slice_codeunits(first, 0, 1), last)), r"[^a-z0-9]", ""
        )
    elif spec.semantic == "code":
        prefix = re.sub(r"[^A-Z]", "", col.name.upper())[:3] or "C"
        base = pa.array([prefix] * n, type=pa.string())
    else:
        base = counter_pick(spec.locale, _UNIQUE_POOLS.get(spec.semantic, "word"), idx, salt + 3)
    room = (limit or 255) - width - 1
    if room < 1:
        return suffix
    return join_text(pc.utf8_slice_codeunits(base, 0, room), suffix, sep="-")


_UNIQUE_POOLS = {
    "name": "last_name",
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "city": "city",
    "country": "country",
    "job": "job",
    "title": "word",
}
