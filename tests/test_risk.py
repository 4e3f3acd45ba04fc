"""Re-identification risk: k-anonymity, unique share and l-diversity against hand-computed figures."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sanitize.risk import measure, smallest_class, suggest_generalizations

# Four classes on (zip, sex), counted by hand:
#   ("100", F) x3, diagnoses flu, flu, cold   -> size 3, 2 distinct
#   ("100", M) x2, flu, flu                   -> size 2, 1 distinct
#   ("200", F) x1, cancer                     -> size 1 (unique), 1 distinct
#   ("200", NULL) x4, a, b, c, d              -> size 4, 4 distinct (NULL is a value of its own)
TABLE = pd.DataFrame(
    {
        "zip": ["100", "100", "100", "100", "100", "200", "200", "200", "200", "200"],
        "sex": ["F", "F", "F", "M", "M", "F", None, None, None, None],
        "diagnosis": ["flu", "flu", "cold", "flu", "flu", "cancer", "a", "b", "c", "d"],
    }
)


def test_when_a_table_is_measured_then_the_figures_match_the_hand_count() -> None:
    risk = measure([TABLE], "patients", ["zip", "sex"], ["diagnosis"])
    assert (risk.rows, risk.classes, risk.k) == (10, 4, 1)
    assert risk.unique_share == 0.1
    assert risk.l_diversity == {"diagnosis": 1}


def test_when_the_unique_row_is_removed_then_k_and_l_rise() -> None:
    risk = measure([TABLE[TABLE.diagnosis != "cancer"]], "patients", ["zip", "sex"], ["diagnosis"])
    assert (risk.classes, risk.k, risk.unique_share) == (3, 2, 0.0)
    assert risk.l_diversity == {"diagnosis": 1}  # the ("100", M) class still has only flu


def test_when_a_table_is_empty_then_k_is_zero() -> None:
    risk = measure([TABLE.iloc[:0]], "patients", ["zip"], ["diagnosis"])
    assert (risk.rows, risk.k, risk.l_diversity) == (0, 0, {"diagnosis": 0})


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", None]), st.integers(0, 3), st.sampled_from(["x", "y", "z"])
        ),
        min_size=1,
        max_size=60,
    ),
    cuts=st.lists(st.integers(0, 60), max_size=5),
)
def test_when_a_table_arrives_in_batches_then_the_figures_are_those_of_the_whole(
    rows: list[tuple[str | None, int, str]], cuts: list[int]
) -> None:
    frame = pd.DataFrame(rows, columns=["q1", "q2", "s"])
    bounds = sorted({0, len(frame), *(c for c in cuts if c < len(frame))})
    batches = [frame.iloc[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    assert measure(batches, "t", ["q1", "q2"], ["s"]) == measure([frame], "t", ["q1", "q2"], ["s"])
    # and the same as a plain pandas group-by
    sizes = frame.fillna({"q1": "<null>"}).groupby(["q1", "q2"]).size()
    assert measure([frame], "t", ["q1", "q2"]).k == int(sizes.min())


def test_when_generalizations_are_suggested_then_they_reach_the_wanted_k() -> None:
    days = [dt.date(1980, 1, 1) + dt.timedelta(days=5 * i) for i in range(120)]
    frame = pd.DataFrame(
        {
            "postcode": [f"{10115 + (i * 7) % 40:05d}" for i in range(120)],
            "birth_date": pd.Series(days, dtype=object),
            "age": [20 + (i * 13) % 50 for i in range(120)],
        }
    )
    assert smallest_class(frame, ["postcode", "birth_date"]) == 1
    steps, k = suggest_generalizations(
        frame, ["postcode", "birth_date"], want_k=5, kinds={"postcode": "text", "birth_date": "date"}
    )
    assert k >= 5 and steps and steps[-1].k == k
    assert {s.rule["strategy"] for s in steps} == {"generalize"}
    assert all(a.k <= b.k for a, b in zip(steps, steps[1:], strict=False))  # every step helps or holds
