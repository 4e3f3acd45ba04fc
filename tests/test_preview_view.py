"""`sanitize preview` in a narrow terminal: one block per row when the table would not fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.test_refresh import RULES, make_sqlite

COLUMNS = ("id", "email", "full_name", "notes", "country")


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, Path]:
    rules = tmp_path / "shop.yaml"
    rules.write_text(RULES)
    return make_sqlite(tmp_path / "prod.db"), rules


def preview(shop: tuple[Path, Path], columns: int, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COLUMNS", str(columns))
    db, rules = shop
    result = run_cli("preview", "--rules", str(rules), str(db), "--table", "customers", "--rows", "3")
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_when_the_terminal_is_80_columns_then_preview_shows_each_row_as_column_before_after(
    shop: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = preview(shop, 80, monkeypatch)
    assert max(len(line) for line in lines) <= 80
    names = [line.split()[0] for line in lines if line.strip()]
    for c in COLUMNS:
        assert names.count(c) == 3, c  # every column name, whole, once per row
    text = "\n".join(lines)
    assert "Realfirst0 Reallast0 →" in text and "→ REDACTED" in text  # before → after on one line
    assert "country" in text and "→ DE" not in text  # a kept value is shown once


def test_when_the_terminal_is_wide_then_preview_is_a_before_after_table(
    shop: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = preview(shop, 250, monkeypatch)
    header = next(line for line in lines if "email (before)" in line)
    assert "email (after)" in header and "full_name (before)" in header and "country" in header
    assert max(len(line) for line in lines) <= 250
