"""sanitize.yaml: environments, ${VAR} expansion, every problem reported with its place and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanitize.config import init_project, load_config
from sanitize.errors import ConfigError

SECRET = "p@ss:w/rd%#"  # every character that breaks naive URL handling

GOOD = """\
environments:
  prod:    {url: "${PROD_DATABASE_URL}", role: production}
  staging: {url: "${STAGING_DATABASE_URL}", role: staging}
  dev:     {url: "sqlite:///dev.db", role: dev}
refresh:
  staging: {from: prod, rules: rules/shop.yaml, mode: anonymize}
  dev:     {from: prod, rules: rules/shop.yaml, mode: synth, scale: 0.01}
"""


def write(tmp_path: Path, text: str, name: str = "sanitize.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture
def env_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROD_DATABASE_URL", "postgresql://ro@prod.internal:5432/shop")
    monkeypatch.setenv("STAGING_DATABASE_URL", "postgresql://st@staging.internal/shop")


def test_when_config_is_valid_then_urls_are_expanded_and_paths_absolute(
    tmp_path: Path, env_urls: None
) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    urls = cfg.environment_urls()
    assert urls["prod"] == "postgresql://ro@prod.internal:5432/shop"
    assert urls["staging"] == "postgresql://st@staging.internal/shop"
    # relative SQLite paths and rules paths are relative to the config file, not the working directory
    assert urls["dev"] == f"sqlite:///{tmp_path.resolve()}/dev.db"
    assert cfg.refresh["staging"].rules == tmp_path.resolve() / "rules/shop.yaml"
    assert cfg.refresh["dev"].mode == "synth" and cfg.refresh["dev"].scale == 0.01
    assert cfg.production_environments() == ["prod"]
    assert cfg.environment("prod").is_production


def test_when_variable_is_only_in_dotenv_then_it_is_used_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROD_DATABASE_URL", raising=False)
    monkeypatch.setenv("STAGING_DATABASE_URL", "postgresql://from-env@h/db")
    (tmp_path / ".env").write_text(
        "PROD_DATABASE_URL=postgresql://from-dotenv@h/prod\nSTAGING_DATABASE_URL=postgresql://dotenv@h/x\n"
    )
    monkeypatch.chdir(tmp_path.parent)  # the .env next to the config is found from any directory
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.environment_urls()["prod"] == "postgresql://from-dotenv@h/prod"
    assert cfg.environment_urls()["staging"] == "postgresql://from-env@h/db"


def test_when_variable_has_default_or_dollar_escape_then_they_apply(tmp_path: Path) -> None:
    text = 'environments:\n  dev: {url: "${DEV_URL:-sqlite:///d.db}", role: dev, description: "costs $$5"}\n'
    cfg = load_config(write(tmp_path, text), environ={})
    assert cfg.environment_urls()["dev"].endswith("/d.db")
    assert cfg.environments["dev"].description == "costs $5"


def test_when_variable_is_undefined_then_error_names_file_line_location_and_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROD_DATABASE_URL", raising=False)
    monkeypatch.setenv("STAGING_DATABASE_URL", f"postgresql://st:{SECRET}@h/db")
    monkeypatch.chdir(tmp_path)
    p = write(tmp_path, GOOD)
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    text = str(exc.value)
    assert f"{p}:2: environments.prod.url: ${{PROD_DATABASE_URL}} is not defined" in text
    assert ".env" in text and "set PROD_DATABASE_URL" in text
    assert SECRET not in text
    assert exc.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # unknown top-level key, with the closest known key suggested
        ("environment: {}\n", "environment: unknown key (did you mean 'environments'?)"),
        # unknown key inside an environment
        ("environments:\n  dev: {url: a.db, role: dev, rol: dev}\n", "environments.dev.rol: unknown key"),
        # unknown key inside a refresh job
        (
            "environments:\n  p: {url: a.db, role: production}\n  d: {url: b.db, role: dev}\n"
            "refresh:\n  d: {from: p, rules: r.yaml, rule: x}\n",
            "refresh.d.rule: unknown key (did you mean 'rules'?)",
        ),
        # a misspelt role
        ("environments:\n  p: {url: a.db, role: prod}\n", "unknown role 'prod' (did you mean 'production'?)"),
        # production as a refresh target
        (
            "environments:\n  p: {url: a.db, role: production}\n  q: {url: b.db, role: production}\n"
            "refresh:\n  p: {from: q, rules: r.yaml}\n",
            "refresh.p: environment 'p' has role production, and production is never a refresh target",
        ),
        # a job naming an environment that does not exist
        (
            "environments:\n  staging: {url: a.db, role: staging}\n"
            "refresh:\n  stagng: {from: staging, rules: r}\n",
            "refresh.stagng: no environment named 'stagng' (did you mean 'staging'?)",
        ),
        # a job whose source does not exist
        (
            "environments:\n  staging: {url: a.db, role: staging}\n"
            "refresh:\n  staging: {from: prd, rules: r}\n",
            "refresh.staging.from: no environment named 'prd'",
        ),
        # a missing required key
        ("environments:\n  dev: {url: a.db}\n", "environments.dev.role: required key is missing"),
        # scale in anonymize mode
        (
            "environments:\n  p: {url: a.db, role: production}\n  d: {url: b.db, role: dev}\n"
            "refresh:\n  d: {from: p, rules: r.yaml, scale: 2}\n",
            "scale and rows apply to mode synth only",
        ),
        # invalid YAML
        ("environments: [\n", "invalid YAML"),
    ],
)
def test_when_config_is_wrong_then_configerror_names_location(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, text), environ={})
    assert expected in str(exc.value)
    assert str(tmp_path / "sanitize.yaml") in str(exc.value)


def test_when_several_problems_then_all_are_reported_at_once(tmp_path: Path) -> None:
    text = (
        "environments:\n  a: {url: '${A}', role: dev}\n  b: {url: x.db, role: wrong}\n"
        "  c: {url: y.db, role: dev, x: 1}\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, text), environ={})
    assert len(exc.value.problems) == 3
    assert "3 problems" in exc.value.message


def test_when_a_url_has_the_wrong_type_then_the_value_is_not_echoed(tmp_path: Path) -> None:
    text = 'environments:\n  p: "${P}"\n'
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, text), environ={"P": f"postgresql://u:{SECRET}@h/db"})
    assert "environments.p" in str(exc.value)
    assert SECRET not in str(exc.value) and "postgresql://" not in str(exc.value)


def test_when_file_is_missing_then_error_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sanitize init"):
        load_config(tmp_path / "nope.yaml")


def test_when_job_is_asked_for_then_missing_job_or_rules_file_is_an_error(
    tmp_path: Path, env_urls: None
) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match="rules file .*shop.yaml not found"):
        cfg.job("staging")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules/shop.yaml").write_text("version: 1\n")
    assert cfg.job("staging").from_ == "prod"
    with pytest.raises(ConfigError, match="'prod' has no refresh job"):
        cfg.job("prod")
    with pytest.raises(ConfigError, match="no environment named 'stagin' \\(did you mean 'staging'"):
        cfg.job("stagin")


def test_when_init_runs_then_starter_files_load_and_are_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env_urls: None
) -> None:
    written = init_project(tmp_path)
    assert {p.name for p in written} == {"sanitize.yaml", ".env.example"}
    cfg = load_config(tmp_path / "sanitize.yaml")
    assert set(cfg.environments) == {"prod", "staging", "dev"}
    assert cfg.environments["prod"].role == "production"
    assert "#" in (tmp_path / "sanitize.yaml").read_text()  # commented
    assert "SANITIZE_KEY=" in (tmp_path / ".env.example").read_text()
    before = (tmp_path / "sanitize.yaml").read_text()
    (tmp_path / "sanitize.yaml").write_text(before + "# mine\n")
    with pytest.raises(ConfigError, match="already exist"):
        init_project(tmp_path)
    assert (tmp_path / "sanitize.yaml").read_text().endswith("# mine\n")
    init_project(tmp_path, force=True)
    assert (tmp_path / "sanitize.yaml").read_text() == before
