"""A presidio RecognizerResult from a (start, end, score) found by one of sanitize's recognizers."""

from __future__ import annotations

from typing import Any, cast

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult


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
