"""The HTML run report: status and why, tables, coverage, leaks per column, risk, warnings, history."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sanitize.cli import app
from sanitize.errors import CoverageError, LeakError
from sanitize.refresh import refresh
from sanitize.report import build_report, read_report, render_html
from sanitize.report_page import run_history, warning_kind
from tests.test_refresh import RULES, make_sqlite, project

RISKY = RULES.replace("      country: keep\n", "      country: keep\n    quasi_identifiers: [country]\n")
LEAKY = RISKY.replace("notes: {strategy: redact}", "notes: keep")


def runs(tmp_path: Path) -> tuple[Path, Path]:
    """Two good refreshes and one that fails its leak check; (config, the failed run's report)."""
    make_sqlite(tmp_path / "prod.db")
    cfg = project(tmp_path, "prod.db", "dev.db", rules=RISKY)
    refresh("dev", cfg, report_path=tmp_path / "reports" / "dev-1.json")
    refresh("dev", cfg, report_path=tmp_path / "reports" / "dev-2.json")
    (tmp_path / "rules" / "shop.yaml").write_text(LEAKY)
    with pytest.raises(LeakError) as exc:
        refresh("dev", cfg, report_path=tmp_path / "reports" / "dev-3.json")
    return cfg, Path(exc.value.report_path)  # type: ignore[attr-defined]


def stamp_runs(reports: Path) -> None:
    """Runs in one test start within a second; give each its own start time, as nights would."""
    for i, p in enumerate(sorted(reports.glob("dev-[0-9].json")), start=1):
        doc = json.loads(p.read_text())
        doc["started_at"] = f"2026-12-0{i}T02:00:00+00:00"
        p.write_text(json.dumps(doc))
    (reports / "dev-latest.json").write_text(json.dumps(doc))  # the copy of the last run, as refresh makes


def test_when_a_refresh_fails_its_leak_check_then_the_page_says_why_per_column_without_values(
    tmp_path: Path,
) -> None:
    _, failed = runs(tmp_path)
    stamp_runs(failed.parent)
    page = render_html(read_report(failed), path=failed)
    assert re.search(r'id="status" class="status bad">failed: LeakError<', page)
    why = page[page.index('<div id="why"') :].split("</div>")[0]
    assert "leak check" in why and "<li>customers.notes" in why  # the first failed check, its columns
    leaks = page[page.index('<table id="leaks">') :].split("</table>")[0]
    assert "<td>customers</td><td>notes</td>" in leaks and re.search(r'<td class="n">\d+</td>', leaks)
    assert "real.person" not in page and "Reallast" not in page  # counts and reasons, never values
    tables = page[page.index('<table id="tables">') :].split("</table>")[0]
    assert '<td>customers</td><td class="n">40</td>' in tables and "email: fake" in tables
    risk = page[page.index('<table id="risk">') :].split("</table>")[0]
    assert "<td>customers</td><td>country</td>" in risk and "&rarr;" in risk
    assert page.count('<rect class="run"') == 3  # the two good nights and this one
    assert 'fill="#b42318"' in page  # the failed run's bar is red
    for external in ("<script", "<link", "src=", "http://", "https://", "@import"):
        assert external not in page, external


def test_when_coverage_fails_then_the_page_lists_the_uncovered_columns(tmp_path: Path) -> None:
    make_sqlite(tmp_path / "prod.db")
    cfg = project(tmp_path, "prod.db", "dev.db", rules=RULES.replace("      country: keep\n", ""))
    with pytest.raises(CoverageError) as exc:
        refresh("dev", cfg)
    page = render_html(read_report(exc.value.report_path))  # type: ignore[attr-defined]
    section = page[page.index("<h2>Coverage and drift</h2>") :].split("</div>")[0]
    assert "customers.country" in section


def test_when_a_report_has_warnings_and_a_schema_diff_then_they_are_grouped_and_listed() -> None:
    doc = build_report(
        {"tables": [], "status": "ok", "checks": []},
        warnings=[
            "shared credentials: dev uses the same user as prod",
            "customers.notes: kept column looks like it holds person names (3 of 50 rows)",
            "2 orphan row(s) in orders dropped",
        ],
        extra={
            "schema_diff": {
                "a": "prod",
                "b": "dev",
                "same": False,
                "differences": [
                    {
                        "what": "column",
                        "table": "customers",
                        "item": "vip",
                        "change": "only_a",
                        "a": None,
                        "b": None,
                    }
                ],
            }
        },
    )
    page = render_html(doc)
    for kind in ("credentials (1)", "possible PII in kept columns (1)", "orphan rows (1)"):
        assert f"<h3>{kind}</h3>" in page, kind
    diff = page[page.index('<table id="schema-diff">') :].split("</table>")[0]
    assert "<td>customers</td><td>vip</td><td>column</td>" in diff
    assert warning_kind("something new") == "other"


def test_when_report_html_is_asked_for_an_environment_then_the_chart_covers_its_runs(tmp_path: Path) -> None:
    cfg, failed = runs(tmp_path)
    stamp_runs(failed.parent)
    other = json.loads((tmp_path / "reports" / "dev-1.json").read_text())
    (tmp_path / "reports" / "qa-1.json").write_text(json.dumps({**other, "environment": "qa"}))
    (tmp_path / "reports" / "notes.json").write_text('{"not": "a report"}')
    history = run_history(failed, read_report(failed))
    assert [p["ok"] for p in history] == [True, True, False]  # oldest first; qa and notes.json left out
    out = tmp_path / "page.html"
    result = CliRunner().invoke(app, ["report", "dev", "--config", str(cfg), "--html", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert '<svg id="history-chart"' in page and page.count('<rect class="run"') == 3


def test_when_refresh_is_given_html_then_the_page_is_written_for_a_good_and_a_failed_night(
    tmp_path: Path,
) -> None:
    make_sqlite(tmp_path / "prod.db")
    cfg = project(tmp_path, "prod.db", "dev.db")
    page = tmp_path / "out" / "dev.html"
    args = ["refresh", "dev", "--config", str(cfg), "--html", str(page), "--report"]
    good = CliRunner().invoke(app, [*args, str(tmp_path / "reports" / "dev-1.json")])
    assert good.exit_code == 0, good.output
    assert re.search(r'id="status" class="status ok">ok<', page.read_text())
    (tmp_path / "rules" / "shop.yaml").write_text(RULES.replace("notes: {strategy: redact}", "notes: keep"))
    bad = CliRunner().invoke(app, [*args, str(tmp_path / "reports" / "dev-2.json")])
    assert bad.exit_code == 1
    text = page.read_text()
    assert "failed: LeakError" in text and text.count('<rect class="run"') == 2  # both nights charted
