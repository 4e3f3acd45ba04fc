"""The `sanitize` command line: parse flags, call one library function, render the result.

No logic a notebook would want lives here. Every expected error is a SanitizeError, printed as a
clean message and mapped to its exit code (0 ok, 1 safety check said no, 2 bad input, 3 runtime).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import TaskID
from rich.table import Table as RichTable

from sanitize.errors import SanitizeError
from sanitize.pipeline import RunReport

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


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[str, int, int | None], None] | None]:
    """A rich progress bar per table on a terminal; nothing when stderr is not a TTY."""
    if not err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bars: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as prog:

        def update(table: str, done: int, total: int | None) -> None:
            if table not in bars:
                bars[table] = prog.add_task(table, total=total)
            prog.update(bars[table], completed=done)

        yield update


def _print_run(report: RunReport) -> None:
    table = RichTable(title=f"{report.command}: {report.source} -> {report.target}")
    for col in ("table", "rows", "seconds", "transformed columns"):
        table.add_column(col, justify="right" if col in ("rows", "seconds") else "left")
    for t in report.tables:
        changed = ", ".join(f"{c}={s}" for c, s in t.strategies.items() if not s.startswith("keep"))
        table.add_row(t.table, f"{t.rows:,}", f"{t.seconds:.2f}", changed or "-")
    out.print(table)
    rate = report.rows / report.seconds if report.seconds else 0.0
    out.print(
        f"{len(report.tables)} tables, {report.rows:,} rows in {report.seconds:.2f}s ({rate:,.0f} rows/s); "
        f"skipped: {', '.join(report.skipped_tables) or 'none'}; published: {report.published}",
        highlight=False,
    )
    for w in report.warnings:
        err.print(f"warning: {w}", highlight=False, markup=False)


@app.command()
def anonymize(
    source: SourceArg,
    target: TargetArg,
    rules: RulesOpt,
    report: Annotated[Path | None, typer.Option("--report", help="Write the JSON run report here.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Rows per batch.")] = 65_536,
) -> None:
    """Anonymise SOURCE into TARGET atomically (prod -> staging/dev)."""
    from sanitize.pipeline import anonymize as run_anonymize

    with _progress() as progress:
        run = run_anonymize(rules, source, target, batch_size=batch_size, progress=progress)
    if report is not None:
        run.write(report)
    _print_run(run)


@app.command()
def check(
    source: SourceArg,
    rules: RulesOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Coverage and drift: exit 1 if any column is uncovered or any rule is stale."""
    import json

    from sanitize.pipeline import check as run_check
    from sanitize.rules import load_rules

    cov = run_check(load_rules(rules), source)
    if as_json:
        out.print_json(
            json.dumps(
                {"ok": cov.ok, "uncovered": cov.uncovered, "stale": cov.stale, "defaulted": cov.defaulted}
            )
        )
    else:
        for line in cov.problems():
            out.print(line, highlight=False, markup=False)
        if cov.defaulted:
            out.print(
                f"{len(cov.defaulted)} column(s) kept by default (unknown_columns: keep)", highlight=False
            )
        if cov.ok:
            out.print("ok: every column is covered and every rule names something that exists")
    if not cov.ok:
        raise typer.Exit(1)


@app.command()
def preview(
    source: SourceArg,
    rules: RulesOpt,
    table: Annotated[str, typer.Option("--table", "-t", help="Table to preview.")],
    rows: Annotated[int, typer.Option("--rows", "-n", min=1, help="Rows to show.")] = 10,
) -> None:
    """Before/after of a few rows of one table; writes nothing."""
    from sanitize.pipeline import preview as run_preview

    before, after = run_preview(rules, source, table, rows)
    view = RichTable(title=f"{table}: before -> after", show_lines=True)
    changed = [c for c in before.columns if not before[c].equals(after[c])]
    for c in before.columns:
        view.add_column(f"{c}" if c not in changed else f"{c} (before)", overflow="fold")
        if c in changed:
            view.add_column(f"{c} (after)", style="green", overflow="fold")
    for i in range(len(before)):
        cells: list[str] = []
        for c in before.columns:
            cells.append(_cell(before[c].iloc[i]))
            if c in changed:
                cells.append(_cell(after[c].iloc[i]))
        view.add_row(*cells)
    out.print(view)


def _cell(v: object) -> str:
    text = "NULL" if v is None or (not isinstance(v, str | bytes) and _isna(v)) else str(v)
    return text if len(text) <= 200 else text[:197] + "..."


def _isna(v: object) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to write prod.db and dev.db.")] = Path(
        "sanitize-demo"
    ),
) -> None:
    """The whole flow on a bundled SQLite example: build prod.db, anonymise it into dev.db."""

    from sanitize.demo import build_demo_database, demo_rules_path
    from sanitize.keys import KEY_ENV, SecretKey, load_key
    from sanitize.pipeline import anonymize as run_anonymize

    try:
        key = load_key()
    except SanitizeError:
        key = SecretKey(b"sanitize-demo-key-not-a-secret-0123456789")
        err.print(f"note: {KEY_ENV} is not set; the demo uses a fixed demo key (real runs refuse this).")
    prod = build_demo_database(directory / "prod.db")
    dev = directory / "dev.db"
    out.print(f"built the demo production database: {prod} (rules: {demo_rules_path()})", highlight=False)
    with _progress() as progress:
        run = run_anonymize(demo_rules_path(), str(prod), str(dev), key=key, progress=progress)
    run.write(directory / "report.json")
    _print_run(run)
    out.print(f"dev database: {dev}; report: {directory / 'report.json'}", highlight=False)


def main() -> None:
    """Entry point: run the app, turn SanitizeErrors into messages and exit codes."""
    try:
        app(standalone_mode=False)
    except SanitizeError as exc:
        err.print("error:", style="bold red", end=" ")
        err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
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
