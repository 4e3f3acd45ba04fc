"""The run report as one self-contained HTML page: what a team lead opens in the morning.

Status and why (the first failed check, or the error), what ran, per-table rows/time/strategies,
coverage and drift, the leak check per column (counts and how each was matched, never a value),
re-identification figures before -> after, warnings grouped by kind, a schema diff when the report
has one, and an inline-SVG chart of durations and row counts over the last runs. No script, font,
stylesheet or image is fetched, and the page has no script: it works offline and from a mail attachment.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

e = html.escape

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:64rem;color:#222;
padding:0 1rem}
h1{font-size:1.4rem;margin:0 0 .3rem} h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ddd}
.ok{color:#17803d}.bad{color:#b42318}.muted{color:#666}
.status{display:inline-block;padding:.1rem .6rem;border-radius:1rem;color:#fff;font-size:1rem}
.status.ok{background:#17803d}.status.bad{background:#b42318}
.why{background:#fdecea;border-left:4px solid #b42318;padding:.5rem .8rem;margin:.6rem 0}
table{border-collapse:collapse;width:100%}
td,th{padding:.3rem .5rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.bar{height:.7rem;border-radius:2px;display:inline-block;vertical-align:middle}
.rows{background:#4f7cff}.time{background:#f59e0b}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem} dt{color:#666} dd{margin:0}
.warn{background:#fff7e6;border-left:3px solid #f59e0b;padding:.4rem .6rem;margin:.3rem 0}
ul.plain{margin:.2rem 0;padding-left:1.2rem} svg text{font:11px system-ui,sans-serif;fill:#444}
"""

KEPT = '<span class="muted">all kept</span>'

# (kind, pattern) in order: a warning goes to the first kind whose pattern it matches
WARNING_KINDS: tuple[tuple[str, str], ...] = (
    ("credentials", r"credential|password"),
    ("possible PII in kept columns", r"kept|detector|looks like|may hold"),
    ("columns without a rule", r"unknown_columns|no rule names"),
    ("orphan rows", r"orphan"),
    ("constraints and types", r"constraint|check|index|generated|type"),
)


def warning_kind(text: str) -> str:
    """The group a warning is shown in (`WARNING_KINDS`, else `other`)."""
    low = text.lower()
    return next((kind for kind, pat in WARNING_KINDS if re.search(pat, low)), "other")


def status_of(doc: Mapping[str, Any]) -> tuple[str, bool, str | None]:
    """(status text, ok, why): why is the first failed check (`name: detail`) or the error."""
    status = str(doc.get("status", "unknown"))
    failed = [c for c in doc.get("checks", []) if not c.get("ok", True)]
    ok = status == "ok" and not failed
    if doc.get("dry_run") and ok:
        status = "ok (dry run: not published)"
    why = None
    if failed:
        c = failed[0]
        where = f"{c['table']}: " if c.get("table") else ""
        why = f"{where}{c.get('name', 'check')}: {c.get('detail', '')}"
    elif doc.get("error"):
        why = str(doc["error"])
    return status, ok, why


def run_history(report: str | Path, doc: Mapping[str, Any], *, limit: int = 20) -> list[dict[str, Any]]:
    """The last `limit` runs of the same environment and command found beside `report` (its
    directory's `*.json`) up to this one, oldest first, as {started_at, seconds, rows, ok}.
    Files that are not run reports are passed over; a `-latest.json` copy counts once."""
    here = Path(report)
    same = (doc.get("environment"), doc.get("command"))
    runs: dict[tuple[str, float, int, bool], dict[str, Any]] = {}  # a run and its -latest copy are one
    for p in sorted(here.parent.glob("*.json")) if here.parent.is_dir() else []:
        try:
            other = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(other, dict) or not isinstance(other.get("tables"), list):
            continue
        if (other.get("environment"), other.get("command")) == same and other.get("started_at"):
            point = _point(other)
            runs[_run_key(point)] = point
    if doc.get("started_at"):
        point = _point(doc)
        runs[_run_key(point)] = point
        runs = {k: v for k, v in runs.items() if k[0] <= point["started_at"]}  # up to this run
    return [runs[k] for k in sorted(runs)][-limit:]


