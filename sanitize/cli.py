"""The `sanitize` command line: parse flags, call one library function, render the result.

No logic a notebook would want lives here. Every expected error is a SanitizeError, printed as a
clean message and mapped to its exit code (0 ok, 1 safety check said no, 2 bad input, 3 runtime).
Ctrl-C and SIGTERM stop a run the same way (KeyboardInterrupt: the load's shadow copy is dropped, a
report asked for is written with status `interrupted`), with one line and exit code 130.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import TaskID
from rich.table import Table as RichTable

from sanitize.defaults import DEFAULT_BATCH
from sanitize.errors import SanitizeError
from sanitize.report import prepare_output

if TYPE_CHECKING:
    from sanitize.pipeline import RunReport

EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM, as a shell reports a SIGINT

app = typer.Typer(
    name="sanitize",
    help=(
        "Make production data safe for staging and dev.\n\n"
        "Exit codes: 0 success; 1 a safety or data check said no; 2 bad input (rules, config, arguments, "
        "URL); 3 a runtime failure, after which the target is unchanged; 130 interrupted (Ctrl-C or "
        "SIGTERM; the target is unchanged unless the run had published)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

RulesOpt = Annotated[Path, typer.Option("--rules", "-r", help="Rules file (YAML).")]
SourceArg = Annotated[str, typer.Argument(help="Source: SQLAlchemy URL, SQLite file, or environment name.")]
TargetArg = Annotated[str, typer.Argument(help="Target: SQLAlchemy URL, SQLite file, or environment name.")]
InitTargetOpt = Annotated[
    bool,
    typer.Option(
        "--init-target",
        help="Adopt a SQLite file sanitize did not make: replace the tables it loads, keep the others.",
    ),
]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            out.print(f"sanitize {version('sanitize')}", highlight=False)
        except PackageNotFoundError:  # running from a source tree that is not installed
            out.print("sanitize (not installed)", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


@app.command()
def strategies(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the README's table: name, what it does, example.")
    ] = False,
) -> None:
    """What each strategy does, its parameters and capabilities."""
    from sanitize.strategies import all_strategies, markdown_table

    if markdown:
        typer.echo(markdown_table(all_strategies().values()), nl=False)
        return
    table = RichTable(title="strategies", show_lines=True)
    for col in ("name", "what it does", "parameters", "flags"):
        table.add_column(col)
    for spec in all_strategies().values():
        params = ", ".join(
            f"{n}={f.get_default(call_default_factory=True)!r}" if not f.is_required() else f"{n} (required)"
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
    """Rich progress bars on stderr (one per table and phase) when stderr is a terminal; nothing when
    it is not. SANITIZE_PROGRESS=1 forces them (on any stderr), SANITIZE_PROGRESS=0 turns them off."""
    forced = os.environ.get("SANITIZE_PROGRESS", "").strip()
    if forced == "0" or (forced != "1" and not err.is_terminal):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = err if err.is_terminal else Console(stderr=True, force_terminal=True, width=100)

    bars: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as prog:

        def update(table: str, done: int, total: int | None) -> None:
            if table not in bars:
                bars[table] = prog.add_task(table, total=total)
            prog.update(bars[table], completed=done, total=total)

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
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Rows per batch.")] = DEFAULT_BATCH,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Threads transforming batches (default: CPUs - 1, 1 to 4)."),
    ] = None,
    init_target: InitTargetOpt = False,
) -> None:
    """Anonymise SOURCE into TARGET atomically (prod -> staging/dev)."""
    from sanitize.db.refs import mask_spec
    from sanitize.keys import load_key
    from sanitize.pipeline import RunReport
    from sanitize.pipeline import anonymize as run_anonymize
    from sanitize.rules import load_rules

    if report is not None:
        prepare_output(report, "run report")
    rules_file = load_rules(rules)
    run = RunReport.start(rules_file, mask_spec(source), mask_spec(target))
    key = load_key()  # the key is resolved here, at the edge, and passed down
    try:
        with _progress() as progress:
            run_anonymize(
                rules_file,
                source,
                target,
                key=key,
                batch_size=batch_size,
                progress=progress,
                workers=workers,
                init_target=init_target,
                report=run,
            )
    except KeyboardInterrupt as exc:
        _note_interrupt(exc)
        if report is not None:  # status `interrupted`, set by the run
            run.write(report)
        raise
    if report is not None:
        run.write(report)
    _print_run(run)


@app.command()
def check(
    source: SourceArg,
    rules: RulesOpt,
    suggest: Annotated[
        bool, typer.Option("--suggest", help="Print rule lines that would fix findings.")
    ] = False,
    sample: Annotated[
        int, typer.Option("--sample", min=0, help="Rows sampled per kept column (0: skip).")
    ] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Coverage and drift: exit 1 if a column is uncovered, a rule is stale, or a kept column holds PII."""
    from sanitize.api import check as run_check

    with _progress() as progress:
        result = run_check(rules, source, pii=sample > 0, sample=max(sample, 1), progress=progress)
    findings = result.findings
    if as_json:
        out.print_json(data={"ok": result.ok, "findings": findings.to_dict("records")})
    else:
        for line in result.problems():
            out.print(line, highlight=False, markup=False, soft_wrap=True)
        for line in result.warnings():
            out.print(f"note: {line}", highlight=False, markup=False, soft_wrap=True)
        defaulted = int((findings["problem"] == "defaulted").sum()) if len(findings) else 0
        if defaulted:
            out.print(f"{defaulted} column(s) kept by default (unknown_columns: keep)", highlight=False)
        if suggest and len(findings):
            pii = findings[findings["problem"] == "looks_like_pii"]
            for row in pii.to_dict("records"):
                m = re.search(r"`([^`]+)`", str(row["fix"]))
                if m:
                    out.print(
                        f"# tables.{row['table']}.columns:\n{m.group(1)}", highlight=False, markup=False
                    )
        if result.ok:
            out.print("ok: every column is covered, every rule names something that exists, no kept PII")
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def preview(
    source: SourceArg,
    rules: RulesOpt,
    table: Annotated[str, typer.Option("--table", "-t", help="Table to preview.")],
    rows: Annotated[int, typer.Option("--rows", "-n", min=1, help="Rows to show.")] = 10,
) -> None:
    """Before/after of a few rows of one table; writes nothing."""
    from sanitize.keys import load_key
    from sanitize.pipeline import preview as run_preview
    from sanitize.preview_view import render_preview

    before, after = run_preview(rules, source, table, rows, key=load_key())
    out.print(render_preview(before, after, table, out.width))


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


