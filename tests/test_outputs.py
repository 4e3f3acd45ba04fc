"""Output paths (--report, --html, --out) are made ready before a run reads a row or changes a target.

A missing directory is created; a path that cannot be written is bad input (exit 2) before anything
happens, never an "unexpected error" after the target was published; `scan --out` keeps a reviewed
rules file unless told (--force).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import run_cli
from .test_refresh import RULES, make_sqlite


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    make_sqlite(tmp_path / "prod.db")
    (tmp_path / "rules.yaml").write_text(RULES)
    (tmp_path / "run.json").write_text(json.dumps({"command": "anonymize", "tables": []}))
    (tmp_path / "shop.sql").write_text(MYSQLDUMP)
    return tmp_path


MYSQLDUMP = """-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)
CREATE TABLE `customers` (
  `id` int NOT NULL,
  `email` varchar(50) DEFAULT NULL,
  `full_name` varchar(50) DEFAULT NULL,
  `notes` text,
  `country` varchar(2) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `customers` VALUES (1,'a@b.com','Ann Real','x','DE'),(2,'c@d.com','Bob Real',NULL,'FR');
CREATE TABLE `orders` (`id` int NOT NULL, `customer_id` int, `total` double, `status` varchar(9),
  PRIMARY KEY (`id`)) ENGINE=InnoDB;
INSERT INTO `orders` VALUES (1,1,2.5,'new');
-- Dump completed on 2026-01-01 10:00:00
"""


# (command line with OUT for the output path, what it must write there)
COMMANDS = [
    (["anonymize", "--rules", "rules.yaml", "prod.db", "dev.db", "--report", "OUT"], '"command"'),
    (["synth", "dev.db", "--schema-from", "prod.db", "--rows", "5", "--report", "OUT"], '"rows"'),
    (["profile", "prod.db", "--rules", "rules.yaml", "--out", "OUT"], '"tables"'),
    (["scan", "prod.db", "--sample", "20", "--out", "OUT"], "version: 1"),
    (["report", "run.json", "--html", "OUT"], "<!doctype html>"),
    (["anonymize", "--rules", "rules.yaml", "shop.sql", "OUT.sql"], "-- Dump completed"),  # a sanitised dump
]


@pytest.mark.parametrize(("args", "written"), COMMANDS, ids=[c[0][0] for c in COMMANDS])
def test_when_an_output_path_is_in_a_missing_directory_then_it_is_created_and_the_run_succeeds(
    shop: Path, args: list[str], written: str
) -> None:
    out = "reports/new/deeper/out.txt"
    res = run_cli(*[a.replace("OUT", out) for a in args], cwd=shop)
    assert res.returncode == 0, res.stderr
    assert written in (shop / (out + ".sql" if "OUT.sql" in args else out)).read_text()


@pytest.mark.parametrize(("args", "written"), COMMANDS, ids=[c[0][0] for c in COMMANDS])
def test_when_an_output_path_cannot_be_written_then_exit_2_before_anything_happens(
    shop: Path, args: list[str], written: str
) -> None:
    (shop / "afile").write_text("not a directory")
    out = "afile/out.txt"
    res = run_cli(*[a.replace("OUT", out) for a in args], cwd=shop)
    assert res.returncode == 2, res.stderr
    assert "afile" in res.stderr and "unexpected" not in res.stderr and "unchanged" not in res.stderr
    assert not (shop / "dev.db").exists()  # no target was written


def test_when_scan_out_names_an_existing_file_then_it_is_kept_unless_forced(shop: Path) -> None:
    reviewed = shop / "rules.yaml"
    before = reviewed.read_text()
    res = run_cli("scan", "prod.db", "--sample", "20", "--out", "rules.yaml", cwd=shop)
    assert res.returncode == 2, res.stderr
    assert "rules.yaml already exists" in res.stderr and "--force" in res.stderr
    assert reviewed.read_text() == before
    forced = run_cli("scan", "prod.db", "--sample", "20", "--out", "rules.yaml", "--force", cwd=shop)
    assert forced.returncode == 0, forced.stderr
    assert reviewed.read_text() != before and "customers" in reviewed.read_text()


def test_when_an_export_directory_has_no_parent_then_exit_2_before_a_row_is_read(shop: Path) -> None:
    res = run_cli("anonymize", "--rules", "rules.yaml", "prod.db", "parquet:no/such/dir", cwd=shop)
    assert res.returncode == 2 and "no/such/dir" in res.stderr
    assert not (shop / "no").exists()
