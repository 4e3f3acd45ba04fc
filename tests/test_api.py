"""The public Python API (`import sanitize`): each function, on real SQLite and on bare DataFrames."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sanitize
from sanitize.errors import BadInputError, CoverageError, RulesError, TargetRefusedError, UrlError
from sanitize.keys import SecretKey

# Customers and orders of the demo database, every column named; the other tables skipped.
RULES: dict[str, Any] = {
    "version": 1,
    "locale": "en_US",
    "unknown_columns": "fail",
    "tables": {
        "customers": {
            "columns": {
                "id": "hash",
                "email": {"strategy": "fake", "kind": "email", "unique": True, "domain": "email"},
                "full_name": {"strategy": "fake", "kind": "name", "domain": "person"},
                "phone": {"strategy": "mask", "keep_last": 4},
                "ssn": "nullify",
                # kept so the tests can compare it; check reports it as reviewed, not as kept PII
                "date_of_birth": {"strategy": "keep", "reason": "compared unchanged by these tests"},
                "city": {"strategy": "fake", "kind": "city"},
                "postcode": "hash",
                "notes": "redact",
                "country": "keep",
                "created_at": "keep",
            }
        },
        "orders": {
            "columns": {
                "id": "keep",
                "handled_by": "keep",
                "status": "keep",
                "total": "keep",
                "shipping_address": {"strategy": "fake", "kind": "address"},
                "ordered_at": "keep",
            }
        },
        "employees": "skip",
        "order_items": "skip",
        "support_tickets": "skip",
        "events": "skip",
        "page_views": "skip",
    },
}
TRANSFORMED = ["id", "email", "full_name", "phone", "ssn", "city", "postcode", "notes"]


@pytest.fixture(scope="module")
def prod_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sanitize.build_demo_database(tmp_path_factory.mktemp("api") / "prod.db")


@pytest.fixture
def rules() -> sanitize.Rules:
    return sanitize.Rules.from_dict(RULES)


@pytest.fixture
def customers(prod_db: Path) -> pd.DataFrame:
    with sanitize.connect(str(prod_db)) as db:
        return db.head("customers", 200)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the package surface -------------------------------------------------------------------------


def test_when_every_public_name_is_accessed_then_it_resolves_and_is_documented() -> None:
    for name in sanitize.__all__:
        obj = getattr(sanitize, name)
        if name != "__version__":
            assert (obj.__doc__ or "").strip(), f"sanitize.{name} has no docstring"
    assert set(sanitize.__all__) <= set(dir(sanitize))
    with pytest.raises(AttributeError):
        sanitize.no_such_name  # noqa: B018


def test_when_rules_alias_is_used_then_it_is_the_rules_file_model() -> None:
    from sanitize.rules import RulesFile

    assert sanitize.Rules is RulesFile
    assert sanitize.load_rules.__module__ == "sanitize.api"


# --- apply on DataFrames --------------------------------------------------------------------------


def test_when_applied_then_transformed_columns_change_keep_columns_do_not(
    customers: pd.DataFrame, rules: sanitize.Rules
) -> None:
    out = sanitize.apply(customers, rules, table="customers")
    assert list(out.columns) == list(customers.columns)
    assert out.index.equals(customers.index)
    for col in ("date_of_birth", "country", "created_at"):  # keep: identical
        pd.testing.assert_series_equal(out[col], customers[col])
    for col in ("email", "full_name", "postcode", "notes", "id"):  # every value replaced
        same = (out[col].astype(str) == customers[col].astype(str)) & customers[col].notna()
        assert not same.any(), f"{col}: {int(same.sum())} values unchanged"
    assert out["ssn"].isna().all()
    assert out["email"].is_unique
    phones = customers["phone"].dropna()
    assert (out.loc[phones.index, "phone"].str[-4:] == phones.str[-4:]).all()  # mask keeps last 4


def test_when_applied_then_the_input_frame_is_not_mutated(
    customers: pd.DataFrame, rules: sanitize.Rules
) -> None:
    before = customers.copy(deep=True)
    sanitize.apply(customers, rules, table="customers")
    pd.testing.assert_frame_equal(customers, before)


def test_when_applied_twice_or_in_batches_then_results_are_identical(
    customers: pd.DataFrame, rules: sanitize.Rules
) -> None:
    whole = sanitize.apply(customers, rules, table="customers")
    again = sanitize.apply(customers, rules, table="customers")
    halves = pd.concat(
        [
            sanitize.apply(customers.iloc[:77], rules, table="customers"),
            sanitize.apply(customers.iloc[77:], rules, table="customers"),
        ]
    )
    pd.testing.assert_frame_equal(whole, again)
    pd.testing.assert_frame_equal(whole, halves, check_dtype=False)


def test_when_the_key_differs_then_pseudonyms_differ(customers: pd.DataFrame, rules: sanitize.Rules) -> None:
    a = sanitize.apply(customers, rules, table="customers")
    b = sanitize.apply(customers, rules, table="customers", key=SecretKey(b"another-key-" + b"x" * 40))
    assert (a["email"] != b["email"]).mean() > 0.95
    pd.testing.assert_series_equal(a["country"], b["country"])


def test_when_a_plain_pandas_frame_is_applied_then_no_database_module_is_needed(
    monkeypatch: pytest.MonkeyPatch, rules: sanitize.Rules
) -> None:
    for mod in [m for m in sys.modules if m == "sanitize.db" or m.startswith("sanitize.db.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "sanitize.db", None)  # any import of it now fails
    df = pd.DataFrame(
        {
            "email": ["ann@example.com", None, "bob@example.org"],
            "full_name": ["Ann Lee", "Bo Chan", None],
            "ssn": ["123-45-6789", "987-65-4321", None],
        }
    )
    out = sanitize.apply(df, rules, table="customers")  # rules for the absent columns are ignored
    assert out["email"].isna().tolist() == [False, True, False]  # NULL stays NULL
    assert out["full_name"].isna().tolist() == [False, False, True]
    assert not out["email"].isin(df["email"].dropna()).any()
    assert out["ssn"].isna().all()


def test_when_a_frame_column_is_uncovered_then_apply_refuses_naming_it(
    customers: pd.DataFrame, rules: sanitize.Rules
) -> None:
    with pytest.raises(CoverageError) as info:
        sanitize.apply(customers.assign(extra="secret"), rules, table="customers")
    assert info.value.problems == [
        "customers.extra: no rule covers this column; add a rule for it (or `keep` it explicitly)"
    ]
    covered = rules.with_rule("customers", "extra", "nullify")
    assert sanitize.apply(customers.assign(extra="secret"), covered, table="customers")["extra"].isna().all()


def test_when_unknown_columns_is_keep_then_uncovered_frame_columns_pass_through(
    customers: pd.DataFrame,
) -> None:
    data = {**RULES, "unknown_columns": "keep"}
    out = sanitize.apply(customers.assign(extra="x"), sanitize.Rules.from_dict(data), table="customers")
    assert (out["extra"] == "x").all()


def test_when_the_table_is_skipped_then_apply_refuses_and_says_so(rules: sanitize.Rules) -> None:
    with pytest.raises(TargetRefusedError, match="events.*skip"):
        sanitize.apply(pd.DataFrame({"id": [1]}), rules, table="events")


def test_when_apply_gets_no_dataframe_or_bad_rules_then_it_says_what_it_expected(
    rules: sanitize.Rules,
) -> None:
    with pytest.raises(BadInputError, match="DataFrame"):
        sanitize.apply([{"id": 1}], rules, table="customers")  # type: ignore[arg-type]
    with pytest.raises(BadInputError, match="sanitize.load_rules"):
        sanitize.apply(pd.DataFrame({"id": [1]}), {"version": 1}, table="customers")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (pd.Series([1, 2], dtype="int64"), "integer"),
        (pd.Series([1.5, None]), "float"),
        (pd.Series([True, False]), "boolean"),
        (pd.Series(["a", None]), "text"),
        (pd.to_datetime(pd.Series(["2024-01-01", None])), "datetime"),
        (pd.Series([{"a": 1}, None], dtype=object), "json"),
        (pd.Series([b"\x00", None], dtype=object), "binary"),
        (pd.Series(pd.array([1, None], dtype="int32[pyarrow]")), "integer"),
        (pd.Series(pd.array(["2024-01-01"], dtype="date32[pyarrow]")), "date"),
    ],
)
def test_when_a_table_is_derived_from_a_frame_then_kinds_follow_the_dtypes(
    values: pd.Series, kind: str
) -> None:
    table = sanitize.table_from_frame(pd.DataFrame({"c": values}), "app.things")
    assert (table.key, table.name, table.schema) == ("app.things", "things", "app")
    assert table.column("c").kind == kind


# --- connect --------------------------------------------------------------------------------------


def test_when_connected_then_tables_sample_and_describe_work(prod_db: Path) -> None:
    with sanitize.connect(str(prod_db)) as db:
        assert db.tables == sorted(
            ["customers", "employees", "orders", "order_items", "support_tickets", "events", "page_views"]
        )
        sample = db.sample("customers", 50)
        assert len(sample) == 50
        assert list(sample.columns) == list(db.schema["customers"].column_names)
        assert db.count("customers") == 500
        desc = db.describe("orders")
        assert desc.set_index("column").loc["customer_id", "references"] == "customers.id"
        assert "customers" in db._repr_html_() and "7 table(s)" in db._repr_html_()
    assert db.closed
    with pytest.raises(BadInputError, match="closed"):
        db.sample("customers", 1)


def test_when_a_table_is_unknown_then_the_connection_names_the_tables(prod_db: Path) -> None:
    with sanitize.connect(prod_db) as db, pytest.raises(BadInputError, match="customer'.*customers"):
        db.sample("customer", 5)


def test_when_the_url_is_bad_then_connect_raises_a_url_error(tmp_path: Path) -> None:
    with pytest.raises(UrlError):
        sanitize.connect("nosuchdialect://user@host/db")


def test_when_an_environment_name_is_given_then_connect_resolves_it(prod_db: Path) -> None:
    with sanitize.connect("prod", environments={"prod": f"sqlite:///{prod_db}"}) as db:
        assert "customers" in db.tables


def test_when_a_sanitize_yaml_names_the_environment_then_connect_uses_it(
    prod_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sanitize.yaml").write_text(
        f"environments:\n  prod: {{url: 'sqlite:///{prod_db}', role: production}}\n"
    )
    with sanitize.connect("prod", config=tmp_path / "sanitize.yaml") as db:
        assert "customers" in db.tables
    monkeypatch.chdir(tmp_path)  # the working directory's sanitize.yaml, found by default
    with sanitize.connect("prod") as db:
        assert db.count("customers") == 500
    with pytest.raises(UrlError, match="known: prod"):
        sanitize.connect("staging")


# --- preview --------------------------------------------------------------------------------------


def test_when_previewing_a_database_then_before_is_the_source_and_nothing_is_written(
    prod_db: Path, rules: sanitize.Rules
) -> None:
    digest = _sha(prod_db)
    with sanitize.connect(str(prod_db)) as db:
        view = sanitize.preview(db, rules, "customers", rows=12)
        head = db.head("customers", 12)
        expected_after = sanitize.apply(head, rules, "customers", schema=db)
    assert isinstance(view, sanitize.PreviewFrame) and isinstance(view, pd.DataFrame)
    assert len(view) == 12
    pd.testing.assert_frame_equal(view.before, head)
    pd.testing.assert_frame_equal(view.after, expected_after)
    assert set(view.changed_columns) <= set(TRANSFORMED)
    assert {"email", "full_name", "postcode"} <= set(view.changed_columns)
    html = view._repr_html_()
    assert html.count('class="sz-changed"') == int(view.changed.to_numpy().sum()) > 0
    assert _sha(prod_db) == digest


def test_when_previewing_by_path_or_frame_then_results_agree(
    prod_db: Path, rules: sanitize.Rules, customers: pd.DataFrame
) -> None:
    by_path = sanitize.preview(str(prod_db), rules, "customers", rows=5)
    by_frame = sanitize.preview(customers, rules, "customers", rows=5)
    pd.testing.assert_frame_equal(by_path.before, by_frame.before)
    assert by_path.after["email"].tolist() == by_frame.after["email"].tolist()


def test_when_previewing_an_unknown_or_skipped_table_then_it_says_which_tables_exist(
    prod_db: Path, rules: sanitize.Rules
) -> None:
    with pytest.raises(BadInputError, match="nope.*customers"):
        sanitize.preview(str(prod_db), rules, "nope")
    with pytest.raises(BadInputError, match="skipped"):
        sanitize.preview(str(prod_db), rules, "events")


# --- check ----------------------------------------------------------------------------------------


def test_when_every_column_is_covered_then_check_is_ok(prod_db: Path, rules: sanitize.Rules) -> None:
    result = sanitize.check(rules, str(prod_db))
    assert result.ok and result.problems() == []
    assert "sz-ok" in result._repr_html_()


def test_when_a_rule_is_missing_or_stale_then_check_lists_each_with_its_fix(
    prod_db: Path, rules: sanitize.Rules
) -> None:
    data = sanitize.Rules.from_dict(RULES).to_dict()
    del data["tables"]["customers"]["columns"]["ssn"]
    data["tables"]["customers"]["columns"]["loyalty_tier"] = "keep"
    data["tables"]["refunds"] = "skip"
    with sanitize.connect(str(prod_db)) as db:
        result = sanitize.check(sanitize.Rules.from_dict(data), db)
    assert not result.ok
    # (the kept date_of_birth is reported as reviewed, which is not a problem)
    got = {
        (r.table, r.column, r.problem) for r in result.findings.itertuples() if r.problem in result.blocking
    }
    assert got == {
        ("customers", "ssn", "uncovered"),
        ("customers", "loyalty_tier", "stale"),
        ("refunds", "", "stale"),
    }
    assert any("customers.ssn" in p and "add a rule" in p for p in result.problems())
    html = result._repr_html_()
    assert "3 problem(s)" in html and "loyalty_tier" in html


# --- rules: YAML round trip, display -----------------------------------------------------------------


def test_when_rules_are_written_then_loading_them_gives_the_same_rules(
    tmp_path: Path, rules: sanitize.Rules
) -> None:
    adjusted = rules.with_rule("customers", "phone", sanitize.ColumnRule.of("mask", keep_last=2))
    path = tmp_path / "rules.yaml"
    adjusted.to_yaml(path)
    loaded = sanitize.load_rules(path)
    assert loaded.to_dict() == adjusted.to_dict()
    assert loaded.tables == adjusted.tables
    assert loaded.path == str(path) and loaded.digest == _sha(path)
    assert loaded.to_yaml() == path.read_text(encoding="utf-8")  # a fixed point


def test_when_written_rules_are_given_to_the_cli_then_check_accepts_them(
    tmp_path: Path, prod_db: Path, rules: sanitize.Rules
) -> None:
    from typer.testing import CliRunner

    from sanitize.cli import app

    path = tmp_path / "rules.yaml"
    rules.to_yaml(path)
    result = CliRunner().invoke(app, ["check", "--rules", str(path), str(prod_db)])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output


def test_when_a_rules_file_is_broken_then_load_rules_reports_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "version: 1\ntables:\n  t:\n    columns:\n      a: mask_phone\n      b: {strategy: hash, nope: 1}\n"
    )
    with pytest.raises(RulesError) as info:
        sanitize.load_rules(path)
    assert len(info.value.problems) == 2
    assert "did you mean 'mask'" in str(info.value)


def test_when_rules_are_shown_then_the_yaml_is_escaped_html(rules: sanitize.Rules) -> None:
    view = sanitize.show_rules(
        rules.with_rule("customers", "notes", sanitize.ColumnRule.of("redact", value="<b>x</b>"))
    )
    html = view._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "customers:" in html and repr(view).startswith("version: 1")


# --- apply == the pipeline ----------------------------------------------------------------------------

DEMO_TABLES = ["customers", "employees", "events", "order_items", "orders", "page_views", "support_tickets"]
NO_INHERITED_COLUMNS = ["customers", "employees", "page_views"]  # every column named by the demo rules


@pytest.fixture(scope="module")
def anonymized(prod_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo database anonymised by the pipeline into a SQLite target, with the test key."""
    from sanitize.pipeline import anonymize
    from tests.conftest import TEST_KEY

    target = tmp_path_factory.mktemp("api-target") / "dev.db"
    run = anonymize(sanitize.demo_rules_path(), str(prod_db), str(target), key=SecretKey(TEST_KEY.encode()))
    assert run.status == "ok" and run.published
    return target


