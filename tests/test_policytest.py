"""YAML policy tests: loading with positions, partial expectations, diffs, coverage, JUnit, `escalator test`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalator.authoring import policytest as pt
from escalator.authoring import report as report
from escalator.cli import app
from escalator.errors import LoadError

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "examples" / "cases"

INLINE_CASE = """
      case_id: T-1
      jurisdiction: NL
      opened_at: 2026-11-20T14:03:00Z
      channel: live_chat
      handled_by: agent
      on_duty: [agent]
      player: {id: P1, vip_level: 1}
      request: {kind: bonus_request, amount: 300.00}
"""


def write(tmp_path: Path, text: str, name: str = "test_x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_file(path: Path) -> list[pt.PolicyTestResult]:
    runner = pt.Runner()
    try:
        return runner.run_all(pt.load_tests(path))
    finally:
        runner.close()


def one(tmp_path: Path, expect: str, case: str = INLINE_CASE) -> pt.PolicyTestResult:
    text = f"tests:\n  - name: t\n    case:{case}    expect: {expect}\n"
    [result] = run_file(write(tmp_path, text))
    return result


def test_inline_case_and_partial_expectations_pass(tmp_path):
    result = one(tmp_path, '{handler: supervisor, escalate: true, transfer: email, locked: false, procedure: null, '
                           'authority: {goodwill_bonus: "150.00"}, forward: [], flags: [], '
                           'reasons: [bonus.above-agent-cap], not_reasons: [bonus.harm-markers], '
                           'deadlines: {acknowledge: 24h, acknowledge_by: "2026-11-21T14:03:00Z", resolve_by: null}}')
    assert result.passed, result.report()
    assert result.fired == ("bonus.above-agent-cap",)


@pytest.mark.parametrize("expect, key", [
    ("{handler: agent}", "handler"),
    ("{escalate: false}", "escalate"),
    ("{transfer: live}", "transfer"),
    ("{locked: true}", "locked"),
    ("{procedure: complaint}", "procedure"),
    ('{authority: {goodwill_bonus: "150.01"}}', "authority.goodwill_bonus"),
    ("{forward: [finance]}", "forward"),
    ("{flags: [rg_review]}", "flags"),
    ("{reasons: [bonus.heavy-losses]}", "reasons"),
    ("{not_reasons: [bonus.above-agent-cap]}", "not_reasons"),
    ("{deadlines: {acknowledge: 48h}}", "deadlines.acknowledge"),
    ('{deadlines: {resolve_by: "2027-01-01T00:00:00Z"}}', "deadlines.resolve_by"),
    ("{policy: uk}", "policy"),
])
def test_each_expectation_can_fail(tmp_path, expect, key):
    result = one(tmp_path, expect)
    assert result.status == "fail"
    assert [m.key for m in result.mismatches] == [key]


def test_authority_is_compared_as_exact_decimals(tmp_path):
    assert one(tmp_path, '{authority: {goodwill_bonus: "150.0"}}').passed  # same amount, other spelling
    assert one(tmp_path, "{authority: {goodwill_bonus: 150.00}}").passed
    assert not one(tmp_path, '{authority: {goodwill_bonus: "149.99"}}').passed


def test_flags_are_exact_lists_not_subsets(tmp_path):
    case = INLINE_CASE.replace("vip_level: 1}", "vip_level: 1, rg_markers: [loss_chasing], net_loss_30d: 5000}")
    result = one(tmp_path, "{flags: []}", case)
    assert result.mismatches[0].actual == ["rg_review"]


def test_diff_shows_expected_actual_and_decisive_rules(tmp_path):
    result = one(tmp_path, "{handler: vip_manager, reasons: [bonus.vip-goodwill]}")
    diff = result.diff()
    assert "handler:" in diff and "expected vip_manager" in diff and "actual   supervisor" in diff
    assert "bonus.above-agent-cap (fired)" in diff
    assert "request.amount > tiers.agent.goodwill_bonus" in diff and "275.00 above" in diff
    assert "bonus.vip-goodwill: not a rule of policy nl" in diff  # disabled in NL


def test_case_by_relative_path(tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    (tmp_path / "c.yaml").write_text((CASES / "nl-bonus-loss-chasing.yaml").read_text())
    path = write(folder, "tests:\n  - name: rel\n    case: ../c.yaml\n    expect: {handler: responsible_gambling}\n")
    [result] = run_file(path)
    assert result.passed, result.report()


def test_missing_or_invalid_case_is_an_error_result_not_a_crash(tmp_path):
    path = write(tmp_path, "tests:\n  - name: missing\n    case: nope.yaml\n"
                           "  - name: invalid\n    case: {case_id: X}\n  - name: ok\n"
                           f"    case: {CASES / 'nl-bonus-loss-chasing.yaml'}\n")
    results = run_file(path)
    assert [r.status for r in results] == ["error", "error", "pass"]
    assert "nope.yaml" in results[0].error
    assert "jurisdiction" in results[1].error
    assert "test_x.yaml:4" in results[1].error or "missing required" in results[1].error


@pytest.mark.parametrize("text, line, words", [
    ("tests:\n  - name: a\n    case: x.yaml\n    expect: {handlr: agent}\n", 4, "unknown expectation 'handlr'"),
    ("tests:\n  - name: a\n    case: x.yaml\n    expext: {}\n", 4, "unknown test key 'expext'"),
    ("tests:\n  - case: x.yaml\n", 2, "needs a `name`"),
    ("tests:\n  - name: a\n    case: x.yaml\n  - name: a\n    case: y.yaml\n", 4, "two tests are named"),
    ("tests:\n  - name: a\n    case: x.yaml\n    expect:\n      escalate: maybe\n", 5, "true or false"),
    ("tests:\n  - name: a\n    case: x.yaml\n    expect:\n      authority: {goodwill_bonus: lots}\n", 5, "found the text 'lots'"),
    ("tests:\n  - name: a\n    case: x.yaml\n    expect:\n      deadlines: {acknowledge: soon}\n", 5, "duration"),
    ("tests: {}\n", 1, "top-level `tests:` list"),
])
def test_malformed_test_files_name_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(LoadError) as info:
        pt.load_tests(path)
    problem = info.value.problems[0]
    assert problem.location.file == str(path) and problem.location.line == line
    assert words in problem.message


def test_policy_folder_is_found_next_to_the_tests_else_bundled(tmp_path):
    [bundled] = pt.load_tests(ROOT / "policies" / "tests" / "test_nl.yaml")[:1]
    assert bundled.policies_dir == ROOT / "policies" and bundled.rules_dir == ROOT / "rules"
    [loose] = pt.load_tests(write(tmp_path, "tests:\n  - name: a\n    case: x.yaml\n"))
    assert loose.policies_dir is None  # Engine.load falls back to the bundled folders


def test_explicit_folders_and_backend(tmp_path):
    toolkit = ROOT / "tests" / "fixtures" / "toolkit"
    text = (f"policies: {toolkit / 'policy'}\nrules: {toolkit / 'rules_good'}\nbackend: compiled\n"
            "tests:\n  - name: a\n    case:" + INLINE_CASE + "    expect: {handler: supervisor, policy: p}\n")
    [result] = run_file(write(tmp_path, text))
    assert result.passed, result.report()
    assert result.backend == "compiled" and result.fired == ("demo.big-bonus",)


def test_coverage_counts_tests_per_rule(tmp_path):
    runner = pt.Runner()
    runner.run_all(pt.load_tests(ROOT / "policies" / "tests" / "test_nl.yaml"))
    runner.close()
    assert runner.coverage["bonus.above-agent-cap"] >= 3
    assert runner.coverage["forfeiture.large-forfeiture"] == 0  # no NL test reaches it
    assert 0 < report.coverage_percent(runner.coverage) < 100
    text = report.coverage_report(runner.coverage)
    assert "forfeiture.large-forfeiture" in text and "NOT COVERED" in text


def test_junit_xml_has_one_testcase_per_policy_test(tmp_path):
    path = write(tmp_path, "tests:\n  - name: good\n    case:" + INLINE_CASE + "    expect: {handler: supervisor}\n"
                           "  - name: bad\n    case:" + INLINE_CASE + "    expect: {handler: agent}\n"
                           "  - name: broken\n    case: missing.yaml\n")
    root = ET.fromstring(report.junit_xml(run_file(path)))
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["good", "bad", "broken"]
    assert cases[0].find("failure") is None
    assert "expected agent" in cases[1].find("failure").text
    assert cases[2].find("error") is not None
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")


def test_cli_test_exit_codes_coverage_and_junit(tmp_path):
    cli = CliRunner()
    ok = cli.invoke(app, ["test", str(ROOT / "policies" / "tests"), "--coverage", "--min-coverage", "100"])
    assert ok.exit_code == 0, ok.output
    assert "0 failed" in ok.output and "coverage: " in ok.output and "(100.0%)" in ok.output

    low = cli.invoke(app, ["test", str(ROOT / "policies" / "tests" / "test_nl.yaml"), "--min-coverage", "100"])
    assert low.exit_code == 1 and "below --min-coverage" in low.output

    path = write(tmp_path, "tests:\n  - name: bad\n    case:" + INLINE_CASE + "    expect: {handler: agent}\n")
    junit = tmp_path / "out.xml"
    bad = cli.invoke(app, ["test", str(path), "--junit", str(junit), "--backend", "compiled"])
    assert bad.exit_code == 1
    assert "FAIL" in bad.output and "expected agent" in bad.output and "actual   supervisor" in bad.output
    assert len(ET.parse(junit).getroot().findall(".//testcase")) == 1

    broken = cli.invoke(app, ["test", str(write(tmp_path, "tests: [1]\n", "test_broken.yaml"))])
    assert broken.exit_code == 2
    missing = cli.invoke(app, ["test", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2


def test_cli_test_defaults_to_local_then_bundled_tests(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["test", "-q"])
    assert result.exit_code == 0, result.output
    assert "(44 tests)" in result.output or "0 failed" in result.output


def test_cli_test_bad_case_is_exit_2_but_other_tests_still_run(tmp_path):
    path = write(tmp_path, "tests:\n  - name: good\n    case:" + INLINE_CASE + "    expect: {handler: supervisor}\n"
                           "  - name: bad amount\n    case:" + INLINE_CASE.replace("300.00", "300.005") + "    expect: {}\n")
    junit = tmp_path / "out.xml"
    result = CliRunner().invoke(app, ["test", str(path), "--junit", str(junit)], env={"COLUMNS": "300"})  # one line each
    assert result.exit_code == 2, result.output
    assert "PASS" in result.output and "1 passed, 0 failed, 1 errors (bad input)" in result.output
    assert any(":22:38" in line and "300.005 has more than two decimal places" in line for line in result.output.splitlines())
    assert ET.parse(junit).getroot().get("errors") == "1"


def test_folder_keys_of_the_wrong_type_are_reported_not_raised(tmp_path):
    from escalator.errors import EscalatorError
    from escalator.authoring.policytest import load_tests

    path = tmp_path / "test_bad.yaml"
    path.write_text("policies: 5\ntests:\n  - name: x\n    case: {}\n    expect: {}\n")
    with pytest.raises(EscalatorError, match="policies: expected a folder path"):
        load_tests(path)
