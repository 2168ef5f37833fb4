"""`escalator --help` stays fast: it imports no rule engine, validator, YAML, locale, SQL or web library, nor the loader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
sys.argv = ["escalator", "--help"]
from escalator.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


HEAVY = (  # what --help must not import: each costs tens of milliseconds, and --help needs none of it
    "durable", "durable_rules_engine", "hypothesis", "pydantic", "pydantic_core", "yaml", "babel", "holidays",
    "sqlglot", "duckdb", "dask", "pyarrow", "fastapi", "starlette", "uvicorn", "sqlalchemy", "httpx", "dateutil",
)


def test_help_imports_nothing_heavy():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "evaluate" in done.stdout and "matrix" in done.stdout
    modules = set(json.loads(done.stderr.strip().splitlines()[-1]))
    heavy = {m for m in modules if m.split(".")[0] in HEAVY}
    assert not heavy
    assert not modules & {"typer.rich_utils", "rich.markdown", "rich.traceback"}  # typer's rich help: ~100 ms
    assert not modules & {"escalator.language.loading", "escalator.runtime.engine", "escalator.operations.batch", "escalator.runtime.backends.durable"}


def test_python_dash_m_and_version():
    done = subprocess.run([sys.executable, "-m", "escalator", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("escalator ")


def test_an_internal_error_is_one_line_and_exit_3(tmp_path):
    """A bug inside a command must not dump a traceback on support staff."""
    import subprocess
    import sys

    script = (
        "import escalator.cli._decisions as r\n"
        "def boom(*a, **k):\n    raise RuntimeError('boom')\n"
        "r.decision_table = boom\n"
        "import sys; sys.argv = ['escalator', 'evaluate', 'examples/cases/nl-bonus-at-agent-cap.yaml']\n"
        "from escalator.cli import main; main()\n"
    )
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=60)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert "internal error: RuntimeError: boom" in result.stderr
