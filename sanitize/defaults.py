"""Defaults every layer shares; imports nothing, so the CLI can show them without loading pandas."""

from __future__ import annotations

DEFAULT_BATCH = 32_768
"""Rows per batch wherever a source is read (measured: faster than 64k rows, since temporaries stay in
cache, and less memory): databases, dumps, the pipeline, `--batch-size` and a refresh job's default."""
