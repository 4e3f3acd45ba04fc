"""The leak check: prove that no sensitive source value reached the target, plus integrity.

Pass 1 reads the source's sensitive columns (every column a rule transforms) in batches and keeps
keyed 64-bit fingerprints in sorted numpy arrays (8-12 bytes per value, never a value itself):

- per kind: emails, card numbers (Luhn-valid), IBANs (mod-97-valid), phone-like numbers (9-15
  digits, matched on their last 9) and other values of 6+ characters, from whole cells and from
  inside free text and JSON. A generic value shared by `common_rows` source rows identifies nobody;
- row-aligned fingerprints (row key from the kept columns, column, value), so that a column the
  rules transform but which reached the target unchanged (a rule removed, a no-op strategy), or a
  phone number a scrub left in its row's text, is caught without flagging chance collisions.

Pass 2 scans every target table once. Kept text columns are checked against every kind (and for
card numbers, IBANs and emails by pattern); scrub/json columns for source emails, card numbers and
IBANs anywhere and for identifiers still in their own row; transformed columns for unchanged values
and for another row's email, card number or IBAN. (A fake name or phone may equal a real one by
chance; a fake email, card or IBAN does not.) Integrity rides along: row counts, foreign keys and
uniqueness against the source's constraints. Each leak names table, column, row key and kind.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.errors import CheckFailedError, LeakError
from sanitize.keys import SecretKey, canonical_text, hash64, mix
from sanitize.schema import Schema, Table

log = logging.getLogger("sanitize")

Treatment = Literal["keep", "transform", "partial"]  # partial: scrub/json keep most of the content
PARTIAL_STRATEGIES = frozenset({"scrub", "json"})
TEXT_KINDS = frozenset({"text", "json", "other"})
KINDS = ("email", "card", "iban", "phone", "value")
EXACT_KINDS = ("email", "card", "iban")  # identifiers no fake equals by chance
MARKER_TABLES = frozenset({"sanitize_environment"})

_EMAIL = r"[a-z0-9._%+'-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"
_IBAN = r"[a-z]{2}[0-9]{2}(?: ?[a-z0-9]){11,30}"
_EMAIL_CELL = f"^{_EMAIL}$"
_IBAN_CELL = f"^{_IBAN}$"
_NUM_CELL = r"^\+?[0-9][0-9 ().\-/]*$"
_EMAIL_TOKEN = f"(?P<t>{_EMAIL})"
_IBAN_TOKEN = f"(?P<t>\\b{_IBAN}\\b)"
_NUM_TOKEN = r"(?P<t>\+?[0-9][0-9 ().-]{7,22}[0-9])"
_ANY_CELL = f"^(?:{_EMAIL}|{_IBAN}|\\+?[0-9][0-9 ().\\-/]*)$"
_TOKEN_HINT = r"@|[0-9][0-9 ().+-]{7,}[0-9]|[a-z]{2}[0-9]{2} ?[a-z0-9]{4}"
KIND_SALT = {"cell": 0, "email": 1, "card": 2, "iban": 3, "phone": 4}


class Readable(Protocol):
    """What verify reads: `sanitize.db` sources, a load's shadow (`Load.source()`), dumps."""

    schema: Schema

    def count(self, table: str) -> int: ...
    def read_batches(
        self, table: str, batch_size: int = ..., columns: Any = ...
    ) -> Iterator[pd.DataFrame]: ...


@dataclass(frozen=True)
class VerifyOptions:
    batch_size: int = 100_000
    min_value_length: int = 6  # shorter generic values identify nobody and collide with fakes
    common_rows: int = 10  # a generic value in this many source rows is not identifying
    unchanged_ratio: float = 0.5  # a transformed column this unchanged was not transformed
    max_reported: int = 20  # leaks listed per (table, column, kind); all are counted
    compare_counts: bool = True  # anonymize: target rows == source rows; synth: no
    detect_patterns: bool = True  # card numbers, IBANs and emails in kept columns, by pattern
    detector: bool = True  # re-run sanitize.detect over kept columns (sampled)
    detector_sample: int = 1000


@dataclass(frozen=True)
class Leak:
    """One sensitive value found in the target: where and what kind, never the value."""

    table: str
    column: str
    row: str  # "id=17", or "row 5" (position in the scan) when the key is not a safe integer
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column} {self.row}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    table: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "table": self.table, "ok": self.ok, "detail": self.detail}


@dataclass
class VerifyResult:
    leaks: list[Leak] = field(default_factory=list)  # capped per (table, column, kind)
    leak_counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # target rows scanned per table
    seconds: float = 0.0

    @property
    def leak_total(self) -> int:
        return sum(self.leak_counts.values())

    @property
    def ok(self) -> bool:
        return not self.leak_counts and all(c.ok for c in self.checks)

    def raise_for_problems(self) -> None:
        """LeakError (exit 1) on any leak, else CheckFailedError when an integrity check failed."""
        if self.leak_counts:
            lines = [str(leak) for leak in self.leaks]
            more = self.leak_total - len(self.leaks)
            if more > 0:
                lines.append(f"... and {more} more (counts per column in the report)")
            raise LeakError(
                f"leak check: {self.leak_total} sensitive source value(s) found in the target "
                f"({len(self.leak_counts)} table/column/kind combination(s)); nothing was published. Fix "
                "the rules for the columns listed (values are never shown)",
                problems=lines,
            )
        failed = [c for c in self.checks if not c.ok]
        if failed:
            raise CheckFailedError(
                f"{len(failed)} integrity check(s) failed; nothing was published",
                problems=[f"{c.table + ': ' if c.table else ''}{c.name}: {c.detail}" for c in failed],
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "leaks": [leak.__dict__ for leak in self.leaks],
            "leak_counts": [
                {"table": t, "column": c, "kind": k, "count": n} for (t, c, k), n in self.leak_counts.items()
            ],
            "checks": [c.to_dict() for c in self.checks],
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
        }