def _run_key(point: Mapping[str, Any]) -> tuple[str, float, int, bool]:
    return (point["started_at"], point["seconds"], point["rows"], point["ok"])


def _point(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "started_at": str(doc.get("started_at")),
        "seconds": float(doc.get("seconds", 0) or 0),
        "rows": int(doc.get("rows", 0) or 0),
        "ok": status_of(doc)[1],
    }


def history_svg(points: Sequence[Mapping[str, Any]], *, width: int = 640, height: int = 160) -> str:
    """Two inline-SVG series over the runs: seconds (bars, left scale) and rows (line, right scale);
    a failed run's bar is red."""
    if not points:
        return ""
    pad_l, pad_r, pad_t, pad_b = 48, 64, 12, 28
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    most_s = max(float(p["seconds"]) for p in points) or 1.0
    most_r = max(int(p["rows"]) for p in points) or 1
    step = w / len(points)
    out = [
        f'<svg id="history-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="run durations and row counts">',
        f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{pad_l + w}" y2="{pad_t + h}" stroke="#999"/>',
        f'<text x="{pad_l - 6}" y="{pad_t + 8}" text-anchor="end">{most_s:.1f}s</text>',
        f'<text x="{pad_l + w + 6}" y="{pad_t + 8}">{most_r:,} rows</text>',
    ]
    line: list[str] = []
    dots: list[str] = []
    for i, p in enumerate(points):
        x = pad_l + i * step
        bh = h * float(p["seconds"]) / most_s
        color = "#f59e0b" if p["ok"] else "#b42318"
        out.append(
            f'<rect class="run" x="{x + step * 0.15:.1f}" y="{pad_t + h - bh:.1f}" width="{step * 0.7:.1f}" '
            f'height="{bh:.1f}" fill="{color}"><title>{e(p["started_at"])}: {float(p["seconds"]):.2f}s, '
            f"{int(p['rows']):,} rows</title></rect>"
        )
        cx, cy = x + step / 2, pad_t + h - h * int(p["rows"]) / most_r
        line.append(f"{cx:.1f},{cy:.1f}")
        dots.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="#4f7cff"/>')
    out += [f'<polyline points="{" ".join(line)}" fill="none" stroke="#4f7cff" stroke-width="2"/>', *dots]
    first, last = str(points[0]["started_at"])[:16], str(points[-1]["started_at"])[:16]
    out.append(f'<text x="{pad_l}" y="{height - 8}">{e(first)}</text>')
    out.append(f'<text x="{pad_l + w}" y="{height - 8}" text-anchor="end">{e(last)}</text>')
    out.append("</svg>")
    return "".join(out)


def _bar(value: float, most: float, cls: str) -> str:
    width = 0 if most <= 0 else max(1, round(200 * value / most)) if value > 0 else 0
    return f'<span class="bar {cls}" style="width:{width}px"></span>'


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, table_id: str = "", numeric: Sequence[int] = ()
) -> str:
    """An HTML table of already escaped cells; the columns at `numeric` are right-aligned numbers."""
    tid = f' id="{table_id}"' if table_id else ""
    cls = ["n" if i in numeric else "" for i in range(len(headers))]

    def cell(tag: str, i: int, v: str) -> str:
        return f'<{tag} class="{cls[i]}">{v}</{tag}>' if cls[i] else f"<{tag}>{v}</{tag}>"

    out = [f"<table{tid}><tr>{''.join(cell('th', i, e(h)) for i, h in enumerate(headers))}</tr>"]
    out += [f"<tr>{''.join(cell('td', i, v) for i, v in enumerate(r))}</tr>" for r in rows]
    return "".join(out) + "</table>"


