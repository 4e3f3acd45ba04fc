"""Every command that takes a database accepts an environment name from ./sanitize.yaml, as the README
says; `sanitize report ENV` shows that environment's latest refresh report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sanitize.errors import TargetRefusedError
from sanitize.pipeline import anonymize

from .conftest import run_cli
from .test_refresh import RULES, make_sqlite


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """prod and dev by name; `ci` needs a variable this machine does not set (a developer's laptop)."""
    make_sqlite(tmp_path / "prod.db")
    (tmp_path / "rules.yaml").write_text(RULES)
    (tmp_path / ".env").write_text("PROD_URL=sqlite:///prod.db\n")
    (tmp_path / "sanitize.yaml").write_text(
        "environments:\n"
        "  prod: {url: '${PROD_URL}', role: production}\n"
        "  dev: {url: dev.db, role: dev}\n"
        "  ci: {url: '${CI_DATABASE_URL}', role: staging}\n"
        "refresh:\n  dev: {from: prod, rules: rules.yaml}\n"
    )
    return tmp_path


# in this order (anonymize fills dev before verify and diff read it)
COMMANDS = [
    ["check", "--rules", "rules.yaml", "prod", "--sample", "0"],
    ["preview", "--rules", "rules.yaml", "prod", "--table", "customers", "--rows", "2"],
    ["profile", "prod", "--rules", "rules.yaml", "--out", "profile.json"],
    ["scan", "prod", "--sample", "10"],
    ["anonymize", "--rules", "rules.yaml", "prod", "dev"],
    ["verify", "--rules", "rules.yaml", "prod", "dev"],
    ["diff", "prod", "dev"],
    ["synth", "dev", "--schema-from", "prod", "--rows", "5"],
]


def test_when_commands_are_given_environment_names_then_each_resolves_them(project: Path) -> None:
    for args in COMMANDS:
        res = run_cli(*args, cwd=project, unset=("CI_DATABASE_URL",))
        assert res.returncode == 0, (args, res.stdout, res.stderr)
    assert json.loads((project / "profile.json").read_text())["tables"]["customers"]


def test_when_an_environment_needs_an_unset_variable_then_only_naming_it_fails_and_says_which(
    project: Path,
) -> None:
    res = run_cli(
        "check", "--rules", "rules.yaml", "ci", "--sample", "0", cwd=project, unset=("CI_DATABASE_URL",)
    )
    assert res.returncode == 2 and "environment 'ci'" in res.stderr and "CI_DATABASE_URL" in res.stderr


def test_when_a_production_environment_is_named_as_target_then_anonymize_and_synth_refuse(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (project / "prod.db").read_bytes()
    for args in (
        ["anonymize", "--rules", "rules.yaml", "dev.db", "prod"],
        ["synth", "prod", "--rows", "5"],
        ["synth", "prod.db", "--rows", "5"],  # the production file by its path
    ):
        res = run_cli(*args, cwd=project, unset=("CI_DATABASE_URL",))
        assert res.returncode == 1 and "production" in res.stderr, (args, res.stderr)
    assert (project / "prod.db").read_bytes() == before
    monkeypatch.chdir(project)
    with pytest.raises(TargetRefusedError, match="production environment 'prod'"):
        anonymize("rules.yaml", "dev.db", str(project / "prod.db"))


def test_when_report_is_given_an_environment_then_it_shows_the_latest_refresh(project: Path) -> None:
    assert (
        run_cli("report", "dev", cwd=project, unset=("CI_DATABASE_URL",)).returncode == 2
    )  # nothing refreshed yet
    # refresh expands every variable of sanitize.yaml (strictly): give `ci` one
    (project / ".env").write_text("PROD_URL=sqlite:///prod.db\nCI_DATABASE_URL=sqlite:///ci.db\n")
    assert run_cli("refresh", "dev", cwd=project, unset=("CI_DATABASE_URL",)).returncode == 0
    latest = project / "reports" / "dev-latest.json"
    assert json.loads(latest.read_text())["environment"] == "dev"
    res = run_cli("report", "dev", "--html", "dev.html", cwd=project, unset=("CI_DATABASE_URL",))
    assert res.returncode == 0, res.stderr
    assert "dev" in res.stdout and (project / "dev.html").read_text().startswith("<!doctype html>")
    assert (
        run_cli("report", "reports/dev-latest.json", cwd=project, unset=("CI_DATABASE_URL",)).returncode == 0
    )
