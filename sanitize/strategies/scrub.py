"""The `scrub` strategy: find PII inside free text and replace each piece with a fake of its kind.

Spans are found by the same detector `sanitize scan` uses (presidio pattern/checksum recognizers,
Faker name lists, optional spaCy NER). Each span is replaced through the `fake` strategy, with the
domain the entity maps to, so an e-mail inside a ticket body becomes the very address that
`{strategy: fake, kind: email, domain: email}` gives it in `customers.email`. Identifiers without a
fake kind (national IDs) keep their shape: each digit becomes a keyed digit, each letter a keyed
letter. Text outside the spans is unchanged. Deterministic per (key, entity domain, value), so batch
boundaries and row order do not matter.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import Field, field_validator

from sanitize.keys import canonical_text, hash64, mix
from sanitize.strategies.apply import apply_strategy
from sanitize.strategies.registry import ColumnContext, Params, StrategySpec, get, register
from sanitize.strategies.vector import where

if TYPE_CHECKING:
    from sanitize.detect.engine import Span
    from sanitize.detect.known import KnownNames

# entity -> fake kind; entities missing here (national IDs) keep their shape with keyed characters
DEFAULT_KINDS: dict[str, str] = {
    "EMAIL_ADDRESS": "email",
    "PERSON": "name",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "credit_card",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ipv4",  # ipv6 for addresses with ':'
    "US_SSN": "ssn",
    "STREET_ADDRESS": "street",
    "POSTCODE": "postcode",
    "LOCATION": "city",
}
# entity -> pseudonym domain: the same names the drafted column rules use
DEFAULT_DOMAINS: dict[str, str] = {
    "EMAIL_ADDRESS": "email",
    "PERSON": "person",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "credit_card",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ip",
    "US_SSN": "ssn",
    "STREET_ADDRESS": "address",
    "POSTCODE": "postcode",
    "LOCATION": "city",
    "UK_NINO": "national_id",
    "DE_TAX_ID": "national_id",
    "ES_NIF": "national_id",
    "ES_NIE": "national_id",
    "IT_FISCAL_CODE": "national_id",
    "FR_NIR": "national_id",
    "NL_BSN": "national_id",
}
NOT_SCRUBBED_BY_DEFAULT = frozenset({"ORGANIZATION"})


class ScrubParams(Params):
    entities: list[str] | None = Field(
        default=None,
        description="Entity types to replace (e.g. [EMAIL_ADDRESS, PERSON]); default: every type the "
        "detector finds except ORGANIZATION.",
    )
    domains: dict[str, str] = Field(
        default_factory=dict,
        description="Entity -> pseudonym domain, over the defaults (EMAIL_ADDRESS: email, PERSON: person, "
        "PHONE_NUMBER: phone, ...); use the domain of the column rule whose pseudonyms should match.",
    )
    kinds: dict[str, str] = Field(
        default_factory=dict,
        description="Entity -> fake kind, over the defaults (EMAIL_ADDRESS: email, PERSON: name, ...).",
    )
    unique_entities: list[str] = Field(
        default_factory=list,
        description="Entities whose fakes are made as with unique: true, to match column rules of the same "
        "domain that say unique: true (a unique e-mail fake carries a keyed token).",
    )
    min_score: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        description="Detector confidence needed to replace; the default also takes phone-shaped digit runs.",
    )
    spacy_model: str | None = Field(
        default=None,
        description="An installed spaCy model (package name or path) adding NER; default: "
        "SANITIZE_SPACY_MODEL, else none (no download ever happens).",
    )

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, v: dict[str, str]) -> dict[str, str]:
        from sanitize.strategies.fake import FakeParams

        for kind in v.values():
            FakeParams(kind=kind)  # raises with the closest kind named
        return v


def _targets(params: ScrubParams) -> tuple[dict[str, str], dict[str, str]]:
    return {**DEFAULT_KINDS, **params.kinds}, {**DEFAULT_DOMAINS, **params.domains}


def _shape_keep(spans: list[str], key: Any, domain: str) -> list[str]:
    """Each digit -> a keyed digit, each ASCII letter -> a keyed letter of the same case; the rest kept."""
    if not spans:
        return []
    h = hash64(np.array(spans, dtype=object), key, domain, "scrub:shape")
    out = []
    for text, base in zip(spans, h.tolist(), strict=True):
        stream = mix(np.full(len(text), base, dtype=np.uint64), 0) ^ np.arange(len(text), dtype=np.uint64)
        stream = mix(stream, 1).tolist()
        chars = []
        for c, r in zip(text, stream, strict=True):
            if c.isdigit():
                chars.append(chr(48 + r % 10))
            elif "a" <= c <= "z":
                chars.append(chr(97 + r % 26))
            elif "A" <= c <= "Z":
                chars.append(chr(65 + r % 26))
            else:
                chars.append(c)
        out.append("".join(chars))
    return out


def _with_known_people(spans: list[Span], text: np.ndarray, known: KnownNames) -> list[Span]:
    """The detector's spans plus the source's own people found in the texts (detect/known.py)."""
    from sanitize.detect.engine import Span, resolve_overlaps

    extra: dict[int, list[Span]] = {}
    for row, found in enumerate(known.find(text.tolist())):
        if found:
            extra[row] = [Span(row, s, e, "PERSON", score, "KnownNamesRecognizer") for s, e, score in found]
    if not extra:
        return spans
    by_row: dict[int, list[Span]] = defaultdict(list)
    for s in spans:
        by_row[s.row].append(s)
    out: list[Span] = []
    for row in sorted(set(by_row) | set(extra)):
        mine = by_row.get(row, [])
        out.extend(resolve_overlaps(mine + extra[row]) if row in extra else mine)
    return out


def _scrub(values: pd.Series, params: ScrubParams, ctx: ColumnContext) -> pd.Series:
    from sanitize.detect.engine import get_detector

    text = canonical_text(values)  # object ndarray of str
    out = pd.Series(text, index=values.index, dtype="str")
    if len(text) == 0:
        return out
    detector = get_detector(params.spacy_model, min_score=params.min_score)
    wanted = params.entities
    if wanted is None:
        wanted = [e for e in detector.entities if e not in NOT_SCRUBBED_BY_DEFAULT]
    report = None
    if ctx.progress is not None:  # long texts are read in pieces: say how far
        label = f"{where(ctx)}: scrub (characters)"

        def report(done: int, total: int) -> None:
            ctx.progress(label, done, total)

    spans = detector.find(pa.array(text, type=pa.large_string()), entities=wanted, progress=report)
    if ctx.known is not None and "PERSON" in wanted:
        spans = _with_known_people(spans, text, ctx.known)
    if not spans:
        return out
    kinds, domains = _targets(params)
    pieces = [text[s.row][s.start : s.end] for s in spans]
    groups: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    entity_of: dict[tuple[str | None, str], bool] = {}
    for i, s in enumerate(spans):
        kind = kinds.get(s.entity)
        if kind == "ipv4" and ":" in pieces[i]:
            kind = "ipv6"
        target = (kind, domains.get(s.entity, s.entity.lower()))
        groups[target].append(i)
        entity_of[target] = entity_of.get(target, False) or s.entity in params.unique_entities
    replaced: list[str] = [""] * len(spans)
    fake = get("fake")
    for (kind, domain), idx in groups.items():
        originals = [pieces[i] for i in idx]
        if kind is None:
            fakes = _shape_keep(originals, ctx.key, domain)
        else:
            sub_ctx = ctx.for_domain(domain, unique=entity_of[(kind, domain)])
            result = apply_strategy(
                pd.Series(originals, dtype="str"), fake, fake.validate_params({"kind": kind}), sub_ctx
            )
            fakes = [str(v) for v in result.tolist()]
        for i, f in zip(idx, fakes, strict=True):
            replaced[i] = f
    rows: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(spans):
        rows[s.row].append(i)
    new_text: list[str] = []
    positions = sorted(rows)
    for r in positions:
        src = text[r]
        parts, last = [], 0
        for i in sorted(rows[r], key=lambda j: spans[j].start):
            parts.append(src[last : spans[i].start])
            parts.append(replaced[i])
            last = spans[i].end
        parts.append(src[last:])
        new_text.append("".join(parts))
    out.iloc[positions] = new_text
    return out


SCRUB = register(
    StrategySpec(
        name="scrub",
        partial=True,
        thread_safe=True,
        description="Find PII inside free text (e-mails, phones, names, cards, IBANs, IDs, addresses) and "
        "replace each piece with a fake of its kind; pseudonyms match the column rules of the same domain.",
        fn=_scrub,
        params=ScrubParams,
        deterministic=True,
        key_safe=False,
        unique_safe=False,
        example="notes: scrub   # or {strategy: scrub, domains: {EMAIL_ADDRESS: customer_email}}",
    )
)

__all__ = ["DEFAULT_DOMAINS", "DEFAULT_KINDS", "SCRUB", "ScrubParams"]