@app.command()
def synth(
    target: TargetArg,
    rules: Annotated[
        Path | None, typer.Option("--rules", "-r", help="Rules file: fake kinds, skipped tables.")
    ] = None,
    schema_from: Annotated[
        str | None,
        typer.Option("--schema-from", help="Database, environment or dump file to take the schema from."),
    ] = None,
    rows: Annotated[
        list[str] | None,
        typer.Option(
            "--rows", help="Rows for every table (N) and/or TABLE=N (wins for that table); repeatable."
        ),
    ] = None,
    scale: Annotated[
        float | None, typer.Option("--scale", min=0.0, help="Fraction of the source's row counts.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same database.")] = 0,
    profile: Annotated[Path | None, typer.Option("--profile", help="Profile JSON to reproduce.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the JSON synth report here.")] = None,
    init_target: InitTargetOpt = False,
) -> None:
    """Fill TARGET with synthetic data that meets every constraint of the schema."""
    from sanitize.rules import load_rules
    from sanitize.synth import Profile, parse_rows, synthesize

    if report is not None:
        prepare_output(report, "synth report")
    try:
        run = synthesize(
            target,
            schema_from=schema_from,
            rules=load_rules(rules) if rules is not None else None,
            rows=parse_rows(rows),
            scale=scale,
            seed=seed,
            profile=Profile.load(profile) if profile is not None else None,
            init_target=init_target,
        )
    except KeyboardInterrupt:
        if report is not None:
            from sanitize.db.refs import mask_spec
            from sanitize.report import write_report

            stopped = {"command": "synth", "target": mask_spec(target), "status": "interrupted"}
            write_report({**stopped, "published": False, "tables": []}, report)
        raise
    if report is not None:
        run.save(report)
    table = RichTable(title=f"synthesised into {run.target}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for key, n in run.rows.items():
        table.add_row(key, f"{n:,}")
    out.print(table)
    total = sum(run.rows.values())
    out.print(
        f"{total:,} rows in {run.seconds:.1f}s ({run.rows_per_second:,.0f} rows/s), seed {run.seed}",
        highlight=False,
    )
    if run.privacy is not None:
        p = run.privacy
        out.print(
            f"privacy: exact-match rate {p.exact_match_rate:.4f} ({p.exact_matches} rows); "
            f"sensitive source values in the output: {p.sensitive_values_found}",
            highlight=False,
        )
    if run.fidelity is not None:
        off = [c for c in run.fidelity.columns if not c.ok]
        n_cols = len(run.fidelity.columns)
        out.print(f"fidelity: {n_cols - len(off)}/{n_cols} columns within tolerance", highlight=False)
        for c in off:
            err.print(
                f"warning: {c.table}.{c.column} differs from the profile "
                f"(null gap {c.null_fraction_gap:.3f}, KS {c.ks}, TVD {c.tvd})",
                highlight=False,
                markup=False,
            )


@app.command(name="profile")
def profile_cmd(
    source: SourceArg,
    rules: RulesOpt,
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to write the profile JSON.")] = Path(
        "profile.json"
    ),
) -> None:
    """Record aggregate, PII-free facts about SOURCE (for `synth --profile`); safe to commit."""
    from sanitize.rules import load_rules
    from sanitize.synth import build_profile

    prepare_output(out_path, "profile")
    prof = build_profile(source, load_rules(rules))
    prof.save(out_path)
    sensitive = sum(c.sensitive for t in prof.tables.values() for c in t.columns.values())
    out.print(
        f"profiled {len(prof.tables)} tables into {out_path} "
        f"({sensitive} sensitive columns recorded as NULL fraction and length only)",
        highlight=False,
    )


