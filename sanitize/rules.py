"""Rule files (version 1): load, validate, report every problem at once, write back.

A rule file says, per table and column, what to do (see DESIGN.md "Rule files"):

    version: 1
    locale: en_US
    unknown_columns: fail
    tables:
      customers:
        columns:
          id: keep
          email: {strategy: fake, kind: email, unique: true, domain: email}
      audit_log: skip

A column rule is a strategy name (shorthand for its default parameters) or a mapping with `strategy`,
the common keys `domain` and `unique`, and that strategy's own parameters, validated by the strategy's
params model from the registry. Problems are collected and raised together as one RulesError, each
naming file, line, dotted location and the fix.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from sanitize.errors import BadInputError, RulesError
from sanitize.problems import Problems, did_you_mean, read_yaml_file
from sanitize.strategies import registry
from sanitize.strategies.registry import Params

COMMON_KEYS = ("strategy", "domain", "unique")
TOP_KEYS = ("version", "locale", "unknown_columns", "orphans", "special_values", "tables", "risk")
TABLE_KEYS = ("columns", "orphans", "quasi_identifiers", "sensitive")
Orphans = Literal["fail", "drop", "null"]
ORPHANS: tuple[Orphans, ...] = ("fail", "drop", "null")
ORPHANS_HELP = (
    "what to do with source rows whose foreign keys point at no row: fail (default), drop (leave them "
    "out, and the rows that depend on them) or null (clear the dangling foreign key)"
)
SKIP: Literal["skip"] = "skip"


class SpecialValues(BaseModel):
    """What infinity and NaN (PostgreSQL dates, timestamps, numerics, floats) become on a target that has
    none (MariaDB/MySQL): left alone (the load stops naming them), NULL, or the type's largest/smallest
    value (`max`: +infinity -> the largest, -infinity -> the smallest)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator("infinity", "nan", mode="before")
    @classmethod
    def _yaml_null(cls, value: Any) -> Any:
        return "null" if value is None else value  # YAML reads a bare `null` as nothing

    infinity: Literal["fail", "null", "max"] = Field(
        default="fail", description="infinity/-infinity on a target without them: fail, null or max"
    )
    nan: Literal["fail", "null"] = Field(
        default="fail", description="NaN on a target without it: fail or null"
    )


class ColumnRule(BaseModel):
    """What to do with one column: a strategy, its validated params, and the pseudonym domain."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    strategy: str
    params: Params
    domain: str | None = None
    unique: bool = False

    def to_yaml_value(self) -> str | dict[str, Any]:
        """The shortest YAML form: a bare name when nothing but defaults is set."""
        p = self.params.model_dump(exclude_defaults=True, mode="json")
        if not p and self.domain is None and not self.unique:
            return self.strategy
        out: dict[str, Any] = {"strategy": self.strategy}
        out.update(p)
        if self.unique:
            out["unique"] = True
        if self.domain is not None:
            out["domain"] = self.domain
        return out

    @classmethod
    def of(cls, strategy: str, **kwargs: Any) -> ColumnRule:
        """Build a rule in code: `ColumnRule.of("fake", kind="email", unique=True)`."""
        return parse_column_rule({"strategy": strategy, **kwargs}, "rule")


class TableRules(BaseModel):
    model_config = ConfigDict(frozen=True)

    columns: dict[str, ColumnRule] = Field(default_factory=dict)
    orphans: Orphans | None = None  # overrides the file's `orphans` for this table
    # re-identification risk (sanitize/risk.py): columns that single people out together, and columns
    # whose value must not be learnt from a person's class (l-diversity)
    quasi_identifiers: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()


class RiskGate(BaseModel):
    """What the released rows must reach on their quasi-identifiers, or the run fails closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_k: int | None = Field(default=None, ge=1, description="smallest equivalence class allowed")
    max_unique_share: float | None = Field(
        default=None, ge=0, le=1, description="largest share of rows alone in their class"
    )
    min_l: int | None = Field(default=None, ge=1, description="fewest distinct sensitive values in a class")

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.min_k, self.max_unique_share, self.min_l))


