"""End-to-end benchmark: SQLite -> SQLite anonymisation of a 10-column customers table.

Usage: python bench/bench_e2e.py [ROWS ...]   (default: 1000000 5000000)

Builds bench/out/customers_<rows>.db once (vectorised, not timed), then runs `sanitize anonymize` in a
child process with 5 of the 10 columns transformed and reports rows/s (wall), rows per CPU-second of
the child (user + system, all threads: the figure to compare on a shared machine) and its peak RSS;
then, as a floor measured in the same state of the machine, a bare ADBC read + ADBC ingest of the same
table in a new process (`bare rows/s`) and how many times longer the real run took (`x bare`).
Targets (issue 2): >= 250,000 rows/s end to end; peak RSS < 500 MB at 1M and at 5M rows.
"""

from __future__ import annotations

import compileall
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"
RULES = """version: 1
tables:
  customers:
    columns:
      id: keep
      email: {strategy: fake, kind: email, unique: true, domain: email}
      full_name: {strategy: fake, kind: name}
      phone: {strategy: fake, kind: phone}
      ssn: hash
      city: keep
      country: keep
      balance: {strategy: noise, relative: 0.05}
      status: keep
      created_at: keep
"""


def build(rows: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"customers_{rows}.db"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    con.execute(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(120) NOT NULL UNIQUE,"
        " full_name VARCHAR(100), phone VARCHAR(32), ssn CHAR(11),"
        " city VARCHAR(60), country CHAR(2), balance NUMERIC(12,2),"
        " status VARCHAR(10), created_at TIMESTAMP)"
    )
    rng = np.random.default_rng(1)
    chunk = 200_000
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        ids = np.arange(start + 1, start + n + 1)
        a, b, c = rng.integers(200, 999, n), rng.integers(100, 999, n), rng.integers(1000, 9999, n)
        data = zip(
            ids.tolist(),
            [f"user{i}@mail{i % 97}.example.com" for i in ids.tolist()],
            [f"Name{i % 5000} Surname{i % 7919}" for i in ids.tolist()],
            [f"+1 ({x}) {y}-{z}" for x, y, z in zip(a.tolist(), b.tolist(), c.tolist(), strict=True)],
            [
                f"{x:03d}-{y % 100:02d}-{z:04d}"
                for x, y, z in zip(a.tolist(), b.tolist(), c.tolist(), strict=True)
            ],
            [f"City{i % 300}" for i in ids.tolist()],
            ["US"] * n,
            np.round(rng.uniform(0, 10000, n), 2).tolist(),
            [("active", "closed", "new")[i % 3] for i in ids.tolist()],
            [f"2024-01-{1 + i % 28:02d} 10:00:00" for i in ids.tolist()],
            strict=True,
        )
        con.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?,?)", data)
    con.commit()
    con.close()
    tmp.rename(path)
    return path


def run(rows: int) -> tuple[float, float, float]:
    src = build(rows)
    rules = OUT / "bench_rules.yaml"
    rules.write_text(RULES)
    target = OUT / f"anon_{rows}.db"
    target.unlink(missing_ok=True)
    env = dict(
        os.environ, SANITIZE_KEY=os.environ.get("SANITIZE_KEY", "bench-key-0123456789-abcdefghijklmnop")
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "sanitize.cli", "anonymize", "--rules", str(rules), str(src), str(target)],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"anonymize failed: {res.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_mb = after.ru_maxrss / 1024  # the largest child so far: run sizes in increasing order
    return rows / seconds, rows / cpu, peak_mb


BARE_COPY = """
import sys
import adbc_driver_sqlite.dbapi as adbc
src, dst = sys.argv[1], sys.argv[2]
with adbc.connect(f"file:{src}?mode=ro", autocommit=False) as a, adbc.connect(dst, autocommit=True) as b:
    read, write = a.cursor(), b.cursor()
    for pragma in ("journal_mode=OFF", "synchronous=OFF"):
        write.execute(f"PRAGMA {pragma}")
        write.fetchall()
    read.execute("SELECT * FROM customers")
    for i, batch in enumerate(read.fetch_record_batch()):
        write.adbc_ingest("customers", batch, mode="create" if i == 0 else "append")
    read.close()
    write.close()
"""


def bare_copy(rows: int) -> float:
    """Seconds for the floor: a new process that reads the table with ADBC and ingests it with ADBC
    into a new file (no transform, no constraints, no indexes, no atomic publish)."""
    target = OUT / f"bare_{rows}.db"
    target.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", BARE_COPY, str(build(rows)), str(target)], check=True)
    seconds = time.perf_counter() - t0
    target.unlink()
    return seconds


def main() -> None:
    # bytecode for the package, as an installed wheel has it: an editable checkout run with
    # PYTHONDONTWRITEBYTECODE (set on this machine) would recompile every module at every start
    compileall.compile_dir(Path(__file__).resolve().parents[1] / "sanitize", quiet=1)
    sizes = [int(a) for a in sys.argv[1:]] or [1_000_000, 5_000_000]
    print(
        f"{'rows':>10} {'rows/s':>12} {'rows/CPU-s':>12} {'peak RSS MB':>12} {'bare rows/s':>12} "
        f"{'x bare':>7}  (target: >=250,000 rows/s, <500 MB)"
    )
    for n in sizes:
        rate, per_cpu, peak = run(n)
        bare = bare_copy(n)  # right after, so both see the machine in the same state
        print(
            f"{n:>10,} {rate:>12,.0f} {per_cpu:>12,.0f} {peak:>12,.0f} {n / bare:>12,.0f} "
            f"{(n / rate) / bare:>7.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
