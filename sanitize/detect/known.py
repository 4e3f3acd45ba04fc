"""The known-entity recognizer: the source's own people, found in the free text of the same run.

While a run is planned, `collect_known_names` streams the columns the rules treat as people (fake kinds
name/first_name/last_name/email/username, or a column whose name says so), splits each value into name
words (e-mail local parts and usernames split on . _ - and digits dropped; words of two letters or more)
and keeps keyed fingerprints of the words (never the words): `KnownNames`. Scrub (and JSON paths that
scrub) then replaces those words wherever free text holds them ("Hi, this is Zoë Okafor" where Zoë
Okafor is a customer), whatever list they are or are not on.

A word that is an ordinary word (name_data.common_words) or very frequent in its column is *weak*: it
is only taken when capitalised and next to another known word or a title. Memory is bounded: past
`max_words` fingerprints, a keyed sample is kept (each halving keeps the fingerprints whose low bits
are zero), so the result does not depend on the order rows are read in.
"""

from __future__ import annotations

import logging
import re as stdre
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sanitize.defaults import DEFAULT_BATCH
from sanitize.detect.name_data import NEVER_NAMES, TITLES, common_words
from sanitize.keys import SecretKey, hash64

log = logging.getLogger("sanitize")

DOMAIN = "known-names"
MAX_WORDS = 4_000_000  # fingerprints kept (8 bytes each); beyond, a keyed sample
FREQUENT_SHARE = 0.02  # a word in more than this share of a column's values is weak ...
FREQUENT_MIN_ROWS = 200  # ... once the column has this many values
SCORE = 0.9
PEOPLE_KINDS = frozenset({"name", "first_name", "last_name", "email", "username"})
HINT_KINDS = frozenset({"person", "first_name", "last_name", "email", "username"})

_WORD = stdre.compile(r"[^\W\d_]+")


def name_words(value: str) -> list[str]:
    """The lower-cased name words of one value: 'Zoë Okafor' -> [zoë, okafor]; 'z.okafor77@x.org' ->
    [z?, okafor] (words under two letters dropped)."""
    text = value.partition("@")[0] if "@" in value else value
    return [w for w in _WORD.findall(text.lower()) if len(w) >= 2]


def _fingerprints(words: list[str] | np.ndarray, key: SecretKey) -> np.ndarray:
    arr = np.asarray(words, dtype=object)
    return hash64(arr, key, DOMAIN, "word")


@dataclass(frozen=True)
class KnownNames:
    """Keyed fingerprints of the source's name words: strong ones match alone, weak ones need company."""

    key: SecretKey = field(repr=False)
    strong: np.ndarray  # sorted uint64
    weak: np.ndarray  # sorted uint64
    sample_bits: int = 0  # fingerprints kept: those whose low `sample_bits` bits are zero

    def __len__(self) -> int:
        return len(self.strong) + len(self.weak)

    @classmethod
    def from_words(
        cls, words: Iterable[str], key: SecretKey, *, weak_words: Iterable[str] = ()
    ) -> KnownNames:
        """A set from plain words (tests, notebooks); common words go to the weak side."""
        common = common_words()
        weak_set = {w.lower() for w in weak_words}
        strong: list[str] = []
        weak: list[str] = []
        for w in {w.lower() for w in words}:
            (weak if w in common or w in NEVER_NAMES or len(w) < 3 or w in weak_set else strong).append(w)
        return cls(key, np.unique(_fingerprints(strong, key)), np.unique(_fingerprints(weak, key)))

    def _member(self, fps: np.ndarray, table: np.ndarray) -> np.ndarray:
        if len(table) == 0 or len(fps) == 0:
            return np.zeros(len(fps), dtype=bool)
        if self.sample_bits:
            keep = (fps & np.uint64((1 << self.sample_bits) - 1)) == 0
        else:
            keep = np.ones(len(fps), dtype=bool)
        pos = np.minimum(np.searchsorted(table, fps), len(table) - 1)
        return keep & (table[pos] == fps)

    def find(self, texts: list[str]) -> list[list[tuple[int, int, float]]]:
        """Per text, the (start, end, score) spans of known names (adjacent known words joined)."""
        counts: list[int] = []
        flat: list[str] = []
        for text in texts:
            words = _WORD.findall(text) if text else []
            counts.append(len(words))
            flat.extend(map(str.lower, words))
        if not flat:
            return [[] for _ in texts]
        fps = _fingerprints(flat, self.key)
        strong = self._member(fps, self.strong)
        weak = self._member(fps, self.weak)
        ends = np.cumsum(counts)
        seen = np.concatenate([[0], np.cumsum(strong | weak)])
        hits = seen[ends] - seen[ends - np.asarray(counts)]  # known words per text
        out: list[list[tuple[int, int, float]]] = []
        at = 0
        for i, (text, n) in enumerate(zip(texts, counts, strict=True)):
            if hits[i]:
                words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
                out.append(_spans(text, words, strong[at : at + n], weak[at : at + n]))
            else:
                out.append([])
            at += n
        return out


def _joined(text: str, end: int, start: int) -> bool:
    gap = text[end:start]
    return 0 < len(gap) <= 2 and all(c in " -'’." for c in gap) and gap.count(".") <= 1


