"""PII detection benchmarks: `scan` of a wide database, and the `scrub` strategy on short texts.

Usage: python bench/bench_detect.py [--tables 50] [--columns 10] [--rows 3000] [--sample 1000] [--texts 20000]

1. Builds bench/out/detect_<tables>x<columns>_<rows>.db once (values drawn from Faker-made pools, not
   timed): half the tables use honest column names, half meaningless ones (c1, c2, ...); columns mix
   PII (emails, names, phones, addresses, IBANs, IPs, free text, JSON) with ids, timestamps, statuses,
   amounts, SKUs, hashes, UUIDs. Then times `scan_source(sample=N)` over all tables.
   Target (issue 4): 50 tables / 500 columns with --sample 1000 in under 60 s.
2. Times `scrub` (through strategies.apply.apply_strategy) on ~100-character texts, most with PII in them.
   Target: >= 2,000 values/s with the offline detector.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
POOL = 3000


def _pools(seed: int = 1) -> dict[str, list[str]]:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    people = [(fake.name(), fake.email(), fake.phone_number()) for _ in range(POOL)]

    def ticket(i: int) -> str:
        name, email, phone = people[i]
        return rng.choice(
            [
                f"Customer {name} asked about order {rng.randint(1000, 99999)}; reach at {email}.",
                f"Call back on {phone} about the refund of {rng.randint(5, 500)}.99 USD for the lamp.",
                "The parcel arrived damaged; a replacement was sent the next morning by courier.",
                f"{name} wants the invoice re-sent to {email} before Friday, please.",
            ]
        )

    return {
        "email": [p[1] for p in people],
        "name": [p[0] for p in people],
        "phone": [p[2] for p in people],
        "address": [fake.street_address() for _ in range(POOL)],
        "iban": [fake.iban() for _ in range(POOL)],
        "ip": [fake.ipv4() for _ in range(POOL)],
        "first_name": [fake.first_name() for _ in range(POOL)],
        "dob": [fake.date_of_birth().isoformat() for _ in range(POOL)],
        "ticket": [ticket(i) for i in range(POOL)],
        "payload": [
            json.dumps(
                {
                    "user": {"email": people[i][1], "plan": rng.choice(["free", "pro"])},
                    "items": [{"sku": f"SKU-{rng.randint(1000, 9999)}", "qty": rng.randint(1, 4)}],
                }
            )
            for i in range(POOL)
        ],
        "created_at": [fake.date_time().isoformat(" ") for _ in range(POOL)],
        "status": [rng.choice(["new", "paid", "shipped", "cancelled"]) for _ in range(POOL)],
        "amount": [f"{rng.uniform(1, 999):.2f}" for _ in range(POOL)],
        "sku": [f"SKU-{rng.randint(1000, 9999)}-{rng.choice('ABCDEF')}" for _ in range(POOL)],
        "hash": [f"{rng.getrandbits(160):040x}" for _ in range(POOL)],
        "uuid": [fake.uuid4() for _ in range(POOL)],
        "description": [fake.sentence(nb_words=14) for _ in range(POOL)],
        "product": [
            f"{fake.color_name()} {rng.choice(['Chair', 'Lamp', 'Desk', 'Mug'])}" for _ in range(POOL)
        ],
        "quantity": [str(rng.randint(1, 50)) for _ in range(POOL)],
        "user_agent": [fake.user_agent() for _ in range(POOL)],
    }


# (honest column name, pool, SQL type); PII first
PII_POOLS = frozenset(
    {"email", "name", "phone", "address", "iban", "ip", "first_name", "dob", "ticket", "payload"}
)
PALETTE: list[tuple[str, str, str]] = [
    ("email", "email", "TEXT"),
    ("full_name", "name", "TEXT"),
    ("phone", "phone", "TEXT"),
    ("street", "address", "TEXT"),
    ("iban", "iban", "TEXT"),
    ("last_ip", "ip", "TEXT"),
    ("first_name", "first_name", "TEXT"),
    ("dob", "dob", "DATE"),
    ("notes", "ticket", "TEXT"),
    ("payload", "payload", "TEXT"),
    ("created_at", "created_at", "TIMESTAMP"),
    ("status", "status", "TEXT"),
    ("amount", "amount", "NUMERIC"),
    ("sku", "sku", "TEXT"),
    ("checksum", "hash", "TEXT"),
    ("request_id", "uuid", "TEXT"),
    ("description", "description", "TEXT"),
    ("product", "product", "TEXT"),
    ("quantity", "quantity", "INTEGER"),
    ("user_agent", "user_agent", "TEXT"),
]


def build(tables: int, columns: int, rows: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"detect_{tables}x{columns}_{rows}.db"
    if path.exists():
        return path
    pools = _pools()
    rng = random.Random(2)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    truth: dict[str, str] = {}
    for t in range(tables):
        picks = rng.sample(PALETTE[:10], 4) + rng.sample(PALETTE[10:], columns - 5)
        honest = t % 2 == 0
        names = [p[0] if honest else f"c{i + 1}" for i, p in enumerate(picks)]
        cols = ", ".join(f"{n} {p[2]}" for n, p in zip(names, picks, strict=True))
        con.execute(f"CREATE TABLE t{t:02d} (id INTEGER PRIMARY KEY, {cols})")
        truth.update({f"t{t:02d}.{n}": p[1] for n, p in zip(names, picks, strict=True)})
        data = [(r + 1, *(pools[p[1]][rng.randrange(POOL)] for p in picks)) for r in range(rows)]
        con.executemany(f"INSERT INTO t{t:02d} VALUES ({', '.join('?' * columns)})", data)
    con.commit()
    con.close()
    path.with_suffix(".json").write_text(json.dumps(truth, indent=1))  # column -> pool, for recall
    os.replace(tmp, path)
    return path


def _time(label: str, fn: Callable[[], object]) -> tuple[float, object]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    load = os.getloadavg()[0]
    print(
        f"{label}: {dt:.2f} s wall, {cpu:.2f} s CPU (load average {load:.1f} on {os.cpu_count()} cores)",
        flush=True,
    )
    return dt, out


def bench_scan(tables: int, columns: int, rows: int, sample: int) -> float:
    from sanitize.db import open_source, resolve
    from sanitize.detect.engine import get_detector
    from sanitize.detect.scan import scan_source

    path = build(tables, columns, rows)
    _time("detector build (once per process)", get_detector)
    with open_source(resolve(str(path))) as src:
        dt, report = _time(
            f"scan --sample {sample} of {tables} tables / {tables * columns} columns",
            lambda: scan_source(src, sample=sample),
        )
    found = {f"{c.table}.{c.column}" for c in report.pii_columns()}  # type: ignore[attr-defined]
    truth = json.loads(path.with_suffix(".json").read_text())
    planted = {k for k, pool in truth.items() if pool in PII_POOLS}
    hit = found & planted
    print(f"  {dt / (tables * columns) * 1000:.1f} ms per column (target: < 60 s in all)")
    print(
        f"  {len(found)} PII columns found of {len(planted)} planted: recall {len(hit) / len(planted):.3f}, "
        f"precision {len(hit) / max(1, len(found)):.3f}"
    )
    missed = sorted(f"{k} ({truth[k]})" for k in planted - found)
    false_alarms = ", ".join(sorted(found - planted)) or "none"
    print(f"  missed: {', '.join(missed) or 'none'}; false alarms: {false_alarms}")
    return dt


def tickets(n: int, seed: int = 5) -> list[str]:
    """`n` support tickets of ~100 characters, most naming a person (also used by bench_scrub.py)."""
    pools = _pools(seed=seed)
    rng = random.Random(3)
    texts = []
    for i in range(n):
        t = pools["ticket"][i % POOL]
        while len(t) < 90:
            t += " " + rng.choice(["Thanks.", "Regards.", "See attached.", "Order ref ORD-2024-001."])
        texts.append(t[:110])
    return texts


def bench_scrub(n: int) -> float:
    import pandas as pd

    from sanitize.keys import SecretKey
    from sanitize.strategies import get
    from sanitize.strategies.apply import apply_strategy
    from sanitize.strategies.registry import ColumnContext

    values = pd.Series(tickets(n), dtype="str")
    mean_len = values.str.len().mean()
    spec = get("scrub")
    ctx = ColumnContext(key=SecretKey(b"bench-key-0123456789abcdefghijklmnopqrstuvwxyz"), domain="t.notes")
    params = spec.validate_params({})
    apply_strategy(values.iloc[:200], spec, params, ctx)  # warm-up: detector and fake pools
    dt, out = _time(
        f"scrub of {n} texts (mean {mean_len:.0f} chars)", lambda: apply_strategy(values, spec, params, ctx)
    )
    changed = (out != values).mean()  # type: ignore[operator]
    rate = n / dt
    print(f"  {rate:,.0f} values/s; {changed:.0%} of texts changed (target: >= 2,000 values/s)")
    return rate


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tables", type=int, default=50)
    ap.add_argument("--columns", type=int, default=10)
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--texts", type=int, default=20000)
    args, _ = ap.parse_known_args()  # bench/run.py passes every script the same arguments
    os.environ.setdefault("SANITIZE_KEY", "bench-key-0123456789abcdefghijklmnopqrstuvwxyz")
    scan_s = bench_scan(args.tables, args.columns, args.rows, args.sample)
    rate = bench_scrub(args.texts)
    ok = scan_s < 60 and rate >= 2000
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
