"""Pass 2 of the leak check: every text-like cell of the target against the source's fingerprints.

Kept text columns are checked against every kind (and for card numbers, IBANs and emails by
pattern); scrub/json columns for source emails, card numbers and IBANs anywhere and for identifiers
still in their own row; transformed columns for unchanged values and for another row's email, card
number or IBAN. (A fake name or phone may equal a real one by chance; a fake email, card or IBAN does
not.) Integrity rides along (`integrity.IntegrityScan`). Each leak names table, column, row key and
kind, never the value. Also: the PII detector re-run over the kept columns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from sanitize.keys import SecretKey
from sanitize.schema import Schema
from sanitize.verify.cells import CellText, ColumnReader, raw_text
from sanitize.verify.collect import Aligned
from sanitize.verify.fingerprints import (
    EMPTY,
    HashSet,
    SourceFingerprints,
    hash_strings,
    pairs,
    sorted_unique,
)
from sanitize.verify.integrity import IntegrityScan, alignment_columns, integer_ids, row_keys, safe_row_key
from sanitize.verify.nametokens import TextWords, fake_name_hashes, pair_hashes, text_tokens, words_per_cell
from sanitize.verify.reading import Batch, Readable, read_batches
from sanitize.verify.results import Check, Treatment, VerifyOptions, VerifyResult
from sanitize.verify.roles import Roles
from sanitize.verify.tokens import EXACT_KINDS, KINDS, CellFingerprints, fingerprint_cells

log = logging.getLogger("sanitize")

TEXT_KINDS = frozenset({"text", "json", "other"})
MARKER_TABLES = frozenset({"sanitize_environment"})
_FREE_TEXT_SAMPLE = 2000  # cells of a kept column that decide whether it is free text

Where = Callable[[np.ndarray], list[str]]  # batch positions -> row keys to report


@dataclass
class _Unchanged:
    """Per transformed column: values identical to the source row's, and identifiers among them."""

    nonnull: int = 0
    same: int = 0
    same_rows: list[str] = field(default_factory=list)
    struct: int = 0
    struct_rows: list[str] = field(default_factory=list)


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"