def _head(doc: Mapping[str, Any]) -> list[str]:
    status, ok, why = status_of(doc)
    title = f"sanitize {doc.get('command', 'run')} {doc.get('environment') or ''}".strip()
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}: {e(status)}</title><style>{_CSS}</style></head><body>",
        f'<h1>{e(title)} <span id="status" class="status {"ok" if ok else "bad"}">{e(status)}</span></h1>',
    ]
    if why:
        failed: Mapping[str, Any] = next((c for c in doc.get("checks", []) if not c.get("ok", True)), {})
        problems = [str(p) for p in failed.get("problems", [])]
        listed = "".join(f"<li>{e(p)}</li>" for p in problems[:5])
        if len(problems) > 5:
            listed += f'<li class="muted">and {len(problems) - 5} more</li>'

        out.append(
            f'<div id="why" class="why"><b>why:</b> {e(why)}'
            + (f'<ul class="plain">{listed}</ul>' if listed else "")
            + "</div>"
        )
    out.append(
        f'<p class="muted">started {e(str(doc.get("started_at", "?")))}, '
        f'<span id="total-rows">{int(doc.get("rows", 0) or 0):,}</span> rows in '
        f"{float(doc.get('seconds', 0) or 0):.2f}s</p><dl>"
    )
    for label in ("source", "target", "mode", "rules", "rules_sha256", "key_fingerprint", "published"):
        if doc.get(label) is not None:
            out.append(f"<dt>{e(label)}</dt><dd>{e(str(doc[label]))}</dd>")
    out.append("</dl>")
    return out


def _tables(doc: Mapping[str, Any]) -> list[str]:
    tables = doc.get("tables", [])
    if not tables:
        return ['<h2>Tables</h2><p class="muted">no table was copied</p>']
    most_rows = max((float(t.get("rows", 0)) for t in tables), default=0.0)
    most_time = max((float(t.get("seconds", 0)) for t in tables), default=0.0)
    rows = []
    for t in tables:
        n, secs = float(t.get("rows", 0)), float(t.get("seconds", 0))
        strategies = ", ".join(
            f"{c}: {s}" for c, s in t.get("strategies", {}).items() if not str(s).startswith("keep")
        )
        rows.append(
            [
                e(str(t.get("table"))),
                f"{int(n):,}",
                _bar(n, most_rows, "rows"),
                f"{secs:.2f}",
                _bar(secs, most_time, "time"),
                e(strategies) or KEPT,
            ]
        )
    return [
        "<h2>Tables</h2>",
        _table(["table", "rows", "", "seconds", "", "strategies"], rows, table_id="tables", numeric=(1, 3)),
    ]


def _checks(doc: Mapping[str, Any]) -> list[str]:
    rows = []
    for c in doc.get("checks", []):
        good = c.get("ok", True)
        mark = f'<span class="{"ok" if good else "bad"}">{"&#10003;" if good else "&#10007;"}</span>'
        rows.append(
            [mark, e(str(c.get("name", ""))), e(str(c.get("table") or "")), e(str(c.get("detail", "")))]
        )
    return ["<h2>Checks</h2>", _table(["", "check", "table", "detail"], rows, table_id="checks")]


def _coverage(doc: Mapping[str, Any]) -> list[str]:
    """Uncovered columns and stale rules (a CoverageError's problems, or a `coverage` section)."""
    problems = [
        str(p)
        for c in doc.get("checks", [])
        if not c.get("ok", True) and "uncovered" in str(c.get("detail", ""))
        for p in c.get("problems", [])
    ]
    cov = doc.get("coverage") or {}
    found = [(k, cov.get(k) or []) for k in ("uncovered", "stale", "defaulted", "drift")]
    if not problems and not any(v for _, v in found):
        return []
    out = ['<h2>Coverage and drift</h2><div id="coverage">']
    if problems:
        out.append('<ul class="plain">' + "".join(f"<li>{e(p)}</li>" for p in problems) + "</ul>")
    for label, items in found:
        if items:
            shown = ", ".join(e(str(i)) for i in items[:50])
            out.append(f"<p><b>{e(label)}</b> ({len(items)}): {shown}</p>")
    return [*out, "</div>"]


def _leaks(doc: Mapping[str, Any]) -> list[str]:
    verify = doc.get("verify")
    if not verify:
        return []
    total = int(verify.get("leaks_total", 0))
    out = [
        f'<h2>Leak check</h2><p><span id="rows-scanned">{int(verify.get("rows_scanned", 0)):,}</span> rows '
        f"scanned in {float(verify.get('seconds', 0)):.2f}s; "
        f'<span id="leak-total" class="{"bad" if total else "ok"}">{total}</span> leak(s).</p>'
    ]
    leaks = verify.get("leaks", [])
    if leaks:
        rows = [
            [
                e(str(lk["table"])),
                e(str(lk["column"])),
                e(str(lk["kind"])),
                e(str(lk.get("reason", ""))),
                f"{int(lk['count']):,}",
            ]
            for lk in leaks
        ]
        out.append(
            _table(
                ["table", "column", "kind", "how it matched", "count"], rows, table_id="leaks", numeric=(4,)
            )
        )
    return out


