"""`sanitize refresh ENV` end to end: guards, anonymise, verify, publish, marker, report, logs."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from sanitize.errors import LeakError, TargetRefusedError
from sanitize.guards import read_marker
from sanitize.refresh import refresh

SECRET = "p@ss:w/rd%#"
ENC = "p%40ss%3Aw%2Frd%25%23"

RULES = """\
version: 1
tables:
  customers:
    columns:
      id: keep
      email: {strategy: fake, kind: email, unique: true, domain: email}
      full_name: {strategy: fake, kind: name}
      notes: {strategy: redact}
      country: keep
  orders:
    columns:
      id: keep
      customer_id: keep
      total: keep
      status: keep
"""

DDL = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, full_name TEXT, notes TEXT,
                        country TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total REAL,
                     status TEXT);
"""


def rows(n: int = 40) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    customers = [
        (
            i,
            f"real.person{i}@corp{i % 4}.com",
            f"Realfirst{i} Reallast{i}",
            f"VIP, mail me at real.person{i}@corp{i % 4}.com" if i % 3 == 0 else None,
            ["DE", "FR", "US"][i % 3],
        )
        for i in range(n)
    ]
    orders = [(100 + i, i % n, float(i) * 1.5, ["new", "paid"][i % 2]) for i in range(2 * n)]
    return customers, orders


def make_sqlite(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.executescript(DDL)
    customers, orders = rows()
    con.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?)", customers)
    con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", orders)
    con.commit()
    con.close()
    return path


def make_server(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        for stmt in DDL.replace("REAL", "DOUBLE PRECISION").split(";"):
            if stmt.strip():
                conn.execute(sa.text(stmt))
        customers, orders = rows()
        conn.execute(
            sa.text("INSERT INTO customers VALUES (:a, :b, :c, :d, :e)"),
            [dict(zip("abcde", r, strict=True)) for r in customers],
        )
        conn.execute(
            sa.text("INSERT INTO orders VALUES (:a, :b, :c, :d)"),
            [dict(zip("abcd", r, strict=True)) for r in orders],
        )
    engine.dispose()


def project(tmp_path: Path, prod: str, dev: str, rules: str = RULES, extra: str = "") -> Path:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "shop.yaml").write_text(rules)
    cfg = tmp_path / "sanitize.yaml"
    cfg.write_text(
        "environments:\n"
        f"  prod: {{url: '{prod}', role: production}}\n"
        f"  dev: {{url: '{dev}', role: dev}}\n"
        f"{extra}"
        "refresh:\n  dev: {from: prod, rules: rules/shop.yaml}\n"
    )
    return cfg


def contents(path: Path) -> dict[str, list[tuple[object, ...]]]:
    con = sqlite3.connect(path)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_when_refreshing_sqlite_then_target_is_loaded_verified_marked_and_reported(tmp_path: Path) -> None:
    prod = make_sqlite(tmp_path / "prod.db")
    before = digest(prod)
    cfg = project(tmp_path, "prod.db", "dev.db")
    doc = refresh("dev", cfg)
    assert doc["status"] == "ok" and doc["published"] is True
    dev = contents(tmp_path / "dev.db")
    assert len(dev["customers"]) == 40 and len(dev["orders"]) == 80
    assert not any("real.person" in repr(r) for r in dev["customers"])
    marker = read_marker(__import__("sanitize.db", fromlist=["resolve"]).resolve(str(tmp_path / "dev.db")))
    assert marker is not None and marker.environment == "dev"
    assert digest(prod) == before  # production is only read
    report = json.loads(Path(doc["report_path"]).read_text())
    assert report["environment"] == "dev" and report["rows"] == 120 and report["verify"]["leaks_total"] == 0
    assert report["rules_sha256"] and report["key_fingerprint"] and report["versions"]["sanitize"]
    assert {c["name"] for c in report["checks"]} >= {"leak check", "row count", "foreign key", "unique"}
    assert Path(doc["report_path"]).parent == tmp_path / "reports"
    # a second run replaces the data and keeps the marker
    assert refresh("dev", cfg)["status"] == "ok"


