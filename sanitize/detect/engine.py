"""An offline presidio analyzer, and a vectorised detector on top of it.

`build_analyzer()` never downloads anything: by default it runs presidio's `no_op` NLP engine (no
model, no tokens) with pattern/checksum recognizers and ours. A spaCy model is used only when the user
names one that is already installed (`spacy_model=` or the SANITIZE_SPACY_MODEL environment variable);
it then adds NER (PERSON, LOCATION, ORGANIZATION). A missing model is a ConfigError, never a download.

`Detector.find()` is the fast path every caller uses: for each recognizer, one vectorised regex over the
whole column (pyarrow, RE2) picks the candidate texts, and the recognizer runs on those only.
"""

from __future__ import annotations

import bisect
import logging
import os
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import regex
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, PatternRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine, NoOpNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    DeTaxIdRecognizer,
    EsNieRecognizer,
    EsNifRecognizer,
    ItFiscalCodeRecognizer,
    UkNinoRecognizer,
    UsSsnRecognizer,
)

from sanitize.detect.identifiers import IbanCodeRecognizer
from sanitize.detect.places import STREET_PREFILTER
from sanitize.detect.recognizers import (
    DEFAULT_NAME_LOCALES,
    FAST_RECOGNIZERS,
    OfflineEmailRecognizer,
    VersionAwareIpRecognizer,
    our_recognizers,
)
from sanitize.errors import ConfigError

log = logging.getLogger("sanitize")

SPACY_MODEL_ENV = "SANITIZE_SPACY_MODEL"
DEFAULT_LANGUAGE = "en"
DEFAULT_MIN_SCORE = 0.4

NAME_UPPER = "A-ZÀ-ÖØ-ÞĀ-ɏḀ-ỿΆ-ΏΑ-ΩЀ-Я"
NAME_LOWER = "a-zß-öø-ÿά-ώа-џ"

# One RE2 regex per recognizer: a text that does not match cannot hold that recognizer's entity.
# Recognizers without an entry (spaCy NER, user additions) run on every text.
PREFILTERS: dict[str, str] = {
    "EmailRecognizer": r"@",
    "PhoneNumberRecognizer": r"(?:\d[ \-.()/]{0,3}){6,}\d",
    "CreditCardRecognizer": r"(?:\d[ \-]?){12,18}\d",
    "IbanRecognizer": r"\b[A-Z]{2}\d{2} ?[A-Z0-9]{4}",
    "IpRecognizer": r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}",
    "UsSsnRecognizer": r"\d{3}[ \-.]\d{2}[ \-.]\d{4}",
    "UkNinoRecognizer": r"(?i)[a-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[a-d]",
    "DeTaxIdRecognizer": r"\b[1-9]\d{10}\b",
    "EsNifRecognizer": r"\d{8}-?[A-Za-z]",
    "EsNieRecognizer": r"[XYZxyz]-?\d{7}-?[A-Za-z]",
    "ItFiscalCodeRecognizer": r"(?i)[a-z]{6}[\dlmnp-v]{2}[a-z][\dlmnp-v]{2}[a-z][\dlmnp-v]{3}[a-z]",
    # a capitalised word (Latin, Greek or Cyrillic; explicit ranges: RE2's \p{..} tables cost ~3 ms to
    # compile per call): every name rule, context rules included ("Thanks, Zoë"), needs one
    "PersonNameRecognizer": f"[{NAME_UPPER}][{NAME_UPPER}{NAME_LOWER}]",
    "FrNirRecognizer": r"[12378] ?\d{2} ?\d{2} ?(?:\d{2}|2[ABab]) ?\d{3} ?\d{3} ?\d{2}",
    "NlBsnRecognizer": r"\b\d{4}\.?\d{2}\.?\d{3}\b|\d{3}\.\d{3}\.\d{3}",
    "StreetAddressRecognizer": STREET_PREFILTER,
    "PostcodeRecognizer": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|[A-Z]\d[A-Z] ?\d[A-Z]\d",
}

LONG_TEXT = 20_000  # characters: longer texts are read in pieces (Detector.find)
CHUNK = 16_000
OVERLAP = 256
PIECES_PER_CALL = 64  # pieces read per call (about 1 MB), with progress after each

NER_ENTITIES = ("PERSON", "LOCATION", "ORGANIZATION")


@dataclass(frozen=True)
class Span:
    """One piece of PII found in one text of a batch."""

    row: int  # position of the text in the batch
    start: int
    end: int
    entity: str  # presidio entity type: EMAIL_ADDRESS, PERSON, ...
    score: float
    recognizer: str


