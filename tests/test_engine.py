"""The Engine's public behaviour: loading, case errors, explain, memory, threads."""

from __future__ import annotations

from datetime import datetime, timezone

import gc
import os
import threading
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings

from escalator import CaseError, Engine, EscalatorError, NoPolicyError
from escalator.runtime.backends import durable_available
from conftest import SEMANTICS, bundled_engine, make_case, replace_in
from escalator.authoring.strategies import cases


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_default_engine_loads_the_bundled_policies():
    engine = Engine.default(backend="compiled")
    assert {"nl", "uk", "mt"} <= set(engine.policies)
    assert engine.backend == "compiled"


def test_auto_backend_prefers_durable_where_it_imports():
    engine = Engine.load(SEMANTICS / "policies", SEMANTICS / "rules")
    assert engine.backend == ("durable" if durable_available() else "compiled")
    engine.close()


def test_unknown_backend_is_an_error():
    with pytest.raises(EscalatorError, match="unknown backend"):
        Engine.load(SEMANTICS / "policies", SEMANTICS / "rules", backend="drools")


def test_invalid_case_lists_every_problem_with_its_path(semantic_engine):
    case = make_case(**{"player.vip_level": 9, "request.amount": "-5", "channel": "pigeon", "surprise": 1})
    with pytest.raises(CaseError) as err:
        semantic_engine.evaluate(case)
    paths = {p.path for p in err.value.problems}
    assert {"player.vip_level", "request.amount", "channel", "surprise"} <= paths
    assert any("unknown field" in p.message for p in err.value.problems if p.path == "surprise")


def test_money_with_more_than_cents_is_refused(semantic_engine):
    with pytest.raises(CaseError, match="more than two decimal places"):
        semantic_engine.evaluate(make_case(**{"request.amount": "10.005"}))


def test_case_without_policy_for_its_jurisdiction(semantic_engine):
    with pytest.raises(NoPolicyError, match="no policy for jurisdiction 'ZZ'"):
        semantic_engine.evaluate(make_case(jurisdiction="ZZ"))


def test_case_naming_unknown_tiers(semantic_engine):
    with pytest.raises(CaseError) as err:
        semantic_engine.evaluate(make_case(handled_by="janitor", on_duty=["agent", "ghost"]))
    assert {p.path for p in err.value.problems} == {"handled_by", "on_duty[1]"}


def test_naive_timestamp_is_refused(semantic_engine):
    with pytest.raises(CaseError, match="time zone"):
        semantic_engine.evaluate(make_case(opened_at="2026-11-20T14:03:00"))


def test_evaluate_many_keeps_going_after_a_bad_case(semantic_engine):
    results = semantic_engine.evaluate_many([make_case(), {"case_id": "broken"}, make_case(case_id="C-3")])
    assert [type(r).__name__ for r in results] == ["Decision", "CaseError", "Decision"]


def test_explain_reports_values_and_margins(semantic_engine):
    case = make_case(**{"request.kind": "bonus_request", "request.amount": "2400.00"})
    explanation = semantic_engine.explain(case)
    traces = {t.id: t for t in explanation.rules}
    big = traces["t.big-bonus"]
    assert big.fired and big.result is True
    amount = next(c for c in big.comparisons if c.field == "request.amount")
    assert amount.value == Decimal("2400.00") and amount.against == Decimal("50.00")
    assert amount.note == "amount 2,400.00 is 2,350.00 above the agent goodwill bonus cap 50.00"
    assert traces["t.complaint"].fired is False
    assert explanation.to_dict()["decision"] == explanation.decision.to_dict()


@pytest.mark.parametrize("backend", ["compiled", pytest.param("durable", marks=pytest.mark.skipif(
    not durable_available(), reason="durable_rules does not import"))])