def test_when_a_rule_lets_pii_through_then_refresh_fails_and_published_data_is_unchanged(
    tmp_path: Path,
) -> None:
    make_sqlite(tmp_path / "prod.db")
    cfg = project(tmp_path, "prod.db", "dev.db")
    refresh("dev", cfg)
    published = contents(tmp_path / "dev.db")
    (tmp_path / "rules" / "shop.yaml").write_text(RULES.replace("notes: {strategy: redact}", "notes: keep"))
    with pytest.raises(LeakError) as exc:
        refresh("dev", cfg)
    assert exc.value.exit_code == 1
    assert "customers.notes" in str(exc.value) and "real.person" not in str(exc.value)
    assert "nothing was published" in str(exc.value)  # the refresh's leak gate says so
    assert contents(tmp_path / "dev.db") == published
    report = json.loads(Path(exc.value.report_path).read_text())  # type: ignore[attr-defined]
    assert report["status"] == "failed: LeakError" and report["published"] is False
    assert "real.person" not in json.dumps(report)


def test_when_dry_run_then_nothing_is_published_or_marked(tmp_path: Path) -> None:
    make_sqlite(tmp_path / "prod.db")
    cfg = project(tmp_path, "prod.db", "dev.db")
    doc = refresh("dev", cfg, dry_run=True)
    assert doc["status"] == "ok" and doc["published"] is False and doc["dry_run"] is True
    assert doc["verify"]["leaks_total"] == 0  # the shadow copy was verified
    assert not (tmp_path / "dev.db").exists() or contents(tmp_path / "dev.db") == {}


def test_when_target_is_the_production_file_by_alias_then_refused_before_anything(tmp_path: Path) -> None:
    prod = make_sqlite(tmp_path / "prod.db")
    before = digest(prod)
    (tmp_path / "x").mkdir()
    cfg = project(tmp_path, "prod.db", "x/../prod.db")
    with pytest.raises(TargetRefusedError, match="same database as production environment 'prod'"):
        refresh("dev", cfg)
    assert digest(prod) == before


def test_when_target_belongs_to_another_environment_then_refused_unless_init_target(tmp_path: Path) -> None:
    make_sqlite(tmp_path / "prod.db")
    other = project(tmp_path, "prod.db", "dev.db")
    refresh("dev", other)
    published = digest(tmp_path / "dev.db")
    cfg = tmp_path / "other.yaml"
    cfg.write_text(
        "environments:\n  prod: {url: prod.db, role: production}\n  qa: {url: dev.db, role: dev}\n"
        "refresh:\n  qa: {from: prod, rules: rules/shop.yaml}\n"
    )
    with pytest.raises(TargetRefusedError, match="belongs to environment 'dev'"):
        refresh("qa", cfg)
    assert digest(tmp_path / "dev.db") == published
    assert refresh("qa", cfg, init_target=True)["status"] == "ok"


def test_when_target_is_someone_elses_database_then_refused(tmp_path: Path) -> None:
    make_sqlite(tmp_path / "prod.db")
    foreign = tmp_path / "app.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE important (x INTEGER)")
    con.execute("INSERT INTO important VALUES (1)")
    con.commit()
    con.close()
    before = digest(foreign)
    cfg = project(tmp_path, "prod.db", "app.db")
    with pytest.raises(TargetRefusedError, match="not empty .* no sanitize marker"):
        refresh("dev", cfg)
    assert digest(foreign) == before


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SANITIZE_KEY": os.environ["SANITIZE_KEY"]}
    return subprocess.run(
        [sys.executable, "-m", "sanitize.cli", *args], capture_output=True, text=True, cwd=cwd, env=env
    )


