"""The notebooks in notebooks/ run top to bottom in a fresh directory, and show what they promise.

Each notebook is executed once per test module with nbclient, on a kernel that runs this interpreter
(so it imports this checkout's `sanitize`), in a temporary working directory; the tests then assert
on the outputs of tagged cells. The committed notebooks must have their outputs stripped and may
import only sanitize's public API.
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

import sanitize

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
NAMES = ["01_explore_rules.ipynb", "02_check_before_merge.ipynb", "03_synthetic_data.ipynb"]
KERNEL = "sanitize-test-venv"
STDLIB_OK = {"os", "pathlib", "sqlite3", "json"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernelspec that launches this interpreter (the venv's), found through JUPYTER_PATH."""
    data = tmp_path_factory.mktemp("jupyter")
    spec = data / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": argv,
                "display_name": "sanitize tests",
                "language": "python",
                "env": {"PYTHONPATH": str(REPO)},  # this checkout's package, whatever is installed
            }
        )
    )
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(data))
    mp.setenv("SANITIZE_KEY", "notebook-test-key-0123456789-abcdefghijklmnop")
    try:
        yield KERNEL
    finally:
        mp.undo()


class Run:
    """An executed notebook and the directory it ran in."""

    def __init__(self, nb: Any, workdir: Path) -> None:
        self.nb = nb
        self.workdir = workdir

    def cell(self, tag: str) -> Any:
        hits = [c for c in self.nb.cells if tag in c.get("metadata", {}).get("tags", [])]
        assert len(hits) == 1, f"expected one cell tagged {tag!r}, found {len(hits)}"
        return hits[0]

    def text(self, tag: str) -> str:
        """stdout and text/plain outputs of a tagged cell."""
        parts = []
        for out in self.cell(tag).get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "data" in out:
                parts.append(out["data"].get("text/plain", ""))
        return "".join(parts)

    def html(self, tag: str) -> str:
        return "".join(
            out["data"].get("text/html", "") for out in self.cell(tag).get("outputs", []) if "data" in out
        )

    def image(self, tag: str) -> str:
        return "".join(
            out["data"].get("image/svg+xml", "") + out["data"].get("text/html", "")
            for out in self.cell(tag).get("outputs", [])
            if "data" in out
        )


def _execute(name: str, kernel: str, workdir: Path) -> Run:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name=kernel, timeout=300, resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()
    return Run(nb, workdir)


