"""The HTML run report in a real browser (headless Chromium from Debian's `chromium` package): the
page loads without a console or script error and shows the key figures. In CI (CI=true) a missing
Chromium fails; elsewhere the tests skip and say why. `.ci/run` installs it when missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sanitize.report import read_report, render_html
from tests.conftest import IN_CI
from tests.test_report_page import runs, stamp_runs

# Injected before the page's own content: records every error event (script errors, and resources
# that fail to load, in the capture phase) and console.error call on <html data-errors>.
HOOK = (
    "<script>(function(){var seen=[];function note(m){seen.push(String(m));"
    "document.documentElement.setAttribute('data-errors',seen.join(' | '))}"
    "addEventListener('error',function(ev){note(ev.message||('failed to load '+"
    "(ev.target&&(ev.target.src||ev.target.href))))},true);"
    "var ce=console.error;console.error=function(){note([].join.call(arguments,' '));"
    "ce.apply(console,arguments)}})()</script>"
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        msg = "headless Chromium is not installed (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"{msg}; CI requires it", pytrace=False)
        pytest.skip(msg)
    return found


def browse(page: str, where: Path, *flags: str) -> tuple[str, list[str]]:
    """Open `page` (with the error hook) in headless Chromium: (the DOM it built, console lines)."""
    html_file = where / "page.html"
    html_file.write_text(page.replace("<head>", "<head>" + HOOK, 1), encoding="utf-8")
    run = subprocess.run(
        [
            chromium(),
            "--headless=new",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            f"--user-data-dir={where / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            *flags,
            html_file.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout, [line for line in run.stderr.splitlines() if ":CONSOLE" in line]


def errors(dom: str, console: list[str]) -> list[str]:
    found = re.search(r'<html[^>]*data-errors="([^"]*)"', dom)
    return ([found.group(1)] if found else []) + console


def text_of(dom: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', dom)
    assert found, f"no element #{element_id} in the page"
    return found.group(1)


def test_when_a_broken_page_is_opened_then_the_browser_check_sees_its_errors(tmp_path: Path) -> None:
    broken = (
        '<!doctype html><html><head></head><body><img src="missing.png"><script>nope()</script></body></html>'
    )
    dom, console = browse(broken, tmp_path, "--dump-dom")
    found = " ".join(errors(dom, console))
    assert "nope is not defined" in found and "missing.png" in found


def test_when_run_reports_are_opened_in_chromium_then_no_error_and_the_key_figures_show(
    tmp_path: Path,
) -> None:
    _, failed = runs(tmp_path)
    stamp_runs(failed.parent)
    good = tmp_path / "reports" / "dev-2.json"
    for report, status, leaks in ((good, "ok", "0"), (failed, "failed: LeakError", None)):
        where = tmp_path / report.stem
        where.mkdir()
        dom, console = browse(render_html(read_report(report), path=report), where, "--dump-dom")
        assert errors(dom, console) == [], report.name
        assert text_of(dom, "status") == status
        assert re.search(r'<table id="tables">.*?<td>customers</td><td class="n">40</td>', dom, re.S)
        assert re.search(r'<table id="tables">.*?<td>orders</td><td class="n">80</td>', dom, re.S)
        total = text_of(dom, "leak-total")
        assert total == leaks if leaks is not None else int(total) > 0
        chart = re.search(r'<svg id="history-chart".*?</svg>', dom, re.S)
        assert chart and chart.group(0).count("<rect") == (2 if report == good else 3)
    assert re.search(r"<td>customers</td><td>notes</td>", dom)  # the failed run's leak, per column


def test_when_a_report_is_screenshot_then_the_png_is_a_full_page(tmp_path: Path) -> None:
    _, failed = runs(tmp_path)
    stamp_runs(failed.parent)
    shot = tmp_path / "report.png"
    page = render_html(read_report(failed), path=failed)
    browse(page, tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", "--hide-scrollbars")
    head = shot.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")) == (1200, 1600)
    if os.environ.get("SANITIZE_REPORT_SCREENSHOT"):  # how docs/report.png is made
        shutil.copyfile(shot, os.environ["SANITIZE_REPORT_SCREENSHOT"])
