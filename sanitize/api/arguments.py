"""What the API functions accept, turned into what the library takes.

Rules are a `sanitize.Rules` or the path of a rules file; sources are a `Connection`, an open
source object, or a spec to open (a URL, SQLite file, dump file or environment name).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sanitize.api.connection import Connection
from sanitize.rules import RulesFile, as_rules

RulesLike = RulesFile | str | Path

__all__ = ["RulesLike", "as_rules", "describe_source", "opened"]
"""Rules as the API takes them: a `sanitize.Rules`, or the path of a rules file."""


@contextlib.contextmanager
def opened(source: Any) -> Iterator[Any]:
    """An open source for `source`: a Connection, an open source object, or a spec to open (and close)."""
    if isinstance(source, Connection):
        yield source.source
        return
    from sanitize.pipeline import open_source

    with open_source(source if not isinstance(source, Path) else str(source)) as src:
        yield src


def describe_source(source: Any) -> str:
    """Where `source` is, for messages: a Connection's or open source's display name, else the spec itself."""
    if isinstance(source, Connection):
        return source.display
    ref = getattr(source, "ref", None)
    return str(getattr(ref, "display", None) or source)
