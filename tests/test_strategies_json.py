"""The json strategy: path syntax, nested rules validated at load, fail-closed on bad documents."""

from __future__ import annotations

import copy
import json
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from sanitize.errors import BadInputError
from sanitize.keys import SecretKey
from sanitize.strategies import ColumnContext, get
from sanitize.strategies.apply import apply_strategy
from sanitize.strategies.json_paths import parse_path


def run(params: dict[str, Any], values: Any, key: SecretKey, domain: str = "events.payload") -> pd.Series:
    spec = get("json")
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return apply_strategy(series, spec, spec.validate_params(params), ColumnContext(key=key, domain=domain))


@pytest.mark.parametrize(
    "path,steps",
    [
        ("$.a.b", (("key", "a"), ("key", "b"))),
        ("$.items[*].email", (("key", "items"), ("all", None), ("key", "email"))),
        ("$.a[0]", (("key", "a"), ("index", 0))),
        ("$.m[*][*]", (("key", "m"), ("all", None), ("all", None))),  # nested arrays
        ("$.a.*", (("key", "a"), ("all", None))),
        ("$['odd key'].x", (("key", "odd key"), ("key", "x"))),
        ("$.a[-1]", (("key", "a"), ("index", -1))),
    ],
)
def test_when_a_path_is_parsed_then_its_steps_are_read(path: str, steps: tuple[Any, ...]) -> None:
    assert parse_path(path) == steps


@pytest.mark.parametrize("path", ["a.b", "$", "$.a[", "$.a..b", "$[x]"])
def test_when_a_path_is_malformed_then_it_is_refused(path: str) -> None:
    with pytest.raises(ValueError):
        parse_path(path)


@pytest.mark.parametrize(
    "paths,message",
    [
        ({"$.a": "hsh"}, r"unknown strategy 'hsh' \(did you mean 'hash'\?\)"),
        ({"$.a": {"strategy": "mask", "keep_lst": 3}}, r"paths.\$.a.keep_lst: Extra inputs"),
        ({"$.a": {"strategy": "fake"}}, r"paths.\$.a.kind: Field required"),
        ({"$.a": {"kind": "email"}}, "needs `strategy"),
        ({"user.email": "hash"}, "must start with"),
        ({"$.a": {"strategy": "date_shift", "entity": "x"}}, "reads other columns"),
        ({}, "paths is empty"),
    ],
)
def test_when_a_nested_rule_is_wrong_then_params_fail_at_load(paths: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        get("json").validate_params({"paths": paths})


def test_when_paths_match_then_only_those_values_change(key: SecretKey) -> None:
    doc = {
        "user": {"email": "alice@corp.com", "id": 5, "plan": "pro"},
        "items": [{"email": "bob@corp.com", "sku": "A1"}, {"email": None, "sku": "B2"}, {"sku": "C3"}],
        "matrix": [[1, 2], [3]],
    }
    params = {
        "paths": {
            "$.user.email": {"strategy": "fake", "kind": "email", "domain": "email"},
            "$.items[*].email": {"strategy": "fake", "kind": "email", "domain": "email"},
            "$.user.id": "hash",
            "$.matrix[*][*]": {"strategy": "redact", "value": 0},
        }
    }
    out = json.loads(run(params, [json.dumps(doc)], key).iloc[0])
    assert out["user"]["plan"] == "pro" and [i["sku"] for i in out["items"]] == ["A1", "B2", "C3"]
    assert out["user"]["email"].endswith(("@example.com", "@example.org", "@example.net"))
    assert (
        out["items"][1]["email"] is None and "email" not in out["items"][2]
    )  # null stays null, absent absent
    assert isinstance(out["user"]["id"], str) and out["user"]["id"] != "5"
    assert out["matrix"] == [["0", "0"], ["0"]] or out["matrix"] == [[0, 0], [0]]
    # the same domain gives the same pseudonym as a column rule would
    spec = get("fake")
    column = apply_strategy(
        pd.Series(["alice@corp.com"]),
        spec,
        spec.validate_params({"kind": "email"}),
        ColumnContext(key=key, domain="email"),
    )
    assert out["user"]["email"] == column.iloc[0]


def test_when_values_are_applied_per_path_then_each_batch_is_one_call(key: SecretKey) -> None:
    docs = [json.dumps({"u": {"e": f"user{i}@x.com"}}) for i in range(300)]
    whole = run({"paths": {"$.u.e": "hash"}}, docs, key)
    halves = pd.concat(
        [
            run({"paths": {"$.u.e": "hash"}}, docs[:100], key),
            run({"paths": {"$.u.e": "hash"}}, docs[100:], key),
        ]
    )
    assert whole.tolist() == halves.tolist()
    assert len({json.loads(d)["u"]["e"] for d in whole}) == 300


def test_when_a_document_is_not_json_then_it_becomes_json_null(key: SecretKey) -> None:
    out = run({"paths": {"$.a": "hash"}}, ['{"a": "x"}', "alice@corp.com {broken", "", None], key)
    assert out.iloc[1] == "null" and out.iloc[2] == "null"  # never copied
    assert pd.isna(out.iloc[3])  # SQL NULL stays NULL


def test_when_invalid_documents_must_stop_the_run_then_it_says_how_many(key: SecretKey) -> None:
    with pytest.raises(BadInputError, match="1 values are not valid JSON"):
        run({"paths": {"$.a": "hash"}, "invalid": "error"}, ['{"a": 1}', "{oops"], key)


def test_when_documents_are_objects_then_new_objects_come_out_and_inputs_are_untouched(
    key: SecretKey,
) -> None:
    docs = [{"a": "secret", "b": [1, 2]}, [{"a": "x"}]]
    before = copy.deepcopy(docs)
    out = run({"paths": {"$.a": "redact", "$[*].a": "redact"}}, pd.Series(docs, dtype=object), key)
    assert docs == before
    assert out.iloc[0] == {"a": "REDACTED", "b": [1, 2]}
    assert out.iloc[1] == [{"a": "REDACTED"}]
