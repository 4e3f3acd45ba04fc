"""Pass 1 of the leak check: the keyed fingerprints of everything sensitive in the source.

Reads only the columns a rule transforms (plus the kept columns that identify a row), batch by
batch. Memory grows with the source, never with the batch count: 8 bytes per distinct sensitive value
(plus 4 for the column it came from, 8 more for generic values' counts while collecting) and, for
tables whose rows can be aligned, 8 bytes per sensitive source cell (row-aligned fingerprints).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from sanitize.keys import SecretKey
from sanitize.verify.fingerprints import (
    FingerprintCollector,
    HashSet,
    SourceFingerprints,
    pairs,
    sorted_unique,
)
from sanitize.verify.integrity import alignment_columns, row_keys
from sanitize.verify.reading import Readable, read_batches
from sanitize.verify.results import Treatment, VerifyOptions
from sanitize.verify.tokens import EXACT_KINDS, KINDS, ColumnReader, fingerprint_cells

log = logging.getLogger("sanitize")

Aligned = dict[str, dict[str, HashSet]]  # table -> column -> row-aligned fingerprints


def collect_fingerprints(
    source: Readable,
    treatments: Mapping[str, Mapping[str, Treatment]],
    key: SecretKey,
    options: VerifyOptions,
) -> tuple[SourceFingerprints, Aligned]:
    """Fingerprints of the source's sensitive columns by kind, and row-aligned ones per column."""
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
        ids = {c: collector.column_id(f"{tkey}.{c}") for c in sensitive}
        by_column: dict[str, list[np.ndarray]] = {c: [] for c in sensitive}
        wanted = list(dict.fromkeys(sensitive + align))
        for batch in read_batches(source, tkey, options.batch_size, wanted):
            rowkey = row_keys(batch, align) if align else None
            for c in sensitive:
                cells = reader.cells(f"{tkey}.{c}", batch.column(c))
                if len(cells) == 0:
                    continue
                found = fingerprint_cells(cells, key, options.min_value_length)
                rk = rowkey[cells.rows] if rowkey is not None else None
                ci = table.column_names.index(c)
                if rk is not None and treatment[c] == "transform":
                    by_column[c].append(pairs(rk, cells.per_cell(found.cell), ci, "cell"))
                counts = cells.cell_counts()
                for kind in KINDS:
                    pos, h, tok = found.get(kind)
                    if len(h) == 0:
                        continue
                    weights = counts[pos] if kind == "value" and counts is not None else None
                    collector.add(kind, ids[c], h, weights)
                    if kind in EXACT_KINDS and (~tok).any():
                        collector.add(kind, ids[c], found.cell[pos[~tok]], None, exact=True)
                    if rk is not None and kind != "value":
                        entry, cell = cells.expand(pos, distinct=not tok.any())
                        by_column[c].append(pairs(rk[cell], h[entry], ci, kind))
        for c, parts in by_column.items():
            if parts:
                aligned.setdefault(tkey, {})[c] = HashSet(sorted_unique(np.concatenate(parts)))
            parts.clear()
    fps = collector.build(KINDS, EXACT_KINDS, options.common_rows)
    log.info(
        "verify: source fingerprints %s (%.1f MB)",
        {k: len(v.hashes) for k, v in fps.by_kind.items()},
        (fps.nbytes + sum(s.nbytes for t in aligned.values() for s in t.values())) / 2**20,
    )
    return fps, aligned
