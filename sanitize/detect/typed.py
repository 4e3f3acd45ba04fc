"""What a column's SQL type says about what its name can mean, and value checks for typed columns.

An `inet` column named `current_sign_in_address` holds IP addresses, not street addresses; a
`varchar[]` or JSON column named `emails` holds a list, not one e-mail (a scalar fake would not load
there). For numbers and dates, whose values the text recognizers do not read, `typed_values_confirm`
checks that the values fit what the name says (latitudes within ±90, years of birth in the past).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from sanitize.detect.names import NameHint, normalise
from sanitize.detect.results import ColumnScan, Evidence

BIRTH_MIN_VALUES = 20  # a date column needs this many values to look like birth dates
_IP_TYPES = frozenset({"inet", "cidr", "inet4", "inet6"})
_MAC_TYPES = frozenset({"macaddr", "macaddr8"})
_NETWORK_KINDS = frozenset({"address", "ip_address", "device_id", "username", "email"})


def sql_type_name(sql_type: Any) -> str:
    """The engine's name of a column type, lower case: `inet`, `character varying[]`, `array`, `json`."""
    if sql_type is None:
        return ""
    name = getattr(sql_type, "name", None)  # sanitize.db.types.NamedType: the engine's own spelling
    if isinstance(name, str) and type(sql_type).__name__ == "NamedType":
        return name.lower()
    cls = type(sql_type).__name__.lower()
    return "array" if cls == "array" else cls


def typed_hint(hint: NameHint | None, kind: str, sql_type: str) -> NameHint | None:
    """The name's hint corrected by the column's SQL type (an IP type makes any address an IP)."""
    base = re.sub(r"(\[\d*\])+$", "", sql_type)
    if hint is None or base not in _IP_TYPES | _MAC_TYPES:
        return hint
    if base in _IP_TYPES and hint.kind in _NETWORK_KINDS:
        return NameHint("ip_address", f"{hint.pattern} ({base} column)", max(hint.strength, 0.8))
    if base in _MAC_TYPES and hint.kind in _NETWORK_KINDS:
        return NameHint("device_id", f"{hint.pattern} ({base} column)", max(hint.strength, 0.8))
    return hint


def _numbers(values: pd.Series) -> np.ndarray:
    nums = pd.to_numeric(pd.Series(values, dtype=object).astype(str), errors="coerce")
    return nums.dropna().to_numpy(dtype=float)


def geo_step(values: pd.Series) -> float:
    """A rounding step of about 1 km for coordinates, in the values' own scale (OSM stores degrees * 10^7)."""
    nums = _numbers(values)
    biggest = float(np.abs(nums).max()) if len(nums) else 180.0
    scale = 10 ** max(0, math.ceil(math.log10(biggest / 180.0))) if biggest > 180 else 1
    return 0.01 * scale


def typed_values_confirm(kind: str, values: pd.Series, scan: ColumnScan) -> bool:
    """True when a typed (number/date) column's values fit the kind its name suggests (the evidence says
    how, in `scan`'s notes)."""
    if not len(values):
        return False
    if kind == "geo":
        nums = _numbers(values)
        step = geo_step(values)
        scan.detail["step"] = f"{step:g}"
        limit = 180.0 * step / 0.01
        return bool(len(nums) >= 0.9 * len(values) and (np.abs(nums) <= limit).all() and len(set(nums)) > 1)
    if kind == "date_of_birth":  # dates spread over decades, nearly all in the past
        probe = ColumnScan("", "", None, 0.0, Evidence())
        birth_dates(values, probe)
        scan.evidence.notes.extend(probe.evidence.notes)
        return probe.kind == "date_of_birth"
    if kind in ("birth_year", "birth_part"):
        nums = _numbers(values)
        low, high = (1850, 2030) if kind == "birth_year" else (1, 31)
        return bool(len(nums) >= 0.9 * len(values) and ((nums >= low) & (nums <= high)).mean() >= 0.9)
    return False


def kind_of_dtype(s: pd.Series) -> str:
    """The logical kind (schema.Kind) of a Series with no schema: from its dtype or first value."""
    dt = s.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "boolean"
    if pd.api.types.is_integer_dtype(dt):
        return "integer"
    if pd.api.types.is_float_dtype(dt):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "datetime"
    nonnull = s.dropna()
    if len(nonnull) and pd.api.types.is_object_dtype(dt):
        first = nonnull.iloc[0]
        if isinstance(first, dict | list):
            return "json"
        if isinstance(first, bytes | bytearray | memoryview):
            return "binary"
        if isinstance(first, bool):
            return "boolean"
    return "text"


def as_text(values: pd.Series) -> pd.Series:
    """Values as text (whole floats without `.0`), for the text recognizers."""
    if pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_object_dtype(values.dtype):
        return values.astype("str")
    if pd.api.types.is_float_dtype(values.dtype):
        as_int = values.dropna()
        if len(as_int) and (as_int == as_int.round()).all():
            return values.astype("int64").astype("str")
    return values.map(lambda v: v if isinstance(v, str) else str(v)).astype("str")


# names of dates that mark an event, not a birth: a debut spread over decades is still a debut
_EVENT_DATE = re.compile(
    r"(?:^|_)(?:debut|final|game|hire|hired|start|started|begin|end|ended|created|updated|modified|opened|"
    r"closed|founded|built|release|released|published|signed|joined|expires?|expiry|valid|due|paid|"
    r"shipped|ordered|order|at|on|since|until|from|to|first|last|death|died)(?:_|$)"
)


def birth_dates(nonnull: pd.Series, scan: ColumnScan) -> None:
    """A date column (no time of day) spread over decades, nearly all in the past: birth dates."""
    if len(nonnull) < BIRTH_MIN_VALUES or _EVENT_DATE.search(normalise(scan.column)):
        return
    dates = pd.to_datetime(nonnull.astype("str"), errors="coerce", format="mixed").dropna()
    if len(dates) < 0.9 * len(nonnull) or (dates.dt.normalize() != dates).any():
        return
    now = pd.Timestamp.now()
    age_years = (now - dates).dt.days / 365.25
    span = float(age_years.max() - age_years.min())
    grown = float((age_years >= 10).mean())
    if (age_years >= 0).all() and span >= 30 and grown >= 0.8 and 18 <= float(age_years.median()) <= 90:
        scan.kind, scan.confidence, scan.confirmed = "date_of_birth", 0.5, True
        scan.evidence.notes.append(
            f"dates span {dates.min().year}-{dates.max().year}, {grown:.0%} at least 10 years ago: "
            "like birth dates"
        )


# --- JSON documents ---------------------------------------------------------------------------


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def walk_json(doc: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(JSON path, leaf) of every scalar in a document: `$.user.email`, `$.items[*].phone`."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            key = str(k)
            sub = f"{path}.{key}" if _IDENT.match(key) else f"{path}[{json.dumps(key)}]"
            yield from walk_json(v, sub)
    elif isinstance(doc, list):
        for item in doc:
            yield from walk_json(item, f"{path}[*]")
    elif isinstance(doc, str | int | float) and not isinstance(doc, bool):
        yield path, doc


def last_json_key(path: str) -> str:
    """The last key of a JSON path (`$.user.email` -> `email`), which names the leaf."""
    m = re.search(r"(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\"((?:[^\"\\]|\\.)*)\"\])(?:\[\*\])*$", path)
    if m is None:
        return ""
    return m.group(1) or json.loads(f'"{m.group(2)}"')
