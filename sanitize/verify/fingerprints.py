"""Keyed 64-bit fingerprints and the sorted sets that hold them.

A fingerprint is a keyed hash that only lives in memory during one check (never written, never
logged). Strings are hashed straight from the Arrow buffers; digit strings (card and phone numbers)
as integers. A `HashSet` is a sorted uint64 array plus a bucket index and a bitmap filter, so a lookup
is a few vectorised probes: 8 bytes per fingerprint plus about 4 for the index and filter.

`FingerprintCollector` accumulates a source's fingerprints batch by batch (per kind and column,
de-duplicated as it goes) and builds the `SourceFingerprints` the target is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from sanitize.arrow import string_bytes
from sanitize.keys import SecretKey, hash64, mix

LONG_STRING = 256  # longer strings go through SipHash (keys.hash64); shorter ones through the word chain
_K_LEN = np.uint64(0x9E3779B97F4A7C15)
_K_WORD = np.uint64(0xFF51AFD7ED558CCD)
_SHIFT = np.uint64(29)
# MASKS[r]: the low r bytes of a little-endian word (r = 1..8)
_MASKS = np.array([0] + [(1 << (8 * r)) - 1 for r in range(1, 8)] + [(1 << 64) - 1], dtype=np.uint64)
KIND_SALT = {"cell": 0, "email": 1, "card": 2, "iban": 3, "phone": 4}
COUNTED_KINDS = ("value", "name")  # kinds whose rarity decides whether they identify anyone


def _seed(key: SecretKey, purpose: str = "fingerprint") -> np.uint64:
    return np.uint64(int.from_bytes(key.derive("verify", purpose)[:8], "little"))


def hash_strings(arr: pa.Array, key: SecretKey) -> np.ndarray:
    """Keyed 64-bit fingerprint of each (non-null) string, vectorised over the Arrow buffers.

    A multiply-xorshift chain over unaligned 8-byte words (strings ordered by word count, so each
    round works on a prefix), seeded from the key and the length, with a splitmix64 finaliser;
    SipHash (`keys.hash64`) for strings past 256 bytes.
    """
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    arr = arr.cast(pa.large_string())
    offsets, data = string_bytes(arr)
    lens = np.diff(offsets)
    with np.errstate(over="ignore"):
        h = lens.astype(np.uint64) * _K_LEN ^ _seed(key)
    short = np.flatnonzero(lens <= LONG_STRING)
    if len(short):
        padded = np.zeros(len(data) + 8, dtype=np.uint8)
        padded[: len(data)] = data
        words = np.ndarray((len(padded) - 7,), dtype=np.uint64, buffer=padded, strides=(1,))
        nwords = ((lens[short] + 7) >> 3).astype(np.uint8)  # 0..32
        order = short[np.argsort(np.uint8(32) - nwords, kind="stable")]  # most words first
        counts = np.bincount(nwords, minlength=34)
        active = len(short) - np.cumsum(counts)  # active[j]: strings with more than j words
        start, ln = offsets[order], lens[order]
        hs = h[order]
        with np.errstate(over="ignore"):
            for j in range(int(nwords.max())):
                k, last = int(active[j]), int(active[j + 1])  # [last, k) end in this word
                w = words[start[:k] + 8 * j]
                if last < k:
                    w[last:] &= _MASKS[ln[last:k] - 8 * j]
                part = hs[:k]
                part ^= w
                part *= _K_WORD
                part ^= part >> _SHIFT
        h[order] = hs
    h = mix(h, 1 << 20)
    if len(short) < n:
        long_ = np.flatnonzero(lens > LONG_STRING)
        h[long_] = hash64(arr.take(pa.array(long_)).to_numpy(zero_copy_only=False), key, "verify")
    return h


def hash_numbers(values: np.ndarray, width: np.ndarray | int, key: SecretKey) -> np.ndarray:
    """Keyed fingerprint of digit strings given as integers and their digit count (leading zeros count)."""
    with np.errstate(over="ignore"):
        w = np.asarray(width).astype(np.uint64) * _K_LEN
        return mix(mix(values.astype(np.uint64) ^ _seed(key, "digits"), 7) ^ w, 11)


def pairs(rowkey: np.ndarray, h: np.ndarray, col_index: int, kind: str) -> np.ndarray:
    """Row-aligned fingerprint: (row, column, kind, value) as one uint64."""
    return mix(rowkey ^ h, col_index * 8 + KIND_SALT[kind])


def sorted_unique(x: np.ndarray, runs: bool = False) -> np.ndarray:
    """The distinct values of `x`, sorted; `runs`: x is a few sorted arrays end to end (merged in O(n))."""
    if len(x) == 0:
        return x
    x = np.sort(x, kind="stable" if runs else None)
    keep = np.empty(len(x), dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def distinct_counts(h: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct hashes and how often each occurs (each occurrence counting `weights`, or 1)."""
    if len(h) == 0:
        return h, np.zeros(0, dtype=np.int64)
    if weights is None:
        s = np.sort(h)
        w = None
    else:
        order = np.argsort(h)
        s, w = h[order], weights[order]
    first = np.empty(len(s), dtype=bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(s))) if w is None else np.add.reduceat(w.astype(np.int64), starts)
    return s[starts], counts


