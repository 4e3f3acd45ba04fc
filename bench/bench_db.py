"""Copy throughput of the database layer: 1M rows x 10 columns, per engine, with peak RSS.

    .venv/bin/python bench/bench_db.py                 # sqlite, postgresql, mariadb; 1,000,000 rows
    .venv/bin/python bench/bench_db.py --rows 5000000 --engines postgresql

For each engine a source table is built on the server (or file), then (1) copied source -> target
through `open_source` / `open_target(...).begin_load` / `write` / `finish` / `publish` (no transform)
and (2) anonymised end to end by `sanitize.pipeline.anonymize` with the core benchmark's rules (5 of
the 10 columns transformed: the figure issue 3's targets are about), each measurement in a fresh
subprocess so peak RSS is its own. PostgreSQL also runs the baseline the
issue asks for: a bare `COPY (SELECT ...) TO STDOUT` piped into `COPY ... FROM STDIN` between the same
two databases, and reports our time / baseline time.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_ADMIN = os.environ.get("SANITIZE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MY_HOST = os.environ.get("SANITIZE_BENCH_MARIADB_HOST", "127.0.0.1")
COLUMNS = (
    "id bigint PRIMARY KEY, customer_no integer NOT NULL, amount numeric(12,2), score double precision, "
    "email varchar(120), full_name text, city text, phone varchar(32), created timestamp, active boolean"
)
BATCH = 65_536


def pg_url(db: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + db


def build_pg(rows: int) -> tuple[str, str]:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        for db in ("sanitize_bench_src", "sanitize_bench_dst", "sanitize_bench_base"):
            c.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")  # type: ignore[arg-type]
            c.execute(f"CREATE DATABASE {db}")  # type: ignore[arg-type]
    with psycopg.connect(pg_url("sanitize_bench_src"), autocommit=True) as c:
        c.execute(f"CREATE TABLE customers ({COLUMNS})")  # type: ignore[arg-type]
        c.execute(  # type: ignore[arg-type]
            "INSERT INTO customers SELECT g, g % 100000, (g % 100000) / 100.0, g / 7.0, "
            "'user' || g || '@example.com', 'Name ' || g, 'City ' || (g % 1000), "
            "'+1 555 ' || lpad((g % 10000000)::text, 7, '0'), "
            f"timestamp '2020-01-01' + g * interval '1 second', g % 2 = 0 FROM generate_series(1, {rows}) g"
        )
        c.execute("VACUUM ANALYZE customers")
    with psycopg.connect(pg_url("sanitize_bench_base"), autocommit=True) as c:
        c.execute(f"CREATE TABLE customers ({COLUMNS})")  # type: ignore[arg-type]
    return pg_url("sanitize_bench_src"), pg_url("sanitize_bench_dst")


def build_mariadb(rows: int) -> tuple[str, str]:
    import pymysql

    with pymysql.connect(host=MY_HOST, user="root", autocommit=True) as c, c.cursor() as cur:
        for db in ("sanitize_bench_src", "sanitize_bench_dst"):
            cur.execute(f"DROP DATABASE IF EXISTS {db}")
            cur.execute(f"CREATE DATABASE {db} CHARACTER SET utf8mb4")
        cur.execute("USE sanitize_bench_src")
        cur.execute(f"CREATE TABLE customers ({COLUMNS.replace('double precision', 'double')})")
        cur.execute(
            "INSERT INTO customers SELECT seq, seq % 100000, (seq % 100000) / 100.0, seq / 7.0, "
            "CONCAT('user', seq, '@example.com'), CONCAT('Name ', seq), CONCAT('City ', seq % 1000), "
            "CONCAT('+1 555 ', LPAD(seq % 10000000, 7, '0')), "
            f"TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND, seq % 2 = 0 FROM seq_1_to_{rows}"
        )
    base = f"mysql+pymysql://root@{MY_HOST}:3306/"
    return base + "sanitize_bench_src", base + "sanitize_bench_dst"


def build_sqlite(rows: int, directory: Path) -> tuple[str, str]:
    import sqlite3

    src = directory / "src.db"
    with sqlite3.connect(src) as c:
        c.execute(f"CREATE TABLE customers ({COLUMNS.replace('double precision', 'real')})")
        c.execute(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?) "
            "INSERT INTO customers SELECT n, n % 100000, (n % 100000) / 100.0, n / 7.0, 'user' || n || "
            "'@example.com', 'Name ' || n, 'City ' || (n % 1000), "
            "'+1 555 ' || substr('0000000' || (n % 10000000), -7), "
            "datetime('2020-01-01', '+' || n || ' seconds'), n % 2 FROM g",
            (rows,),
        )
    return str(src), str(directory / "dst.db")


def drop_databases(engine: str) -> None:
    """Remove what the benchmark built on the servers."""
    names = ("sanitize_bench_src", "sanitize_bench_dst", "sanitize_bench_base")
    if engine == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            for db in names:
                c.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")  # type: ignore[arg-type]
    elif engine == "mariadb":
        import pymysql

        with pymysql.connect(host=MY_HOST, user="root", autocommit=True) as c, c.cursor() as cur:
            for db in names:
                cur.execute(f"DROP DATABASE IF EXISTS {db}")


def copy_once(src_spec: str, dst_spec: str) -> dict[str, float]:
    """One copy through the library (run in a child process)."""
    from sanitize.db import open_source, open_target, resolve

    t0 = time.perf_counter()
    c0 = time.process_time()
    rows = 0
    with open_source(resolve(src_spec)) as src, open_target(resolve(dst_spec)).begin_load(src.schema) as load:
        t_read = 0.0
        for key in src.schema.load_order():
            it = src.read_batches(key, batch_size=BATCH)
            while True:
                t = time.perf_counter()
                batch = next(it, None)
                t_read += time.perf_counter() - t
                if batch is None:
                    break
                load.write(key, batch)
                rows += len(batch)
        t_load = time.perf_counter()
        load.finish()
        t_finish = time.perf_counter() - t_load
        load.publish()
    total = time.perf_counter() - t0
    cpu = time.process_time() - c0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "rows": rows,
        "seconds": round(total, 2),
        "rows_per_s": round(rows / total),
        "cpu_seconds": round(cpu, 2),
        "rows_per_cpu_s": round(rows / cpu),
        "read_seconds": round(t_read, 2),
        "finish_seconds": round(t_finish, 2),
        "peak_rss_mb": round(peak_mb),
    }


RULES = """version: 1
tables:
  customers:
    columns:
      id: keep
      customer_no: keep
      amount: {strategy: noise, relative: 0.05}
      score: keep
      email: {strategy: fake, kind: email, unique: true, domain: email}
      full_name: {strategy: fake, kind: name}
      city: hash
      phone: {strategy: fake, kind: phone}
      created: keep
      active: keep
