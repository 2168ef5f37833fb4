"""The pure-Python backend: each condition becomes a tree of closures.

Three-valued logic (True / False / None = unknown), exactly as described in
`escalator.ir`. This backend runs everywhere (Python 3.13 included) and is the
independent check of the durable backend.
"""

from __future__ import annotations

import operator
from decimal import Decimal
from typing import Any, Callable

from .. import fields as F
from ..ir import AllOf, AnyOf, Compare, CompiledPolicy, Condition, Const, Not

Predicate = Callable[[dict[str, Any]], "bool | None"]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def has_value(value: Any) -> bool:
    """`exists`: present, not null, and not an empty list."""
    return value is not None and value != ()


def kind_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return F.BOOLEAN
    if isinstance(value, Decimal):
        return F.NUMBER
    if isinstance(value, str):
        return F.STRING
    if isinstance(value, tuple):
        return F.STRINGS
    return None


def const_kind(const: Const) -> str | None:
    value = const.value
    if isinstance(value, tuple):
        return kind_of(value[0]) if value else F.STRING
    return kind_of(value)


def compare_values(op: str, left: Any, right: Any, kind: str | None = None) -> bool | None:
    """One comparison under three-valued logic; `kind` (for attributes) must match the value's."""
    if left is None or right is None:
        return None
    if op in ("contains", "not contains"):
        if not isinstance(left, tuple):
            return None
        found = any(isinstance(item, str) and item == right for item in left)
        return found if op == "contains" else not found
    if kind is not None and kind_of(left) != kind:
        return None
    if op in ("in", "not in"):
        found = any(kind_of(item) == kind_of(left) and left == item for item in right)
        return found if op == "in" else not found
    if kind_of(left) != kind_of(right):
        return None
    return _OPS[op](left, right)


def build(node: Condition) -> Predicate:
    """Compile a condition to a predicate over a flat view."""
    if isinstance(node, AllOf):
        parts = [build(item) for item in node.items]

        def all_of(view: dict[str, Any]) -> bool | None:
            result: bool | None = True
            for part in parts:
                value = part(view)
                if value is False:
                    return False
                if value is None:
                    result = None
            return result

        return all_of
    if isinstance(node, AnyOf):
        parts = [build(item) for item in node.items]

        def any_of(view: dict[str, Any]) -> bool | None:
            result: bool | None = False
            for part in parts:
                value = part(view)
                if value is True:
                    return True
                if value is None:
                    result = None
            return result

        return any_of
    if isinstance(node, Not):
        inner = build(node.item)

        def negate(view: dict[str, Any]) -> bool | None:
            value = inner(view)
            return None if value is None else not value

        return negate
    return _leaf(node)


def _leaf(node: Compare) -> Predicate:
    path, op, right = node.left.path, node.op, node.right
    if op == "exists":
        return lambda view: has_value(view.get(path))
    if op == "not exists":
        return lambda view: not has_value(view.get(path))
    loose = node.left.kind == F.ANY
    if isinstance(right, Const):
        constant = right.value
        kind = const_kind(right) if loose else None
        if not loose and op in _OPS:
            compare = _OPS[op]

            def fast(view: dict[str, Any]) -> bool | None:
                value = view.get(path)
                return None if value is None else compare(value, constant)

            return fast
        return lambda view: compare_values(op, view.get(path), constant, kind)
    other = right.path  # type: ignore[union-attr]
    return lambda view: compare_values(op, view.get(path), view.get(other))


class CompiledBackend:
    name = "compiled"

    def __init__(self, policies: dict[str, CompiledPolicy]):
        self._predicates = {
            policy_id: [(rule.index, build(rule.condition)) for rule in policy.rules]
            for policy_id, policy in policies.items()
        }

    def fired(self, policy: CompiledPolicy, view: dict[str, Any]) -> list[int]:
        return [index for index, predicate in self._predicates[policy.id] if predicate(view) is True]

    def close(self) -> None:
        self._predicates = {}