class HashSet:
    """A set of uint64 fingerprints: the sorted array, bucket offsets on the top bits, a bitmap filter.

    Fingerprints are uniform, so a bucket holds one or two and the bitmap (8-16 bits per fingerprint)
    turns most absent queries away before any probe. Memory: about 12 bytes per fingerprint.
    """

    def __init__(self, sorted_hashes: np.ndarray) -> None:
        self.h = sorted_hashes
        n = len(sorted_hashes)
        self.bits = max(1, min(30, n.bit_length() - 1))
        self.shift = np.uint64(64 - self.bits)
        top = (sorted_hashes >> self.shift).view(np.int64)  # < 2**30: the view is the value
        self.starts = np.zeros((1 << self.bits) + 1, dtype=np.int32 if n < 2**31 else np.int64)
        np.cumsum(np.bincount(top, minlength=1 << self.bits), out=self.starts[1:])
        self.filter_bits = min(36, self.bits + 4)  # 8-16 filter bits per fingerprint
        self.filter_shift = np.uint64(64 - self.filter_bits)
        seen = np.zeros(1 << self.filter_bits, dtype=np.uint8)
        seen[(sorted_hashes >> self.filter_shift).view(np.int64)] = 1
        self.bitmap = np.packbits(seen, bitorder="little")

    def __len__(self) -> int:
        return len(self.h)

    @property
    def nbytes(self) -> int:
        return int(self.h.nbytes + self.starts.nbytes + self.bitmap.nbytes)

    def _maybe(self, q: np.ndarray) -> np.ndarray:
        """Indices of the queries the bitmap does not rule out."""
        slot = (q >> self.filter_shift).view(np.int64)
        return np.flatnonzero((self.bitmap[slot >> 3] >> (slot & 7).astype(np.uint8)) & 1)

    def positions(self, q: np.ndarray) -> np.ndarray:
        """Index of each query in the sorted array; -1 when absent."""
        out = np.full(len(q), -1, dtype=np.int64)
        if len(self.h) == 0 or len(q) == 0:
            return out
        cand = self._maybe(q)
        if len(cand) == 0:
            return out
        qc = q[cand]
        b = (qc >> self.shift).view(np.int64)
        idx, hi = self.starts[b].astype(np.int64), self.starts[b + 1]
        live = np.flatnonzero(idx < hi)
        while len(live):
            i = idx[live]
            v = self.h[i]
            target = qc[live]
            hit = v == target
            out[cand[live[hit]]] = i[hit]
            live = live[(v < target) & (i + 1 < hi[live])]
            idx[live] += 1
        return out

    def contains(self, q: np.ndarray) -> np.ndarray:
        """Whether each query is in the set."""
        return self.positions(q) >= 0


EMPTY = HashSet(np.zeros(0, dtype=np.uint64))


@dataclass
class OriginSet:
    """Distinct fingerprints of one kind and, for each, the first source column that holds it."""

    hashes: HashSet = EMPTY
    origin: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint32))

    def lookup(self, h: np.ndarray) -> np.ndarray:
        """Source column index of each hash; -1 when it is no source value."""
        if len(self.hashes) == 0:
            return np.full(len(h), -1, dtype=np.int64)
        i = self.hashes.positions(h)
        return np.where(i >= 0, self.origin[np.maximum(i, 0)].astype(np.int64), -1)

    @property
    def nbytes(self) -> int:
        return self.hashes.nbytes + int(self.origin.nbytes)


@dataclass
class SourceFingerprints:
    """The source's sensitive values by kind, and the columns they came from (`columns[origin]`).

    `by_kind[kind]`: normalised keys (emails, card/phone digits, IBANs, other values, also from inside
    text); `exact[kind]`: whole cells that are an email, card number or IBAN, as they were written.
    """

    columns: list[str]
    by_kind: dict[str, OriginSet] = field(default_factory=dict)
    exact: dict[str, OriginSet] = field(default_factory=dict)

    def lookup(self, kind: str, h: np.ndarray, exact: bool = False) -> np.ndarray:
        """Index of the source column each hash came from; -1 when it is no source value."""
        ref = (self.exact if exact else self.by_kind).get(kind)
        return ref.lookup(h) if ref is not None else np.full(len(h), -1, dtype=np.int64)

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in (*self.by_kind.values(), *self.exact.values()))


_COMPACT_PARTS = 16  # merge a column's pending parts when this many have accumulated


