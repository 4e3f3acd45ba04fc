"""What a scan reports: per column the PII kind, a confidence and the evidence; per table and source."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from sanitize.schema import Schema


@dataclass
class Evidence:
    """Why a column was classified as it was."""

    sampled: int = 0  # non-NULL values looked at
    whole: dict[str, int] = field(default_factory=dict)  # entity/name class -> values that are wholly it
    inside: dict[str, int] = field(default_factory=dict)  # entity -> values containing it
    name_pattern: str | None = None  # the column-name pattern that matched
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts: list[str] = []
        for label, count in sorted(self.whole.items(), key=lambda kv: -kv[1])[:3]:
            parts.append(f"{count}/{self.sampled} values are {label}")
        for label, count in sorted(self.inside.items(), key=lambda kv: -kv[1])[:3]:
            if label not in self.whole:
                parts.append(f"{count}/{self.sampled} values contain {label}")
        if self.name_pattern:
            parts.append(f"name matches '{self.name_pattern}'")
        parts.extend(self.notes)
        if not parts:
            parts.append(f"no PII in {self.sampled} sampled values" if self.sampled else "no values sampled")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sampled": self.sampled,
            "whole": dict(self.whole),
            "inside": dict(self.inside),
            "name_pattern": self.name_pattern,
            "notes": list(self.notes),
        }


@dataclass
class ColumnScan:
    """One column's classification."""

    table: str
    column: str
    kind: str | None  # PII kind (names.KINDS) or None
    confidence: float
    evidence: Evidence
    type: str = "text"  # schema.Kind of the column
    unique: bool = False
    foreign_key: str | None = None  # "parent_table.column" when the column inherits its parent's rule
    json_paths: dict[str, ColumnScan] = field(default_factory=dict)  # JSON path -> classification
    detail: dict[str, str] = field(default_factory=dict)  # e.g. {"ip_version": "6"}
    confirmed: bool = False  # the sampled values (not just the name) show the column is `kind`
    nullable: bool = True

    @property
    def is_pii(self) -> bool:
        return self.kind is not None

    @property
    def from_values(self) -> bool:
        """True when sampled values (not just the column name) support the classification."""
        return bool(self.evidence.whole or self.evidence.inside or self.json_paths)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "column": self.column,
            "kind": self.kind,
            "confidence": round(self.confidence, 3),
            "type": self.type,
            "unique": self.unique,
            "foreign_key": self.foreign_key,
            "evidence": self.evidence.to_dict(),
            "summary": self.evidence.describe(),
            "json_paths": {p: c.to_dict() for p, c in self.json_paths.items()},
            "detail": dict(self.detail),
            "confirmed": self.confirmed,
        }


@dataclass
class TableScan:
    key: str
    sampled_rows: int
    columns: list[ColumnScan]

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.key,
            "sampled_rows": self.sampled_rows,
            "columns": [c.to_dict() for c in self.columns],
        }


@dataclass
class ScanReport:
    tables: list[TableScan]
    sample: int | None = None
    source: str = ""
    dialect: str | None = None  # the source's engine ("sqlite", "postgresql", "mysql"), when known

    def columns(self) -> Iterator[ColumnScan]:
        for t in self.tables:
            yield from t.columns

    def pii_columns(self) -> list[ColumnScan]:
        return [c for c in self.columns() if c.is_pii]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sample": self.sample,
            "pii_columns": len(self.pii_columns()),
            "tables": [t.to_dict() for t in self.tables],
        }


class SampleSource(Protocol):
    """What scan needs from a database source (sanitize.db.Source satisfies it)."""

    @property
    def schema(self) -> Schema: ...

    def sample(self, table: str, n: int) -> pd.DataFrame: ...