class RulesFile(BaseModel):
    """A whole rules file. `tables` maps a table key to its rules or to the string "skip"."""

    model_config = ConfigDict(frozen=True)

    version: Literal[1] = 1
    locale: str = "en_US"
    unknown_columns: Literal["fail", "keep"] = "fail"
    orphans: Orphans = "fail"
    special_values: SpecialValues = Field(default_factory=lambda: SpecialValues())
    tables: dict[str, TableRules | Literal["skip"]] = Field(default_factory=dict)
    risk: RiskGate = Field(default_factory=RiskGate)
    path: str | None = Field(default=None, exclude=True)
    digest: str = Field(default="", exclude=True)  # sha256 of the file's bytes, for reports

    def table(self, key: str) -> TableRules | Literal["skip"] | None:
        return self.tables.get(key)

    def is_skipped(self, key: str) -> bool:
        return self.tables.get(key) == SKIP

    def orphans_for(self, key: str) -> Orphans:
        """The orphans policy of table `key`: its own, else the file's."""
        t = self.tables.get(key)
        return t.orphans if isinstance(t, TableRules) and t.orphans is not None else self.orphans

    def to_dict(self) -> dict[str, Any]:
        tables: dict[str, Any] = {}
        for name, t in self.tables.items():
            if t == SKIP:
                tables[name] = SKIP
            else:
                assert isinstance(t, TableRules)
                tables[name] = {"columns": {c: r.to_yaml_value() for c, r in t.columns.items()}}
                if t.orphans is not None:
                    tables[name]["orphans"] = t.orphans
                if t.quasi_identifiers:
                    tables[name]["quasi_identifiers"] = list(t.quasi_identifiers)
                if t.sensitive:
                    tables[name]["sensitive"] = list(t.sensitive)
        out: dict[str, Any] = {
            "version": self.version,
            "locale": self.locale,
            "unknown_columns": self.unknown_columns,
        }
        if self.orphans != "fail":
            out["orphans"] = self.orphans
        special = self.special_values.model_dump(exclude_defaults=True)
        if special:
            out["special_values"] = special
        out["tables"] = tables
        if self.risk.active:
            out["risk"] = self.risk.model_dump(exclude_none=True)
        return out

    def to_yaml(self, path: str | Path | None = None) -> str:
        """The rules as YAML (a file the CLI accepts unchanged); written to `path` when given."""
        text = yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=110)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<rules>") -> RulesFile:
        return parse_rules(data, source=source)

    def with_rule(self, table: str, column: str, rule: ColumnRule | str) -> RulesFile:
        """A copy with one column rule set (notebooks adjust rules this way)."""
        r = parse_column_rule(rule, f"tables.{table}.columns.{column}") if isinstance(rule, str) else rule
        tables = dict(self.tables)
        current = tables.get(table)
        cols = dict(current.columns) if isinstance(current, TableRules) else {}
        cols[column] = r
        tables[table] = (
            current.model_copy(update={"columns": cols})
            if isinstance(current, TableRules)
            else TableRules(columns=cols)
        )
        return self.model_copy(update={"tables": tables, "path": None, "digest": ""})


# --- problems and locations ----------------------------------------------------------------------


def _pydantic_problems(exc: ValidationError, loc: str, problems: Problems) -> None:
    for e in exc.errors():
        sub = ".".join(str(p) for p in e["loc"])
        where = f"{loc}.{sub}" if sub else loc
        if e["type"] == "extra_forbidden":
            problems.add(where, "unknown parameter; remove it or check its spelling")
        elif e["type"] == "missing":
            problems.add(where, "required parameter is missing")
        else:
            problems.add(where, f"{e['msg']} (found {e.get('input')!r})")


def parse_column_rule(raw: Any, loc: str = "rule") -> ColumnRule:
    """One column rule from its YAML value (a name or a mapping); RulesError on any problem."""
    problems = Problems(source="<rule>")
    rule = _parse_column_rule(raw, loc, problems)
    problems.raise_if_any()
    assert rule is not None
    return rule


