"""Jupyter display: findings, previews, coverage and rules as readable HTML.

Everything here renders to plain, escaped HTML (no template engine, no JavaScript) so that a notebook
shows the same thing whether it runs live, in nbconvert or in a test. Result classes:

- `FindingsFrame`: a DataFrame of scan findings; its HTML shows the evidence in full and marks PII rows;
- `PreviewFrame`: a before/after DataFrame (columns `(column, "before" | "after")`) whose HTML
  highlights every changed cell;
- `CheckResult`: coverage and drift findings of a rules file against a source;
- `Comparison`: a real-vs-synthetic distribution of one column, drawn as an inline SVG bar chart;
- rules files (`RulesFile`) render as YAML once `register_formatters()` ran inside IPython.
"""

from __future__ import annotations

import html
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from sanitize.rules import RulesFile

MAX_ROWS = 200  # rows rendered in one HTML table; the rest is counted, not shown
MAX_CELL = 400  # characters shown per cell

CSS = """<style>
.sz-table{border-collapse:collapse;font-size:12px;font-family:ui-monospace,monospace}
.sz-table th,.sz-table td{border:1px solid #d0d7de;padding:2px 6px;text-align:left;vertical-align:top;
white-space:pre-wrap;max-width:32em}
.sz-table th{background:#f6f8fa}
.sz-null{color:#8c959f;font-style:italic}
.sz-changed{background:#fff3b0}
.sz-before{color:#9a6700;background:#fff8e1}
.sz-pii{background:#ffebe9}
.sz-ok{color:#1a7f37;font-weight:bold}
.sz-bad{color:#cf222e;font-weight:bold}
.sz-caption{font-family:sans-serif;font-size:13px;margin:4px 0}
</style>"""


def is_null(v: object) -> bool:
    """True for None, NaN, NaT and pd.NA; never for a string, bytes, or a list/array/dict cell."""
    if v is None:
        return True
    if isinstance(v, str | bytes | list | dict | tuple | np.ndarray):
        return False
    try:
        return bool(pd.isna(cast(Any, v)))
    except (TypeError, ValueError):
        return False


def cell_html(v: object, max_chars: int = MAX_CELL) -> str:
    """One value as escaped HTML; NULL shown as a grey NULL, long text cut with its length."""
    if is_null(v):
        return '<span class="sz-null">NULL</span>'
    text = v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
    if len(text) > max_chars:
        text = f"{text[:max_chars]}… ({len(text):,} chars)"
    return html.escape(text)


def caption_html(text: str) -> str:
    return f'<p class="sz-caption">{html.escape(text)}</p>'