def test_memory_is_flat_over_5000_evaluations(backend):
    engine = bundled_engine(backend)
    sample = []

    @settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(case=cases(engine=engine))
    def collect(case):
        sample.append(case)

    collect()
    for i in range(500):
        engine.evaluate(sample[i % len(sample)])
    gc.collect()
    after_500 = _rss()
    for i in range(4500):
        engine.evaluate(sample[i % len(sample)])
    gc.collect()
    after_5000 = _rss()
    assert after_5000 <= after_500 * 1.10, (after_500, after_5000)


@pytest.mark.parametrize("backend", ["compiled", pytest.param("durable", marks=pytest.mark.skipif(
    not durable_available(), reason="durable_rules does not import"))])
def test_eight_threads_agree_with_a_sequential_run(backend):
    engine = bundled_engine(backend)
    sample: list[dict] = []

    @settings(max_examples=250, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(case=cases(engine=engine))
    def collect(case):
        sample.append(case)

    collect()
    work = (sample * 4)[:1000]
    at = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    expected = [engine.evaluate(c, at).to_json() for c in work]
    results: dict[int, list[str]] = {}

    def run(n: int) -> None:
        results[n] = [engine.evaluate(c, at).to_json() for c in work]

    threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    assert all(results[n] == expected for n in range(8))


def test_two_engines_with_different_policies_keep_their_own_answers(semantics_copy, backend):
    """Durable rulesets live in one C engine per process: each Engine must still see only its own."""
    replace_in(semantics_copy / "policies" / "base.yaml", "goodwill_bonus: 50.00", "goodwill_bonus: 80.00")
    first = Engine.load(SEMANTICS / "policies", SEMANTICS / "rules", backend=backend)
    second = Engine.load(semantics_copy / "policies", semantics_copy / "rules", backend=backend)
    case = make_case(**{"request.kind": "bonus_request", "request.amount": "60.00"})
    for _ in range(50):
        assert first.evaluate(case).handler == "supervisor"
        assert second.evaluate(case).handler == "agent"
    assert first.evaluate(case).policy.digest != second.evaluate(case).policy.digest
    first.close()
    reloaded = Engine.load(SEMANTICS / "policies", SEMANTICS / "rules", backend=backend)
    assert second.evaluate(case).handler == "agent" and reloaded.evaluate(case).handler == "supervisor"


def test_absurd_numbers_and_dates_are_case_errors_not_tracebacks(semantic_engine):
    for changes in ({"request.amount": "1e999999999"}, {"request.amount": "-1e999999999"},
                    {"opened_at": "9999-12-31T23:59:59-14:00"}, {"opened_at": "1960-01-01T00:00:00Z"},
                    {"attributes": {"score": "x", "big": 10**30}}):
        with pytest.raises(CaseError):
            semantic_engine.evaluate(make_case(**changes))


def test_failsafe_never_raises_even_when_deadlines_cannot_be_computed(semantic_engine, monkeypatch):
    import escalator.runtime.decide as combine

    def broken(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(combine, "deadlines", broken)  # both decide and the failsafe's deadlines fail
    decision = semantic_engine.evaluate(make_case(**{"request.kind": "complaint"}))
    assert decision.flags == ("evaluation_failed",) and decision.deadlines.acknowledge_by is None
    assert set(decision.authority.values()) == {Decimal("0.00")}


def test_a_closed_engine_refuses_to_evaluate():
    engine = Engine.load(SEMANTICS / "policies", SEMANTICS / "rules", backend="compiled")
    engine.close()
    with pytest.raises(EscalatorError, match="closed"):
        engine.evaluate(make_case())


def test_a_zero_sla_period_is_due_at_once(semantics_copy):
    replace_in(semantics_copy / "policies" / "base.yaml", "escalated: {acknowledge: 24h}", "escalated: {acknowledge: 0m}")
    engine = Engine.load(semantics_copy / "policies", semantics_copy / "rules", backend="compiled")
    case = make_case(**{"request.kind": "bonus_request", "request.amount": "60.00"})
    assert engine.evaluate(case).to_dict()["deadlines"]["acknowledge_by"] == "2026-11-20T14:03:00Z"
