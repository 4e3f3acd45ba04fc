"""Classify columns: which PII each holds, how sure we are, and the evidence.

The core works on a DataFrame (plus, optionally, its `sanitize.schema.Table`), so notebooks and tests
need no database; `scan_source()` samples every table of a Source and calls it. Per column it combines:

- value detection: the sampled values (deduplicated) go through the vectorised `Detector`; a value
  counts as *wholly* an entity when one span covers it, and *contains* it otherwise;
- whole-value name lists: `Jane Doe`, `DOE, JANE`, a column of given names;
- the column's name (`names.py`) and type; free-text shape (words per value); JSON documents, scanned
  per path (`$.user.email`, `$.items[*].phone`).
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sanitize.detect.engine import Detector, get_detector
from sanitize.detect.names import (
    DATEISH,
    NameHint,
    is_free_text_name,
    is_personal_table,
    match_column_name,
    normalise,
)
from sanitize.detect.recognizers import PersonNameRecognizer
from sanitize.detect.results import ColumnScan, Evidence, SampleSource, ScanReport, TableScan
from sanitize.detect.shapes import (
    SHAPE_KINDS,
    SUPPORT_KINDS,
    mark_ids_built_from_row_names,
    shape_counts,
)
from sanitize.detect.typed import (
    as_text,
    birth_dates,
    geo_step,
    kind_of_dtype,
    last_json_key,
    sql_type_name,
    typed_hint,
    typed_values_confirm,
    walk_json,
)
from sanitize.schema import Column, Schema, Table

log = logging.getLogger("sanitize")

# presidio entity -> PII kind
ENTITY_KINDS: dict[str, str] = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "PERSON": "person",
    "CREDIT_CARD": "credit_card",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ip_address",
    "US_SSN": "ssn",
    "UK_NINO": "national_id",
    "DE_TAX_ID": "national_id",
    "ES_NIF": "national_id",
    "ES_NIE": "national_id",
    "IT_FISCAL_CODE": "national_id",
    "FR_NIR": "national_id",
    "NL_BSN": "national_id",
    "STREET_ADDRESS": "address",
    "POSTCODE": "postcode",
    "LOCATION": "address",
    **SHAPE_KINDS,
}
NAME_CLASSES = {"full_name": "person", "first_name": "first_name", "last_name": "last_name"}

# Decision thresholds (fractions of the sampled non-NULL values).
WHOLE_MIN = 0.5  # a structured column: at least half the values are wholly one entity
AGREE_MIN = 0.2  # values that back up what the column name says
NAMES_MIN = 0.5  # a column of full names
SINGLE_NAMES_MIN = 0.6  # a column of given names or surnames ...
SINGLE_NAMES_DISTINCT = 10  # ... with this many different names (fewer in small samples: a quarter)
TEXT_PII_MIN = 0.05  # free text: share of values with PII in them
SHORT_PII_MIN = 0.2  # short texts ("call 415-555-0123"): share of values with an exact identifier inside
# entities that identify someone exactly wherever they appear, even in two-word texts
EXACT_ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "UK_NINO")
# name hints that mean people's own writing: scrubbed when the values are text, whatever they contain
WRITTEN_KINDS = ("free_text", "payload")
JSON_MIN = 0.8  # share of text values that parse as a JSON object/array

_DIGEST_NAME = re.compile(r"(?:^|_)(?:pass|passwd|pwd|crypt|crypted|hash|hashed|digest|secret|salt)(?:_|$)")
_DATE_VALUE = re.compile(
    r"^\s*\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\s*$"
)


# --- the classifier ---------------------------------------------------------------------------------


@dataclass
class _Shape:
    """Shape of a column's sampled text values (weighted by how often each value occurs)."""

    mean_words: float = 0.0
    mean_len: float = 0.0
    with_pii: int = 0  # values with any PII span
    distinct: dict[str, int] = field(default_factory=dict)  # name class -> distinct values of it