def _parse_column_rule(raw: Any, loc: str, problems: Problems) -> ColumnRule | None:
    if isinstance(raw, str):
        raw = {"strategy": raw}
    if not isinstance(raw, Mapping):
        problems.add(loc, f"expected a strategy name or a mapping with 'strategy', found {raw!r}")
        return None
    body = dict(raw)
    name = body.pop("strategy", None)
    if not isinstance(name, str):
        problems.add(loc, "missing 'strategy' (e.g. {strategy: fake, kind: email})")
        return None
    try:
        spec = registry.get(name)
    except KeyError:
        hint = registry.closest(name)
        problems.add(
            f"{loc}.strategy" if isinstance(raw, Mapping) and len(raw) > 1 else loc,
            f"unknown strategy {name!r}"
            + (f" (did you mean {hint!r}?)" if hint else "; run `sanitize strategies` for the list"),
        )
        return None
    domain = body.pop("domain", None)
    if domain is not None and not (isinstance(domain, str) and domain.strip()):
        problems.add(f"{loc}.domain", f"expected a non-empty name, found {domain!r}")
        domain = None
    unique = body.pop("unique", False)
    if not isinstance(unique, bool):
        problems.add(f"{loc}.unique", f"expected true or false, found {unique!r}")
        unique = False
    if unique and not spec.unique_safe:
        safe = [n for n, s in registry.all_strategies().items() if s.unique_safe]
        problems.add(f"{loc}.unique", f"strategy {name!r} cannot guarantee unique outputs; use one of {safe}")
    try:
        params = spec.validate_params(body)
    except ValidationError as exc:
        _pydantic_problems(exc, loc, problems)
        return None
    return ColumnRule(strategy=name, params=params, domain=domain, unique=unique)


def parse_rules(data: Any, *, source: str = "<rules>", lines: Mapping[str, int] | None = None) -> RulesFile:
    """Validate a loaded YAML document into a RulesFile, reporting every problem at once."""
    problems = Problems(source=source, lines=lines or {})
    if not isinstance(data, Mapping):
        problems.add("", f"expected a mapping with {', '.join(TOP_KEYS)}; found {type(data).__name__}")
        problems.raise_if_any()
    for k in data:
        if k not in TOP_KEYS:
            problems.add(str(k), "unknown key" + did_you_mean(str(k), TOP_KEYS))
    version = data.get("version")
    if version != 1:
        problems.add("version", f"expected 1, found {version!r}; add `version: 1` at the top")
    locale = data.get("locale", "en_US")
    if not isinstance(locale, str):
        problems.add("locale", f"expected a Faker locale such as en_US, found {locale!r}")
        locale = "en_US"
    unknown = data.get("unknown_columns", "fail")
    if unknown not in ("fail", "keep"):
        problems.add("unknown_columns", f"expected 'fail' or 'keep', found {unknown!r}")
        unknown = "fail"
    orphans = _orphans(data.get("orphans", "fail"), "orphans", problems) or "fail"
    special = SpecialValues()
    if "special_values" in data:
        try:
            special = SpecialValues.model_validate(data["special_values"])
        except ValidationError as exc:
            _pydantic_problems(exc, "special_values", problems)
    raw_tables = data.get("tables") or {}
    tables: dict[str, TableRules | Literal["skip"]] = {}
    if not isinstance(raw_tables, Mapping):
        problems.add("tables", f"expected a mapping of table names, found {raw_tables!r}")
        raw_tables = {}
    for tname, traw in raw_tables.items():
        tloc = f"tables.{tname}"
        if traw == SKIP:
            tables[str(tname)] = SKIP
            continue
        if not isinstance(traw, Mapping):
            problems.add(tloc, f"expected 'skip' or a mapping with 'columns', found {traw!r}")
            continue
        for k in traw:
            if k not in TABLE_KEYS:
                problems.add(f"{tloc}.{k}", "unknown key" + did_you_mean(str(k), TABLE_KEYS))
        cols_raw = traw.get("columns") or {}
        if not isinstance(cols_raw, Mapping):
            problems.add(f"{tloc}.columns", f"expected a mapping of column rules, found {cols_raw!r}")
            continue
        cols: dict[str, ColumnRule] = {}
        for cname, craw in cols_raw.items():
            rule = _parse_column_rule(craw, f"{tloc}.columns.{cname}", problems)
            if rule is not None:
                cols[str(cname)] = rule
        table_orphans = _orphans(traw["orphans"], f"{tloc}.orphans", problems) if "orphans" in traw else None
        quasi = _column_list(traw.get("quasi_identifiers"), f"{tloc}.quasi_identifiers", problems)
        sensitive = _column_list(traw.get("sensitive"), f"{tloc}.sensitive", problems)
        if sensitive and not quasi:
            problems.add(
                f"{tloc}.sensitive", "l-diversity needs quasi_identifiers in the same table; add them"
            )
        tables[str(tname)] = TableRules(
            columns=cols, orphans=table_orphans, quasi_identifiers=quasi, sensitive=sensitive
        )
    risk = RiskGate()
    raw_risk = data.get("risk")
    if raw_risk is not None:
        if not isinstance(raw_risk, Mapping):
            problems.add("risk", f"expected a mapping such as {{min_k: 5}}, found {raw_risk!r}")
        else:
            try:
                risk = RiskGate.model_validate(dict(raw_risk))
            except ValidationError as exc:
                _pydantic_problems(exc, "risk", problems)
    problems.raise_if_any()
    return RulesFile(
        locale=locale,
        unknown_columns=unknown,
        orphans=orphans,
        special_values=special,
        tables=tables,
        risk=risk,
        path=None,
    )