@pytest.mark.parametrize("table", DEMO_TABLES)
def test_when_applied_with_the_source_schema_then_it_equals_what_the_pipeline_wrote(
    prod_db: Path, anonymized: Path, table: str
) -> None:
    rules = sanitize.load_rules(sanitize.demo_rules_path())
    with sanitize.connect(prod_db) as src, sanitize.connect(anonymized) as tgt:
        source_rows = src.head(table, 100_000)
        written = tgt.head(table, 100_000)
        ours = sanitize.apply(source_rows, rules, table, schema=src)
    assert len(written) == len(source_rows) > 0
    pd.testing.assert_frame_equal(ours, written, check_dtype=False)


@pytest.mark.parametrize("table", NO_INHERITED_COLUMNS)
def test_when_applied_to_a_bare_frame_then_it_equals_what_the_pipeline_wrote(
    prod_db: Path, anonymized: Path, table: str
) -> None:
    rules = sanitize.load_rules(sanitize.demo_rules_path())
    with sanitize.connect(prod_db) as src, sanitize.connect(anonymized) as tgt:
        source_rows = src.head(table, 100_000)
        written = tgt.head(table, 100_000)
    ours = sanitize.apply(source_rows, rules, table)  # no database: table derived from the dtypes
    # scrub finds the people a frame holds; the pipeline knows every table's people (schema=src matches)
    trules = rules.table(table)
    scrubbed = [c for c, r in getattr(trules, "columns", {}).items() if r.strategy == "scrub"]
    pd.testing.assert_frame_equal(
        ours.drop(columns=scrubbed), written.drop(columns=scrubbed), check_dtype=False
    )


