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


def readme_strategy_table() -> str:
    lines = README.splitlines()
    start = lines.index("| strategy | does | example |")
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    return "\n".join(lines[start:end]) + "\n"


def test_when_the_readme_lists_the_strategies_then_its_table_is_the_one_rendered_from_the_specs() -> None:
    from sanitize.strategies import builtin_strategies, markdown_table

    assert readme_strategy_table() == markdown_table(builtin_strategies().values()), (
        "README.md's strategy table differs from the specs: paste `sanitize strategies --markdown` into it"
    )


def test_when_strategies_is_asked_for_markdown_then_it_prints_every_strategy_with_its_example() -> None:
    from typer.testing import CliRunner

    from sanitize.strategies import all_strategies, markdown_table

    result = CliRunner().invoke(app, ["strategies", "--markdown"])
    assert result.exit_code == 0, result.output
    assert result.output == markdown_table(all_strategies().values())
    for spec in all_strategies().values():
        assert spec.example, f"strategy {spec.name} has no example"
        assert f"| `{spec.name}` |" in result.output and spec.example.split()[0] in result.output
