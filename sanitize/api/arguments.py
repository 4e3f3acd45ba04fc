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
from sanitize.sources import open_source

RulesLike = RulesFile | str | Path

__all__ = ["RulesLike", "as_rules", "describe_source", "opened"]
"""Rules as the API takes them: a `sanitize.Rules`, or the path of a rules file."""


@contextlib.contextmanager
def opened(source: Any) -> Iterator[Any]:
    """An open source for `source`: a Connection, an open source object, or a spec to open (and close)."""
    if isinstance(source, Connection):
        yield source.source
        return
    with open_source(source) as src:
        yield src


def describe_source(source: Any) -> str:
    """Where `source` is, for messages: a Connection's or open source's display name, else the spec itself."""
    if isinstance(source, str | Path):
        return str(source)
    return str(source.display)
