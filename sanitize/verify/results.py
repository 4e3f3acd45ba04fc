"""The leak check's options and results: leaks (never a value), integrity checks, the exception to raise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sanitize.errors import CheckFailedError, LeakError

Treatment = Literal["keep", "transform", "partial"]  # partial: scrub/json keep most of the content


@dataclass(frozen=True)
class VerifyOptions:
    batch_size: int = 100_000
    min_value_length: int = 6  # shorter generic values identify nobody and collide with fakes
    # a scrubbed (free text / JSON) column's personal data is looked for by its pieces (identifiers,
    # name tokens); its whole value only identifies someone when it is a written text, not a title
    # ("Let There Be Rock" the album is also a song); shorter whole values are not compared
    min_text_value_length: int = 64
    common_rows: int = 10  # a generic value or name token in this many source rows is not identifying
    common_share: float = 0.02  # ... nor one in this share of its column's rows (and in 2 or more)
    free_text_words: float = 4.0  # a kept column with this many words per cell is free text (name tokens)
    unchanged_ratio: float = 0.5  # a transformed column this unchanged was not transformed
    max_reported: int = 20  # leaks listed per (table, column, kind); all are counted
    compare_counts: bool = True  # anonymize: target rows == source rows; synth: no
    detect_patterns: bool = True  # card numbers, IBANs and emails in kept columns, by pattern
    detector: bool = True  # re-run sanitize.detect over kept columns (sampled)
    detector_sample: int = 1000
    # classify and hash each distinct value of a batch's column once: "auto" when a sample of the
    # batch shows few distinct values; "always"/"never" force it (same results, different speed)
    dictionary: Literal["auto", "always", "never"] = "auto"
    # (label, rows done, rows expected) after each batch read: `fingerprints T` (source), `verify T` (target)
    progress: Callable[[str, int, int | None], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Leak:
    """One sensitive value found in the target: where and what kind, never the value."""

    table: str
    column: str
    row: str  # "id=17", or "row 5" (position in the scan) when the key is not a safe integer
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column} {self.row}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    table: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "table": self.table, "ok": self.ok, "detail": self.detail}


@dataclass
class VerifyResult:
    leaks: list[Leak] = field(default_factory=list)  # capped per (table, column, kind)
    leak_counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    reasons: dict[tuple[str, str, str], str] = field(default_factory=dict)  # how each was matched
    warnings: list[str] = field(default_factory=list)  # evidence that does not fail (a reviewed keep)
    rows: dict[str, int] = field(default_factory=dict)  # target rows scanned per table
    seconds: float = 0.0
    fingerprint_bytes: int = 0  # memory the source fingerprints took (it grows with the source, not batches)

    @property
    def leak_total(self) -> int:
        return sum(self.leak_counts.values())

    @property
    def ok(self) -> bool:
        return not self.leak_counts and all(c.ok for c in self.checks)

    def add_leak(
        self, table: str, column: str, kind: str, rows: list[str], count: int, detail: str, cap: int
    ) -> None:
        """Count `count` leaks of one (table, column, kind); list at most `cap` of them in all."""
        if count == 0:
            return
        k = (table, column, kind)
        self.reasons.setdefault(k, detail)
        before = self.leak_counts.get(k, 0)
        self.leak_counts[k] = before + count
        room = max(0, cap - before)
        self.leaks.extend(Leak(table, column, r, kind, detail) for r in rows[:room])

    def raise_for_problems(self, before_publish: bool = False) -> None:
        """LeakError (exit 1) on any leak, else CheckFailedError when an integrity check failed.

        `before_publish`: the check gates a load (the message then says nothing was published).
        """
        unpublished = "; nothing was published" if before_publish else ""
        if self.leak_counts:
            lines = [str(leak) for leak in self.leaks]
            more = self.leak_total - len(self.leaks)
            if more > 0:
                lines.append(f"... and {more} more (counts per column in the report)")
            raise LeakError(
                f"leak check: {self.leak_total} sensitive source value(s) found in the target "
                f"({len(self.leak_counts)} table/column/kind combination(s)){unpublished}. Fix "
                "the rules for the columns listed (values are never shown)",
                problems=lines,
            )
        failed = [c for c in self.checks if not c.ok]
        if failed:
            raise CheckFailedError(
                f"{len(failed)} integrity check(s) failed{unpublished}",
                problems=[f"{c.table + ': ' if c.table else ''}{c.name}: {c.detail}" for c in failed],
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "leaks": [leak.__dict__ for leak in self.leaks],
            "leak_counts": [
                {"table": t, "column": c, "kind": k, "count": n, "reason": self.reasons.get((t, c, k), "")}
                for (t, c, k), n in self.leak_counts.items()
            ],
            "warnings": self.warnings,
            "checks": [c.to_dict() for c in self.checks],
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
        }
