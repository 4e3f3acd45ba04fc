"""Environments (`sanitize.yaml`): which databases exist, their role, and how each is refreshed.

    environments:
      prod:    {url: "${PROD_DATABASE_URL}", role: production}     # read-only, never a target
      staging: {url: "${STAGING_DATABASE_URL}", role: staging}
      dev:     {url: "sqlite:///dev.db", role: dev}
    refresh:
      staging: {from: prod, rules: rules/shop.yaml, mode: anonymize}
      dev:     {from: prod, rules: rules/shop.yaml, mode: synth, scale: 0.01}

`${VAR}` (or `${VAR:-default}`) in any value is taken from the process environment, else from a
`.env` file next to the config (then one in the working directory). Relative SQLite paths and rules
paths are relative to the config file, so a cron job works from any directory. Every problem (unknown
key, undefined variable, production used as a refresh target, ...) is reported at once with file,
line, dotted location and the fix. URLs are never echoed in messages: they may hold a password.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sanitize.errors import ConfigError
from sanitize.problems import Problems, did_you_mean, read_yaml_file

DEFAULT_CONFIG = "sanitize.yaml"
ROLES = ("production", "staging", "dev")
Role = Literal["production", "staging", "dev"]
Mode = Literal["anonymize", "synth"]

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class Environment(BaseModel):
    """One database: where it is (a URL, SQLite path) and what it is for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(min_length=1)
    role: Role
    description: str | None = None

    @property
    def is_production(self) -> bool:
        return self.role == "production"


class RefreshJob(BaseModel):
    """How one non-production environment is refreshed (`sanitize refresh ENV`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: str = Field(alias="from", min_length=1)
    rules: Path
    mode: Mode = "anonymize"
    scale: float | None = Field(default=None, gt=0)
    rows: int | None = Field(default=None, gt=0)
    seed: int | None = None
    batch_size: int | None = Field(default=None, gt=0)
    verify: bool = True  # run the leak check on the shadow copy before publishing
    report: Path | None = None  # where the run report goes; default: <reports>/<env>-<time>.json


class Config(BaseModel):
    """A validated `sanitize.yaml` with every `${VAR}` expanded and every path made absolute."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    environments: dict[str, Environment] = Field(default_factory=dict)
    refresh: dict[str, RefreshJob] = Field(default_factory=dict)
    reports: Path = Path("reports")  # directory for run reports
    path: Path | None = Field(default=None, exclude=True)

    def environment_urls(self) -> dict[str, str]:
        """Environment name -> URL, for `sanitize.db.resolve(spec, environments=...)`."""
        return {name: env.url for name, env in self.environments.items()}

    def environment(self, name: str) -> Environment:
        """The environment called `name`; ConfigError naming the known ones otherwise."""
        try:
            return self.environments[name]
        except KeyError:
            hint = did_you_mean(name, list(self.environments))
            raise ConfigError(
                f"{self._where()}: no environment named {name!r}{hint}; add it under `environments:`"
            ) from None

    def production_environments(self) -> list[str]:
        return [n for n, e in self.environments.items() if e.is_production]

    def job(self, name: str) -> RefreshJob:
        """The refresh job for target environment `name`, with its rules file checked to exist."""
        self.environment(name)
        if name not in self.refresh:
            known = ", ".join(self.refresh) or "none"
            raise ConfigError(
                f"{self._where()}: environment {name!r} has no refresh job (jobs: {known}); add "
                f"`refresh: {{{name}: {{from: <source environment>, rules: <rules file>}}}}`"
            )
        job = self.refresh[name]
        if not job.rules.is_file():
            raise ConfigError(
                f"{self._where()}: refresh.{name}.rules: rules file {job.rules} not found; "
                "fix the path (relative to the config file) or draft one with `sanitize scan`"
            )
        return job

    def report_path(self, name: str, stamp: str) -> Path:
        """Where the run report of refreshing `name` goes (the job's `report`, else the reports dir)."""
        job = self.refresh.get(name)
        if job is not None and job.report is not None:
            return job.report
        return self.reports / f"{name}-{stamp}.json"

    def latest_report_path(self, name: str) -> Path:
        """A copy of the last run report of refreshing `name` (`sanitize report NAME` shows it)."""
        return self.reports / f"{name}-latest.json"

    def dotenv_files(self) -> list[Path]:
        """The `.env` files this config's variables (and SANITIZE_KEY) come from, the nearest first."""
        return dotenv_files(self.path.parent if self.path is not None else Path.cwd())

    def _where(self) -> str:
        return str(self.path) if self.path is not None else DEFAULT_CONFIG


# --- loading -------------------------------------------------------------------------------------


def read_dotenv(paths: Sequence[Path]) -> dict[str, str]:
    """The variables of the `.env` files that exist among `paths`; an earlier file wins."""
    from dotenv import dotenv_values

    out: dict[str, str] = {}
    for p in reversed(paths):
        if p.is_file():
            out.update({k: v for k, v in dotenv_values(p).items() if v is not None})
    return out


