"""Batches transform on worker threads: same output as one thread, in source order, fail-fast, and
strategies that do not declare themselves thread-safe never run two batches at once."""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sanitize.errors import BadInputError
from sanitize.keys import SecretKey
from sanitize.pipeline import anonymize
from sanitize.rules import RulesFile
from sanitize.rules import parse_rules as _parse
from sanitize.strategies import registry
from sanitize.strategies.registry import ColumnContext, NoParams, StrategySpec
from sanitize.transform import default_workers, map_ordered

from .conftest import TEST_KEY

KEY = SecretKey(TEST_KEY.encode())


def parse_rules(text: str) -> RulesFile:
    return _parse(yaml.safe_load(text))


def test_map_ordered_keeps_the_input_order_when_later_items_finish_first() -> None:
    def work(i: int) -> int:
        time.sleep(0.02 if i % 3 == 0 else 0.0)  # every third item is the slow one
        return i * 10

    assert list(map_ordered(work, range(20), workers=4)) == [i * 10 for i in range(20)]


def test_map_ordered_reads_at_most_workers_plus_one_items_ahead() -> None:
    taken: list[int] = []
    gate = threading.Event()

    def items() -> Iterator[int]:
        for i in range(100):
            taken.append(i)
            yield i

    def work(i: int) -> int:
        gate.wait(5)
        return i

    results = map_ordered(work, items(), workers=3)
    first = threading.Thread(target=lambda: next(results))
    first.start()
    time.sleep(0.2)  # the consumer waits on the first result; nothing more may be read meanwhile
    assert len(taken) == 4
    gate.set()
    first.join(5)
    assert list(results) == list(range(1, 100))


def test_map_ordered_raises_the_first_error_and_stops_reading() -> None:
    taken: list[int] = []

    def items() -> Iterator[int]:
        for i in range(1000):
            taken.append(i)
            yield i

    def work(i: int) -> int:
        if i == 5:
            raise ValueError("bad batch 5")
        return i

    got: list[int] = []
    with pytest.raises(ValueError, match="bad batch 5"):
        for r in map_ordered(work, items(), workers=2):
            got.append(r)
    assert got == [0, 1, 2, 3, 4]
    assert len(taken) < 20


def test_map_ordered_with_one_worker_runs_on_the_calling_thread() -> None:
    names = list(map_ordered(lambda _i: threading.current_thread().name, range(3), workers=1))
    assert names == [threading.current_thread().name] * 3


def test_default_workers_is_between_one_and_four() -> None:
    assert 1 <= default_workers() <= 4


# --- through the pipeline ------------------------------------------------------------------------


def _source(path: Path, rows: int = 3000) -> Path:
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT, motto TEXT, "
        "balance NUMERIC(10,2), notes TEXT)"
    )
    con.executemany(
        "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                i,
                f"user{i}@example.com",
                f"Person Näme {i % 97}",
                None if i % 7 == 0 else f"motto {i}",
                None if i % 11 == 0 else round(i * 1.37, 2),
                f"call +1 555 010 {i % 10000:04d} or mail user{i}@example.com",
            )
            for i in range(1, rows + 1)
        ],
    )
    con.commit()
    con.close()
    return path


RULES = """
version: 1
tables:
  people:
    columns:
      id: keep
      email: {strategy: fake, kind: email, unique: true, domain: email}
      name: {strategy: fake, kind: name}
      motto: {strategy: fake, kind: catch_phrase}
      balance: {strategy: noise, relative: 0.1}
      notes: scrub
"""


