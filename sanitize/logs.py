"""Structured logging for unattended runs: text or JSON lines, environment on every line, no secrets.

    configure_logging("json", environment="staging", secrets=[password])

With `--log-format json` every record of the `sanitize` logger is one JSON object per line with
`ts`, `level`, `logger`, `message`, `environment` and any `extra=` fields. Every registered secret
(passwords, in raw and URL-encoded forms) is replaced by *** in every line, whatever logged it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Iterable
from typing import IO, Any, Literal

from sanitize.report import secret_forms

LogFormat = Literal["text", "json"]
LOGGER = "sanitize"

_STANDARD = set(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {"message", "asctime", "taskName"}


class _State:
    environment: str | None = None
    secrets: list[str] = []


def set_environment(name: str | None) -> None:
    """The environment name stamped on every log line from now on."""
    _State.environment = name


def add_secrets(*secrets: str | None) -> None:
    """Register secrets (e.g. passwords) that must never appear in a log line."""
    for s in secrets:
        if s:
            for form in secret_forms(s):
                if form not in _State.secrets:
                    _State.secrets.append(form)
    _State.secrets.sort(key=len, reverse=True)


def redact(text: str) -> str:
    for form in _State.secrets:
        text = text.replace(form, "***")
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, message, environment, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "environment": getattr(record, "environment", None) or _State.environment,
        }
        for k, v in vars(record).items():
            if k not in _STANDARD and k not in doc:
                doc[k] = v
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(doc, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    """`[environment] message`, secrets removed."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        env = getattr(record, "environment", None) or _State.environment
        return redact(f"[{env}] {text}" if env else text)


def configure_logging(
    fmt: LogFormat = "text",
    *,
    level: int = logging.INFO,
    environment: str | None = None,
    secrets: Iterable[str | None] = (),
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Send the `sanitize` logger to `stream` (stderr) as text or JSON lines; returns the handler."""
    if fmt not in ("text", "json"):
        from sanitize.errors import BadInputError

        raise BadInputError(f"--log-format {fmt!r}: expected text or json")
    set_environment(environment)
    add_secrets(*secrets)
    logger = logging.getLogger(LOGGER)
    for h in list(logger.handlers):
        if getattr(h, "_sanitize_handler", False):
            logger.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter("%(message)s"))
    handler._sanitize_handler = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return handler