def presidio_recognizers(language: str = DEFAULT_LANGUAGE) -> list[EntityRecognizer]:
    """presidio's pattern/checksum recognizers sanitize uses, all enabled for one language code.

    Identifiers do not depend on the language of the text around them, so the Spanish, Italian and
    German recognizers run under the same code as the rest.
    """
    return [
        OfflineEmailRecognizer(language),
        CreditCardRecognizer(supported_language=language),
        IbanCodeRecognizer(language),
        VersionAwareIpRecognizer(language),
        UsSsnRecognizer(supported_language=language),
        UkNinoRecognizer(supported_language=language),
        DeTaxIdRecognizer(supported_language=language),
        EsNifRecognizer(supported_language=language),
        EsNieRecognizer(supported_language=language),
        ItFiscalCodeRecognizer(supported_language=language),
    ]


def spacy_model_from_env() -> str | None:
    return os.environ.get(SPACY_MODEL_ENV) or None


def _spacy_engine(model: str, language: str) -> NlpEngine:
    import spacy
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    if not (spacy.util.is_package(model) or Path(model).exists()):
        raise ConfigError(
            f"spaCy model {model!r} (from spacy_model or {SPACY_MODEL_ENV}) is not installed; sanitize never "
            "downloads models. Install one you trust (see README: PII detection), pass its package name or "
            f"path, or unset {SPACY_MODEL_ENV} to use the model-free detector"
        )
    ignore = [
        "CARDINAL",
        "DATE",
        "TIME",
        "MONEY",
        "PERCENT",
        "QUANTITY",
        "ORDINAL",
        "EVENT",
        "LAW",
        "LANGUAGE",
        "PRODUCT",
        "WORK_OF_ART",
        "NORP",
        "NRP",
    ]
    config = NerModelConfiguration(labels_to_ignore=ignore)
    models = [{"lang_code": language, "model_name": model}]
    return SpacyNlpEngine(models=models, ner_model_configuration=config)


def build_analyzer(
    spacy_model: str | None = None,
    language: str = DEFAULT_LANGUAGE,
    name_locales: tuple[str, ...] = DEFAULT_NAME_LOCALES,
) -> AnalyzerEngine:
    """A presidio AnalyzerEngine that never downloads a model.

    `spacy_model` (or SANITIZE_SPACY_MODEL) names an installed spaCy package or a model directory;
    without one, presidio's no-op NLP engine is used and detection is pattern, checksum and name-list
    based.
    """
    model = spacy_model or spacy_model_from_env()
    registry = RecognizerRegistry(supported_languages=[language])
    for rec in presidio_recognizers(language) + our_recognizers(language, name_locales):
        registry.add_recognizer(rec)
    nlp_engine: NlpEngine
    if model:
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        nlp_engine = _spacy_engine(model, language)
        ner = SpacyRecognizer(supported_language=language, supported_entities=list(NER_ENTITIES))
        registry.add_recognizer(ner)
        log.info("PII detection uses spaCy model %s", model)
    else:
        nlp_engine = NoOpNlpEngine(models=[{"lang_code": language, "model_name": "none"}])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[language])


Hit = tuple[int, int, float, str]  # start, end, score, entity
Runner = Callable[[str, list[str], "NlpArtifacts | None"], list[Hit]]


def _runner(rec: EntityRecognizer) -> Runner:
    """How the detector calls one recognizer: its fast path where it has one.

    Plain pattern recognizers are matched here with presidio's semantics (pattern score; a validation
    result of True lifts it to 1.0, False drops the match; an invalidation drops it) but without the
    per-match explanation objects and timing that make presidio's own loop ~10x slower.
    """
    if isinstance(rec, FAST_RECOGNIZERS):
        entity = rec.supported_entities[0]
        find = rec.find  # type: ignore[attr-defined]
        return lambda text, _e, _a: [(s, e, sc, entity) for s, e, sc in find(text)]
    if (
        isinstance(rec, PatternRecognizer)
        and type(rec).analyze is PatternRecognizer.analyze
        and not rec.deny_list
        and len(rec.supported_entities) == 1
    ):
        flags = rec.global_regex_flags or 0
        compiled = [(regex.compile(p.regex, flags=flags), float(p.score)) for p in cast(Any, rec).patterns]
        validate, invalidate, entity = rec.validate_result, rec.invalidate_result, rec.supported_entities[0]

        def run(text: str, _e: list[str], _a: NlpArtifacts | None) -> list[Hit]:
            out: list[Hit] = []
            for rx, base in compiled:
                for m in rx.finditer(text):
                    start, end = m.span()
                    if start == end:
                        continue
                    found = text[start:end]
                    valid = validate(found)
                    score = base if valid is None else (1.0 if valid else 0.0)
                    if score > 0 and not invalidate(found):
                        out.append((start, end, score, entity))
            return out

        return run

    def slow(text: str, ents: list[str], artifacts: NlpArtifacts | None) -> list[Hit]:
        results = rec.analyze(text, ents, artifacts)  # type: ignore[arg-type]
        return [(r.start, r.end, float(r.score), r.entity_type) for r in results]

    return slow


