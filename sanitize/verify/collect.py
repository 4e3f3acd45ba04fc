"""Pass 1 of the leak check: the keyed fingerprints of everything sensitive in the source.

Reads only the columns a rule transforms (plus the kept columns that identify a row), batch by
batch; what it keeps grows with the source's sensitive values, never with the batch count (see the
package docstring for the bytes).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.keys import SecretKey
from sanitize.verify.alignment import TableAlignment
from sanitize.verify.cells import CellText, ColumnReader
from sanitize.verify.fingerprints import (
    FingerprintCollector,
    HashSet,
    OriginSet,
    Rarity,
    SourceFingerprints,
    hash_strings,
    pairs,
)
from sanitize.verify.integrity import alignment_columns, integer_ids, row_keys
from sanitize.verify.nametokens import edge_tokens, pair_hashes, source_tokens, within_cell_pairs
from sanitize.verify.reading import Readable, read_batches
from sanitize.verify.results import Treatment, VerifyOptions
from sanitize.verify.roles import ColumnRole, Roles
from sanitize.verify.tokens import EXACT_KINDS, KINDS, fingerprint_cells

# "name": people's name tokens, searched inside free text; "pair": a given name and surname together;
# "place": words of the source's cities, states and countries (a surname that is also a place is no evidence)
SOURCE_KINDS = (*KINDS, "name", "pair", "place")
PLACE_KINDS = frozenset({"city", "state", "country"})

log = logging.getLogger("sanitize")

Aligned = dict[str, TableAlignment]  # table -> its row-aligned source values


def collect_fingerprints(
    source: Readable,
    treatments: Mapping[str, Mapping[str, Treatment]],
    key: SecretKey,
    options: VerifyOptions,
    roles: Roles,
) -> tuple[SourceFingerprints, Aligned]:
    """Fingerprints of the source's sensitive columns by kind, and its row-aligned values per table.

    Whole generic values only from identifying columns (`roles`); name tokens from person columns.
    """
    collector = FingerprintCollector()
    reader = ColumnReader(options.dictionary)
    aligned: Aligned = {}
    for tkey, treatment in treatments.items():
        if tkey not in source.schema:
            continue
        table = source.schema[tkey]
        sensitive = [c for c in table.column_names if treatment.get(c, "keep") != "keep"]
        if not sensitive:
            continue
        align = alignment_columns(table, treatment)
        by_id = len(align) == 1 and table.column(align[0]).kind == "integer"
        rows = aligned[tkey] = TableAlignment(align[0] if by_id else None)
        ids = {c: collector.column_id(f"{tkey}.{c}") for c in sensitive}
        wanted = list(dict.fromkeys(sensitive + align))
        label = f"fingerprints {tkey}"
        for batch in read_batches(source, tkey, options.batch_size, wanted, options.progress, label):
            rowkey = row_keys(batch, align) if align else None
            edges: dict[str, np.ndarray] = {}  # person column -> its first/last name token per row
            rows.add_batch(integer_ids(batch, align[0]) if by_id else None)
            for c in sensitive:
                cells = reader.cells(f"{tkey}.{c}", batch.column(c))
                if len(cells) == 0:
                    continue
                role = roles.of(tkey, c)
                collector.count_cells(ids[c], len(cells))
                shortest = options.min_value_length
                if treatment[c] == "partial":
                    shortest = max(shortest, options.min_text_value_length)
                found = fingerprint_cells(cells, key, shortest)
                rk = rowkey[cells.rows] if rowkey is not None else None
                ci = table.column_names.index(c)
                if role.person:
                    edges[c] = _add_name_tokens(collector, ids[c], cells, role, key, len(batch))
                elif role.kind in PLACE_KINDS:
                    collector.add("place", ids[c], hash_strings(source_tokens(cells.items)[1], key), None)
                if rk is not None and treatment[c] == "transform":
                    rows.add_cells(c, ci, cells.rows, rk, cells.per_cell(found.cell))
                for kind in KINDS:
                    pos, h, tok = found.get(kind)
                    if len(h) == 0 or (kind == "value" and not role.identifying):
                        continue
                    counts = cells.cell_counts() if kind == "value" else None  # how many cells hold each
                    weights = counts[pos] if counts is not None else None
                    collector.add(kind, ids[c], h, weights)
                    if kind in EXACT_KINDS and (~tok).any():
                        collector.add(kind, ids[c], found.cell[pos[~tok]], None, exact=True)
                    if rk is not None and kind != "value" and treatment[c] == "partial":  # what scan looks up
                        entry, cell = cells.expand(pos, distinct=not tok.any())
                        rows.add_pairs(c, pairs(rk[cell], h[entry], ci, kind))
            _add_full_names(collector, ids, edges, roles, tkey)
        rows.finish()
    fps = collector.build(SOURCE_KINDS, EXACT_KINDS, Rarity(options.common_rows, options.common_share))
    places = fps.by_kind.pop("place")
    names = fps.by_kind["name"]
    if len(places.hashes) and len(names.hashes):  # "Houston" the surname and Houston the city
        person = ~places.hashes.contains(names.hashes.h)
        fps.by_kind["name"] = OriginSet(HashSet(names.hashes.h[person]), names.origin[person])
    log.info(
        "verify: source fingerprints %s (%.1f MB)",
        {k: len(v.hashes) for k, v in fps.by_kind.items()},
        (fps.nbytes + sum(t.nbytes for t in aligned.values())) / 2**20,
    )
    return fps, aligned


def _add_name_tokens(
    collector: FingerprintCollector, column: int, cells: CellText, role: ColumnRole, key: SecretKey, n: int
) -> np.ndarray:
    """A person column's name tokens (each counted once per cell that holds it) and the pairs of
    consecutive tokens within a value; returns each batch row's first (surname columns) or last token
    (given-name columns) for pairing across columns (0: none)."""
    item, tokens = source_tokens(cells.items, email=role.kind == "email")
    if len(tokens) == 0:
        return np.zeros(n, dtype=np.uint64)
    counts = cells.cell_counts()
    h = hash_strings(tokens, key)
    alone = _identifies_alone(tokens, role.kind)
    weights = counts[item] if counts is not None else None
    collector.add("name", column, h[alone], weights[alone] if weights is not None else None)
    collector.add("pair", column, within_cell_pairs(item, h), None)
    per_item = edge_tokens(item, h, len(cells.items), last=role.kind == "first_name")
    per_row = np.zeros(n, dtype=np.uint64)
    per_row[cells.rows] = cells.per_cell(per_item)
    return per_row


def _identifies_alone(tokens: pa.Array, kind: str | None) -> np.ndarray:
    """Which name tokens are worth finding on their own in free text: a given name that is common
    somewhere in the world (Luís, Christian) names nobody alone — it is still found next to the
    person's surname (`pair`). Surnames, and tokens of surname columns, always are."""
    if kind == "last_name":
        return np.ones(len(tokens), dtype=bool)
    try:
        from sanitize.detect.name_data import world_names
    except ImportError:  # detection not installed in this build
        return np.ones(len(tokens), dtype=bool)
    names = world_names()
    given = np.asarray(pc.is_in(tokens, value_set=pa.array(list(names.given))), dtype=bool)
    if kind == "first_name":
        return ~given
    surname = np.asarray(pc.is_in(tokens, value_set=pa.array(list(names.surnames))), dtype=bool)
    return ~given | surname


def _add_full_names(
    collector: FingerprintCollector,
    ids: dict[str, int],
    edges: dict[str, np.ndarray],
    roles: Roles,
    table: str,
) -> None:
    """Pairs of a row's given name (last token) and surname (first token) held in separate columns."""
    given = [c for c in edges if roles.of(table, c).kind == "first_name"]
    for s in (c for c in edges if roles.of(table, c).kind == "last_name"):
        for g in given:
            both = (edges[g] != 0) & (edges[s] != 0)
            a, b = edges[g][both], edges[s][both]
            collector.add("pair", ids[s], np.concatenate([pair_hashes(a, b), pair_hashes(b, a)]), None)
