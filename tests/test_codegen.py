"""The compiled backend's generated code: same answers as the reference and as the closures,
no policy text in the source, and the closures when the source cannot be compiled."""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from conftest import bundled_engine
from escalator import Engine
from escalator.authoring.differential import Generated
from escalator.authoring.policygen import cases_for, policy_files
from escalator.language.cases import parse_case
from escalator.language.ir import AllOf, AnyOf, Compare, Const, Field, Not
from escalator.runtime import semantics as S
from escalator.runtime.backends.codegen import compile_fired, compile_truth, write_fired
from escalator.runtime.backends.compiled import Plan, plan_for
from escalator.runtime.backends.compiled import closures as build_closures

AT = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


@seed(20261202)
@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files=policy_files(), data=st.data())
def test_generated_code_and_closures_agree_with_the_reference(files, data):
    with tempfile.TemporaryDirectory() as folder:
        generated = Generated.write(files, Path(folder))
        policy = generated.compiled["leaf"]
        engine = Engine(generated.compiled, "reference")
        generated_fired, closures = compile_fired(policy), Plan(policy.rules).fired
        truths = [(rule.condition, compile_truth(rule.condition), build_closures(rule.condition)) for rule in policy.rules]
        for case in data.draw(st.lists(cases_for(policy), min_size=20, max_size=20)):
            model = parse_case(case)
            view = engine.view(model, policy, AT)
            expected = S.fired(policy, view)
            assert generated_fired(view) == expected, write_fired(policy)[0]
            assert closures(view) == expected
            for condition, truth, closure in truths:  # one condition alone: True, False or unknown alike
                assert truth(view) is closure(view) is S.evaluate(condition, view)


def _with_rule(condition, text: str = "x"):
    """The bundled NL policy with its first rule's condition replaced."""
    policy = bundled_engine("compiled").policies["nl"]
    rules = (dataclasses.replace(policy.rules[0], condition=condition),) + policy.rules[1:]
    return dataclasses.replace(policy, rules=rules)


def test_no_policy_text_becomes_code():
    hostile = "x'); __import__('os').system('echo owned') #"
    condition = AnyOf((
        Compare("==", Field("attributes." + hostile, "any"), Const(hostile)),
        Compare("==", Field("request.kind", "string"), Const(hostile)),
        Compare("in", Field("player.kyc", "string"), Const((hostile, "verified"))),
    ))
    policy = _with_rule(condition)
    source, names = write_fired(policy)
    assert hostile not in source and "os" not in source.replace("pos", "")
    assert hostile in names.values() and "attributes." + hostile in names.values()
    fired = compile_fired(policy)
    view = {"attributes." + hostile: hostile, "request.kind": "other", "player.kyc": "none"}
    assert (0 in fired(view)) is True
    assert fired(view) == S.fired(policy, view)


def test_three_valued_logic_in_the_generated_code():
    amount = Field("request.amount", "number")
    bigger = Compare(">", amount, Const(Decimal("10.00")))
    policy = _with_rule(Not(AllOf((bigger, Compare("exists", Field("request.withdrawal", "object"))))))
    fired = compile_fired(policy)
    present = object()
    for view, fires in (({}, True),  # not (unknown and false) = not false
                        ({"request.withdrawal": present}, False),  # not (unknown and true) = unknown
                        ({"request.amount": Decimal("50.00"), "request.withdrawal": present}, False),
                        ({"request.amount": Decimal("5.00"), "request.withdrawal": present}, True)):
        assert (0 in fired(view)) is fires, view
        assert (0 in S.fired(policy, view)) is fires, view


def test_a_policy_too_deep_for_the_parser_runs_as_closures(caplog):
    node = Compare(">", Field("request.amount", "number"), Const(Decimal("10.00")))
    vip = Compare(">=", Field("player.vip_level", "number"), Const(Decimal(depth_limit := 3)))
    for depth in range(250):  # deeper than Python's parser nests parentheses (200)
        node = AllOf((Not(node), vip)) if depth % 2 else AnyOf((node, vip))
    policy = _with_rule(node)
    fired = plan_for(policy)
    assert "closures" in caplog.text
    for amount in ("5.00", "50.00"):
        for level in (None, depth_limit - 1, depth_limit):
            view = {"request.amount": Decimal(amount)} | ({} if level is None else {"player.vip_level": Decimal(level)})
            assert fired(view) == S.fired(policy, view)
