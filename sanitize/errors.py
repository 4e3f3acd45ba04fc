"""Every expected failure is a SanitizeError; the CLI maps each class to an exit code.

Exit codes (DESIGN.md): 0 success; 1 a safety or data check said no; 2 bad input;
3 a runtime failure after which the target is unchanged; 130 interrupted (Ctrl-C or SIGTERM, which
stop a run as KeyboardInterrupt, not as a SanitizeError: see cli.py).
"""

from __future__ import annotations


class SanitizeError(Exception):
    """Base of every error sanitize expects; carries the CLI exit code."""

    exit_code: int = 3

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        full = message
        if self.problems:
            full = message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(full)
        self.message = message


# --- exit code 2: bad input ---------------------------------------------------------------


class BadInputError(SanitizeError):
    """Input the user gave (rules, config, arguments, URL) is wrong; exit 2."""

    exit_code = 2


class RulesError(BadInputError):
    """A rules file is invalid; `problems` lists every problem with its location and fix."""


class ConfigError(BadInputError):
    """sanitize.yaml, .env or an environment variable is invalid or missing."""


class KeyMissingError(BadInputError):
    """SANITIZE_KEY is missing or too short."""


class UrlError(BadInputError):
    """A database URL, file path or environment name cannot be used."""


class DumpError(BadInputError):
    """A dump file is truncated, corrupt or not of a supported format."""


# --- exit code 1: a safety or data check said no -------------------------------------------


class SafetyError(SanitizeError):
    """A safety or data check refused to go on; exit 1."""

    exit_code = 1


class CoverageError(SafetyError):
    """Columns are not covered by any rule (or rules name things that no longer exist)."""


class TargetRefusedError(SafetyError):
    """The target is the source, is production, or belongs to another environment."""


class LeakError(SafetyError):
    """The leak check found source values in the target."""


class RiskError(SafetyError):
    """The released rows fall short of the rules' re-identification limits (risk: min_k, ...)."""


class CheckFailedError(SafetyError):
    """A post-load integrity check (row counts, FKs, uniqueness) failed; nothing was published."""


# --- exit code 3: runtime failure, target unchanged ---------------------------------------


class RuntimeFailure(SanitizeError):
    """The run failed while working (connection lost, load failed); the target is unchanged."""

    exit_code = 3


class LoadError(RuntimeFailure):
    """Writing to the target failed; the previously published data is still in place."""


class CheckViolation(LoadError):
    """Rows broke a CHECK constraint of the target while loading; names table, constraint and columns."""

    def __init__(self, message: str, *, table: str, constraint: str, columns: tuple[str, ...]) -> None:
        super().__init__(message)
        self.table, self.constraint, self.columns = table, constraint, columns


class ConnectionFailed(RuntimeFailure):
    """A database could not be reached; the message names host:port/database, never a password."""


class ConcurrentRunError(RuntimeFailure):
    """Another run holds the lock on this target."""