class ColumnClassifier:
    """Classifies one column's sampled values; holds the detector and the name lists."""

    def __init__(self, detector: Detector | None = None) -> None:
        self.detector = detector or get_detector()
        names = [r for r in self.detector.recognizers if isinstance(r, PersonNameRecognizer)]
        self.names = names[0] if names else PersonNameRecognizer()

    def classify(
        self,
        values: pd.Series,
        column: str,
        table: str = "",
        col_kind: str | None = None,
        *,
        personal: bool = False,
        sql_type: str = "",
        nullable: bool = True,
        _depth: int = 0,
    ) -> ColumnScan:
        """One column's classification. `personal`: the table's rows are about people (see
        `names.is_personal_table`); `sql_type`: the column's type as its engine names it (`inet`,
        `text[]`), which decides what a name can mean when there are no values to look at."""
        kind_of = col_kind or kind_of_dtype(values)
        hint = match_column_name(
            column, kind_of if kind_of != "json" else "text", table or None, personal=personal
        )
        hint = typed_hint(hint, kind_of, sql_type)
        nonnull = values[values.notna()]
        ev = Evidence(sampled=len(nonnull), name_pattern=hint.pattern if hint else None)
        scan = ColumnScan(table, column, None, 0.0, ev, type=kind_of, nullable=nullable)
        if sql_type.endswith("]") or sql_type == "array":
            scan.detail["container"] = "array"
        if kind_of in ("boolean", "uuid", "time", "binary", "float", "decimal") or kind_of in DATEISH:
            if hint is not None:
                scan.kind, scan.confidence = hint.kind, hint.strength
                scan.confirmed = typed_values_confirm(hint.kind, nonnull, scan)
            elif kind_of == "date":
                birth_dates(nonnull, scan)
            return scan
        if len(nonnull) == 0:
            if hint is not None:
                scan.kind, scan.confidence = hint.kind, hint.strength
                if kind_of == "json" and hint.kind not in ("json", "payload", "free_text"):
                    scan.detail["container"] = "json"
            return scan
        if _depth == 0 and scan.detail.get("container") == "array":
            return self._classify_array(nonnull, scan, hint, personal)
        if _depth == 0 and (kind_of == "json" or self._looks_json(nonnull)):
            return self._classify_json(nonnull, scan, hint)
        text = as_text(nonnull)
        digests = personal and _DIGEST_NAME.search(normalise(column)) is not None
        shape = self._fill_evidence(text, ev, hint, digests)
        self._decide(scan, text, hint, shape)
        if scan.kind == "date_of_birth" and not scan.confirmed:  # ISO dates in a text column
            scan.confirmed = typed_values_confirm(scan.kind, nonnull, scan)
        if digests and scan.kind is None and ev.whole.get("HEX_DIGEST", 0) / max(1, ev.sampled) >= WHOLE_MIN:
            scan.kind, scan.confidence, scan.confirmed = "secret", 0.7, True
        if scan.kind == "geo":
            scan.detail["step"] = f"{geo_step(text):g}"
        return scan

    # -- evidence ---------------------------------------------------------------------------------

    def _fill_evidence(
        self, text: pd.Series, ev: Evidence, hint: NameHint | None = None, digests: bool = False
    ) -> _Shape:
        counts = text.value_counts(sort=False)
        uniq = pd.Series(counts.index.astype("str"), dtype="str")
        weight = counts.to_numpy(dtype=np.int64)
        is_date = uniq.str.match(_DATE_VALUE.pattern).fillna(False).to_numpy(bool)
        lengths = uniq.str.strip().str.len().to_numpy()
        whole: Counter[str] = Counter()
        inside: Counter[str] = Counter()
        candidates = uniq[~is_date]
        spans = self.detector.find(candidates.reset_index(drop=True)) if len(candidates) else []
        rows = np.flatnonzero(~is_date)
        seen_inside: set[tuple[int, str]] = set()
        for sp in spans:
            r = int(rows[sp.row])
            if (r, sp.entity) in seen_inside:
                continue
            seen_inside.add((r, sp.entity))
            if sp.end - sp.start >= 0.85 * lengths[r]:
                whole[sp.entity] += int(weight[r])
            else:
                inside[sp.entity] += int(weight[r])
        shape = _Shape()
        classes = self.names.classify_values(uniq)
        for cls in ("full_name", "first_name", "last_name"):
            mask = (classes == cls).to_numpy(bool) & ~is_date
            if mask.any():
                whole[cls] += int(weight[mask].sum())
                shape.distinct[cls] = int(mask.sum())
        whole.update(
            shape_counts(
                uniq[~is_date].reset_index(drop=True),
                weight[~is_date],
                hint.kind if hint else None,
                digests=digests,
            )
        )
        ev.whole = dict(whole)
        ev.inside = {k: v + whole.get(k, 0) for k, v in inside.items()}
        words = uniq.str.count(r"\s+").to_numpy() + 1
        n = max(1, int(weight.sum()))
        shape.mean_words = float((words * weight).sum() / n)
        shape.mean_len = float((lengths * weight).sum() / n)
        shape.with_pii = self._rows_with_pii(spans, rows, weight)
        return shape

    @staticmethod
    def _rows_with_pii(spans: Iterable[Any], rows: np.ndarray, weight: np.ndarray) -> int:
        hit = {int(rows[sp.row]) for sp in spans}
        return int(sum(int(weight[r]) for r in hit))

    def _decide(self, scan: ColumnScan, text: pd.Series, hint: NameHint | None, shape: _Shape) -> None:
        ev = scan.evidence
        n = max(1, ev.sampled)
        hint_kind = hint.kind if hint else None
        free_text = shape.mean_words >= 6 or (shape.mean_len >= 50 and shape.mean_words >= 4)

        def agree(conf: float) -> float:
            return min(0.99, conf + 0.15) if hint_kind == scan.kind else conf

        scan.confirmed = True  # until step 6: the values back up what the column is said to be
        # 1. a structured column: most values are wholly one entity
        entity_whole = {e: c for e, c in ev.whole.items() if e in ENTITY_KINDS}
        if entity_whole:
            best, count = max(entity_whole.items(), key=lambda kv: kv[1])
            if count / n >= WHOLE_MIN and not (free_text and ENTITY_KINDS[best] == "address"):
                scan.kind = ENTITY_KINDS[best]
                scan.confidence = agree(0.5 + 0.45 * count / n)
                self._details(scan, text)
                return
        texty = free_text or shape.mean_words >= 3  # sentences, not codes
        # 2. the name says X and enough values back it up
        if hint is not None:
            support = self._support(hint.kind, ev)
            if hint.kind in WRITTEN_KINDS and texty:  # `body` of a private message: people's writing
                scan.kind, scan.confidence = "free_text", min(0.95, hint.strength + 0.2)
                return
            if support / n >= AGREE_MIN and hint.kind not in WRITTEN_KINDS:
                scan.kind = hint.kind
                scan.confidence = min(0.99, hint.strength + 0.2 + 0.2 * support / n)
                self._details(scan, text)
                return
        # 3. short texts that contain a street address
        if ev.inside.get("STREET_ADDRESS", 0) / n >= WHOLE_MIN and shape.mean_words <= 16:
            scan.kind = "address"
            scan.confidence = agree(0.5 + 0.4 * ev.inside["STREET_ADDRESS"] / n)
            return
        # 4. a column of names
        full = ev.whole.get("full_name", 0) + ev.whole.get("PERSON", 0)
        if full / n >= NAMES_MIN:
            scan.kind, scan.confidence = "person", agree(0.5 + 0.45 * full / n)
            return
        for cls in ("first_name", "last_name"):
            if hint_kind not in (None, "person", "first_name", "last_name"):
                break  # a `city` of towns that are also surnames is a city
            count = ev.whole.get(cls, 0)
            need = min(SINGLE_NAMES_DISTINCT, max(3, n // 4))
            if count / n >= SINGLE_NAMES_MIN and shape.distinct.get(cls, 0) >= need:
                scan.kind, scan.confidence = cls, agree(0.4 + 0.5 * count / n)
                return
        # 5. free text, or values mixing several kinds of PII: scrub
        pii_share = shape.with_pii / n
        mixed = sum(c for e, c in ev.whole.items() if e in ENTITY_KINDS) / n
        exact = max(ev.inside.get(e, 0) for e in EXACT_ENTITIES) / n  # "call 415-555-0123"
        if (
            mixed >= WHOLE_MIN
            or (texty and pii_share >= TEXT_PII_MIN and shape.with_pii >= min(2, n))
            or (texty and shape.with_pii and is_free_text_name(scan.column))
            or (exact >= SHORT_PII_MIN and shape.with_pii >= min(2, n))
        ):
            scan.kind = "free_text"
            scan.confidence = min(0.95, 0.6 + pii_share)
            return
        scan.confirmed = False
        # 6. the name alone
        if hint is not None:
            scan.kind = "free_text" if hint.kind == "payload" else hint.kind
            scan.confidence = hint.strength
            scan.evidence.notes.append("values do not confirm it")
            return
        if free_text:
            scan.evidence.notes.append(
                "free text" + (" named like notes/comments" if is_free_text_name(scan.column) else "")
            )

    @staticmethod
    def _support(kind: str, ev: Evidence) -> int:
        entities = [e for e, k in ENTITY_KINDS.items() if k == kind]
        count = sum(ev.inside.get(e, 0) for e in entities)
        count += sum(ev.whole.get(e, 0) for e, k in {**SHAPE_KINDS, **SUPPORT_KINDS}.items() if k == kind)
        if kind in ("person", "first_name", "last_name"):
            count += sum(ev.whole.get(c, 0) for c in ("full_name", "first_name", "last_name"))
            count += ev.inside.get("PERSON", 0) if kind != "person" else 0
        return count

    def _details(self, scan: ColumnScan, text: pd.Series) -> None:
        if scan.kind == "ip_address":
            v6 = text.str.contains(":", regex=False).mean()
            scan.detail["ip_version"] = "6" if v6 > 0.5 else "4"

    # -- JSON -------------------------------------------------------------------------------------

    @staticmethod
    def _looks_json(nonnull: pd.Series) -> bool:
        first = nonnull.iloc[0]
        if isinstance(first, dict | list):
            return True
        if not isinstance(first, str):
            return False
        head = as_text(nonnull.iloc[:200]).str.lstrip().str[:1]
        return bool(head.isin(["{", "["]).mean() >= JSON_MIN)

    def _classify_array(
        self, nonnull: pd.Series, scan: ColumnScan, hint: NameHint | None, personal: bool
    ) -> ColumnScan:
        """An array column (`varchar[]`): its elements are classified together; PII among them makes the
        column that kind (drafted as removed: a scalar fake would not load into an array)."""
        items = [x for v in nonnull for x in array_items(v) if x is not None and x != ""]
        scan.evidence.notes.append(f"{len(items)} array elements in {len(nonnull)} values")
        if items:
            sub = self.classify(
                pd.Series(items, dtype=object), scan.column, scan.table, personal=personal, _depth=1
            )
            if sub.kind is not None:
                scan.kind, scan.confidence, scan.confirmed = sub.kind, sub.confidence, sub.confirmed
                scan.evidence.sampled = sub.evidence.sampled  # counts below are of elements
                scan.evidence.whole.update(sub.evidence.whole)
                scan.evidence.inside.update(sub.evidence.inside)
                return scan
        if hint is not None and not items:
            scan.kind, scan.confidence = hint.kind, hint.strength
        return scan

    def _classify_json(self, nonnull: pd.Series, scan: ColumnScan, hint: NameHint | None) -> ColumnScan:
        leaves: dict[str, list[Any]] = defaultdict(list)
        parsed = 0
        for v in nonnull:
            doc = v
            if isinstance(v, str | bytes):
                try:
                    doc = json.loads(v)
                except ValueError:
                    continue
            parsed += 1
            for path, leaf in walk_json(doc, "$"):
                leaves[path].append(leaf)
        scan.type = "json"
        scan.evidence.notes.append(f"{parsed}/{len(nonnull)} values are JSON documents")
        for path, vals in sorted(leaves.items()):
            key = last_json_key(path)
            sub = self.classify(pd.Series(vals, dtype=object), key, scan.table, None, _depth=1)
            if sub.kind is not None:
                sub.column = path
                scan.json_paths[path] = sub
        if scan.json_paths:
            scan.kind, scan.confirmed = "json", True
            scan.confidence = max(c.confidence for c in scan.json_paths.values())
            scan.evidence.notes.append("PII at " + ", ".join(scan.json_paths))
        elif hint is not None and hint.kind in WRITTEN_KINDS:  # a webhook's payload: scrub it whole
            scan.kind, scan.confidence = "free_text", hint.strength
            scan.evidence.notes.append("no PII path found in the sample; a payload may carry any")
        return scan


def array_items(value: Any) -> list[Any]:
    """The elements of an array value: a list or numpy array as read through Arrow, or PostgreSQL's text
    form `{a,"b c",NULL}` (one level; quotes and backslash escapes honoured)."""
    if isinstance(value, list | tuple | np.ndarray):
        return list(value)
    if not isinstance(value, str) or not (value.startswith("{") and value.endswith("}")):
        return [value]
    body = value[1:-1]
    if not body:
        return []
    reader = csv.reader([body], delimiter=",", quotechar='"', escapechar="\\")
    return [None if x == "NULL" else x for x in next(reader)]


# --- tables and sources -------------------------------------------------------------------------------


def _fk_parents(table: Table) -> dict[str, str]:
    out: dict[str, str] = {}
    for fk in table.foreign_keys:
        for col, ref in zip(fk.columns, fk.ref_columns, strict=False):
            out[col] = f"{fk.ref_table}.{ref}"
    return out


def scan_frame(
    frame: pd.DataFrame,
    table: Table | str = "",
    *,
    detector: Detector | None = None,
    classifier: ColumnClassifier | None = None,
    personal: bool | None = None,
) -> TableScan:
    """Classify every column of a DataFrame (a sample of one table).

    With a `Table`, column types, foreign keys and uniqueness come from the schema; foreign-key
    columns are not classified (they inherit their parent's rule). `personal` overrides whether the
    table is about people (by default worked out from its name, columns and foreign keys).
    """
    clf = classifier or ColumnClassifier(detector)
    key = table.key if isinstance(table, Table) else str(table)
    parents = _fk_parents(table) if isinstance(table, Table) else {}
    names = list(table.column_names) if isinstance(table, Table) else [str(c) for c in frame.columns]
    refs = tuple(fk.ref_table for fk in table.foreign_keys) if isinstance(table, Table) else ()
    if personal is None:
        personal = is_personal_table(key, tuple(names), refs)
    out: list[ColumnScan] = []
    for name in names:
        col: Column | None = None
        if isinstance(table, Table):
            col = table.column(name)
        if name in parents:
            ev = Evidence(notes=[f"foreign key to {parents[name]}: inherits its rule"])
            out.append(
                ColumnScan(
                    key, name, None, 0.0, ev, type=col.kind if col else "text", foreign_key=parents[name]
                )
            )
            continue
        values = frame[name] if name in frame.columns else pd.Series([], dtype=object)
        res = clf.classify(
            values,
            name,
            key,
            col.kind if col is not None else None,
            personal=personal,
            sql_type=sql_type_name(col.sql_type) if col is not None else "",
            nullable=col.nullable if col is not None else True,
        )
        res.unique = table.is_unique(name) if isinstance(table, Table) else False
        if col is not None and col.generated is not None:
            expr = " ".join(col.generated.split())
            res.evidence.notes.append(
                f"generated from ({expr[:60]}{'...' if len(expr) > 60 else ''}): a target of the same "
                "engine computes it again from the sanitised columns"
            )
        out.append(res)
    mark_ids_built_from_row_names(frame, out)
    return TableScan(key, len(frame), out)


def scan_frames(
    frames: dict[str, pd.DataFrame], schema: Schema | None = None, *, detector: Detector | None = None
) -> ScanReport:
    """Classify several tables' samples (table key -> DataFrame)."""
    clf = ColumnClassifier(detector)
    tables = []
    for key in sorted(frames):
        table: Table | str = schema[key] if schema is not None and key in schema else key
        tables.append(scan_frame(frames[key], table, classifier=clf))
    return ScanReport(tables)


def scan_source(
    source: SampleSource,
    sample: int = 1000,
    *,
    tables: Iterable[str] | None = None,
    detector: Detector | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> ScanReport:
    """Sample each table of a source (spread over the table, deterministic) and classify every column;
    `progress("scan", tables done, tables in all)` before the first table and after each."""
    clf = ColumnClassifier(detector)
    schema = source.schema
    wanted = list(tables) if tables is not None else sorted(schema.tables)
    out = []
    if progress is not None:
        progress("scan", 0, len(wanted))
    for done, key in enumerate(wanted, start=1):
        table = schema[key]
        frame = source.sample(key, sample)
        log.info("scanned %s: %d rows sampled", key, len(frame))
        out.append(scan_frame(frame, table, classifier=clf))
        if progress is not None:
            progress("scan", done, len(wanted))
    return ScanReport(out, sample=sample, dialect=schema.dialect)


def scan_database(
    spec: str,
    sample: int = 1000,
    *,
    config: str | None = None,
    tables: Iterable[str] | None = None,
    detector: Detector | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> ScanReport:
    """Open a database read-only (URL, SQLite file, dump, or environment name) and scan it."""
    from sanitize.config import load_config
    from sanitize.sources import open_source

    envs = load_config(config).environment_urls() if config is not None else None
    with open_source(spec, envs) as src:
        report = scan_source(src, sample, tables=tables, detector=detector, progress=progress)
        report.source = src.display
    return report


__all__ = [
    "ColumnClassifier",
    "ColumnScan",
    "Evidence",
    "SampleSource",
    "ScanReport",
    "TableScan",
    "scan_database",
    "scan_frame",
    "scan_frames",
    "scan_source",
]
