"""`sanitize preview` on a terminal: a before/after table when it fits the width, else one block per
row with a line per column (`column: before → after`), so an 80-column terminal reads every name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import RenderableType

MAX_CELL = 200  # characters of one value shown; longer ones end in "..."
ARROW = "→"


def cell_text(v: object, limit: int = MAX_CELL) -> str:
    """A value as the terminal shows it: NULL for a missing one, cut to `limit` characters."""
    from sanitize.display import is_null

    text = "NULL" if is_null(v) else str(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def changed_columns(before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    """The columns a rule changed in these rows (a column the same in every row is not shown twice)."""
    return [str(c) for c in before.columns if not before[c].equals(after[c])]


def table_width(before: pd.DataFrame, after: pd.DataFrame) -> int:
    """Columns the side-by-side table needs to show every header and value unbroken."""
    changed = set(changed_columns(before, after))
    need = 1
    for c in before.columns:
        frames = [(before, f"{c} (before)"), (after, f"{c} (after)")] if c in changed else [(before, str(c))]
        for frame, header in frames:
            cells = [len(cell_text(v, 40)) for v in frame[c]]
            need += max([len(header), *cells]) + 3  # padding and the border
    return need


def render_preview(before: pd.DataFrame, after: pd.DataFrame, table: str, width: int) -> RenderableType:
    """The before/after view of `table` for a terminal `width` columns wide."""
    if table_width(before, after) <= width:
        return _side_by_side(before, after, table)
    return _per_row(before, after, table)


def _side_by_side(before: pd.DataFrame, after: pd.DataFrame, table: str) -> RenderableType:
    from rich.table import Table

    view = Table(title=f"{table}: before -> after", show_lines=True)
    changed = changed_columns(before, after)
    for c in before.columns:
        view.add_column(f"{c}" if c not in changed else f"{c} (before)", overflow="fold")
        if c in changed:
            view.add_column(f"{c} (after)", style="green", overflow="fold")
    for i in range(len(before)):
        cells: list[str] = []
        for c in before.columns:
            cells.append(cell_text(before[c].iloc[i]))
            if c in changed:
                cells.append(cell_text(after[c].iloc[i]))
        view.add_row(*cells)
    return view


def _per_row(before: pd.DataFrame, after: pd.DataFrame, table: str) -> RenderableType:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    changed = set(changed_columns(before, after))
    parts: list[Any] = [Text(f"{table}: before {ARROW} after, one block per row", style="bold")]
    for i in range(len(before)):
        block = Table(title=f"row {i + 1}", title_justify="left", show_header=False, box=box.SIMPLE)
        block.add_column("column", style="bold", overflow="fold")  # as wide as the longest name
        block.add_column("value", overflow="fold", ratio=1)
        for c in before.columns:
            was, now = cell_text(before[c].iloc[i]), cell_text(after[c].iloc[i])
            value = Text(was)
            if c in changed and now != was:
                value.append(f" {ARROW} ")
                value.append(now, style="green")
            block.add_row(str(c), value)
        parts.append(block)
    return Group(*parts)