# --- vectorised text helpers ---------------------------------------------------------------------


def _text(values: pd.Series) -> pa.Array:
    """Non-null values as one Arrow string array, lower-cased and trimmed (caller drops NULLs)."""
    if isinstance(values.dtype, pd.StringDtype) or (
        isinstance(values.dtype, pd.ArrowDtype) and pa.types.is_string(values.dtype.pyarrow_dtype)
    ):
        arr = pa.array(values, type=pa.large_string(), from_pandas=True)
    else:
        arr = pa.array(canonical_text(values), type=pa.large_string())
    return pc.utf8_lower(pc.utf8_trim_whitespace(arr))


def _digits(arr: pa.Array) -> pa.Array:
    """Only the ASCII digits of each string, vectorised over the raw Arrow buffers."""
    arr = arr.cast(pa.large_string())
    if len(arr) == 0:
        return arr
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    keep = (data >= 48) & (data <= 57)
    seen = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
    rel = offsets - offsets[0]
    counts = seen[rel[1:]] - seen[rel[:-1]]
    new_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return pa.LargeStringArray.from_buffers(
        len(arr), pa.py_buffer(new_offsets), pa.py_buffer(data[keep].tobytes())
    )


def _byte_counts(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """('@' count, ASCII digit count) of each string, from the raw Arrow buffers."""
    arr = arr.cast(pa.large_string())
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    rel = offsets - offsets[0]
    out = []
    for mask in (data == 64, (data >= 48) & (data <= 57)):
        seen = np.zeros(len(data) + 1, dtype=np.int32)
        np.cumsum(mask, dtype=np.int32, out=seen[1:])
        out.append((seen[rel[1:]] - seen[rel[:-1]]).astype(np.int64))
    return out[0], out[1]


def _digit_matrix(digits: pa.Array, width: int) -> np.ndarray:
    """Digit strings (all <= width long) right-aligned in an (n, width) int matrix, zero-padded."""
    padded = pc.utf8_lpad(digits, width, "0").cast(pa.large_string())
    data = np.frombuffer(padded.buffers()[2], dtype=np.uint8)
    offsets = np.frombuffer(padded.buffers()[1], dtype=np.int64)[
        padded.offset : padded.offset + len(padded) + 1
    ]
    return (data[offsets[0] : offsets[-1]].reshape(len(padded), width).astype(np.int64)) - 48


def luhn_valid(digits: pa.Array) -> np.ndarray:
    """Luhn checksum of each digit string (13-19 digits), vectorised."""
    if len(digits) == 0:
        return np.zeros(0, dtype=bool)
    m = _digit_matrix(digits, 19)
    doubled = m[:, -2::-2] * 2
    total = m[:, -1::-2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(axis=1)
    return np.asarray(total % 10 == 0)


def iban_valid(compact: pa.Array) -> np.ndarray:
    """ISO 13616 mod-97 check of upper-case IBANs without spaces, vectorised."""
    n = len(compact)
    if n == 0:
        return np.zeros(0, dtype=bool)
    compact = compact.cast(pa.large_string())
    moved = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(compact, 4),
        pc.utf8_slice_codeunits(compact, 0, 4),
        pa.scalar("", pa.large_string()),
    )
    padded = pc.utf8_lpad(moved, 34, "0").cast(pa.large_string())
    offsets = np.frombuffer(padded.buffers()[1], dtype=np.int64)[padded.offset : padded.offset + n + 1]
    data = np.frombuffer(padded.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(n, 34)
    rem = np.zeros(n, dtype=np.int64)
    for j in range(34):
        c = data[:, j].astype(np.int64)
        is_digit = (c >= 48) & (c <= 57)
        rem = np.where(is_digit, (rem * 10 + (c - 48)) % 97, (rem * 100 + (c - 55)) % 97)
    return np.asarray(rem == 1)


# --- fast keyed hashing of Arrow strings ---------------------------------------------------------

_LONG = 256  # longer strings go through SipHash (keys.hash64); shorter ones through the word chain


def _seed(key: SecretKey) -> np.uint64:
    return np.uint64(int.from_bytes(key.derive("verify", "fingerprint")[:8], "little"))


def hash_strings(arr: pa.Array, key: SecretKey) -> np.ndarray:
    """Keyed 64-bit fingerprint of each (non-null) string, vectorised over the Arrow buffers.

    A splitmix64 chain over 8-byte words, seeded from the key (SipHash for strings past 256 bytes).
    Fingerprints only live in memory during one check; they are never written anywhere.
    """
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    arr = arr.cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]] if n else None
    padded = np.zeros(int(offsets[-1] - offsets[0]) + 8, dtype=np.uint8)
    if data is not None:
        padded[: len(data)] = data
    start = offsets[:-1] - offsets[0]
    lens = np.diff(offsets)
    with np.errstate(over="ignore"):
        h = (lens.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ _seed(key)
    windows = np.lib.stride_tricks.as_strided(padded, shape=(len(padded) - 7, 8), strides=(1, 1))
    short = lens <= _LONG
    active = np.flatnonzero(short & (lens > 0))
    j = 0
    while len(active):
        rem = lens[active] - 8 * j
        w = windows[start[active] + 8 * j].copy().view(np.uint64).ravel()
        partial = rem < 8
        if partial.any():
            shift = ((8 - rem[partial]) * 8).astype(np.uint64)
            w[partial] = (w[partial] << shift) >> shift
        h[active] = mix(h[active] ^ w, j)
        j += 1
        active = active[rem > 8]
    h = mix(h, 1 << 20)
    if not short.all():
        long_ = np.flatnonzero(~short)
        h[long_] = hash64(arr.take(pa.array(long_)).to_numpy(zero_copy_only=False), key, "verify")
    return h


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    if len(x) == 0:
        return x
    x = np.sort(x)
    keep = np.empty(len(x), dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


class HashSet:
    """A set of uint64 fingerprints: the sorted array plus bucket offsets on the top bits.

    Fingerprints are uniform, so a bucket holds about one entry: a lookup is a few vectorised probes
    instead of a binary search (which misses the cache at every step on large sets).
    """

    def __init__(self, sorted_hashes: np.ndarray) -> None:
        self.h = sorted_hashes
        n = len(sorted_hashes)
        self.bits = int(min(28, max(1, int(np.ceil(np.log2(max(n, 2)))))))
        self.shift = np.uint64(64 - self.bits)
        bounds = np.arange(1 << self.bits, dtype=np.uint64) << self.shift
        self.starts = np.append(np.searchsorted(sorted_hashes, bounds), n).astype(np.int64)

    def __len__(self) -> int:
        return len(self.h)

    def positions(self, q: np.ndarray) -> np.ndarray:
        """Index of each query in the sorted array; -1 when absent."""
        out = np.full(len(q), -1, dtype=np.int64)
        if len(self.h) == 0 or len(q) == 0:
            return out
        b = (q >> self.shift).astype(np.int64)
        lo, hi = self.starts[b], self.starts[b + 1]
        cand = np.flatnonzero(hi > lo)
        k = 0
        while len(cand):
            idx = lo[cand] + k
            hit = self.h[idx] == q[cand]
            out[cand[hit]] = idx[hit]
            k += 1
            cand = cand[~hit & (idx + 1 < hi[cand])]
        return out

    def contains(self, q: np.ndarray) -> np.ndarray:
        return self.positions(q) >= 0


EMPTY = HashSet(np.zeros(0, dtype=np.uint64))


# --- what a column of cells holds ----------------------------------------------------------------


@dataclass
class _Found:
    """Fingerprints of one column's cells by kind: positions (into the cells) and keyed hashes."""

    cell: np.ndarray  # hash of every whole (normalised) cell
    pos: dict[str, list[np.ndarray]] = field(default_factory=lambda: {k: [] for k in KINDS})
    hashes: dict[str, list[np.ndarray]] = field(default_factory=lambda: {k: [] for k in KINDS})
    token: dict[str, list[np.ndarray]] = field(default_factory=lambda: {k: [] for k in KINDS})

    def add(self, kind: str, pos: np.ndarray, h: np.ndarray, token: bool) -> None:
        if len(pos):
            self.pos[kind].append(pos)
            self.hashes[kind].append(h)
            self.token[kind].append(np.full(len(pos), token))

    def get(self, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.pos[kind]:
            e = np.zeros(0, dtype=np.int64)
            return e, e.astype(np.uint64), e.astype(bool)
        return (
            np.concatenate(self.pos[kind]),
            np.concatenate(self.hashes[kind]),
            np.concatenate(self.token[kind]),
        )


def _mask(a: pa.Array) -> np.ndarray:
    return np.asarray(a.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _add_numbers(out: _Found, pos: np.ndarray, raw: pa.Array, key: SecretKey, token: bool) -> None:
    """Digit strings: cards (13-19 digits, Luhn) and phone-like numbers (9-15 digits, last 9 kept)."""
    if len(pos) == 0:
        return
    digits = _digits(raw)
    n = np.asarray(pc.utf8_length(digits).to_numpy(zero_copy_only=False), dtype=np.int64)
    card = np.zeros(len(n), dtype=bool)
    cand = (n >= 13) & (n <= 19)
    if cand.any():
        card[cand] = luhn_valid(digits.filter(pa.array(cand)))
    if card.any():
        out.add("card", pos[card], hash_strings(digits.filter(pa.array(card)), key), token)
    phone = ~card & (n >= 9) & (n <= 15)
    if phone.any():
        last9 = pc.utf8_slice_codeunits(digits.filter(pa.array(phone)), -9)
        out.add("phone", pos[phone], hash_strings(last9, key), token)


def _add_ibans(out: _Found, pos: np.ndarray, raw: pa.Array, key: SecretKey, token: bool) -> None:
    if len(pos) == 0:
        return
    compact = pc.utf8_upper(pc.replace_substring(raw, " ", ""))
    ok = iban_valid(compact)
    if ok.any():
        out.add("iban", pos[ok], hash_strings(compact.filter(pa.array(ok)), key), token)


def fingerprint_cells(text: pa.Array, key: SecretKey, min_value_length: int) -> _Found:
    """Whole cells by kind (email, IBAN, card/phone digits, generic value) plus tokens inside text."""
    out = _Found(hash_strings(text, key))
    if len(text) == 0:
        return out
    idx = np.arange(len(text))
    email = np.zeros(len(text), dtype=bool)
    num, iban = email.copy(), email.copy()
    n_at, n_digit = _byte_counts(text)
    # only cells with an '@' or 7+ digits can be an email, number or IBAN: regexes run on those alone
    maybe = (n_at == 1) | (n_digit >= 7)
    structured = np.zeros(len(text), dtype=bool)
    if maybe.any():
        structured[maybe] = _mask(pc.match_substring_regex(text.filter(pa.array(maybe)), _ANY_CELL))
    if structured.any():
        sub = text.filter(pa.array(structured))
        e = _mask(pc.match_substring_regex(sub, _EMAIL_CELL))
        nm = ~e & _mask(pc.match_substring_regex(sub, _NUM_CELL))
        email[structured], num[structured], iban[structured] = e, nm, ~e & ~nm
    out.add("email", idx[email], out.cell[email], False)
    _add_numbers(out, idx[num], text.filter(pa.array(num)), key, False)
    _add_ibans(out, idx[iban], text.filter(pa.array(iban)), key, False)
    rest = ~(email | num | iban)
    lengths = np.asarray(pc.utf8_length(text).to_numpy(zero_copy_only=False))
    generic = rest & (lengths >= min_value_length)
    out.add("value", idx[generic], out.cell[generic], False)
    hint = rest & (lengths >= 6) & ((n_at > 0) | (n_digit >= 9))  # tokens need an '@' or 9+ digits
    if hint.any():
        hint[hint] = _mask(pc.match_substring_regex(text.filter(pa.array(hint)), _TOKEN_HINT))
    if hint.any():
        _add_tokens(out, idx[hint], text.filter(pa.array(hint)), key)
    return out


def _add_tokens(out: _Found, pos: np.ndarray, text: pa.Array, key: SecretKey, max_rounds: int = 64) -> None:
    """Every email, IBAN and card/phone number inside free text and JSON."""
    for pattern, add in ((_EMAIL_TOKEN, "email"), (_IBAN_TOKEN, "iban"), (_NUM_TOKEN, "num")):
        work, where = text, pos
        for _ in range(max_rounds):
            m = pc.extract_regex(work, pattern)
            valid = np.asarray(m.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            if not valid.any():
                break
            tokens = m.field("t").filter(pa.array(valid))
            if add == "email":
                out.add("email", where[valid], hash_strings(tokens, key), True)
            elif add == "iban":
                _add_ibans(out, where[valid], tokens, key, True)
            else:
                _add_numbers(out, where[valid], tokens, key, True)
            work = pc.replace_substring_regex(work.filter(pa.array(valid)), pattern, " ", max_replacements=1)
            where = where[valid]


def extract_tokens(text: pa.Array, key: SecretKey) -> _Found:
    """Tokens inside each cell of `text` (for tests and notebooks: which kinds, in which cells)."""
    out = _Found(np.zeros(0, dtype=np.uint64))
    _add_tokens(out, np.arange(len(text)), text, key)
    return out


def _row_keys(frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """A uint64 per row from `cols`: whole numbers mixed directly, anything else via canonical text.

    Equal values give equal keys whatever their dtype (nullable ints read as floats included).
    """
    if len(cols) == 1:
        s = frame[cols[0]]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            v = s.to_numpy(dtype=np.float64, na_value=np.nan) if s.hasnans else None
            if v is None or (np.isfinite(v).all() and (v == np.round(v)).all()):
                ints = s.to_numpy(dtype=np.int64) if v is None else v.astype(np.int64)
                return mix(ints.view(np.uint64), 0)
    parts = []
    for c in cols:
        s = frame[c]
        isna = s.isna().to_numpy()
        text = np.full(len(s), "\x00", dtype=object)
        if (~isna).any():
            text[~isna] = canonical_text(s[~isna])
        parts.append(pa.array(text, type=pa.large_string()))
    sep = pa.scalar("\x1f", pa.large_string())
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, sep)
    return hash_strings(joined, _ROWKEY)


_ROWKEY = SecretKey(b"sanitize-verify-row-alignment-key!")  # not secret: alignment and integrity only


def _alignment(table: Table, treatment: Mapping[str, Treatment]) -> list[str]:
    """Columns that identify a row in both source and target: the PK if kept, else all kept columns."""
    if table.primary_key and all(treatment.get(c, "keep") == "keep" for c in table.primary_key):
        return list(table.primary_key)
    return [
        c.name
        for c in table.columns
        if treatment.get(c.name, "keep") == "keep" and c.kind not in ("float", "binary")
    ]


def _safe_row_key(table: Table) -> list[str] | None:
    if table.primary_key and all(table.column(c).kind == "integer" for c in table.primary_key):
        return list(table.primary_key)
    return None


def _pairs(rowkey: np.ndarray, h: np.ndarray, col_index: int, kind: str) -> np.ndarray:
    """Row-aligned fingerprint: (row, column, kind, value) as one uint64."""
    return mix(rowkey ^ h, col_index * 8 + KIND_SALT[kind])


# --- the check -----------------------------------------------------------------------------------


def verify(
    source: Readable,
    target: Readable,
    treatments: Mapping[str, Mapping[str, Treatment]],
    key: SecretKey,
    options: VerifyOptions = VerifyOptions(),
) -> VerifyResult:
    """Leak check and integrity of `target` against `source`; `treatments`: table -> column -> treatment.

    Tables of the target not in `treatments` are scanned as all-kept. Reads both sides in batches.
    """
    started = time.perf_counter()
    result = VerifyResult()
    fps, aligned = _source_pass(source, treatments, key, options)
    scanner = _TargetScan(target, treatments, key, options, fps, aligned, result, source.schema)
    for tkey in target.schema.load_order():
        if tkey.split(".")[-1] in MARKER_TABLES:
            continue
        scanner.scan_table(tkey)
        if options.compare_counts and tkey in treatments and tkey in source.schema:
            want, got = source.count(tkey), result.rows.get(tkey, 0)
            result.checks.append(Check("row count", want == got, f"source {want}, target {got}", tkey))
    for tkey in treatments:
        if tkey not in target.schema:
            result.checks.append(Check("table present", False, "the table is missing from the target", tkey))
    scanner.finish_foreign_keys()
    _run_detector(target, treatments, options, result)
    result.seconds = time.perf_counter() - started
    log.info(
        "verify: %d rows scanned, %d leak(s), %.2fs",
        sum(result.rows.values()),
        result.leak_total,
        result.seconds,
    )
    return result


@dataclass
class _Fingerprints:
    """Sorted fingerprints of the source's sensitive values, with the column each came from.

    `hashes[kind]`: normalised keys (emails, card/phone digits, IBANs, other values, also from inside
    text); `exact[kind]`: whole cells that are an email, card number or IBAN, as they were written.
    """

    hashes: dict[str, HashSet]
    origin: dict[str, np.ndarray]
    columns: list[str]
    exact: dict[str, HashSet] = field(default_factory=dict)
    exact_origin: dict[str, np.ndarray] = field(default_factory=dict)

    def lookup(self, kind: str, h: np.ndarray, exact: bool = False) -> np.ndarray:
        """Index of the source column each hash came from; -1 when it is no source value."""
        ref, origin = (self.exact, self.exact_origin) if exact else (self.hashes, self.origin)
        if kind not in ref or len(ref[kind]) == 0:
            return np.full(len(h), -1, dtype=np.int64)
        i = ref[kind].positions(h)
        return np.where(i >= 0, origin[kind][np.maximum(i, 0)].astype(np.int64), -1)


def _sorted_set(
    parts: list[np.ndarray], origins: list[np.ndarray], rare_below: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct hashes with the origin of each; `rare_below` drops hashes seen that often."""
    if not parts:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint32)
    h, o = np.concatenate(parts), np.concatenate(origins)
    order = np.argsort(h)
    h, o = h[order], o[order]
    first = np.empty(len(h), dtype=bool)
    first[0] = True
    np.not_equal(h[1:], h[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    origin = np.minimum.reduceat(o, starts)  # the first source column that holds it: deterministic
    if rare_below is not None:
        rare = np.diff(np.append(starts, len(h))) < rare_below
        return h[starts[rare]], origin[rare]
    return h[starts], origin


def _source_pass(
    source: Readable,
    treatments: Mapping[str, Mapping[str, Treatment]],
    key: SecretKey,
    options: VerifyOptions,
) -> tuple[_Fingerprints, dict[str, HashSet]]:
    hashes: dict[str, list[np.ndarray]] = {k: [] for k in KINDS}
    origin: dict[str, list[np.ndarray]] = {k: [] for k in KINDS}
    exact: dict[str, list[np.ndarray]] = {k: [] for k in EXACT_KINDS}
    exact_origin: dict[str, list[np.ndarray]] = {k: [] for k in EXACT_KINDS}
    columns: list[str] = []
    aligned: dict[str, HashSet] = {}
    for tkey, treatment in treatments.items():
        if tkey not in source.schema:
            continue
        table = source.schema[tkey]
        sensitive = [c for c in table.column_names if treatment.get(c, "keep") != "keep"]
        if not sensitive:
            continue
        align = _alignment(table, treatment)
        ids = {c: len(columns) + i for i, c in enumerate(sensitive)}
        columns += [f"{tkey}.{c}" for c in sensitive]
        pairs: list[np.ndarray] = []
        wanted = list(dict.fromkeys(sensitive + align))
        for batch in source.read_batches(tkey, batch_size=options.batch_size, columns=wanted):
            rowkey = _row_keys(batch, align) if align else None
            for c in sensitive:
                s = batch[c]
                mask = s.notna().to_numpy()
                if not mask.any():
                    continue
                found = fingerprint_cells(_text(s[mask]), key, options.min_value_length)
                rk = rowkey[mask] if rowkey is not None else None
                ci = table.column_names.index(c)
                if rk is not None and treatment[c] == "transform":
                    pairs.append(_pairs(rk, found.cell, ci, "cell"))
                for kind in KINDS:
                    pos, h, tok = found.get(kind)
                    if len(h) == 0:
                        continue
                    hashes[kind].append(h)
                    origin[kind].append(np.full(len(h), ids[c], dtype=np.uint32))
                    if kind in EXACT_KINDS and (~tok).any():
                        exact[kind].append(found.cell[pos[~tok]])
                        exact_origin[kind].append(np.full(int((~tok).sum()), ids[c], dtype=np.uint32))
                    if rk is not None and kind != "value":
                        pairs.append(_pairs(rk[pos], h, ci, kind))
        if pairs:
            aligned[tkey] = HashSet(_sorted_unique(np.concatenate(pairs)))
    fps = _Fingerprints({}, {}, columns)
    for kind in KINDS:
        rare = options.common_rows if kind == "value" else None  # a value many share identifies nobody
        h, fps.origin[kind] = _sorted_set(hashes[kind], origin[kind], rare)
        fps.hashes[kind] = HashSet(h)
    for kind in EXACT_KINDS:
        h, fps.exact_origin[kind] = _sorted_set(exact[kind], exact_origin[kind])
        fps.exact[kind] = HashSet(h)
    log.info("verify: source fingerprints %s", {k: len(v) for k, v in fps.hashes.items()})
    return fps, aligned


class _TargetScan:
    def __init__(
        self,
        target: Readable,
        treatments: Mapping[str, Mapping[str, Treatment]],
        key: SecretKey,
        options: VerifyOptions,
        fps: _Fingerprints,
        aligned: dict[str, HashSet],
        result: VerifyResult,
        constraints: Schema,
    ) -> None:
        self.target, self.treatments, self.key, self.options = target, treatments, key, options
        self.fps, self.aligned, self.result = fps, aligned, result
        self.parent_keys: dict[tuple[str, tuple[str, ...]], list[np.ndarray]] = {}
        self.child_keys: list[tuple[str, Any, list[np.ndarray]]] = []
        schema = target.schema
        self.constraints = {k: t for k, t in constraints.tables.items() if k in schema}
        for t in schema.tables.values():
            for fk in self.constraints.get(t.key, t).foreign_keys:
                if fk.ref_table in schema and all(
                    c in schema[fk.ref_table].column_names for c in fk.ref_columns
                ):
                    self.parent_keys.setdefault((fk.ref_table, fk.ref_columns), [])

    def _leak(self, table: str, column: str, kind: str, rows: list[str], count: int, detail: str) -> None:
        if count == 0:
            return
        k = (table, column, kind)
        before = self.result.leak_counts.get(k, 0)
        self.result.leak_counts[k] = before + count
        room = max(0, self.options.max_reported - before)
        self.result.leaks.extend(Leak(table, column, r, kind, detail) for r in rows[:room])

    def scan_table(self, tkey: str) -> None:
        table = self.target.schema[tkey]
        # the constraints that must hold are the source's (a load that lost one must not pass)
        rules = self.constraints.get(tkey, table)
        present = set(table.column_names)

        def has(cols: tuple[str, ...]) -> bool:
            return all(c in present for c in cols)

        treatment = self.treatments.get(tkey, {})
        text_cols = [c.name for c in table.columns if c.kind in TEXT_KINDS]
        sensitive = [c for c in table.column_names if treatment.get(c, "keep") != "keep"]
        align = [c for c in _alignment(table, treatment) if c in present] if sensitive else []
        ref = self.aligned.get(tkey, EMPTY)
        safe = _safe_row_key(table)
        uniques = [rules.primary_key] if rules.primary_key else []
        uniques += [u for u in rules.unique_constraints if u not in uniques]
        uniques += [ix.columns for ix in rules.indexes if ix.unique and ix.columns not in uniques]
        unique_keys: dict[tuple[str, ...], list[np.ndarray]] = {tuple(u): [] for u in uniques if has(u)}
        fks = [fk for fk in rules.foreign_keys if fk.ref_table in self.target.schema and has(fk.columns)]
        fk_keys: list[list[np.ndarray]] = [[] for _ in fks]
        self.nonnull: dict[str, int] = {}
        self.same: dict[str, int] = {}
        self.same_rows: dict[str, list[str]] = {}
        self.struct_same: dict[str, int] = {}
        self.struct_rows: dict[str, list[str]] = {}
        offset = 0
        for batch in self.target.read_batches(tkey, batch_size=self.options.batch_size):
            batch = batch.reset_index(drop=True)
            rowkey = _row_keys(batch, align) if align else None

            def where(positions: np.ndarray, _b: pd.DataFrame = batch, _o: int = offset) -> list[str]:
                shown = positions[: self.options.max_reported]
                if safe is None:
                    return [f"row {_o + int(p) + 1}" for p in shown]
                return [", ".join(f"{c}={_b[c].iloc[int(p)]}" for c in safe) for p in shown]

            for c in dict.fromkeys(text_cols + sensitive):
                s = batch[c]
                mask = s.notna().to_numpy()
                if not mask.any():
                    continue
                rows = np.flatnonzero(mask)
                how = treatment.get(c, "keep")
                ci = table.column_names.index(c)
                rk = rowkey[mask] if rowkey is not None else None
                if how == "transform":
                    if c in text_cols or rk is not None:
                        self._scan_transformed(
                            tkey, ci, c, _text(s[mask]), c in text_cols, rk, ref, rows, where
                        )
                    continue
                if c in text_cols:
                    found = fingerprint_cells(_text(s[mask]), self.key, self.options.min_value_length)
                    self._scan_text(tkey, ci, c, how, found, rk, ref, rows, where)
            for cols, acc in unique_keys.items():
                full = batch[list(cols)].notna().all(axis=1).to_numpy()
                if full.any():
                    acc.append(_row_keys(batch[full], list(cols)))
            for fk, acc in zip(fks, fk_keys, strict=True):
                full = batch[list(fk.columns)].notna().all(axis=1).to_numpy()
                if full.any():
                    acc.append(_row_keys(batch[full], list(fk.columns)))
            for (ptable, pcols), acc in self.parent_keys.items():
                if ptable == tkey:
                    full = batch[list(pcols)].notna().all(axis=1).to_numpy()
                    acc.append(_row_keys(batch[full], list(pcols)))
            offset += len(batch)
        self.result.rows[tkey] = offset
        for c, total in self.nonnull.items():
            if total and self.same[c] / total >= self.options.unchanged_ratio:
                self._leak(
                    tkey,
                    c,
                    "unchanged",
                    self.same_rows[c],
                    self.same[c],
                    f"{self.same[c]} of {total} values are identical to the source row's value although the "
                    "rules transform this column (is its rule missing, or a no-op?)",
                )
            elif self.struct_same.get(c):
                self._leak(
                    tkey,
                    c,
                    "unchanged",
                    self.struct_rows[c],
                    self.struct_same[c],
                    "an email, phone number, card number or IBAN identical to the source row's value "
                    "although the rules transform this column",
                )
        if sensitive and not align:
            self.result.checks.append(
                Check(
                    "row alignment",
                    True,
                    "no kept column identifies a row: unchanged values were not checked row by row",
                    tkey,
                )
            )
        for cols, acc in unique_keys.items():
            h = np.concatenate(acc) if acc else np.zeros(0, dtype=np.uint64)
            dup = len(h) - len(_sorted_unique(h))
            detail = "no duplicates" if dup == 0 else f"{dup} duplicate(s)"
            self.result.checks.append(Check("unique", dup == 0, f"({', '.join(cols)}): {detail}", tkey))
        for fk, acc in zip(fks, fk_keys, strict=True):
            self.child_keys.append((tkey, fk, acc))

    def _scan_transformed(
        self,
        tkey: str,
        ci: int,
        col: str,
        text: pa.Array,
        is_text: bool,
        rk: np.ndarray | None,
        ref: HashSet,
        rows: np.ndarray,
        where: Any,
    ) -> None:
        """A column the rules transform: unchanged values (row by row) and source emails anywhere."""
        cell = hash_strings(text, self.key)
        if rk is not None:
            hit = ref.contains(_pairs(rk, cell, ci, "cell"))
            self.nonnull[col] = self.nonnull.get(col, 0) + len(cell)
            self.same[col] = self.same.get(col, 0) + int(hit.sum())
            shown = self.same_rows.setdefault(col, [])
            if len(shown) < self.options.max_reported:
                shown += where(rows[hit])
            if hit.any():  # identical values that identify someone are leaks however few they are
                found = fingerprint_cells(text.filter(pa.array(hit)), self.key, self.options.min_value_length)
                cells = _sorted_unique(np.concatenate([found.get(k)[0] for k in KINDS if k != "value"]))
                if len(cells):
                    self.struct_same[col] = self.struct_same.get(col, 0) + len(cells)
                    shown = self.struct_rows.setdefault(col, [])
                    if len(shown) < self.options.max_reported:
                        shown += where(rows[np.flatnonzero(hit)[cells]])
        if is_text:  # another row's email, card number or IBAN: a fake never equals a real one by chance
            for kind in EXACT_KINDS:
                origin = self.fps.lookup(kind, cell, exact=True)
                found_at = np.flatnonzero(origin >= 0)
                if len(found_at):
                    srcs = sorted({self.fps.columns[i] for i in np.unique(origin[found_at])})
                    self._leak(
                        tkey,
                        col,
                        kind,
                        where(rows[found_at]),
                        len(found_at),
                        f"a value equal to a source {kind} of {', '.join(srcs[:3])}",
                    )

    def _scan_text(
        self,
        tkey: str,
        ci: int,
        col: str,
        how: str,
        found: _Found,
        rk: np.ndarray | None,
        ref: HashSet,
        rows: np.ndarray,
        where: Any,
    ) -> None:
        kept = how == "keep"  # else partial: scrub/json, whose untouched parts stay as they were
        for kind in KINDS:
            pos, h, is_token = found.get(kind)
            if len(pos) == 0 or (kind == "value" and not kept):
                continue
            hit = np.zeros(len(pos), dtype=bool)
            srcs: set[str] = set()
            if kept or kind in ("email", "card", "iban"):  # phones and plain values collide by chance
                origin = self.fps.lookup(kind, h)
                hit = origin >= 0
                srcs = {self.fps.columns[i] for i in np.unique(origin[hit])}
            if not kept and rk is not None and kind != "value":  # the same row still holds it
                same_row = ref.contains(_pairs(rk[pos], h, ci, kind))
                if (same_row & ~hit).any():
                    srcs.add(f"{tkey}.{col} of the same row")
                hit |= same_row
            if hit.any():
                cells = _sorted_unique(pos[hit])
                inside = is_token[hit].all()
                what = (
                    f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} inside the text" if inside else "a value"
                )
                self._leak(
                    tkey,
                    col,
                    kind,
                    where(rows[cells]),
                    len(cells),
                    f"{what} equal to a source value of {', '.join(sorted(srcs)[:3])}",
                )
            if kept and self.options.detect_patterns and kind in ("card", "iban", "email"):
                new = np.setdiff1d(_sorted_unique(pos[~hit]), _sorted_unique(pos[hit]))
                if len(new):
                    article = "an" if kind[0] in "aeiou" else "a"
                    check = " that passes its checksum" if kind != "email" else ""
                    self._leak(
                        tkey,
                        col,
                        f"{kind} pattern",
                        where(rows[new]),
                        len(new),
                        f"a kept column holds {article} {kind}{check}; transform the column "
                        "(fake, scrub or redact) or remove the value",
                    )

    def finish_foreign_keys(self) -> None:
        parents = {
            k: HashSet(_sorted_unique(np.concatenate(v)) if v else np.zeros(0, dtype=np.uint64))
            for k, v in self.parent_keys.items()
        }
        for tkey, fk, acc in self.child_keys:
            h = np.concatenate(acc) if acc else np.zeros(0, dtype=np.uint64)
            ref = parents.get((fk.ref_table, fk.ref_columns))
            if ref is None:
                continue
            bad = int((~ref.contains(h)).sum())
            self.result.checks.append(
                Check(
                    "foreign key",
                    bad == 0,
                    f"({', '.join(fk.columns)}) -> {fk.ref_table}({', '.join(fk.ref_columns)}): "
                    + ("all rows join" if bad == 0 else f"{bad} row(s) point at no parent row"),
                    tkey,
                )
            )


def _run_detector(
    target: Readable,
    treatments: Mapping[str, Mapping[str, Treatment]],
    options: VerifyOptions,
    result: VerifyResult,
) -> None:
    """Re-run the PII detector (`sanitize.detect`, when present) over the target's kept text columns."""
    if not options.detector or not hasattr(target, "sample"):
        return
    try:
        from sanitize.detect.drift import find_pii_in_kept_columns
    except ImportError:
        return
    from types import SimpleNamespace

    tables = {}
    for t in target.schema.tables.values():
        kept = [
            c.name
            for c in t.columns
            if c.kind in TEXT_KINDS and treatments.get(t.key, {}).get(c.name, "keep") == "keep"
        ]
        if kept and t.name not in MARKER_TABLES:
            tables[t.key] = SimpleNamespace(columns=dict.fromkeys(kept, "keep"))
    try:
        findings = find_pii_in_kept_columns(
            target,  # type: ignore[arg-type]  # checked above: it has sample()
            SimpleNamespace(tables=tables),
            options.detector_sample,
        )
    except Exception as exc:  # advisory: the fingerprint checks above already ran
        log.warning("verify: the PII detector failed on the kept columns (%s)", type(exc).__name__)
        result.checks.append(Check("detector on kept columns", True, f"not run ({type(exc).__name__})"))
        return
    for f in findings:
        k = (f.table, f.column, f"detected {f.kind}")
        if k in result.leak_counts:
            continue
        result.leak_counts[k] = 1
        result.leaks.append(
            Leak(
                f.table,
                f.column,
                "sampled rows",
                f"detected {f.kind}",
                f"the PII detector finds {f.kind} in this kept column ({f.evidence})",
            )
        )
    result.checks.append(
        Check("detector on kept columns", not findings, f"{len(findings)} kept column(s) look like PII")
    )


# --- from rules ----------------------------------------------------------------------------------


def treatments_from_plan(plan: Any) -> dict[str, dict[str, Treatment]]:
    """table -> column -> treatment, from a `sanitize.plan.Plan`."""
    out: dict[str, dict[str, Treatment]] = {}
    for tkey, tplan in plan.tables.items():
        cols: dict[str, Treatment] = {}
        for cname, cplan in tplan.columns.items():
            if not cplan.transforms:
                cols[cname] = "keep"
            elif cplan.spec.name in PARTIAL_STRATEGIES or getattr(cplan.spec, "partial", False):
                cols[cname] = "partial"
            else:
                cols[cname] = "transform"
        out[tkey] = cols
    return out


def verify_databases(
    rules: Any,
    source: Any,
    target: Any,
    *,
    key: SecretKey | None = None,
    environments: Mapping[str, str] | None = None,
    options: VerifyOptions = VerifyOptions(),
) -> VerifyResult:
    """`sanitize verify --rules R SOURCE TARGET`: the leak check of a loaded target, both opened read-only.

    `rules` is a path or a RulesFile; `source`/`target` a URL, SQLite path, environment name or DatabaseRef.
    """
    from sanitize.db import DatabaseRef, open_source, resolve
    from sanitize.keys import load_key
    from sanitize.plan import build_plan
    from sanitize.rules import RulesFile, load_rules

    r = rules if isinstance(rules, RulesFile) else load_rules(rules)
    k = key or load_key()
    envs = dict(environments) if environments else None
    sref = source if isinstance(source, DatabaseRef) else resolve(str(source), environments=envs)
    tref = target if isinstance(target, DatabaseRef) else resolve(str(target), environments=envs)
    with open_source(sref) as src, open_source(tref) as tgt:
        plan = build_plan(r, src.schema)
        return verify(src, tgt, treatments_from_plan(plan), k, options)