def _spans(
    text: str, words: list[tuple[int, int, str]], strong: np.ndarray, weak: np.ndarray
) -> list[tuple[int, int, float]]:
    n = len(words)
    take = strong.copy()
    cap = [w[2][:1].isupper() for w in words]
    # weak words: capitalised, next to a known word or after a title (repeat: a chain of weak words)
    for _ in range(2):
        for i in np.flatnonzero(weak & ~take).tolist():
            if not cap[i]:
                continue
            prev_ok = i > 0 and _joined(text, words[i - 1][1], words[i][0])
            next_ok = i + 1 < n and _joined(text, words[i][1], words[i + 1][0])
            if (prev_ok and (take[i - 1] or words[i - 1][2].lower() in TITLES)) or (
                next_ok and take[i + 1] and cap[i + 1]
            ):
                take[i] = True
    # a lone known word inside a longer capitalised run is a place or product name: "Ho Chi Minh City"
    i = 0
    while i < n:
        j = i
        while j + 1 < n and cap[j] and cap[j + 1] and _joined(text, words[j][1], words[j + 1][0]):
            j += 1
        if j - i + 1 >= 3 and int(take[i : j + 1].sum()) == 1 and words[i][2].lower() not in TITLES:
            take[i : j + 1] = False
        i = j + 1
    spans: list[tuple[int, int, float]] = []
    i = 0
    while i < n:
        if not take[i]:
            i += 1
            continue
        start, end = words[i][0], words[i][1]
        while i + 1 < n and take[i + 1] and _joined(text, end, words[i + 1][0]):
            i += 1
            end = words[i][1]
        spans.append((start, end, SCORE))
        i += 1
    return spans


# --- collecting from a source ------------------------------------------------------------------


def people_columns(plan: Any) -> dict[str, list[str]]:
    """table -> the columns the rules treat as people (by fake kind, or by the column's name)."""
    from sanitize.detect.names import match_column_name

    out: dict[str, list[str]] = {}
    for tkey, tp in plan.tables.items():
        for cname, cp in tp.columns.items():
            if cp.origin == "inherited" or cp.column.kind not in (None, "text", "other"):
                continue
            kind = getattr(cp.params, "kind", None)
            by_rule = cp.spec.name == "fake" and kind in PEOPLE_KINDS
            hint = match_column_name(cname, cp.column.kind, tkey)
            if by_rule or (cp.transforms and hint is not None and hint.kind in HINT_KINDS):
                out.setdefault(tkey, []).append(cname)
    return out


class _Collector:
    def __init__(self, key: SecretKey, max_words: int) -> None:
        self.key = key
        self.max_words = max_words
        self.counts: Counter[int] = Counter()
        self.bits = 0
        self.weak: set[int] = set()
        self.common = common_words()

    def add_column(self, values: Iterable[Any]) -> None:
        seen: Counter[str] = Counter()
        rows = 0
        for v in values:
            if isinstance(v, str) and v:
                rows += 1
                seen.update(set(name_words(v)))
        if not seen:
            return
        words = list(seen)
        fps = _fingerprints(words, self.key).tolist()
        limit = FREQUENT_SHARE * rows if rows >= FREQUENT_MIN_ROWS else float("inf")
        mask = (1 << self.bits) - 1
        for w, fp in zip(words, fps, strict=True):
            if fp & mask:
                continue
            self.counts[fp] += seen[w]
            if w in self.common or w in NEVER_NAMES or len(w) < 3 or seen[w] > limit:
                self.weak.add(fp)
        while len(self.counts) > self.max_words:
            self.bits += 1
            mask = (1 << self.bits) - 1
            self.counts = Counter({fp: c for fp, c in self.counts.items() if not fp & mask})
            self.weak = {fp for fp in self.weak if not fp & mask}

    def result(self) -> KnownNames:
        all_fps = np.fromiter(self.counts, dtype=np.uint64, count=len(self.counts))
        weak = np.fromiter(self.weak, dtype=np.uint64, count=len(self.weak))
        strong = np.setdiff1d(all_fps, weak)
        return KnownNames(self.key, np.sort(strong), np.sort(weak), self.bits)


def collect_known_names(
    source: Any,
    plan: Any,
    key: SecretKey,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[str, int, int | None], None] | None = None,
    max_words: int = MAX_WORDS,
) -> KnownNames:
    """Stream the people columns of `source` (read-only, those columns only) into a KnownNames."""
    collector = _Collector(key, max_words)
    for table, columns in people_columns(plan).items():
        label = f"{table} (names for scrub)"
        expected = source.count(table) if progress is not None else None
        done = 0
        for batch in source.read_batches(table, batch_size=batch_size, columns=columns):
            for c in columns:
                if c in batch.columns:
                    collector.add_column(pd.Series(batch[c]).dropna().tolist())
            done += len(batch)
            if progress is not None:
                progress(label, done, expected)
    known = collector.result()
    log.info("known names for scrub: %d words (%d weak)", len(known), len(known.weak))
    return known


__all__ = ["KnownNames", "collect_known_names", "name_words", "people_columns"]