def test_when_a_bare_frame_has_foreign_key_columns_then_the_error_says_to_pass_the_schema(
    prod_db: Path,
) -> None:
    rules = sanitize.load_rules(sanitize.demo_rules_path())
    with sanitize.connect(prod_db) as src:
        orders = src.head("orders", 10)
    with pytest.raises(CoverageError, match="schema=") as info:
        sanitize.apply(orders, rules, "orders")
    assert any("orders.customer_id" in p for p in info.value.problems)


def test_when_the_demo_rules_are_written_and_read_back_then_nothing_changes(tmp_path: Path) -> None:
    rules = sanitize.load_rules(sanitize.demo_rules_path())
    rules.to_yaml(tmp_path / "demo.yaml")
    again = sanitize.load_rules(tmp_path / "demo.yaml")
    assert again.tables == rules.tables and again.to_dict() == rules.to_dict()


# --- scan, draft rules, drift --------------------------------------------------------------------------


def test_when_a_frame_is_scanned_then_each_column_has_a_finding_with_evidence() -> None:
    df = pd.DataFrame(
        {
            "contact": [f"user{i}@example.com" for i in range(40)],
            "amount": list(range(40)),
        }
    )
    findings = sanitize.scan(df, table="people")
    assert isinstance(findings, sanitize.FindingsFrame) and isinstance(findings, pd.DataFrame)
    rows = findings.set_index("column")
    assert rows.loc["contact", "pii"] == "email" and rows.loc["amount", "pii"] == ""
    assert "EMAIL_ADDRESS" in rows.loc["contact", "evidence"]
    assert "fake" in rows.loc["contact", "suggested_rule"]
    assert list(findings.pii["column"]) == ["contact"]
    html = findings._repr_html_()
    assert "PII found in 1" in html and html.count('class="sz-pii"') == 1


