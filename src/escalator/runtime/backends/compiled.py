"""The pure-Python backend: each condition becomes a tree of closures.

Three-valued logic (True / False / None = unknown), exactly as described in
`escalator.language.ir`. This backend runs everywhere (Python 3.13 included) and is the
independent check of the durable backend.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

from escalator.language import fields as F
from escalator.language.ir import AllOf, AnyOf, Compare, CompiledPolicy, Condition, Const, Not

Predicate = Callable[[dict[str, Any]], "bool | None"]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def has_value(value: Any) -> bool:
    """`exists`: present, not null, and not an empty list."""
    return value is not None and value != ()


kind_of = F.value_kind


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
        def exists(view: dict[str, Any]) -> bool | None:
            value = view.get(path)
            return value is not None and value != ()

        return exists
    if op == "not exists":
        def not_exists(view: dict[str, Any]) -> bool | None:
            value = view.get(path)
            return value is None or value == ()

        return not_exists
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
        if not loose and node.left.kind == F.STRINGS and op in ("contains", "not contains"):
            # a list field always holds a tuple of strings, so `in` is compare_values' answer
            if op == "contains":
                def contains(view: dict[str, Any]) -> bool | None:
                    value = view.get(path)
                    return None if value is None else constant in value

                return contains

            def not_contains(view: dict[str, Any]) -> bool | None:
                value = view.get(path)
                return None if value is None else constant not in value

            return not_contains
        return lambda view: compare_values(op, view.get(path), constant, kind)
    other = right.path  # type: ignore[union-attr]
    return lambda view: compare_values(op, view.get(path), view.get(other))


# -- gates: skip rules that cannot fire without evaluating them -----------------
# A rule whose condition is `field == constant and rest` (a string or boolean
# field, not an attribute) can only be true when the case's value is that
# constant: any other value makes the conjunct false, a missing one unknown. So
# rules are bucketed by such a gate and only the matching bucket is evaluated,
# with the gate itself dropped from the predicate. Same for a conjunct that is an
# ordinary comparison on a field: without a value it is unknown, so the rule
# cannot be true, and the rule waits behind a presence gate.

_GATE_KINDS = (F.STRING, F.BOOLEAN)


def _conjuncts(node: Condition) -> tuple[Condition, ...]:
    return node.items if isinstance(node, AllOf) else (node,)


def _equality_gate(item: Condition) -> tuple[str, Any] | None:
    if (isinstance(item, Compare) and item.op == "==" and isinstance(item.right, Const)
            and item.left.kind in _GATE_KINDS and isinstance(item.right.value, (str, bool))
            and kind_of(item.right.value) == item.left.kind):
        return item.left.path, item.right.value
    return None


def _presence_gate(item: Condition) -> str | None:
    if isinstance(item, Compare) and item.op in _OPS and item.left.kind != F.ANY and isinstance(item.right, Const):
        return item.left.path
    return None


def _always_true(view: dict[str, Any]) -> bool | None:
    return True


def _rest(items: tuple[Condition, ...], skip: int) -> Predicate:
    rest = items[:skip] + items[skip + 1:]
    if not rest:
        return _always_true
    return build(rest[0] if len(rest) == 1 else AllOf(rest))


class _Plan:
    """One policy's rules, bucketed by gate."""

    __slots__ = ("ungated", "equality", "presence")

    def __init__(self, rules: Any):
        self.ungated: list[tuple[int, Predicate]] = []
        equality: dict[str, dict[Any, list[tuple[int, Predicate]]]] = {}
        presence: dict[str, list[tuple[int, Predicate]]] = {}
        for rule in rules:
            items = _conjuncts(rule.condition)
            gated = False
            for position, item in enumerate(items):
                gate = _equality_gate(item)
                if gate is not None:
                    gate_path, value = gate
                    equality.setdefault(gate_path, {}).setdefault(value, []).append((rule.index, _rest(items, position)))
                    gated = True
                    break
            if not gated:
                for position, item in enumerate(items):
                    path = _presence_gate(item)
                    if path is not None:
                        presence.setdefault(path, []).append((rule.index, build(rule.condition)))
                        gated = True
                        break
            if not gated:
                self.ungated.append((rule.index, build(rule.condition)))
        self.equality = [(path, {v: tuple(b) for v, b in table.items()}) for path, table in equality.items()]
        self.presence = [(path, tuple(bucket)) for path, bucket in presence.items()]

    def fired(self, view: dict[str, Any]) -> list[int]:
        out = [index for index, predicate in self.ungated if predicate(view) is True]
        get = view.get
        for path, table in self.equality:
            value = get(path)
            if value is None or value.__class__ not in (str, bool):
                continue
            bucket = table.get(value)
            if bucket:
                for index, predicate in bucket:
                    if predicate(view) is True:
                        out.append(index)
        for path, bucket in self.presence:
            if get(path) is not None:
                for index, predicate in bucket:
                    if predicate(view) is True:
                        out.append(index)
        out.sort()
        return out


class CompiledBackend:
    name = "compiled"

    def __init__(self, policies: dict[str, CompiledPolicy]):
        self._plans = {policy_id: _Plan(policy.rules) for policy_id, policy in policies.items()}

    def fired(self, policy: CompiledPolicy, view: dict[str, Any]) -> list[int]:
        return self._plans[policy.id].fired(view)

    def close(self) -> None:
        self._plans = {}
