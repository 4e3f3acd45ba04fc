"""Isolation guards: each refusal has its message, and nothing is written to the refused target."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from sanitize.config import Config, parse_config
from sanitize.db.refs import DatabaseRef, resolve
from sanitize.errors import TargetRefusedError
from sanitize.guards import (
    MARKER_TABLE,
    check_isolation,
    check_marker,
    ensure_marker,
    prepare_target,
    read_marker,
)

SECRET = "p@ss:w/rd%#"
ENC = "p%40ss%3Aw%2Frd%25%23"


def config(tmp_path: Path, **urls: str) -> Config:
    roles = {"prod": "production", "prod2": "production", "staging": "staging", "dev": "dev"}
    data = {"environments": {n: {"url": u, "role": roles[n]} for n, u in urls.items()}}
    return parse_config(data, base_dir=tmp_path, environ={})


def snapshot(ref: DatabaseRef) -> dict[str, list[tuple[object, ...]]]:
    """Every table and its rows: the target's whole contents, to compare before and after."""
    engine = sa.create_engine(ref.url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            insp = sa.inspect(conn)
            out = {}
            for t in sorted(insp.get_table_names()):
                rows = conn.execute(
                    sa.text(f'SELECT * FROM "{t}"' if ref.dialect != "mysql" else f"SELECT * FROM `{t}`")
                )
                out[t] = sorted(tuple(r) for r in rows)
            return out
    finally:
        engine.dispose()


def make_db(ref: DatabaseRef, rows: int = 3) -> None:
    engine = sa.create_engine(ref.url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(100))"))
        for i in range(rows):
            conn.execute(
                sa.text("INSERT INTO customers VALUES (:i, :e)"), {"i": i, "e": f"c{i}@real.example"}
            )
    engine.dispose()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- identity guards -------------------------------------------------------------------------------


def test_when_target_environment_is_production_then_refused(tmp_path: Path) -> None:
    cfg = config(tmp_path, prod=str(tmp_path / "prod.db"), dev=str(tmp_path / "dev.db"))
    with pytest.raises(TargetRefusedError, match="'prod' has role production; production is never a target"):
        check_isolation(resolve("prod", environments=cfg.environment_urls()), target_env="prod", config=cfg)
    assert not (tmp_path / "prod.db").exists()


@pytest.mark.parametrize(
    ("prod_url", "target_url"),
    [
        # localhost and 127.0.0.1 on the default port are one server
        ("postgresql://ro@localhost/shop", "postgresql://admin@127.0.0.1:5432/shop"),
        # the IPv6 loopback too, and a different driver does not make it a different database
        ("mysql+pymysql://ro@127.0.0.1:3306/shop", "mariadb://root@[::1]/shop"),
        # postgres:// is postgresql://
        ("postgres://ro@localhost:5432/shop", "postgresql+psycopg://x@localhost/shop"),
    ],
)
def test_when_target_url_is_a_production_database_by_alias_then_refused(
    tmp_path: Path, prod_url: str, target_url: str
) -> None:
    cfg = config(tmp_path, prod=prod_url, staging=target_url)
    target = resolve("staging", environments=cfg.environment_urls())
    with pytest.raises(TargetRefusedError, match="same database as production environment 'prod'"):
        check_isolation(target, target_env="staging", config=cfg)


def test_when_sqlite_target_is_the_production_file_by_another_path_then_refused(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    make_db(resolve(str(tmp_path / "prod.db")))
    before = file_digest(tmp_path / "prod.db")
    cfg = config(tmp_path, prod="sqlite:///prod.db", dev="sub/../prod.db")
    target = resolve("dev", environments=cfg.environment_urls())
    with pytest.raises(TargetRefusedError, match="production is never written to"):
        check_isolation(target, target_env="dev", config=cfg)
    assert file_digest(tmp_path / "prod.db") == before


def test_when_target_is_another_database_then_isolation_passes(tmp_path: Path) -> None:
    cfg = config(
        tmp_path, prod="postgresql://ro@localhost/shop", staging="postgresql://stg@localhost/staging"
    )
    urls = cfg.environment_urls()
    warnings = check_isolation(
        resolve("staging", environments=urls),
        target_env="staging",
        config=cfg,
        source=resolve("prod", environments=urls),
    )
    assert warnings == []


def test_when_target_is_the_source_then_refused(tmp_path: Path) -> None:
    src = resolve(str(tmp_path / "a.db"))
    with pytest.raises(TargetRefusedError, match="is the source database"):
        check_isolation(resolve(f"sqlite:///{tmp_path}/./a.db"), source=src)


@pytest.mark.parametrize(
    ("source_url", "target_url", "warned"),
    [
        # same user and password: warned
        (f"postgresql://app:{ENC}@prod.internal/shop", f"postgresql://app:{ENC}@staging.internal/shop", True),
        # same user and no password on either (trust/peer authentication): the same credentials
        ("postgresql://app@prod.internal/shop", "postgresql://app@staging.internal/shop", True),
        # same user, different password: not shared
        (f"postgresql://app:{ENC}@prod.internal/shop", "postgresql://app:other@staging.internal/shop", False),
        # different user: not shared
        (
            f"postgresql://app:{ENC}@prod.internal/shop",
            f"postgresql://stg:{ENC}@staging.internal/shop",
            False,
        ),
        # SQLite has no credentials
        (f"postgresql://app:{ENC}@prod.internal/shop", "sqlite:///dev.db", False),
    ],
)
def test_when_production_and_target_share_credentials_then_warned_without_password(
    tmp_path: Path, source_url: str, target_url: str, warned: bool
) -> None:
    cfg = config(tmp_path, prod=source_url, staging=target_url)
    urls = cfg.environment_urls()
    warnings = check_isolation(
        resolve("staging", environments=urls),
        target_env="staging",
        config=cfg,
        source=resolve("prod", environments=urls),
    )
    assert bool(warnings) is warned
    if warned:
        assert "shared credentials" in warnings[0] and "'staging'" in warnings[0] and "(app)" in warnings[0]
    for w in warnings:
        assert SECRET not in w and ENC not in w


def test_when_source_is_not_production_then_shared_credentials_are_not_warned(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        prod="postgresql://p@prod.internal/shop",
        staging=f"postgresql://app:{ENC}@staging.internal/shop",
        dev=f"postgresql://app:{ENC}@dev.internal/shop",
    )
    urls = cfg.environment_urls()
    warnings = check_isolation(
        resolve("dev", environments=urls),
        target_env="dev",
        config=cfg,
        source=resolve("staging", environments=urls),
    )
    assert warnings == []


# --- the environment marker ------------------------------------------------------------------------


def test_when_sqlite_target_is_new_then_marker_is_written_on_first_use(tmp_path: Path) -> None:
    ref = resolve(str(tmp_path / "dev.db"))
    assert read_marker(ref) is None
    marker = prepare_target(ref, "dev", "dev")
    assert marker.environment == "dev"
    again = read_marker(ref)
    assert again is not None and again.environment == "dev" and again.role == "dev"
    # the same environment again: accepted, the marker is left as it was
    assert prepare_target(ref, "dev", "dev").created_at == marker.created_at


def test_when_marker_names_another_environment_then_refused_and_nothing_written(tmp_path: Path) -> None:
    ref = resolve(str(tmp_path / "dev.db"))
    make_db(ref)
    prepare_target(ref, "dev", "dev", init_target=True)
    before = file_digest(ref.path)
    contents = snapshot(ref)
    with pytest.raises(TargetRefusedError) as exc:
        prepare_target(ref, "staging", "staging")
    msg = str(exc.value)
    assert "belongs to environment 'dev'" in msg and "not 'staging'" in msg and "--init-target" in msg
    assert file_digest(ref.path) == before and snapshot(ref) == contents


def test_when_target_is_not_empty_and_unmarked_then_refused_and_nothing_written(tmp_path: Path) -> None:
    ref = resolve(str(tmp_path / "someones.db"))
    make_db(ref)
    before = file_digest(ref.path)
    with pytest.raises(TargetRefusedError) as exc:
        prepare_target(ref, "dev", "dev")
    msg = str(exc.value)
    assert (
        "is not empty (1 table(s): customers)" in msg
        and "no sanitize marker" in msg
        and "--init-target" in msg
    )
    assert file_digest(ref.path) == before
    assert read_marker(ref) is None


def test_when_init_target_is_given_then_a_foreign_database_is_adopted(tmp_path: Path) -> None:
    ref = resolve(str(tmp_path / "someones.db"))
    make_db(ref)
    prepare_target(ref, "dev", "dev", init_target=True)
    marker = read_marker(ref)
    assert marker is not None and marker.environment == "dev"
    prepare_target(
        ref, "staging", "staging", init_target=True
    )  # re-targeting needs the flag, and works with it
    marker = read_marker(ref)
    assert marker is not None and marker.environment == "staging"


def test_when_the_target_checks_its_own_emptiness_then_that_answer_is_used(tmp_path: Path) -> None:
    ref = resolve(str(tmp_path / "t.db"))
    with pytest.raises(TargetRefusedError, match="not empty"):
        check_marker(ref, "dev", is_empty=lambda: False)
    assert check_marker(ref, "dev", is_empty=lambda: True) is None


def test_when_publish_replaced_the_file_then_ensure_marker_puts_it_back(tmp_path: Path) -> None:
    ref = resolve(str(tmp_path / "dev.db"))
    prepare_target(ref, "dev", "dev")
    new = tmp_path / "new.db"
    make_db(resolve(str(new)))
    new.replace(ref.path)  # what an atomic SQLite publish does
    assert read_marker(ref) is None
    ensure_marker(ref, "dev", "dev")
    marker = read_marker(ref)
    assert marker is not None and marker.environment == "dev"
    assert snapshot(ref)["customers"]  # the published data is untouched


@pytest.mark.postgres
def test_when_postgres_target_is_marked_then_other_environments_are_refused(pg_url: str) -> None:
    ref = resolve(pg_url)
    assert read_marker(ref) is None
    prepare_target(ref, "staging", "staging")
    make_db(ref)
    contents = snapshot(ref)
    assert MARKER_TABLE not in contents  # it lives in its own schema, outside what a load swaps
    with pytest.raises(TargetRefusedError, match="belongs to environment 'staging'"):
        prepare_target(ref, "dev", "dev")
    assert snapshot(ref) == contents
    marker = read_marker(ref)
    assert marker is not None and marker.environment == "staging"


@pytest.mark.postgres
def test_when_postgres_target_has_tables_in_another_schema_then_it_is_not_empty(pg_url: str) -> None:
    ref = resolve(pg_url)
    engine = sa.create_engine(ref.url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA billing"))
        conn.execute(sa.text("CREATE TABLE billing.invoices (id int)"))
    engine.dispose()
    with pytest.raises(TargetRefusedError, match="billing.invoices"):
        prepare_target(ref, "staging", "staging")
    assert read_marker(ref) is None


@pytest.mark.mariadb
def test_when_mariadb_target_is_unmarked_and_not_empty_then_refused(mariadb_url: str) -> None:
    ref = resolve(mariadb_url)
    make_db(ref)
    contents = snapshot(ref)
    with pytest.raises(TargetRefusedError, match="no sanitize marker"):
        prepare_target(ref, "staging", "staging")
    assert snapshot(ref) == contents
    prepare_target(ref, "staging", "staging", init_target=True)
    marker = read_marker(ref)
    assert marker is not None and marker.environment == "staging"


@pytest.mark.postgres
def test_when_connection_fails_then_message_has_no_password(tmp_path: Path) -> None:
    from sanitize.errors import ConnectionFailed

    ref = resolve(f"postgresql://someone:{ENC}@127.0.0.1:5432/no_such_db_here")
    with pytest.raises(ConnectionFailed) as exc:
        read_marker(ref)
    assert SECRET not in str(exc.value) and ENC not in str(exc.value)
