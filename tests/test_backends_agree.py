"""Property: on the bundled policies the two backends give byte-identical decisions, and
reordering the rules never changes a decision (>= 2,000 generated cases)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings

from escalator import Engine
from escalator.runtime.backends import durable_available
from conftest import bundled_engine
from escalator.authoring.strategies import cases

from datetime import datetime as _datetime, timezone as _timezone

AT = _datetime(2026, 11, 23, 10, 0, tzinfo=_timezone.utc)  # decisions are taken at an instant: tests pin it

compiled = bundled_engine("compiled")


def _reordered(engine: Engine, backend: str) -> Engine:
    """The same policies with their rules reversed (and re-indexed)."""
    policies = {}
    for policy_id, policy in engine.policies.items():
        rules = tuple(dataclasses.replace(rule, index=i) for i, rule in enumerate(reversed(policy.rules)))
        policies[policy_id] = dataclasses.replace(policy, rules=rules)
    return Engine(policies, backend=backend)


@pytest.mark.skipif(not durable_available(), reason="durable_rules does not import")
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(case=cases(engine=compiled))
def test_durable_and_compiled_agree(case):
    assert bundled_engine("durable").evaluate(case, AT).to_json() == compiled.evaluate(case, AT).to_json()


REVERSED = {"compiled": _reordered(compiled, "compiled")}


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(case=cases(engine=compiled))
def test_rule_order_never_changes_a_decision(case):
    assert REVERSED["compiled"].evaluate(case, AT).to_json() == compiled.evaluate(case, AT).to_json()


@pytest.mark.skipif(not durable_available(), reason="durable_rules does not import")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(case=cases(engine=compiled))
def test_rule_order_never_changes_a_durable_decision(case):
    if "durable" not in REVERSED:
        REVERSED["durable"] = _reordered(bundled_engine("durable"), "durable")
    assert REVERSED["durable"].evaluate(case, AT).to_json() == bundled_engine("durable").evaluate(case, AT).to_json()