def _column_list(raw: Any, loc: str, problems: Problems) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(c, str) and c for c in raw):
        problems.add(loc, f"expected a list of column names, found {raw!r}")
        return ()
    return tuple(dict.fromkeys(raw))


def _orphans(raw: Any, loc: str, problems: Problems) -> Orphans | None:
    if raw is None:  # YAML reads a bare `null` as nothing
        return "null"
    if raw in ORPHANS:
        return raw  # type: ignore[no-any-return]
    problems.add(loc, f"expected one of {', '.join(ORPHANS)}, found {raw!r}; {ORPHANS_HELP}")
    return None


def load_rules(path: str | Path) -> RulesFile:
    """Load and validate a rules file (YAML, loaded safely)."""
    p = Path(path)
    raw, data, lines = read_yaml_file(
        p, RulesError, "rules file", "check the path or create one with `sanitize scan`"
    )
    rules = parse_rules(data if data is not None else {}, source=str(p), lines=lines)
    return rules.model_copy(update={"path": str(p), "digest": hashlib.sha256(raw).hexdigest()})


def as_rules(rules: RulesFile | str | Path | Any) -> RulesFile:
    """The rules object for `rules`: a RulesFile as is, a path loaded and validated; BadInputError else."""
    if isinstance(rules, RulesFile):
        return rules
    if isinstance(rules, str | Path):
        return load_rules(rules)
    raise BadInputError(
        f"expected rules (a sanitize.Rules or the path of a rules file), found {type(rules).__name__}; "
        "load them with sanitize.load_rules(path) or sanitize.Rules.from_dict({...})"
    )


# --- JSON schema --------------------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    """The JSON Schema of rule files, generated from the strategy registry's params models."""
    variants: list[Any] = []
    names = list(registry.all_strategies())
    for name, spec in registry.all_strategies().items():
        fields: dict[str, Any] = {
            "strategy": (Literal[name], Field(description=spec.description)),
            "domain": (str | None, Field(default=None, description="pseudonym space; default table.column")),
            "unique": (bool, Field(default=False, description="distinct inputs give distinct outputs")),
        }
        variants.append(create_model(f"{name.title().replace('_', '')}Rule", __base__=spec.params, **fields))
    column_rule: Any = Literal[tuple(names)]  # type: ignore[valid-type]
    for v in variants:
        column_rule = column_rule | v
    table_fields: dict[str, Any] = {
        "columns": (dict[str, column_rule], Field(default_factory=dict)),
        "orphans": (Orphans | None, Field(default=None, description=ORPHANS_HELP + "; for this table")),
        "quasi_identifiers": (list[str], Field(default_factory=list, description="re-identification risk")),
        "sensitive": (list[str], Field(default_factory=list, description="l-diversity columns")),
    }
    table: Any = create_model("TableRules", __config__=ConfigDict(extra="forbid"), **table_fields)
    top_fields: dict[str, Any] = {
        "version": (Literal[1], ...),
        "locale": (str, "en_US"),
        "unknown_columns": (Literal["fail", "keep"], "fail"),
        "orphans": (Orphans | None, Field(default="fail", description=ORPHANS_HELP + " (YAML null: null)")),
        "special_values": (SpecialValues, Field(default_factory=SpecialValues)),
        "tables": (dict[str, Literal["skip"] | table], Field(default_factory=dict)),
        "risk": (RiskGate, Field(default_factory=RiskGate)),
    }
    top = create_model(
        "RulesFileV1",
        __config__=ConfigDict(extra="forbid", title="sanitize rules file, version 1"),
        **top_fields,
    )
    return top.model_json_schema()


def schema_json_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # `python -m sanitize.rules > rules/schema.json`
    sys.stdout.write(schema_json_text())
