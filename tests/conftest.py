"""Shared fixtures: a secret key, and fresh PostgreSQL / MariaDB databases.

Server tests run against the machine's real servers. Where a server is missing they skip with the
reason — except in CI (CI=true), where a missing server is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from sanitize.keys import SecretKey

TEST_KEY = "test-key-0123456789-abcdefghijklmnopqrstuvwxyz"
PG_ADMIN_URL = os.environ.get("SANITIZE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_ADMIN_URL = os.environ.get("SANITIZE_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def _sanitize_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs with a known key unless it removes it on purpose."""
    monkeypatch.setenv("SANITIZE_KEY", TEST_KEY)


@pytest.fixture
def key() -> SecretKey:
    return SecretKey(TEST_KEY.encode())


def _unavailable(what: str, exc: Exception) -> None:
    msg = f"{what} is not reachable ({type(exc).__name__}: {exc})"
    if IN_CI:
        pytest.fail(f"{msg}; CI requires it", pytrace=False)
    pytest.skip(f"{msg}; start it to run this test")


def _fresh_database(admin_url: str, what: str) -> Iterator[str]:
    import sqlalchemy as sa

    name = f"sanitize_t_{uuid.uuid4().hex[:10]}"
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    except Exception as exc:  # noqa: BLE001 - any failure means the server is not usable
        _unavailable(what, exc)
        return
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            if admin.dialect.name == "postgresql":
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database (dropped afterwards); its SQLAlchemy URL."""
    yield from _fresh_database(PG_ADMIN_URL, "PostgreSQL at 127.0.0.1:5432")


@pytest.fixture
def pg_url2() -> Iterator[str]:
    """A second new, empty PostgreSQL database, for source -> target tests."""
    yield from _fresh_database(PG_ADMIN_URL, "PostgreSQL at 127.0.0.1:5432")


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A new, empty MariaDB database (dropped afterwards); its SQLAlchemy URL."""
    yield from _fresh_database(MARIADB_ADMIN_URL, "MariaDB at 127.0.0.1:3306")


@pytest.fixture
def mariadb_url2() -> Iterator[str]:
    """A second new, empty MariaDB database."""
    yield from _fresh_database(MARIADB_ADMIN_URL, "MariaDB at 127.0.0.1:3306")


def run_cli(*args: str, cwd: object = None, unset: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """`sanitize ARGS` in a subprocess with the test key (and without the variables in `unset`)."""
    env = {k: v for k, v in dict(os.environ, SANITIZE_KEY=TEST_KEY).items() if k not in unset}
    return subprocess.run(
        [sys.executable, "-m", "sanitize.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,  # type: ignore[arg-type]
        timeout=300,
    )
