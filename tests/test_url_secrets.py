"""A malformed URL never shows its password: not from `sanitize.connect`, the CLI (as source or
target), nor `refresh` with the URL coming from sanitize.yaml's environment expansion."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import sanitize
from sanitize.errors import SanitizeError
from sanitize.refresh import refresh

from .conftest import run_cli
from .test_refresh import RULES, make_sqlite, project

PW = "Pw0rdS3cret"

MALFORMED = [
    f"postgresql://u:{PW}@127.0.0.1:99999/db",  # port out of range
    f"postgresql://u:{PW}@127.0.0.1:abc/db",  # port not a number
    f"postgresql+nosuchdriver://u:{PW}@127.0.0.1:1/db",  # unknown driver (nothing listens on port 1)
    f"oracle://u:{PW}@127.0.0.1/db",  # unsupported dialect
    f"postgresql:/u:{PW}@127.0.0.1/db",  # one slash: not a URL at all
    f"postgresql//u:{PW}@127.0.0.1/db",  # no colon after the scheme
    f"u:{PW}@127.0.0.1/db",  # no scheme
    f"postgresql://u:{PW}@:1/db",  # no host
    f"mysql://u:{PW}@x@127.0.0.1/db",  # unencoded @ in the password
    f"mysql://u:{PW}@127.0.0.1",  # no database
    f"postgresql://u@127.0.0.1:99999/db?password={PW}",  # password in the query, bad port
    f"postgresql://u:{PW}@[::1/db",  # broken IPv6 host
]


@pytest.mark.parametrize("url", MALFORMED)
def test_when_connect_gets_a_malformed_url_then_the_error_never_shows_the_password(url: str) -> None:
    with pytest.raises(SanitizeError) as caught:
        sanitize.connect(url)
    assert PW not in str(caught.value)


@pytest.mark.parametrize("url", MALFORMED)
def test_when_the_cli_gets_a_malformed_url_then_no_output_shows_the_password(
    url: str, tmp_path: Path
) -> None:
    make_sqlite(tmp_path / "prod.db")
    (tmp_path / "rules.yaml").write_text(RULES)
    for args in (
        ["check", "--rules", "rules.yaml", url],
        ["anonymize", "--rules", "rules.yaml", "prod.db", url],
    ):
        res = run_cli(*args, cwd=tmp_path)
        assert res.returncode in (2, 3), res.stderr
        assert PW not in res.stdout + res.stderr
        assert "Traceback" not in res.stderr


@pytest.mark.parametrize("url", MALFORMED)
def test_when_sanitize_yaml_expands_to_a_malformed_url_then_refresh_never_shows_the_password(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    make_sqlite(tmp_path / "prod.db")
    cfg = project(tmp_path, "prod.db", "${DEV_URL}")
    monkeypatch.setenv("DEV_URL", url)
    with caplog.at_level(logging.INFO, logger="sanitize"), pytest.raises(SanitizeError) as caught:
        refresh("dev", cfg, report_path=tmp_path / "r.json")
    assert PW not in str(caught.value) and PW not in caplog.text
    report = tmp_path / "r.json"
    assert not report.exists() or PW not in report.read_text()
