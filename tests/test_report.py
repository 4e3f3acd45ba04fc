"""Run reports and structured logs: complete, renderable, and never holding a password."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from sanitize.errors import BadInputError
from sanitize.logs import add_secrets, configure_logging, set_environment
from sanitize.report import (
    build_report,
    read_report,
    render_html,
    render_summary,
    scrub_secrets,
    write_report,
)

SECRET = "p@ss:w/rd%#"
ENC = "p%40ss%3Aw%2Frd%25%23"


def sample() -> dict[str, object]:
    return build_report(
        {
            "command": "refresh",
            "source": "postgresql+psycopg://app:***@prod/shop",
            "target": "staging.db",
            "started_at": "2026-11-26T02:00:00+00:00",
            "seconds": 12.5,
            "status": "ok",
            "published": True,
            "tables": [
                {
                    "table": "customers",
                    "rows": 1000,
                    "seconds": 2.0,
                    "strategies": {"id": "keep", "email": "fake"},
                },
                {"table": "orders", "rows": 5000, "seconds": 1.0, "strategies": {"id": "keep"}},
            ],
            "checks": [{"name": "integrity gate", "ok": True, "detail": "row counts, foreign keys"}],
        },
        environment="staging",
        mode="anonymize",
        rules_path="rules/shop.yaml",
        rules_sha256="ab" * 32,
        warnings=["shared credentials: ..."],
    )


def test_when_report_is_built_then_it_has_every_section() -> None:
    doc = sample()
    for key in (
        "environment",
        "source",
        "target",
        "rules",
        "rules_sha256",
        "versions",
        "tables",
        "checks",
        "warnings",
        "report_version",
        "started_at",
        "seconds",
        "status",
        "dry_run",
    ):
        assert key in doc, key
    assert doc["rows"] == 6000
    assert {"python", "pandas", "pyarrow"} <= set(doc["versions"])  # type: ignore[arg-type]


def test_when_report_is_written_then_secrets_in_any_encoding_are_scrubbed(tmp_path: Path) -> None:
    doc = sample()
    doc["error"] = f"could not connect to postgresql://app:{ENC}@h/db (password {SECRET!r} rejected)"
    p = write_report(doc, tmp_path / "r" / "run.json", secrets=[SECRET])
    text = p.read_text()
    assert SECRET not in text and ENC not in text and "***" in text
    assert read_report(p)["environment"] == "staging"
    assert scrub_secrets({"a": [f"x{SECRET}y"]}, [SECRET]) == {"a": ["x***y"]}


def test_when_summary_and_html_are_rendered_then_they_show_tables_and_checks() -> None:
    doc = sample()
    console = Console(record=True, width=100)
    console.print(render_summary(doc))
    text = console.export_text()
    assert "staging" in text and "customers" in text and "1,000" in text and "checks: 1 passed" in text
    page = render_html(doc)
    assert page.startswith("<!doctype html>") and "</html>" in page
    assert 'class="bar rows" style="width:40px"' in page  # 1000 of the largest 5000 rows: a fifth of the bar
    assert 'class="bar time" style="width:200px"' in page  # customers took longest
    assert "integrity gate" in page and "<script" not in page and "http" not in page


def test_when_a_report_is_failed_then_summary_says_so() -> None:
    doc = build_report(
        {
            "tables": [],
            "status": "failed: LeakError",
            "checks": [{"name": "leak check", "ok": False, "detail": "3 sensitive value(s)"}],
        },
        error="leak check: 3 found",
    )
    console = Console(record=True, width=100)
    console.print(render_summary(doc))
    text = console.export_text()
    assert "failed: LeakError" in text and "leak check" in text and "error: leak check" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [("not json", "not a JSON run report"), ('{"a": 1}', "not a sanitize run report")],
)
def test_when_report_file_is_wrong_then_badinput(tmp_path: Path, content: str, message: str) -> None:
    p = tmp_path / "r.json"
    p.write_text(content)
    with pytest.raises(BadInputError, match=message):
        read_report(p)
    with pytest.raises(BadInputError, match="no such report"):
        read_report(tmp_path / "missing.json")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    logger = logging.getLogger("sanitize")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    logger.handlers, logger.level, logger.propagate = handlers, level, propagate
    set_environment(None)


def test_when_log_format_is_json_then_every_line_is_json_with_the_environment(
    restore_logging: object,
) -> None:
    stream = io.StringIO()
    configure_logging("json", environment="staging", stream=stream, secrets=[SECRET])
    log = logging.getLogger("sanitize")
    log.info("loaded %s rows", 10, extra={"table": "customers"})
    log.warning("connecting to postgresql://u:%s@h/db", ENC)
    try:
        raise ValueError(f"boom {SECRET}")
    except ValueError:
        log.exception("failed")
    lines = stream.getvalue().splitlines()
    docs = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(docs) == 3
    assert all(d["environment"] == "staging" for d in docs)
    assert (
        docs[0]["message"] == "loaded 10 rows"
        and docs[0]["table"] == "customers"
        and docs[0]["level"] == "info"
    )
    assert SECRET not in stream.getvalue() and ENC not in stream.getvalue()
    assert "***" in docs[1]["message"] and "exception" in docs[2]


def test_when_log_format_is_text_then_lines_carry_the_environment(restore_logging: object) -> None:
    stream = io.StringIO()
    configure_logging("text", environment="dev", stream=stream)
    add_secrets("hunter2-secret")
    logging.getLogger("sanitize").info("password hunter2-secret here")
    assert stream.getvalue().strip() == "[dev] password *** here"
    with pytest.raises(BadInputError, match="expected text or json"):
        configure_logging("xml")  # type: ignore[arg-type]
