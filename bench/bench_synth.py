"""Synthetic data benchmark: 1,000,000 rows across a 5-table schema with foreign keys into SQLite.

Usage: python bench/bench_synth.py [TOTAL_ROWS]   (default: 1000000)

Runs the real path, `sanitize.synth.synthesize`: plan the constraints, generate in batches, load a
shadow copy through the db layer, build indexes and foreign keys, run the integrity gate, publish.
Reports generation alone (no database) and end to end, in rows/s, and the peak RSS.
Target (issue 6): >= 100,000 rows/s end to end at 1M rows.
"""

from __future__ import annotations

import resource
import sqlite3
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from sanitize.schema import Column, ForeignKey, Schema, Table
from sanitize.synth import generate_tables, synthesize
from sanitize.synth.generate import plan_batches
from sanitize.synth.plan import build_plan

OUT = Path(__file__).resolve().parent / "out"
TARGET_ROWS_PER_SECOND = 100_000
C = Column
# share of the total rows per table
SHARES = {"customers": 0.10, "products": 0.01, "orders": 0.25, "order_items": 0.50, "payments": 0.14}


def shop_schema() -> Schema:
    tables = [
        Table(
            "customers",
            "customers",
            columns=(
                C("id", "integer", False),
                C("email", "text", False, max_length=80),
                C("first_name", "text", max_length=40),
                C("last_name", "text", max_length=40),
                C("status", "text", False, max_length=12, check_values=("active", "inactive", "blocked")),
                C("created_at", "datetime", False),
            ),
            primary_key=("id",),
            unique_constraints=(("email",),),
        ),
        Table(
            "products",
            "products",
            columns=(
                C("id", "integer", False),
                C("sku", "text", False, max_length=16),
                C("name", "text", max_length=60),
                C("price", "decimal", False, precision=10, scale=2, check_range=(0.01, None)),
            ),
            primary_key=("id",),
            unique_constraints=(("sku",),),
        ),
        Table(
            "orders",
            "orders",
            columns=(
                C("id", "integer", False),
                C("customer_id", "integer", False),
                C("status", "text", False, max_length=12),
                C("total", "decimal", False, precision=12, scale=2),
                C("ordered_at", "datetime", False),
            ),
            primary_key=("id",),
            foreign_keys=(ForeignKey(("customer_id",), "customers", ("id",)),),
        ),
        Table(
            "order_items",
            "order_items",
            columns=(
                C("order_id", "integer", False),
                C("line_no", "integer", False, sql_type=sa.SmallInteger()),
                C("product_id", "integer", False),
                C("quantity", "integer", False, check_range=(1, 99)),
                C("unit_price", "decimal", False, precision=10, scale=2),
            ),
            primary_key=("order_id", "line_no"),
            foreign_keys=(
                ForeignKey(("order_id",), "orders", ("id",)),
                ForeignKey(("product_id",), "products", ("id",)),
            ),
        ),
        Table(
            "payments",
            "payments",
            columns=(
                C("id", "integer", False),
                C("order_id", "integer", False),
                C("amount", "decimal", False, precision=12, scale=2),
                C("method", "text", False, max_length=16),
                C("paid_at", "datetime"),
            ),
            primary_key=("id",),
            foreign_keys=(ForeignKey(("order_id",), "orders", ("id",)),),
        ),
    ]
    return Schema({t.key: t for t in tables})


def main() -> int:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    schema = shop_schema()
    rows = {k: round(total * share) for k, share in SHARES.items()}
    n = sum(rows.values())
    OUT.mkdir(exist_ok=True)
    target = OUT / f"synth_{total}.db"
    target.unlink(missing_ok=True)

    started = time.perf_counter()
    plan = build_plan(schema, rows, seed=1)
    generated = sum(batch.num_rows for _key, batch in plan_batches(plan))
    gen_seconds = time.perf_counter() - started
    print(
        f"generate only (Arrow batches): {generated:,} rows in {gen_seconds:.2f}s = "
        f"{generated / gen_seconds:,.0f} rows/s"
    )

    started = time.perf_counter()
    frames = sum(len(df) for _key, df in generate_tables(schema, rows, seed=1))
    print(f"generate as pandas DataFrames: {frames:,} rows in {time.perf_counter() - started:.2f}s")

    started, cpu_started = time.perf_counter(), time.process_time()
    report = synthesize(str(target), schema=schema, rows=rows, seed=1)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started  # every thread of this process
    rate = n / seconds
    con = sqlite3.connect(target)
    counted = sum(con.execute(f"SELECT count(*) FROM {k}").fetchone()[0] for k in rows)
    orphans = con.execute("PRAGMA foreign_key_check").fetchall()
    con.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"end to end into SQLite (plan, generate, load, indexes, FKs, gate, publish): {n:,} rows across "
        f"{len(rows)} tables in {seconds:.2f}s = {rate:,.0f} rows/s "
        f"(report says {report.rows_per_second:,.0f}); {cpu:.2f} CPU-s = {n / cpu:,.0f} rows per CPU-second"
    )
    print(
        f"rows in the target: {counted:,}; foreign-key violations: {len(orphans)}; peak RSS {peak_mb:,.0f} MB"
    )
    ok = rate >= TARGET_ROWS_PER_SECOND and counted == n and not orphans
    print(f"target >= {TARGET_ROWS_PER_SECOND:,} rows/s: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
