"""Policy resolution: extends, overrides, rule selection, jurisdiction and date selection."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from escalator import Engine, NoPolicyError, PolicyError
from conftest import make_case, replace_in


@pytest.fixture
def folder(semantics_copy):
    return semantics_copy


def write(folder, name, text):
    (folder / "policies" / name).write_text(text)


def load(folder):
    return Engine.load(folder / "policies", folder / "rules", backend="compiled")


def test_child_overrides_tier_limits_params_and_rule_selection(folder):
    write(folder, "yy.yaml", """
policy: yy
version: "2"
extends: xx
jurisdictions: [YY]
tiers:
  - {id: agent, authority: {goodwill_bonus: 75.00}}
params: {cdd: 1000.00}
rules: {disable: [t.harm]}
""")
    engine = load(folder)
    yy = engine.policies["yy"]
    agent = yy.tier("agent")
    assert agent.limit("goodwill_bonus") == Decimal("75.00")
    assert agent.limit("withdrawal_expedite") == Decimal("1000.00")  # inherited, merged by action
    assert next(p for p in yy.params if p.name == "cdd").value == Decimal("1000.00")
    assert "t.harm" not in {r.id for r in yy.rules}
    case = make_case(jurisdiction="YY", **{"request.kind": "bonus_request", "request.amount": "75.00",
                                           "player.rg_markers": ["x"]})
    decision = engine.evaluate(case)
    assert decision.handler == "agent" and decision.policy.id == "yy" and decision.policy.version == "2"


def test_enable_takes_a_rule_back(folder):
    write(folder, "yy.yaml", "policy: yy\nextends: zz\njurisdictions: [YY]\nrules: {enable: [t.harm]}\n")
    write(folder, "zz.yaml", "policy: zz\nextends: xx\nabstract: true\nrules: {disable: [t.harm]}\n")
    engine = load(folder)
    assert "t.harm" in {r.id for r in engine.policies["yy"].rules}


def test_extends_cycle_is_an_error(folder):
    write(folder, "a.yaml", "policy: a\nextends: b\njurisdictions: [AA]\n")
    write(folder, "b.yaml", "policy: b\nextends: a\njurisdictions: [BB]\n")
    with pytest.raises(PolicyError, match="extends cycle: a -> b -> a"):
        load(folder)


def test_unknown_parent_pack_and_disabled_rule_are_errors(folder):
    write(folder, "a.yaml", "policy: a\nextends: nope\njurisdictions: [AA]\n")
    write(folder, "b.yaml", "policy: b\nextends: base\njurisdictions: [BB]\nrules: {packs: [t, ghost], disable: [t.nope]}\n")
    with pytest.raises(PolicyError) as err:
        load(folder)
    messages = "\n".join(p.message for p in err.value.problems)
    assert "extends unknown policy 'nope'" in messages
    assert "unknown rule pack 'ghost'" in messages
    assert "disable names unknown rule 't.nope'" in messages
    located = [p for p in err.value.problems if "ghost" in p.message][0]
    assert located.location.file.endswith("b.yaml")
    assert (located.location.line, located.location.column) == (4, 20)


def test_policy_is_chosen_by_jurisdiction_and_date(folder):
    text = (folder / "policies" / "xx.yaml").read_text()
    write(folder, "xx.yaml", text.replace("jurisdictions: [XX]", "jurisdictions: [XX]\neffective: {from: 2026-01-01, until: 2026-12-31}"))
    write(folder, "xx2027.yaml", text.replace("policy: xx", "policy: xx2027").replace(
        "jurisdictions: [XX]", "jurisdictions: [XX]\neffective: {from: 2027-01-01}"))
    engine = load(folder)
    assert engine.evaluate(make_case()).policy.id == "xx"
    assert engine.evaluate(make_case(opened_at="2027-01-01T00:00:00Z")).policy.id == "xx2027"
    with pytest.raises(NoPolicyError, match="in force on 2025-06-01"):
        engine.evaluate(make_case(opened_at="2025-06-01T00:00:00Z"))


def test_overlapping_policies_for_one_jurisdiction_are_rejected(folder):
    write(folder, "xx2.yaml", (folder / "policies" / "xx.yaml").read_text().replace("policy: xx", "policy: xx2"))
    with pytest.raises(PolicyError, match="both apply to XX"):
        load(folder)


def test_pack_parameter_without_value_is_an_error(folder):
    write(folder, "xx.yaml", "policy: xx\nextends: base\njurisdictions: [XX]\n")
    with pytest.raises(PolicyError, match="parameter 'cdd' .* has no value and no default"):
        load(folder)


def test_parameter_of_wrong_type_names_its_place(folder):
    write(folder, "xx.yaml", "policy: xx\nextends: base\njurisdictions: [XX]\nparams:\n  cdd: lots\n")
    with pytest.raises(PolicyError) as err:
        load(folder)
    problem = err.value.problems[0]
    assert "parameter 'cdd'" in problem.message and problem.location.line == 5


def test_duplicate_key_in_a_policy_names_line_and_column(folder):
    write(folder, "xx.yaml", "policy: xx\nextends: base\njurisdictions: [XX]\npolicy: again\n")
    with pytest.raises(PolicyError) as err:
        load(folder)
    problem = err.value.problems[0]
    assert "duplicate key 'policy'" in problem.message
    assert (problem.location.line, problem.location.column) == (4, 1)


def test_unknown_policy_field_is_an_error(folder):
    write(folder, "xx.yaml", "policy: xx\nextends: base\njurisdictions: [XX]\nparams: {cdd: 1.00}\ncolour: red\n")
    with pytest.raises(PolicyError, match="unknown field 'colour'"):
        load(folder)


def test_digest_ignores_file_location_but_not_content(folder, tmp_path):
    first = load(folder).policies["xx"].digest
    moved = tmp_path / "elsewhere"
    shutil.copytree(folder, moved)
    assert load(moved).policies["xx"].digest == first
    write(moved, "xx.yaml", "policy: xx\nversion: \"2026.1\"\nextends: base\njurisdictions: [XX]\nparams: {cdd: 2000.01}\n")
    assert load(moved).policies["xx"].digest != first


def test_failsafe_tier_is_declared_or_defaults_to_most_senior_below_complaints(folder):
    assert load(folder).policies["xx"].failsafe_tier == "supervisor"  # default
    write(folder, "xx.yaml", "policy: xx\nextends: base\njurisdictions: [XX]\nparams: {cdd: 1.00}\nfailsafe_tier: vip\n")
    assert load(folder).policies["xx"].failsafe_tier == "vip"
    write(folder, "xx.yaml", "policy: xx\nextends: base\njurisdictions: [XX]\nparams: {cdd: 1.00}\nfailsafe_tier: finance\n")
    with pytest.raises(PolicyError, match="failsafe_tier 'finance' is an internal tier"):
        load(folder)


def test_bundled_policies_send_failed_evaluations_to_a_supervisor():
    engine = Engine.default(backend="compiled")
    assert {p.failsafe_tier for p in engine.policies.values()} == {"supervisor"}


def test_reasons_quote_top_level_fields_and_dates(folder):
    replace_in(
        folder / "rules" / "t.yaml", "then: {procedure: complaint}",
        'then: {procedure: complaint, reason: "Case {case_id} ({jurisdiction}), opened {opened_at}, by {handled_by}."}')
    decision = load(folder).evaluate(make_case(**{"request.kind": "complaint"}))
    message = next(r.message for r in decision.reasons if r.rule == "t.complaint")
    assert message == "Case C-1 (XX), opened 20 November 2026 at 14:03 UTC, by agent."


def test_a_bad_cap_is_one_problem(folder):
    replace_in(folder / "rules" / "t.yaml", "then: {procedure: complaint}", "then: {cap: {goodwill_bonus: lots}}")
    with pytest.raises(PolicyError) as err:
        load(folder)
    assert [p.code for p in err.value.problems] == ["E-CAP"]
