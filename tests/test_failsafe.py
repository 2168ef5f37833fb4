"""Fail-closed evaluation: when a backend (or anything after it) raises while a
valid case is evaluated, the decision grants no authority at all, routes the case
to the failsafe tier, names the failure, and the exception is logged.

Faults are injected by monkeypatching the Engine's backend, the combiner, and a
durable_rules action.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from escalator import Engine
from escalator.runtime.backends import durable_available
from escalator.language.cases import load_case
from escalator.runtime.decide import FAILED_FLAG, FAILED_RULE, failsafe_tier
from escalator.errors import CaseError

AT = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # decisions are taken at an instant: tests pin it

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "cases"
CASES = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".json"))
# a case that, evaluated normally, fires three rules and goes to a supervisor with large authority
RICH_CASE = EXAMPLES / "nl-withdrawal-big-win-waiting.yaml"
# a case where one rule (bonus.harm-markers) denies goodwill that another rule's handler could give
HARM_CASE = EXAMPLES / "nl-bonus-loss-chasing.yaml"


class InjectedFault(RuntimeError):
    """The fault the tests inject; nothing in escalator raises it."""


def _boom(*args, **kwargs):
    raise InjectedFault("injected backend failure")


def assert_fail_closed(engine: Engine, case, decision) -> None:
    """The fail-closed decision of combine.failsafe_decision, checked field by field."""
    model, policy = engine.prepare(case)
    assert decision.authority, "every action of the policy is listed"
    assert set(decision.authority) == set(policy.actions)
    assert all(amount == Decimal("0.00") for amount in decision.authority.values()), decision.authority
    assert decision.flags == (FAILED_FLAG,)
    assert decision.fired == (FAILED_RULE,)
    assert decision.forward == ()
    if model.status == "complaint":
        assert decision.handler == policy.complaints_tier and decision.locked
    else:
        assert decision.handler == failsafe_tier(policy).id
        assert not decision.locked
    handler = policy.tier(decision.handler)
    assert handler.player_reachable
    assert decision.escalate == (handler.level > policy.tier(model.handled_by).level)
    failed = {"en": "automatic evaluation failed", "nl": "automatische beoordeling mislukt"}[policy.locale]
    assert failed in decision.reasons[0].message.lower()
    # a summary like every decision (naming only its handler) and the failure in the agent note
    assert decision.summary and failed in decision.agent_note.lower()
    assert decision.policy.digest == policy.digest
    assert '"0.00"' in decision.to_json() and "evaluation_failed" in decision.to_json()


@pytest.fixture(scope="module")
def compiled_engine():
    with Engine.default(backend="compiled") as engine:
        yield engine


def test_backend_raising_fails_closed_and_logs(compiled_engine, monkeypatch, caplog):
    case = load_case(RICH_CASE)
    normal = compiled_engine.evaluate(case)
    assert any(amount > 0 for amount in normal.authority.values()), "the case normally grants authority"
    monkeypatch.setattr(compiled_engine._backend, "fired", _boom)
    with caplog.at_level(logging.ERROR, logger="escalator"):
        decision = compiled_engine.evaluate(case)
    assert_fail_closed(compiled_engine, case, decision)
    assert "InjectedFault" in decision.reasons[0].message
    english = compiled_engine.evaluate(case, locale="en")
    assert english.reasons[0].message.startswith("Automatic evaluation failed (InjectedFault)")
    assert english.summary.startswith("Your case is being passed to the support supervisor")
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert logged, "the exception is logged with its traceback"
    assert isinstance(logged[0].exc_info[1], InjectedFault)
    assert case.case_id in logged[0].getMessage()


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_every_example_fails_closed(compiled_engine, monkeypatch, path):
    """No example case, whatever its status or policy, leaves a failed evaluation with authority."""
    case = load_case(path)
    monkeypatch.setattr(compiled_engine._backend, "fired", _boom)
    assert_fail_closed(compiled_engine, case, compiled_engine.evaluate(case))


@pytest.mark.parametrize("fault", [
    pytest.param(lambda policy, view: [10_000], id="index-out-of-range"),
    pytest.param(lambda policy, view: None, id="returns-None"),
    pytest.param(lambda policy, view: (_ for _ in ()).throw(MemoryError()), id="MemoryError"),
    pytest.param(lambda policy, view: (_ for _ in ()).throw(RecursionError()), id="RecursionError"),
    pytest.param(lambda policy, view: (_ for _ in ()).throw(KeyError("player.kyc")), id="KeyError"),
])
def test_backend_misbehaving_fails_closed(compiled_engine, monkeypatch, fault):
    case = load_case(RICH_CASE)
    monkeypatch.setattr(compiled_engine._backend, "fired", fault)
    assert_fail_closed(compiled_engine, case, compiled_engine.evaluate(case))


def test_combiner_raising_fails_closed(compiled_engine, monkeypatch):
    """A bug after the backend (in the combiner) fails closed too."""
    import escalator.runtime.engine as engine_module

    monkeypatch.setattr(engine_module, "decide", _boom)
    case = load_case(RICH_CASE)
    assert_fail_closed(compiled_engine, case, compiled_engine.evaluate(case))


def test_locked_complaint_stays_with_complaints_tier(compiled_engine, monkeypatch):
    complaint = next(p for p in CASES if "complaint-locks" in p.name)
    case = load_case(complaint)
    monkeypatch.setattr(compiled_engine._backend, "fired", _boom)
    decision = compiled_engine.evaluate(case)
    assert_fail_closed(compiled_engine, case, decision)
    if case.status == "complaint":
        assert decision.locked and decision.procedure == "complaint"


def test_invalid_case_still_raises_case_error(compiled_engine, monkeypatch):
    """Fail-closed is for failures on valid cases; bad input is still refused as bad input."""
    monkeypatch.setattr(compiled_engine._backend, "fired", _boom)
    with pytest.raises(CaseError):
        compiled_engine.evaluate({"case_id": "X"})


def test_batch_fault_on_one_case_fails_only_that_case(compiled_engine, monkeypatch):
    cases = [load_case(p) for p in CASES[:6]]
    victim = cases[2].case_id
    real = compiled_engine._backend.fired

    def flaky(policy, view):
        if view.get("case_id") == victim:
            raise InjectedFault("only this one")
        return real(policy, view)

    expected = [compiled_engine.evaluate(c, AT) for c in cases]
    monkeypatch.setattr(compiled_engine._backend, "fired", flaky)
    results = compiled_engine.evaluate_many(cases, AT)
    assert len(results) == len(cases)
    for case, want, got in zip(cases, expected, results):
        if case.case_id == victim:
            assert_fail_closed(compiled_engine, case, got)
        else:
            assert got.to_json() == want.to_json()


def test_explain_of_failed_evaluation_is_fail_closed(compiled_engine, monkeypatch):
    case = load_case(RICH_CASE)
    monkeypatch.setattr(compiled_engine._backend, "fired", _boom)
    explanation = compiled_engine.explain(case)
    assert_fail_closed(compiled_engine, case, explanation.decision)


@pytest.mark.durable
@pytest.mark.skipif(not durable_available(), reason="durable_rules does not import")
def test_durable_backend_raising_fails_closed(monkeypatch):
    with Engine.default(backend="durable") as engine:
        case = load_case(RICH_CASE)
        monkeypatch.setattr(engine._backend, "fired", _boom)
        assert_fail_closed(engine, case, engine.evaluate(case))


@pytest.mark.durable
@pytest.mark.skipif(not durable_available(), reason="durable_rules does not import")
@pytest.mark.parametrize("where", ["assert_fact", "start_action_for_state", "complete_and_start_action"])
def test_durable_engine_failing_mid_evaluation_fails_closed(monkeypatch, caplog, where):
    """durable_rules' C engine fails while the fired rules are being collected.

    The loss-chasing case fires several rules, one of which (bonus.harm-markers)
    denies goodwill; if the failure came after some rules were collected and the
    rest were silently dropped, a handler could grant goodwill to a loss-chasing
    player. The whole evaluation must fail closed instead.
    """
    import durable_rules_engine

    case = load_case(HARM_CASE)
    with Engine.default(backend="durable") as engine:
        normal = engine.evaluate(case, AT)
        assert "bonus.harm-markers" in normal.fired and len(normal.fired) > 1
        calls = {"n": 0}
        if where == "assert_fact":
            def broken(*args, **kwargs):
                raise InjectedFault("assert_fact failed")

            monkeypatch.setattr(durable_rules_engine, "assert_fact", broken)
        else:
            real = getattr(durable_rules_engine, where)

            def broken(*args, **kwargs):
                calls["n"] += 1
                if calls["n"] >= 2 or where == "start_action_for_state":
                    raise InjectedFault(f"{where} failed")  # after the first rule was collected
                return real(*args, **kwargs)

            monkeypatch.setattr(durable_rules_engine, where, broken)
        with caplog.at_level(logging.ERROR, logger="escalator"):
            decision = engine.evaluate(case)
        assert_fail_closed(engine, case, decision)
        assert any(r.exc_info for r in caplog.records)
        monkeypatch.undo()
        # the engine is still usable afterwards and decides as before
        assert engine.evaluate(case, AT).to_json() == normal.to_json()