def test_when_cli_refresh_runs_with_json_logs_then_every_line_names_the_environment(tmp_path: Path) -> None:
    make_sqlite(tmp_path / "prod.db")
    project(tmp_path, "prod.db", "dev.db")
    res = run_cli(["refresh", "dev", "--log-format", "json", "--report", "run.json"], tmp_path)
    assert res.returncode == 0, res.stderr
    lines = [json.loads(x) for x in res.stderr.splitlines() if x.strip()]
    assert lines and all(x["environment"] == "dev" for x in lines)
    assert "dev" in res.stdout and "customers" in res.stdout  # the one-screen summary
    shown = run_cli(["report", "run.json", "--html", "run.html"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert (tmp_path / "run.html").read_text().startswith("<!doctype html>")
    leak = run_cli(["verify", "--rules", "rules/shop.yaml", "prod.db", "prod.db"], tmp_path)
    assert leak.returncode == 1 and "real.person" not in leak.stdout + leak.stderr
    assert run_cli(["verify", "--rules", "rules/shop.yaml", "prod", "dev"], tmp_path).returncode == 0


@pytest.mark.postgres
def test_when_refreshing_postgres_then_passwords_appear_nowhere(
    tmp_path: Path, pg_url: str, pg_url2: str
) -> None:
    # trust authentication accepts any password: the one with every special character rides along
    prod_url = pg_url.replace("postgres@", f"postgres:{ENC}@")
    dev_url = pg_url2.replace("postgres@", f"postgres:{ENC}@")
    make_server(prod_url)
    project(tmp_path, "${PROD_URL}", "${DEV_URL}")
    env = {**os.environ, "PROD_URL": prod_url, "DEV_URL": dev_url}
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "sanitize.cli",
            "refresh",
            "dev",
            "--log-format",
            "json",
            "--report",
            "r.json",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert res.returncode == 0, res.stderr
    report = (tmp_path / "r.json").read_text()
    for text in (res.stdout, res.stderr, report):
        assert SECRET not in text and ENC not in text
    doc = json.loads(report)
    assert doc["rows"] == 120 and doc["verify"]["leaks_total"] == 0
    assert any("shared credentials" in w for w in doc["warnings"])  # same user and password as production
    engine = sa.create_engine(dev_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        emails = [r[0] for r in conn.execute(sa.text("SELECT email FROM customers"))]
        env_name = conn.execute(sa.text("SELECT environment FROM sanitize_env.sanitize_environment")).scalar()
    engine.dispose()
    assert len(emails) == 40 and not any("real.person" in e for e in emails)
    assert env_name == "dev"


def test_when_a_developer_seeds_dev_then_it_gets_synthetic_rows_that_keep_the_schema(tmp_path: Path) -> None:
    make_sqlite(tmp_path / "prod.db")
    cfg = project(tmp_path, "prod.db", "dev.db")
    env = dict(os.environ)
    res = subprocess.run(
        [sys.executable, "-m", "sanitize.cli", "seed", "dev", "--config", str(cfg)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    dev = contents(tmp_path / "dev.db")
    assert dev["customers"] and dev["orders"]
    assert not any("real.person" in repr(r) or "Realfirst" in repr(r) for r in dev["customers"])
    con = sqlite3.connect(tmp_path / "dev.db")
    try:
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        emails = [r[0] for r in con.execute("SELECT email FROM customers")]
        assert len(emails) == len(set(emails)) and all("@" in e for e in emails)
    finally:
        con.close()


@pytest.mark.parametrize("role", ["staging", "production"])
def test_when_seeding_an_environment_whose_role_is_not_dev_then_refused_unless_forced(
    tmp_path: Path, role: str
) -> None:
    make_sqlite(tmp_path / "prod.db")
    cfg = tmp_path / "sanitize.yaml"
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "shop.yaml").write_text(RULES)
    cfg.write_text(
        "environments:\n  prod: {url: prod.db, role: production}\n"
        f"  staging: {{url: staging.db, role: {role}}}\n"
        "  src: {url: prod.db, role: dev}\n"
        + ("refresh:\n  staging: {from: prod, rules: rules/shop.yaml}\n" if role != "production" else "")
    )
    if role != "production":
        refresh("staging", cfg)  # the shared anonymised staging copy
    before = digest(tmp_path / "staging.db") if role != "production" else None
    res = run_cli(["seed", "staging"], tmp_path)
    assert res.returncode == 1, res.stderr
    assert f"environment 'staging' has role {role}" in res.stderr and "--force" in res.stderr
    assert "Traceback" not in res.stderr
    if before is not None:
        assert digest(tmp_path / "staging.db") == before
        forced = run_cli(["seed", "staging", "--force"], tmp_path)
        assert forced.returncode == 0, forced.stderr
        assert digest(tmp_path / "staging.db") != before


def server_objects(url: str) -> set[str]:
    """Every schema and table of a server database (MariaDB: the server's sanitize_* databases too)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                rows = conn.execute(
                    sa.text(
                        "SELECT n.nspname || '.' || coalesce(c.relname, '') FROM pg_namespace n "
                        "LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'v', 'p') "
                        "WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"
                    )
                )
            else:
                database = engine.url.database
                rows = conn.execute(
                    sa.text(
                        "SELECT concat(table_schema, '.', table_name) FROM information_schema.tables "
                        "WHERE table_schema = :db OR table_schema LIKE :shadow"
                    ),
                    {"db": database, "shadow": f"sanitize%{database}"},
                )
            return {str(r[0]) for r in rows}
    finally:
        engine.dispose()


@pytest.mark.parametrize("server", ["postgres", "mariadb"])
def test_when_init_target_meets_objects_sanitize_did_not_create_then_refused_leaving_nothing_behind(
    tmp_path: Path, server: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = request.getfixturevalue("pg_url" if server == "postgres" else "mariadb_url")
    make_sqlite(tmp_path / "prod.db")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:  # someone's own database: a `customers` table of its own, with rows
        conn.execute(sa.text("CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(20))"))
        conn.execute(sa.text("INSERT INTO customers VALUES (1, 'mine')"))
    engine.dispose()
    before = server_objects(url)
    cfg = project(tmp_path, "prod.db", "${DEV_URL}")
    monkeypatch.setenv("DEV_URL", url)
    with pytest.raises(TargetRefusedError, match="did not create"):
        refresh("dev", cfg, init_target=True)
    assert server_objects(url) == before


def test_when_the_key_is_in_the_env_file_next_to_the_config_then_a_run_from_elsewhere_uses_it(
    tmp_path: Path,
) -> None:
    from sanitize.keys import SecretKey

    project_dir = tmp_path / "project"
    project_dir.mkdir()
    make_sqlite(project_dir / "prod.db")
    cfg = project(project_dir, "prod.db", "dev.db")
    in_file = "a-key-kept-in-the-project-env-file-0123456789"
    (project_dir / ".env").write_text(f"SANITIZE_KEY={in_file}\n")
    elsewhere = tmp_path / "cron"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "SANITIZE_KEY"}
    args = [sys.executable, "-m", "sanitize.cli", "refresh", "dev", "--config", str(cfg)]
    args += ["--report", "r.json"]
    res = subprocess.run(args, capture_output=True, text=True, cwd=elsewhere, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    report = json.loads((elsewhere / "r.json").read_text())
    assert report["key_fingerprint"] == SecretKey(in_file.encode()).fingerprint
    # the process environment still wins over the file
    env["SANITIZE_KEY"] = "a-key-from-the-process-environment-987654321"
    res = subprocess.run(args, capture_output=True, text=True, cwd=elsewhere, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    report = json.loads((elsewhere / "r.json").read_text())
    assert report["key_fingerprint"] == SecretKey(env["SANITIZE_KEY"].encode()).fingerprint