@dataclass
class _Parts:
    """Pending fingerprints of one (kind, column); with how often each occurred when `counted`."""

    counted: bool
    hashes: list[np.ndarray] = field(default_factory=list)
    counts: list[np.ndarray] = field(default_factory=list)

    def add(self, h: np.ndarray, weights: np.ndarray | None) -> None:
        if self.counted:
            u, c = distinct_counts(h, weights)
            self.hashes.append(u)
            self.counts.append(c)
        else:
            self.hashes.append(h)
        if len(self.hashes) >= _COMPACT_PARTS:
            self.compact()

    def compact(self) -> tuple[np.ndarray, np.ndarray | None]:
        """One sorted distinct array (and its counts)."""
        if self.counted:
            u, c = merge_counts(self.hashes, self.counts)
            self.hashes, self.counts = [u], [c]
            return u, c
        u = sorted_unique(np.concatenate(self.hashes))
        self.hashes = [u]
        return u, None


def merge_counts(hashes: list[np.ndarray], counts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Union of sorted distinct hash arrays, adding up their counts."""
    if not hashes:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    if len(hashes) == 1:
        return hashes[0], counts[0]
    u = sorted_unique(np.concatenate(hashes), runs=len(hashes) <= 4)
    total = np.zeros(len(u), dtype=np.int64)
    for h, c in zip(hashes, counts, strict=True):
        total[np.searchsorted(u, h)] += c  # h is distinct: no index repeats
    return u, total


@dataclass(frozen=True)
class Rarity:
    """When a value (or name token) is too common to identify anyone.

    Common: in `rows` or more source cells in all, or in `share` or more of its column's non-NULL
    cells (and at least 2); every value of an enum-like column (at most `enum_values` distinct, each
    in `enum_rows` cells on average) is common.
    """

    rows: int = 10
    share: float = 0.02
    enum_values: int = 50
    enum_rows: int = 20

    def common(self, counts: np.ndarray, cells: int) -> np.ndarray:
        """Which of one column's distinct values (with their counts) are common."""
        if len(counts) <= self.enum_values and cells >= self.enum_rows * len(counts):
            return np.ones(len(counts), dtype=bool)
        return (counts >= self.rows) | ((counts >= 2) & (counts >= self.share * cells))


class FingerprintCollector:
    """Source fingerprints gathered batch by batch, per kind and source column."""

    def __init__(self) -> None:
        self.columns: list[str] = []
        self.cells: list[int] = []  # non-NULL cells read per column
        self._parts: dict[tuple[str, bool], dict[int, _Parts]] = {}

    def column_id(self, name: str) -> int:
        self.columns.append(name)
        self.cells.append(0)
        return len(self.columns) - 1

    def count_cells(self, column: int, n: int) -> None:
        self.cells[column] += n

    def add(
        self, kind: str, column: int, h: np.ndarray, weights: np.ndarray | None, exact: bool = False
    ) -> None:
        """Fingerprints of one kind from one column; `weights`: cells each stands for (None: one)."""
        if len(h):
            counted = kind in COUNTED_KINDS and not exact
            parts = self._parts.setdefault((kind, exact), {}).setdefault(column, _Parts(counted))
            parts.add(h, weights)

    def build(
        self, kinds: tuple[str, ...], exact_kinds: tuple[str, ...], rarity: Rarity
    ) -> SourceFingerprints:
        """The sets; a generic value or name token common in the source is dropped: it identifies nobody."""
        fps = SourceFingerprints(list(self.columns))
        for kind in kinds:
            fps.by_kind[kind] = self._origin_set((kind, False), rarity if kind in COUNTED_KINDS else None)
        for kind in exact_kinds:
            fps.exact[kind] = self._origin_set((kind, True), None)
        self._parts.clear()
        return fps

    def _origin_set(self, key: tuple[str, bool], rarity: Rarity | None) -> OriginSet:
        per_column = {c: p.compact() for c, p in sorted(self._parts.pop(key, {}).items())}
        if not per_column:
            return OriginSet()
        hashes = [h for h, _ in per_column.values()]
        u = hashes[0] if len(hashes) == 1 else sorted_unique(np.concatenate(hashes), runs=len(hashes) <= 4)
        none = np.iinfo(np.uint32).max
        origin = np.full(len(u), none, dtype=np.uint32)
        total = np.zeros(len(u), dtype=np.int64)
        common = np.zeros(len(u), dtype=bool)
        for column, (h, counts) in per_column.items():  # ascending: the first column holding a value wins
            pos = np.searchsorted(u, h) if len(hashes) > 1 else np.arange(len(u))
            origin[pos[origin[pos] == none]] = column
            if counts is not None and rarity is not None:
                total[pos] += counts  # h is distinct: no index repeats
                common[pos[rarity.common(counts, self.cells[column])]] = True
        if rarity is not None:
            rare = ~common & (total < rarity.rows)
            u, origin = u[rare], origin[rare]
        return OriginSet(HashSet(u), origin)
