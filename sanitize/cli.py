"""The `sanitize` command line: parse flags, call one library function, render the result.

No logic a notebook would want lives here. Every expected error is a SanitizeError, printed as a
clean message and mapped to its exit code (0 ok, 1 safety check said no, 2 bad input, 3 runtime).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from sanitize.errors import SanitizeError

app = typer.Typer(
    name="sanitize",
    help="Make production data safe for staging and dev.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

RulesOpt = Annotated[Path, typer.Option("--rules", "-r", help="Rules file (YAML).")]
SourceArg = Annotated[str, typer.Argument(help="Source: SQLAlchemy URL, SQLite file, or environment name.")]
TargetArg = Annotated[str, typer.Argument(help="Target: SQLAlchemy URL, SQLite file, or environment name.")]


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")] = False,
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


@app.command()
def strategies() -> None:
    """What each strategy does, its parameters and capabilities."""
    from sanitize.strategies import all_strategies

    table = RichTable(title="strategies", show_lines=True)
    for col in ("name", "what it does", "parameters", "flags"):
        table.add_column(col)
    for spec in all_strategies().values():
        params = ", ".join(
            f"{n}={f.default!r}" if not f.is_required() else f"{n} (required)"
            for n, f in spec.params.model_fields.items()
        )
        flags = ", ".join(
            f
            for f, on in (
                ("deterministic", spec.deterministic),
                ("key_safe", spec.key_safe),
                ("unique_safe", spec.unique_safe),
            )
            if on
        )
        table.add_row(spec.name, spec.description, params or "-", flags or "-")
    out.print(table)


def main() -> None:
    """Entry point: run the app, turn SanitizeErrors into messages and exit codes."""
    try:
        app(standalone_mode=False)
    except SanitizeError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(3)
    except KeyboardInterrupt:
        err.print("interrupted; the target is unchanged")
        sys.exit(3)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors arrive as ClickException subclasses
        import click

        if isinstance(exc, click.exceptions.UsageError):
            err.print(f"error: {exc.format_message()}")
            sys.exit(2)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
