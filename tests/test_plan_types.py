"""Rules that do not fit their columns' types are all reported by the plan, before a row is read."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sanitize.db.sqlite import SqliteSource
from sanitize.errors import RulesError
from sanitize.keys import SecretKey
from sanitize.pipeline import anonymize, ner_models
from sanitize.plan import build_plan
from sanitize.rules import RulesFile
from sanitize.schema import Column, Schema, Table
from sanitize.sources import open_source

from .conftest import run_cli

# three column-type problems in two tables, and one rule that fits (redact 0 on an integer)
BAD_RULES = {
    "version": 1,
    "tables": {
        "people": {
            "columns": {
                "id": "keep",
                "name": "nullify",  # NOT NULL
                "age": {"strategy": "redact", "value": "old"},  # integer column
                "score": {"strategy": "redact", "value": 0},
            }
        },
        "visits": {"columns": {"id": "keep", "visits": {"strategy": "fake", "kind": "email"}}},  # integer
    },
}
EXPECTED = [
    ("people.name", "NOT NULL", "use redact"),
    ("people.age", "'old' is not a valid integer value", "give one with `value:`"),
    ("visits.visits", "kind 'email' makes text but the column is integer", "pick a kind that fits"),
]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    db = tmp_path / "source.db"
    con = sqlite3.connect(db)
    con.executescript(
        """
        CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER, score INTEGER);
        CREATE TABLE visits(id INTEGER PRIMARY KEY, visits INTEGER);
        INSERT INTO people VALUES (1, 'Ada Lovelace', 36, 7);
        INSERT INTO visits VALUES (1, 3);
        """
    )
    con.commit()
    con.close()
    return db


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every table a SQLite source reads rows (or counts rows) of."""
    seen: list[str] = []
    select, count = SqliteSource._select, SqliteSource.count

    def recording_select(self: SqliteSource, table: str, *a: Any) -> Iterator[Any]:
        seen.append(table)
        return select(self, table, *a)

    def recording_count(self: SqliteSource, table: str) -> int:
        seen.append(table)
        return count(self, table)

    monkeypatch.setattr(SqliteSource, "_select", recording_select)
    monkeypatch.setattr(SqliteSource, "count", recording_count)
    return seen


def assert_all_listed(text: str) -> None:
    for where, problem, fix in EXPECTED:
        line = next((ln for ln in text.splitlines() if where + ":" in ln), "")
        assert problem in line and fix in line, (where, text)


def test_when_rules_misfit_three_columns_in_two_tables_then_the_library_lists_all_before_reading_a_row(
    source: Path, tmp_path: Path, reads: list[str]
) -> None:
    target = tmp_path / "out.db"
    with pytest.raises(RulesError) as err:
        anonymize(RulesFile.from_dict(BAD_RULES), f"sqlite:///{source}", f"sqlite:///{target}")
    assert len(err.value.problems) == 3
    assert_all_listed(str(err.value))
    assert reads == []  # no row was read (nor counted)
    assert not target.exists()
    # the rules that do fit pass: the same source loads once the three are fixed
    fixed = yaml.safe_load(yaml.safe_dump(BAD_RULES))
    fixed["tables"]["people"]["columns"].update(name="redact", age={"strategy": "redact", "value": 0})
    fixed["tables"]["visits"]["columns"]["visits"] = {"strategy": "redact", "value": 1}
    anonymize(RulesFile.from_dict(fixed), f"sqlite:///{source}", f"sqlite:///{target}")
    assert sqlite3.connect(target).execute("SELECT name, age, score FROM people").fetchall() == [
        ("REDACTED", 0, 0)
    ]


def test_when_rules_misfit_three_columns_then_anonymize_exits_2_listing_all_and_writes_nothing(
    source: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(BAD_RULES))
    target = tmp_path / "out.db"
    res = run_cli("anonymize", "--rules", str(rules), str(source), str(target))
    assert res.returncode == 2, res.stderr
    assert "3 problem(s)" in res.stderr
    assert_all_listed(res.stderr)
    assert not target.exists()


@pytest.mark.parametrize(
    ("column", "rule", "expected"),
    [
        (Column("c", "text", nullable=False), "nullify", "t.c: strategy 'nullify': the column is NOT NULL"),
        (Column("c", "integer"), {"strategy": "redact", "value": "x"}, "'x' is not a valid integer"),
        (Column("c", "date"), {"strategy": "redact", "value": "soon"}, "'soon' is not a valid date"),
        (Column("c", "date"), {"strategy": "fake", "kind": "email"}, "makes text but the column is date"),
        (Column("c", "date"), {"strategy": "fpe"}, "it encrypts the digits of text or integers"),
        # a unique fake's keyed token cannot fit: known before any value arrives
        (
            Column("c", "text", max_length=10),
            {"strategy": "fake", "kind": "name", "unique": True},
            "unique: true needs 18 characters for its token but the column holds 10",
        ),
        (Column("c", "text"), {"strategy": "fake", "kind": "email"}, None),
        (Column("c", "integer"), {"strategy": "redact", "value": 0}, None),
        (Column("c", "text", nullable=False), "redact", None),
    ],
)
def test_when_a_rule_does_not_fit_its_column_type_then_build_plan_says_so_with_the_fix(
    column: Column, rule: Any, expected: str | None
) -> None:
    schema = Schema(
        {
            "t": Table(
                key="t",
                name="t",
                columns=(Column("id", "integer", nullable=False), column),
                primary_key=("id",),
            )
        }
    )
    rules = RulesFile.from_dict({"version": 1, "tables": {"t": {"columns": {"id": "keep", "c": rule}}}})
    if expected is None:
        assert build_plan(rules, schema).tables["t"].columns["c"].spec.transforms
        return
    with pytest.raises(RulesError) as err:
        build_plan(rules, schema)
    assert err.value.problems == [next(p for p in err.value.problems if expected in p)]


def test_when_a_run_is_given_its_key_then_the_report_records_its_fingerprint_and_the_ner_models(
    source: Path, tmp_path: Path, key: SecretKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SANITIZE_KEY")  # the key comes from the caller, not the environment
    monkeypatch.delenv("SANITIZE_SPACY_MODEL", raising=False)
    fine = {
        "version": 1,
        "tables": {
            "people": {"columns": {"id": "keep", "name": "redact", "age": "keep", "score": "keep"}},
            "visits": "skip",
        },
    }
    run = anonymize(
        RulesFile.from_dict(fine), f"sqlite:///{source}", f"sqlite:///{tmp_path / 'a.db'}", key=key
    )
    assert run.key_fingerprint == key.fingerprint and run.to_dict()["key_fingerprint"] == key.fingerprint
    assert run.ner_models == []  # no scrub rule, no model
    for model, expected in ((None, ["none"]), ("my_model", ["my_model"])):
        rule = {"strategy": "scrub"} if model is None else {"strategy": "scrub", "spacy_model": model}
        fine["tables"]["people"]["columns"]["name"] = rule  # type: ignore[index]
        with open_source(f"sqlite:///{source}") as src:
            assert ner_models(build_plan(RulesFile.from_dict(fine), src.schema, key)) == expected