class TargetScan:
    """Scans target tables one at a time; leaks and checks go into `result`."""

    def __init__(
        self,
        target: Readable,
        treatments: Mapping[str, Mapping[str, Treatment]],
        key: SecretKey,
        options: VerifyOptions,
        fps: SourceFingerprints,
        aligned: Aligned,
        result: VerifyResult,
        constraints: Schema,
        roles: Roles,
    ) -> None:
        self.target, self.treatments, self.key, self.options = target, treatments, key, options
        self.fps, self.aligned, self.result, self.roles = fps, aligned, result, roles
        self.integrity = IntegrityScan(target.schema, constraints)
        self.reader = ColumnReader(options.dictionary)
        self._free_text: dict[str, bool] = {}  # kept column -> whether it reads as free text
        self._fake_names: HashSet | None = None
        self._warned: dict[tuple[str, str], tuple[int, set[str], str]] = {}  # reviewed keeps: rows, sources

    def _leak(self, table: str, column: str, kind: str, rows: list[str], count: int, detail: str) -> None:
        self.result.add_leak(table, column, kind, rows, count, detail, self.options.max_reported)

    def _where(self, batch: Batch, safe: list[str] | None, offset: int) -> Where:
        cap = self.options.max_reported

        def where(positions: np.ndarray) -> list[str]:
            shown = positions[:cap]
            if safe is None:
                return [f"row {offset + int(p) + 1}" for p in shown]
            return [", ".join(f"{c}={batch.value(c, int(p))}" for c in safe) for p in shown]

        return where

    def scan_table(self, tkey: str) -> None:
        table = self.target.schema[tkey]
        present = set(table.column_names)
        treatment = self.treatments.get(tkey, {})
        text_cols = [c.name for c in table.columns if c.kind in TEXT_KINDS]
        sensitive = [c for c in table.column_names if treatment.get(c, "keep") != "keep"]
        align = [c for c in alignment_columns(table, treatment) if c in present] if sensitive else []
        alignment = self.aligned.get(tkey)
        by_id = alignment is not None and alignment.by_id and align == [alignment.key_column]
        source_columns = self.integrity.rules(tkey).column_names  # salts use the source's column order
        safe = safe_row_key(table)
        scanned = [
            c
            for c in dict.fromkeys(text_cols + sensitive)
            if c in text_cols or (treatment.get(c) == "transform" and align)
        ]
        wanted = set(scanned) | set(align) | set(safe or ()) | set(self.integrity.begin_table(tkey))
        columns = [c for c in table.column_names if c in wanted] or list(table.column_names[:1])
        unchanged: dict[str, _Unchanged] = {}
        offset = 0
        progress, batch_size = self.options.progress, self.options.batch_size
        for batch in read_batches(self.target, tkey, batch_size, columns, progress, f"verify {tkey}"):
            rowkey = row_keys(batch, align) if align else None
            located = None
            if alignment is not None and align:
                located = alignment.locate(integer_ids(batch, align[0]) if by_id else None)
            where = self._where(batch, safe, offset)
            for c in scanned:
                transformed = treatment.get(c, "keep") == "transform"  # hashed only: encode when few distinct
                cells = self.reader.cells(f"{tkey}.{c}", batch.column(c), 0.1 if transformed else 1 / 3)
                if len(cells) == 0:
                    continue
                ci = source_columns.index(c) if c in source_columns else table.column_names.index(c)
                rk = rowkey[cells.rows] if rowkey is not None else None
                if transformed:
                    item_hash = hash_strings(cells.items, self.key)
                    same = None  # cells equal to the source row's own value (None: rows are not aligned)
                    if rk is not None:
                        same = np.zeros(len(cells), dtype=bool)
                        if alignment is not None:
                            h = cells.per_cell(item_hash)
                            same = alignment.unchanged(c, ci, cells.rows, rk, h, located)
                    totals = unchanged.setdefault(c, _Unchanged())
                    self._scan_transformed(tkey, c, cells, item_hash, c in text_cols, same, where, totals)
                else:
                    ref = alignment.sets.get(c, EMPTY) if alignment is not None else EMPTY
                    found = fingerprint_cells(cells, self.key, self.options.min_value_length)
                    self._scan_text(tkey, ci, c, treatment.get(c, "keep"), found, rk, ref, where)
                    if c in text_cols:
                        self._scan_names(tkey, c, treatment.get(c, "keep"), batch.column(c), where)
            self.integrity.add_batch(batch)
            offset += len(batch)
        self.result.rows[tkey] = offset
        self._report_unchanged(tkey, unchanged)
        if sensitive and not align:
            self.result.checks.append(
                Check(
                    "row alignment",
                    True,
                    "no kept column identifies a row: unchanged values were not checked row by row",
                    tkey,
                )
            )
        self.integrity.finish_table(tkey, self.result)

    def _report_unchanged(self, tkey: str, unchanged: dict[str, _Unchanged]) -> None:
        for c, u in unchanged.items():
            if u.nonnull and u.same / u.nonnull >= self.options.unchanged_ratio:
                self._leak(
                    tkey,
                    c,
                    "unchanged",
                    u.same_rows,
                    u.same,
                    f"unchanged in its row: {u.same} of {u.nonnull} values are identical to the source row's "
                    "value although the rules transform this column (is its rule missing, or a no-op?)",
                )
            elif u.struct:
                self._leak(
                    tkey,
                    c,
                    "unchanged",
                    u.struct_rows,
                    u.struct,
                    "unchanged in its row: an email, phone number, card number or IBAN identical to the "
                    "source row's value although the rules transform this column",
                )

    def _scan_transformed(
        self,
        tkey: str,
        col: str,
        cells: CellText,
        item_hash: np.ndarray,
        is_text: bool,
        same: np.ndarray | None,
        where: Where,
        totals: _Unchanged,
    ) -> None:
        """A column the rules transform: unchanged values (row by row) and source emails anywhere.

        `same`: which cells equal the source row's value (None: rows cannot be aligned).
        """
        cap = self.options.max_reported
        if same is not None:
            totals.nonnull += len(cells)
            totals.same += int(same.sum())
            if same.any():
                hit_cells = np.flatnonzero(same)
                if len(totals.same_rows) < cap:
                    totals.same_rows += where(cells.rows[hit_cells])
                # identical values that identify someone are leaks however few they are
                found = fingerprint_cells(cells.texts(hit_cells), self.key, self.options.min_value_length)
                struct = sorted_unique(np.concatenate([found.get(k)[0] for k in KINDS if k != "value"]))
                if len(struct):
                    totals.struct += len(struct)
                    if len(totals.struct_rows) < cap:
                        totals.struct_rows += where(cells.rows[hit_cells[struct]])
        if is_text:  # another row's email, card number or IBAN: a fake never equals a real one by chance
            for kind in EXACT_KINDS:
                origin = self.fps.lookup(kind, item_hash, exact=True)
                if not (origin >= 0).any():
                    continue
                origin = cells.per_cell(origin)
                found_at = np.flatnonzero(origin >= 0)
                srcs = sorted({self.fps.columns[i] for i in np.unique(origin[found_at])})
                self._leak(
                    tkey,
                    col,
                    kind,
                    where(cells.rows[found_at]),
                    len(found_at),
                    f"another row's source {kind} found (from {', '.join(srcs[:3])})",
                )

    def _scan_text(
        self,
        tkey: str,
        ci: int,
        col: str,
        how: str,
        found: CellFingerprints,
        rk: np.ndarray | None,
        ref: HashSet,
        where: Where,
    ) -> None:
        kept = how == "keep"  # else partial: scrub/json, whose untouched parts stay as they were
        cells = found.cells
        for kind in KINDS:
            pos, h, is_token = found.get(kind)
            if len(pos) == 0 or (kind == "value" and not kept):
                continue
            hit = np.zeros(len(pos), dtype=bool)
            srcs: set[str] = set()
            if kept or kind in EXACT_KINDS:  # phones and plain values collide by chance
                origin = self.fps.lookup(kind, h)
                hit = origin >= 0
                srcs = {self.fps.columns[i] for i in np.unique(origin[hit])}
            if not kept and rk is not None and kind != "value":  # the same row still holds it
                entry, cell = cells.expand(pos, distinct=not is_token.any())
                same_row = ref.contains(pairs(rk[cell], h[entry], ci, kind))
                if (same_row & ~hit[entry]).any():
                    srcs.add(f"{tkey}.{col}, still in its own row")
                found_in = hit[entry] | same_row
                hit_cells = sorted_unique(cell[found_in])
                inside = bool(is_token[entry][found_in].all())
            else:
                hit_cells = cells.cells_of(pos[hit])
                inside = bool(is_token[hit].all())
            if len(hit_cells):
                how_found = "found in free text" if inside else "found whole"
                self._leak(
                    tkey,
                    col,
                    kind,
                    where(cells.rows[hit_cells]),
                    len(hit_cells),
                    f"source {kind} {how_found} (from {', '.join(sorted(srcs)[:3])})",
                )
            if kept and self.options.detect_patterns and kind in EXACT_KINDS:
                new = np.setdiff1d(cells.cells_of(pos[~hit]), hit_cells)
                if len(new):
                    check = " that passes its checksum" if kind != "email" else ""
                    self._leak(
                        tkey,
                        col,
                        f"{kind} pattern",
                        where(cells.rows[new]),
                        len(new),
                        f"a kept column holds {_article(kind)} {kind}{check}; transform the column "
                        "(fake, scrub or redact) or remove the value",
                    )

    def _scan_names(
        self, tkey: str, col: str, how: str, values: pa.ChunkedArray | pd.Series, where: Where
    ) -> None:
        """People's name tokens of the source (rare ones) inside a free-text column's capitalised words."""
        names = self.fps.by_kind.get("name")
        if names is None or len(names.hashes) == 0 or self._free_text.get(f"{tkey}.{col}") is False:
            return
        rows, text = raw_text(values)
        if how == "keep" and f"{tkey}.{col}" not in self._free_text:  # decided on the first cells
            words = words_per_cell(text[:_FREE_TEXT_SAMPLE])
            self._free_text[f"{tkey}.{col}"] = words >= self.options.free_text_words
        if self._free_text.get(f"{tkey}.{col}") is False:
            return
        found = text_tokens(text)
        if len(found.words) == 0:
            return
        h = hash_strings(found.words, self.key)
        origin = np.where(found.lookup, names.lookup(h), -1)
        if not (origin >= 0).any():
            return
        if how != "keep":  # a scrub writes fakes: a word of its pools equal to a real name is chance
            if self._fake_names is None:  # loaded on the first candidate only
                self._fake_names = fake_name_hashes(self.roles.locale, self.key)
            fake = self._fake_names.contains(h)
            origin[fake] = -1
            # a fake next to a real name may have replaced the given name only: the real one counts alone
            found.before = np.where((found.before >= 0) & fake[found.before], -1, found.before)
            found.after = np.where((found.after >= 0) & fake[found.after], -1, found.after)
        # a name joined to another is that person's only when the two are her given name and surname
        origin[~self._own_name(found, h, origin >= 0)] = -1
        hit = origin >= 0
        if not hit.any():
            return
        hit_cells = sorted_unique(found.cell[hit])
        srcs = sorted({self.fps.columns[i] for i in np.unique(origin[hit])})
        detail = f"a source person's name token found in free text (from {', '.join(srcs[:3])})"
        reason = self.roles.of(tkey, col).reason
        if reason is not None:  # a reviewed keep: a name alone is a warning
            n, seen, _ = self._warned.get((tkey, col), (0, set(), reason))
            self._warned[(tkey, col)] = (n + len(hit_cells), seen | set(srcs), reason)
            return
        self._leak(tkey, col, "name", where(rows[hit_cells]), len(hit_cells), detail)

    def _own_name(self, found: TextWords, h: np.ndarray, candidate: np.ndarray) -> np.ndarray:
        """Which candidate words name the source's person: alone ("Thanks, Okafor"), or joined to the
        given name or surname that person has ("Zoë Okafor"); "Steve Harris" names someone else."""
        own = candidate.copy()
        idx = np.flatnonzero(candidate & ((found.before >= 0) | (found.after >= 0)))
        matched = np.zeros(len(idx), dtype=bool)
        full_names = self.fps.by_kind.get("pair")
        if full_names is not None and len(full_names.hashes):
            for side in (found.before, found.after):
                j = side[idx]
                ok = j >= 0
                matched[ok] |= full_names.hashes.contains(pair_hashes(h[j[ok]], h[idx[ok]]))
        own[idx] = matched
        return own

    def finish(self) -> None:
        self.integrity.finish(self.result)
        for (tkey, col), (n, srcs, reason) in self._warned.items():
            self.result.warnings.append(
                f"{tkey}.{col}: {n} row(s) hold a name token of {', '.join(sorted(srcs)[:3])}; a name alone "
                f"does not fail a reviewed keep ({reason})"
            )
