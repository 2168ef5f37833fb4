"""`escalator --help` stays fast: it imports neither durable_rules, hypothesis nor the loader."""

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


def test_help_imports_nothing_heavy():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "evaluate" in done.stdout and "matrix" in done.stdout
    modules = set(json.loads(done.stderr.strip().splitlines()[-1]))
    heavy = {m for m in modules if m.split(".")[0] in ("durable", "durable_rules_engine", "hypothesis")}
    assert not heavy
    assert not modules & {"escalator.loading", "escalator.engine", "escalator.batch", "escalator.backends.durable"}


def test_python_dash_m_and_version():
    done = subprocess.run([sys.executable, "-m", "escalator", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("escalator ")
