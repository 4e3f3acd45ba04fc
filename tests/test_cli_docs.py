"""The docs: every command is documented in the README and has help; the README's commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from sanitize.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
# DESIGN.md's command line contract
CONTRACT = (
    "scan",
    "check",
    "preview",
    "anonymize",
    "synth",
    "verify",
    "refresh",
    "diff",
    "strategies",
    "demo",
)


def registered() -> dict[str, object]:
    return dict(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def test_when_a_command_is_registered_then_the_readme_shows_it_with_an_example() -> None:
    missing = [name for name in registered() if f"sanitize {name}" not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_when_the_readme_names_a_command_then_it_exists() -> None:
    blocks = "\n".join(re.findall(r"```sh\n(.*?)```", README, flags=re.S))
    named = set(re.findall(r"^sanitize ([a-z]+)", blocks, flags=re.M))
    assert named, "the README shows no commands"
    assert named <= set(registered()), named - set(registered())


def test_when_the_readme_starts_then_it_shows_the_two_commands_first() -> None:
    head = README.splitlines()[:8]
    assert any("make demo" in line for line in head) and any("make test" in line for line in head)


def test_when_the_design_contract_is_checked_then_every_command_exists() -> None:
    assert not set(CONTRACT) - set(registered()), set(CONTRACT) - set(registered())


def test_when_every_command_is_listed_then_each_has_a_help_text() -> None:
    for name, cmd in registered().items():
        assert getattr(cmd, "help", None), f"{name} has no help text"