def _dump(db: Path) -> list[tuple[object, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT *, typeof(balance) FROM people ORDER BY rowid").fetchall()
    finally:
        con.close()


def test_many_workers_write_the_same_target_as_one(tmp_path: Path) -> None:
    """Fakes (vectorised and Faker's per-value path), scrub and noise on many small batches: the
    threaded run writes exactly the rows, in exactly the order, of the single-threaded run."""
    src = _source(tmp_path / "prod.db")
    rules = parse_rules(RULES)
    one, many = tmp_path / "one.db", tmp_path / "many.db"
    anonymize(rules, str(src), str(one), key=KEY, batch_size=97, workers=1)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads interleave between almost any two bytecodes: races show
    try:
        anonymize(rules, str(src), str(many), key=KEY, batch_size=97, workers=4)
    finally:
        sys.setswitchinterval(interval)
    a, b = _dump(one), _dump(many)
    assert len(a) == 3000
    assert a == b
    assert [r[0] for r in b] == list(range(1, 3001))  # source order


def test_workers_below_one_are_refused(tmp_path: Path) -> None:
    src = _source(tmp_path / "prod.db", rows=10)
    with pytest.raises(BadInputError, match="workers"):
        anonymize(parse_rules(RULES), str(src), str(tmp_path / "t.db"), key=KEY, workers=0)
    assert not (tmp_path / "t.db").exists()


class _Probe:
    """A strategy body that records how many batches it runs at once; with a barrier it can also
    prove that two batches ran side by side (the barrier only opens for two threads)."""

    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.most = 0
        self.barrier = barrier

    def __call__(self, values: pd.Series, params: object, ctx: ColumnContext) -> pd.Series:
        if len(values) == 0:  # the plan's dry run on an empty column of the rule's type, not a batch
            return values.astype("str")
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            if self.barrier is not None:
                self.barrier.wait()
            else:
                time.sleep(0.01)
            return values.astype("str").str.upper()
        finally:
            with self.lock:
                self.active -= 1


@pytest.fixture
def probe_strategy() -> Iterator[None]:
    yield
    for name in ("test_probe_serial", "test_probe_threaded"):
        registry._REGISTRY.pop(name, None)


def _probe_rules(strategy: str) -> str:
    return f"""
version: 1
tables:
  people:
    columns:
      id: keep
      email: {{strategy: fake, kind: email, unique: true, domain: email}}
      name: {strategy}
      motto: keep
      balance: keep
      notes: keep
"""


def _run_probe(tmp_path: Path, probe: _Probe, *, thread_safe: bool, workers: int) -> Path:
    """Register `probe` as a strategy, anonymise 20 batches with it; the target's path."""
    name = "test_probe_threaded" if thread_safe else "test_probe_serial"
    registry.register(
        StrategySpec(name=name, description="probe", fn=probe, params=NoParams, thread_safe=thread_safe)
    )
    src = _source(tmp_path / "prod.db", rows=400)
    target = tmp_path / "t.db"
    anonymize(parse_rules(_probe_rules(name)), str(src), str(target), key=KEY, batch_size=20, workers=workers)
    return target


def test_a_plugin_that_is_not_thread_safe_runs_one_batch_at_a_time(
    tmp_path: Path, probe_strategy: None
) -> None:
    probe = _Probe()
    target = _run_probe(tmp_path, probe, thread_safe=False, workers=4)
    assert probe.most == 1
    assert _dump(target)[0][2] == "PERSON NÄME 1"


def test_a_thread_safe_strategy_runs_batches_side_by_side(tmp_path: Path, probe_strategy: None) -> None:
    probe = _Probe(threading.Barrier(2, timeout=10))  # breaks (and fails the run) unless two meet
    _run_probe(tmp_path, probe, thread_safe=True, workers=2)
    assert probe.most == 2


def test_json_rules_run_threaded_only_when_every_nested_strategy_is_thread_safe(probe_strategy: None) -> None:
    registry.register(
        StrategySpec(name="test_probe_serial", description="probe", fn=_Probe(), params=NoParams)
    )
    json = registry.get("json")
    safe = json.validate_params({"paths": {"$.a": "hash", "$.b": {"strategy": "fake", "kind": "email"}}})
    unsafe = json.validate_params({"paths": {"$.a": "hash", "$.b": "test_probe_serial"}})
    assert json.threaded(safe)
    assert not json.threaded(unsafe)


def _server_rows(url: str) -> list[tuple[object, ...]]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text("SELECT * FROM people ORDER BY id"))]
    finally:
        engine.dispose()


@pytest.mark.parametrize("server", ["pg_url", "mariadb_url"])
def test_server_targets_get_the_same_rows_from_many_workers_as_from_one(
    tmp_path: Path, server: str, request: pytest.FixtureRequest
) -> None:
    """The PostgreSQL CSV (two COPY streams) and MariaDB LOAD DATA encoders run on worker threads."""
    url = request.getfixturevalue(server)
    src = _source(tmp_path / "prod.db", rows=1500)
    rules = parse_rules(RULES)
    anonymize(rules, str(src), url, key=KEY, batch_size=64, workers=1)
    one = _server_rows(url)
    anonymize(rules, str(src), url, key=KEY, batch_size=64, workers=4)
    many = _server_rows(url)
    assert len(one) == 1500
    assert many == one
