"""What every engine provides: a read-only `Source`, a `Target`, and a `Load` into a shadow copy.

Engine modules (sqlite.py, postgres.py, mysql.py) subclass these. The shared parts live here: batch
re-chunking, the Load state machine (write -> finish -> publish, abort on any exception or when left
without publishing) and the row-count part of the post-load gate.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa

from sanitize.db.ddl import TargetTables, computed_here
from sanitize.db.refs import DatabaseRef
from sanitize.db.types import arrow_type, batch_to_arrow, to_pandas
from sanitize.defaults import DEFAULT_BATCH
from sanitize.errors import BadInputError, CheckFailedError, LoadError
from sanitize.schema import Column, Schema, Table, View

log = logging.getLogger("sanitize")


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d(?:[ T]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)?")


def _looks_personal(literal: str) -> bool:
    """An e-mail address, or 7+ digits once dates are left out (phone, card, national numbers)."""
    if _EMAIL.search(literal):
        return True
    return sum(ch.isdigit() for ch in _ISO_DATE.sub("", literal)) >= 7


class ViewNotMade(Exception):
    """A view the target cannot make (it reads a table left out, a function not copied, ...)."""


T = TypeVar("T")


class BackgroundWriter:
    """Runs bulk writes on one worker thread, so reading and transforming the next batch overlaps the
    server's work on the last one. At most `depth` batches wait; the first error is raised on the next
    submit() or on drain()."""

    def __init__(self, depth: int = 1) -> None:
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=depth)
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def submit(self, job: Callable[[], None]) -> None:
        self._raise()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sanitize-writer", daemon=True)
            self._thread.start()
        self._queue.put(job)

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            if self.error is None:
                try:
                    job()
                except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                    self.error = exc

    def drain(self) -> None:
        """Wait for every submitted write; raise the first error."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            err, self.error = self.error, None
            raise err


_DONE = object()