# --- environments, the nightly refresh, verify, diff, reports (sanitize.config/refresh/verify/diff/report)

DEFAULT_CFG = "sanitize.yaml"
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Environments file (default: ./sanitize.yaml when present)."),
]


def _config_or_none(path: Path | None) -> object | None:
    from sanitize.config import default_config, load_config

    return default_config() if path is None else load_config(path)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Project directory.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Write a commented starter sanitize.yaml and .env.example."""
    from sanitize.config import init_project

    for p in init_project(directory, force=force):
        out.print(f"wrote {p}", highlight=False)
    out.print("next: copy .env.example to .env, fill it in, then `sanitize refresh staging --dry-run`")


@app.command()
def refresh(
    environment: Annotated[str, typer.Argument(help="Environment to refresh (a refresh job in the config).")],
    config: Annotated[Path, typer.Option("--config", "-c", help="Environments file.")] = Path(DEFAULT_CFG),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Do everything but publish.")] = False,
    log_format: Annotated[str, typer.Option("--log-format", help="Log lines as text or json.")] = "text",
    init_target: Annotated[
        bool,
        typer.Option("--init-target", help="Adopt an unmarked target or one of another environment."),
    ] = False,
    report: Annotated[Path | None, typer.Option("--report", help="Write the JSON run report here.")] = None,
    html_out: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the run report as a standalone HTML page here (ok or not)."),
    ] = None,
) -> None:
    """The nightly job: refresh ENV from its configured source, verified, published atomically."""
    from sanitize.logs import configure_logging
    from sanitize.refresh import refresh as run_refresh
    from sanitize.report import render_summary, write_html

    configure_logging(log_format, environment=environment)  # type: ignore[arg-type]  # checks the value
    if html_out is not None:
        prepare_output(html_out, "HTML report")
    try:
        with _progress() as progress:
            doc = run_refresh(
                environment,
                config,
                dry_run=dry_run,
                init_target=init_target,
                report_path=report,
                progress=progress,
            )
    except (SanitizeError, KeyboardInterrupt) as exc:
        if isinstance(exc, KeyboardInterrupt):
            _note_interrupt(exc)
        path = getattr(exc, "report_path", None)
        if path:
            err.print(f"report: {path}", highlight=False)
            if html_out is not None:  # a failed night is when the page is read
                err.print(f"wrote {write_html(path, html_out)}", highlight=False)
        raise
    out.print(render_summary(doc))
    out.print(f"report: {doc['report_path']}", highlight=False)
    if html_out is not None:
        out.print(f"wrote {write_html(doc['report_path'], html_out)}", highlight=False)


@app.command()
def seed(
    environment: Annotated[str, typer.Argument(help="Environment to fill (default: dev).")] = "dev",
    config: Annotated[Path, typer.Option("--config", "-c", help="Environments file.")] = Path(DEFAULT_CFG),
    init_target: Annotated[
        bool, typer.Option("--init-target", help="Adopt an unmarked target database.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Seed an environment whose role is not dev (replaces its data).")
    ] = False,
) -> None:
    """Developers: one command to a ready local database with synthetic data (the ENV's job, as synth)."""
    from sanitize.refresh import seed as run_seed
    from sanitize.report import render_summary

    doc = run_seed(environment, config, init_target=init_target, force=force)
    out.print(render_summary(doc))
    out.print(f"report: {doc['report_path']}", highlight=False)


@app.command()
def verify(
    source: SourceArg,
    target: TargetArg,
    rules: RulesOpt,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    risk: Annotated[
        bool,
        typer.Option(
            "--risk",
            help="Also measure re-identification risk (k-anonymity, unique share, l-diversity) of the "
            "rules' quasi_identifiers on SOURCE and TARGET; exit 1 below the rules' risk: limits.",
        ),
    ] = False,
) -> None:
    """Leak check: no sensitive SOURCE value may appear in TARGET; exit 1 on any leak."""
    import json

    from sanitize.keys import load_key
    from sanitize.verify import verify_databases

    cfg = _config_or_none(config)
    envs = cfg.environment_urls() if cfg is not None else None  # type: ignore[attr-defined]
    from sanitize.verify import VerifyOptions

    with _progress() as progress:
        options = VerifyOptions(progress=progress)
        result = verify_databases(rules, source, target, key=load_key(), environments=envs, options=options)
    risks = _risk(rules, source, target, envs, as_json) if risk else None
    if as_json:
        doc = result.to_dict()
        if risks is not None:
            doc["risk"] = [r.to_dict() for r in risks]
        out.print_json(json.dumps(doc))
    else:
        table = RichTable(title=f"leak check: {sum(result.rows.values()):,} rows in {result.seconds:.2f}s")
        for col in ("table", "column", "kind", "count", "reason"):
            table.add_column(col, justify="right" if col == "count" else "left")
        for (t, c, k), n in sorted(result.leak_counts.items()):
            table.add_row(t, c, k, f"{n:,}", result.reasons.get((t, c, k), ""))
        if result.leak_counts:
            out.print(table)
        for w in result.warnings:
            err.print(f"warning: {w}", highlight=False)
        failed = [c for c in result.checks if not c.ok]
        out.print(
            f"{result.leak_total} leak(s); {len(result.checks) - len(failed)} checks passed, "
            f"{len(failed)} failed",
            highlight=False,
        )
    result.raise_for_problems()
    if risks is not None:
        from sanitize.risk import raise_if_over
        from sanitize.rules import load_rules

        raise_if_over(load_rules(rules).risk, risks, publishing=False)


def _risk(rules: Path, source: str, target: str, envs: Any, quiet: bool) -> list[Any]:
    """Re-identification figures for `verify --risk`, printed as a table unless `quiet`."""
    from sanitize.risk import assess, final_rules, rule_text
    from sanitize.rules import load_rules

    r = load_rules(rules)
    risks = assess(r, source, target, environments=envs)
    if quiet:
        return risks
    if not risks:
        out.print("risk: the rules name no quasi_identifiers; nothing to measure", highlight=False)
        return risks
    table = RichTable(title="re-identification risk (source -> target)")
    for col in ("table", "quasi-identifiers", "rows", "k", "unique", "l"):
        table.add_column(col)
    for t in risks:
        tg = t.target or t.source
        table.add_row(
            t.table,
            ", ".join(t.source.quasi_identifiers),
            f"{tg.rows:,}",
            f"{t.source.k} -> {tg.k}",
            f"{t.source.unique_share:.1%} -> {tg.unique_share:.1%}",
            ", ".join(f"{c} {t.source.l_diversity[c]} -> {n}" for c, n in tg.l_diversity.items()) or "-",
        )
    out.print(table)
    for t in risks:
        for col, rule in final_rules(t.suggestions).items():
            out.print(f"suggested: {t.table}.{col}: {rule_text(rule)}", highlight=False)
    return risks


@app.command()
def diff(
    env_a: Annotated[str, typer.Argument(help="First database: environment name, URL or SQLite file.")],
    env_b: Annotated[str, typer.Argument(help="Second database: environment name, URL or SQLite file.")],
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Schema drift between two environments (or databases, or dump files); exit 1 when they differ."""
    import json

    from sanitize.diff import diff_databases, render_diff

    result = diff_databases(env_a, env_b, config=_config_or_none(config))  # type: ignore[arg-type]
    if as_json:
        out.print_json(json.dumps(result.to_dict()))
    else:
        out.print(render_diff(result))
    if not result.same:
        raise typer.Exit(1)


@app.command(name="report")
def report_cmd(
    path: Annotated[
        str,
        typer.Argument(
            help="A JSON run report (from refresh or anonymize --report), or an environment name for its "
            "latest refresh (reports/ENV-latest.json)."
        ),
    ],
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Also write a standalone HTML page here.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Show a run report on one screen; --html writes a page to share."""
    from sanitize.report import find_report, read_report, render_summary, write_html

    cfg = _config_or_none(config) if config is not None else None  # else ./sanitize.yaml, when needed
    found = find_report(path, cfg)  # type: ignore[arg-type]
    doc = read_report(found)
    if html_out is not None:
        prepare_output(html_out, "HTML report")
    out.print(render_summary(doc))
    if html_out is not None:
        out.print(f"wrote {write_html(found, html_out)}", highlight=False)


@app.command()
def scan(
    source: SourceArg,
    sample: Annotated[
        int, typer.Option("--sample", min=1, help="Rows sampled per table (spread, same rows each run).")
    ] = 1000,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Write a draft rules file covering every column here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable report on stdout.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --out file.")] = False,
) -> None:
    """Detect PII in every column (values, names, types) and draft a rules file."""
    import json

    from sanitize.detect import scan_database, write_draft

    if out_path is not None:
        prepare_output(out_path, "rules file", overwrite=force)
    with _progress() as progress:
        report = scan_database(source, sample, progress=progress)
    if out_path is not None:
        write_draft(report, out_path)
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
        return
    table = RichTable(title=f"PII scan of {report.source} (sample {sample} rows per table)")
    for col in ("table", "column", "PII", "confidence", "evidence"):
        table.add_column(col, justify="right" if col == "confidence" else "left")
    for c in report.columns():
        kind = c.kind or ("-> " + c.foreign_key if c.foreign_key else "")
        table.add_row(c.table, c.column, kind, f"{c.confidence:.2f}" if c.kind else "", c.evidence.describe())
    out.print(table)
    out.print(f"{len(report.pii_columns())} PII column(s) in {len(report.tables)} table(s)", highlight=False)
    if out_path is not None:
        out.print(f"wrote draft rules to {out_path}; review every line before use", highlight=False)


def _click_kinds(exc: BaseException) -> set[str]:
    """Click exception classes `exc` is an instance of, by name: typer 0.2x ships its own copy of
    click (`typer._click`), older typer uses the `click` package, and both may be installed."""
    return {c.__name__ for c in type(exc).__mro__ if c.__module__.split(".")[0] in ("click", "typer")}


_stopped: dict[str, Any] = {}  # what interrupted the run, and whether it had published (see _stop)


def _stop(signum: int, frame: object) -> None:
    """Ctrl-C and SIGTERM (a scheduler stopping the job) stop a run alike: KeyboardInterrupt, so loads
    abort and reports say `interrupted`. typer turns it into exit code 130; main() says why."""
    name = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C (SIGINT)"
    _stopped["by"] = name
    raise KeyboardInterrupt(name)


def _note_interrupt(exc: KeyboardInterrupt) -> None:
    """Remember whether the interrupted run had published (the library sets it on the exception)."""
    _stopped["published"] = bool(getattr(exc, "published", False))


def _say_interrupted() -> None:
    state = (
        "the target had already been published"
        if _stopped.get("published")
        else "nothing was published; the target is unchanged"
    )
    why = _stopped.get("by", "Ctrl-C (SIGINT)")
    err.print(f"interrupted by {why}; {state}", highlight=False, markup=False, soft_wrap=True)


_METAVARS = {"str": "TEXT", "int": "N", "int range": "N", "float": "NUMBER", "float range": "NUMBER"}


def click_command() -> Any:
    """The click command behind `app`, with help that reads like a manual: flags without a type,
    arguments and values by name (SOURCE, PATH, N) instead of `<bool>`, `<str>`, `{source}`."""
    cmd = typer.main.get_command(app)

    def tidy(c: Any) -> None:
        help_option = c.get_help_option

        def quiet_help(ctx: Any) -> Any:
            opt = help_option(ctx)
            if opt is not None:
                opt.metavar = ""
            return opt

        c.get_help_option = quiet_help
        for p in c.params:
            if p.param_type_name == "argument":
                p.metavar = p.name.upper()
                shown = p.metavar if p.required else f"[{p.metavar}]"
                p._usage_display_name = lambda shown=shown: shown
                p.display_type_rich = lambda ctx=None: ""
            elif getattr(p, "is_flag", False) or getattr(p, "count", False):
                p.metavar = ""
            elif p.metavar is None and hasattr(p, "display_type"):
                label = p.display_type(None).strip("<>")
                many = label.startswith("list[")
                label = label.removeprefix("list[").removesuffix("]")
                name = _METAVARS.get(label, label.upper() if label.isidentifier() else f"[{label}]")
                p.metavar = f"{name} ..." if many else name
        for sub in getattr(c, "commands", {}).values():
            tidy(sub)

    tidy(cmd)
    return cmd


def main() -> None:
    """Entry point: run the app, turn SanitizeErrors into messages and exit codes."""
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        code = click_command()(standalone_mode=False, prog_name="sanitize")
    except SanitizeError as exc:
        err.print("error:", style="bold red", end=" ")
        err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(3)
    except KeyboardInterrupt as exc:  # one typer did not turn into exit code 130 (before a command ran)
        _note_interrupt(exc)
        code = EXIT_INTERRUPTED
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors arrive as ClickException subclasses
        kinds = _click_kinds(exc)
        if "NoArgsIsHelpError" in kinds:  # `sanitize` alone: the help was printed; nothing went wrong
            sys.exit(0)
        if "UsageError" in kinds:  # unknown option, missing argument, bad value: exit 2
            ctx = getattr(exc, "ctx", None)
            command = getattr(ctx, "command_path", None) or "sanitize"
            err.print(f"error: {exc.format_message()}", highlight=False, markup=False)  # type: ignore[attr-defined]
            err.print(f"see `{command} --help`", highlight=False, markup=False)
            sys.exit(2)
        if "ClickException" in kinds:
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        if os.environ.get("SANITIZE_DEBUG"):
            raise
        # an error nobody expected: still no traceback, still no secret, and the target is unchanged
        from sanitize.db.refs import mask_spec

        text = " ".join(mask_spec(word) for word in str(exc).split(" "))
        err.print(f"error: unexpected {type(exc).__name__}: {text}", highlight=False, markup=False)
        err.print("the target is unchanged; set SANITIZE_DEBUG=1 for a traceback and report it as a bug")
        sys.exit(3)
    if code == EXIT_INTERRUPTED:
        _say_interrupted()
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
