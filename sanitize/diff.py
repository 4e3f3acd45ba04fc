"""Schema drift between two databases: tables, columns, types, nullability, indexes, constraints.

`sanitize diff prod staging` shows what staging lacks or has extra, as a table or JSON; the command
exits 1 when the schemas differ. Only schemas are read (read-only sessions); no row is touched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sanitize.schema import Column, Index, Schema, Table

if TYPE_CHECKING:
    from rich.console import RenderableType

    from sanitize.config import Config

Change = Literal["only in a", "only in b", "differs"]


@dataclass(frozen=True)
class Difference:
    """One difference: what (table, column, type, ...), where, and the two sides."""

    what: str  # table | column | type | nullable | primary key | unique | index | check | foreign key
    table: str
    item: str | None
    change: Change
    a: str | None = None
    b: str | None = None

    def describe(self, a_name: str = "a", b_name: str = "b") -> str:
        where = self.table + (f".{self.item}" if self.what in ("column", "type", "nullable") else "")
        if self.change == "differs":
            return f"{where}: {self.what} differs: {a_name} {self.a}, {b_name} {self.b}"
        side = a_name if self.change == "only in a" else b_name
        label = self.what if self.what in ("table", "column") else f"{self.what} {self.item}"
        return f"{where}: {label} only in {side}"


@dataclass
class SchemaDiff:
    a_name: str
    b_name: str
    differences: list[Difference] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a_name,
            "b": self.b_name,
            "same": self.same,
            "differences": [asdict(d) for d in self.differences],
        }


def _sql(col: Column) -> str | None:
    if col.sql_type is None:
        return None
    try:
        return str(col.sql_type)
    except Exception:  # a dialect-specific type without a generic rendering
        return type(col.sql_type).__name__


def type_signature(col: Column, exact: bool = True) -> str:
    """How a column's type is compared: its SQL type when known (exact), else kind and size."""
    sql = _sql(col) if exact else None
    if sql:
        return sql + (" with time zone" if col.timezone and "TIME ZONE" not in sql.upper() else "")
    size = col.max_length if col.max_length is not None else None
    parts: list[str] = [col.kind]
    if size is not None:
        parts.append(f"({size})")
    elif col.precision is not None:
        parts.append(f"({col.precision}{',' + str(col.scale) if col.scale is not None else ''})")
    if col.timezone:
        parts.append(" with time zone")
    return "".join(parts)


def _cols(cols: tuple[str, ...]) -> str:
    return f"({', '.join(cols)})"


def _table_diff(a: Table, b: Table, exact: bool) -> list[Difference]:
    out: list[Difference] = []
    key = a.key
    bcols = {c.name: c for c in b.columns}
    acols = {c.name: c for c in a.columns}
    for name, ca in acols.items():
        cb = bcols.get(name)
        if cb is None:
            out.append(Difference("column", key, name, "only in a", type_signature(ca, exact), None))
            continue
        ta, tb = type_signature(ca, exact), type_signature(cb, exact)
        if ta != tb:
            out.append(Difference("type", key, name, "differs", ta, tb))
        if ca.nullable != cb.nullable:
            na = "NULL" if ca.nullable else "NOT NULL"
            nb = "NULL" if cb.nullable else "NOT NULL"
            out.append(Difference("nullable", key, name, "differs", na, nb))
    out += [
        Difference("column", key, n, "only in b", None, type_signature(c, exact))
        for n, c in bcols.items()
        if n not in acols
    ]
    if a.primary_key != b.primary_key:
        out.append(
            Difference(
                "primary key",
                key,
                None,
                "differs",
                _cols(a.primary_key) if a.primary_key else "none",
                _cols(b.primary_key) if b.primary_key else "none",
            )
        )
    out += _set_diff(
        "unique", key, {_cols(u) for u in a.unique_constraints}, {_cols(u) for u in b.unique_constraints}
    )
    out += _set_diff(
        "index", key, {_index_sig(ix, exact) for ix in a.indexes}, {_index_sig(ix, exact) for ix in b.indexes}
    )
    out += _set_diff("check", key, _check_sigs(a), _check_sigs(b))
    fa = {f"{_cols(fk.columns)} -> {fk.ref_table}{_cols(fk.ref_columns)}" for fk in a.foreign_keys}
    fb = {f"{_cols(fk.columns)} -> {fk.ref_table}{_cols(fk.ref_columns)}" for fk in b.foreign_keys}
    out += _set_diff("foreign key", key, fa, fb)
    return out


