"""Source values by row, so the target's rows can be compared with the same rows of the source.

Two forms, same answers. A table whose rows are identified by one integer column (its kept primary
key, usually) keeps, per transformed column, each row's value fingerprint in key order; a target
batch finds its rows by `searchsorted` on the keys (its ids usually arrive sorted: a fast merge).
Any other table (or one whose "key" repeats) keeps row-aligned fingerprints (row key, column, kind,
value as one uint64) in `HashSet`s; scrub/json columns always do, since a row may hold several
tokens. Memory: 9 bytes per source row per transformed column plus 8 for the key, or 12 per
fingerprint in the sets.
"""

from __future__ import annotations

import numpy as np

from sanitize.keys import mix
from sanitize.verify.fingerprints import EMPTY, HashSet, pairs, sorted_unique


class TableAlignment:
    """Row-aligned source values of one table (see the module docstring)."""

    def __init__(self, key_column: str | None) -> None:
        self.key_column = key_column  # the integer key, when there is one
        self.by_id = key_column is not None  # still possible: every batch so far had plain integer ids
        self._ids: list[np.ndarray] = []
        self._cells: dict[str, list[tuple[np.ndarray, np.ndarray] | None]] = {}  # per batch: hash, present
        self._index: dict[str, int] = {}
        self._pairs: dict[str, list[np.ndarray]] = {}
        self.sets: dict[str, HashSet] = {}
        self.keys = np.zeros(0, dtype=np.int64)
        self.values: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # column -> (hash, present), in key order

    @property
    def nbytes(self) -> int:
        return int(
            self.keys.nbytes
            + sum(h.nbytes + p.nbytes for h, p in self.values.values())
            + sum(s.nbytes for s in self.sets.values())
        )

    # --- the source side ------------------------------------------------------------------------

    def add_batch(self, ids: np.ndarray | None) -> None:
        """Start a batch: its integer ids (None: they are not plain integers)."""
        if self.by_id and ids is None:
            self._to_pairs()
        if self.by_id and ids is not None:
            self._ids.append(ids)

    def add_cells(
        self, column: str, col_index: int, rows: np.ndarray, rowkey: np.ndarray, h: np.ndarray
    ) -> None:
        """A transformed column's non-NULL cells of the current batch: positions, row keys, hashes."""
        self._index[column] = col_index
        if not self.by_id:
            self._pairs.setdefault(column, []).append(pairs(rowkey, h, col_index, "cell"))
            return
        n = len(self._ids[-1])
        full, present = np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=bool)
        full[rows], present[rows] = h, True
        batches = self._cells.setdefault(column, [])
        batches.extend([None] * (len(self._ids) - 1 - len(batches)))  # batches where it was all NULL
        batches.append((full, present))

    def add_pairs(self, column: str, fingerprints: np.ndarray) -> None:
        """Row-aligned fingerprints of a scrub/json column's tokens."""
        self._pairs.setdefault(column, []).append(fingerprints)

    def _column(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """One column's (hash, present) over every row so far, in reading order."""
        batches = self._cells.pop(column)
        batches.extend([None] * (len(self._ids) - len(batches)))
        parts = [
            b if b is not None else (np.zeros(len(i), dtype=np.uint64), np.zeros(len(i), dtype=bool))
            for b, i in zip(batches, self._ids, strict=True)
        ]
        return np.concatenate([h for h, _ in parts]), np.concatenate([p for _, p in parts])

    def _to_pairs(self) -> None:
        """Give up the integer form (a batch without plain integer ids): row-aligned sets instead."""
        ids = np.concatenate(self._ids) if self._ids else np.zeros(0, dtype=np.int64)
        rowkey = mix(ids.view(np.uint64), 0)  # what `integrity.row_keys` gives integer keys
        for column in list(self._cells):
            h, present = self._column(column)
            fp = pairs(rowkey[present], h[present], self._index[column], "cell")
            self._pairs.setdefault(column, []).append(fp)
        self._ids.clear()
        self.by_id = False

    def finish(self) -> None:
        if self.by_id:
            ids = np.concatenate(self._ids) if self._ids else np.zeros(0, dtype=np.int64)
            order = None
            if len(ids) > 1 and not (ids[1:] > ids[:-1]).all():
                order = np.argsort(ids, kind="stable")
                if (ids[order][1:] == ids[order][:-1]).any():  # not a key after all
                    self._to_pairs()
                    return self.finish()
            for column in list(self._cells):
                h, present = self._column(column)
                self.values[column] = (h, present) if order is None else (h[order], present[order])
            self.keys = ids if order is None else ids[order]
            self._ids.clear()
        for column, parts in self._pairs.items():
            if parts:
                self.sets[column] = HashSet(sorted_unique(np.concatenate(parts)))
        self._pairs.clear()

    # --- the target side ------------------------------------------------------------------------

    def locate(self, ids: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
        """Each target row's position among the source keys and whether it is there (None: use the sets)."""
        if not self.by_id:
            return None
        if ids is None:  # the target's keys are not plain integers: answer from sets after all
            self._sets_from_values()
            return None
        if len(self.keys) == 0:
            return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
        pos = np.minimum(np.searchsorted(self.keys, ids), len(self.keys) - 1)
        return pos, self.keys[pos] == ids

    def _sets_from_values(self) -> None:
        rowkey = mix(self.keys.view(np.uint64), 0)
        for column, (h, present) in self.values.items():
            fp = pairs(rowkey[present], h[present], self._index[column], "cell")
            self.sets[column] = HashSet(sorted_unique(fp))
        self.values.clear()
        self.by_id = False

    def unchanged(
        self,
        column: str,
        col_index: int,
        rows: np.ndarray,
        rowkey: np.ndarray,
        h: np.ndarray,
        located: tuple[np.ndarray, np.ndarray] | None,
    ) -> np.ndarray:
        """Which of a transformed column's target cells equal the source row's value."""
        if located is None:
            return self.sets.get(column, EMPTY).contains(pairs(rowkey, h, col_index, "cell"))
        if column not in self.values:
            return np.zeros(len(rows), dtype=bool)
        pos, found = located
        src, present = self.values[column]
        p = pos[rows]
        return found[rows] & present[p] & (src[p] == h)
