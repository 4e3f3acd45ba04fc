"""The transform stage: `DataFrame -> DataFrame`, pure, per batch.

`apply_strategy` is the one place that runs a strategy on a column: it removes NULLs before the
strategy and puts them back after (NULL stays NULL), fits text to the target column's length, and
never touches the caller's data.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.keys import SecretKey
from sanitize.strategies.registry import ColumnContext, Params, StrategySpec

if TYPE_CHECKING:
    from sanitize.plan import TablePlan

T = TypeVar("T")
R = TypeVar("R")
MAX_WORKERS = 4


def _with_nulls(out: pd.Series, index: pd.Index) -> pd.Series:
    """Spread `out` over `index`, NULL where it has no value; numpy dtypes become Arrow so ints stay ints."""
    dt = out.dtype
    if isinstance(dt, np.dtype) and dt.kind in "iubfMm":
        out = out.astype(pd.ArrowDtype(pa.from_numpy_dtype(dt)))
    full = out.reindex(index)
    if full.dtype == object:
        full = full.astype(object).where(full.index.isin(out.index), None)
    return full


def fit_length(out: pd.Series, max_length: int | None) -> pd.Series:
    """Cut text longer than the column allows (strategies aim to fit; this is the last guard)."""
    if not max_length or not pd.api.types.is_string_dtype(out.dtype):
        return out
    dt = out.dtype
    if isinstance(dt, pd.ArrowDtype) or getattr(dt, "storage", None) == "pyarrow":
        # Arrow-backed text: a value has at least as many bytes as characters, and byte lengths are
        # offset differences, so the common case (everything fits) costs no UTF-8 decoding
        longest = pc.max(pc.binary_length(pa.array(out.array))).as_py()
        if longest is None or longest <= max_length:
            return out
    lengths = out.str.len()
    if not (lengths > max_length).any():
        return out
    return out.str.slice(0, max_length)


def apply_strategy(values: pd.Series, spec: StrategySpec, params: Params, ctx: ColumnContext) -> pd.Series:
    """Run one strategy over one column of one batch; NULLs pass through as NULL."""
    mask = values.notna().to_numpy(dtype=bool)
    if mask.all():
        nonnull, frame = values, ctx.frame
    else:
        nonnull = values[mask]
        frame = ctx.frame[mask] if ctx.frame is not None else None
    out = spec.fn(nonnull, params, replace(ctx, frame=frame))
    if len(out) != len(nonnull):
        raise AssertionError(f"strategy {spec.name} returned {len(out)} values for {len(nonnull)}")
    out = pd.Series(
        out.array if isinstance(out.dtype, pd.api.extensions.ExtensionDtype) else out.to_numpy(),
        index=nonnull.index,
        dtype=out.dtype,
        name=values.name,
    )
    out = fit_length(out, ctx.max_length if ctx.kind in (None, "text") else None)
    if mask.all():
        return out
    return _with_nulls(out, values.index)


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
