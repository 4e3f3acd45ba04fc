"""Rule files: loading, every problem reported at once with its place and fix, YAML round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sanitize.errors import RulesError
from sanitize.rules import ColumnRule, RulesFile, load_rules, parse_rules, schema_json_text

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "rules.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_when_rules_use_shorthand_and_mappings_then_both_load(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
version: 1
tables:
  customers:
    columns:
      id: keep
      ssn: nullify
      email: {strategy: fake, kind: email, unique: true, domain: email}
  audit_log: skip
""",
    )
    rules = load_rules(p)
    cols = rules.tables["customers"].columns  # type: ignore[union-attr]
    assert cols["id"].strategy == "keep"
    assert cols["ssn"].strategy == "nullify"
    assert cols["email"].unique is True and cols["email"].domain == "email"
    assert cols["email"].params.kind == "email"  # type: ignore[attr-defined]
    assert rules.is_skipped("audit_log")
    assert rules.unknown_columns == "fail" and rules.locale == "en_US"
    assert len(rules.digest) == 64


def test_when_a_file_has_many_problems_then_all_are_reported_at_once_with_lines(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """version: 1
unknown_colums: keep
tables:
  customers:
    colums: {}
  orders:
    columns:
      phone: mask_phone
      total: {strategy: noise, relative: "lots"}
      email: {strategy: fake, kind: email, colour: red}
      note: {strategy: redact, unique: true}
      x: {kind: email}
""",
    )
    with pytest.raises(RulesError) as info:
        load_rules(p)
    problems = info.value.problems
    text = str(info.value)
    # one entry per problem, each with file:line and dotted location
    expected = [
        (2, "unknown_colums", "did you mean 'unknown_columns'"),
        (5, "tables.customers.colums", "did you mean 'columns'"),
        (8, "tables.orders.columns.phone", "unknown strategy 'mask_phone' (did you mean 'mask'?)"),
        (9, "tables.orders.columns.total.relative", "lots"),
        (10, "tables.orders.columns.email.colour", "unknown parameter"),
        (11, "tables.orders.columns.note.unique", "cannot guarantee unique"),
        (12, "tables.orders.columns.x", "missing 'strategy'"),
    ]
    assert len(problems) == len(expected), text
    for line, loc, fragment in expected:
        assert any(f"{p}:{line}: {loc}" in pr and fragment in pr for pr in problems), (loc, text)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("version: 1\ntables: [\n", "invalid YAML"),  # broken syntax names the line
        ("- just\n- a list\n", "expected a mapping"),  # wrong top-level type
        ("version: 2\n", "version: expected 1"),  # wrong version
        ("version: 1\ntables:\n  t: keep\n", "expected 'skip' or a mapping"),  # table shorthand typo
        ("version: 1\ntables:\n  t: {columns: {a: 3}}\n", "expected a strategy name"),  # wrong rule type
    ],
)
def test_when_input_is_malformed_then_the_error_names_the_place(
    tmp_path: Path, text: str, fragment: str
) -> None:
    with pytest.raises(RulesError) as info:
        load_rules(write(tmp_path, text))
    assert fragment in str(info.value)
    assert "Traceback" not in str(info.value)


def test_when_the_file_is_missing_then_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="rules file not found"):
        load_rules(tmp_path / "nope.yaml")


def test_when_yaml_has_python_tags_then_it_is_refused_safely(tmp_path: Path) -> None:
    p = write(tmp_path, "version: 1\ntables: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(RulesError, match="invalid YAML"):
        load_rules(p)


def test_when_rules_are_written_to_yaml_then_they_load_back_equal(tmp_path: Path) -> None:
    rules = RulesFile.from_dict(
        {
            "version": 1,
            "locale": "de_DE",
            "tables": {
                "customers": {
                    "columns": {
                        "id": "keep",
                        "email": {"strategy": "fake", "kind": "email", "unique": True, "domain": "email"},
                        "phone": {"strategy": "mask", "keep_last": 2},
                    }
                },
                "audit": "skip",
            },
        }
    )
    path = tmp_path / "out.yaml"
    rules.to_yaml(path)
    again = load_rules(path)
    assert again.to_dict() == rules.to_dict()
    assert again.tables == rules.tables


def test_when_a_rule_is_added_in_code_then_the_copy_has_it_and_the_original_not() -> None:
    rules = RulesFile.from_dict({"version": 1, "tables": {"t": {"columns": {"a": "keep"}}}})
    changed = rules.with_rule("t", "b", ColumnRule.of("hash"))
    assert "b" in changed.tables["t"].columns  # type: ignore[union-attr]
    assert "b" not in rules.tables["t"].columns  # type: ignore[union-attr]


def test_when_the_committed_json_schema_is_compared_then_it_matches_the_models() -> None:
    committed = (REPO / "rules" / "schema.json").read_text(encoding="utf-8")
    assert committed == schema_json_text(), "rules/schema.json is stale: run `make schema`"
    schema = json.loads(committed)
    assert schema["additionalProperties"] is False


def test_when_every_bundled_rules_file_is_loaded_then_it_is_valid() -> None:
    for path in sorted((REPO / "rules").glob("*.yaml")):
        assert isinstance(load_rules(path), RulesFile), path


def test_when_parse_rules_gets_a_dict_then_errors_name_the_source() -> None:
    with pytest.raises(RulesError, match="notebook"):
        parse_rules({"version": 1, "tables": {"t": {"columns": {"a": "nope"}}}}, source="notebook")