"""


def anonymize_once(src_spec: str, dst_spec: str) -> dict[str, float]:
    """`sanitize anonymize` with the core benchmark's rules (5 of 10 columns transformed), in a child."""
    import yaml

    from sanitize.keys import SecretKey
    from sanitize.pipeline import anonymize
    from sanitize.rules import parse_rules

    key = SecretKey(b"bench-key-0123456789-abcdefghijklmnop")
    t0 = time.perf_counter()
    c0 = time.process_time()
    report = anonymize(parse_rules(yaml.safe_load(RULES)), src_spec, dst_spec, key=key, batch_size=BATCH)
    total = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return {
        "rows": report.rows,
        "seconds": round(total, 2),
        "rows_per_s": round(report.rows / total),
        "cpu_seconds": round(cpu, 2),
        "rows_per_cpu_s": round(report.rows / cpu),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def pg_baseline(src_url: str, dst_url: str) -> dict[str, float]:
    """Bare COPY TO STDOUT piped into COPY FROM STDIN (text format), the floor the issue compares to."""
    import psycopg

    t0 = time.perf_counter()
    with psycopg.connect(src_url) as a, psycopg.connect(dst_url) as b:
        with (
            a.cursor().copy("COPY customers TO STDOUT") as out,
            b.cursor().copy("COPY customers FROM STDIN") as inp,
        ):
            for chunk in out:
                inp.write(chunk)
        b.commit()
    total = time.perf_counter() - t0
    with psycopg.connect(dst_url) as b:
        rows = b.execute("SELECT count(*) FROM customers").fetchone()[0]  # type: ignore[index]
    return {"rows": rows, "seconds": round(total, 2), "rows_per_s": round(rows / total)}


def in_child(what: str, *args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", what, *args], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    # bytecode for the package, as an installed wheel has it: an editable checkout run with
    # PYTHONDONTWRITEBYTECODE (set on this machine) would recompile every module at every start
    compileall.compile_dir(Path(__file__).resolve().parents[1] / "sanitize", quiet=1)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--engines", default="sqlite,postgresql,mariadb")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        what, *args = a.child
        run = {"copy": copy_once, "anonymize": anonymize_once, "baseline": pg_baseline}[what]
        print(json.dumps(run(*args)))
        return
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine in a.engines.split(","):
            t = time.perf_counter()
            if engine == "sqlite":
                src, dst = build_sqlite(a.rows, Path(tmp))
            elif engine == "postgresql":
                src, dst = build_pg(a.rows)
            else:
                src, dst = build_mariadb(a.rows)
            print(f"{engine}: built {a.rows:,} rows in {time.perf_counter() - t:.1f}s", file=sys.stderr)
            results[engine] = in_child("copy", src, dst)
            results[f"{engine}_anonymize"] = in_child("anonymize", src, dst)
            if engine == "postgresql":
                base = in_child("baseline", src, pg_url("sanitize_bench_base"))
                results["postgresql_bare_copy"] = base
                for what in (engine, f"{engine}_anonymize"):
                    results[what]["ratio_to_bare_copy"] = round(results[what]["seconds"] / base["seconds"], 2)
            for what in (engine, f"{engine}_anonymize"):
                print(f"{what}: {results[what]}", file=sys.stderr)
            drop_databases(engine)
    print(json.dumps({"rows": a.rows, "columns": 10, "results": results}, indent=2))


if __name__ == "__main__":
    main()