def dotenv_files(base: Path) -> list[Path]:
    """The `.env` files a config in directory `base` reads: the one next to it, then the working
    directory's (an earlier file wins; the process environment wins over both)."""
    files = [base / ".env"]
    if Path.cwd().resolve() != base.resolve():
        files.append(Path.cwd() / ".env")
    return files


def _expand(data: Any, loc: str, lookup: Mapping[str, str], problems: Problems, env_hint: str) -> Any:
    """Expand ${VAR} in every string of the tree; undefined variables become problems."""
    if isinstance(data, dict):
        return {
            k: _expand(v, f"{loc}.{k}" if loc else str(k), lookup, problems, env_hint)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_expand(v, f"{loc}[{i}]", lookup, problems, env_hint) for i, v in enumerate(data)]
    if not isinstance(data, str):
        return data

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, default = m.group(1), m.group(2)
        value = lookup.get(name)
        if value is None or (value == "" and default is not None):
            if default is not None:
                return default
            problems.add(
                loc,
                f"${{{name}}} is not defined; set {name} in the environment or in "
                f"{env_hint} (see .env.example)",
            )
            return m.group(0)
        return value

    return _VAR.sub(sub, data)


def _pydantic_problems(exc: ValidationError, problems: Problems) -> None:
    allowed = {
        "environments": tuple(Environment.model_fields),
        "refresh": tuple(f.alias or n for n, f in RefreshJob.model_fields.items()),
        "": tuple(n for n in Config.model_fields if n != "path"),
    }
    for e in exc.errors():
        parts = [str(p) for p in e["loc"]]
        loc = ".".join("from" if p == "from_" else p for p in parts)
        if e["type"] == "extra_forbidden":
            section = parts[0] if len(parts) > 2 else ""
            word = parts[-1]
            problems.add(
                loc,
                f"unknown key{did_you_mean(word, allowed.get(section, ()))}; remove it or fix its spelling",
            )
        elif e["type"] == "missing":
            problems.add(loc, "required key is missing")
        elif e["type"] == "literal_error" and parts[-1] == "role":
            problems.add(loc, f"unknown role {e.get('input')!r}{did_you_mean(str(e.get('input')), ROLES)}")
        elif e["type"] == "literal_error" and parts[-1] == "mode":
            problems.add(loc, f"unknown mode {e.get('input')!r}; expected anonymize or synth")
        elif parts and parts[-1] == "url":
            problems.add(loc, f"{e['msg']}; give a SQLAlchemy URL, a SQLite file path or ${{VAR}}")
        else:  # never echo the input: it may be an expanded URL holding a password
            problems.add(loc, f"{e['msg']} (found a value of type {type(e.get('input')).__name__})")


def _absolute_sqlite(url: str, base: Path) -> str:
    """Relative SQLite paths are relative to the config file's directory."""
    if "://" not in url:
        return url if Path(url).is_absolute() else str(base / url)
    m = re.match(r"^(sqlite(?:\+\w+)?:///)(.*)$", url)
    if m is None:
        return url
    prefix, rest = m.groups()
    if not rest or rest.startswith((":memory:", "/", "file:")) or re.match(r"^[A-Za-z]:[\\/]", rest):
        return url
    return prefix + str(base / rest)


def _check_references(cfg: Config, problems: Problems) -> None:
    names = list(cfg.environments)
    for target, job in cfg.refresh.items():
        loc = f"refresh.{target}"
        env = cfg.environments.get(target)
        if env is None:
            problems.add(
                loc,
                f"no environment named {target!r}{did_you_mean(target, names)}; a refresh job is "
                "named after the environment it refreshes",
            )
        elif env.is_production:
            problems.add(
                loc,
                f"environment {target!r} has role production, and production is never a "
                "refresh target; refresh a staging or dev environment instead",
            )
        if job.from_ not in cfg.environments:
            problems.add(f"{loc}.from", f"no environment named {job.from_!r}{did_you_mean(job.from_, names)}")
        elif job.from_ == target:
            problems.add(f"{loc}.from", "an environment cannot be refreshed from itself; name the source")
        if job.mode == "anonymize" and (job.scale is not None or job.rows is not None):
            problems.add(loc, "scale and rows apply to mode synth only; remove them or set mode: synth")


