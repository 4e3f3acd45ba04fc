"""Transform-only throughput of every built-in strategy on 1,000,000 values (values/s).

    .venv/bin/python bench/bench_strategies.py [--rows N] [--repeat R] [--only NAME]

Each case runs through `apply_strategy` (the path the pipeline uses: NULL handling, length fit) on
pyarrow-backed input; the best of R runs is reported, since the machine is shared. Pools and
caches are warmed on a small batch first (a one-off per process). Both wall-clock values/s and
values per CPU-second (`time.process_time`, this process only) are reported: on a loaded machine
the CPU figure is the steadier one. The target is checked against the wall figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sanitize.keys import SecretKey
from sanitize.schema import Column
from sanitize.strategies import ColumnContext, get
from sanitize.strategies.apply import apply_strategy

TARGETS = {
    "hash": 2_000_000,
    "mask": 2_000_000,
    "nullify": 2_000_000,
    "redact": 2_000_000,
    "fake:name": 500_000,
    "fake:email": 500_000,
    "fake:phone": 500_000,
    "fpe:credit_card (unique)": 200_000,
    "fpe:iban (unique)": 200_000,
    "fake:phone (unique)": 200_000,
}


def emails(n: int) -> pd.Series:
    return pd.Series([f"user{i}.name@corp{i % 97}.com" for i in range(n)], dtype="str")


def phones(n: int) -> pd.Series:
    return pd.Series(
        [f"+1 ({200 + i % 800:03d}) {i % 1000:03d}-{i % 10000:04d}" for i in range(n)], dtype="str"
    )


def cards(n: int) -> pd.Series:
    """16-digit card numbers (Luhn is not needed for the speed figure)."""
    return pd.Series([f"4{(i * 7919) % 10**15:015d}" for i in range(n)], dtype="str")


def ibans(n: int) -> pd.Series:
    return pd.Series([f"DE00{(i * 7919) % 10**18:018d}" for i in range(n)], dtype="str")


def ints(n: int) -> pd.Series:
    return pd.Series(np.arange(n, dtype=np.int64) * 7919)


def floats(n: int) -> pd.Series:
    return pd.Series(np.linspace(1.0, 1e6, n))


def stamps(n: int) -> pd.Series:
    return pd.Series(pd.date_range("2000-01-01", periods=n, freq="min"))


def decimals(n: int) -> pd.Series:
    """NUMERIC(12,2) as database reads and dumps deliver it: an Arrow decimal128 column."""
    cents = (np.arange(n, dtype=np.int64) * 7919) % 1_000_000_000 - 300_000_000
    words = np.stack([cents, cents >> 63], axis=1)  # 128-bit little-endian two's complement
    arr = pa.Array.from_buffers(pa.decimal128(12, 2), n, [None, pa.py_buffer(words.tobytes())])
    return pd.Series(pd.array(arr, dtype=pd.ArrowDtype(pa.decimal128(12, 2))))


def arrow_dates(n: int) -> pd.Series:
    days = pa.array(np.arange(n, dtype=np.int32) % 30_000, type=pa.date32())
    return pd.Series(pd.array(days, dtype=pd.ArrowDtype(pa.date32())))


def iso_dates(n: int) -> pd.Series:
    base = dt.date(1950, 1, 1).toordinal()
    return pd.Series([dt.date.fromordinal(base + i % 25_000).isoformat() for i in range(n)], dtype="str")


def documents(n: int) -> pd.Series:
    return pd.Series(
        [json.dumps({"user": {"email": f"u{i}@x.com", "id": i}, "n": i}) for i in range(n)], dtype="str"
    )


# (label, strategy, params, input builder, column, rows scale)
Case = tuple[str, str, dict[str, Any], Callable[[int], pd.Series], Column | None, float]
CASES: list[Case] = [
    ("keep", "keep", {}, emails, None, 1.0),
    ("nullify", "nullify", {}, emails, None, 1.0),
    ("redact", "redact", {}, emails, Column("c", "text", max_length=64), 1.0),
    ("mask", "mask", {"keep_last": 4}, emails, Column("c", "text", max_length=64), 1.0),
    ("mask (separators)", "mask", {"keep_last": 4, "keep_separators": True}, phones, None, 1.0),
    ("hash", "hash", {}, emails, Column("c", "text", max_length=64), 1.0),
    ("hash (unique, 96 bits)", "hash", {}, emails, Column("c", "text", max_length=64), 1.0),
    ("hash -> integer", "hash", {}, ints, Column("c", "integer"), 1.0),
    *[
        (
            f"fake:{k}",
            "fake",
            {"kind": k},
            phones if k == "phone" else emails,
            Column("c", "text", max_length=255),
            1.0,
        )
        for k in (
            "name",
            "first_name",
            "last_name",
            "email",
            "phone",
            "username",
            "url",
            "address",
            "street",
            "city",
            "postcode",
            "company",
            "text",
            "ipv4",
            "ipv6",
            "iban",
            "credit_card",
            "ssn",
            "uuid",
            "date_of_birth",
        )
    ],
    ("fake:email (unique)", "fake", {"kind": "email"}, emails, Column("c", "text", max_length=255), 1.0),
    ("fake:job (per value)", "fake", {"kind": "job"}, emails, None, 0.01),
    ("fpe:credit_card (unique)", "fpe", {"format": "credit_card"}, cards, None, 1.0),
    ("fpe:iban (unique)", "fpe", {"format": "iban"}, ibans, None, 1.0),
    ("fake:phone (unique)", "fake", {"kind": "phone"}, phones, None, 1.0),
    ("date_shift (timestamps)", "date_shift", {"max_days": 30}, stamps, Column("c", "datetime"), 1.0),
    ("date_shift (ISO text)", "date_shift", {"max_days": 30}, iso_dates, Column("c", "text"), 1.0),
    ("noise", "noise", {"relative": 0.1}, floats, Column("c", "float"), 1.0),
    (
        "noise (decimal)",
        "noise",
        {"relative": 0.05},
        decimals,
        Column("c", "decimal", precision=12, scale=2),
        1.0,
    ),
    ("generalize (step)", "generalize", {"step": 100}, ints, Column("c", "integer"), 1.0),
    (
        "generalize (decimal step)",
        "generalize",
        {"step": 0.5},
        decimals,
        Column("c", "decimal", precision=12, scale=2),
        1.0,
    ),
    ("generalize (Arrow dates)", "generalize", {"unit": "month"}, arrow_dates, Column("c", "date"), 1.0),
    (
        "json (2 paths)",
        "json",
        {"paths": {"$.user.email": {"strategy": "fake", "kind": "email"}, "$.user.id": "hash"}},
        documents,
        Column("c", "json"),
        0.1,
    ),
]


def measure(case: Case, rows: int, repeat: int, key: SecretKey) -> tuple[int, float, float]:
    label, name, params, build, column, scale = case
    n = max(1000, int(rows * scale))
    values = build(n)
    spec = get(name)
    p = spec.validate_params(params)
    ctx = ColumnContext(key=key, domain="bench.c", table="bench", column=column, unique="unique" in label)
    apply_strategy(values.iloc[:1000], spec, p, ctx)  # warm pools and caches
    best = best_cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        apply_strategy(values, spec, p, ctx)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return n, n / best, n / max(best_cpu, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=None, help="run only cases whose label contains this")
    args = parser.parse_args()
    key = SecretKey(b"bench-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    print(f"{'strategy':28} {'values':>10} {'values/s':>12} {'per CPU s':>12} {'target':>10}  ok")
    failed = []
    for case in CASES:
        if args.only and args.only not in case[0]:
            continue
        n, rate, cpu_rate = measure(case, args.rows, args.repeat, key)
        target = TARGETS.get(case[0])
        ok = "" if target is None else ("yes" if rate >= target else "NO")
        if ok == "NO":
            failed.append(case[0])
        print(f"{case[0]:28} {n:>10,} {rate:>12,.0f} {cpu_rate:>12,.0f} {target or '':>10}  {ok}", flush=True)
    if failed:
        print("below target: " + ", ".join(failed))
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
