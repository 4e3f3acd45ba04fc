"""Unique identifiers through the whole pipeline: N rows with UNIQUE iban, card and phone columns.

    .venv/bin/python bench/bench_fpe.py [ROWS]        (default 1,000,000)

Builds a SQLite source whose `accounts` table has UNIQUE iban / card / phone columns (valid IBANs and
Luhn-valid cards), anonymises it with `fake ... unique: true` / `fpe` rules through the CLI (UNIQUE
constraints enforced by the target at publish), then checks every output: distinct, valid checksums,
none equal to a source value. Prints rows/s of the run and the checks.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sanitize.strategies.fake_numbers import iban_valid, luhn_check_digit, luhn_valid  # noqa: E402

RULES = """version: 1
tables:
  accounts:
    columns:
      id: keep
      iban: {strategy: fake, kind: iban, unique: true}
      card: {strategy: fpe, format: credit_card}
      phone: {strategy: fake, kind: phone, unique: true}
"""


def build(path: Path, n: int) -> None:
    rng = np.random.default_rng(7)
    ids = rng.permutation(10**9)[:n] if n <= 10**9 else np.arange(n)  # distinct 9-digit payloads
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, iban TEXT NOT NULL UNIQUE, card TEXT NOT NULL UNIQUE,"
        " phone TEXT NOT NULL UNIQUE)"
    )
    chunk = 100_000
    for start in range(0, n, chunk):
        part = ids[start : start + chunk]
        digits = np.array([[int(c) for c in f"{x:09d}"] for x in part.tolist()])
        payload = np.concatenate([np.tile([4, 5, 3, 2, 1, 0], (len(part), 1)), digits], axis=1)
        cards = np.concatenate([payload, luhn_check_digit(payload)[:, None]], axis=1)
        rows = []
        for i, (x, card) in enumerate(zip(part.tolist(), cards.tolist(), strict=True)):
            bban = f"37040044{x:010d}"
            check = 98 - int(bban + "131400") % 97
            rows.append((start + i, f"DE{check:02d}{bban}", "".join(map(str, card)), f"+49 30 {x:09d}"))
        con.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        src, dst, rules = Path(tmp) / "prod.db", Path(tmp) / "dev.db", Path(tmp) / "rules.yaml"
        build(src, n)
        rules.write_text(RULES)
        env = dict(os.environ, SANITIZE_KEY=os.environ.get("SANITIZE_KEY", "bench-key-" + "0" * 40))
        t0 = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "sanitize.cli", "anonymize", "--rules", str(rules), str(src), str(dst)],
            capture_output=True,
            text=True,
            env=env,
        )
        seconds = time.perf_counter() - t0
        if run.returncode != 0:
            sys.exit(f"anonymize failed ({run.returncode}): {run.stderr}")
        con = sqlite3.connect(dst)
        out = con.execute("SELECT iban, card, phone FROM accounts").fetchall()
        con.close()
        con = sqlite3.connect(src)
        source = con.execute("SELECT iban, card, phone FROM accounts").fetchall()
        con.close()
        cols = list(zip(*out, strict=True))
        srcs = [set(c) for c in zip(*source, strict=True)]
        print(
            f"rows: {len(out):,}; anonymize (CLI, incl. start-up and UNIQUE indexes): {seconds:.1f}s, "
            f"{len(out) / seconds:,.0f} rows/s"
        )
        for name, values, seen in zip(("iban", "card", "phone"), cols, srcs, strict=True):
            print(
                f"  {name}: distinct {len(set(values)) == len(values)}, equal to a source value: "
                f"{len(set(values) & seen)}"
            )
        print(
            f"  iban mod-97 valid: {all(iban_valid(v) for v in cols[0])}; "
            f"card Luhn valid: {all(luhn_valid(v) for v in cols[1])}"
        )


if __name__ == "__main__":
    main()
