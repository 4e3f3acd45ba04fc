"""Collecting every problem in a YAML file before raising, each with file, line, location and fix.

Rule files and sanitize.yaml both report all their problems at once; this is the one place that knows
how to name a location (`tables.customers.columns.phone`), find its line, and suggest a spelling.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sanitize.errors import BadInputError, RulesError


@dataclass
class Problems:
    """Every problem found in one file, raised together as `error` by `raise_if_any`."""

    source: str
    lines: Mapping[str, int] = field(default_factory=dict)
    error: type[BadInputError] = RulesError
    what: str = "rules"
    items: list[str] = field(default_factory=list)

    def add(self, loc: str, message: str) -> None:
        line = self._line(loc)
        where = f"{self.source}:{line}" if line else self.source
        self.items.append(f"{where}: {loc}: {message}" if loc else f"{where}: {message}")

    def _line(self, loc: str) -> int | None:
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc.rpartition(".")[0]
        return None

    def raise_if_any(self) -> None:
        if self.items:
            n = len(self.items)
            raise self.error(
                f"{self.source}: {n} problem{'s' if n != 1 else ''} in the {self.what}", problems=self.items
            )


def read_yaml_file(
    path: Path, error: type[BadInputError], what: str, not_found: str
) -> tuple[bytes, Any, dict[str, int]]:
    """(raw bytes, data, dotted location -> line) of a YAML file, loaded safely; `error` with the file,
    line and a fix when it is missing, unreadable, not UTF-8 or not YAML (`what`: "rules file", ...)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: {what} not found; {not_found}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{where}: invalid YAML: {problem}; fix the syntax at that line") from None
    return raw, data, yaml_lines(node)


def yaml_lines(node: yaml.Node | None, prefix: str = "") -> dict[str, int]:
    """Dotted location -> line number of every mapping key in a composed YAML document."""
    return dict(_walk(node, prefix)) if node is not None else {}


def _walk(node: yaml.Node, prefix: str) -> Iterator[tuple[str, int]]:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            loc = f"{prefix}.{k.value}" if prefix else str(k.value)
            yield loc, k.start_mark.line + 1
            yield from _walk(v, loc)


def did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str:
    """` (did you mean 'x'?)` for a close match, else the list of what is allowed."""
    m = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    if m:
        return f" (did you mean {m[0]!r}?)"
    return f"; expected one of: {', '.join(options)}" if options else ""
