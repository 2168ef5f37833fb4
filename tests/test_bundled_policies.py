"""The bundled policies: every policy test passes on both backends, every rule of every bundled
pack fires in at least one bundled test (the coverage gate), and `validate --strict` is clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from escalator.authoring import policytest as pt
from escalator.runtime.backends import durable_available
from escalator.authoring.checks import validate_folders
from escalator.language.loading import load_packs

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "policies" / "tests"
BUNDLED = [t for f in pt.collect([TESTS]) for t in pt.load_tests(f)]
BACKENDS = ["compiled", pytest.param("durable", marks=pytest.mark.skipif(
    not durable_available(), reason="durable_rules does not import"))]


@pytest.fixture(scope="module", params=BACKENDS)
def runner(request):
    runner = pt.Runner()
    runner.backend = request.param
    yield runner
    runner.close()


@pytest.mark.parametrize("test", BUNDLED, ids=[f"{t.file.stem}:{t.name}" for t in BUNDLED])
def test_bundled_policy_test(runner, test):
    test.backend = runner.backend
    result = runner.run(test)
    assert result.backend == runner.backend
    assert result.passed, result.report()


def test_there_are_bundled_tests_for_every_policy():
    assert {t.file.stem for t in BUNDLED} == {"test_nl", "test_uk", "test_mt", "test_time"}
    assert len(BUNDLED) >= 40


def test_every_rule_of_every_bundled_pack_fires_in_a_bundled_test():
    runner = pt.Runner()
    try:
        runner.run_all(t for f in pt.collect([TESTS]) for t in pt.load_tests(f, backend="compiled"))
    finally:
        runner.close()
    pack_rules = {f"{name}.{rule.id}" for name, src in load_packs(ROOT / "rules").items() for rule in src.model.rules}
    never = sorted(r for r in pack_rules if runner.coverage.get(r, 0) == 0)
    assert never == [], f"rules no bundled test fires: {never}"


def test_bundled_policies_pass_validate_strict():
    report = validate_folders(ROOT / "policies", ROOT / "rules")
    assert not report.load_problems, report.load_problems
    assert not report.failed(strict=True), "\n".join(str(f) for f in report.findings)