def _index_sig(ix: Index, exact: bool) -> str:
    """An index as compared: unique, columns, and on one engine its definition (expressions, operator
    classes, predicate); across engines an expression index shows as such."""
    sig = f"{'unique ' if ix.unique else ''}{_cols(ix.columns)}"
    if ix.definition is not None and exact:
        return f"{sig} {' '.join(ix.definition.split())}"
    return f"{sig} on expressions" if ix.definition is not None and not ix.columns else sig


def _check_sigs(t: Table) -> set[str]:
    """A table's CHECKs as compared: in one neutral SQL where they translate (so PostgreSQL's and
    SQLite's writing of one condition compare equal), else as written."""
    from sanitize.db.check_sql import Untranslatable, translate

    out = set()
    for c in t.checks:
        try:
            out.add(translate(c, t, "sqlite"))
        except Untranslatable:
            out.add(" ".join(c.sqltext.split()))
    return out


def _set_diff(what: str, table: str, a: set[str], b: set[str]) -> list[Difference]:
    return [Difference(what, table, x, "only in a") for x in sorted(a - b)] + [
        Difference(what, table, x, "only in b") for x in sorted(b - a)
    ]


def diff_schemas(
    a: Schema, b: Schema, *, a_name: str = "a", b_name: str = "b", exact_types: bool = True
) -> SchemaDiff:
    """Every difference between two schemas (index and constraint names are not compared).

    `exact_types=False` compares types by kind and size only (for two different database engines).
    """
    result = SchemaDiff(a_name, b_name)
    for key in sorted(set(a.tables) | set(b.tables)):
        if key not in b.tables:
            result.differences.append(Difference("table", key, None, "only in a"))
        elif key not in a.tables:
            result.differences.append(Difference("table", key, None, "only in b"))
        else:
            result.differences += _table_diff(a.tables[key], b.tables[key], exact_types)
    return result


def diff_databases(spec_a: str, spec_b: str, *, config: Config | None = None) -> SchemaDiff:
    """Reflect two sources (URL, SQLite path, environment name or dump file) read-only and compare them."""
    from sanitize.sources import open_source

    envs = config.environment_urls() if config is not None else None
    with open_source(spec_a, envs) as sa_, open_source(spec_b, envs) as sb_:
        schema_a, schema_b = sa_.schema, sb_.schema
        name_a = spec_a if envs and spec_a in envs else sa_.display
        name_b = spec_b if envs and spec_b in envs else sb_.display
        same_engine = sa_.ref.dialect == sb_.ref.dialect
    return diff_schemas(schema_a, schema_b, a_name=name_a, b_name=name_b, exact_types=same_engine)


def render_diff(d: SchemaDiff) -> RenderableType:
    """A rich table of the differences (or one line saying there are none)."""
    from rich.table import Table as RichTable
    from rich.text import Text

    if d.same:
        return Text(
            f"no schema drift: {d.a_name} and {d.b_name} have the same tables, columns, types and "
            "constraints",
            style="green",
        )
    table = RichTable(title=f"schema drift: {d.a_name} vs {d.b_name} ({len(d.differences)} difference(s))")
    for col in ("table", "what", "item", d.a_name, d.b_name):
        table.add_column(col, overflow="fold")
    for x in d.differences:
        a = x.a if x.change == "differs" else ((x.a or "present") if x.change == "only in a" else "missing")
        b = x.b if x.change == "differs" else ((x.b or "present") if x.change == "only in b" else "missing")
        table.add_row(x.table, x.what, x.item or "", a or "", b or "")
    return table
