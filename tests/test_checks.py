"""Static checks: each one triggered by a small broken policy in tests/fixtures/toolkit, plus `escalator validate`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalator.language import fields as F
from escalator.authoring.checks import dnf, implies, satisfiable, validate_folders
from escalator.cli import app
from escalator.language.ir import Compare, Const, Field, push_negations

ROOT = Path(__file__).resolve().parent.parent
TOOLKIT = ROOT / "tests" / "fixtures" / "toolkit"
POLICY = TOOLKIT / "policy"


def check(rules: str, policy: Path = POLICY):
    return validate_folders(policy, TOOLKIT / f"rules_{rules}")


def test_clean_fixture_has_no_findings():
    report = check("good")
    assert not report.load_problems and report.findings == []
    assert list(report.policies) == ["p"]


@pytest.mark.parametrize("rules, code, line, words", [
    ("field", "E-FIELD", 24, "unknown case field 'request.amont'"),
    ("param", "E-PARAM", 24, "unknown parameter 'params.huge_bonus'"),
    ("type", "E-TYPE", 24, "cannot compare request.amount"),
    ("tier", "E-TIER", 25, "requires unknown tier 'manager'"),
    ("internal", "E-INTERNAL", 25, "requires internal tier 'finance'"),
    ("duplicate", "E-DUPLICATE", 22, "duplicate rule id 'demo.complaint'"),
])
def test_compile_errors_surface_with_their_codes(rules, code, line, words):
    report = check(rules)
    [finding] = report.findings
    assert (finding.code, finding.severity) == (code, "error")
    assert finding.location.file.endswith(f"rules_{rules}/demo.yaml") and finding.location.line == line
    assert words in finding.message
    assert report.failed()


def test_never_fires_contradictory_bounds_and_in_sets():
    report = check("never")
    found = [(f.code, f.rule, f.location.line) for f in report.findings]
    assert found == [("E-NEVER-FIRES", "demo.impossible-amount", 22), ("E-NEVER-FIRES", "demo.impossible-kind", 26)]
    assert report.failed() and report.findings[0].hint


def test_shadowed_rule_with_same_effects():
    report = check("shadow")
    [finding] = report.findings
    assert finding.code == "W-SHADOWED" and finding.severity == "warning"
    assert "demo.huge-bonus is shadowed by demo.big-bonus" in finding.message and finding.location.line == 22
    assert not report.failed() and report.failed(strict=True)


def test_unhandled_request_kinds():
    report = check("kinds")
    kinds = sorted(f.message.split("'")[1] for f in report.findings if f.code == "W-UNHANDLED-KIND")
    assert kinds == ["executive_request", "forfeiture_dispute", "manager_request", "other", "technical"]
    assert report.findings[0].location.file.endswith("policy/p.yaml")


def test_unused_parameter_in_pack_and_unknown_parameter_in_policy():
    [finding] = check("unused").findings
    assert finding.code == "W-UNUSED-PARAM" and "'forgotten_limit'" in finding.message
    assert finding.location.line == 4
    # A policy value for a parameter no pack declares is a typo, not dead weight: an error.
    [typo] = validate_folders(TOOLKIT / "policy_unused", TOOLKIT / "rules_good").findings
    assert typo.code == "E-PARAM" and "'big_bonsu'" in typo.message and "big_bonus" in typo.hint
    assert typo.location.file.endswith("policy_unused/p.yaml") and typo.location.line == 18


def test_tier_authority_not_monotone():
    [finding] = validate_folders(TOOLKIT / "policy_monotone", TOOLKIT / "rules_good").findings
    assert finding.code == "W-TIER-MONOTONE"
    assert "complaints (level 3)" in finding.message and "supervisor (level 2, 250.00)" in finding.message
    assert finding.location.line == 12


def test_load_errors_are_separate_from_findings():
    report = validate_folders(TOOLKIT / "policy_badyaml", TOOLKIT / "rules_good")
    [problem] = report.load_problems
    assert problem.location.line == 6 and "invalid YAML" in problem.message


def test_bundled_policies_pass_strict():
    report = validate_folders(ROOT / "policies", ROOT / "rules")
    assert not report.load_problems
    assert [str(f) for f in report.findings] == []
    assert sorted(report.policies) == ["mt", "nl", "uk"]


# -- the solver ---------------------------------------------------------------------------------

AMOUNT = Field("request.amount", F.NUMBER)
VIP = Field("player.vip_level", F.NUMBER)
KIND = Field("request.kind", F.STRING)
AGE = Field("player.account_age_days", F.NUMBER)
WD = Field("request.withdrawal", F.OBJECT)
WD_AMOUNT = Field("request.withdrawal.amount", F.NUMBER)


def c(op, left, value=None):
    return Compare(op, left, None if value is None and op.endswith("exists") else Const(value))


@pytest.mark.parametrize("atoms, expected", [
    ([c(">", AMOUNT, Decimal("50")), c("<", AMOUNT, Decimal("50.01"))], False),  # no cent between
    ([c(">", AMOUNT, Decimal("50")), c("<=", AMOUNT, Decimal("50.01"))], True),
    ([c(">=", VIP, Decimal("3")), c("<", VIP, Decimal("4")), c("!=", VIP, Decimal("3"))], False),
    ([c(">", VIP, Decimal("5"))], False),  # vip levels stop at 5
    ([c(">", AGE, Decimal("-0.5")), c("<", AGE, Decimal("1"))], True),  # 0 days (floor, not truncation)
    ([c(">", AGE, Decimal("0.5")), c("<", AGE, Decimal("1"))], False),  # whole days only
    ([c("==", KIND, "complaint"), c("in", KIND, ("other", "technical"))], False),
    ([c("in", KIND, ("other", "technical")), c("not in", KIND, ("other",))], True),
    ([c("not in", KIND, tuple(F.CASE_FIELDS["request.kind"].values))], False),
    ([c("not exists", WD), c(">", WD_AMOUNT, Decimal("1"))], False),
    ([c("exists", AMOUNT), c("not exists", AMOUNT)], False),
])
def test_satisfiable(atoms, expected):
    assert satisfiable(tuple(atoms)) is expected


def test_implication_is_conservative_under_three_valued_logic():
    narrow = dnf(c(">", AMOUNT, Decimal("100")))
    wide = dnf(c(">", AMOUNT, Decimal("50")))
    assert implies(narrow, wide) and not implies(wide, narrow)
    # `!=` is unknown on an absent field: amount > 100 does not imply attributes.brand != x
    assert not implies(narrow, dnf(c("!=", Field("attributes.brand", F.ANY), "x")))
    assert implies(dnf(c("==", KIND, "complaint")), dnf(c("!=", KIND, "other")))  # kind is always present
    from escalator.language.ir import AnyOf, Not

    either = dnf(push_negations(Not(AnyOf((c("<=", AMOUNT, Decimal("100")), c("==", KIND, "other"))))))
    assert implies(either, wide)


# -- the command --------------------------------------------------------------------------------


def test_validate_command_exit_codes_and_json():
    cli = CliRunner()
    clean = cli.invoke(app, ["validate", "--strict"])
    assert clean.exit_code == 0, clean.output
    assert "3 policies checked" in clean.output

    warn = ["validate", "--policies", str(POLICY), "--rules", str(TOOLKIT / "rules_shadow")]
    assert cli.invoke(app, warn).exit_code == 0
    strict = cli.invoke(app, warn + ["--strict"])
    assert strict.exit_code == 1 and "[W-SHADOWED]" in strict.output and "rules_shadow/demo.yaml:22:5" in strict.output

    error = cli.invoke(app, ["validate", "--policies", str(POLICY), "--rules", str(TOOLKIT / "rules_never"),
                             "--format", "json"])
    assert error.exit_code == 1
    data = json.loads(error.output)
    assert [f["code"] for f in data["findings"]] == ["E-NEVER-FIRES", "E-NEVER-FIRES"]
    assert data["findings"][0]["line"] == 22 and data["findings"][0]["hint"]

    bad = cli.invoke(app, ["validate", "--policies", str(TOOLKIT / "policy_badyaml"), "--rules",
                           str(TOOLKIT / "rules_good")])
    assert bad.exit_code == 2 and "p.yaml:6:1" in bad.output


def test_validate_directory_argument(tmp_path):
    (tmp_path / "policies").mkdir()
    (tmp_path / "rules").mkdir()
    (tmp_path / "policies" / "p.yaml").write_text((POLICY / "p.yaml").read_text())
    (tmp_path / "rules" / "demo.yaml").write_text((TOOLKIT / "rules_kinds" / "demo.yaml").read_text())
    result = CliRunner().invoke(app, ["validate", str(tmp_path), "--strict"])
    assert result.exit_code == 1 and "W-UNHANDLED-KIND" in result.output


def test_reason_naming_a_tier_is_a_warning():
    report = check("reason")
    found = sorted((f.code, f.rule, f.location.line) for f in report.findings)
    assert found == [("W-REASON-TIER", "demo.big-bonus", 6), ("W-REASON-TIER", "demo.complaint", 12),
                     # one rule of the pack speaks Dutch, so the others' reasons miss their nl text
                     ("W-UNTRANSLATED", "demo.asked-for-supervisor", 20), ("W-UNTRANSLATED", "demo.big-bonus", 6)]
    untranslated = [f for f in report.findings if f.code == "W-UNTRANSLATED"]
    assert all("no nl text" in f.message and "nl: ..." in f.hint for f in untranslated)
    by_rule = {f.rule: f for f in report.findings if f.code == "W-REASON-TIER"}
    assert "names tier supervisor" in by_rule["demo.big-bonus"].message
    assert "reason (nl) names tier complaints" in by_rule["demo.complaint"].message  # by display name
    assert all(f.severity == "warning" and "summary" in f.hint for f in by_rule.values())
    # a {placeholder} quotes the case (here the tiers the player asked for): not the author naming a route
    assert "demo.asked-for-supervisor" not in by_rule
    assert not report.failed() and report.failed(strict=True)