def prefetch(make: Callable[[], Iterator[T]], depth: int = 1) -> Generator[T, None, None]:
    """Iterate `make()` on a worker thread, up to `depth` items ahead of the consumer.

    Drivers that release the GIL while fetching (ADBC) then read the next batch while the consumer
    transforms and writes the last one. The iterator is created, advanced and closed on the worker
    only; an error there is raised here; closing this generator early stops the worker and waits for
    it, so the connection is free again when close() returns.
    """
    q: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run() -> None:
        try:
            it = make()
            try:
                for item in it:
                    q.put((True, item))
                    if stop.is_set():
                        return
            finally:
                close = getattr(it, "close", None)
                if close is not None:
                    close()
            q.put((True, _DONE))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer's thread
            q.put((False, exc))

    worker = threading.Thread(target=run, name="sanitize-reader", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                assert isinstance(item, BaseException)
                raise item
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():  # unblock a worker waiting to put
            with contextlib.suppress(queue.Empty):
                q.get(timeout=0.05)
        worker.join()


def rechunk(batches: Iterable[pa.RecordBatch | pa.Table], size: int) -> Iterator[pa.Table]:
    """Arrow batches of any size -> tables of exactly `size` rows (the last may be shorter)."""
    pending: list[pa.Table] = []
    have = 0
    for b in batches:
        t = pa.Table.from_batches([b]) if isinstance(b, pa.RecordBatch) else b
        if t.num_rows == 0:
            continue
        pending.append(t)
        have += t.num_rows
        while have >= size:
            whole = pa.concat_tables(pending)
            yield whole.slice(0, size).combine_chunks()
            rest = whole.slice(size)
            pending, have = ([rest], rest.num_rows) if rest.num_rows else ([], 0)
    if have:
        yield pa.concat_tables(pending).combine_chunks()


class Source(ABC):
    _conn: Any = None  # the engine's open connection, if it keeps one
    """A database opened read-only; `schema` is reflected once when it opens."""

    ref: DatabaseRef
    schema: Schema

    @property
    def display(self) -> str:
        """Where this source is, with any password masked."""
        return self.ref.display

    def table(self, key: str) -> Table:
        return self.schema.table(key, self.ref.display, BadInputError)

    def columns_of(self, key: str, columns: Sequence[str] | None) -> list[str]:
        return self.table(key).selected(columns, BadInputError)

    @abstractmethod
    def count(self, table: str) -> int: ...

    def read_arrow(
        self, table: str, batch_size: int = DEFAULT_BATCH, columns: Sequence[str] | None = None
    ) -> Iterator[pa.Table]:
        """Stream a table as Arrow tables of `batch_size` rows, typed by `arrow_type`, read ahead on a
        thread (see _read_ahead)."""
        t = self.table(table)
        cols = [t.column(c) for c in self.columns_of(table, columns)]
        yield from self._read_ahead(rechunk(self._select(table, cols, min(batch_size, 65_536)), batch_size))

    @abstractmethod
    def _select(self, table: str, cols: list[Column], batch_rows: int) -> Iterator[pa.Table]:
        """Every row of `cols` of `table` as typed Arrow tables of about `batch_rows` rows."""

    def read_batches(
        self, table: str, batch_size: int = DEFAULT_BATCH, columns: Sequence[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        """Stream a table as DataFrames of `batch_size` rows with pyarrow-backed dtypes (none if empty)."""
        for t in self.read_arrow(table, batch_size, columns):
            yield to_pandas(t)

    @abstractmethod
    def sample(self, table: str, n: int) -> pd.DataFrame:
        """About `n` rows spread evenly over the table, the same rows every time."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_ahead(self, batches: Iterator[pa.Table]) -> Iterator[pa.Table]:
        """`batches` produced on a reader thread, one batch ahead of the consumer: the drivers read
        without the GIL, so the next batch arrives while this one is transformed and written.
        close() stops a read still running before the connection goes."""
        ahead = prefetch(lambda: batches)
        self.__dict__.setdefault("_reads", weakref.WeakSet()).add(ahead)
        yield from ahead

    def _close_connection(self) -> None:
        """End the read-only transaction and close the connection the engine keeps in `_conn` (once)."""
        for read in list(self.__dict__.get("_reads", ())):
            read.close()  # stops its reader thread, which may be using the connection
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.rollback()
            with contextlib.suppress(Exception):
                conn.close()

    def _sample_frame(self, table: str, parts: list[pa.Table]) -> pd.DataFrame:
        """The sampled parts as one frame, or an empty frame with the table's columns and types."""
        if not parts:
            return self._empty_frame(table, list(self.table(table).column_names))
        return to_pandas(pa.concat_tables(parts))

    def _empty_frame(self, table: str, columns: list[str]) -> pd.DataFrame:
        t = self.table(table)
        arrays = [pa.array([], type=arrow_type(t.column(c), self.ref.dialect)) for c in columns]
        return to_pandas(pa.Table.from_arrays(arrays, names=columns))


class Target(ABC):
    """A database sanitize loads into; only ever changed through a `Load`."""

    ref: DatabaseRef

    @property
    def display(self) -> str:
        """Where this target is, with any password masked."""
        return self.ref.display

    @abstractmethod
    def begin_load(self, schema: Schema, *, tables: Sequence[str] | None = None) -> Load: ...

    @abstractmethod
    def published_schema(self) -> Schema | None:
        """What is currently published, or None when nothing is."""

    def is_empty(self) -> bool:
        published = self.published_schema()
        return published is None or not published.tables

    @abstractmethod
    def is_owned(self) -> bool:
        """True when the published data was written by sanitize (its ownership record is there)."""

    def close(self) -> None:  # noqa: B027 - engines that hold connections override it
        """Release connections (a Target holds none between loads unless an engine says otherwise)."""

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Prepared:
    """One batch cast to a table's target types and encoded for its engine (see Load.prepare)."""

    table: str
    rows: int
    payload: Any


class Load(ABC):
    """One load into a shadow copy of the target; publish() makes it visible atomically."""

    def __init__(self, target: Target, built: TargetTables) -> None:
        self.target = target
        self.built = built
        self.written: dict[str, int] = dict.fromkeys(built.keys, 0)
        self.state = "loading"  # loading -> finished -> published | aborted
        # the columns a batch writes: all but those the target computes (generated on the same engine)
        self._computed = {
            key: [
                c.name
                for c in built.source[key].columns
                if computed_here(c, built.dialect, built.source_dialect)
            ]
            for key in built.keys
        }
        self._tables = {
            key: replace(t, columns=tuple(c for c in t.columns if c.name not in self._computed[key]))
            for key, t in ((k, built.source[k]) for k in built.keys)
        }
        self._types = {
            key: [self._arrow_type(c, key) for c in self._tables[key].columns] for key in built.keys
        }

    def _arrow_type(self, col: Column, key: str) -> pa.DataType:
        """The Arrow type a batch's column is cast to before it is encoded for this target."""
        return arrow_type(replace(col, sql_type=self.built.tables[key].c[col.name].type), self.built.dialect)

    @property
    def schema(self) -> Schema:
        return self.built.source

    def _check_state(self, want: str, doing: str) -> None:
        if self.state != want:
            raise LoadError(f"cannot {doing} a load that is {self.state} (expected {want})")

    def write(self, table: str, batch: pd.DataFrame) -> None:
        """Bulk-write one batch (cast to the target column types) into the shadow copy."""
        self.write_prepared(self.prepare(table, batch))

    def prepare(self, table: str, batch: pd.DataFrame) -> Prepared:
        """Cast and encode one batch for this target; touches no shared state, so the pipeline runs
        it on its worker threads while earlier batches are still being written."""
        if table not in self.written:
            raise LoadError(f"{table} is not part of this load (tables: {', '.join(self.built.keys)})")
        if len(batch) == 0:
            return Prepared(table, 0, None)
        if self._computed[table]:
            batch = batch.drop(columns=self._computed[table], errors="ignore")
        arrow = batch_to_arrow(batch, self._tables[table], self._types[table])
        return Prepared(table, arrow.num_rows, self._encode(table, arrow))

    def write_prepared(self, prepared: Prepared) -> None:
        """Bulk-write a batch made by prepare(), in the order the batches are given."""
        self._check_state("loading", "write to")
        if prepared.rows == 0:
            return
        self._write_encoded(prepared.table, prepared.payload)
        self.written[prepared.table] += prepared.rows

    def _encode(self, table: str, data: pa.Table) -> Any:
        """A batch in the form `_write_encoded` sends (the engine's wire format); no side effects."""
        return data

    @abstractmethod
    def _write_encoded(self, table: str, payload: Any) -> None: ...

    def finish(self) -> None:
        """Build constraints and indexes, set sequences, and run the gate; CheckFailedError stops it."""
        self._check_state("loading", "finish")
        try:
            self._finish()
        except BaseException:
            self.abort()
            raise
        self.state = "finished"

    @abstractmethod
    def _finish(self) -> None: ...

    def make_views(self, create: Callable[[View], None]) -> list[View]:
        """Recreate the source's views with `create` (engine-specific: it raises ViewNotMade, or an error
        that stops the load) when the source is of this engine; a view that reads a view made later is
        retried until nothing more can be made. Each view left out is named in a warning, with why."""
        views = self.built.source.views
        if not views:
            return []
        if self.built.source_dialect != self.built.dialect:
            log.warning(
                "%d view(s) and trigger(s) not recreated, as they are %s SQL: %s",
                len(views),
                self.built.source_dialect,
                ", ".join(v.key for v in views),
            )
            return []
        made: list[View] = []
        pending, why = list(views), {}
        while pending:
            left = []
            for v in pending:
                try:
                    create(v)
                    made.append(v)
                except ViewNotMade as exc:
                    why[v.key] = str(exc)
                    left.append(v)
            if len(left) == len(pending):
                break
            pending = left
        for v in pending:
            log.warning("%s %s is not recreated: %s", v.kind, v.key, why[v.key])
        for v in made:
            personal = [t for t in re.findall(r"'([^']*)'", v.sql) if _looks_personal(t)]
            if personal:  # a view's SQL is copied as written: rules never see its literals
                log.warning(
                    "%s %s is copied as written and its SQL holds %d literal(s) that look like personal "
                    "data (e-mail addresses or long numbers); check them",
                    v.kind,
                    v.key,
                    len(personal),
                )
        return made

    def check_counts(self, counted: dict[str, int]) -> None:
        wrong = [
            f"{k}: {counted[k]} rows in the shadow copy, {n} written"
            for k, n in self.written.items()
            if counted.get(k) != n
        ]
        if wrong:
            raise CheckFailedError(
                "row counts in the shadow copy do not match what was written; nothing was published",
                problems=wrong,
            )

    @abstractmethod
    def source(self) -> Source:
        """Read the unpublished shadow copy (call after finish)."""

    def publish(self) -> None:
        """Make the shadow copy the published data, atomically."""
        self._check_state("finished", "publish")
        try:
            self._publish()
        except BaseException:
            self.abort()
            raise
        self.state = "published"

    @abstractmethod
    def _publish(self) -> None: ...

    def abort(self) -> None:
        """Drop the shadow copy; what was published stays as it was."""
        if self.state in ("published", "aborted"):
            return
        self.state = "aborted"
        self._abort()

    @abstractmethod
    def _abort(self) -> None: ...

    def __enter__(self) -> Load:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.state != "published":
            if exc is None and self.state != "aborted":
                log.warning(
                    "load into %s left without publish(); the shadow copy is dropped", self.target.ref
                )
            self.abort()
