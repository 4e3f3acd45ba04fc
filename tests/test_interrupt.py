"""Ctrl-C and SIGTERM stop a run cleanly: one line, exit 130, a report marked `interrupted`, the
target as it was (the shadow copy is dropped, not left for the next run)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sanitize.pipeline import anonymize

from .conftest import TEST_KEY
from .test_e2e_sqlite import KILL_RULES, _big_database


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("signum", "command"),
    [
        (signal.SIGINT, "anonymize"),  # Ctrl-C
        (signal.SIGTERM, "anonymize"),  # a scheduler stopping the job
        (signal.SIGTERM, "refresh"),  # the nightly job, stopped
    ],
)
def test_when_a_run_is_interrupted_mid_load_then_one_line_exit_130_report_interrupted_target_unchanged(
    tmp_path: Path, signum: signal.Signals, command: str
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(KILL_RULES)
    target = tmp_path / "dev.db"
    anonymize(rules, str(_big_database(tmp_path / "small.db", 50)), str(target))  # the previous generation
    before = digest(target)
    _big_database(tmp_path / "prod.db", 300_000)
    if command == "refresh":
        (tmp_path / "sanitize.yaml").write_text(
            "environments:\n  prod: {url: prod.db, role: production}\n  dev: {url: dev.db, role: dev}\n"
            "refresh:\n  dev: {from: prod, rules: rules.yaml, verify: false, batch_size: 5000}\n"
        )
        args = ["refresh", "dev", "--init-target", "--report", "r.json"]
    else:
        args = ["anonymize", "--rules", "rules.yaml", "prod.db", "dev.db", "--batch-size", "5000"]
        args += ["--report", "r.json"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sanitize.cli", *args],
        env=dict(os.environ, SANITIZE_KEY=TEST_KEY),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list(tmp_path.glob(".dev.db.sanitize-shadow-*")):
        time.sleep(0.02)
    time.sleep(0.3)  # into the load
    assert proc.poll() is None, "the run finished before it could be interrupted; make the data bigger"
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    name = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines[-1].startswith(f"interrupted by {name}") and "target is unchanged" in lines[-1], stderr
    assert "Traceback" not in stderr
    assert digest(target) == before
    assert not list(tmp_path.glob(".dev.db.sanitize-shadow-*")), "the shadow copy was left behind"
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "interrupted" and report["published"] is False
