"""The reference semantics (escalator.runtime.semantics), stated as truth tables."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from escalator.language import fields as F
from escalator.runtime import semantics as S

T, FA, U = True, False, None


@pytest.mark.parametrize("values, expected", [
    ([], T), ([T, T], T), ([T, U], U), ([U, FA], FA), ([FA, U, T], FA), ([U, U], U),
])
def test_all_of_is_kleene_and(values, expected):
    assert S.all_of(values) is expected


@pytest.mark.parametrize("values, expected", [
    ([], FA), ([FA, FA], FA), ([FA, U], U), ([U, T], T), ([T, U, FA], T), ([U, U], U),
])
def test_any_of_is_kleene_or(values, expected):
    assert S.any_of(values) is expected


def test_not_keeps_unknown():
    assert (S.not_(T), S.not_(FA), S.not_(U)) == (FA, T, U)


@pytest.mark.parametrize("op, left, right, expected", [
    # absent left or right: unknown, whatever the operator
    ("==", None, D("1"), U), ("!=", None, D("1"), U), (">", D("1"), None, U), ("in", None, (), U),
    ("not in", None, ("a",), U), ("contains", None, "a", U),
    # money is exact; at the threshold is not above it
    (">", D("50.00"), D("50"), FA), (">", D("50.01"), D("50"), T), ("<=", D("50.00"), D("50"), T),
    # kinds never mix: unknown, never false, so != does not hold either
    ("==", "5", D("5"), U), ("!=", "5", D("5"), U), ("==", True, D("1"), U), ("!=", D("1"), True, U),
    # ordering is for numbers only
    ("<", "a", "b", U), (">", True, False, U),
    ("==", "a", "a", T), ("!=", "a", "b", T), ("==", False, False, T),
    # in is a disjunction of equalities
    ("in", "a", ("a", "b"), T), ("in", "c", ("a", "b"), FA), ("in", "a", (), FA), ("not in", "a", (), T),
    ("in", D("5"), ("a",), U), ("in", "a", (D("1"), "a"), T), ("in", "b", (D("1"), "a"), U),
    ("not in", "b", ("a",), T), ("not in", "b", (D("1"), "a"), U),
    # lists and objects compare with nothing
    ("==", ("a",), "a", U), ("in", ("a",), ("a",), U), ("==", F.PRESENT, F.PRESENT, U), ("==", (), (), U),
    ("!=", ("a",), ("b",), U), ("in", (), (), FA), ("not in", ("a",), (), T),
    # contains on lists only
    ("contains", ("a", "b"), "a", T), ("contains", (), "a", FA), ("not contains", (), "a", T),
    ("contains", "abc", "a", U), ("contains", (D("1"),), "1", FA),
    # exists is never unknown; an empty list is no value
    ("exists", None, None, FA), ("exists", (), None, FA), ("exists", ("a",), None, T),
    ("not exists", None, None, T), ("exists", F.PRESENT, None, T), ("exists", D("0"), None, T),
])
def test_compare(op, left, right, expected):
    assert S.compare(op, left, right) is expected


def test_evaluate_observes_every_comparison_without_short_cut():
    from escalator.language.ir import AllOf, Compare, Const, Field

    amount = Field("request.amount", F.NUMBER)
    node = AllOf((Compare(">", amount, Const(D("5"))), Compare("<", amount, Const(D("1")))))
    seen = []
    result = S.evaluate(node, {"request.amount": D("10")}, lambda n, a, b, r: seen.append((n.op, a, b, r)))
    assert result is False
    assert seen == [(">", D("10"), D("5"), True), ("<", D("10"), D("1"), False)]


def test_field_reference_is_unknown_when_either_side_is_absent():
    from escalator.language.ir import Compare, Field

    node = Compare(">", Field("request.amount", F.NUMBER), Field("player.net_loss_30d", F.NUMBER))
    assert S.evaluate(node, {"request.amount": D("5")}) is None
    assert S.evaluate(node, {"player.net_loss_30d": D("5")}) is None
    assert S.evaluate(node, {"request.amount": D("6"), "player.net_loss_30d": D("5")}) is True


@pytest.mark.parametrize("text, message", [
    ("player.rg_markers == request.asked_for", "cannot compare the lists"),
    ("on_duty != player.rg_markers", "cannot compare the lists"),
    ("channel < handled_by", "needs numbers or dates"),
    ("attributes.a >= player.kyc", "needs numbers or dates"),
])
def test_loader_refuses_field_comparisons_the_reference_never_decides(text, message):
    """Lists equal nothing and only numbers are ordered: between typed fields that is a load error."""
    from escalator.errors import Location
    from escalator.language.conditions import ConditionError, Scope, compile_condition

    scope = Scope(params={}, tiers={}, actions=("goodwill_bonus",), used_params=set())
    with pytest.raises(ConditionError, match=message):
        compile_condition(text, scope, lambda path: Location("t.yaml", 1, 1))
