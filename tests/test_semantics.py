"""Spec section 6, point by point, on both backends (tests/fixtures/semantics)."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest

from escalator import Engine, PolicyError
from conftest import SEMANTICS, make_case, replace_in

from datetime import datetime as _datetime, timezone as _timezone

AT = _datetime(2026, 11, 23, 10, 0, tzinfo=_timezone.utc)  # decisions are taken at an instant: tests pin it


def bonus(amount: str | None, **more):
    return make_case(**{"request.kind": "bonus_request", "request.amount": amount}, **more)


# 1. every rule whose condition holds fires; order never matters -----------------------------

def test_every_matching_rule_fires(semantic_engine):
    case = bonus("60.00", **{"player.vip_level": 3, "player.rg_markers": ["loss_chasing"]})
    decision = semantic_engine.evaluate(case)
    assert set(decision.fired) == {"t.big-bonus", "t.vip-bonus", "t.harm"}


def test_rule_order_in_pack_never_changes_the_decision(semantics_copy, backend):
    import yaml

    pack = semantics_copy / "rules" / "t.yaml"
    cases = [
        bonus("60.00", **{"player.vip_level": 3, "player.rg_markers": ["x"]}),
        make_case(**{"request.kind": "complaint", "request.withdrawal": {"amount": "9000.00"}, "player.kyc": "none"}),
        bonus("50.00"),
    ]
    reference = Engine.load(SEMANTICS / "policies", SEMANTICS / "rules", backend=backend)
    expected = [reference.evaluate(c, AT).to_json() for c in cases]
    data = yaml.safe_load(pack.read_text())
    for seed in range(3):
        random.Random(seed).shuffle(data["rules"])
        pack.write_text(yaml.safe_dump(data, sort_keys=False))
        shuffled = Engine.load(semantics_copy / "policies", semantics_copy / "rules", backend=backend)
        assert [shuffled.evaluate(c, AT).to_json() for c in cases] == expected
        shuffled.close()
    reference.close()


# 2. the handler --------------------------------------------------------------------------

def test_no_rule_fired_means_lowest_tier(semantic_engine):
    decision = semantic_engine.evaluate(make_case())
    assert decision.handler == "agent"
    assert decision.reasons == ()


def test_most_senior_required_tier_wins(semantic_engine):
    case = bonus("60.00", **{"player.vip_level": 3})  # requires supervisor (3) and vip (2)
    assert semantic_engine.evaluate(case).handler == "supervisor"


def test_same_level_tie_goes_to_higher_priority(semantic_engine):
    # vip-bonus (priority 5) and harm (priority 10) both require level-2 tiers; the amount is
    # within the agent cap so no supervisor is involved.
    case = bonus("10.00", **{"player.vip_level": 3, "player.rg_markers": ["loss_chasing"]})
    assert semantic_engine.evaluate(case).handler == "rg"
    case = bonus("10.00", **{"player.vip_level": 3})
    assert semantic_engine.evaluate(case).handler == "vip"


def test_same_level_same_priority_goes_to_tier_listed_first(semantics_copy, backend):
    replace_in(semantics_copy / "rules" / "t.yaml", "priority: 10\n", "priority: 5\n")
    engine = Engine.load(semantics_copy / "policies", semantics_copy / "rules", backend=backend)
    case = bonus("10.00", **{"player.vip_level": 3, "player.rg_markers": ["x"]})
    assert engine.evaluate(case).handler == "vip"  # vip is listed before rg
    engine.close()


def test_complaint_procedure_locks_to_complaints_tier(semantic_engine):
    decision = semantic_engine.evaluate(make_case(**{"request.kind": "complaint"}))
    assert (decision.handler, decision.locked, decision.procedure) == ("complaints", True, "complaint")
    assert "t.back-to-agent" in decision.fired  # it fired, but cannot bring the case back


def test_case_already_in_complaint_stays_locked(semantic_engine):
    decision = semantic_engine.evaluate(make_case(status="complaint", handled_by="complaints"))
    assert (decision.handler, decision.locked, decision.procedure) == ("complaints", True, "complaint")
    assert decision.escalate is False


def test_locked_case_cannot_be_pulled_down_by_any_rule(semantic_engine):
    case = bonus("60.00", status="complaint", **{"player.rg_markers": ["x"], "player.vip_level": 4})
    decision = semantic_engine.evaluate(case)
    assert decision.handler == "complaints" and decision.locked


# 3. authority ----------------------------------------------------------------------------

def test_authority_is_handler_limit(semantic_engine):
    decision = semantic_engine.evaluate(bonus("60.00"))
    assert decision.authority == {
        "goodwill_bonus": Decimal("500.00"), "withdrawal_expedite": Decimal("10000.00"),
        "forfeiture_reversal": Decimal("1000.00"),
    }


def test_authority_takes_minimum_of_caps_and_deny_is_zero(semantic_engine):
    case = make_case(**{"request.withdrawal": {"amount": "9000.00"}, "player.rg_markers": ["x"]})
    decision = semantic_engine.evaluate(case)
    assert decision.handler == "rg"
    assert decision.authority["withdrawal_expedite"] == Decimal("500.00")
    assert decision.authority["goodwill_bonus"] == Decimal("0.00")
    assert decision.forward == ("finance",)


def test_cap_from_a_tier_limit_is_applied(semantic_engine):
    decision = semantic_engine.evaluate(make_case(**{"request.kind": "complaint"}))
    assert decision.authority["forfeiture_reversal"] == Decimal("1000.00")  # complaints' 5000 capped


def test_amount_exactly_at_cap_is_inside(semantic_engine):
    assert semantic_engine.evaluate(bonus("50.00")).handler == "agent"
    assert semantic_engine.evaluate(bonus("50.01")).handler == "supervisor"
    assert semantic_engine.evaluate(bonus(50.0)).handler == "agent"  # a float is read exactly too


def test_threshold_from_params_is_inclusive(semantic_engine):
    at = make_case(**{"player.kyc": "pending", "request.withdrawal": {"amount": "2000.00"}})
    below = make_case(**{"player.kyc": "pending", "request.withdrawal": {"amount": "1999.99"}})
    assert "kyc_check" in semantic_engine.evaluate(at).flags
    assert "kyc_check" not in semantic_engine.evaluate(below).flags


# 4. escalate and transfer ----------------------------------------------------------------

def test_escalate_when_handler_more_senior_than_handled_by(semantic_engine):
    assert semantic_engine.evaluate(bonus("60.00")).escalate is True
    assert semantic_engine.evaluate(bonus("60.00", handled_by="supervisor")).escalate is False
    assert semantic_engine.evaluate(bonus("10.00")).escalate is False


def test_transfer_live_when_on_duty_or_unknown(semantic_engine):
    assert semantic_engine.evaluate(bonus("60.00")).transfer == "live"  # availability unknown
    on = bonus("60.00", on_duty=["agent", "supervisor"])
    assert semantic_engine.evaluate(on).transfer == "live"


def test_transfer_falls_back_when_not_on_duty(semantic_engine):
    assert semantic_engine.evaluate(bonus("60.00", on_duty=["agent"])).transfer == "callback"
    vip = bonus("10.00", on_duty=["agent"], **{"player.vip_level": 3})
    assert semantic_engine.evaluate(vip).transfer == "email"


def test_deadlines_follow_the_sla_of_the_situation(semantic_engine):
    escalated = semantic_engine.evaluate(bonus("60.00")).to_dict()["deadlines"]
    assert escalated == {"acknowledge_by": "2026-11-21T14:03:00Z", "resolve_by": None, "paused": False}
    complaint = semantic_engine.evaluate(make_case(**{"request.kind": "complaint"})).to_dict()["deadlines"]
    assert complaint == {"acknowledge_by": "2026-11-22T14:03:00Z", "resolve_by": "2027-01-15T14:03:00Z", "paused": False}
    assert semantic_engine.evaluate(make_case()).to_dict()["deadlines"] == {"acknowledge_by": None, "resolve_by": None,
                                                                            "paused": False}


# 5. internal tiers -----------------------------------------------------------------------

def test_policy_requiring_internal_tier_is_rejected(semantics_copy, backend):
    replace_in(semantics_copy / "rules" / "t.yaml", "then: {procedure: complaint}", "then: {require: finance}")
    with pytest.raises(PolicyError) as err:
        Engine.load(semantics_copy / "policies", semantics_copy / "rules", backend=backend)
    problem = err.value.problems[0]
    assert "internal tier 'finance'" in problem.message and problem.code == "E-INTERNAL"
    assert problem.location.file.endswith("t.yaml") and problem.location.line is not None


def test_internal_tier_is_never_the_handler(semantic_engine):
    case = make_case(**{"request.withdrawal": {"amount": "9000.00"}})
    decision = semantic_engine.evaluate(case)
    assert decision.handler == "agent" and decision.forward == ("finance",)


# 6. determinism --------------------------------------------------------------------------

def test_same_case_same_bytes(semantic_engine):
    case = bonus("60.00", **{"player.rg_markers": ["x"], "request.withdrawal": {"amount": "9000.00"}})
    first = semantic_engine.evaluate(case, AT).to_json()
    assert all(semantic_engine.evaluate(case, AT).to_json() == first for _ in range(20))
    assert json.loads(first)["policy"]["digest"].startswith("sha256:")


def test_backends_give_identical_bytes():
    from escalator.runtime.backends import durable_available

    if not durable_available():
        pytest.skip("durable_rules does not import")
    engines = [Engine.load(SEMANTICS / "policies", SEMANTICS / "rules", backend=b) for b in ("compiled", "durable")]
    case = bonus("60.00", **{"player.rg_markers": ["x"], "player.vip_level": 5})
    assert engines[0].evaluate(case, AT).to_json() == engines[1].evaluate(case, AT).to_json()


# three-valued logic ----------------------------------------------------------------------

def test_missing_field_makes_comparison_unknown_even_under_not(semantic_engine):
    assert "not_small" not in semantic_engine.evaluate(make_case()).flags  # amount missing
    assert "not_small" in semantic_engine.evaluate(make_case(**{"request.amount": "10.00"})).flags
    assert "not_small" not in semantic_engine.evaluate(make_case(**{"request.amount": "9.99"})).flags


def test_exists_is_never_unknown(semantic_engine):
    assert "no_amount" in semantic_engine.evaluate(bonus(None)).flags
    assert "no_amount" not in semantic_engine.evaluate(bonus("1.00")).flags
