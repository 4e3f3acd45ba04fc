"""The offline analyzer: no model download, no network, optional spaCy from a user-named model."""

from __future__ import annotations

import socket
from pathlib import Path

import pandas as pd
import pytest

from sanitize.detect import engine as engine_mod
from sanitize.detect import recognizers as rec_mod
from sanitize.detect.engine import SPACY_MODEL_ENV, Detector, build_analyzer, get_detector
from sanitize.detect.scan import scan_frame
from sanitize.errors import ConfigError
from sanitize.keys import SecretKey
from sanitize.strategies import get
from sanitize.strategies.apply import apply_strategy
from sanitize.strategies.registry import ColumnContext

TEXT = "Jane Doe (jane.doe@example.org, +44 20 7946 0958) paid with 4111 1111 1111 1111 from 10.1.2.3"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any attempt to open a connection or resolve a name fails the test (and is recorded)."""
    attempts: list[str] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(repr(args[:2]))
        raise OSError("network access attempted during an offline run")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.delenv(SPACY_MODEL_ENV, raising=False)
    # start cold: no cached detector, suffix list or name lists from an earlier test
    engine_mod._cached_detector.cache_clear()
    rec_mod._offline_tld_extract.cache_clear()
    rec_mod._domain_has_public_suffix.cache_clear()
    return attempts


def test_when_no_spacy_model_is_configured_then_detection_scan_and_scrub_never_touch_the_network(
    no_network: list[str], key: SecretKey
) -> None:
    analyzer = build_analyzer()
    results = analyzer.analyze(TEXT, language="en")  # presidio's own entry point works offline
    assert {"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IP_ADDRESS", "PERSON"} <= {
        r.entity_type for r in results
    }
    det = get_detector()
    assert {s.entity for s in det.find([TEXT])} >= {"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD"}
    frame = pd.DataFrame({"contact": ["a.b@example.com", "c.d@example.net"], "notes": [TEXT, "fine"]})
    report = scan_frame(frame, "t")
    assert [c.kind for c in report.columns] == ["email", "free_text"]
    scrub = get("scrub")
    out = apply_strategy(pd.Series([TEXT]), scrub, scrub.validate_params({}), ColumnContext(key, "t.notes"))
    assert "jane.doe@example.org" not in out.iloc[0]
    assert no_network == []


def test_when_the_spacy_model_is_not_installed_then_a_config_error_names_it_and_nothing_is_downloaded(
    no_network: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SPACY_MODEL_ENV, "en_core_web_lg_not_installed")
    with pytest.raises(ConfigError, match="en_core_web_lg_not_installed.*never downloads"):
        build_analyzer()
    assert no_network == []


def test_when_an_installed_spacy_model_is_named_then_it_is_loaded_from_disk(
    no_network: list[str], tmp_path: Path
) -> None:
    spacy = pytest.importorskip("spacy")
    model = tmp_path / "blank_en"
    spacy.blank("en").to_disk(model)  # a pipeline without NER: exercises the wiring, not the model
    det = Detector(build_analyzer(spacy_model=str(model)))
    assert "SpacyRecognizer" in {type(r).__name__ for r in det.recognizers}
    spans = det.find(["Maria Garcia wrote to maria@example.com"])
    assert {s.entity for s in spans} == {"PERSON", "EMAIL_ADDRESS"}
    assert no_network == []


def test_when_spans_overlap_then_the_containing_span_wins_and_the_rest_by_score() -> None:
    det = get_detector()
    text = "Send it to 12 Maria Garcia Street please"  # a name inside a street address
    spans = det.find([text])
    found = [(s.entity, text[s.start : s.end]) for s in spans]
    assert found == [("STREET_ADDRESS", "12 Maria Garcia Street")]


def test_when_texts_hold_no_candidates_then_no_recognizer_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    det = get_detector()
    calls: list[str] = []
    for rec in det.recognizers:
        original = det._runners[id(rec)]

        def spy(text: str, ents: list[str], art: object, _o: object = original, _n: str = str(rec)) -> object:
            calls.append(_n)
            return _o(text, ents, art)  # type: ignore[operator]

        monkeypatch.setitem(det._runners, id(rec), spy)
    assert det.find(["all good here", "nothing to see", ""]) == []
    assert calls == []
