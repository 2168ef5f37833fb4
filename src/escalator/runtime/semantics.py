"""The reference semantics of conditions (spec section 6): three-valued logic over a case.

This module states what a condition means; every other evaluator (the compiled
backend's closures, the durable backend's Rete translation, explanations, property
checks) must give the same answers, and the differential tests hold them to it.
It is written to be read, not to be fast.

Truth values are True, False and None (unknown). The rules:

- A comparison with a field the case does not have is unknown (the flat view
  leaves absent and null values out; an empty list is a value).
- A value is only compared with a value of its own kind (number, text or
  boolean). Across kinds, or with a list or an object, a comparison is unknown:
  the case cannot say (this only happens with `attributes.*`, whose kind the
  loader cannot know; between typed fields the loader refuses it). `< <= > >=` order numbers (money, counts, date-times as
  epoch seconds); on any other kind they are unknown.
- `x in [a, b]` is `x == a or x == b`, so `x in []` is false for a present x;
  `x not in L` is `not (x in L)`.
- `xs contains t` is true when the list xs holds the text t, false when it does
  not; unknown when xs is not a list. `not contains` is its negation.
- `exists` is true when the field has a value (not an empty list); it and
  `not exists` are never unknown.
- `all` is false if any item is false, else unknown if any is unknown, else true
  (Kleene); `any` is the dual; `not` of unknown is unknown.
- A rule fires only when its condition is true.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Optional

from escalator.language import fields as F
from escalator.language.ir import AllOf, AnyOf, Compare, CompiledPolicy, Condition, Const, Not

Truth = Optional[bool]
"""True, False, or None for unknown."""

ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
EQUALITIES: dict[str, Callable[[Any, Any], bool]] = {"==": operator.eq, "!=": operator.ne}
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {**EQUALITIES, **ORDERINGS}


# -- Kleene logic -----------------------------------------------------------------------------


def all_of(values: Iterable[Truth]) -> Truth:
    """Three-valued `and`: false wins, then unknown."""
    result: Truth = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def any_of(values: Iterable[Truth]) -> Truth:
    """Three-valued `or`: true wins, then unknown."""
    result: Truth = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def not_(value: Truth) -> Truth:
    """Three-valued `not`: unknown stays unknown."""
    return None if value is None else not value


# -- one comparison ---------------------------------------------------------------------------


def has_value(value: Any) -> bool:
    """`exists`: present, not null, and not an empty list."""
    return value is not None and value != ()


def kind_of(value: Any) -> str | None:
    """The kind of a flat-view value; None for an object (or anything else)."""
    return F.value_kind(value)


SCALARS = (F.NUMBER, F.STRING, F.BOOLEAN)


def equal(left: Any, right: Any) -> Truth:
    """`left == right` for two present values: unknown across kinds, on lists and on objects."""
    kind = kind_of(left)
    if kind not in SCALARS or kind != kind_of(right):
        return None
    return bool(left == right)


def compare(op: str, left: Any, right: Any = None) -> Truth:
    """One comparison of flat-view values (None = absent) under the rules above.

    `right` is the constant (a tuple for `in` / `not in`) or the other field's value.
    """
    if op == "exists":
        return has_value(left)
    if op == "not exists":
        return not has_value(left)
    if left is None or right is None:
        return None
    if op == "==":
        return equal(left, right)
    if op == "!=":
        return not_(equal(left, right))
    if op in ORDERINGS:
        if kind_of(left) != F.NUMBER or kind_of(right) != F.NUMBER:
            return None
        return ORDERINGS[op](left, right)
    if op == "in":
        return any_of(equal(left, item) for item in right)
    if op == "not in":
        return not_(any_of(equal(left, item) for item in right))
    if op in ("contains", "not contains"):
        if not isinstance(left, tuple):
            return None
        found = any(kind_of(item) == F.STRING and item == right for item in left)
        return found if op == "contains" else not found
    raise ValueError(f"unknown operator {op!r}")


def operands(node: Compare, view: Mapping[str, Any]) -> tuple[Any, Any]:
    """The two values a comparison compares for this case (None where absent)."""
    right = node.right
    if right is None:
        against = None
    elif isinstance(right, Const):
        against = right.value
    else:
        against = view.get(right.path)
    return view.get(node.left.path), against


# -- conditions and rules ---------------------------------------------------------------------

Observer = Callable[[Compare, Any, Any, Truth], None]
"""Called with each comparison, its two operands and its result (explanations record them)."""


def evaluate(node: Condition, view: Mapping[str, Any], observe: Observer | None = None) -> Truth:
    """A condition's truth value for a case's flat view. Every comparison is evaluated
    (no short cut), so `observe` sees them all."""
    if isinstance(node, AllOf):
        return all_of([evaluate(item, view, observe) for item in node.items])
    if isinstance(node, AnyOf):
        return any_of([evaluate(item, view, observe) for item in node.items])
    if isinstance(node, Not):
        return not_(evaluate(node.item, view, observe))
    left, right = operands(node, view)
    result = compare(node.op, left, right)
    if observe is not None:
        observe(node, left, right, result)
    return result


def holds(node: Condition, view: Mapping[str, Any]) -> bool:
    """True only when the condition is true (false and unknown both do not hold)."""
    return evaluate(node, view) is True


def fired(policy: CompiledPolicy, view: Mapping[str, Any]) -> list[int]:
    """The reference answer to "which rules fire": indices, in policy order."""
    return [rule.index for rule in policy.rules if holds(rule.condition, view)]


class ReferenceBackend:
    """The reference as a backend (same protocol as `runtime.backends`): slow, for tests and checks."""

    name = "reference"

    def __init__(self, policies: Mapping[str, CompiledPolicy]):
        self.policies = dict(policies)

    def fired(self, policy: CompiledPolicy, view: dict[str, Any]) -> list[int]:
        return fired(policy, view)

    def close(self) -> None:
        self.policies = {}
