"""The pytest plugin: policy test YAML files become pytest items; a failure shows the diff."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import escalator.language.cases  # noqa: F401  imported here, not inside the in-process pytester runs: pytester
import escalator.runtime.engine  # noqa: F401  drops modules first imported in a run, and two copies of the
import escalator.authoring.policytest  # noqa: F401  model classes would not recognise each other's objects

pytest_plugins = ["pytester"]

CASE = """
      case_id: T-1
      jurisdiction: NL
      opened_at: 2026-11-20T14:03:00Z
      channel: live_chat
      handled_by: agent
      player: {id: P1}
      request: {kind: bonus_request, amount: 300.00}
"""

TESTS = f"""tests:
  - name: goes to a supervisor
    case:{CASE}    expect: {{handler: supervisor, reasons: [bonus.above-agent-cap]}}
  - name: wrongly expects the agent
    case:{CASE}    expect: {{handler: agent, authority: {{goodwill_bonus: "25.00"}}}}
"""


def test_one_pass_one_failure_with_the_diff(pytester):
    pytester.makefile(".yaml", test_policy=TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*policy test 'wrongly expects the agent'*failed:*",
        "*handler:*expected agent*",
        "*actual   supervisor*",
        "*authority.goodwill_bonus:*expected 25.00*",
        "*actual   150.00*",
        "*decisive rules:*",
        "*bonus.above-agent-cap (fired)*",
    ])


def test_only_files_with_a_tests_list_are_collected(pytester):
    pytester.makefile(".yaml", test_other="cases:\n  - a\n")  # not a policy test file
    pytester.makefile(".yaml", policy="tests:\n  - name: x\n    case: y.yaml\n")  # not named test_*
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes()
    assert "no tests ran" in result.stdout.str()


def test_malformed_test_file_is_a_collection_error_with_position(pytester):
    pytester.makefile(".yaml", test_bad="tests:\n  - name: a\n    case: x.yaml\n    expect: {handlr: agent}\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_bad.yaml:4*unknown expectation 'handlr'*"])


def test_junit_from_pytest_has_the_policy_tests(pytester):
    pytester.makefile(".yaml", test_policy=TESTS)
    junit = pytester.path / "junit.xml"
    pytester.runpytest("-p", "no:cacheprovider", f"--junitxml={junit}", "--policy-backend", "compiled")
    names = [c.get("name") for c in ET.parse(junit).getroot().iter("testcase")]
    assert names == ["goes to a supervisor", "wrongly expects the agent"]


def test_plugin_imports_lightly():
    code = ("import sys, escalator.authoring.pytest_plugin; "
            "heavy = [m for m in ('durable', 'durable_rules_engine', 'hypothesis', 'pydantic', 'escalator.runtime.engine') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_bundled_policy_tests_run_under_pytest(pytester):
    root = Path(__file__).resolve().parent.parent
    result = pytester.runpytest("-p", "no:cacheprovider", str(root / "policies" / "tests" / "test_nl.yaml"))
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 10 and "failed" not in outcomes
