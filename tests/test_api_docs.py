"""The README's Python API example runs as written; `apply` gives back the caller's dtypes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sanitize

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_when_the_readme_python_api_example_runs_then_it_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = README[README.index("## Python API") :].split("\n## ")[0]
    for name in ("connect", "scan", "preview", "apply", "check", "to_yaml", "synthesize", "compare"):
        assert f"{name}(" in section, f"the Python API section does not show {name}"
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the Python API section has one example"
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], "README.md#python-api", "exec"), {"__name__": "readme"})
    assert sanitize.load_rules(tmp_path / "shop.yaml").tables  # the rules file it saved reads back
    assert (tmp_path / "synthetic.db").is_file()


RULES = {
    "version": 1,
    "tables": {
        "t": {
            "columns": {
                "id": "keep",
                "price": {"strategy": "noise", "relative": 0.1},
                "seen": {"strategy": "date_shift", "max_days": 30},
                "email": {"strategy": "fake", "kind": "email"},
                "score": "hash",
                "count": "nullify",
                "flag": "keep",
                "label": "redact",
            }
        }
    },
}


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": np.arange(4, dtype="int64"),
            "price": np.array([1.5, np.nan, 3.25, 4.0]),
            "seen": pd.to_datetime(["2024-01-01 10:00", None, "2024-03-04 00:00", "2024-05-06 12:30"]),
            "email": pd.Series(["a@corp.example", None, "c@corp.example", "d@corp.example"], dtype=object),
            "score": np.array([10, 20, 30, 40], dtype="int64"),
            "count": np.array([1, 2, 3, 4], dtype="int64"),
            "flag": np.array([True, False, True, False]),
            "label": pd.Series(["x", "y", None, "z"], dtype="string[pyarrow]"),
        }
    )


@pytest.mark.parametrize(
    ("column", "becomes"),
    [
        ("id", None),  # kept int64
        ("price", None),  # noise on float64: NaN stays NaN, not pd.NA
        ("seen", None),  # date_shift on datetime64: NaT stays NaT
        ("email", None),  # fake on object: Python strings, None for missing
        ("score", None),  # hash on int64
        ("count", pd.Int64Dtype()),  # nullify: int64 cannot hold NULLs, pandas' nullable Int64 can
        ("flag", None),  # kept bool
        ("label", None),  # redact on an Arrow-backed string column: stays Arrow-backed
    ],
)
def test_when_applying_then_each_column_keeps_the_callers_dtype(column: str, becomes: object) -> None:
    df = frame()
    out = sanitize.apply(df, sanitize.Rules.from_dict(RULES), table="t")
    assert out[column].dtype == (becomes if becomes is not None else df[column].dtype)


def test_when_applying_then_values_change_and_missing_ones_are_numpy_missing() -> None:
    df = frame()
    out = sanitize.apply(df, sanitize.Rules.from_dict(RULES), table="t")
    assert out["email"][1] is None and np.isnan(out["price"][1]) and out["seen"][1] is pd.NaT
    assert (out["email"].dropna() != df["email"].dropna()).all() and not out["price"].equals(df["price"])
    pd.testing.assert_frame_equal(df, frame())  # the caller's frame is untouched


def test_when_arrow_is_asked_for_then_apply_returns_the_pipelines_arrow_dtypes() -> None:
    out = sanitize.apply(frame(), sanitize.Rules.from_dict(RULES), table="t", arrow=True)
    assert isinstance(out["price"].dtype, pd.ArrowDtype) and isinstance(out["seen"].dtype, pd.ArrowDtype)
