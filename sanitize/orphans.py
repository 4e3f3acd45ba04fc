"""Source rows whose foreign keys point at no row ("orphans"), found and handled in the stream.

Real data has them (a deleted customer's orders in an HR sample); a database target refuses them when
it makes the foreign keys, a dump passes them on. sanitize finds them per batch, before the transform,
by looking each foreign key up in a fingerprint set of its parent's keys — 8 bytes a parent row, as a
sorted array of 64-bit hashes (text keys hashed with a key new each run), so memory stays bounded
however wide the keys are; the hashes never leave the process. The parent's
set holds the rows actually written, so with `orphans: drop` the rows that depend on a dropped row are
dropped too. A parent not complete yet when its child starts (a self-reference, a cycle, a dump's
order) is read first, its key columns only.

Policies (rules file, top level or per table): `fail` (default) stops, naming every foreign key and its
count; `drop` leaves the rows out; `null` clears the dangling foreign key (refused on NOT NULL columns).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from sanitize.errors import SafetyError
from sanitize.schema import ForeignKey, Schema

ReadKeys = Callable[[str, list[str]], Iterable[pd.DataFrame]]


class OrphanRowsError(SafetyError):
    """Source rows have foreign keys that point at no row, and the rules say `orphans: fail`."""


def _as_set(parts: list[np.ndarray]) -> np.ndarray:
    """Fingerprint arrays as one sorted array without repeats (looked up by binary search)."""
    return np.unique(np.concatenate(parts or [np.array([], np.uint64)]))


def _contains(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which of `values` are in the sorted array `keys`."""
    if len(keys) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
    return np.asarray(keys[at] == values)


def _label(key: str, fk: ForeignKey, ref_cols: Sequence[str]) -> str:
    return f"{key}({', '.join(fk.columns)}) -> {fk.ref_table}({', '.join(ref_cols)})"


