"""Progress for scan, check and verify (not only loads): library callbacks with real totals, and bars
on stderr only on a terminal (SANITIZE_PROGRESS=1 forces them, as a test needs)."""

from __future__ import annotations

from pathlib import Path

import pytest

import sanitize
from sanitize.refresh import refresh
from sanitize.verify import VerifyOptions, verify_databases
from tests.conftest import run_cli
from tests.test_refresh import RULES, make_sqlite, project

Call = tuple[str, int, int | None]


def recorder() -> tuple[list[Call], object]:
    calls: list[Call] = []
    return calls, lambda label, done, total: calls.append((label, done, total))


def by_label(calls: list[Call]) -> dict[str, list[tuple[int, int | None]]]:
    out: dict[str, list[tuple[int, int | None]]] = {}
    for label, done, total in calls:
        out.setdefault(label, []).append((done, total))
    return out


def assert_counts_up_to_total(steps: list[tuple[int, int | None]], total: int) -> None:
    assert steps[0] == (0, total) and steps[-1] == (total, total)
    assert [d for d, _ in steps] == sorted(d for d, _ in steps)  # never goes back
    assert {t for _, t in steps} == {total}


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, Path]:
    rules = tmp_path / "shop.yaml"
    rules.write_text(RULES)
    return make_sqlite(tmp_path / "prod.db"), rules


def test_when_scanning_then_progress_counts_tables_up_to_all_of_them(shop: tuple[Path, Path]) -> None:
    calls, progress = recorder()
    sanitize.scan(str(shop[0]), sample=50, progress=progress)  # type: ignore[arg-type]
    assert_counts_up_to_total(by_label(calls)["scan"], 2)


def test_when_checking_then_progress_counts_the_tables_with_kept_columns(shop: tuple[Path, Path]) -> None:
    calls, progress = recorder()
    sanitize.check(str(shop[1]), str(shop[0]), progress=progress)  # type: ignore[arg-type]
    assert_counts_up_to_total(by_label(calls)["check"], 2)  # customers (id, country) and orders


def test_when_verifying_then_progress_counts_rows_of_each_table_on_both_sides(tmp_path: Path) -> None:
    make_sqlite(tmp_path / "prod.db")
    refresh("dev", project(tmp_path, "prod.db", "dev.db"))
    calls, progress = recorder()
    options = VerifyOptions(progress=progress)  # type: ignore[arg-type]
    verify_databases(
        tmp_path / "rules" / "shop.yaml", tmp_path / "prod.db", tmp_path / "dev.db", options=options
    )
    steps = by_label(calls)
    assert_counts_up_to_total(steps["fingerprints customers"], 40)  # source rows read for fingerprints
    assert_counts_up_to_total(steps["verify customers"], 40)  # target rows scanned
    assert_counts_up_to_total(steps["verify orders"], 80)


@pytest.mark.parametrize(
    ("forced", "shown"),
    [
        ("1", True),  # forced: bars on a stderr that is not a terminal
        ("", False),  # stderr is a pipe here: no bars, nothing to clean out of logs
    ],
)
def test_when_stderr_is_or_is_not_for_bars_then_scan_and_verify_show_them_or_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forced: str, shown: bool
) -> None:
    make_sqlite(tmp_path / "prod.db")
    refresh("dev", project(tmp_path, "prod.db", "dev.db"))
    monkeypatch.setenv("SANITIZE_PROGRESS", forced)
    scan = run_cli("scan", str(tmp_path / "prod.db"), "--sample", "20")
    rules = str(tmp_path / "rules" / "shop.yaml")
    verify = run_cli("verify", "--rules", rules, str(tmp_path / "prod.db"), str(tmp_path / "dev.db"))
    assert scan.returncode == 0 and verify.returncode == 0, scan.stderr + verify.stderr
    assert ("scan" in scan.stderr and "2/2" in scan.stderr) is shown
    assert ("verify orders" in verify.stderr and "80/80" in verify.stderr) is shown