def test_when_a_source_is_scanned_then_the_pii_columns_are_found(prod_db: Path) -> None:
    with sanitize.connect(prod_db) as db:
        findings = sanitize.scan(db, table="customers", sample=200)
    assert set(findings["table"]) == {"customers"}
    pii = dict(zip(findings["column"], findings["pii"], strict=True))
    assert pii["email"] == "email" and pii["full_name"] == "person" and pii["country"] == ""
    with pytest.raises(BadInputError, match="customer'.*customers"):
        sanitize.scan(str(prod_db), table="customer")


def test_when_rules_are_drafted_from_a_scan_then_check_passes_on_that_source(
    prod_db: Path, tmp_path: Path
) -> None:
    with sanitize.connect(prod_db) as db:
        findings = sanitize.scan(db, sample=300)
        rules = sanitize.draft_rules(findings, out=tmp_path / "draft.yaml")
        result = sanitize.check(rules, db)
    assert result.ok, result.problems()
    assert rules.tables["customers"].columns["email"].strategy == "fake"  # type: ignore[union-attr]
    text = (tmp_path / "draft.yaml").read_text()
    assert "values are EMAIL_ADDRESS" in text  # the written draft carries the evidence as comments
    assert sanitize.load_rules(tmp_path / "draft.yaml").tables == rules.tables