def _as_arrow(texts: Sequence[str] | pd.Series | pa.Array) -> pa.Array:
    if isinstance(texts, pa.ChunkedArray):
        return texts.combine_chunks()
    if isinstance(texts, pa.Array):
        return texts
    if isinstance(texts, pd.Series):
        arr = pa.array(texts.astype("str"), from_pandas=True)
        return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return pa.array(list(texts), type=pa.large_string())


class Detector:
    """Finds PII spans in many texts at once, calling each recognizer only on its candidate texts."""

    def __init__(self, analyzer: AnalyzerEngine, min_score: float = DEFAULT_MIN_SCORE) -> None:
        self.analyzer = analyzer
        self.min_score = min_score
        self.language = analyzer.supported_languages[0]
        self.recognizers: list[EntityRecognizer] = analyzer.registry.get_recognizers(
            language=self.language, all_fields=True
        )
        for rec in self.recognizers:
            if not rec.is_loaded:
                rec.load()
                rec.is_loaded = True
        self._runners = {id(rec): _runner(rec) for rec in self.recognizers}
        self._needs_nlp = not isinstance(analyzer.nlp_engine, NoOpNlpEngine)
        self._nlp_lock = threading.Lock()

    @property
    def entities(self) -> list[str]:
        return sorted({e for r in self.recognizers for e in r.supported_entities})

    def find(
        self,
        texts: Sequence[str] | pd.Series | pa.Array,
        entities: Collection[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Span]:
        """Every span scoring at least `min_score`, non-overlapping within a text, ordered by row.

        Texts longer than LONG_TEXT characters are read in pieces of about CHUNK characters cut at a
        line, sentence or word break, each seen with OVERLAP characters of its neighbours, so the work
        per text is linear in its length; `progress(characters done, characters in all)` is called
        after each group of pieces of such texts."""
        arr = _as_arrow(texts)
        if len(arr) == 0:
            return []
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            arr = pc.cast(arr, pa.large_string())
        lengths = np.asarray(pc.utf8_length(arr).fill_null(0).to_numpy(zero_copy_only=False))
        long_rows = np.flatnonzero(lengths > LONG_TEXT)
        if len(long_rows) == 0:
            return self._find(arr, entities)
        short_rows = np.flatnonzero(lengths <= LONG_TEXT)
        out = [
            replace(s, row=int(short_rows[s.row]))
            for s in self._find(arr.take(pa.array(short_rows)), entities)
        ]
        total, done = int(lengths[long_rows].sum()), 0
        for r in long_rows.tolist():
            text = arr[r].as_py()
            pieces = chunks(text)
            found: list[Span] = []
            for g in range(0, len(pieces), PIECES_PER_CALL):
                group = pieces[g : g + PIECES_PER_CALL]
                spans = self._find([text[a:b] for _, _, a, b in group], entities)
                for s in spans:
                    core_start, core_end, a, _ = group[s.row]
                    if core_start <= a + s.start < core_end:
                        found.append(replace(s, row=r, start=a + s.start, end=a + s.end))
                done += group[-1][1] - group[0][0]
                if progress is not None:
                    progress(done, total)
            out.extend(resolve_overlaps(found))
        return sorted(out, key=lambda s: (s.row, s.start))

    def _find(self, arr: Sequence[str] | pa.Array, entities: Collection[str] | None) -> list[Span]:
        arr = _as_arrow(arr)
        n = len(arr)
        if n == 0:
            return []
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            arr = pc.cast(arr, pa.large_string())
        wanted = set(entities) if entities is not None else None
        plan: list[tuple[EntityRecognizer, np.ndarray | None]] = []
        for rec in self.recognizers:
            if wanted is not None and not set(rec.supported_entities) & wanted:
                continue
            pattern = PREFILTERS.get(str(cast(Any, rec).name))
            if pattern is None:
                plan.append((rec, None))
                continue
            hit = pc.match_substring_regex(arr, pattern).fill_null(False)
            hit_rows = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
            if len(hit_rows):
                plan.append((rec, hit_rows))
        if not plan:
            return []
        needs_all = any(rows is None for _, rows in plan)
        cand: np.ndarray
        if needs_all:
            cand = np.arange(n)
        else:
            cand = np.unique(np.concatenate([rows for _, rows in plan if rows is not None]))
        texts_py: list[str] = arr.take(pa.array(cand)).to_pylist()
        pos = {int(r): i for i, r in enumerate(cand)}
        artifacts: list[NlpArtifacts | None] = [None] * len(cand)
        if needs_all and self._needs_nlp:
            with self._nlp_lock:  # spaCy pipelines are not documented as safe to share between threads
                artifacts = [a for _, a in self.analyzer.nlp_engine.process_batch(texts_py, self.language)]
        found: dict[int, list[Span]] = {}
        min_score = self.min_score
        for rec, rows in plan:
            ents = [e for e in rec.supported_entities if wanted is None or e in wanted]
            rec_name = str(cast(Any, rec).name)
            run = self._runners[id(rec)]
            for r in (cand if rows is None else rows).tolist():
                i = pos[r]
                text = texts_py[i]
                if not text:
                    continue
                for start, end, score, entity in run(text, ents, artifacts[i]):
                    if score >= min_score and end > start and (wanted is None or entity in wanted):
                        found.setdefault(r, []).append(Span(r, start, end, entity, score, rec_name))
        out: list[Span] = []
        for r in sorted(found):
            out.extend(resolve_overlaps(found[r]))
        return out

    def analyze_text(self, text: str) -> list[Span]:
        """The spans of one text (convenience for notebooks and tests)."""
        return self.find([text])


def chunks(text: str, size: int = CHUNK, overlap: int = OVERLAP) -> list[tuple[int, int, int, int]]:
    """(core start, core end, read start, read end) of each piece of a long text: cores tile the text,
    cut at a line break, else a sentence end, else a space in the last tenth of `size`; each piece is
    read with `overlap` characters of its neighbours so spans across a cut are seen whole."""
    out = []
    start, n = 0, len(text)
    while start < n:
        end = min(n, start + size)
        if end < n:
            low = end - size // 10
            for sep in ("\n", ". ", " "):
                cut = text.rfind(sep, low, end)
                if cut > start:
                    end = cut + len(sep)
                    break
        out.append((start, end, max(0, start - overlap), min(n, end + overlap)))
        start = end
    return out


def resolve_overlaps(spans: list[Span]) -> list[Span]:
    """One span per stretch of text: a span inside a longer one gives way to it (a name inside a street
    address, digits inside an IBAN); where spans only overlap, the higher score, then the longer wins.
    O(n log n): a text of a megabyte can hold thousands of spans."""
    if len(spans) > 1:
        ordered = sorted(spans, key=lambda s: (s.start, -s.end))
        kept_outer: list[Span] = []
        max_end = -1
        i = 0
        while i < len(ordered):  # spans of one extent are neighbours in this order
            j = i
            extent = (ordered[i].start, ordered[i].end)
            while j < len(ordered) and (ordered[j].start, ordered[j].end) == extent:
                j += 1
            if max_end < ordered[i].end:  # no earlier (hence longer) span holds this extent
                kept_outer.extend(ordered[i:j])
            max_end = max(max_end, ordered[i].end)
            i = j
        spans = kept_outer
    by_rank = sorted(spans, key=lambda s: (-s.score, -(s.end - s.start), s.start))
    starts: list[int] = []
    kept: list[Span] = []  # sorted by start, never overlapping
    for s in by_rank:
        k = bisect.bisect_left(starts, s.start)
        if (k > 0 and kept[k - 1].end > s.start) or (k < len(kept) and kept[k].start < s.end):
            continue
        starts.insert(k, s.start)
        kept.insert(k, s)
    return kept


@lru_cache(maxsize=4)
def _cached_detector(spacy_model: str | None, language: str, min_score: float) -> Detector:
    return Detector(build_analyzer(spacy_model, language), min_score)


def get_detector(
    spacy_model: str | None = None, language: str = DEFAULT_LANGUAGE, min_score: float = DEFAULT_MIN_SCORE
) -> Detector:
    """A shared detector (built once per model/language/threshold; building takes ~0.5 s)."""
    return _cached_detector(spacy_model or spacy_model_from_env(), language, min_score)
