"""Benchmark: the leak check over a 1,000,000-row, 10-column customers table (SQLite -> SQLite).

    .venv/bin/python bench/bench_verify.py [--rows N] [--batch-size N] [--repeat N] [--reads] [--out DIR]

Builds a "production" table and an anonymised copy (5 columns transformed, 1 free-text column
scrubbed; half the surnames rare, so the free-text name search has work), then times
`sanitize.verify.verify` over them with the column roles a rules file gives (fake kinds) and
reports rows/s (wall and per CPU-second), the fingerprints' memory and peak RSS. `--repeat N`
reports the best and median of N runs (the machine is shared: single runs vary); `--reads` also
times the same reads without any checking.
Target: >= 200,000 rows/s; peak RSS under 500 MB, flat in the batch count (`--batch-size 10000`).
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

from sanitize.db import open_source, resolve
from sanitize.keys import SecretKey
from sanitize.verify import ColumnRole, Roles, Treatment, VerifyOptions, verify

COLUMNS = "id, first_name, last_name, email, phone, city, dob, created_at, balance, notes"
DDL = (
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT UNIQUE, "
    "phone TEXT, city TEXT, dob TEXT, created_at TEXT, balance REAL, notes TEXT)"
)
TREAT: dict[str, Treatment] = {
    "id": "keep",
    "first_name": "transform",
    "last_name": "transform",
    "email": "transform",
    "phone": "transform",
    "city": "keep",
    "dob": "transform",
    "created_at": "keep",
    "balance": "keep",
    "notes": "partial",
}
# what the rules say each column is (a fake's kind), as `verify_plan` reads it from a plan
KINDS = {"first_name": "first_name", "last_name": "last_name", "email": "email", "phone": "phone"}
ROLES = Roles(
    {
        "customers": {
            c: ColumnRole(how, KINDS.get(c, "date_of_birth" if c == "dob" else None))
            for c, how in TREAT.items()
        }
    }
)
FIRST = [f"First{i}" for i in range(700)]
LAST = [f"Last{i}" for i in range(1000)]


def surname(i: int, fake: bool) -> str:
    """A letters-only surname per row (rare name tokens: the free-text name search has work to do)."""
    letters = "".join(chr(97 + (i // 26**k) % 26) for k in range(4))
    return ("Fa" if fake else "Re") + letters


CITIES = [f"City{i}" for i in range(300)]


def rows(n: int, fake: bool, chunk: int = 100_000):
    rng = np.random.default_rng(1 if fake else 0)
    for start in range(0, n, chunk):
        ids = np.arange(start, min(n, start + chunk))
        f = rng.integers(0, len(FIRST), len(ids))
        la = rng.integers(0, len(LAST), len(ids))
        c = rng.integers(0, len(CITIES), len(ids))
        tag = "fake" if fake else "real"
        out = []
        for j, i in enumerate(ids.tolist()):
            note = None
            if i % 10 == 0:
                phone = f"+1 555 {i % 1000:03d} {i % 10000:04d}"
                mr = surname(i, fake)
                note = f"Called about order {i}; reach me at {tag}{i}@mail.example or {phone}, Mr {mr}"
                if fake:
                    note = (
                        f"Called about order {i}; reach me at [email] or [phone], Mr {surname(i + 1, True)}"
                    )
            out.append(
                (
                    i,
                    FIRST[f[j]],
                    surname(i, fake) if i % 2 else LAST[la[j]],
                    f"{tag}.user{i}@mail{i % 7}.example",
                    f"+1 {200 + (i * 3) % 800:03d} {556 if fake else 555} {i % 10000:04d}",
                    CITIES[c[j]],
                    f"19{50 + i % 50}-0{1 + i % 9}-{10 + (i + (3 if fake else 0)) % 18}",
                    f"2024-01-{1 + i % 28:02d}",
                    float(i % 5000),
                    note,
                )
            )
        yield out


def build(path: Path, n: int, fake: bool) -> None:
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute(DDL)
    for chunk in rows(n, fake):
        con.executemany(f"INSERT INTO customers ({COLUMNS}) VALUES ({', '.join('?' * 10)})", chunk)
    con.commit()
    con.close()


def read_only(src: Path, tgt: Path, batch_size: int) -> float:
    """CPU seconds of the reads alone: the columns verify reads (sensitive + key; every text column)."""
    source_cols = ["id", *(c for c, how in TREAT.items() if how != "keep")]
    target_cols = [c.strip() for c in COLUMNS.split(",") if c.strip() != "balance"]
    with open_source(resolve(str(src))) as a, open_source(resolve(str(tgt))) as b:
        c0 = time.process_time()
        for s, cols in ((a, source_cols), (b, target_cols)):
            for _ in s.read_arrow("customers", batch_size, cols):
                pass
        return time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=Path("bench/out"))
    ap.add_argument("--detector", action="store_true", help="also re-run the PII detector on kept columns")
    ap.add_argument("--batch-size", type=int, default=VerifyOptions().batch_size)
    ap.add_argument("--repeat", type=int, default=1, help="runs in this process; best and median reported")
    ap.add_argument("--reads", action="store_true", help="also time the same reads alone (no checks)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    src, tgt = args.out / f"verify_src_{args.rows}.db", args.out / f"verify_tgt_{args.rows}.db"
    if not src.exists() or not tgt.exists():
        t0 = time.perf_counter()
        build(src, args.rows, fake=False)
        build(tgt, args.rows, fake=True)
        print(f"built {args.rows:,} rows x 2 in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    key = SecretKey(b"bench-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    options = VerifyOptions(detector=args.detector, batch_size=args.batch_size)
    runs = []
    for i in range(args.repeat):
        with open_source(resolve(str(src))) as a, open_source(resolve(str(tgt))) as b:
            t0, c0 = time.perf_counter(), time.process_time()
            result = verify(a, b, {"customers": TREAT}, key, options, ROLES)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        runs.append((seconds, cpu))
        if i == 0:  # the peak of the first run: later runs reuse memory the process already holds
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"verify: {args.rows:,} rows (batch {args.batch_size:,}) in {seconds:.2f}s = "
            f"{args.rows / seconds:,.0f} rows/s; CPU {cpu:.2f}s = {args.rows / cpu:,.0f} rows per CPU-second;"
            " "
            f"leaks {result.leak_total}; checks ok {all(c.ok for c in result.checks)}; "
            f"fingerprints {result.fingerprint_bytes / 2**20:.0f} MB; peak RSS {rss:,.0f} MB"
        )
    if args.repeat > 1:
        cpus, walls = sorted(c for _, c in runs), sorted(s for s, _ in runs)
        print(
            f"best of {args.repeat}: {args.rows / walls[0]:,.0f} rows/s, {args.rows / cpus[0]:,.0f} rows per "
            f"CPU-second; median {args.rows / walls[len(walls) // 2]:,.0f} rows/s, "
            f"{args.rows / cpus[len(cpus) // 2]:,.0f} rows per CPU-second"
        )
    if args.reads:
        reads = min(read_only(src, tgt, args.batch_size) for _ in range(max(1, args.repeat)))
        print(
            f"reads alone (best of {max(1, args.repeat)}): CPU {reads:.2f}s = "
            f"{args.rows / reads:,.0f} rows per CPU-second"
        )


if __name__ == "__main__":
    main()
