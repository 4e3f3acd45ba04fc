"""The transform stage: `DataFrame -> DataFrame`, pure, per batch.

Each column goes through `sanitize.strategies.apply.apply_strategy` (NULLs out and back, length fit);
it is re-exported here for callers that import it from this module.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

import pandas as pd

from sanitize.keys import SecretKey
from sanitize.strategies.apply import apply_strategy, fit_length
from sanitize.strategies.registry import ColumnContext

if TYPE_CHECKING:
    from sanitize.plan import TablePlan

__all__ = ["apply_strategy", "default_workers", "fit_length", "map_ordered", "transform_batch"]

T = TypeVar("T")
R = TypeVar("R")
MAX_WORKERS = 4


def transform_batch(
    df: pd.DataFrame,
    plan: TablePlan,
    key: SecretKey,
    locale: str = "en_US",
    progress: Callable[[str, int, int | None], None] | None = None,
) -> pd.DataFrame:
    """One batch of one table through its plan: a new DataFrame; `keep` columns pass through untouched.

    `progress` is handed to the strategies for work that is long within a batch (scrub of long texts)."""
    out: dict[str, pd.Series] = {}
    for name, cp in plan.columns.items():
        if name not in df.columns:
            continue
        values = df[name]
        if not cp.transforms:
            out[name] = values
            continue
        ctx = ColumnContext(
            key=key,
            domain=cp.domain,
            table=plan.key,
            column=cp.column,
            locale=locale,
            unique=cp.unique,
            unique_domains=plan.unique_domains,
            frame=df if cp.spec.reads_columns(cp.params) else None,
            known=plan.known,
            progress=progress,
        )
        out[name] = apply_strategy(values, cp.spec, cp.params, ctx)
    return pd.DataFrame(out, index=df.index)


def default_workers() -> int:
    """Transform threads: one per CPU this process may use but one, at most MAX_WORKERS.

    The reader and the writer thread keep about one CPU busy between them; on two CPUs a second
    transform thread gained nothing and held ~50 MB more (`sanitize anonymize` of bench/bench_e2e.py's
    1M rows, six runs each: median 4.50 s with one, 4.58 s with two)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cpus - 1))


def map_ordered(work: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """`work(item)` for every item on up to `workers` threads; results come in the order of `items`.

    Transforms are pure and batch-split invariant, and their numpy/pyarrow kernels release the GIL,
    so batches transform side by side while the reader and the writer run on their own threads. At
    most `workers + 1` items are in flight (memory stays bounded); the first error is raised here and
    the work not yet started is cancelled. With one worker everything runs on the calling thread.
    """
    if workers <= 1:
        for item in items:
            yield work(item)
        return
    pending: deque[Future[R]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="sanitize-transform") as pool:
        try:
            for item in items:
                pending.append(pool.submit(work, item))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()
