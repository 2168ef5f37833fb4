"""Large policies never crash or hang the process: generated policies of 10, 200, 2,000 and
5,000 rules, each loaded and decided in a subprocess with a timeout on every backend, with
many rules firing at once. A crash (durable_rules aborted with `munmap_chunk(): invalid
pointer` at 200 rules) or a hang (2,000 rules) is a failing test, not a dead test run; the
decisions must be identical byte for byte across backends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from escalator.authoring.policygen import write_scaled_policy
from escalator.runtime.backends import durable_available

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["compiled"] + (["durable"] if durable_available() else [])

_CHILD = """
import json
from datetime import datetime, timezone
from escalator import Engine
from escalator.authoring.policygen import scale_cases
engine = Engine.load({policies!r}, {rules!r}, backend={backend!r})
at = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)  # every backend decides at one pinned instant
out = [engine.evaluate(case, at).to_json() for case in scale_cases()]
print(json.dumps({{"backend": engine.backend, "decisions": out}}))
"""


def _decide(policies: Path, rules: Path, backend: str, timeout: float) -> dict:
    code = _CHILD.format(policies=str(policies), rules=str(rules), backend=backend)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{backend}: no decision within {timeout} s (hang)")
    assert done.returncode == 0, f"{backend} exited {done.returncode}: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


@pytest.mark.parametrize("rules", [10, 200, 2000, 5000])
def test_generated_policy_decides_alike_on_every_backend_without_crash_or_hang(tmp_path, rules):
    policies, packs = write_scaled_policy(tmp_path, rules)
    timeout = 60 + rules * 0.05  # a loaded 2-core machine: generous, but bounded
    results = {backend: _decide(policies, packs, backend, timeout) for backend in BACKENDS}
    for backend, result in results.items():
        assert result["backend"] == backend
    decisions = [result["decisions"] for result in results.values()]
    assert all(d == decisions[0] for d in decisions)
    fired = [len(json.loads(decision)["reasons"]) for decision in decisions[0]]
    assert fired[0] == 0 and max(fired) >= rules * 0.6  # no amount: none; 1,000.00 at VIP 5: most
