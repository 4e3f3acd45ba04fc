"""Which parts of an existing SQLite file a load may replace: only what sanitize made.

The same ownership rule as on PostgreSQL and MariaDB. A file sanitize made carries a marker: the
`sanitize_meta` table every load writes (it names the tables and views that load made) or the
environment marker `sanitize_environment` that `refresh` writes. For the file a load goes into:

- a missing or empty file, or one holding nothing but what sanitize loaded: the load builds a fresh
  shadow file and the publish replaces the file (`plan.copy` is False);
- a file without a marker in which any table holds rows: refused (TargetRefusedError) unless adopted
  (`init_target`, `--init-target`);
- a table the load would replace that sanitize did not load and that holds rows: refused unless adopted;
- otherwise, when the file holds tables sanitize did not load, the shadow starts as a copy of the file
  (sqlite3's backup API), the tables and views sanitize loaded before and the tables it loads now are
  dropped from the copy, and every other table stays; the publish renames that copy over the file,
  but only when the file did not change while the load ran (`FileStamp`).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sanitize.db.reflect import META_TABLE, quote_ident
from sanitize.errors import LoadError, TargetRefusedError

ENV_MARKER = "sanitize_environment"  # guards.MARKER_TABLE (refresh's environment marker)


@dataclass(frozen=True)
class FileStamp:
    """What the file and its WAL looked like: a change means another program wrote to it."""

    stats: tuple[tuple[int, int, int] | None, ...]

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        out: list[tuple[int, int, int] | None] = []
        for p in (path, path.with_name(path.name + "-wal")):
            try:
                st = p.stat()
            except FileNotFoundError:
                out.append(None)
                continue
            out.append((st.st_ino, st.st_size, st.st_mtime_ns))
        return cls(tuple(out))


@dataclass(frozen=True)
class OwnershipPlan:
    """How a load treats the existing file: start from a copy (`copy`) and drop `drop` from it."""

    copy: bool
    drop: tuple[str, ...] = ()  # tables and views to drop from the copy before the load makes its own
    kept: tuple[str, ...] = ()  # tables that stay as they are
    stamp: FileStamp | None = None


@dataclass(frozen=True)
class _Contents:
    tables: dict[str, bool]  # user table -> holds rows
    views: set[str]
    marked: bool
    owned: set[str]  # the tables, views and full-text tables the last sanitize load made (sanitize_meta)


def _ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect("file:" + quote(str(path.resolve())) + "?mode=ro", uri=True)


def _read(path: Path) -> _Contents:
    with contextlib.closing(_ro(path)) as con:
        listed = con.execute("PRAGMA main.table_list").fetchall()  # (schema, name, type, ...)
        names = {str(r[1]): str(r[2]) for r in listed if r[0] == "main"}
        tables: dict[str, bool] = {}
        for name, kind in names.items():
            if kind not in ("table", "virtual") or name.startswith(("sqlite_", "sanitize_")):
                continue
            try:
                row = con.execute(f"SELECT 1 FROM {quote_ident(name, 'sqlite')} LIMIT 1").fetchone()
            except sqlite3.Error:  # a virtual table whose module is not here: assume it holds rows
                row = (1,)
            tables[name] = row is not None
        views = {n for n, k in names.items() if k == "view"}
        meta: dict[str, str] = {}
        if names.get(META_TABLE) == "table":
            with contextlib.suppress(sqlite3.Error):
                meta = {str(k): str(v) for k, v in con.execute(f"SELECT key, value FROM {META_TABLE}")}
    return _Contents(
        tables=tables,
        views=views,
        marked=META_TABLE in names or ENV_MARKER in names,
        owned={*_json_list(meta.get("tables")), *_json_list(meta.get("views"))},
    )


def _json_list(text: str | None) -> list[str]:
    """Names from a sanitize_meta value: a JSON list, or the keys of a JSON object."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list | dict) else []


def _listed(names: Iterable[str], limit: int = 8) -> str:
    names = sorted(names)
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def plan_ownership(path: Path, loading: Iterable[str], *, init_target: bool = False) -> OwnershipPlan:
    """Decide, before anything is written, what a load of tables `loading` may do to the file at
    `path` (see the module doc); TargetRefusedError when it may do nothing."""
    if not path.exists() or path.stat().st_size == 0:
        return OwnershipPlan(copy=False)
    found = _read(path)
    loading = set(loading)
    foreign = {t: rows for t, rows in found.tables.items() if t not in found.owned}
    with_rows = sorted(t for t, rows in foreign.items() if rows)
    if not init_target and with_rows:
        if not found.marked:
            raise TargetRefusedError(
                f"target {path} was not made by sanitize (it has no {META_TABLE} or {ENV_MARKER} table) and "
                f"holds data: {len(with_rows)} table(s) with rows ({_listed(with_rows)}); nothing was "
                "written. Name a new or empty file, or pass --init-target to adopt this one: the tables "
                "sanitize loads are replaced and every other table is kept"
            )
        replaced = sorted(set(with_rows) & loading)
        if replaced:
            raise TargetRefusedError(
                f"target {path}: table(s) {_listed(replaced)} hold rows sanitize did not write, and this "
                "load would replace them; nothing was written. Pass --init-target to replace them, or "
                "rename or drop them yourself"
            )
    kept = sorted(t for t in found.tables if t not in loading and t not in found.owned)
    if not kept:
        return OwnershipPlan(copy=False)  # nothing of anyone else's: the publish replaces the file
    drop = sorted((set(found.tables) & (loading | found.owned)) | (found.views & found.owned))
    return OwnershipPlan(copy=True, drop=tuple(drop), kept=tuple(kept), stamp=FileStamp.of(path))


def copy_for_load(path: Path, shadow: Path, plan: OwnershipPlan) -> None:
    """The shadow as a copy of the file (one consistent snapshot, WAL included) without `plan.drop`
    and without sanitize's own bookkeeping, which the load writes again."""
    with contextlib.closing(_ro(path)) as src, contextlib.closing(sqlite3.connect(shadow)) as dst:
        src.backup(dst)
        dst.isolation_level = None
        dst.execute("PRAGMA foreign_keys = OFF")
        dst.execute("BEGIN")
        kinds = dict(dst.execute("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')"))
        for name in (*plan.drop, META_TABLE):
            kind = kinds.get(name)
            if kind is not None:
                dst.execute(f"DROP {'VIEW' if kind == 'view' else 'TABLE'} {quote_ident(name, 'sqlite')}")
        dst.execute("COMMIT")


def check_unchanged(path: Path, plan: OwnershipPlan) -> None:
    """Before the publish of a copy: the file must be as it was copied, or the copy would undo writes."""
    if plan.stamp is not None and FileStamp.of(path) != plan.stamp:
        raise LoadError(
            f"{path} changed while the load ran (another program wrote to it), and publishing the copy "
            f"taken before would lose those writes to the table(s) it keeps ({_listed(plan.kept)}); "
            "nothing was published. Run again when nothing else writes to the file"
        )
