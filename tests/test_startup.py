"""Start-up cost stays where it belongs: `--help` and database runs do not load what they do not use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
{code}
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in ("pandas", "sanitize"))))
"""


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(out.stdout.strip().split(","))


def test_help_does_not_import_pandas_or_the_pipeline() -> None:
    loaded = _modules_after(
        "from typer.testing import CliRunner\nfrom sanitize.cli import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0"
    )
    assert "sanitize.cli" in loaded
    assert "pandas" not in loaded
    assert "sanitize.pipeline" not in loaded


def test_a_database_source_does_not_load_the_dump_parsers() -> None:
    loaded = _modules_after(
        "from sanitize.pipeline import resolve_target\n"
        "from sanitize.dumps import is_dump_path\n"
        "assert not is_dump_path('postgresql://u@h/db') and not is_dump_path('dev.db')\n"
        "resolve_target('dev.db')"
    )
    assert "sanitize.dumps.source" in loaded
    assert not {"sanitize.dumps.pgdump", "sanitize.dumps.mysqldump", "sanitize.dumps.rewrite"} & loaded


def test_a_run_without_scrub_does_not_load_the_pii_detector(tmp_path: Path) -> None:
    """Loading presidio (and spaCy through it) costs ~2 s: only a rule that scrubs needs it."""
    import sqlite3

    db = tmp_path / "prod.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
    con.executemany("INSERT INTO customers VALUES (?, ?)", [(i, f"u{i}@corp.com") for i in range(50)])
    con.commit()
    con.close()
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "version: 1\ntables:\n  customers:\n    columns: {id: keep, email: {strategy: fake, kind: email}}\n"
    )
    loaded = _modules_after(
        "import os\nos.environ['SANITIZE_KEY'] = 'k' * 40\n"
        "from sanitize.pipeline import anonymize\n"
        f"anonymize({str(rules)!r}, {str(db)!r}, {str(tmp_path / 'dev.db')!r})"
    )
    assert "sanitize.pipeline" in loaded
    assert not {m for m in loaded if m.startswith("sanitize.detect")}, sorted(loaded)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sanitize.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_usage_errors_exit_2_with_the_message_and_where_to_look() -> None:
    cases = [
        (("anonymize", "--bogus"), "No such option: --bogus", "sanitize anonymize --help"),
        (("scan",), "Missing argument", "sanitize scan --help"),
        (("check", "x.db", "--rules", "r.yaml", "--sample", "-3"), "Invalid value for '--sample'", "check"),
        (("nosuchcommand",), "No such command", "sanitize --help"),
    ]
    for args, message, hint in cases:
        res = _cli(*args)
        assert res.returncode == 2, (args, res.stderr)
        assert message in res.stderr and hint in res.stderr, (args, res.stderr)
        assert "report it as a bug" not in res.stderr and "Traceback" not in res.stderr
