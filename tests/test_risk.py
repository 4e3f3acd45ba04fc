"""Re-identification risk: k-anonymity, unique share and l-diversity against hand-computed figures."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanitize.errors import RiskError, RulesError
from sanitize.keys import SecretKey
from sanitize.pipeline import anonymize
from sanitize.risk import measure, smallest_class, suggest_generalizations

from .conftest import TEST_KEY

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


# --- through the pipeline ------------------------------------------------------------------------


def _patients(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE patients (id INTEGER PRIMARY KEY, zip TEXT, born TEXT, sex TEXT, diagnosis TEXT)"
    )
    rows = [
        (
            i,
            f"{10110 + i % 6}",
            f"19{60 + i % 30}-0{1 + i % 9}-1{i % 10}",
            "FM"[i % 2],
            ["flu", "cold", "asthma"][(i // 30) % 3],
        )
        for i in range(300)
    ]
    con.executemany("INSERT INTO patients VALUES (?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return path


RISK_RULES = """version: 1
risk: {{min_k: 5}}
tables:
  patients:
    quasi_identifiers: [zip, born, sex]
    sensitive: [diagnosis]
    columns:
      id: keep
      zip: {zip}
      born: {born}
      sex: keep
      diagnosis: keep
"""


def test_when_released_rows_fall_below_min_k_then_nothing_is_published_and_rules_are_suggested(
    tmp_path: Path, key: SecretKey
) -> None:
    prod = _patients(tmp_path / "prod.db")
    rules = tmp_path / "r.yaml"
    rules.write_text(RISK_RULES.format(zip="keep", born="keep"))
    dev = tmp_path / "dev.db"
    with pytest.raises(RiskError) as err:
        anonymize(rules, str(prod), str(dev), key=key)
    assert not dev.exists()  # nothing published
    text = str(err.value)
    assert "patients: k = 3 on (zip, born, sex), the rules ask min_k 5" in text
    assert "suggested: patients.born: {strategy: generalize, keep_first:" in text


def test_when_generalised_rows_reach_min_k_then_the_report_holds_the_figures(
    tmp_path: Path, key: SecretKey
) -> None:
    prod = _patients(tmp_path / "prod.db")
    rules = tmp_path / "r.yaml"
    rules.write_text(
        RISK_RULES.format(
            zip="{strategy: generalize, keep_first: 4}", born="{strategy: generalize, unit: year}"
        )
    )
    report = anonymize(rules, str(prod), str(tmp_path / "dev.db"), key=key)
    (fig,) = report.risk
    # by hand: row i has zip i%6, born (year i%30, month i%9, day i%10), sex i%2 -> the source repeats every
    # 90 rows (classes of 4 and 3: k 3), diagnosis (i//30)%3 is fixed within each (l 1). The target keeps
    # zip '1011' (one value) and the year; sex follows the year's parity: 30 classes of 10 rows, each with
    # i = year + 30j, j = 0..9, so 3 diagnoses.
    assert (fig["source"]["k"], fig["source"]["classes"], fig["source"]["l_diversity"]) == (
        3,
        90,
        {"diagnosis": 1},
    )
    assert fig["target"] == {
        "table": "patients",
        "quasi_identifiers": ["zip", "born", "sex"],
        "rows": 300,
        "classes": 30,
        "k": 10,
        "unique_share": 0.0,
        "l_diversity": {"diagnosis": 3},
    }
    assert {"name": "re-identification risk", "ok": True}.items() <= next(
        c for c in report.checks if c["name"] == "re-identification risk"
    ).items()


def test_when_rules_name_a_missing_quasi_identifier_then_it_is_refused_before_reading(
    tmp_path: Path, key: SecretKey
) -> None:
    prod = _patients(tmp_path / "prod.db")
    rules = tmp_path / "r.yaml"
    rules.write_text(
        RISK_RULES.format(zip="keep", born="keep").replace("[zip, born, sex]", "[zip, birthdate]")
    )
    with pytest.raises(
        RulesError, match="tables.patients.quasi_identifiers: patients has no column 'birthdate'"
    ):
        anonymize(rules, str(prod), str(tmp_path / "dev.db"), key=key)


def test_when_verify_risk_finds_a_target_below_min_k_then_it_exits_1_naming_the_table(
    tmp_path: Path, key: SecretKey
) -> None:
    prod = _patients(tmp_path / "prod.db")
    keep = tmp_path / "keep.yaml"
    keep.write_text(RISK_RULES.format(zip="keep", born="keep").replace("risk: {min_k: 5}\n", ""))
    anonymize(keep, str(prod), str(tmp_path / "dev.db"), key=key)
    gate = tmp_path / "gate.yaml"
    gate.write_text(RISK_RULES.format(zip="keep", born="keep"))
    env = dict(os.environ, SANITIZE_KEY=TEST_KEY)
    args = [sys.executable, "-m", "sanitize.cli", "verify", "--rules"]
    run = subprocess.run(
        [*args, str(gate), "--risk", str(prod), str(tmp_path / "dev.db")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 1, run.stderr
    assert "the target's rows are easier to re-identify" in run.stderr
    assert "patients: k = 3 on (zip, born, sex), the rules ask min_k 5" in run.stderr
    assert "nothing was published" not in run.stderr + run.stdout
    ok = subprocess.run(
        [*args, str(keep), "--risk", "--json", str(prod), str(tmp_path / "dev.db")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert ok.returncode == 0, ok.stderr
    (fig,) = json.loads(ok.stdout)["risk"]
    assert (fig["source"]["k"], fig["target"]["k"], fig["target"]["classes"]) == (3, 3, 90)


def test_when_scan_drafts_rules_then_it_suggests_the_quasi_identifiers_and_they_work(
    tmp_path: Path, key: SecretKey
) -> None:
    prod = _patients(tmp_path / "prod.db")
    con = sqlite3.connect(prod)
    con.execute("ALTER TABLE patients ADD COLUMN gender TEXT")
    con.execute("UPDATE patients SET gender = sex")
    con.commit()
    con.close()
    env = dict(os.environ, SANITIZE_KEY=TEST_KEY)
    draft = tmp_path / "draft.yaml"
    run = subprocess.run(
        [sys.executable, "-m", "sanitize.cli", "scan", str(prod), "--out", str(draft)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    text = draft.read_text()
    line = next(x for x in text.splitlines() if "# quasi_identifiers:" in x)
    assert "zip" in line and "gender" in line and "sex" in line
    # uncommented, the suggestion is a valid rule that every run measures
    draft.write_text(text.replace("# quasi_identifiers:", "quasi_identifiers:"))
    report = anonymize(draft, str(prod), str(tmp_path / "dev.db"), key=key)
    assert report.risk and report.risk[0]["source"]["quasi_identifiers"][0] == "zip"
