"""The durable translation agrees with the reference semantics where durable_rules is sharp.

- field references (`request.amount > attributes.limit`): hold only when both fields are
  present, whether or not another rule fires (durable_rules read an uninitialised value);
- layout: every ruleset stays inside durable_rules' 64-node alpha stack; a rule too wide
  to fit is refused with a clear message, and `auto` decides that policy with the compiled
  backend.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from conftest import FIXTURES, make_case
from escalator import Engine
from escalator.authoring.policygen import write_scaled_policy
from escalator.errors import EscalatorError
from escalator.language.policyset import compile_folders
from escalator.runtime import semantics
from escalator.runtime.backends import durable_available
from escalator.runtime.backends.rete import STACK_BUDGET, STACK_LIMIT, layout

FIELDREF = FIXTURES / "fieldref"
needs_durable = pytest.mark.skipif(not durable_available(), reason="durable_rules does not import")


@pytest.fixture(scope="module")
def engines():
    built = {name: Engine.load(FIELDREF / "policies", FIELDREF / "rules", backend=name)
             for name in ("compiled", "durable") if name == "compiled" or durable_available()}
    yield built
    for engine in built.values():
        engine.close()


def _fired(engine: Engine, **changes) -> set[str]:
    return set(engine.evaluate(make_case(**changes)).fired)


@pytest.mark.parametrize("vip", [0, 3], ids=["alone", "other-rule-fires"])
@pytest.mark.parametrize("backend", ["compiled", pytest.param("durable", marks=needs_durable)])
def test_field_reference_with_absent_right_hand_field_never_holds(engines, backend, vip):
    engine = engines[backend]
    other = {"ref.vip"} if vip else set()
    # right-hand attribute absent / right-hand optional object absent
    assert _fired(engine, **{"request.amount": "100.00", "player.vip_level": vip}) == other
    # left-hand absent
    assert _fired(engine, **{"attributes": {"limit": 5, "score": 10}, "player.vip_level": vip}) == other
    # only one of two attributes present
    assert _fired(engine, **{"attributes": {"brand": "x"}, "player.vip_level": vip}) == other


@pytest.mark.parametrize("backend", ["compiled", pytest.param("durable", marks=needs_durable)])
def test_field_reference_with_both_fields_present(engines, backend):
    engine = engines[backend]
    case = {"request.amount": "100.00", "request.withdrawal": {"amount": "99.99"},
            "attributes": {"limit": 100, "score": 100, "brand": "x", "home_brand": "x"}}
    assert _fired(engine, **case) == {"ref.more-than-withdrawal", "ref.score-covers", "ref.same-brand"}
    case["attributes"] = {"limit": 99, "score": 99, "brand": "x", "home_brand": "y"}
    assert _fired(engine, **case) == {"ref.above-limit", "ref.more-than-withdrawal"}
    # kinds never mix: a text limit or score is unknown, not "less than"; text and boolean differ in kind
    case["attributes"] = {"limit": "5", "score": "100.00", "brand": True, "home_brand": "True"}
    assert _fired(engine, **case) == {"ref.more-than-withdrawal"}


def _wide_pack(tmp_path, width: int):
    """One rule whose condition nests four `any` of `width` comparisons each: too wide for durable."""
    (tmp_path / "policies").mkdir(parents=True)
    (tmp_path / "rules").mkdir()
    (tmp_path / "policies" / "base.yaml").write_text((FIELDREF / "policies" / "base.yaml").read_text()
                                                     .replace("packs: [ref]", "packs: [wide]"))
    (tmp_path / "policies" / "xx.yaml").write_text((FIELDREF / "policies" / "xx.yaml").read_text())
    anys = " and ".join("(" + " or ".join(f"request.amount > {i * width + j}" for j in range(width)) + ")"
                        for i in range(4))
    (tmp_path / "rules" / "wide.yaml").write_text(
        "pack: wide\nrules:\n"
        f"  - id: wide\n    description: a very wide rule\n    when: {anys}\n    then: {{require: vip}}\n"
        "  - id: plain\n    description: a plain rule\n    when: request.amount > 5\n    then: {flag: [plain]}\n")
    return tmp_path / "policies", tmp_path / "rules"


def test_a_rule_too_wide_for_durable_is_refused_at_load(tmp_path):
    policies, rules = _wide_pack(tmp_path, 10)
    compiled = compile_folders(policies, rules)
    from escalator.runtime.backends.rete import DurableUnsupported

    with pytest.raises(DurableUnsupported, match="'wide.wide' is too wide for durable_rules"):
        layout(compiled["xx"])


@needs_durable
def test_durable_by_name_refuses_and_auto_falls_back_to_compiled(tmp_path):
    policies, rules = _wide_pack(tmp_path, 10)
    with pytest.raises(EscalatorError, match="durable backend cannot run policy 'xx'"):
        Engine.load(policies, rules, backend="durable")
    with Engine.load(policies, rules, backend="auto") as auto, \
            Engine.load(policies, rules, backend="compiled") as compiled:
        assert auto.backend == "compiled"
        case = make_case(**{"request.amount": "100.00"})
        at = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # pinned: the clock may tick between the two
        assert auto.evaluate(case, at).to_json() == compiled.evaluate(case, at).to_json()
        assert set(auto.evaluate(case).fired) == {"wide.wide", "wide.plain"}


def test_a_narrower_rule_is_split_into_durable_rules_that_fit(tmp_path):
    policies, rules = _wide_pack(tmp_path, 2)  # 2**4 = 16 conjunctions: fits once distributed
    policy = compile_folders(policies, rules)["xx"]
    plan = layout(policy)
    assert plan.stack <= STACK_BUDGET < STACK_LIMIT
    names = [name for definition in plan.rulesets for name in definition]
    assert "r0" in names and "r1" in names


def test_every_ruleset_of_a_large_policy_fits_the_alpha_stack(tmp_path):
    policies, rules = write_scaled_policy(tmp_path, 3000)
    plan = layout(compile_folders(policies, rules)["xx"])
    assert len(plan.rulesets) > 1 and plan.stack <= STACK_BUDGET
    assert all(len(definition) <= 4096 for definition in plan.rulesets)


def test_reference_agrees_on_the_field_reference_fixture(engines):
    policy = engines["compiled"].policies["xx"]
    from escalator.language.cases import parse_case
    from escalator.language.fields import flat_view

    view = flat_view(parse_case(make_case(**{"request.amount": "100.00", "player.vip_level": 3})))
    assert [policy.rules[i].id for i in semantics.fired(policy, view)] == ["ref.vip"]


def test_compile_shows_every_ruleset_of_a_split_policy_and_a_refusal(tmp_path):
    import json

    from escalator.runtime.backends.rete import ruleset_json

    policies, rules = write_scaled_policy(tmp_path / "big", 1000)
    shown = json.loads(ruleset_json(compile_folders(policies, rules)["xx"]))
    assert list(shown)[:2] == ["escalator:xx/1", "escalator:xx/2"]
    assert sum(len(definition) - 1 for definition in shown.values()) == 1000  # rule ids, one catch-all each
    assert "big.r0" in shown["escalator:xx/1"]
    policies, rules = _wide_pack(tmp_path / "wide", 10)
    shown = json.loads(ruleset_json(compile_folders(policies, rules)["xx"]))
    assert "too wide for durable_rules" in shown["escalator:xx"]["refused"]
