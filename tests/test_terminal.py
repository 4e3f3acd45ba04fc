"""What a person sees in the terminal: help without type placeholders, --version, the bare command,
real defaults in `sanitize strategies` (through the installed entry point, as a user runs it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

COMMANDS = [
    "strategies", "anonymize", "check", "preview", "demo", "synth", "profile", "init", "refresh", "seed",
    "verify", "diff", "report", "scan",
]  # fmt: skip


def sanitize(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="100", NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "sanitize.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_when_sanitize_runs_without_a_command_then_it_prints_help_and_no_error() -> None:
    run = sanitize()
    assert run.returncode == 0
    assert "Usage: sanitize [OPTIONS] COMMAND" in run.stdout and "anonymize" in run.stdout
    assert "error" not in run.stderr


def test_when_asked_for_the_version_then_it_prints_it() -> None:
    run = sanitize("--version")
    assert run.returncode == 0 and re.fullmatch(r"sanitize \d+\.\d+\.\d+\S*\n", run.stdout)


@pytest.mark.parametrize("command", COMMANDS)
def test_when_a_commands_help_is_shown_then_it_has_no_type_placeholders(command: str) -> None:
    run = sanitize(command, "--help")
    assert run.returncode == 0, run.stderr
    # flags are shown as flags; values and arguments by name (SOURCE, PATH, N), not <bool>/<str>/{source}
    assert not re.search(r"<(bool|str|path|int|float|list\[[^>]*\])[^>]*>", run.stdout), run.stdout
    usage = next(line for line in run.stdout.splitlines() if "Usage:" in line)
    assert "{" not in usage, usage


def test_when_strategies_are_listed_then_defaults_are_real_values() -> None:
    run = sanitize("strategies")
    assert run.returncode == 0
    assert "PydanticUndefined" not in run.stdout
    assert "domains={}" in run.stdout.replace("\n", "").replace(" ", "").replace("│", "")  # scrub's default