def test_when_draft_rules_gets_a_plain_frame_then_it_asks_for_a_scan() -> None:
    with pytest.raises(BadInputError, match="sanitize.scan"):
        sanitize.draft_rules(pd.DataFrame({"a": [1]}))


def test_when_kept_columns_hold_pii_then_check_flags_them_with_a_fix(prod_db: Path) -> None:
    with sanitize.connect(prod_db) as db:
        all_kept = sanitize.Rules.from_dict(
            {
                "version": 1,
                "tables": {t: {"columns": {c: "keep" for c in db.schema[t].column_names}} for t in db.tables},
            }
        )
        result = sanitize.check(all_kept, db, sample=200)
        coverage_only = sanitize.check(all_kept, db, pii=False)
    flagged = result.findings[result.findings["problem"] == "looks_like_pii"]
    where = set(zip(flagged["table"], flagged["column"], strict=True))
    assert {("customers", "email"), ("customers", "full_name"), ("page_views", "ip_address")} <= where
    assert ("customers", "country") not in where and ("orders", "total") not in where
    email = flagged[(flagged["table"] == "customers") & (flagged["column"] == "email")].iloc[0]
    assert "EMAIL_ADDRESS" in email["detail"] and "strategy: fake" in email["fix"]
    assert not result.ok and coverage_only.ok


