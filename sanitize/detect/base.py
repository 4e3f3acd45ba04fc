"""What sanitize's own recognizers share: a presidio result from a (start, end, score), and a base class
for recognizers that find spans with a `find(text)` method."""

from __future__ import annotations

from typing import Any, cast

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts


def recognizer_result(
    rec: EntityRecognizer, entity: str, start: int, end: int, score: float, why: str
) -> RecognizerResult:
    """The result presidio's AnalyzerEngine expects, with the recognizer named in its metadata."""
    name = str(cast(Any, rec).name)
    explanation = AnalysisExplanation(recognizer=name, original_score=score, textual_explanation=why)
    return RecognizerResult(
        entity_type=entity,
        start=start,
        end=end,
        score=score,
        analysis_explanation=explanation,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: rec.id,
        },
    )


class FindRecognizer(LocalRecognizer):
    """A recognizer of one ENTITY whose `find(text)` gives (start, end, score) spans; nothing to load.

    Subclasses set ENTITY, NAME (presidio's recognizer name) and WHY (the explanation of a result)."""

    ENTITY = ""
    NAME = ""
    WHY = ""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=[self.ENTITY], supported_language=supported_language, name=self.NAME
        )

    def load(self) -> None:
        return None

    def find(self, text: str) -> list[tuple[int, int, float]]:
        raise NotImplementedError

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        return [recognizer_result(self, self.ENTITY, s, e, sc, self.WHY) for s, e, sc in self.find(text)]
