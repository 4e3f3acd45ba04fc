"""Run reports: one JSON document per run, a one-screen summary, and a standalone HTML page.

A report says what ran (command, environment, source and target with passwords removed, rules file
and its sha256, key fingerprint, tool and dependency versions), what it did (rows and time per table,
strategies per column) and what was checked (checks with results, leaks by table/column/kind, never
a value), plus warnings. It is a superset of `pipeline.RunReport.to_dict()`, so both render.
Passwords are scrubbed from every string before a report is written (`secrets=`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from sanitize.errors import BadInputError

if TYPE_CHECKING:
    from rich.console import RenderableType

    from sanitize.config import Config
    from sanitize.verify import VerifyResult

REPORT_VERSION = 1


def secret_forms(secret: str) -> list[str]:
    """A secret as it may appear in text: raw, and percent-encoded the ways URLs encode it."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    return sorted((f for f in forms if f), key=len, reverse=True)


def scrub_secrets(obj: Any, secrets: Iterable[str | None]) -> Any:
    """A copy of a JSON-like value with every form of every secret replaced by ***."""
    forms = [f for s in secrets if s for f in secret_forms(s)]
    if not forms:
        return obj

    def walk(x: Any) -> Any:
        if isinstance(x, str):
            for f in forms:
                x = x.replace(f, "***")
            return x
        if isinstance(x, Mapping):
            return {walk(k): walk(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [walk(v) for v in x]
        return x

    return walk(obj)


def verify_section(result: VerifyResult) -> dict[str, Any]:
    """The leak check's part of a report: totals, counts per table/column/kind, example row keys."""
    return {
        "ok": result.ok,
        "seconds": round(result.seconds, 3),
        "rows_scanned": sum(result.rows.values()),
        "leaks_total": result.leak_total,
        "leaks": [
            {"table": t, "column": c, "kind": k, "count": n, "reason": result.reasons.get((t, c, k), "")}
            for (t, c, k), n in sorted(result.leak_counts.items())
        ],
        "warnings": list(result.warnings),
        "examples": [
            {"table": x.table, "column": x.column, "row": x.row, "kind": x.kind, "detail": x.detail}
            for x in result.leaks
        ],
    }


def build_report(
    run: Any = None,
    *,
    command: str | None = None,
    environment: str | None = None,
    mode: str | None = None,
    source: str | None = None,
    target: str | None = None,
    rules_path: str | Path | None = None,
    rules_sha256: str | None = None,
    key_fingerprint: str | None = None,
    verify: VerifyResult | None = None,
    warnings: Iterable[str] = (),
    dry_run: bool = False,
    error: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The run report document; `run` is a `pipeline.RunReport` (or its dict), other fields override."""
    doc: dict[str, Any] = {}
    if run is not None:
        doc.update(run.to_dict() if hasattr(run, "to_dict") else dict(run))
    doc.setdefault("started_at", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    doc.setdefault("tables", [])
    doc.setdefault("checks", [])
    doc.setdefault("warnings", [])
    if "versions" not in doc:
        from sanitize.pipeline import versions

        doc["versions"] = versions()
    fields = {
        "command": command,
        "environment": environment,
        "mode": mode,
        "source": source,
        "target": target,
        "rules": str(rules_path) if rules_path is not None else None,
        "rules_sha256": rules_sha256,
        "key_fingerprint": key_fingerprint,
        "error": error,
    }
    doc.update({k: v for k, v in fields.items() if v is not None})
    doc["report_version"] = REPORT_VERSION
    doc["tool"] = "sanitize"
    doc["dry_run"] = dry_run
    doc["warnings"] = list(dict.fromkeys([*doc["warnings"], *warnings]))
    if verify is not None:
        doc["verify"] = verify_section(verify)
        doc["checks"] = [*doc["checks"], *(c.to_dict() for c in verify.checks)]
        doc["checks"].append(
            {
                "name": "leak check",
                "table": None,
                "ok": verify.leak_total == 0,
                "detail": f"{verify.leak_total} sensitive value(s) found in {sum(verify.rows.values())} rows",
            }
        )
    doc["rows"] = sum(int(t.get("rows", 0)) for t in doc["tables"])
    if extra:
        doc.update(extra)
    return doc


def prepare_output(path: str | Path, what: str, *, overwrite: bool = True, flag: str = "--force") -> Path:
    """Make sure a run can write `what` to `path` before it starts (before a row is read or a target
    changes): missing parent directories are created; a directory in the way, a parent that cannot be
    made or written, or (unless `overwrite`) an existing file is a BadInputError naming the fix."""
    import os

    p = Path(path)
    if p.is_dir():
        raise BadInputError(f"{p}: is a directory; give a file path for the {what}")
    if p.exists() and not overwrite:
        raise BadInputError(
            f"{p} already exists (a {what} someone may have reviewed); nothing was done. Pass {flag} "
            "to overwrite it, or give another path"
        )
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInputError(
            f"{p}: cannot create directory {p.parent} for the {what} ({exc.strerror or exc}); give a "
            "path in a directory you can write"
        ) from None
    if not os.access(p.parent, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise BadInputError(f"{p}: not writable; give a path in a directory you can write for the {what}")
    return p


def write_report(
    doc: Mapping[str, Any],
    path: str | Path,
    *,
    secrets: Iterable[str | None] = (),
    latest: str | Path | None = None,
) -> Path:
    """Write the report as JSON (passwords scrubbed; parent directories are created), and the same
    document to `latest` too when given (`reports/<env>-latest.json`). Each file is replaced whole
    (written beside it, then renamed), so a reader never sees half a report."""
    import os

    p = Path(path)
    clean = scrub_secrets(dict(doc), secrets)
    text = json.dumps(clean, indent=2, default=str, ensure_ascii=False) + "\n"
    for dest in [p] if latest is None or Path(latest) == p else [p, Path(latest)]:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, dest)
    return p


def find_report(spec: str | Path, config: Config | None = None) -> Path:
    """The report `sanitize report SPEC` shows: a report file, or an environment's latest report
    (`<reports>/<env>-latest.json` of `config`, else of ./sanitize.yaml)."""
    p = Path(spec)
    if p.exists() or p.suffix.lower() == ".json":
        return p  # read_report says what is wrong with it
    from sanitize.config import default_config

    cfg = config if config is not None else default_config()
    if cfg is None or str(spec) not in cfg.environments:
        known = ", ".join(cfg.environments) if cfg is not None else "no sanitize.yaml here"
        raise BadInputError(
            f"{spec}: no such report file, nor an environment (known: {known}); pass a report file or "
            "an environment name"
        )
    latest = cfg.latest_report_path(str(spec))
    if not latest.is_file():
        raise BadInputError(
            f"environment {str(spec)!r} has no run report yet ({latest} does not exist); run "
            f"`sanitize refresh {spec}` first"
        )
    return latest


def read_report(path: str | Path) -> dict[str, Any]:
    """Load a run report; BadInputError when the file is missing or is not one."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInputError(f"{p}: no such report file; reports are written by `sanitize refresh`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(
            f"{p}: not a JSON run report ({type(exc).__name__}); pass a report file"
        ) from None
    if not isinstance(doc, dict) or "tables" not in doc or not isinstance(doc.get("tables"), list):
        raise BadInputError(f"{p}: JSON, but not a sanitize run report (no `tables` list)")
    return doc


# --- rendering ----------------------------------------------------------------------------------


def _status(doc: Mapping[str, Any]) -> tuple[str, bool]:
    from sanitize.report_page import status_of

    status, ok, _ = status_of(doc)
    return status, ok


def render_summary(doc: Mapping[str, Any]) -> RenderableType:
    """One screen: what ran, per-table rows and time, checks, leaks and warnings."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    status, ok = _status(doc)
    head = Text()
    head.append("sanitize ", style="bold")
    head.append(f"{doc.get('command', 'run')}", style="bold")
    if doc.get("environment"):
        head.append(f" {doc['environment']}", style="bold cyan")
    head.append(f"  {status}", style="bold green" if ok else "bold red")
    lines = [head]
    for label, key in (("source", "source"), ("target", "target"), ("mode", "mode"), ("rules", "rules")):
        if doc.get(key):
            lines.append(Text(f"  {label}: {doc[key]}"))
    rows = int(doc.get("rows", 0) or 0)
    seconds = float(doc.get("seconds", 0) or 0)
    speed = f", {rows / seconds:,.0f} rows/s" if seconds > 0 else ""
    lines.append(Text(f"  {rows:,} rows in {seconds:.2f}s{speed}; started {doc.get('started_at', '?')}"))
    parts: list[RenderableType] = [*lines]
    tables = doc.get("tables", [])
    if tables:
        t = Table(show_edge=False, pad_edge=False)
        for col, just in (
            ("table", "left"),
            ("rows", "right"),
            ("seconds", "right"),
            ("transformed", "left"),
        ):
            t.add_column(col, justify=just)  # type: ignore[arg-type]
        for tr in tables[:20]:
            strategies = tr.get("strategies", {})
            changed = sorted({s for s in strategies.values() if not str(s).startswith("keep")})
            t.add_row(
                str(tr.get("table")),
                f"{int(tr.get('rows', 0)):,}",
                f"{float(tr.get('seconds', 0)):.2f}",
                ", ".join(changed) or "-",
            )
        if len(tables) > 20:
            t.add_row(f"... {len(tables) - 20} more", "", "", "")
        parts.append(t)
    checks = doc.get("checks", [])
    failed = [c for c in checks if not c.get("ok", True)]
    parts.append(
        Text(
            f"  checks: {len(checks) - len(failed)} passed, {len(failed)} failed",
            style="red" if failed else "green",
        )
    )
    for c in failed[:8]:
        where = f"{c['table']}: " if c.get("table") else ""
        parts.append(Text(f"    x {where}{c.get('name')}: {c.get('detail', '')}", style="red"))
    for fig in doc.get("risk", [])[:8]:
        src, tgt = fig.get("source") or {}, fig.get("target") or {}
        parts.append(
            Text(
                f"  risk {fig.get('table')}: k {src.get('k')} -> {tgt.get('k')}, unique "
                f"{float(src.get('unique_share', 0)):.1%} -> {float(tgt.get('unique_share', 0)):.1%} "
                f"on ({', '.join(src.get('quasi_identifiers', []))})"
            )
        )
    leaks = doc.get("verify", {}).get("leaks", [])
    for lk in leaks[:8]:
        parts.append(
            Text(f"    leak {lk['table']}.{lk['column']}: {lk['count']} x {lk['kind']}", style="red")
        )
    for w in doc.get("warnings", [])[:5]:
        parts.append(Text(f"  warning: {w}", style="yellow"))
    if doc.get("error"):
        parts.append(Text(f"  error: {doc['error']}", style="red"))
    return Group(*parts)


def render_html(doc: Mapping[str, Any], *, path: str | Path | None = None) -> str:
    """A standalone HTML page (no external assets, no script; `report_page`); with `path`, the report's
    file, it charts the last runs of the same environment and command found beside it."""
    from sanitize.report_page import render_page, run_history

    return render_page(doc, run_history(path, doc) if path is not None else ())


def write_html(report: str | Path, out: str | Path) -> Path:
    """Render the run report file `report` as a page at `out` (with the chart of its last runs)."""
    found = Path(report)
    page = render_html(read_report(found), path=found)
    dest = Path(out)
    dest.write_text(page, encoding="utf-8")
    return dest
