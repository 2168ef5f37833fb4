"""The condition language: parsing, type checks, three-valued evaluation, and errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from escalator.runtime.backends.compiled import build
from escalator.language.conditions import ConditionError, Scope, compile_condition
from escalator.errors import Location
from escalator.language.ir import AllOf, AnyOf, Compare, Const, Not, Param, Tier, push_negations

TIERS = {"agent": Tier("agent", "Agent", 1, (("goodwill_bonus", Decimal("50.00")),), "callback", True, 0)}
PARAMS = {
    "large_win": Param("large_win", "money", Decimal("10000.00")),
    "kinds": Param("kinds", "strings", ("bonus_request", "complaint")),
}


def compile_(spec):
    scope = Scope(params=PARAMS, tiers=TIERS, actions=("goodwill_bonus",), used_params=set())
    return compile_condition(spec, scope, lambda path: Location("t.yaml", 3, 5))


def holds(spec, view):
    return build(compile_(spec))(view)


def test_compact_string_precedence_and_parentheses():
    node = compile_("request.kind == bonus_request and request.amount > 5 or not player.self_excluded == true")
    assert isinstance(node, AnyOf) and isinstance(node.items[0], AllOf) and isinstance(node.items[1], Not)
    grouped = compile_("request.kind == bonus_request and (request.amount > 5 or player.vip_level >= 3)")
    assert isinstance(grouped, AllOf) and isinstance(grouped.items[1], AnyOf)


def test_references_resolve_to_constants_with_their_source():
    node = compile_("request.amount > tiers.agent.goodwill_bonus")
    assert node == Compare(">", node.left, Const(Decimal("50.00"), "tiers.agent.goodwill_bonus"))
    node = compile_("request.withdrawal.amount >= params.large_win")
    assert node.right == Const(Decimal("10000.00"), "params.large_win")


def test_every_operator_in_both_forms():
    view = {"request.amount": Decimal("100.00"), "request.kind": "complaint",
            "player.rg_markers": ("loss_chasing",), "request.asked_for": ()}
    for text, expected in [
        ("request.amount == 100", True), ("request.amount != 100", False), ("request.amount < 100.01", True),
        ("request.amount <= 100", True), ("request.amount > 100", False), ("request.amount >= 100", True),
        ("request.kind in [bonus_request, complaint]", True), ("request.kind not in params.kinds", False),
        ("request.kind not-in [other]", True), ("player.rg_markers contains loss_chasing", True),
        ("player.rg_markers not contains loss_chasing", False), ("request.asked_for exists", False),
        ("request.amount exists", True), ("request.withdrawal not exists", True),
        ("request.amount between [100, 200]", True), ("request.amount between [100.01, 200]", False),
        ("5 < request.amount", True),
    ]:
        assert holds(text, view) is expected, text
    mapping = {"all": [
        {"field": "request.amount", "op": ">=", "ref": "params.large_win"},
        {"not": {"field": "request.kind", "op": "in", "value": ["other"]}},
    ]}
    assert holds(mapping, view) is False
    assert holds({"field": "request.amount", "op": "between", "value": [50, "tiers.agent.goodwill_bonus"]},
                 {"request.amount": Decimal("50.00")}) is True


def test_three_valued_logic_and_de_morgan():
    missing: dict = {}
    assert holds("request.amount > 5", missing) is None
    assert holds("not request.amount > 5", missing) is None
    assert holds("request.amount > 5 or request.kind == other", {"request.kind": "other"}) is True
    assert holds("request.amount > 5 and request.kind == other", {"request.kind": "bonus_request"}) is False
    node = compile_("not (request.amount > 5 and request.kind == other)")
    pushed = push_negations(node)
    assert pushed == AnyOf((Compare("<=", pushed.items[0].left, Const(Decimal(5))),
                            Compare("!=", pushed.items[1].left, Const("other"))))


def test_null_comparisons_mean_existence():
    assert compile_("request.amount == null").op == "not exists"
    assert compile_("request.amount != null").op == "exists"


def test_attributes_compare_only_values_of_the_same_kind():
    assert holds("attributes.brand == acme", {"attributes.brand": "acme"}) is True
    assert holds("attributes.brand == 5", {"attributes.brand": "5"}) is None
    assert holds("attributes.score > 5", {"attributes.score": Decimal("7")}) is True
    assert holds("attributes.tags contains gold", {"attributes.tags": ("gold", Decimal(1))}) is True


@pytest.mark.parametrize("text, message", [
    ("request.amout > 5", "unknown case field 'request.amout'"),
    ("request.amount > params.huge", "unknown parameter 'params.huge'"),
    ("request.amount > tiers.boss.goodwill_bonus", "unknown tier 'boss'"),
    ("request.amount > tiers.agent.free_spins", "unknown action 'free_spins'"),
    ("request.kind == bonus_requst", "'bonus_requst' is not a possible value of request.kind"),
    ("request.kind > 5", "cannot compare request.kind (string)"),
    ("player.rg_markers == loss_chasing", "is a list: use `contains`"),
    ("request.amount > 5.001", "more than two decimal places"),
    ("request.amount >", "ends too early"),
    ("request.amount > 5 5", "unexpected '5'"),
    ("request.amount ~ 5", "unexpected '~ 5'"),
    ("5 == 5", "must be a case field"),
    ("request.withdrawal > 5", "is an object"),
])
def test_errors_say_what_is_wrong(text, message):
    with pytest.raises(ConditionError) as err:
        compile_(text)
    assert message in str(err.value)
    assert err.value.location == Location("t.yaml", 3, 5)


def test_unknown_field_suggests_the_closest_name():
    with pytest.raises(ConditionError) as err:
        compile_("request.amout > 5")
    assert err.value.hint == "did you mean 'request.amount'?"


def test_mapping_form_errors():
    with pytest.raises(ConditionError, match="unknown operator"):
        compile_({"field": "request.amount", "op": "~", "value": 1})
    with pytest.raises(ConditionError, match="unknown condition keys"):
        compile_({"every": []})
    with pytest.raises(ConditionError, match="either `value` or `ref`"):
        compile_({"field": "request.amount", "op": ">", "value": 1, "ref": "params.large_win"})


def test_date_times_compare_only_with_date_time_literals():
    view = {"opened_at": Decimal(1_790_000_000)}  # 2026-09-22
    assert holds("opened_at >= 2026-01-01T00:00:00Z", view) is True
    assert holds({"field": "opened_at", "op": "<", "value": "2026-01-01T00:00:00+01:00"}, view) is False
    with pytest.raises(ConditionError, match="compare it with a date-time"):
        compile_("opened_at >= 5")


def test_mapping_form_not_contains_and_between_bounds():
    view = {"player.rg_markers": ()}
    assert holds({"field": "player.rg_markers", "op": "not-contains", "value": "loss_chasing"}, view) is True
    with pytest.raises(ConditionError, match="`between` takes `value: \\[low, high\\]`"):
        compile_({"field": "request.amount", "op": "between", "ref": "params.large_win"})


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("1e999999")])
def test_non_finite_or_absurd_literals_are_refused(value):
    with pytest.raises(ConditionError, match="finite|implausibly large"):
        compile_({"field": "request.amount", "op": ">", "value": value})