def parse_config(
    data: Any,
    *,
    source: str = DEFAULT_CONFIG,
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    lines: Mapping[str, int] | None = None,
    keep_undefined: bool = False,
) -> Config:
    """Validate a config mapping; expand ${VAR} from `environ` (default: process env + .env files).

    With `keep_undefined`, a variable that is not set stays as written (`${PROD_DATABASE_URL}`)
    instead of being a problem: resolving that environment then says which variable it needs."""
    base = (base_dir or Path.cwd()).resolve()
    problems = Problems(source, lines or {}, error=ConfigError, what="config")
    if not isinstance(data, dict):
        problems.add(
            "", f"expected a mapping with `environments:` and `refresh:`, found {type(data).__name__}"
        )
        problems.raise_if_any()
    if environ is None:
        lookup: dict[str, str] = {**read_dotenv(dotenv_files(base)), **os.environ}
        hint = str(base / ".env")
    else:
        lookup, hint = dict(environ), ".env"
    unset = Problems(source, {}, error=ConfigError, what="config") if keep_undefined else problems
    expanded = _expand(data, "", lookup, unset, hint)
    try:
        cfg = Config.model_validate(expanded)
    except ValidationError as exc:
        _pydantic_problems(exc, problems)
        problems.raise_if_any()
        raise  # pragma: no cover - raise_if_any always raises here
    _check_references(cfg, problems)
    problems.raise_if_any()
    envs = {
        n: e.model_copy(update={"url": _absolute_sqlite(e.url, base)}) for n, e in cfg.environments.items()
    }
    jobs = {
        n: j.model_copy(
            update={
                "rules": j.rules if j.rules.is_absolute() else base / j.rules,
                "report": j.report if j.report is None or j.report.is_absolute() else base / j.report,
            }
        )
        for n, j in cfg.refresh.items()
    }
    reports = cfg.reports if cfg.reports.is_absolute() else base / cfg.reports
    return cfg.model_copy(
        update={"environments": envs, "refresh": jobs, "reports": reports, "path": Path(source)}
    )


def load_config(
    path: str | Path = DEFAULT_CONFIG,
    environ: Mapping[str, str] | None = None,
    *,
    keep_undefined: bool = False,
) -> Config:
    """Load and validate `sanitize.yaml`; ConfigError listing every problem with file:line and fix."""
    p = Path(path)
    _raw, data, lines = read_yaml_file(
        p, ConfigError, "config file", "create one with `sanitize init` or pass --config PATH"
    )
    return parse_config(
        data if data is not None else {},
        source=str(p),
        base_dir=p.parent,
        environ=environ,
        lines=lines,
        keep_undefined=keep_undefined,
    )


def default_config() -> Config | None:
    """./sanitize.yaml when there is one: where a command given an environment name without --config
    finds it (`sanitize.db.resolve`), and which databases are production. A variable that is not set
    stays as written (a developer's machine may have no production URL); None without the file."""
    p = Path(DEFAULT_CONFIG)
    return load_config(p, keep_undefined=True) if p.is_file() else None


# --- sanitize init -------------------------------------------------------------------------------

STARTER_CONFIG = """\
# sanitize.yaml: the databases this project knows and how each non-production one is refreshed.
# Run `sanitize refresh staging` (e.g. nightly from cron) to rebuild staging from production.
#
# URLs come from environment variables or a .env file next to this one (copy .env.example to .env;
# never commit .env). A URL may be a SQLAlchemy URL or a SQLite file path; relative SQLite paths and
# rules paths are relative to this file. Passwords are never printed or logged.

environments:
  # role: production | staging | dev. A production database is only ever read (read-only session),
  # and is never a refresh target; a target that turns out to be a production database is refused.
  prod:    {url: "${PROD_DATABASE_URL}", role: production}
  staging: {url: "${STAGING_DATABASE_URL}", role: staging}
  dev:     {url: "sqlite:///dev.db", role: dev}

refresh:
  # target environment: {from: source environment, rules: rules file, mode: anonymize | synth}
  # Draft the rules file with: sanitize scan prod --out rules/rules.yaml
  staging: {from: prod, rules: rules/rules.yaml, mode: anonymize}
  # synth generates data from the source's schema only: no production row is read.
  dev:     {from: prod, rules: rules/rules.yaml, mode: synth, scale: 0.01}

# Run reports (one JSON document per run) go here; `sanitize report FILE` shows one.
reports: reports
"""

STARTER_ENV = """\
# Copy to .env (which must never be committed) and fill in. Variables set in the real environment win.
#
# The secret key: pseudonyms are a function of (key, value); keep it stable to keep runs comparable.
# Make one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'
SANITIZE_KEY=

# Give the production URL a read-only user where you can; staging should use different credentials.
PROD_DATABASE_URL=postgresql+psycopg://readonly_user:password@prod-db.internal:5432/shop
STAGING_DATABASE_URL=postgresql+psycopg://staging_user:password@staging-db.internal:5432/shop
"""


def init_project(directory: str | Path = ".", *, force: bool = False) -> list[Path]:
    """Write a commented starter `sanitize.yaml` and `.env.example`; refuse to overwrite unless `force`."""
    d = Path(directory)
    files = {d / DEFAULT_CONFIG: STARTER_CONFIG, d / ".env.example": STARTER_ENV}
    existing = [p for p in files if p.exists()]
    if existing and not force:
        raise ConfigError(
            f"{', '.join(str(p) for p in existing)} already exist{'s' if len(existing) == 1 else ''}; "
            "nothing was written. Edit the file, or pass --force to overwrite"
        )
    d.mkdir(parents=True, exist_ok=True)
    for p, text in files.items():
        p.write_text(text, encoding="utf-8")
    return list(files)