@pytest.fixture(scope="module")
def nb01(kernel: str, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _execute(NAMES[0], kernel, tmp_path_factory.mktemp("nb01"))


@pytest.fixture(scope="module")
def nb02(kernel: str, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _execute(NAMES[1], kernel, tmp_path_factory.mktemp("nb02"))


@pytest.fixture(scope="module")
def nb03(kernel: str, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _execute(NAMES[2], kernel, tmp_path_factory.mktemp("nb03"))


# --- the committed files ----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_when_a_notebook_is_committed_then_its_outputs_are_stripped(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: outputs not stripped"


@pytest.mark.parametrize("name", NAMES)
def test_when_a_notebook_imports_sanitize_then_only_the_public_api(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    public = set(sanitize.__all__)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name == "sanitize" or alias.name in STDLIB_OK, f"{name}: import {alias.name}"
            elif isinstance(node, ast.ImportFrom):
                assert node.module == "sanitize" or node.module in STDLIB_OK, f"{name}: from {node.module}"
                if node.module == "sanitize":
                    assert {a.name for a in node.names} <= public
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "sanitize"
            ):
                assert node.attr in public, f"{name}: sanitize.{node.attr} is not public API"


# --- 01: explore rules ---------------------------------------------------------------------------


def test_when_notebook_01_runs_then_it_connects_and_scans_with_evidence(nb01: Run) -> None:
    assert "7 table(s)" in nb01.html("connect") and "customers" in nb01.html("connect")
    scan = nb01.html("scan")
    assert "values are EMAIL_ADDRESS" in scan  # evidence shown
    assert "sz-pii" in scan and "full_name" in scan and "ip_address" in scan


def test_when_notebook_01_runs_then_rules_show_as_yaml_and_previews_highlight_changes(nb01: Run) -> None:
    import re

    rules = nb01.html("rules")
    assert "<pre" in rules and "customers:" in rules and "strategy: fake" in rules
    for tag in ("preview-before", "preview"):
        html = nb01.html(tag)
        assert html.count('class="sz-changed"') > 20, tag  # several changed cells per row
        assert "<th>before</th><th>after</th>" in html
    assert "EMAIL_ADDRESS" in nb01.html("notes-evidence")  # the evidence that motivates scrubbing notes
    out = nb01.text("adjusted")
    assert "phone last four digits kept: True" in out
    assert "notes" in out.split("changed columns:")[1].splitlines()[0]
    found = re.search(r"real emails in the notes shown: (\d+) - left after scrub: (\d+)", out)
    assert found is not None and int(found.group(1)) > 0 and found.group(2) == "0"


def test_when_notebook_01_applies_rules_to_a_frame_then_no_real_email_is_left(nb01: Run) -> None:
    out = nb01.text("apply")
    assert "emails replaced: 200 of 200" in out
    assert "real emails left: 0" in out


def test_when_notebook_01_saves_rules_then_the_cli_accepts_the_file(nb01: Run) -> None:
    from typer.testing import CliRunner

    from sanitize.cli import app

    assert "sz-ok" in nb01.html("check")
    assert "same rules when loaded back: True" in nb01.text("save")
    saved = nb01.workdir / "sanitize-notebooks" / "shop.yaml"
    rules = sanitize.load_rules(saved)
    customers = rules.tables["customers"]
    assert customers.columns["phone"].strategy == "mask"  # type: ignore[union-attr]
    assert customers.columns["notes"].strategy == "scrub"  # type: ignore[union-attr]
    result = CliRunner().invoke(app, ["check", "--rules", str(saved), str(saved.parent / "prod.db")])
    assert result.exit_code == 0, result.output


# --- 02: check before merge --------------------------------------------------------------------


def test_when_notebook_02_migrates_then_check_names_every_uncovered_and_stale_rule(nb02: Run) -> None:
    assert "CheckResult(ok" in nb02.text("check-before") and "sz-ok" in nb02.html("check-before")
    after = nb02.text("check-after")
    assert "5 problem(s)" in after
    for where in ("coupons.code", "coupons.percent_off", "customers.referral_email", "orders.ship_to"):
        assert f"{where}: no rule covers this column" in after
    assert "orders.shipping_address: the rules name this but the source has no such" in after
    assert "ok: False" in nb02.text("problems")


def test_when_notebook_02_keeps_a_pii_column_then_check_flags_it_with_evidence(nb02: Run) -> None:
    quick = nb02.text("check-quick")
    assert "1 problem(s)" in quick
    assert "customers.referral_email: kept unchanged but looks like email" in quick
    assert "values are EMAIL_ADDRESS" in quick and "use a rule such as `referral_email:" in quick
    assert "EMAIL_ADDRESS" in nb02.html("scan-new")


def test_when_notebook_02_fixes_the_rules_then_check_passes_and_the_cli_agrees(nb02: Run) -> None:
    import re

    from typer.testing import CliRunner

    from sanitize.cli import app

    assert "CheckResult(ok" in nb02.text("check-fixed")
    replaced = re.search(r"referral emails replaced: (\d+) of (\d+)", nb02.text("preview"))
    assert replaced is not None and replaced.group(1) == replaced.group(2) != "0"
    assert 'class="sz-changed"' in nb02.html("preview")
    folder = nb02.workdir / "sanitize-notebooks"
    runner = CliRunner()
    fixed = runner.invoke(app, ["check", "--rules", str(folder / "shop.yaml"), str(folder / "migrated.db")])
    assert fixed.exit_code == 0, fixed.output
    old = runner.invoke(
        app, ["check", "--rules", str(sanitize.demo_rules_path()), str(folder / "migrated.db")]
    )
    assert old.exit_code == 1 and "referral_email" in old.output  # the CI gate on the migration


# --- 03: synthetic data -------------------------------------------------------------------------


def test_when_notebook_03_profiles_then_no_sensitive_value_is_in_the_profile(nb03: Run) -> None:
    out = nb03.text("profile")
    assert "customers.email sensitive: True - values recorded: None - categories recorded: None" in out
    assert "'shipped':" in out  # a non-sensitive category column keeps its frequencies
    assert "found in profile.json: 0" in nb03.text("profile-safe")
    text = (nb03.workdir / "sanitize-notebooks" / "profile.json").read_text()
    with sanitize.connect(nb03.workdir / "sanitize-notebooks" / "prod.db") as db:
        emails = db.sample("customers", 1000)["email"].dropna().tolist()
    assert emails and not [e for e in emails if e in text]


def test_when_notebook_03_synthesises_then_the_report_shows_rows_and_zero_matches(nb03: Run) -> None:
    html = nb03.html("synth")
    assert "synthesised" in html and "customers" in html and "fidelity to the profile" in html
    assert "exact-match rows: 0 - sensitive source values in the output: 0" in nb03.text("privacy")
    with sanitize.connect(nb03.workdir / "sanitize-notebooks" / "dev.db") as dev:
        assert dev.count("customers") == 500 and dev.count("orders") == 1500


def test_when_notebook_03_compares_then_plots_render_and_profiled_columns_match(nb03: Run) -> None:
    import re

    for tag in ("plot-total", "plot-status", "plot-dob", "plot-salary"):
        svg = nb03.html(tag)
        assert "<svg" in svg and svg.count('class="sz-bar"') >= 4, tag
    assert nb03.html("plot-total").count('class="sz-bar"') == 40  # 20 bins, real and synthetic
    stats = re.findall(
        r"^(\S+): (KS statistic|total variation distance) ([\d.]+)(.*)$", nb03.text("stats"), re.M
    )
    assert len(stats) == 7
    profiled = {name: float(value) for name, _, value, note in stats if "sensitive" not in note}
    assert {"orders.total", "orders.status", "order_items.quantity"} <= set(profiled)
    assert max(profiled.values()) < 0.15, profiled  # the profile's distributions are reproduced
    assert any("sensitive" in note for *_, note in stats)  # ordered_at is shifted, so not profiled