def _risk(doc: Mapping[str, Any]) -> list[str]:
    figures = doc.get("risk") or []
    if not figures:
        return []
    rows = []
    for fig in figures:
        src, tgt = fig.get("source") or {}, fig.get("target") or {}

        def pair(key: str, fmt: str, src: Mapping[str, Any] = src, tgt: Mapping[str, Any] = tgt) -> str:
            a = format(src[key], fmt) if src.get(key) is not None else "?"
            b = format(tgt[key], fmt) if tgt.get(key) is not None else "?"
            return f"{a} &rarr; {b}"

        l_src, l_tgt = src.get("l_diversity") or {}, tgt.get("l_diversity") or {}
        l_text = ", ".join(f"{e(c)} {l_src.get(c, '?')} &rarr; {l_tgt.get(c, '?')}" for c in l_src) or "-"
        rows.append(
            [
                e(str(fig.get("table"))),
                e(", ".join(src.get("quasi_identifiers", []))),
                pair("k", "d"),
                pair("unique_share", ".1%"),
                l_text,
            ]
        )
    head = ["table", "quasi-identifiers", "k", "unique share", "l (sensitive column)"]
    return ["<h2>Re-identification risk (before &rarr; after)</h2>", _table(head, rows, table_id="risk")]


def _warnings(doc: Mapping[str, Any]) -> list[str]:
    groups: dict[str, list[str]] = {}
    for w in [*doc.get("warnings", []), *(doc.get("verify") or {}).get("warnings", [])]:
        groups.setdefault(warning_kind(str(w)), []).append(str(w))
    if not groups:
        return []
    out = ['<h2>Warnings</h2><div id="warnings">']
    for kind, items in groups.items():
        out.append(f"<h3>{e(kind)} ({len(items)})</h3>")
        out += [f'<div class="warn">{e(w)}</div>' for w in dict.fromkeys(items)]
    return [*out, "</div>"]


def _schema_diff(doc: Mapping[str, Any]) -> list[str]:
    diff = doc.get("schema_diff")
    if not diff:
        return []
    diffs = diff.get("differences", [])
    if not diffs:
        return [
            f'<h2>Schema diff</h2><p class="ok">{e(str(diff.get("a")))} and {e(str(diff.get("b")))} match</p>'
        ]
    rows = [
        [
            e(str(d.get("table"))),
            e(str(d.get("item") or "")),
            e(str(d.get("what"))),
            e(str(d.get("change"))),
            e(str(d.get("a") or "")),
            e(str(d.get("b") or "")),
        ]
        for d in diffs
    ]
    head = ["table", "item", "what", "change", str(diff.get("a", "a")), str(diff.get("b", "b"))]
    return ["<h2>Schema diff</h2>", _table(head, rows, table_id="schema-diff")]


def render_page(doc: Mapping[str, Any], history: Sequence[Mapping[str, Any]] = ()) -> str:
    """The whole page; `history` is `run_history(...)` (no chart when it is empty)."""
    out = _head(doc)
    if history:
        out.append(f"<h2>Last {len(history)} runs</h2>")
        out.append(
            '<p class="muted"><span class="bar time" style="width:1rem"></span> seconds (red: failed) '
            '&nbsp; <span class="bar rows" style="width:1rem;height:.2rem"></span> rows</p>'
        )
        out.append(history_svg(history))
    for section in (_tables, _coverage, _leaks, _risk, _warnings, _schema_diff, _checks):
        out += section(doc)
    versions = doc.get("versions", {})
    if versions:
        out.append(
            '<h2>Versions</h2><p class="muted">'
            + ", ".join(f"{e(k)} {e(str(v))}" for k, v in versions.items())
            + "</p>"
        )
    out.append("</body></html>")
    return "\n".join(out) + "\n"