# --- profile and synthesize --------------------------------------------------------------------------


def test_when_profiled_and_synthesised_then_the_target_is_filled_without_real_rows(
    prod_db: Path, tmp_path: Path
) -> None:
    rules = sanitize.load_rules(sanitize.demo_rules_path())
    with sanitize.connect(prod_db) as db:
        prof = sanitize.profile(db, rules)
        report = sanitize.synthesize(tmp_path / "dev.db", schema_from=db, rules=rules, profile=prof, seed=3)
        real_emails = set(db.sample("customers", 1000)["email"])
    assert prof.tables["customers"].columns["email"].sensitive
    assert report.rows["customers"] == 500 and report.privacy.exact_matches == 0
    with sanitize.connect(tmp_path / "dev.db") as dev:
        synth = dev.sample("customers", 1000)
    assert len(synth) == 500 and not real_emails & set(synth["email"])


# --- display ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "name", "expected"),
    [
        # identical numbers: the CDFs coincide
        (pd.Series([1.0, 2.0, 3.0, 4.0]), pd.Series([4.0, 3.0, 2.0, 1.0]), "KS statistic", 0.0),
        # disjoint ranges: the largest CDF gap is 1
        (pd.Series([1, 2, 3]), pd.Series([10, 11, 12]), "KS statistic", 1.0),
        # categories: half of the mass of one 'x' moved to 'y' -> TVD 0.25
        (pd.Series(list("xxyy")), pd.Series(list("xxxy")), "total variation distance", 0.25),
    ],
)
def test_when_two_columns_are_compared_then_the_statistic_is_right(
    a: pd.Series, b: pd.Series, name: str, expected: float
) -> None:
    c = sanitize.compare(a, b, column="v")
    assert c.statistic_name == name and c.statistic == pytest.approx(expected)
    svg = c._repr_html_()
    assert "<svg" in svg and svg.count('class="sz-bar"') == 2 * len(c.bins)


def test_when_free_text_is_compared_then_lengths_are_compared() -> None:
    a = pd.Series([f"person {i}" for i in range(100)])
    c = sanitize.compare(a, a.str.upper(), column="name")
    assert c.column == "name (length)" and c.statistic == 0.0


def test_when_cells_are_rendered_then_html_is_escaped_nulls_marked_and_long_text_cut() -> None:
    from sanitize.display import cell_html, register_formatters

    assert cell_html("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    assert "NULL" in cell_html(None) and "NULL" in cell_html(float("nan")) and "NULL" in cell_html(pd.NA)
    assert "(1,000 chars)" in cell_html("a" * 1000)
    assert register_formatters() is False  # no IPython here


def test_when_a_preview_has_nulls_then_null_to_null_is_unchanged() -> None:
    before = pd.DataFrame({"a": ["x", None, "z"], "b": [1, 2, 3]})
    after = pd.DataFrame({"a": ["q", None, "z"], "b": [1, 2, 3]})
    view = sanitize.PreviewFrame.from_pair(before, after, "t")
    assert view.changed["a"].tolist() == [True, False, False]
    assert view.changed_columns == ["a"]
    assert view._repr_html_().count('class="sz-changed"') == 1