@dataclass
class OrphanGuard:
    """Finds and handles orphan rows of one run; `policy(table)` is the rules' `orphans` for a table."""

    schema: Schema
    keys: Sequence[str]
    policy: Callable[[str], str]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> FK label -> rows
    frozen: bool = False  # parent sets complete (after prescan): filter neither records nor counts

    def __post_init__(self) -> None:
        loaded = set(self.keys)
        self._hash_key = secrets.token_hex(8)  # 16 characters, new each run: text fingerprints are keyed
        self._fks: dict[str, list[tuple[ForeignKey, tuple[str, ...]]]] = {}
        self._wanted: dict[str, set[tuple[str, ...]]] = {}  # parent -> referenced column sets
        for key in self.keys:
            t = self.schema[key]
            for fk in t.foreign_keys:
                if fk.ref_table not in loaded:
                    continue
                ref = fk.ref_columns or self.schema[fk.ref_table].primary_key
                self._fks.setdefault(key, []).append((fk, tuple(ref)))
                self._wanted.setdefault(fk.ref_table, set()).add(tuple(ref))
        self._parts: dict[tuple[str, tuple[str, ...]], list[np.ndarray]] = {}
        self._sets: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
        self._lock = threading.Lock()

    def involves(self, key: str) -> bool:
        return key in self._fks or key in self._wanted

    def _fingerprints(self, df: pd.DataFrame, cols: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Keyed 64-bit hashes of the rows' `cols`, and which rows have no NULL among them. Integers hash
        as int64 whatever their width (a key's int4 and its reference's int8 agree), the rest as text."""
        valid = np.ones(len(df), dtype=bool)
        combined = np.zeros(len(df), dtype=np.uint64)
        for c in cols:
            arr = pa.array(df[c]) if not isinstance(df[c].array, pd.arrays.ArrowExtensionArray) else None
            data = df[c].array._pa_array if arr is None else arr  # noqa: SLF001 - no copy
            valid &= ~np.asarray(data.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            if pa.types.is_integer(data.type):
                values = data.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
            else:
                values = data.cast(pa.string()).fill_null("").to_numpy(zero_copy_only=False)
            h = pd.util.hash_array(values, hash_key=self._hash_key)
            with np.errstate(over="ignore"):
                combined = combined * np.uint64(1_000_003) ^ h
        return combined, valid

    def begin(self, key: str, read: ReadKeys) -> None:
        """Before table `key`'s first batch: parents not complete yet are read (key columns only); a
        self-reference under `orphans: drop` keeps only the rows whose chain of parents is kept."""
        for fk, ref in self._fks.get(key, []):
            if (fk.ref_table, ref) in self._sets:
                continue
            if fk.ref_table == key and self.policy(key) == "drop":
                self._sets[(key, ref)] = self._kept_chain(key, fk, ref, read)
                continue
            parts = []
            for df in read(fk.ref_table, list(ref)):
                h, valid = self._fingerprints(df, ref)
                parts.append(h[valid])
            self._sets[(fk.ref_table, ref)] = _as_set(parts)

    def _kept_chain(self, key: str, fk: ForeignKey, ref: tuple[str, ...], read: ReadKeys) -> np.ndarray:
        """The keys of the rows of `key` that `drop` keeps when `fk` points into `key` itself: rows whose
        other foreign keys dangle go, then, until nothing changes, rows whose parent went (16 bytes a
        row for as long as the table is worked out)."""
        others = [
            (f, r) for f, r in self._fks.get(key, []) if f.ref_table != key and (f.ref_table, r) in self._sets
        ]
        cols = list(dict.fromkeys([*ref, *fk.columns, *(c for f, _ in others for c in f.columns)]))
        keys, refs, kept, refers = [], [], [], []
        for df in read(key, cols):
            hk, vk = self._fingerprints(df, ref)
            hf, vf = self._fingerprints(df, fk.columns)
            ok = vk.copy()
            for f, r in others:
                h, v = self._fingerprints(df, f.columns)
                ok &= ~(v & ~_contains(self._sets[(f.ref_table, r)], h))
            keys.append(hk)
            refs.append(hf)
            kept.append(ok)
            refers.append(vf)
        if not keys:
            return np.array([], np.uint64)
        hk, hf, ok, vf = (np.concatenate(x) for x in (keys, refs, kept, refers))
        while True:
            alive = np.unique(hk[ok])
            gone = ok & vf & ~_contains(alive, hf)
            if not gone.any():
                return alive
            ok &= ~gone

    def filter(self, key: str, df: pd.DataFrame) -> pd.DataFrame:
        """One batch of table `key` (source values) with its orphans handled as the policy says."""
        if not self.involves(key) or len(df) == 0:
            return df
        policy = self.policy(key)
        keep = np.ones(len(df), dtype=bool)
        for fk, ref in self._fks.get(key, []):
            h, valid = self._fingerprints(df, fk.columns)
            dangling = valid & ~_contains(self._sets[(fk.ref_table, ref)], h)
            n = int(dangling.sum())
            if not n:
                continue
            if not self.frozen:
                with self._lock:
                    per = self.counts.setdefault(key, {})
                    label = _label(key, fk, ref)
                    per[label] = per.get(label, 0) + n
            if policy == "drop":
                keep &= ~dangling
            elif policy == "null":
                table = self.schema[key]
                required = [c for c in fk.columns if not table.column(c).nullable]
                if required:
                    raise OrphanRowsError(
                        f"{key}: {n} source row(s) have {_label(key, fk, ref)} pointing at no row, and "
                        f"`orphans: null` cannot clear NOT NULL column(s) {', '.join(required)}; use "
                        f"`orphans: drop` for table {key} (tables.{key}.orphans in the rules file)"
                    )
                df = df.copy()
                for c in fk.columns:
                    df[c] = df[c].mask(pd.Series(dangling, index=df.index))
        if not keep.all():
            df = df[keep]  # the index says which rows are left (a dump rewrite writes the others as read)
        if not self.frozen:
            for ref in self._wanted.get(key, ()):
                h, valid = self._fingerprints(df, ref)
                with self._lock:
                    self._parts.setdefault((key, ref), []).append(h[valid])
        return df

    def end(self, key: str) -> None:
        """After table `key`'s last batch: its key sets are complete; `fail` stops naming the orphans."""
        for ref in self._wanted.get(key, ()):
            parts = self._parts.pop((key, ref), [])
            self._sets[(key, ref)] = _as_set(parts)
        found = self.counts.get(key)
        if found and self.policy(key) == "fail":
            raise OrphanRowsError(
                f"{key}: source rows have foreign keys that point at no row (the dangling rows are in "
                "the source, not made by sanitize); set `orphans: drop` (leave them out, with the rows "
                "that depend on them) or `orphans: null` (clear the dangling foreign key) in the rules "
                f"file, at the top or under tables.{key}, or fix the source",
                problems=[f"{label}: {n} row(s)" for label, n in sorted(found.items())],
            )

    def prescan(self, read: ReadKeys) -> None:
        """Work out every table's orphans from its key and foreign-key columns alone, in load order, so
        a stream in any table order (a dump's) can be filtered; `fail` stops here, before any output."""
        for key in self.schema.load_order(self.keys):
            if not self.involves(key):
                continue
            cols = list(
                dict.fromkeys(
                    [c for fk, _ in self._fks.get(key, []) for c in fk.columns]
                    + [c for ref in self._wanted.get(key, ()) for c in ref]
                )
            )
            self.begin(key, read)
            for df in read(key, cols):
                self.filter(key, df)
            self.end(key)
        self.frozen = True

    def warnings(self) -> list[str]:
        """One line per table whose orphans were dropped or cleared."""
        out = []
        for key, per in self.counts.items():
            policy = self.policy(key)
            if policy == "fail":
                continue
            done = "left out" if policy == "drop" else "written with the foreign key cleared"
            details = "; ".join(f"{label}: {n}" for label, n in per.items())
            out.append(
                f"{key}: source rows whose foreign keys point at no row were {done} "
                f"(orphans: {policy}): {details}"
            )
        return out