def table_html(
    df: pd.DataFrame,
    *,
    caption: str | None = None,
    cell_class: Callable[[int, str], str] | None = None,
    row_class: Callable[[int], str] | None = None,
    max_rows: int = MAX_ROWS,
) -> str:
    """A DataFrame as an HTML table; `cell_class(row, column)` / `row_class(row)` add CSS classes."""
    parts = [CSS]
    if caption:
        parts.append(caption_html(caption))
    parts.append('<table class="sz-table"><thead><tr>')
    parts += [f"<th>{html.escape(str(c))}</th>" for c in df.columns]
    parts.append("</tr></thead><tbody>")
    columns = [str(c) for c in df.columns]
    values = [df.iloc[:, j].tolist()[:max_rows] for j in range(df.shape[1])]
    for i in range(min(len(df), max_rows)):
        rc = row_class(i) if row_class else ""
        parts.append(f'<tr class="{rc}">' if rc else "<tr>")
        for j, c in enumerate(columns):
            cc = cell_class(i, c) if cell_class else ""
            attr = f' class="{cc}"' if cc else ""
            parts.append(f"<td{attr}>{cell_html(values[j][i])}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    if len(df) > max_rows:
        parts.append(caption_html(f"… {len(df) - max_rows:,} more rows not shown"))
    return "".join(parts)


# --- findings -----------------------------------------------------------------------------------


class FindingsFrame(pd.DataFrame):
    """Scan findings, one row per column: a DataFrame whose notebook display shows the evidence.

    Columns (at least): `table`, `column`, `pii` (the kind found, or empty), `confidence`,
    `evidence`, `suggested_rule`. Rows with PII are highlighted.
    """

    _metadata = ["report"]
    report: Any  # the detector's ScanReport, while operations keep it (draft_rules uses it)

    @property
    def _constructor(self) -> Callable[..., FindingsFrame]:
        return FindingsFrame

    @property
    def pii(self) -> FindingsFrame:  # type: ignore[override]
        """Only the rows where PII was found."""
        if "pii" not in self.columns:
            return self
        mask = self["pii"].notna() & (self["pii"].astype(str) != "")
        out = FindingsFrame(self[mask])
        out.report = getattr(self, "report", None)
        return out

    def _repr_html_(self) -> str:  # type: ignore[override]
        n_pii = len(self.pii) if "pii" in self.columns else 0
        if "table" in self.columns and "pii" in self.columns:
            cap = f"{len(self)} column(s) in {self['table'].nunique()} table(s); PII found in {n_pii}"
        else:
            cap = f"{len(self)} finding(s)" + (f"; PII found in {n_pii}" if "pii" in self.columns else "")
        has_pii = (
            (self["pii"].notna() & (self["pii"].astype(str) != "")).tolist()
            if "pii" in self.columns
            else [False] * len(self)
        )
        return table_html(pd.DataFrame(self), caption=cap, row_class=lambda i: "sz-pii" if has_pii[i] else "")


# --- preview ------------------------------------------------------------------------------------

BEFORE, AFTER = "before", "after"


def _equal_cells(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise equality where NULL == NULL; values compared as text when the types differ."""
    left = a.tolist()
    right = b.tolist()
    out = np.empty(len(left), dtype=bool)
    for i, (x, y) in enumerate(zip(left, right, strict=True)):
        nx, ny = is_null(x), is_null(y)
        if nx or ny:
            out[i] = nx and ny
            continue
        try:
            same = x == y
            out[i] = bool(same) if isinstance(same, bool | np.bool_) else str(x) == str(y)
        except (TypeError, ValueError):
            out[i] = str(x) == str(y)
    return out


class PreviewFrame(pd.DataFrame):
    """Before/after rows of one table: columns are `(column, "before")` and `(column, "after")`.

    `.before`, `.after` give the two sides as plain DataFrames, `.changed` a boolean DataFrame of the
    cells a rule changed; in a notebook, changed cells are highlighted.
    """

    _metadata = ["table_name"]
    table_name: str | None

    @property
    def _constructor(self) -> Callable[..., PreviewFrame]:
        return PreviewFrame

    @classmethod
    def from_pair(cls, before: pd.DataFrame, after: pd.DataFrame, table: str | None = None) -> PreviewFrame:
        """Interleave `before` and `after` (same columns, same index) column by column."""
        cols = [c for c in before.columns if c in after.columns]
        data: dict[tuple[str, str], pd.Series] = {}
        for c in cols:
            data[(str(c), BEFORE)] = before[c]
            data[(str(c), AFTER)] = after[c]
        frame = cls(data, index=before.index)
        frame.columns = pd.MultiIndex.from_tuples(list(data), names=["column", "side"])
        frame.table_name = table
        return frame

    def _is_pair_frame(self) -> bool:
        cols = self.columns
        return (
            isinstance(cols, pd.MultiIndex)
            and cols.nlevels == 2
            and set(cols.get_level_values(1)) <= {BEFORE, AFTER}
            and len(cols) % 2 == 0
        )

    def _side(self, side: str) -> pd.DataFrame:
        if not self._is_pair_frame():
            raise ValueError("this frame no longer has (column, before/after) columns")
        out = pd.DataFrame({c: self[(c, side)] for c in self.column_names}, index=self.index)
        return out

    @property
    def column_names(self) -> list[str]:
        """The table's column names, in order."""
        seen: dict[str, None] = {}
        for c in self.columns.get_level_values(0):
            seen.setdefault(str(c), None)
        return list(seen)

    @property
    def before(self) -> pd.DataFrame:
        """The rows as read from the source."""
        return self._side(BEFORE)

    @property
    def after(self) -> pd.DataFrame:
        """The same rows after the rules: what the target would receive."""
        return self._side(AFTER)

    @property
    def changed(self) -> pd.DataFrame:
        """True where a rule changed the cell (NULL to NULL is unchanged)."""
        b, a = self.before, self.after
        return pd.DataFrame(
            {c: _equal_cells(b[c], a[c]) == False for c in b.columns},  # noqa: E712
            index=self.index,
        )

    @property
    def changed_columns(self) -> list[str]:
        """Columns in which at least one shown cell changed."""
        ch = self.changed
        return [c for c in ch.columns if bool(ch[c].any())]

    def _repr_html_(self) -> str:  # type: ignore[override]
        if not self._is_pair_frame():
            return pd.DataFrame(self).to_html()
        return preview_html(self.before, self.after, self.changed, getattr(self, "table_name", None))


def preview_html(
    before: pd.DataFrame, after: pd.DataFrame, changed: pd.DataFrame, table: str | None = None
) -> str:
    """Side-by-side before/after: each changed column gets a before and an after cell."""
    changed_cols = [c for c in changed.columns if bool(changed[c].any())]
    n_cells = int(changed.to_numpy().sum()) if len(changed) else 0
    name = f"{table}: " if table else ""
    parts = [
        CSS,
        caption_html(
            f"{name}{len(before)} row(s); {len(changed_cols)} of {len(before.columns)} column(s) changed "
            f"({n_cells} cell(s), highlighted)"
        ),
        '<table class="sz-table"><thead><tr>',
    ]
    for c in before.columns:
        if c in changed_cols:
            parts.append(f'<th colspan="2">{html.escape(str(c))}</th>')
        else:
            parts.append(f'<th rowspan="2">{html.escape(str(c))}</th>')
    parts.append("</tr><tr>")
    for c in before.columns:
        if c in changed_cols:
            parts.append("<th>before</th><th>after</th>")
    parts.append("</tr></thead><tbody>")
    bvals = {c: before[c].tolist() for c in before.columns}
    avals = {c: after[c].tolist() for c in before.columns}
    cvals = {c: changed[c].tolist() for c in before.columns}
    for i in range(min(len(before), MAX_ROWS)):
        parts.append("<tr>")
        for c in before.columns:
            if c in changed_cols:
                hit = cvals[c][i]
                parts.append(f'<td class="{"sz-before" if hit else ""}">{cell_html(bvals[c][i])}</td>')
                parts.append(f'<td class="{"sz-changed" if hit else ""}">{cell_html(avals[c][i])}</td>')
            else:
                parts.append(f"<td>{cell_html(bvals[c][i])}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


# --- check --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """Coverage and drift of a rules file against a source: `ok`, and one row per problem in `findings`.

    `findings` columns: `table`, `column`, `problem` (uncovered | stale | looks_like_pii | defaulted |
    pii_warning | kept_reviewed), `detail`, `fix`. `defaulted` rows (kept because `unknown_columns:
    keep`), `pii_warning` rows (only a column's name suggests PII) and `kept_reviewed` rows (a keep with
    a recorded reason) are informational and do not make `ok` false.
    """

    findings: pd.DataFrame
    source: str = ""
    rules: str = ""
    blocking: tuple[str, ...] = ("uncovered", "stale", "looks_like_pii")
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not bool(self.findings["problem"].isin(self.blocking).any()) if len(self.findings) else True

    def problems(self) -> list[str]:
        """One line per blocking problem, as the CLI prints them."""
        rows = self.findings[self.findings["problem"].isin(self.blocking)]
        out: list[str] = []
        for r in rows.to_dict("records"):
            where = f"{r['table']}.{r['column']}" if r["column"] else str(r["table"])
            out.append(f"{where}: {r['detail']}; {r['fix']}")
        return out

    def warnings(self) -> list[str]:
        """One line per kept column that only looks personal by name, or that a reviewer kept."""
        rows = self.findings[self.findings["problem"].isin(("pii_warning", "kept_reviewed"))]
        out: list[str] = []
        for r in rows.to_dict("records"):
            tail = f"; {r['fix']}" if r["fix"] else ""
            out.append(f"{r['table']}.{r['column']}: {r['detail']}{tail}")
        return out

    def __repr__(self) -> str:
        head = "ok" if self.ok else f"{len(self.problems())} problem(s)"
        lines = [f"CheckResult({head}; rules {self.rules or '-'} against {self.source or '-'})"]
        lines += [f"  - {p}" for p in self.problems()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        status = (
            '<span class="sz-ok">ok</span>: every column is covered and every rule names something '
            "that exists"
            if self.ok
            else f'<span class="sz-bad">{len(self.problems())} problem(s)</span>'
        )
        where = html.escape(f"rules {self.rules or '-'} against {self.source or '-'}")
        head = f'{CSS}<p class="sz-caption">{status} — {where}</p>'
        if not len(self.findings):
            return head
        blocking = self.findings["problem"].isin(self.blocking).tolist()
        return head + table_html(self.findings, row_class=lambda i: "sz-pii" if blocking[i] else "")


# --- rules --------------------------------------------------------------------------------------


def rules_html(rules: RulesFile) -> str:
    """A rules file as YAML in a collapsible block, headed by what it covers."""
    n_tables = len(rules.tables)
    n_skip = sum(1 for t in rules.tables.values() if t == "skip")
    n_cols = sum(len(t.columns) for t in rules.tables.values() if not isinstance(t, str))
    head = (
        f"rules{' ' + rules.path if rules.path else ''}: {n_tables} table(s) ({n_skip} skipped), "
        f"{n_cols} column rule(s), unknown_columns: {rules.unknown_columns}"
    )
    return (
        f'{CSS}<details open><summary class="sz-caption">{html.escape(head)}</summary>'
        f'<pre class="sz-table" style="border:none">{html.escape(rules.to_yaml())}</pre></details>'
    )


@dataclass(frozen=True)
class RulesView:
    """A rules file shown as YAML (`repr` is the YAML text; the notebook shows it in a block)."""

    rules: RulesFile

    def __repr__(self) -> str:
        return self.rules.to_yaml()

    def _repr_html_(self) -> str:
        return rules_html(self.rules)


def register_formatters() -> bool:
    """Inside IPython/Jupyter, show rules files as YAML (HTML and plain text); False outside IPython."""
    ipython_mod = sys.modules.get("IPython")
    if ipython_mod is None:
        return False
    ip = ipython_mod.get_ipython()
    if ip is None:
        return False
    formatters = ip.display_formatter.formatters
    formatters["text/html"].for_type(RulesFile, rules_html)
    formatters["text/plain"].for_type(RulesFile, lambda obj, p, cycle: p.text(obj.to_yaml()))
    formatters["text/html"].for_type_by_name("sanitize.synth.run", "SynthReport", synth_report_html)
    return True


def synth_report_html(report: Any) -> str:
    """A synth run: rows per table, then fidelity to the profile and privacy figures when known."""
    total = sum(report.rows.values())
    parts = [
        CSS,
        caption_html(
            f"synthesised {total:,} rows into {report.target} in {report.seconds:.2f}s "
            f"({report.rows_per_second:,.0f} rows/s), seed {report.seed}"
        ),
        table_html(pd.DataFrame({"table": list(report.rows), "rows": list(report.rows.values())})),
    ]
    if report.privacy is not None:
        parts.append(
            caption_html(
                f"privacy: {report.privacy.exact_matches} synthetic row(s) equal a real row on the "
                f"sensitive and quasi-identifying columns (rate {report.privacy.exact_match_rate:.2%}); "
                f"sensitive source values found in the output: {report.privacy.sensitive_values_found}"
            )
        )
    if report.fidelity is not None:
        rows = pd.DataFrame([c.model_dump() for c in report.fidelity.columns])
        bad = (~rows["ok"]).tolist() if len(rows) else []
        parts.append(caption_html(f"fidelity to the profile: {'ok' if report.fidelity.ok else 'NOT ok'}"))
        parts.append(table_html(rows, row_class=lambda i: "sz-pii" if bad[i] else ""))
    return "".join(parts)


# --- distributions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """How one column's distribution compares between two datasets (e.g. real and synthetic).

    `bins` has one row per bin or category with the fraction of each side in it; `statistic` is the
    Kolmogorov–Smirnov statistic for numbers and dates, the total variation distance for categories
    (0 = identical, 1 = disjoint). Displays as an SVG bar chart.
    """

    column: str
    kind: str  # "numeric" | "categorical"
    bins: pd.DataFrame  # columns: bin, <label a>, <label b>
    statistic: float
    statistic_name: str
    labels: tuple[str, str] = ("real", "synthetic")
    null_fractions: tuple[float, float] = (0.0, 0.0)

    def __repr__(self) -> str:
        return (
            f"Comparison({self.column}: {self.statistic_name}={self.statistic:.3f}, "
            f"nulls {self.null_fractions[0]:.1%} vs {self.null_fractions[1]:.1%})"
        )

    def to_svg(self, width: int = 640, height: int = 260) -> str:
        """A grouped bar chart: one pair of bars per bin, the first label blue, the second orange."""
        a_label, b_label = self.labels
        n = max(len(self.bins), 1)
        left, right, top, bottom = 40, 10, 28, 70
        plot_w, plot_h = width - left - right, height - top - bottom
        a = self.bins[a_label].to_numpy(dtype=float)
        b = self.bins[b_label].to_numpy(dtype=float)
        peak = max(float(np.nanmax(a)) if len(a) else 0.0, float(np.nanmax(b)) if len(b) else 0.0, 1e-9)
        slot = plot_w / n
        bar = max(slot * 0.4, 1.0)
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="sans-serif" font-size="10" role="img">',
            f"<title>{html.escape(self.column)}: {html.escape(a_label)} vs {html.escape(b_label)}</title>",
            f'<text x="{left}" y="14" font-size="12">{html.escape(self.column)} — '
            f"{html.escape(self.statistic_name)} {self.statistic:.3f}</text>",
            f'<rect x="{width - 190}" y="6" width="10" height="10" fill="#1f77b4"/>'
            f'<text x="{width - 176}" y="15">{html.escape(a_label)}</text>'
            f'<rect x="{width - 100}" y="6" width="10" height="10" fill="#ff7f0e"/>'
            f'<text x="{width - 86}" y="15">{html.escape(b_label)}</text>',
            f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
            f'<text x="4" y="{top + 8}">{peak:.0%}</text>',
        ]
        labels = [str(x) for x in self.bins["bin"].tolist()]
        for i in range(len(self.bins)):
            x0 = left + i * slot + (slot - 2 * bar) / 2
            for j, (vals, color) in enumerate(((a, "#1f77b4"), (b, "#ff7f0e"))):
                v = 0.0 if math.isnan(vals[i]) else vals[i]
                h = plot_h * v / peak
                parts.append(
                    f'<rect class="sz-bar" x="{x0 + j * bar:.1f}" y="{top + plot_h - h:.1f}" '
                    f'width="{bar:.1f}" height="{h:.1f}" fill="{color}"><title>'
                    f"{html.escape(labels[i])}: {v:.1%}</title></rect>"
                )
            if n <= 30:
                lx, ly = left + i * slot + slot / 2, top + plot_h + 8
                text = labels[i] if len(labels[i]) <= 14 else labels[i][:13] + "…"
                parts.append(
                    f'<text x="{lx:.1f}" y="{ly:.1f}" transform="rotate(45 {lx:.1f} {ly:.1f})">'
                    f"{html.escape(text)}</text>"
                )
        parts.append("</svg>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return f"{CSS}{self.to_svg()}" + caption_html(
            f"{self.column}: {self.statistic_name} = {self.statistic:.3f}; NULL fraction "
            f"{self.null_fractions[0]:.1%} ({self.labels[0]}) vs {self.null_fractions[1]:.1%} "
            f"({self.labels[1]})"
        )


def _numeric_view(s: pd.Series) -> pd.Series | None:
    """Numbers (dates as epoch seconds) as float64, or None when the column is not numeric-like."""
    dt = s.dtype
    if pd.api.types.is_bool_dtype(dt):
        return None
    if pd.api.types.is_numeric_dtype(dt):
        return pd.to_numeric(s, errors="coerce").astype("float64")
    if pd.api.types.is_datetime64_any_dtype(dt) or (
        isinstance(dt, pd.ArrowDtype) and dt.kind in "mM"
    ):  # timestamps and dates
        ts = pd.to_datetime(s, errors="coerce")
        return (ts.astype("datetime64[ns]").astype("int64") / 1e9).where(ts.notna())
    if pd.api.types.is_string_dtype(dt) and s.notna().any():
        # SQLite's dates are text: ISO dates and timestamps count as dates when nearly all parse
        text = s.dropna().astype(str)
        if not text.str.match(r"^\d{4}-\d\d-\d\d").mean() >= 0.9:
            return None
        ts = pd.to_datetime(s.astype(object), format="ISO8601", errors="coerce", utc=True).dt.tz_localize(
            None
        )
        if ts.notna().sum() < 0.9 * len(text):
            return None
        return (ts.astype("datetime64[ns]").astype("int64") / 1e9).where(ts.notna())
    return None


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov statistic: the largest gap between the empirical CDFs."""
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def compare_series(
    a: pd.Series,
    b: pd.Series,
    *,
    column: str | None = None,
    labels: Sequence[str] = ("real", "synthetic"),
    bins: int = 20,
    top: int = 15,
    high_cardinality: int = 50,
) -> Comparison:
    """Compare two samples of one column: histogram for numbers/dates, frequencies for categories.

    Text with more than `high_cardinality` distinct values (names, emails, free text) is compared by
    its length distribution, since its individual values are not meant to recur.
    """
    la, lb = str(labels[0]), str(labels[1])
    name = column or str(a.name or b.name or "value")
    nulls = (float(a.isna().mean()) if len(a) else 0.0, float(b.isna().mean()) if len(b) else 0.0)
    na, nb = _numeric_view(a), _numeric_view(b)
    if na is not None and nb is not None:
        xa, xb = na.dropna().to_numpy(), nb.dropna().to_numpy()
        both = np.concatenate([xa, xb])
        lo, hi = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
        ha = np.histogram(xa, edges)[0] / max(len(xa), 1)
        hb = np.histogram(xb, edges)[0] / max(len(xb), 1)
        is_time = not pd.api.types.is_numeric_dtype(a.dtype)
        names = [str(pd.Timestamp(e, unit="s").date()) if is_time else f"{e:.4g}" for e in edges[:-1]]
        frame = pd.DataFrame({"bin": names, la: ha, lb: hb})
        return Comparison(name, "numeric", frame, ks_statistic(xa, xb), "KS statistic", (la, lb), nulls)
    sa_, sb_ = a.dropna().astype(str), b.dropna().astype(str)
    if max(sa_.nunique(), sb_.nunique()) > high_cardinality:  # free text / identifiers: compare lengths
        la_len = sa_.str.len().astype("float64").rename(name)
        lb_len = sb_.str.len().astype("float64").rename(name)
        c = compare_series(la_len, lb_len, column=f"{name} (length)", labels=(la, lb), bins=bins)
        return Comparison(c.column, c.kind, c.bins, c.statistic, c.statistic_name, (la, lb), nulls)
    fa = sa_.value_counts(normalize=True)
    fb = sb_.value_counts(normalize=True)
    cats = fa.index.union(fb.index)
    fa, fb = fa.reindex(cats, fill_value=0.0), fb.reindex(cats, fill_value=0.0)
    tvd = float(0.5 * np.abs(fa.to_numpy() - fb.to_numpy()).sum())
    order = (fa + fb).sort_values(ascending=False).index[:top]
    frame = pd.DataFrame({"bin": list(order), la: fa[order].to_numpy(), lb: fb[order].to_numpy()})
    return Comparison(name, "categorical", frame, tvd, "total variation distance", (la, lb), nulls)
