"""Resolving databases: URLs, SQLite paths, environment names, identity, and password-free display."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanitize.db.refs import connection_failed, mask_spec, resolve
from sanitize.errors import ConnectionFailed, UrlError

PASSWORD = "p@ss:w/o%rd#1"
ENCODED = "p%40ss%3Aw%2Fo%25rd%231"


@pytest.mark.parametrize(
    ("spec", "dialect", "driver"),
    [
        ("postgresql://u@db.example.com/app", "postgresql", "postgresql+psycopg"),  # bare scheme -> psycopg 3
        ("postgres://u@db.example.com/app", "postgresql", "postgresql+psycopg"),  # heroku-style alias
        ("postgresql+psycopg2://u@db.example.com/app", "postgresql", "postgresql+psycopg"),  # other driver
        ("mysql://u@db.example.com/app", "mysql", "mysql+pymysql"),
        ("mysql+mysqldb://u@db.example.com/app", "mysql", "mysql+pymysql"),
        ("mariadb://u@db.example.com/app", "mysql", "mariadb+pymysql"),
    ],
)
def test_when_server_url_then_driver_normalised(spec: str, dialect: str, driver: str) -> None:
    ref = resolve(spec)
    assert ref.dialect == dialect
    assert ref.url.drivername == driver


def test_when_identity_then_localhost_aliases_and_default_port_are_one_database() -> None:
    a = resolve("postgresql://u@localhost/app")
    b = resolve("postgresql://other@127.0.0.1:5432/app")
    c = resolve("postgresql+psycopg://u@[::1]:5432/app")
    assert a.identity == b.identity == c.identity
    assert resolve("postgresql://u@127.0.0.1:5433/app").identity != a.identity  # other port
    assert resolve("postgresql://u@127.0.0.1/other").identity != a.identity  # other database
    assert resolve("mysql://u@127.0.0.1/app").identity != a.identity  # other engine


def test_when_mysql_and_mariadb_schemes_then_same_identity() -> None:
    assert (
        resolve("mysql://root@localhost/app").identity == resolve("mariadb://x@127.0.0.1:3306/app").identity
    )


def test_when_sqlite_paths_then_identity_is_realpath(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    a = resolve("dev.db")
    b = resolve(f"sqlite:///{tmp_path}/sub/../dev.db")
    c = resolve("sqlite:///dev.db")
    assert a.dialect == b.dialect == c.dialect == "sqlite"
    assert a.identity == b.identity == c.identity == ("sqlite", str((tmp_path / "dev.db").resolve()))


def test_when_existing_file_without_suffix_then_sqlite(tmp_path: Path) -> None:
    f = tmp_path / "data"
    f.write_bytes(b"")
    assert resolve(str(f)).dialect == "sqlite"


def test_when_environment_name_then_its_url() -> None:
    ref = resolve("staging", environments={"staging": "postgresql://u@db/staging", "dev": "sqlite:///dev.db"})
    assert ref.dialect == "postgresql" and ref.url.database == "staging"


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("", "no database given"),  # empty
        ("oracle://u@h/db", "unsupported dialect"),  # engine we do not support
        ("sqlite://", "in-memory"),  # nothing to copy into or out of
        ("sqlite:///:memory:", "in-memory"),
        ("no_such_thing", "environment name"),  # neither URL, file nor environment
        ("mysql://u@h", "names no database"),  # MySQL needs a database
        ("postgresql://u@h:99999/db", "port"),  # unparseable port
    ],
)
def test_when_bad_spec_then_url_error_with_fix(spec: str, fragment: str) -> None:
    with pytest.raises(UrlError, match=fragment):
        resolve(spec)


def test_when_password_has_special_characters_then_display_and_errors_hide_it() -> None:
    ref = resolve(f"postgresql://app:{ENCODED}@127.0.0.1:5432/prod")
    assert ref.password == PASSWORD
    assert PASSWORD not in ref.display and ENCODED not in ref.display and "***" in ref.display
    assert PASSWORD not in repr(ref) and ENCODED not in str(ref)
    err = connection_failed(ref, RuntimeError(f"auth failed for {PASSWORD} / {ENCODED}"))
    assert isinstance(err, ConnectionFailed) and err.exit_code == 3
    assert "127.0.0.1:5432/prod" in str(err)
    assert PASSWORD not in str(err) and ENCODED not in str(err)


def test_when_password_not_encoded_then_error_explains_and_hides_it() -> None:
    spec = f"postgresql://app:{PASSWORD}@127.0.0.1/prod"
    with pytest.raises(UrlError) as info:
        resolve(spec)
    assert "percent-encode" in str(info.value)
    assert "w/o%rd" not in str(info.value)
    assert mask_spec(spec).startswith("postgresql://app:***@")
